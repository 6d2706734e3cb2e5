import RSOEngine
import XCTest

/// The MPI layer: a plain process never touches MPI; under mpirun every rank joins one job.
final class MPILaunchTests: XCTestCase {
    func testLauncherDetection() {
        XCTAssertFalse(ProcessGroups.launchedByMPI(environment: ["HOME": "/root"]))
        XCTAssertTrue(ProcessGroups.launchedByMPI(environment: ["OMPI_COMM_WORLD_SIZE": "2"]))
        XCTAssertTrue(ProcessGroups.launchedByMPI(environment: ["PMIX_RANK": "0"]))
    }

    func testLocalProcessCollectivesAreTheIdentity() throws {
        let local = LocalProcess()
        XCTAssertEqual(try local.allgather([1.5, -2]), [1.5, -2])
        XCTAssertTrue(try local.anyRank(true))
        XCTAssertFalse(try local.anyRank(false))
        XCTAssertEqual(try local.nodeCount(), 1)
    }

    func testPlainInfoRunsWithoutMPI() throws {
        let r = try runRSO(["info"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("processes:      1 rank on 1 node (no MPI launcher)"), r.output)
    }

    func testInfoUnderMPIReportsRanksOnce() throws {
        for ranks in [2, 3] {
            let r = try runRSOUnderMPI(ranks: ranks, ["info", "--threads", "1"])
            XCTAssertEqual(r.status, 0, r.output)
            XCTAssertTrue(r.output.contains("processes:      \(ranks) ranks on 1 node (this is rank 0; MPI)"), r.output)
            XCTAssertTrue(r.output.contains("run plan:       \(ranks) ranks × 1 threads"), r.output)
            // Only rank 0 prints.
            XCTAssertEqual(r.output.components(separatedBy: "processes:").count, 2, r.output)
        }
    }

    /// The cache every rank holds whole: mnist6's largest is conv2's input, 60,000 × 16×28×28
    /// floats = 3,010,560,000 bytes; fewer training images shrink it in proportion.
    func testInfoShowsTheCacheEveryRankHolds() throws {
        let r = try runRSOUnderMPI(ranks: 2, ["info", "--threads", "1", "--net", "mnist6"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("cache per rank: up to 3.01 GB for mnist6 (conv2's input over 60,000 images"), r.output)
        let small = try runRSO(["info", "--net", "mnist6", "--train-samples", "1000"])
        XCTAssertTrue(small.output.contains("up to 50.2 MB for mnist6 (conv2's input over 1,000 images"), small.output)
    }

    /// The multi-node path: TCP between ranks over loopback instead of shared memory.
    func testInfoOverTCPTransport() throws {
        let r = try runRSOUnderMPI(ranks: 2, ["info", "--threads", "1"],
                                   mca: ["--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("2 ranks on 1 node"), r.output)
    }
}
