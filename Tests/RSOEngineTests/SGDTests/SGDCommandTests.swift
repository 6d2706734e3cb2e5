import ArgumentParser
import Foundation
@testable import RSOCLI
import XCTest

/// `rso sgd`: every flag documented, bad values named, and a short real run end to end
/// (metrics, checkpoint, interchangeable with `rso eval --weights`).
final class SGDCommandTests: XCTestCase {
    func testHelpDocumentsEveryFlag() {
        let help = RSOCommand.helpMessage(for: SGDCommand.self)
        for flag in ["--net", "--data-dir", "--threads", "--numa", "--seed", "--batch", "--epochs", "--steps", "--lr",
                     "--momentum", "--nesterov", "--weight-decay", "--warmup-epochs", "--decay", "--bn-samples",
                     "--eval-every", "--metrics", "--checkpoint", "--checkpoint-every", "--max-steps", "--resume",
                     "--progress", "--scheduler"] {
            XCTAssertTrue(help.contains(flag), "rso sgd --help does not document \(flag)")
        }
    }

    func testBadValuesNameTheFlag() {
        let cases: [([String], String)] = [
            (["sgd", "--epochs", "2", "--steps", "5"], "--epochs or --steps"),
            (["sgd", "--nesterov"], "--nesterov"),
            (["sgd", "--momentum", "1.5"], "--momentum"),
            (["sgd", "--lr", "0"], "--lr"),
            (["sgd", "--batch", "0"], "--batch"),
            (["sgd", "--warmup-epochs", "-1"], "--warmup-epochs"),
            (["sgd", "--decay", "linear"], "--decay"),
        ]
        for (args, flag) in cases {
            let message = errorMessage(args)
            XCTAssertNotNil(message, "\(args) should be rejected")
            XCTAssertTrue(message?.contains(flag) ?? false, "\(args): \(message ?? "")")
        }
    }

    /// Fashion-MNIST (always installed by tools/setup): 3 iterations of batch 64, then
    /// `rso eval --weights` on the SGD checkpoint reports the same accuracy as the run's last eval.
    func testShortRunWritesMetricsAndAnEvaluableCheckpoint() throws {
        let data = "/usr/share/datasets/fashion-mnist"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: data), "Fashion-MNIST not installed")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sgd-cli-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ckpt = "\(dir)/run.safetensors", metrics = "\(dir)/m.jsonl"
        let run = try runRSO(["sgd", "--data-dir", data, "--batch", "64", "--steps", "3", "--lr", "0.05", "--threads", "2",
                              "--bn-samples", "256", "--checkpoint", ckpt, "--metrics", metrics, "--progress", "lines"])
        XCTAssertEqual(run.status, 0, run.output)
        let lines = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let evals = records.filter { $0["kind"] as? String == "eval" }
        XCTAssertEqual(evals.compactMap { $0["updates"] as? Int }, [0, 3])
        XCTAssertEqual(records.filter { $0["kind"] as? String == "iteration" }.count, 3)
        let last = try XCTUnwrap(evals.last?["test_accuracy"] as? Double)
        let eval = try runRSO(["eval", "--data-dir", data, "--weights", ckpt, "--bn-samples", "256", "--threads", "2"])
        XCTAssertEqual(eval.status, 0, eval.output)
        XCTAssertTrue(eval.output.contains(String(format: "test accuracy %.2f%%", 100 * last)), eval.output)
    }
}
