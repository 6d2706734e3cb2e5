import CSupport

/// One core as the planner sees it.
public struct CoreInfo: Sendable, Equatable {
    /// hwloc logical index of the core.
    public var index: Int
    /// NUMA node (logical index).
    public var node: Int
    /// OS index of the core's first PU (what binding uses).
    public var pu: Int
}

/// Which worker runs on which core and NUMA node: a pure function of the topology, so plans for
/// machines we do not have are computed (and tested) from hwloc synthetic topologies.
///
/// One worker per core. With fewer workers than cores they are spread evenly over the NUMA nodes
/// (memory bandwidth is per node). Workers are ordered by node, so the contiguous chunk ranges
/// handed to consecutive workers keep each node's data together. Data read by every worker (the
/// activation cache) is replicated once per node in use when there is more than one.
public struct ThreadPlan: Sendable, Equatable {
    public struct Worker: Sendable, Equatable {
        public var index: Int
        public var node: Int
        public var core: Int
        public var pu: Int
    }

    public var workers: [Worker]
    /// Distinct NUMA nodes in use, in worker order.
    public var nodes: [Int]
    public var numaAware: Bool

    /// Copies of read-shared data: one per node in use when NUMA-aware, else one.
    public var replicas: Int { numaAware ? nodes.count : 1 }

    /// Index into `nodes` (the replica) of worker `w`.
    public func replica(ofWorker w: Int) -> Int {
        numaAware ? nodes.firstIndex(of: workers[w].node)! : 0
    }

    public static func make(cores: [CoreInfo], threads: Int? = nil, numa: Bool = true) -> ThreadPlan {
        precondition(!cores.isEmpty, "no cores")
        let n = max(1, threads ?? cores.count)
        var chosen: [CoreInfo] = []
        if numa {
            var byNode: [Int: [CoreInfo]] = [:]
            for c in cores { byNode[c.node, default: []].append(c) }
            let order = byNode.keys.sorted()
            var round = 0
            while chosen.count < n {
                for node in order where chosen.count < n {
                    let list = byNode[node]!
                    // beyond one worker per core, wrap around (oversubscription is the caller's choice)
                    chosen.append(list[round % list.count])
                }
                round += 1
            }
            chosen.sort { ($0.node, $0.index) < ($1.node, $1.index) }
        } else {
            chosen = (0..<n).map { cores[$0 % cores.count] }
        }
        let workers = chosen.enumerated().map { w, c in
            Worker(index: w, node: numa ? c.node : 0, core: c.index, pu: c.pu)
        }
        var nodes: [Int] = []
        for w in workers where !nodes.contains(w.node) { nodes.append(w.node) }
        return ThreadPlan(workers: workers, nodes: nodes, numaAware: numa)
    }

    /// Human-readable plan (`rso info`).
    public var description: String {
        var lines = ["\(workers.count) workers on \(nodes.count) NUMA node(s)\(numaAware ? "" : " (NUMA placement off)"), \(replicas) replica(s) of read-shared data"]
        for node in nodes {
            let ws = workers.filter { $0.node == node }
            let cores = ws.map { String($0.core) }
            lines.append("  node \(node): workers \(ws.first!.index)…\(ws.last!.index) on cores \(compact(cores))")
        }
        return lines.joined(separator: "\n")
    }

    private func compact(_ items: [String]) -> String {
        items.count <= 12 ? items.joined(separator: ",") : items.prefix(6).joined(separator: ",") + ",…," + items.suffix(3).joined(separator: ",")
    }
}

extension MachineInfo {
    /// Cores of this machine (synthetic == nil) or of an hwloc synthetic topology.
    public static func cores(synthetic: String? = nil) throws -> [CoreInfo] {
        var err = [CChar](repeating: 0, count: 256)
        func query(_ node: UnsafeMutablePointer<Int32>?, _ pu: UnsafeMutablePointer<Int32>?, _ max: Int32) -> Int32 {
            if let synthetic { return synthetic.withCString { cs_topology_cores($0, node, pu, max, &err, err.count) } }
            return cs_topology_cores(nil, node, pu, max, &err, err.count)
        }
        let total = query(nil, nil, 0)
        guard total > 0 else { throw MachineInfoError(message: String(cString: err)) }
        var node = [Int32](repeating: 0, count: Int(total)), pu = node
        _ = query(&node, &pu, total)
        return (0..<Int(total)).map { CoreInfo(index: $0, node: Int(node[$0]), pu: Int(pu[$0])) }
    }

    /// Those of `cores` (this machine's) whose PU the calling thread may run on now: under an MPI
    /// launcher that bound the rank (mpirun --bind-to core or numa), the rank's share of the
    /// machine, so ranks on one node plan and pin disjoint cores instead of all taking the first.
    /// All of `cores` when the binding cannot be read or leaves none of them.
    public static func coresInBinding(_ cores: [CoreInfo]) -> [CoreInfo] {
        var pus = [Int32](repeating: 0, count: 4096)
        let n = cs_thread_allowed_pus(&pus, Int32(pus.count))
        guard n > 0 else { return cores }
        let allowed = Set(pus[0..<min(Int(n), pus.count)].map { Int($0) })
        let bound = cores.filter { allowed.contains($0.pu) }
        return bound.isEmpty ? cores : bound
    }
}
