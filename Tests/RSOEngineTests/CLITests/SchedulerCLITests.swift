import Foundation
import XCTest
@testable import RSOCLI

/// `--scheduler pool|openmp` on the commands that share ThreadOptions, and `rso bench scaling`.
final class SchedulerCLITests: XCTestCase {
    func testUnknownSchedulerListsAcceptedValues() throws {
        let msg = try XCTUnwrap(errorMessage(["train", "--scheduler", "fast"]))
        for needle in ["--scheduler", "pool", "openmp"] { XCTAssertTrue(msg.contains(needle), msg) }
    }

    /// Pool-only placement flags are rejected with an OpenMP team rather than silently ignored.
    func testPoolPlacementFlagsAreRejectedWithOpenMP() throws {
        let numa = try XCTUnwrap(errorMessage(["eval", "--scheduler", "openmp", "--numa", "off"]))
        XCTAssertTrue(numa.contains("--numa") && numa.contains("OMP_PROC_BIND"), numa)
        let pin = try XCTUnwrap(errorMessage(["bench", "kernels", "--scheduler", "openmp", "--pin", "off"]))
        XCTAssertTrue(pin.contains("--pin") && pin.contains("OMP_PROC_BIND"), pin)
        XCTAssertNil(errorMessage(["eval", "--scheduler", "pool", "--numa", "off"]))
        XCTAssertNil(errorMessage(["bench", "trial", "--scheduler", "openmp", "--threads", "2"]))
    }

    func testInfoShowsTheScheduler() throws {
        for scheduler in ["pool", "openmp"] {
            let r = try runRSO(["info", "--scheduler", scheduler, "--threads", "3"])
            XCTAssertEqual(r.status, 0, r.output)
            XCTAssertTrue(r.output.contains("scheduler:      \(scheduler)"), r.output)
        }
        let omp = try runRSO(["info", "--scheduler", "openmp", "--threads", "3"])
        XCTAssertTrue(omp.output.contains("a team of 3 (from --threads)"), omp.output)
    }

    /// Test evaluation is all whole-dataset passes: both schedulers print the same accuracy and loss.
    func testEvalIsIdenticalOnBothSchedulers() throws {
        var lines: [String] = []
        for scheduler in ["pool", "openmp"] {
            let r = try runRSO(["eval", "--net", "mnist6", "--bn-samples", "300", "--threads", "2", "--scheduler", scheduler])
            XCTAssertEqual(r.status, 0, r.output)
            let line = try XCTUnwrap(r.output.split(separator: "\n").first { $0.hasPrefix("test accuracy") }, r.output)
            lines.append(String(line.split(separator: ",").prefix(2).joined(separator: ",")))  // drop the time
            XCTAssertTrue(r.output.contains(scheduler == "pool" ? "(pool, pinned" : "(OpenMP team"), r.output)
        }
        XCTAssertEqual(lines[0], lines[1])
    }

    /// Both schedulers measured side by side, pool rows first, with the same layers.
    func testScalingMeasuresBothSchedulers() throws {
        let r = try runRSO(["bench", "scaling", "--net", "mnist6", "--batch", "8", "--trials", "1",
                            "--threads", "1", "2", "--json"])
        XCTAssertEqual(r.status, 0, r.output)
        let json = try XCTUnwrap(r.output.split(separator: "\n").last)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(obj["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["scheduler"] as? String }, ["pool", "pool", "openmp", "openmp"])
        XCTAssertEqual(rows.map { $0["threads"] as? Int }, [1, 2, 1, 2])
        XCTAssertTrue(rows.allSatisfy { ($0["layers"] as? [Any])?.count == 7 })
        XCTAssertEqual(obj["trial_eval"] as? String, "incremental")
        XCTAssertNotNil(obj["openmp_placement"])
    }
}
