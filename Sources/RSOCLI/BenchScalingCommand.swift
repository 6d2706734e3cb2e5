import ArgumentParser
import Foundation
import RSOEngine

/// `rso bench scaling`: the trial benchmark at 1…N pinned threads, with speed-up and efficiency.
struct BenchScalingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Trials/s per layer and projected cycle time for 1…N threads: speed-up and parallel efficiency.")

    @Option(name: .long, help: "Network: \(NetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var net: NetName = .mnist6
    @Option(name: .long, help: "Samples per step.")
    var batch: Int = 5000
    @Option(name: .long, parsing: .upToNextOption, help: "Thread counts to measure (default 1 … cores).")
    var threads: [Int] = []
    @Option(name: .long, help: "NUMA-aware placement: on or off.")
    var numa: OnOff = .on
    @Option(name: .long, help: "Timed steps per layer.")
    var trials: Int = 3
    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be a positive number of samples, got \(batch)") }
        if trials < 1 { throw ValidationError("--trials must be at least 1, got \(trials)") }
        if let bad = threads.first(where: { $0 < 1 || $0 > 4096 }) {
            throw ValidationError("--threads values must be between 1 and 4096, got \(bad)")
        }
    }

    struct Row: Encodable {
        var threads: Int
        var projectedCycleSeconds: Double
        var gflopsPaper: Double
        var speedup: Double
        var efficiency: Double
        var layers: [TrialBenchmark.Layer]
    }

    func run() throws {
        let cores = try MachineInfo.cores()
        let counts = threads.isEmpty ? Array(1...cores.count) : threads
        var rows: [Row] = []
        for n in counts {
            let pool = WorkerPool(plan: ThreadPlan.make(cores: cores, threads: n, numa: numa == .on))
            let r = try TrialBenchmark.run(network: net.spec, batch: batch, cache: true, trials: trials, scheduler: pool)
            let base = rows.first?.projectedCycleSeconds ?? r.projectedCycleSeconds
            let baseThreads = Double(rows.first?.threads ?? n)
            let speedup = base / r.projectedCycleSeconds
            rows.append(Row(threads: n, projectedCycleSeconds: r.projectedCycleSeconds, gflopsPaper: r.gflopsPaper,
                            speedup: speedup, efficiency: speedup * baseThreads / Double(n), layers: r.layers))
            if !json {
                print(String(format: "%2d threads: cycle %@, %.1f GFLOP/s (paper count), speed-up %.2f×, efficiency %.0f%%",
                             n, formatDuration(r.projectedCycleSeconds), r.gflopsPaper, speedup,
                             100 * speedup * baseThreads / Double(n)))
                fflush(nil)
            }
        }
        if json {
            var obj: [String: Any] = ["net": net.rawValue, "batch": batch, "cache": true,
                                      "commit": BenchContext.gitCommit() ?? "unknown"]
            obj["rows"] = try rows.map { try jsonObject($0) }
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        let names = rows.first?.layers.map(\.name) ?? []
        print("trials/s per layer (\(net.rawValue), batch \(batch), cache on):")
        print("threads" + names.map { leftPad($0, 10) }.joined())
        for row in rows {
            print(leftPad("\(row.threads)", 7) + row.layers.map { leftPad(String(format: "%.2f", $0.trialsPerSecond), 10) }.joined())
        }
    }
}
