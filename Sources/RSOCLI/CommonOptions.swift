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

    public init() {}

    public func load(for net: NetworkSpec, stop: StopRequest? = nil) throws -> DatasetSplits {
        let format = NetworkZoo.datasetFormat(for: net)
        let dir = try DatasetSplits.resolveDirectory(flag: dataDir, environment: ProcessInfo.processInfo.environment,
                                                     format: format)
        return try DatasetSplits.load(format: format, directory: dir, stop: stop)
    }
}

/// Worker threads and their placement (shared).
public struct ThreadOptions: ParsableArguments {
    @Option(name: .long, help: "Worker threads (default: one per physical core).")
    public var threads: Int?

    @Option(name: .long, help: "NUMA-aware placement: on (workers grouped by node, shared data replicated per node) or off.")
    public var numa: OnOff = .on

    public init() {}

    public func validate() throws {
        if let t = threads, t < 1 || t > 4096 {
            throw ValidationError("--threads must be between 1 and 4096, got \(t)")
        }
        if let t = threads, let most = MachineInfo.maxThreads, t > most {
            throw ValidationError("--threads \(t) exceeds this machine's \(most) hardware threads (pinned workers wait for each other, so more would stall); use at most \(most)")
        }
    }

    public var resolved: Int { threads ?? MachineInfo.defaultThreads }

    /// This machine's plan for these options.
    public func plan() throws -> ThreadPlan {
        ThreadPlan.make(cores: try MachineInfo.cores(), threads: threads, numa: numa == .on)
    }

    /// The engine's pinned worker pool.
    public func pool() throws -> WorkerPool { WorkerPool(plan: try plan()) }
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
