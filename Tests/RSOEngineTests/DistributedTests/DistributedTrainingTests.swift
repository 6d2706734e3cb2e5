import Foundation
import XCTest

/// `mpirun -n R rso train` ends with the same weights, random states and counters as one process,
/// for any ranks × threads, and a run moves between rank counts through its checkpoint. Runs are a
/// few hundred trials on a few hundred real images (a few seconds each).
final class DistributedTrainingTests: XCTestCase {
    private var dir = ""

    override func tearDown() {
        if !dir.isEmpty { DataFixtures.remove(dir) }
    }

    private func mnist() throws -> String {
        dir = try DistributedFixtures.mnistSubset(train: 600, test: 100)
        return dir
    }

    private func args(_ net: String, _ data: String, trials: Int, checkpoint: String, _ extra: [String] = []) -> [String] {
        ["train", "--net", net, "--data-dir", data, "--batch", "100", "--bn-samples", "128", "--cycles", "2",
         "--max-trials", String(trials), "--progress", "lines", "--checkpoint", checkpoint] + extra
    }

    /// One process, then each (ranks, threads): every checkpoint holds the one-process state.
    /// `multiRankOutput`: a line every several-rank run prints (which distributed path ran).
    private func assertSameAsOneProcess(_ net: String, _ data: String, trials: Int, _ extra: [String],
                                        layouts: [(ranks: Int, threads: Int)], multiRankOutput: String? = nil,
                                        file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = DataFixtures.path(data, "one.safetensors")
        let one = try runRSO(args(net, data, trials: trials, checkpoint: reference, extra + ["--threads", "1"]))
        XCTAssertEqual(one.status, 0, one.output, file: file, line: line)
        let expected = try DistributedFixtures.trainedState(reference)
        for (ranks, threads) in layouts {
            let path = DataFixtures.path(data, "ranks\(ranks)x\(threads).safetensors")
            let r = try runRSOUnderMPI(ranks: ranks, args(net, data, trials: trials, checkpoint: path,
                                                          extra + ["--threads", String(threads)]))
            XCTAssertEqual(r.status, 0, r.output, file: file, line: line)
            XCTAssertTrue(r.output.contains("\(ranks) MPI ranks") == (ranks > 1), r.output, file: file, line: line)
            // Several ranks split the chunks and gather their partials (not each running everything).
            XCTAssertTrue(r.output.contains("chunk-sum gathers") == (ranks > 1), r.output, file: file, line: line)
            if let multiRankOutput {
                XCTAssertTrue(r.output.contains(multiRankOutput) == (ranks > 1), r.output, file: file, line: line)
            }
            // Rank 0 alone prints.
            XCTAssertEqual(r.output.components(separatedBy: "checkpoint written to").count, 2, r.output,
                           file: file, line: line)
            let got = try DistributedFixtures.trainedState(path)
            XCTAssertEqual(got.metadata, expected.metadata, "\(ranks) ranks × \(threads) threads", file: file, line: line)
            XCTAssertTrue(got.tensors == expected.tensors, "\(ranks) ranks × \(threads) threads: tensors differ",
                          file: file, line: line)
        }
    }

    func testMNISTIncrementalMatchesOneProcess() throws {
        try assertSameAsOneProcess("mnist6", try mnist(), trials: 300, ["--trial-eval", "incremental"],
                                   layouts: [(1, 1), (2, 1), (3, 1), (2, 2)])
    }

    func testMNISTFullTrialsMatchOneProcess() throws {
        try assertSameAsOneProcess("mnist6", try mnist(), trials: 200, ["--trial-eval", "full"],
                                   layouts: [(2, 1), (3, 1)])
    }

    /// Batch reuse (W's activations kept across trials, each rank keeping its own chunks')
    /// distributed like sequential trials.
    func testBatchReuseMatchesOneProcess() throws {
        try assertSameAsOneProcess("mnist6", try mnist(), trials: 240, ["--batch-reuse", "4"], layouts: [(3, 1)])
    }

    /// The parallel update schemes with rank-owned trials: 240 trials cover the FC layer's weight
    /// and bias groups and part of conv6's first neuron (cached input), in rounds that end at every
    /// merge; 1, 2 and 3 ranks end with the one-process bytes.
    func testRankOwnedParallelUpdatesMatchOneProcess() throws {
        let data = try mnist()
        for scheme in ["neuron-parallel", "layer-parallel"] {
            try assertSameAsOneProcess("mnist6", data, trials: 240, ["--update", scheme], layouts: [(1, 1), (2, 1), (3, 1)],
                                       multiRankOutput: "rounds of rank-owned trials")
        }
        try assertSameAsOneProcess("mnist6", data, trials: 120, ["--update", "neuron-parallel", "--order", "input-major",
                                                                 "--trial-eval", "full"],
                                   layouts: [(2, 2)], multiRankOutput: "rounds of rank-owned trials")
    }

