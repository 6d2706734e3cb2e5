import ArgumentParser
import Foundation
import RSOEngine

/// `rso bench cache-agreement`: how often caching (§4.7) changes RSO's decisions, on real data.
struct BenchAgreementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache-agreement",
        abstract: "Decide the same weight trials with and without caching (same batch, same Δ) and count the disagreements per layer.")

    @Option(name: .long, help: "Network: \(NetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var net: NetName = .mnist6
    @OptionGroup var data: DataOptions
    @OptionGroup var threads: ThreadOptions
    @Option(name: .long, help: "Samples per step.")
    var batch: Int = 500
    @Option(name: .long, help: "Trials per layer.")
    var trials: Int = 100
    @Option(name: .long, help: "Seed.")
    var seed: UInt64 = 1
    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be a positive number of samples, got \(batch)") }
        if trials < 1 { throw ValidationError("--trials must be at least 1, got \(trials)") }
    }

    func run() throws {
        let splits: DatasetSplits
        do { splits = try data.load(for: net.spec) } catch { throw CLIError(description: "\(error)") }
        var o = TrainingOptions(net: net.rawValue)
        o.batch = batch
        o.seed = seed
        o.cache = true
        let trainer = try Trainer(options: o, train: splits.train, test: splits.test, scheduler: try threads.makeScheduler())
        var rows: [CacheAgreement] = []
        for u in 0..<trainer.unitCount {
            let r = trainer.measureCacheAgreement(unit: u, trials: trials)
            rows.append(r)
            if !json {
                print(String(format: "%-6@ %4d trials, %3d decisions differ (%.1f%%); W-loss offset up to %.2e; median margin of differing trials %.2e",
                             r.layer as NSString, r.trials, r.disagreements, 100 * r.rate, r.maxLossOffset, r.medianDisagreementMargin))
                fflush(nil)
            }
        }
        let total = rows.reduce(0) { $0 + $1.trials }, differ = rows.reduce(0) { $0 + $1.disagreements }
        if json {
            let obj: [String: Any] = ["net": net.rawValue, "batch": batch, "seed": seed, "trials": total,
                                      "disagreements": differ, "layers": try rows.map { try jsonObject($0) }]
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(String(format: "all layers: %d of %d decisions differ (%.1f%%), %@, batch %d, seed %llu", differ, total,
                         100 * Double(differ) / Double(max(total, 1)), splits.directory, batch, seed))
        }
    }
}
