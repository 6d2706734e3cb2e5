import Foundation
import XCTest

@testable import RSOEngine

/// Issue 13: every bad input to a real `rso train` process (with more than one worker thread) ends
/// in a clear message and the documented exit status, never a crash; a resume checks what it resumes.
final class ProcessErrorTests: XCTestCase {
    private var dir = ""
    private var threads: String { "\(min(2, MachineInfo.maxThreads ?? 1))" }

    override func setUpWithError() throws { dir = try DataFixtures.idxDirectory(train: 300, test: 50) }
    override func tearDown() { DataFixtures.remove(dir) }

    private func train(_ checkpoint: String, _ extra: [String] = [], data: String? = nil) -> [String] {
        ["train", "--net", "mnist6", "--data-dir", data ?? dir, "--batch", "32", "--cycles", "1", "--bn-samples", "64",
         "--checkpoint", checkpoint, "--progress", "lines", "--threads", threads] + extra
    }

    /// Asserts a clean exit with `status` whose output names every fragment (and no crash text).
    private func assertFails(_ args: [String], status: Int32, containing fragments: [String],
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try runRSO(args) { _, _ in }
        XCTAssertEqual(r.reason, .exit, "died of a signal: \(r.output)", file: file, line: line)
        XCTAssertEqual(r.status, status, r.output, file: file, line: line)
        XCTAssertFalse(r.output.contains("Fatal error") || r.output.contains("unowned"), r.output, file: file, line: line)
        for f in fragments { XCTAssertTrue(r.output.contains(f), "missing \"\(f)\" in: \(r.output)", file: file, line: line) }
    }

    /// A checkpoint of a few trials of a real run.
    private func checkpoint(_ name: String = "run.safetensors") throws -> String {
        let path = DataFixtures.path(dir, name)
        let r = try runRSO(train(path, ["--max-trials", "5"]))
        XCTAssertEqual(r.status, 0, r.output)
        return path
    }

    private func rewrite(_ path: String, _ change: (inout SafeTensors) throws -> Void) throws {
        var st = try SafeTensors.read(path: path)
        try change(&st)
        try st.write(atomicallyTo: path)
    }

    private func replace(_ st: inout SafeTensors, _ name: String, _ make: (SafeTensors.Tensor) -> SafeTensors.Tensor) throws {
        let i = try XCTUnwrap(st.tensors.firstIndex { $0.name == name })
        st.tensors[i] = make(st.tensors[i])
    }

