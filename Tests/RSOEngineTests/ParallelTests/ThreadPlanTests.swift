import XCTest
@testable import RSOEngine

/// Worker plans computed from hwloc synthetic topologies (machines we do not have).
final class ThreadPlanTests: XCTestCase {
    func testTwoSocketsFourNodesOneWorkerPerCore() throws {
        let cores = try MachineInfo.cores(synthetic: "pack:2 numa:2 core:16 pu:2")
        XCTAssertEqual(cores.count, 64)
        let plan = ThreadPlan.make(cores: cores)
        XCTAssertEqual(plan.workers.count, 64)
        XCTAssertEqual(plan.nodes, [0, 1, 2, 3])
        XCTAssertEqual(plan.replicas, 4)
        // Workers grouped by node, 16 per node, each on a distinct core, bound to its first PU.
        for (w, worker) in plan.workers.enumerated() { XCTAssertEqual(worker.node, w / 16) }
        XCTAssertEqual(Set(plan.workers.map(\.core)).count, 64)
        XCTAssertEqual(plan.workers[1].pu, 2)  // pu:2 ⇒ the second core's first PU has OS index 2
        XCTAssertEqual(plan.replica(ofWorker: 40), 2)
    }

    func testFewerWorkersSpreadEvenlyOverNodes() throws {
        let cores = try MachineInfo.cores(synthetic: "pack:2 numa:2 core:8 pu:1")
        let plan = ThreadPlan.make(cores: cores, threads: 6)
        XCTAssertEqual(plan.workers.map(\.node), [0, 0, 1, 1, 2, 3])
        XCTAssertEqual(plan.workers.map(\.core), [0, 1, 8, 9, 16, 24])
    }

    func testNUMAOffIsOneGroupInCoreOrder() throws {
        let cores = try MachineInfo.cores(synthetic: "pack:2 numa:2 core:8 pu:1")
        let plan = ThreadPlan.make(cores: cores, threads: 5, numa: false)
        XCTAssertEqual(plan.workers.map(\.core), [0, 1, 2, 3, 4])
        XCTAssertEqual(plan.replicas, 1)
        XCTAssertTrue(plan.workers.allSatisfy { $0.node == 0 })
    }

    func testSingleNodeMachine() throws {
        let plan = ThreadPlan.make(cores: try MachineInfo.cores(synthetic: "core:4 pu:2"))
        XCTAssertEqual(plan.workers.count, 4)
        XCTAssertEqual(plan.replicas, 1)
        XCTAssertEqual(plan.workers.map(\.pu), [0, 2, 4, 6])
    }

    func testThisMachine() throws {
        let cores = try MachineInfo.cores()
        XCTAssertGreaterThanOrEqual(cores.count, 1)
        XCTAssertEqual(ThreadPlan.make(cores: cores).workers.count, cores.count)
    }

    func testBadSyntheticTopology() {
        XCTAssertThrowsError(try MachineInfo.cores(synthetic: "bogus:3")) {
            XCTAssertTrue("\($0)".contains("bogus:3"))
        }
    }
}
