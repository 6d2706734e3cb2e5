import ArgumentParser
import Foundation
import RSOEngine

/// `rso bench scaling`: the trial benchmark at 1…N threads on the pinned pool and on an OpenMP team
/// side by side, with speed-up and efficiency (both relative to the pool's first row).
struct BenchScalingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Trials/s per layer and projected cycle time for 1…N threads on each scheduler: speed-up and parallel efficiency.",
        discussion: """
        Pool rows run first, then OpenMP rows (a finished OpenMP team keeps spinning for \
        KMP_BLOCKTIME, 200 ms by default, and would steal cycles from a pool measured after it). \
        OpenMP rows use a team of exactly each --threads value (it overrides OMP_NUM_THREADS); \
        OMP_PLACES / OMP_PROC_BIND place it.
        """)

    @Option(name: .long, help: "Network: \(NetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var net: NetName = .mnist6
    @Option(name: .long, help: "Samples per step.")
    var batch: Int = 5000
    @Option(name: .long, parsing: .upToNextOption, help: "Thread counts to measure (default 1 … cores).")
    var threads: [Int] = []
    @Option(name: .long, help: "Schedulers to compare: pool, openmp or both.")
    var scheduler: SchedulerChoice = .both
    @Option(name: .long, help: "NUMA-aware placement of the pool: on or off.")
    var numa: OnOff = .on
    @OptionGroup var trialEval: TrialEvalOption<EvaluationPath>
    /// Defaults to what training runs.
    var evaluation: EvaluationPath { trialEval.value ?? TrainingOptions(net: net.rawValue).evaluation }
    @Option(name: .long, help: "Timed steps per layer.")
    var trials: Int = 3
    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    enum SchedulerChoice: String, ExpressibleByArgument, CaseIterable {
        case pool, openmp, both
        var kinds: [SchedulerKind] { self == .both ? [.pool, .openmp] : [SchedulerKind(rawValue: rawValue)!] }
    }

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be a positive number of samples, got \(batch)") }
        if trials < 1 { throw ValidationError("--trials must be at least 1, got \(trials)") }
        if let bad = threads.first(where: { $0 < 1 || $0 > 4096 }) {
            throw ValidationError("--threads values must be between 1 and 4096, got \(bad)")
        }
    }

    struct Row: Encodable {
        var scheduler: String
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
        for kind in scheduler.kinds {
            for n in counts {
                let r = try preservingThreadBinding {
                    try TrialBenchmark.run(network: net.spec, batch: batch, cache: true, trials: trials,
                                           scheduler: makeScheduler(kind, threads: n, cores: cores), evaluation: evaluation)
                }
                // Relative to the first row measured (the pool's, when both are measured).
                let base = rows.first?.projectedCycleSeconds ?? r.projectedCycleSeconds
                let baseThreads = Double(rows.first?.threads ?? n)
                let speedup = base / r.projectedCycleSeconds
                rows.append(Row(scheduler: kind.rawValue, threads: n, projectedCycleSeconds: r.projectedCycleSeconds,
                                gflopsPaper: r.gflopsPaper, speedup: speedup,
                                efficiency: speedup * baseThreads / Double(n), layers: r.layers))
                if !json {
                    print(String(format: "%@ %2d threads: cycle %@, %.1f GFLOP/s (paper count), speed-up %.2f×, efficiency %.0f%%",
                                 kind.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0), n,
                                 formatDuration(r.projectedCycleSeconds), r.gflopsPaper, speedup,
                                 100 * speedup * baseThreads / Double(n)))
                    fflush(nil)
                }
            }
        }
        if json {
            var obj: [String: Any] = ["net": net.rawValue, "batch": batch, "cache": true, "trial_eval": evaluation.rawValue,
                                      "openmp_placement": OpenMPScheduler.placement,
                                      "commit": BenchContext.gitCommit() ?? "unknown"]
            obj["rows"] = try rows.map { try jsonObject($0) }
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        let names = rows.first?.layers.map(\.name) ?? []
        print("trials/s per layer (\(net.rawValue), batch \(batch), cache on, trial eval \(evaluation.rawValue)):")
        print("scheduler threads" + names.map { leftPad($0, 10) }.joined())
        for row in rows {
            print(row.scheduler.padding(toLength: 9, withPad: " ", startingAt: 0) + leftPad("\(row.threads)", 8)
                  + row.layers.map { leftPad(String(format: "%.2f", $0.trialsPerSecond), 10) }.joined())
        }
        if scheduler == .both {
            print("openmp vs pool (projected cycle time; > 1: OpenMP faster; OpenMP placement: \(OpenMPScheduler.placement)):")
            for n in counts {
                let pool = rows.first { $0.scheduler == "pool" && $0.threads == n }!
                let omp = rows.first { $0.scheduler == "openmp" && $0.threads == n }!
                print(String(format: "  %2d threads: %.3f×", n, pool.projectedCycleSeconds / omp.projectedCycleSeconds))
            }
        }
    }

    private func makeScheduler(_ kind: SchedulerKind, threads n: Int, cores: [CoreInfo]) -> ChunkScheduler {
        switch kind {
        case .pool: return WorkerPool(plan: ThreadPlan.make(cores: cores, threads: n, numa: numa == .on))
        case .openmp: return OpenMPScheduler(threads: n)
        }
    }
}
