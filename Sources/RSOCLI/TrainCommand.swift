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
        A trial draws a batch and a Δ and keeps the best of W, W+Δ, W−Δ (one weight per trial with \
        --sampling weight); a cycle visits every parameter once.

        SIGINT/SIGTERM stop at the next safe point (between trials, or between the pieces of a data \
        pass: data loading, cache build, test evaluation), write a checkpoint and exit 0, skipping the final test \
        evaluation; --resume continues so that the final weights equal an uninterrupted run's, bit for \
        bit (it runs any scheduled evaluation the stop cut short). A second signal exits at once; the \
        last complete checkpoint stays (checkpoints are written atomically).

        Exit status: 0 finished, reached --max-trials, or stopped by a signal with its checkpoint \
        written; 1 error (data, checkpoint, I/O: the message names the file); 3 the loss became \
        non-finite (the run stops, the last good checkpoint is kept); 64 invalid option; 128+N a \
        second signal N forced an immediate exit (130 for SIGINT).
        """)

    /// Exit status of a run stopped by a non-finite loss.
    static let nonFiniteLossExitCode: Int32 = 3

    @Option(name: .long, help: "Network: \(NetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var net: NetName = .mnist6
    @OptionGroup var data: DataOptions
    @OptionGroup var threads: ThreadOptions

    @Option(name: .long, help: "Seed of everything: init, batches, deltas.")
    var seed: UInt64 = 1
    @Option(name: .long, help: "Samples per trial (a fresh random batch per trial).")
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
    @Option(name: .long, help: "Perturb one weight (weight), a whole layer (layer) or the whole network (network) per trial.")
    var sampling: SamplingLevel = .weight
    @Option(name: .long, help: "sequential, neuron-parallel or layer-parallel (§4.6).")
    var update: UpdateScheme = .sequential
    @Option(name: .long, help: "Cache layer d's input for the whole training set (on, off).")
    var cache: OnOff = .on
    @Option(name: .long, help: "Training samples for BN population statistics (test evaluation, cache); at most the training set. Default: 10000, or the whole training set when smaller.")
    var bnSamples: Int?
    @OptionGroup var trialEval: TrialEvalOption<EvaluationPath>
    @Option(name: .long, help: "Keep one batch for K consecutive trials (1: a fresh batch per weight, the paper).")
    var batchReuse: Int = 1

    @Option(name: .long, help: "Evaluate on the test set every N cycles (and at the end).")
    var evalEvery: Int = 1
    @OptionGroup var files: RunFileOptions
    @Option(name: .long, help: "Stop after N trials in this process (smoke runs); still checkpoints and evaluates.")
    var maxTrials: Int?
    /// The flag's first name, kept so existing scripts work (it counted trials, not weights).
    @Option(name: .customLong("max-weights"), help: .hidden)
    var maxTrialsOldSpelling: Int?

    func validate() throws {
        if maxTrials != nil && maxTrialsOldSpelling != nil {
            throw ValidationError("--max-weights is the old spelling of --max-trials; give only one")
        }
        if let m = maxTrialsOldSpelling, m < 1 {
            throw ValidationError("--max-weights (now --max-trials) must be at least 1, got \(m)")
        }
        do { try runOptions.validate() } catch { throw ValidationError("\(error)") }
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
        if let bnSamples { o.bnSamples = bnSamples }
        o.evaluation = trialEval.value ?? o.evaluation
        o.batchReuse = batchReuse
        return o
    }

    var runOptions: RunOptions {
        var r = RunOptions(training: options,
                           checkpointPath: files.checkpoint ?? RunOptions.defaultCheckpointPath(net: net.rawValue, seed: seed))
        r.checkpointEveryMinutes = files.checkpointEvery
        r.evalEvery = evalEvery
        r.maxTrials = maxTrials ?? maxTrialsOldSpelling
        r.resume = files.resume
        return r
    }

    func run() throws {
        // Signals first: a stop during data loading is honoured too.
        let stop = StopRequest.signals()
        // Under mpirun every rank trains; rank 0 alone writes the checkpoint and metrics and prints.
        let group: ProcessGroup
        do { group = try ProcessGroups.current() } catch { throw CLIError(description: "\(error)") }
        let speaks = group.rank == 0
        var run = runOptions
        let checkpointPath = run.checkpointPath
        if speaks {
            do { try CheckpointDestination.prepare(checkpointPath) } catch { throw CLIError(description: "\(error)") }
        }
        let metricsWriter = speaks ? try files.metrics.map { try MetricsWriter(path: $0) } : nil
        let scheduler = try threads.makeScheduler()
        let spec = net.spec
        let splits: DatasetSplits
        do {
            splits = try data.load(for: spec, stop: stop)
        } catch is RunStopped {
            guard speaks else { return }
            print("stopped by signal \(stop.signal ?? 0) while loading data; nothing trained"
                  + (files.resume.map { ", checkpoint \($0) unchanged" } ?? ", no checkpoint written"))
            return
        } catch {
            throw CLIError(description: "\(error)")
        }
        if bnSamples == nil { run.training.bnSamples = min(run.training.bnSamples, splits.train.count) }
        let controller: RunController
        let trainer: Trainer
        do {
            controller = try RunController(options: run, stop: stop, group: group)
            trainer = try controller.makeTrainer(train: splits.train, test: splits.test, scheduler: scheduler)
        } catch {
            throw CLIError(description: "\(error)")
        }
        let console = TrainingConsole(trainer: trainer, style: files.progress.resolved, metrics: metricsWriter)
        if speaks { trainer.observer = console }

        let model = FlopModel(network: spec)
        let o = trainer.options
        if speaks { console.header([
            "rso train \(spec.name) on \(splits.directory): train \(splits.train.count), test \(splits.test.count)",
            "batch \(o.batch), cycles \(o.cycles), seed \(o.seed), \(threads.describe(scheduler)), sampling \(o.sampling.rawValue), update \(o.update.rawValue), order \(o.order.rawValue), delta \(o.delta.rawValue), cache \(cache.rawValue), trial eval \(o.evaluation.rawValue), batch reuse \(o.batchReuse), weight decay \(o.weightDecay)",
            "|W| = \(grouped(model.weights)), \(grouped(trainer.trialsPerCycle)) trials per cycle; checkpoint \(checkpointPath)"
                + (files.resume.map { "; resumed from \($0) at cycle \(trainer.state.cycle + 1), trial \(trainer.state.trials)" } ?? "")
                + (group.size > 1 ? "; \(group.size) MPI ranks" : ""),
        ]) }
        metricsWriter?.write(kind: "start", CountedRecord(
            StartRecord(options: o, threads: scheduler.workers, trainSamples: splits.train.count,
                        testSamples: splits.test.count, resumedFrom: files.resume),
            counters: ["trialsPerCycle": trainer.trialsPerCycle, "startTrials": trainer.state.trials]))

        func end(_ reason: String, error: String? = nil, signal: Int32? = nil) -> Int {
            let rss = MemoryUsage.peakResidentBytes()
            let last = trainer.evaluations.last
            metricsWriter?.write(kind: "end", CountedRecord(
                EndRecord(reason: reason, error: error, signal: signal, elapsed: trainer.elapsed, peakResidentBytes: rss,
                          testAccuracy: last?.testAccuracy, testLoss: last?.testLoss),
                counters: ["trials": trainer.state.trials, "cycle": trainer.state.cycle]))
            return rss
        }
        let startTrials = trainer.state.trials
        let outcome: RunOutcome
        do {
            outcome = try controller.run(trainer)
        } catch {
            console.finishLine()
            _ = end("error", error: "\(error)")
            throw CLIError(description: "\(error)")
        }
        console.finishLine()
        let rss = end(outcome.reason.rawValue, error: outcome.detail, signal: outcome.signal)
        guard speaks else {
            if outcome.reason == .nonFiniteLoss { throw ExitCode(Self.nonFiniteLossExitCode) }
            return
        }
        if outcome.reason == .nonFiniteLoss {
            let kept = controller.lastCheckpoint.map { "the last good checkpoint is \($0.path) (after \($0.trials) trials)" }
                ?? files.resume.map { "the checkpoint \($0) it resumed from is unchanged" }
                ?? "no checkpoint was written"
            FileHandle.standardError.write(Data("Error: training stopped on a non-finite loss: \(outcome.detail ?? ""); \(kept). Lower --sigma-scale or check the data and weights.\n".utf8))
            throw ExitCode(Self.nonFiniteLossExitCode)
        }
        if outcome.reason != .interrupted, let last = trainer.evaluations.last {
            print(String(format: "final test accuracy %.2f%%, test loss %.4f (after %d trials, %.1f cycles, %@)",
                         100 * last.testAccuracy, last.testLoss, trainer.state.trials,
                         Double(trainer.state.trials) / Double(trainer.trialsPerCycle), formatDuration(trainer.elapsed)))
        }
        print("peak resident memory \(formatCount(Double(rss)))B")
        if let g = trainer.gatheredChunkSums {
            let t = group.traffic
            print("MPI: \(g.collectives) chunk-sum gathers of \(formatCount(Double(g.doubles * 8)))B of partials in all;"
                  + " rank 0 made \(grouped(t.collectives)) collectives (cache rows and stop votes included),"
                  + " received \(formatCount(Double(t.bytesReceived)))B from the other ranks and spent "
                  + String(format: "%.2f s", t.seconds) + " in them"
                  + " (\(trainer.state.trials - startTrials) trials and the data passes of this run)")
            if trainer.ownedRounds > 0 {
                print("MPI: \(trainer.ownedRounds) rounds of rank-owned trials (\(o.update.rawValue): each rank evaluated its own trials on whole batches; one gather of the decisions per round)")
            }
        }
        switch outcome.reason {
        case .finished:
            print("finished; weights in \(checkpointPath)")
        case .interrupted, .trialLimit:
            let why = outcome.reason == .interrupted
                ? "interrupted by signal \(outcome.signal ?? 0) (final test evaluation skipped)"
                : "stopped after --max-trials \(run.maxTrials ?? 0) trials"
            print("\(why); checkpoint written to \(checkpointPath)")
            print("resume with: rso train \(resumeArguments(checkpointPath))")
        case .nonFiniteLoss:
            break
        }
    }

    /// The command line that continues this run, quoted for a POSIX shell.
    private func resumeArguments(_ path: String) -> String {
        var out: [String] = []
        var skip = false
        let dropped = ["--resume", "--max-trials", "--max-weights"]
        for a in CommandLine.arguments.dropFirst(2) {  // drop "rso" "train"
            if skip { skip = false; continue }
            if dropped.contains(a) { skip = true; continue }
            if dropped.contains(where: { a.hasPrefix($0 + "=") }) { continue }
            out.append(a)
        }
        if files.checkpoint == nil { out += ["--checkpoint", path] }
        return (out + ["--resume", path]).map(shellQuoted).joined(separator: " ")
    }
}

/// `s` as one word for a POSIX shell: unchanged when it holds only safe characters, else in single
/// quotes with each ' written as '\''.
func shellQuoted(_ s: String) -> String {
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-")
    if !s.isEmpty && s.allSatisfy({ safe.contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
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
