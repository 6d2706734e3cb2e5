import ArgumentParser
import Foundation
import RSOEngine

/// The networks the CLI accepts; parsing errors list these names.
public enum NetName: String, ExpressibleByArgument, CaseIterable, Sendable {
    case mnist6
    case cifarDepth3 = "cifar-depth3"
    case cifarDepth5 = "cifar-depth5"
    case cifarDepth10 = "cifar-depth10"

    public var spec: NetworkSpec { NetworkZoo.network(named: rawValue)! }
}

/// Where data comes from (shared by every command that reads a dataset).
public struct DataOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Directory holding the dataset files (IDX for mnist6, CIFAR-10 binary for cifar-*). Default: $RSO_DATA, else /usr/share/datasets/fashion-mnist for mnist6.",
        valueName: "dir"))
    public var dataDir: String?

    @Option(name: .long, help: "Use only the first N training images (quick runs and tests; normalised with the whole split's statistics).")
    public var trainSamples: Int?
    @Option(name: .long, help: "Use only the first N test images.")
    public var testSamples: Int?

    public init() {}

    public func load(for net: NetworkSpec, stop: StopRequest? = nil) throws -> DatasetSplits {
        let format = NetworkZoo.datasetFormat(for: net)
        let dir = try DatasetSplits.resolveDirectory(flag: dataDir, environment: ProcessInfo.processInfo.environment,
                                                     format: format)
        return try DatasetSplits.load(format: format, directory: dir, stop: stop)
            .prefix(train: trainSamples, test: testSamples)
    }
}

/// Which threads run the chunks of every parallel region (trials and whole-dataset passes).
public enum SchedulerKind: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// The engine's WorkerPool: one hwloc-pinned worker per core, NUMA-aware.
    case pool
    /// An OpenMP team placed by the runtime (OMP_NUM_THREADS, OMP_PLACES, OMP_PROC_BIND).
    case openmp
}

/// Worker threads and their placement (shared by train, eval, info and bench).
public struct ThreadOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Threads running each step's chunks: pool (the engine's pinned, NUMA-aware workers) or openmp (an OpenMP team placed by OMP_PLACES / OMP_PROC_BIND).",
        valueName: "pool|openmp"))
    public var scheduler: SchedulerKind = .pool

    @Option(name: .long, help: "Worker threads (default: one per physical core; with --scheduler openmp, OMP_NUM_THREADS when set — --threads wins over it).")
    public var threads: Int?

    @Option(name: .long, help: "NUMA-aware placement for --scheduler pool: on (default; workers grouped by node, shared data replicated per node) or off.")
    public var numa: OnOff?

    public init() {}

    public func validate() throws {
        if let t = threads, t < 1 || t > 4096 {
            throw ValidationError("--threads must be between 1 and 4096, got \(t)")
        }
        if scheduler == .openmp, numa != nil {
            throw ValidationError("--numa applies to --scheduler pool; an OpenMP team is placed by OMP_PLACES / OMP_PROC_BIND")
        }
    }

    public var numaAware: Bool { numa != .off }

    /// This machine's pool plan for these options.
    public func plan() throws -> ThreadPlan {
        ThreadPlan.make(cores: try Self.cores(), threads: threads, numa: numaAware)
    }

    /// This machine's cores a run may use: under an MPI launcher, those of the rank's binding.
    public static func cores() throws -> [CoreInfo] {
        let all = try MachineInfo.cores()
        return ProcessGroups.launchedByMPI() ? MachineInfo.coresInBinding(all) : all
    }

    /// The scheduler these options select; `pin` binds pool workers to their cores. Refuses more
    /// threads than the machine has hardware threads (`rso info` may still describe such a plan).
    public func makeScheduler(pin: Bool = true) throws -> ChunkScheduler {
        if let t = threads, let most = MachineInfo.maxThreads, t > most {
            throw ValidationError("--threads \(t) exceeds this machine's \(most) hardware threads (workers wait for each other at every parallel step, so more would stall); use at most \(most)")
        }
        switch scheduler {
        case .pool:
            return WorkerPool(plan: try plan(), pin: pin)
        case .openmp:
            do { return try OpenMPScheduler.configured(threads: threads) } catch { throw ValidationError("\(error)") }
        }
    }

    /// "2 thread(s) (pool, pinned, NUMA on)" or "2 thread(s) (OpenMP team, OMP_PROC_BIND close, …)".
    public func describe(_ s: ChunkScheduler, pinned: Bool = true) -> String {
        switch scheduler {
        case .pool:
            return "\(s.workers) thread(s) (pool, \(pinned ? "pinned" : "unpinned"), NUMA \(numaAware ? "on" : "off"))"
        case .openmp:
            return "\(s.workers) thread(s) (OpenMP team, \(OpenMPScheduler.placement))"
        }
    }
}

/// `--trial-eval`: how a trial's W±Δ are evaluated. `--eval` is its earlier spelling, still
/// accepted but hidden ("eval" alone means the test set: `--eval-every`, `rso eval`).
public struct TrialEvalOption<Choice: ExpressibleByArgument & Sendable>: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "How a trial's W±Δ are evaluated: incremental (the default, what rso train runs) recomputes only what the weight touches; full is the reference"
            + (Choice.allValueStrings.contains("both") ? "; both compares them." : "."),
        valueName: "path"))
    var trialEval: Choice?
    @Option(name: .customLong("eval"), help: .hidden)
    var oldSpelling: Choice?

    public init() {}

    public func validate() throws {
        if trialEval != nil && oldSpelling != nil {
            throw ValidationError("--eval is the old spelling of --trial-eval; give only one")
        }
    }

    /// The value given, if any.
    public var value: Choice? { trialEval ?? oldSpelling }
}

public enum OnOff: String, ExpressibleByArgument, CaseIterable, Sendable {
    case on, off
}

/// Errors from the engine are printed as they are (they already name file and expectation).
struct CLIError: Error, CustomStringConvertible {
    var description: String
}

func formatCount(_ v: Double) -> String {
    let units: [(Double, String)] = [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
    for (scale, suffix) in units where abs(v) >= scale { return String(format: "%.3g %@", v / scale, suffix) }
    return String(format: "%.0f", v)
}

func grouped(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, ch) in s.reversed().enumerated() {
        if i > 0 && i % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return String(out.reversed())
}

func leftPad(_ s: String, _ width: Int) -> String {
    s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
}
