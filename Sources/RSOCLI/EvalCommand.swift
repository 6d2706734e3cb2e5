import ArgumentParser
import Foundation
import RSOEngine

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Test accuracy and loss of a network: the weights of a checkpoint (--weights), or freshly He-initialised from --seed.",
        discussion: "Batch-norm uses population statistics recomputed over --bn-samples training images for the weights evaluated.")

    @Option(name: .long, help: "Network: \(NetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var net: NetName = .mnist6

    @OptionGroup var data: DataOptions
    @OptionGroup var threads: ThreadOptions

    @Option(name: .long, help: "Seed of the He-normal initialisation and of the BN-statistics subset.")
    var seed: UInt64 = 1

    @Option(name: .long, help: ArgumentHelp("Evaluate the parameters stored in this checkpoint (of `rso train` or `rso sgd`) instead of a fresh initialisation.", valueName: "file"))
    var weights: String?

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
        let params: NetworkParameters
        if let weights {
            do { params = try NetworkParameters.load(checkpoint: weights, network: spec) } catch { throw CLIError(description: "\(error)") }
        } else {
            params = NetworkParameters.heNormal(network: spec, seed: seed)
        }
        let scheduler = try threads.makeScheduler()
        let result = Evaluator.run(parameters: params, splits: splits, statisticsSamples: bnSamples ?? TrainingOptions(net: net.rawValue).bnSamples, seed: seed,
                                   scheduler: scheduler)
        let done = clock.now
        let source = weights.map { "weights from \($0)" } ?? "seed \(seed), He-normal init"
        print("net \(spec.name), \(source), \(threads.describe(scheduler)), BN statistics over \(result.statisticsSamples) training samples")
        print(String(format: "test accuracy %.2f%% (%d samples), test loss %.4f, %@ s", 100 * result.accuracy,
                     result.count, result.loss, secs(done - loaded)))
    }
}

func secs(_ d: Duration) -> String {
    let c = d.components
    return String(format: "%.2f", Double(c.seconds) + Double(c.attoseconds) * 1e-18)
}
