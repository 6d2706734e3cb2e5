import ArgumentParser
import CSupport
import Foundation
import RSOEngine

extension DeltaDistribution: ExpressibleByArgument {}
extension VisitOrder: ExpressibleByArgument {}
extension SamplingLevel: ExpressibleByArgument {}
extension UpdateScheme: ExpressibleByArgument {}
extension EvaluationPath: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network with RSO (paper Algorithm 1), with progress, metrics and checkpoints.",
        discussion: """
        SIGINT/SIGTERM finish the step in flight, write a checkpoint and exit 0; --resume continues \
        so that the final weights equal an uninterrupted run's, bit for bit.
        """)

    @Option(name: .long, help: "Network: \(NetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var net: NetName = .mnist6
    @OptionGroup var data: DataOptions
    @OptionGroup var threads: ThreadOptions

    @Option(name: .long, help: "Seed of everything: init, batches, deltas.")
    var seed: UInt64 = 1
    @Option(name: .long, help: "Samples per step (a fresh random batch per step).")
    var batch: Int = 5000
    @Option(name: .long, help: "Cycles (each visits every weight once); sets the σ annealing schedule.")
    var cycles: Int = 50
    @Option(name: .long, help: "Multiplies the initial σ_d (std of layer d's initial weights).")
    var sigmaScale: Double = 1
    @Option(name: .long, help: "σ in the last cycle as a fraction of the first.")
    var sigmaFinalRatio: Double = 0.1
    @Option(name: .long, help: "Order inside a layer: output-major, input-major.")
    var order: VisitOrder = .outputMajor
    @Option(name: .long, help: "Δ distribution: gaussian N(0,σ), uniform U(−2σ,2σ), template {−σ,0,σ}.")
    var delta: DeltaDistribution = .gaussian
    @Option(name: .long, help: "L2 penalty λ·w² inside the compared objective (weights only).")
    var weightDecay: Double = 0
    @Option(name: .long, help: "Perturb one weight (weight), a whole layer (layer) or the whole network (network) per step.")
    var sampling: SamplingLevel = .weight
    @Option(name: .long, help: "sequential, neuron-parallel or layer-parallel (§4.6).")
    var update: UpdateScheme = .sequential
    @Option(name: .long, help: "Cache layer d's input for the whole training set (on, off).")
    var cache: OnOff = .on
    @Option(name: .long, help: "Training samples for BN population statistics (evaluation, cache).")
    var bnSamples: Int = 10_000
    @Option(name: .customLong("eval"), help: "How W±Δ are evaluated: incremental (recompute only what the weight touches) or full (the reference).")
    var evaluation: EvaluationPath = .incremental
    @Option(name: .long, help: "Keep one batch for K consecutive trials (1: a fresh batch per weight, the paper).")
    var batchReuse: Int = 1

    @Option(name: .long, help: "Evaluate on the test set every N cycles (and at the end).")
    var evalEvery: Int = 1
    @Option(name: .long, help: ArgumentHelp("Append metrics as JSON lines to this file.", valueName: "file"))
    var metrics: String?
    @Option(name: .long, help: ArgumentHelp("Checkpoint file (safetensors). Default: runs/<net>-seed<seed>.safetensors.", valueName: "file"))
    var checkpoint: String?
    @Option(name: .long, help: "Minutes between time-based checkpoints (also written at each cycle end and at exit).")
    var checkpointEvery: Double = 10
    @Option(name: .long, help: "Stop after N steps in this process (smoke runs); still checkpoints and evaluates.")
    var maxWeights: Int?
    @Option(name: .long, help: ArgumentHelp("Continue the run saved in this checkpoint.", valueName: "file"))
    var resume: String?
    @Option(name: .long, help: "Progress display: auto (bar on a terminal, lines otherwise), bar, lines.")
    var progress: ProgressStyle = .auto

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be a positive number of samples, got \(batch)") }
        if cycles < 1 { throw ValidationError("--cycles must be at least 1, got \(cycles)") }
        if !(sigmaScale > 0) { throw ValidationError("--sigma-scale must be positive, got \(sigmaScale)") }
        if !(sigmaFinalRatio > 0 && sigmaFinalRatio <= 1) {
            throw ValidationError("--sigma-final-ratio must be in (0, 1], got \(sigmaFinalRatio)")
        }
        if !(weightDecay >= 0) { throw ValidationError("--weight-decay must be ≥ 0, got \(weightDecay)") }
        if bnSamples < 1 { throw ValidationError("--bn-samples must be positive, got \(bnSamples)") }
        if batchReuse < 1 { throw ValidationError("--batch-reuse must be at least 1, got \(batchReuse)") }
        if batchReuse > 1 && (sampling != .weight || update != .sequential) {
            throw ValidationError("--batch-reuse \(batchReuse) needs --sampling weight and --update sequential")
        }
        if evalEvery < 1 { throw ValidationError("--eval-every must be at least 1, got \(evalEvery)") }
        if !(checkpointEvery > 0) { throw ValidationError("--checkpoint-every must be a positive number of minutes, got \(checkpointEvery)") }
        if let m = maxWeights, m < 1 { throw ValidationError("--max-weights must be at least 1, got \(m)") }
    }

    var options: TrainingOptions {
        var o = TrainingOptions(net: net.rawValue)
        o.batch = batch
        o.cycles = cycles
        o.sigmaScale = sigmaScale
        o.sigmaFinalRatio = sigmaFinalRatio
        o.order = order
        o.delta = delta
        o.weightDecay = weightDecay
        o.sampling = sampling
        o.update = update
        o.cache = cache == .on
        o.seed = seed
        o.bnSamples = bnSamples
        o.evaluation = evaluation
        o.batchReuse = batchReuse
        return o
    }

    func run() throws {
        let spec = net.spec
        let splits: DatasetSplits
        do { splits = try data.load(for: spec) } catch { throw CLIError(description: "\(error)") }
        let scheduler = try threads.makeScheduler()
        let checkpointPath = checkpoint ?? "runs/\(spec.name)-seed\(seed).safetensors"
        try ensureParentDirectory(checkpointPath, flag: "--checkpoint")
        let trainer: Trainer
        do {
            if let resume {
                trainer = try Trainer.resume(from: resume, options: options, train: splits.train, test: splits.test,
                                             scheduler: scheduler)
            } else {
                trainer = try Trainer(options: options, train: splits.train, test: splits.test, scheduler: scheduler)
            }
        } catch {
            throw CLIError(description: "\(error)")
        }
        trainer.evalEvery = evalEvery
        let metricsWriter = try metrics.map { try MetricsWriter(path: $0) }
        let console = TrainingConsole(trainer: trainer, style: progress.resolved, metrics: metricsWriter)
        trainer.observer = console

        let model = FlopModel(network: spec)
        console.header([
            "rso train \(spec.name) on \(splits.directory): train \(splits.train.count), test \(splits.test.count)",
            "batch \(batch), cycles \(cycles), seed \(seed), \(threads.describe(scheduler)), sampling \(sampling.rawValue), update \(update.rawValue), order \(order.rawValue), delta \(delta.rawValue), cache \(cache.rawValue), eval \(evaluation.rawValue), batch reuse \(batchReuse), weight decay \(weightDecay)",
            "|W| = \(grouped(model.weights)), \(grouped(trainer.stepsPerCycle)) steps per cycle; checkpoint \(checkpointPath)"
                + (resume.map { "; resumed from \($0) at cycle \(trainer.state.cycle + 1), step \(trainer.state.trials)" } ?? ""),
        ])
        metricsWriter?.write(kind: "start", StartRecord(options: options, threads: scheduler.workers,
                                                         trainSamples: splits.train.count, testSamples: splits.test.count,
                                                         stepsPerCycle: trainer.stepsPerCycle, resumedFrom: resume,
                                                         startTrials: trainer.state.trials))

        cs_install_stop_signals()
        let interval = checkpointEvery * 60
        var lastSave = Date()
        func save(_ why: String) throws {
            do {
                try trainer.saveCheckpoint(to: checkpointPath)
            } catch {
                throw CLIError(description: "could not write checkpoint: \(error)")
            }
            lastSave = Date()
            metricsWriter?.write(kind: "checkpoint", CheckpointRecord(path: checkpointPath, reason: why,
                                                                       cycle: trainer.state.cycle, trials: trainer.state.trials))
        }
        var saveError: Error?
        let reason = trainer.run(
            maxTrials: maxWeights,
            shouldStop: { cs_stop_signal() != 0 || saveError != nil },
            safePoint: { _ in
                if Date().timeIntervalSince(lastSave) >= interval {
                    do { try save("interval") } catch { saveError = error }
                }
            },
            cycleEnd: { _ in
                do { try save("cycle-end") } catch { saveError = error }
            })
        if let saveError { throw saveError }
        console.finishLine()
        if reason != .finished, trainer.evaluations.last?.cycle != trainer.state.cycle || trainer.state.position > 0 {
            trainer.evaluate()
        }
        try save(reason == .finished ? "finished" : reason == .interrupted ? "interrupted" : "trial-limit")
        let rss = MemoryUsage.peakResidentBytes()
        let last = trainer.evaluations.last
        metricsWriter?.write(kind: "end", EndRecord(reason: "\(reason)", trials: trainer.state.trials, cycle: trainer.state.cycle,
                                                     elapsed: trainer.elapsed, peakResidentBytes: rss,
                                                     testAccuracy: last?.testAccuracy, testLoss: last?.testLoss))
        if let last {
            print(String(format: "final test accuracy %.2f%%, test loss %.4f (after %d steps, %.1f cycles, %@)",
                         100 * last.testAccuracy, last.testLoss, trainer.state.trials,
                         Double(trainer.state.trials) / Double(trainer.stepsPerCycle), formatDuration(trainer.elapsed)))
        }
        print("peak resident memory \(formatCount(Double(rss)))B")
        switch reason {
        case .finished:
            print("finished; weights in \(checkpointPath)")
        case .interrupted, .trialLimit:
            let why = reason == .interrupted ? "interrupted by signal \(cs_stop_signal())" : "stopped after --max-weights \(maxWeights ?? 0) steps"
            print("\(why); checkpoint written to \(checkpointPath)")
            print("resume with: rso train \(resumeArguments(checkpointPath))")
        }
    }

    /// The command line that continues this run.
    private func resumeArguments(_ path: String) -> String {
        var args = CommandLine.arguments.dropFirst(2).map { $0 }  // drop "rso" "train"
        var out: [String] = []
        var skip = false
        for a in args {
            if skip { skip = false; continue }
            if a == "--resume" || a == "--max-weights" { skip = true; continue }
            if a.hasPrefix("--resume=") || a.hasPrefix("--max-weights=") { continue }
            out.append(a.contains(" ") ? "'\(a)'" : a)
        }
        args = out
        if checkpoint == nil { args += ["--checkpoint", path] }
        return (args + ["--resume", path]).joined(separator: " ")
    }
}

func ensureParentDirectory(_ path: String, flag: String) throws {
    let dir = (path as NSString).deletingLastPathComponent
    guard !dir.isEmpty else { return }
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    } catch {
        throw ValidationError("\(flag): cannot create directory \(dir): \(error.localizedDescription)")
    }
}

func formatDuration(_ s: Double) -> String {
    guard s.isFinite, s >= 0 else { return "?" }
    let t = Int(s.rounded())
    if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
    if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
    return "\(t)s"
}
