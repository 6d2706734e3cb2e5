import CSupport

/// What the engine runs on: topology from hwloc and the BLAS library (the OpenMP team: OpenMPScheduler).
public struct MachineInfo: Sendable {
    public var packages: Int
    public var numaNodes: Int
    public var cores: Int
    public var processingUnits: Int
    public var cpuModel: String

    /// This machine (synthetic == nil) or an hwloc synthetic description like "pack:2 numa:2 core:8 pu:1".
    public static func topology(synthetic: String? = nil) throws -> MachineInfo {
        var summary = cs_topology_summary()
        var err = [CChar](repeating: 0, count: 256)
        let rc: Int32
        if let synthetic {
            rc = synthetic.withCString { cs_topology_summarize($0, &summary, &err, err.count) }
        } else {
            rc = cs_topology_summarize(nil, &summary, &err, err.count)
        }
        guard rc == 0 else { throw MachineInfoError(message: String(cString: err)) }
        let model = withUnsafeBytes(of: summary.cpu_model) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        return MachineInfo(packages: Int(summary.packages), numaNodes: Int(summary.numa_nodes),
                           cores: Int(summary.cores), processingUnits: Int(summary.pus), cpuModel: model)
    }

    public static var blasConfiguration: String { String(cString: cs_blas_config()) }
    public static var blasThreads: Int { Int(cs_blas_get_threads()) }

    /// Default worker count: one per physical core.
    public static var defaultThreads: Int { (try? topology().cores).map { max(1, $0) } ?? 1 }

    /// Most pinned workers a run may ask for: one per hardware thread. Workers spin-wait for each
    /// other at every parallel region, so beyond that they only take turns and a run stalls.
    public static var maxThreads: Int? { (try? topology().processingUnits).map { max(1, $0) } }
}

public struct MachineInfoError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