    /// A layer-parallel run stopped inside the FC layer's weight group (its pending changes in the
    /// checkpoint) moves from 2 ranks to 3 to one process and ends with the uninterrupted bytes.
    func testRankOwnedTrialsResumeAcrossRankCounts() throws {
        let data = try mnist()
        let extra = ["--threads", "1", "--update", "layer-parallel"]
        let reference = DataFixtures.path(data, "one.safetensors")
        XCTAssertEqual(try runRSO(args("mnist6", data, trials: 260, checkpoint: reference, extra)).status, 0)
        let path = DataFixtures.path(data, "moved.safetensors")
        let first = try runRSOUnderMPI(ranks: 2, args("mnist6", data, trials: 70, checkpoint: path, extra))
        XCTAssertEqual(first.status, 0, first.output)
        let second = try runRSOUnderMPI(ranks: 3, args("mnist6", data, trials: 90, checkpoint: path,
                                                       extra + ["--resume", path]))
        XCTAssertEqual(second.status, 0, second.output)
        let third = try runRSO(args("mnist6", data, trials: 100, checkpoint: path, extra + ["--resume", path]))
        XCTAssertEqual(third.status, 0, third.output)
        let (got, expected) = (try DistributedFixtures.trainedState(path), try DistributedFixtures.trainedState(reference))
        // The same state (pending changes of the unfinished group included); each stop evaluated once more.
        func withoutEvaluations(_ metadata: String) -> String {
            metadata.replacingOccurrences(of: #""evaluations":"\[[^\]]*\]","#, with: "", options: .regularExpression)
        }
        XCTAssertTrue(got.metadata.contains(#"\"pending\":[{"#), got.metadata)
        XCTAssertEqual(withoutEvaluations(got.metadata), withoutEvaluations(expected.metadata))
        XCTAssertTrue(got.tensors == expected.tensors, "a rank-owned run moved across rank counts ends with different tensors")
    }

    /// cifar-depth10 (residual blocks: the cache inside a block holds two tensors): 400 trials cover
    /// the FC layer and the start of the last block's second conv, on 600 images of a CIFAR-format
    /// data set written by the test (CI has no CIFAR-10; see `DistributedFixtures.syntheticCIFAR`).
    func testCIFARDepth10MatchesOneProcess() throws {
        dir = try DistributedFixtures.syntheticCIFAR()
        let subset = ["--train-samples", "600", "--test-samples", "100"]
        try assertSameAsOneProcess("cifar-depth10", dir, trials: 400, subset + ["--trial-eval", "incremental"],
                                   layouts: [(1, 1), (2, 1), (3, 1), (2, 2)])
        try assertSameAsOneProcess("cifar-depth10", dir, trials: 400, subset + ["--trial-eval", "full"], layouts: [(3, 1)])
    }

    /// Trials over TCP between the ranks (the multi-node transport) instead of shared memory.
    func testTrainingOverTCPMatchesOneProcess() throws {
        let data = try mnist()
        let reference = DataFixtures.path(data, "one.safetensors")
        XCTAssertEqual(try runRSO(args("mnist6", data, trials: 200, checkpoint: reference, ["--threads", "1"])).status, 0)
        let path = DataFixtures.path(data, "tcp.safetensors")
        let r = try runRSOUnderMPI(ranks: 2, args("mnist6", data, trials: 200, checkpoint: path, ["--threads", "1"]),
                                   mca: ["--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo"])
        XCTAssertEqual(r.status, 0, r.output)
        let (got, expected) = (try DistributedFixtures.trainedState(path), try DistributedFixtures.trainedState(reference))
        XCTAssertEqual(got.metadata, expected.metadata)
        XCTAssertTrue(got.tensors == expected.tensors, "tensors differ over TCP")
    }

    /// 2 ranks for 150 trials, then 3 ranks for 150, then one process for 100: the tensors of one
    /// uninterrupted 400-trial process.
    func testResumeAcrossRankCounts() throws {
        let data = try mnist()
        let reference = DataFixtures.path(data, "one.safetensors")
        XCTAssertEqual(try runRSO(args("mnist6", data, trials: 400, checkpoint: reference, ["--threads", "1"])).status, 0)
        let path = DataFixtures.path(data, "moved.safetensors")
        let first = try runRSOUnderMPI(ranks: 2, args("mnist6", data, trials: 150, checkpoint: path, ["--threads", "1"]))
        XCTAssertEqual(first.status, 0, first.output)
        let second = try runRSOUnderMPI(ranks: 3, args("mnist6", data, trials: 150, checkpoint: path,
                                                       ["--threads", "1", "--resume", path]))
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("resumed from"), second.output)
        let third = try runRSO(args("mnist6", data, trials: 100, checkpoint: path, ["--threads", "1", "--resume", path]))
        XCTAssertEqual(third.status, 0, third.output)
        XCTAssertTrue(try DistributedFixtures.trainedState(path).tensors == DistributedFixtures.trainedState(reference).tensors,
                      "a run moved across rank counts ends with different tensors")
    }
}

/// Signals under mpirun: Ctrl-C (mpirun forwards SIGTERM to every rank) stops all ranks at the
/// same trial with one checkpoint, and the run resumes to the one-process result.
final class DistributedSignalTests: XCTestCase {
    func testInterruptUnderMPIStopsEveryRankAtOneTrialAndResumes() throws {
        let data = try DistributedFixtures.mnistSubset(train: 600, test: 100)
        defer { DataFixtures.remove(data) }
        func args(_ checkpoint: String, _ extra: [String]) -> [String] {
            ["train", "--net", "mnist6", "--data-dir", data, "--batch", "100", "--bn-samples", "128", "--cycles", "1",
             "--threads", "1", "--progress", "lines", "--checkpoint", checkpoint] + extra
        }
        let path = DataFixtures.path(data, "run.safetensors")
        var signalled = false
        // SIGINT once training is under way: on its first progress line (an event, not a delay).
        let first = try runRSOUnderMPI(ranks: 2, args(path, [])) { line, process in
            if !signalled, line.hasPrefix("cycle 1/1 ") { process.interrupt(); signalled = true }
        }
        XCTAssertTrue(signalled, first.output)
        // mpirun itself reports a job it was asked to stop with status 1; each rank exits 0 (mpirun
        // would name a rank that exited non-zero or was killed).
        XCTAssertEqual(first.output.components(separatedBy: "interrupted by signal 15").count, 2, first.output)
        for failure in ["non-zero status", "exited on signal", "Killed"] {
            XCTAssertFalse(first.output.contains(failure), first.output)
        }
        let stopped = try DistributedFixtures.trainedState(path)
        let trials = try XCTUnwrap(stopped.metadata.range(of: #"\\"trials\\":[0-9]+"#, options: .regularExpression)
            .map { String(stopped.metadata[$0].split(separator: ":")[1]) }.flatMap { Int($0) }, stopped.metadata)
        XCTAssertGreaterThan(trials, 0)

        // The same number of trials in one process: the same state.
        let reference = DataFixtures.path(data, "one.safetensors")
        XCTAssertEqual(try runRSO(args(reference, ["--max-trials", String(trials)])).status, 0)
        XCTAssertTrue(try DistributedFixtures.trainedState(reference).tensors == stopped.tensors,
                      "the interrupted job's checkpoint is not the one-process state after \(trials) trials")
        let resumed = try runRSOUnderMPI(ranks: 2, args(path, ["--resume", path, "--max-trials", "50"]))
        XCTAssertEqual(resumed.status, 0, resumed.output)
    }

    /// A rank killed mid-run (SIGKILL: no chance to clean up) ends the whole job with an error
    /// naming the rank, within the helper's time limit: never a hang.
    func testKilledRankEndsTheJob() throws {
        let data = try DistributedFixtures.mnistSubset(train: 600, test: 100)
        defer { DataFixtures.remove(data) }
        let path = DataFixtures.path(data, "run.safetensors")
        var killed: Int32 = 0
        let r = try runRSOUnderMPI(ranks: 2, ["train", "--net", "mnist6", "--data-dir", data, "--batch", "100",
                                              "--bn-samples", "128", "--cycles", "1", "--threads", "1",
                                              "--progress", "lines", "--checkpoint", path], limit: 60) { line, process in
            guard killed == 0, line.hasPrefix("cycle 1/1 ") else { return }
            // The ranks are mpirun's children; kill the last one started.
            if let pid = childProcesses(of: process.processIdentifier).max() {
                kill(pid, SIGKILL)
                killed = pid
            }
        }
        XCTAssertNotEqual(killed, 0, r.output)
        XCTAssertNotEqual(r.status, 0, r.output)
        XCTAssertNotEqual(r.reason, .uncaughtSignal, "mpirun had to be killed: the job hung\n\(r.output)")
        XCTAssertTrue(r.output.contains("signal 9"), r.output)
        // Whatever was written is a whole checkpoint (written atomically) or nothing.
        if FileManager.default.fileExists(atPath: path) {
            XCTAssertNoThrow(try DistributedFixtures.trainedState(path))
        }
    }
}

/// Processes whose parent is `parent` (from /proc/N/stat: "pid (name) state ppid …").
private func childProcesses(of parent: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 && Int32(fields[1]) == parent
    }
}
