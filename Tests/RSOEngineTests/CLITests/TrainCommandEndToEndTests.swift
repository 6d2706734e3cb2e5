import Foundation
import XCTest

/// Runs the real `rso` binary on a small IDX data set: SIGINT finishes the step in flight, writes
/// a checkpoint and exits 0 with resume instructions; --resume then continues to the end.
final class TrainCommandEndToEndTests: XCTestCase {
    func testInterruptCheckpointsAndResumeFinishes() throws {
        let dir = try DataFixtures.idxDirectory(train: 300, test: 50)
        defer { DataFixtures.remove(dir) }
        let ckpt = DataFixtures.path(dir, "run.safetensors")
        let metrics = DataFixtures.path(dir, "metrics.jsonl")
        let common = ["train", "--net", "mnist6", "--data-dir", dir, "--batch", "32", "--cycles", "1",
                      "--bn-samples", "64", "--checkpoint", ckpt, "--metrics", metrics, "--progress", "lines"]
        // SIGINT once training is under way: on its first progress line (an event, not a delay).
        var signalled = false
        let first = try runRSO(common) { line, process in
            if !signalled, line.hasPrefix("cycle 1/1 ") { process.interrupt(); signalled = true }
        }
        XCTAssertTrue(signalled, first.output)
        XCTAssertEqual(first.reason, .exit, first.output)
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("final test evaluation skipped"), first.output)
        XCTAssertFalse(first.output.contains("final test accuracy"), first.output)
        XCTAssertTrue(first.output.contains("interrupted by signal"), first.output)
        XCTAssertTrue(first.output.contains("--resume \(ckpt)"), first.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: ckpt))

        let second = try runRSO(common + ["--resume", ckpt, "--max-trials", "50"])
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("resumed from"), second.output)
        XCTAssertTrue(second.output.contains("final test accuracy"), second.output)

        // Metrics: JSON lines with a kind; eval records carry cycle, test_accuracy, test_loss.
        let lines = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertTrue(records.allSatisfy { $0["kind"] is String })
        let evals = records.filter { $0["kind"] as? String == "eval" }
        XCTAssertFalse(evals.isEmpty)
        for e in evals {
            XCTAssertNotNil(e["cycle"] as? Int)
            let acc = try XCTUnwrap(e["test_accuracy"] as? Double)
            XCTAssertTrue((0...1).contains(acc))
            XCTAssertNotNil(e["test_loss"] as? Double)
        }
        XCTAssertEqual(records.filter { $0["kind"] as? String == "start" }.count, 2)
    }

    /// --train-samples / --test-samples keep the first images of a split; a count outside the
    /// split names the flag and the split's size.
    func testSampleSubsetsAreCheckedAgainstTheSplit() throws {
        let dir = try DataFixtures.idxDirectory(train: 300, test: 50)
        defer { DataFixtures.remove(dir) }
        let common = ["train", "--net", "mnist6", "--data-dir", dir, "--batch", "32", "--bn-samples", "64",
                      "--max-trials", "3", "--checkpoint", DataFixtures.path(dir, "run.safetensors")]
        let tooMany = try runRSO(common + ["--train-samples", "301"])
        XCTAssertNotEqual(tooMany.status, 0)
        XCTAssertTrue(tooMany.output.contains("--train-samples must be between 1 and the 300 training images"), tooMany.output)
        let none = try runRSO(common + ["--test-samples", "0"])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.output.contains("--test-samples must be between 1 and the 50 test images"), none.output)
        let subset = try runRSO(common + ["--train-samples", "100", "--test-samples", "20"])
        XCTAssertEqual(subset.status, 0, subset.output)
        XCTAssertTrue(subset.output.contains("train 100, test 20"), subset.output)
    }

    func testMissingDataNamesTheFileAndWhereToGetIt() throws {
        let dir = try DataFixtures.makeTempDirectory("empty")
        defer { DataFixtures.remove(dir) }
        let r = try runRSO(["eval", "--net", "mnist6", "--data-dir", dir])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("train-images-idx3-ubyte"), r.output)
    }
}

/// `rso bench trial --json` prints one object with the fields tools read.
final class BenchTrialEndToEndTests: XCTestCase {
    func testJSONHasRequiredFields() throws {
        let r = try runRSO(["bench", "trial", "--net", "mnist6", "--batch", "8", "--trials", "1", "--cache", "both",
                            "--threads", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.output)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any], r.output)
        XCTAssertEqual(obj["net"] as? String, "mnist6")
        XCTAssertEqual(obj["batch"] as? Int, 8)
        XCTAssertEqual(obj["threads"] as? Int, 1)
        XCTAssertGreaterThan(try XCTUnwrap(obj["projected_cycle_seconds"] as? Double), 0)
        XCTAssertGreaterThan(try XCTUnwrap(obj["gflops_paper"] as? Double), 0)
        let layers = try XCTUnwrap(obj["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.map { $0["name"] as? String }, ["fc", "conv6", "conv5", "conv4", "conv3", "conv2", "conv1"])
        XCTAssertEqual(layers.first?["weights"] as? Int, 160)
        XCTAssertTrue(layers.allSatisfy { ($0["trials_per_second"] as? Double ?? 0) > 0 })
        XCTAssertNotNil(obj["without_cache"] as? [String: Any])
    }
}
