import ArgumentParser
import Foundation
import RSOEngine

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Test accuracy and loss of a network (freshly He-initialised from --seed).",
        discussion: "Batch-norm uses population statistics recomputed over --bn-samples training images for the weights evaluated.")

    @Option(name: .long, help: "Network: \(NetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var net: NetName = .mnist6

    @OptionGroup var data: DataOptions
    @OptionGroup var threads: ThreadOptions

    @Option(name: .long, help: "Seed of the He-normal initialisation and of the BN-statistics subset.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Training samples over which BN population statistics are recomputed; at most the training set. Default: 10000, or the whole training set when smaller.")
    var bnSamples: Int?

    func validate() throws {
        if let bnSamples, bnSamples < 1 { throw ValidationError("--bn-samples must be a positive number of samples, got \(bnSamples)") }
    }

    func run() throws {
        let spec = net.spec
        let clock = ContinuousClock()
        let t0 = clock.now
        let splits: DatasetSplits
        do { splits = try data.load(for: spec) } catch { throw CLIError(description: "\(error)") }
        let loaded = clock.now
        if let bnSamples, bnSamples > splits.train.count {
            throw CLIError(description: "--bn-samples must be at most the training set size \(splits.train.count), got \(bnSamples)")
        }
        print("data: \(splits.directory) — train \(splits.train.count), test \(splits.test.count) (\(secs(loaded - t0)) s)")
        let params = NetworkParameters.heNormal(network: spec, seed: seed)
        let scheduler = try threads.makeScheduler()
        let result = Evaluator.run(parameters: params, splits: splits, statisticsSamples: bnSamples ?? TrainingOptions(net: net.rawValue).bnSamples, seed: seed,
                                   scheduler: scheduler)
        let done = clock.now
        print("net \(spec.name), seed \(seed), He-normal init, \(threads.describe(scheduler)), BN statistics over \(result.statisticsSamples) training samples")
        print(String(format: "test accuracy %.2f%% (%d samples), test loss %.4f, %@ s", 100 * result.accuracy,
                     result.count, result.loss, secs(done - loaded)))
    }
}

func secs(_ d: Duration) -> String {
    let c = d.components
    return String(format: "%.2f", Double(c.seconds) + Double(c.attoseconds) * 1e-18)
}