    private func setFloats(_ st: inout SafeTensors, _ name: String, _ values: [Float]) throws {
        try replace(&st, name) { t in
            SafeTensors.Tensor(name: t.name, dtype: .f32, shape: t.shape,
                               bytes: values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) })
        }
    }

    // MARK: Errors after the worker pool started (were SIGABRT "unowned reference" crashes)

    func testBatchLargerThanTheTrainingSetIsAnErrorNotACrash() throws {
        try assertFails(train(DataFixtures.path(dir, "c.safetensors"), ["--batch", "301"]), status: 1,
                        containing: ["--batch", "300", "301"])
    }

    func testCheckpointWhoseParentIsAFileFailsBeforeAnyWork() throws {
        let file = DataFixtures.path(dir, "plain-file")
        try DataFixtures.write([1], to: file)
        try assertFails(train(file + "/x.safetensors"), status: 1, containing: [file, "is not a directory"])
    }

    func testUnwritableCheckpointDirectoryFailsBeforeAnyWork() throws {
        // /proc refuses new entries even to root, unlike a chmod'ed directory.
        let r = try runRSO(train("/proc/rso-no-such-dir/x.safetensors")) { _, _ in }
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.output.contains("/proc/rso-no-such-dir") && r.output.contains("cannot create"), r.output)
        XCTAssertFalse(r.output.contains("cycle 1"), "trained before finding out: \(r.output)")
    }

    func testWrongDtypeCheckpointIsRefusedByName() throws {
        let ckpt = try checkpoint()
        try rewrite(ckpt) { st in
            try replace(&st, "fc.weight") { t in
                SafeTensors.Tensor(name: t.name, dtype: .f64, shape: t.shape, bytes: t.bytes + t.bytes)
            }
        }
        try assertFails(train(ckpt, ["--resume", ckpt]), status: 1, containing: [ckpt, "fc.weight"])
    }

    func testTruncatedCheckpointIsRefused() throws {
        let ckpt = try checkpoint()
        let bytes = try CheckpointFixtures.contents(ckpt)
        try DataFixtures.write(Array(bytes.prefix(bytes.count / 2)), to: ckpt)
        try assertFails(train(ckpt, ["--resume", ckpt]), status: 1, containing: [ckpt, "truncated"])
    }

    // MARK: Non-finite values

    func testNonFiniteTensorIsRefusedByName() throws {
        let ckpt = try checkpoint()
        try rewrite(ckpt) { st in
            var w = try st.floats("conv2.weight")
            w[3] = .nan
            try setFloats(&st, "conv2.weight", w)
        }
        try assertFails(train(ckpt, ["--resume", ckpt]), status: 1, containing: ["conv2.weight", "non-finite", "index 3"])
    }

    /// Weights so large the logits overflow: the loss is NaN. The run stops with status 3 before
    /// taking the NaN in, keeps the checkpoint it had, and the metrics' end record says why.
    func testNonFiniteLossStopsKeepsTheCheckpointAndSaysWhy() throws {
        let ckpt = try checkpoint()
        try rewrite(ckpt) { st in
            try setFloats(&st, "fc.weight", try st.floats("fc.weight").map { _ in Float(3e38) })
        }
        let before = try CheckpointFixtures.contents(ckpt)
        let metrics = DataFixtures.path(dir, "m.jsonl")
        try assertFails(train(ckpt, ["--resume", ckpt, "--metrics", metrics]), status: 3,
                        containing: ["non-finite", "nan", ckpt])
        XCTAssertEqual(try CheckpointFixtures.contents(ckpt), before, "the last good checkpoint was replaced")
        let last = try XCTUnwrap(String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n").last)
        let end = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        XCTAssertEqual(end["kind"] as? String, "end")
        XCTAssertEqual(end["reason"] as? String, "non-finite-loss")
        XCTAssertTrue((end["error"] as? String ?? "").contains("nan"), "\(end)")
    }

    // MARK: Resume identity and state ranges

    func testAnotherTrainingSetOfTheSameShapeIsRefused() throws {
        let ckpt = try checkpoint()
        let other = try DataFixtures.idxDirectory(train: 300, test: 50)
        defer { DataFixtures.remove(other) }
        let images = DataFixtures.path(other, "train-images-idx3-ubyte")
        var bytes = try CheckpointFixtures.contents(images)
        bytes[16 + 5000] ^= 0xFF  // one pixel of one image
        try DataFixtures.write(bytes, to: images)
        try assertFails(train(ckpt, ["--resume", ckpt], data: other), status: 1,
                        containing: ["same training set", "content differs", "fingerprint"])
    }

    /// A checkpoint after 5 trials whose state JSON has `field` set to `value`.
    private func checkpoint(withState field: String, _ value: Int) throws -> String {
        let ckpt = try checkpoint()
        try rewrite(ckpt) { st in
            let state = try XCTUnwrap(st.metadata["state"])
            st.metadata["state"] = state.replacingOccurrences(of: "\"\(field)\":5", with: "\"\(field)\":\(value)")
            XCTAssertNotEqual(st.metadata["state"], state)
        }
        return ckpt
    }

    func testOutOfRangePositionIsRefused() throws {
        let ckpt = try checkpoint(withState: "position", 99999999)
        try assertFails(train(ckpt, ["--resume", ckpt]), status: 1, containing: ["position 99999999", "outside"])
    }

    func testInconsistentTrialCountIsRefused() throws {
        let ckpt = try checkpoint(withState: "trials", 7)
        try assertFails(train(ckpt, ["--resume", ckpt]), status: 1, containing: ["trials 7", "expected 5"])
    }

    func testCorruptSamplerPermutationSaysWhatDiffers() throws {
        let ckpt = try checkpoint()
        try rewrite(ckpt) { st in
            var p = try st.int32s("trainer.sampler.permutation")
            p[9] = p[2]
            try replace(&st, "trainer.sampler.permutation") { t in
                SafeTensors.Tensor(name: t.name, dtype: .i32, shape: t.shape, bytes: p.flatMap { v in
                    withUnsafeBytes(of: v.littleEndian, Array.init) })
            }
        }
        try assertFails(train(ckpt, ["--resume", ckpt]), status: 1,
                        containing: ["trainer.sampler.permutation", "appears twice", "entries 2 and 9"])
    }

    func testCheckpointOfTheOldFormatIsRefusedWithTheReason() throws {
        let ckpt = try checkpoint()
        try rewrite(ckpt) { st in st.metadata["format"] = "rso-checkpoint-1" }
        try assertFails(train(ckpt, ["--resume", ckpt]), status: 1, containing: ["rso-checkpoint-1", "start the run again"])
    }

    // MARK: Smaller

    func testBNSamplesBeyondTheTrainingSetAreRefused() throws {
        try assertFails(train(DataFixtures.path(dir, "c.safetensors"), ["--bn-samples", "301"]), status: 1,
                        containing: ["--bn-samples", "300", "301"])
    }

    /// More workers than hardware threads made no progress (`--threads 1000` on 2 cores); refused
    /// before any data is read. (`rso info` may still describe such a plan.)
    func testThreadsBeyondHardwareThreadsAreRefused() throws {
        let most = try XCTUnwrap(MachineInfo.maxThreads)
        var args = train(DataFixtures.path(dir, "c.safetensors"))
        args[args.count - 1] = "\(most + 1)"
        try assertFails(args, status: 64, containing: ["--threads \(most + 1)", "at most \(most)"])
    }

    func testNonFiniteFlagIsAUsageError() throws {
        try assertFails(train(DataFixtures.path(dir, "c.safetensors"), ["--sigma-scale", "inf"]), status: 64,
                        containing: ["--sigma-scale", "inf"])
    }

    /// The printed resume command runs as printed in a POSIX shell, for a path with a space and a quote.
    func testPrintedResumeCommandIsShellSafe() throws {
        let sub = DataFixtures.path(dir, "my run's")
        let ckpt = DataFixtures.path(sub, "a b.safetensors")
        let first = try runRSO(train(ckpt, ["--max-trials", "3"]))
        XCTAssertEqual(first.status, 0, first.output)
        let line = try XCTUnwrap(first.output.split(separator: "\n").first { $0.hasPrefix("resume with: rso train ") })
        let arguments = line.dropFirst("resume with: rso".count)
        let command = "'\(rsoExecutable.path)'" + arguments + " --max-trials 2"
        let (status, text) = try runCommand(["sh", "-c", command])
        XCTAssertEqual(status, 0, "\(command)\n\(text)")
        XCTAssertTrue(text.contains("resumed from \(ckpt) at cycle 1, trial 3"), text)
    }
}
