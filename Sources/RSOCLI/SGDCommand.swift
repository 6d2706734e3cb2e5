import ArgumentParser
import CSupport
import Foundation
import RSOEngine

extension SGDOptions.Decay: ExpressibleByArgument {}

struct SGDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sgd",
        abstract: "Train a network with back-propagation SGD on the engine's kernels (the paper's baseline).",
        discussion: """
        Same networks, He initialisation, data and evaluation as `rso train`: an SGD checkpoint is an \
        input of `rso eval --weights`, like an RSO one. Batch-norm trains on batch statistics; evaluation \
        recomputes population statistics over --bn-samples training images (no running averages). \
        Gradients are reduced in chunk order: the weights are bit-identical for any --threads. \
        SIGINT/SIGTERM finish the iteration in flight, write a checkpoint and exit 0; --resume continues \
        so that the final weights equal an uninterrupted run's, bit for bit.
        """)

    @Option(name: .long, help: "Network: \(NetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var net: NetName = .mnist6
    @OptionGroup var data: DataOptions
    @OptionGroup var threads: ThreadOptions

    @Option(name: .long, help: "Seed of the He-normal initialisation and of the per-epoch shuffles.")
    var seed: UInt64 = 1
    @Option(name: .long, help: "Samples per iteration; each epoch visits the shuffled training set in consecutive batches.")
    var batch: Int = 128
    @Option(name: .long, help: "Length of the run in epochs (iterations = ⌈epochs·⌈train/batch⌉⌉). Default 1 unless --steps is given.")
    var epochs: Double?
    @Option(name: .long, help: "Length of the run in iterations (weight updates); excludes --epochs.")
    var steps: Int?
    @Option(name: .customLong("lr"), help: "Learning rate after the warm-up.")
    var learningRate: Double = 0.1
    @Option(name: .long, help: "Momentum μ (0: plain SGD).")
    var momentum: Double = 0
    @Flag(name: .long, help: "Nesterov momentum (needs --momentum > 0).")
    var nesterov = false
    @Option(name: .long, help: "L2 weight decay λ added to every parameter's gradient (as PyTorch's SGD).")
    var weightDecay: Double = 0
    @Option(name: .long, help: "Linear warm-up from lr/W to lr over this many epochs (W = its iterations).")
    var warmupEpochs: Double = 0
    @Option(name: .long, help: "After the warm-up: constant, or cosine (to 0 at the last iteration).")
    var decay: SGDOptions.Decay = .constant
    @Option(name: .long, help: "Training samples for BN population statistics at evaluation.")
    var bnSamples: Int = 10_000

    @Option(name: .long, help: "Evaluate on the test set every N iterations (default: once per epoch), at the start and at the end.")
    var evalEvery: Int?
    @OptionGroup var files: RunFileOptions
    @Option(name: .long, help: "Stop after N iterations in this process (smoke runs); still checkpoints and evaluates.")
    var maxSteps: Int?

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be a positive number of samples, got \(batch)") }
        if epochs != nil && steps != nil { throw ValidationError("give --epochs or --steps, not both") }
        if let e = epochs, !(e > 0 && e <= 1e6) { throw ValidationError("--epochs must be positive, got \(e)") }
        if let s = steps, s < 1 { throw ValidationError("--steps must be at least 1, got \(s)") }
        if !(learningRate > 0 && learningRate.isFinite) { throw ValidationError("--lr must be positive, got \(learningRate)") }
        if !(momentum >= 0 && momentum < 1) { throw ValidationError("--momentum must be in [0, 1), got \(momentum)") }
        if nesterov && momentum == 0 { throw ValidationError("--nesterov needs --momentum > 0") }
        if !(weightDecay >= 0 && weightDecay.isFinite) { throw ValidationError("--weight-decay must be ≥ 0, got \(weightDecay)") }
        if !(warmupEpochs >= 0 && warmupEpochs.isFinite) { throw ValidationError("--warmup-epochs must be ≥ 0, got \(warmupEpochs)") }
        if bnSamples < 1 { throw ValidationError("--bn-samples must be positive, got \(bnSamples)") }
        if let e = evalEvery, e < 1 { throw ValidationError("--eval-every must be at least 1, got \(e)") }
        if let m = maxSteps, m < 1 { throw ValidationError("--max-steps must be at least 1, got \(m)") }
    }

    /// The run's options; epochs become iterations with the training set's size.
    func options(trainCount: Int) throws -> SGDOptions {
        var o = SGDOptions(net: net.rawValue)
        o.batch = batch
        o.learningRate = learningRate
        o.momentum = momentum
        o.nesterov = nesterov
        o.weightDecay = weightDecay
        o.decay = decay
        o.seed = seed
        o.bnSamples = bnSamples
        if batch > trainCount { throw ValidationError("--batch \(batch) exceeds the \(trainCount) training samples") }
        let perEpoch = o.stepsPerEpoch(trainCount: trainCount)
        o.steps = steps ?? Int((Double(perEpoch) * (epochs ?? 1)).rounded(.up))
        o.warmupSteps = Int((Double(perEpoch) * warmupEpochs).rounded())
        if o.warmupSteps > o.steps {
            throw ValidationError("--warmup-epochs \(warmupEpochs) (\(o.warmupSteps) iterations) is longer than the run (\(o.steps) iterations)")
        }
        return o
    }

    func run() throws {
        let spec = net.spec
        let splits: DatasetSplits
        do { splits = try data.load(for: spec) } catch { throw CLIError(description: "\(error)") }
        let options = try options(trainCount: splits.train.count)
        let scheduler = try threads.makeScheduler()
        let checkpointPath = files.checkpoint ?? "runs/\(spec.name)-sgd-seed\(seed).safetensors"
        try ensureParentDirectory(checkpointPath, flag: "--checkpoint")
        let trainer: SGDTrainer
        do {
            if let resume = files.resume {
                trainer = try SGDTrainer.resume(from: resume, options: options, train: splits.train, test: splits.test,
                                                scheduler: scheduler)
            } else {
                trainer = try SGDTrainer(options: options, train: splits.train, test: splits.test, scheduler: scheduler)
            }
        } catch {
            throw CLIError(description: "\(error)")
        }
        let metricsWriter = try files.metrics.map { try MetricsWriter(path: $0) }
        let console = SGDConsole(trainer: trainer, style: files.progress.resolved, metrics: metricsWriter)
        trainer.observer = console
        let perEpoch = trainer.stepsPerEpoch
        console.header([
            "rso sgd \(spec.name) on \(splits.directory): train \(splits.train.count), test \(splits.test.count)",
            "batch \(batch), \(options.steps) iterations (\(perEpoch) per epoch), lr \(learningRate) (warm-up \(options.warmupSteps) iterations, then \(decay.rawValue)), momentum \(momentum)\(nesterov ? " Nesterov" : ""), weight decay \(weightDecay), seed \(seed), \(threads.describe(scheduler))",
            "checkpoint \(checkpointPath)" + (files.resume.map { "; resumed from \($0) at iteration \(trainer.state.iteration)" } ?? ""),
        ])
        metricsWriter?.write(kind: "start", CountedRecord(
            StartRecord(options: options, threads: scheduler.workers, trainSamples: splits.train.count,
                        testSamples: splits.test.count, resumedFrom: files.resume),
            counters: ["stepsPerEpoch": perEpoch, "startUpdates": trainer.state.iteration]))
        cs_install_stop_signals()
        func recordSave(_ why: String) {
            metricsWriter?.write(kind: "checkpoint", SGDCheckpointRecord(path: checkpointPath, reason: why,
                                                                          updates: trainer.state.iteration))
        }
        func save(_ why: String) throws {
            do {
                try trainer.saveCheckpoint(to: checkpointPath)
            } catch {
                throw CLIError(description: "could not write checkpoint: \(error)")
            }
            recordSave(why)
        }
        let reason: SGDTrainer.StopReason
        do {
            reason = try trainer.runCheckpointed(to: checkpointPath, everyMinutes: files.checkpointEvery, maxSteps: maxSteps,
                                                 evalEvery: evalEvery ?? perEpoch, shouldStop: { cs_stop_signal() != 0 },
                                                 saved: recordSave)
        } catch {
            throw CLIError(description: "\(error)")
        }
        console.finishLine()
        if trainer.evaluations.last?.updates != trainer.state.iteration { trainer.evaluate() }
        try save(reason == .finished ? "finished" : reason == .interrupted ? "interrupted" : "step-limit")
        let rss = MemoryUsage.peakResidentBytes()
        let last = trainer.evaluations.last
        metricsWriter?.write(kind: "end", CountedRecord(
            EndRecord(reason: "\(reason)", elapsed: trainer.elapsed, peakResidentBytes: rss,
                      testAccuracy: last?.testAccuracy, testLoss: last?.testLoss),
            counters: ["updates": trainer.state.iteration, "cycle": trainer.state.iteration]))
        if let last {
            print(String(format: "final test accuracy %.2f%%, test loss %.4f (after %d iterations, %.2f epochs, %@)",
                         100 * last.testAccuracy, last.testLoss, trainer.state.iteration, trainer.epoch,
                         formatDuration(trainer.elapsed)))
        }
        print("peak resident memory \(formatCount(Double(rss)))B")
        switch reason {
        case .finished:
            print("finished; weights in \(checkpointPath)")
        case .interrupted, .stepLimit:
            let why = reason == .interrupted ? "interrupted by signal \(cs_stop_signal())" : "stopped after --max-steps \(maxSteps ?? 0) iterations"
            print("\(why); checkpoint written to \(checkpointPath)")
            print("resume with the same command plus: --checkpoint \(shellQuoted(checkpointPath)) --resume \(shellQuoted(checkpointPath))")
        }
    }
}
