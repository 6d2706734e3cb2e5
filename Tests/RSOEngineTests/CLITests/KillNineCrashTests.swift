import Foundation
import XCTest

@testable import RSOEngine

/// Issue 13 crash test: a real training process is killed with SIGKILL at several moments after
/// its first checkpoint (awaited through the metrics file's checkpoint records, not by sleeping).
/// Each time the checkpoint on disk loads, and resuming it to the same trial count ends with the
/// uninterrupted run's bytes: every tensor (weights, BN, random streams, sampler) and the final
/// evaluation.
final class KillNineCrashTests: XCTestCase {
    private let totalTrials = 400

    func testKilledRunsResumeToTheUninterruptedBytes() throws {
        let dir = try DataFixtures.idxDirectory(train: 300, test: 50)
        defer { DataFixtures.remove(dir) }
        func args(_ ckpt: String, _ extra: [String]) -> [String] {
            // A checkpoint after nearly every trial, so the kills land between and during writes.
            ["train", "--net", "mnist6", "--data-dir", dir, "--batch", "16", "--cycles", "1", "--bn-samples", "64",
             "--checkpoint", ckpt, "--checkpoint-every", "0.00001", "--progress", "lines"] + extra
        }
        let reference = DataFixtures.path(dir, "reference.safetensors")
        let whole = try runRSO(args(reference, ["--max-trials", "\(totalTrials)"]))
        XCTAssertEqual(whole.status, 0, whole.output)
        let expected = try SafeTensors.read(path: reference)

        var kills = 0
        for killAfterCheckpoints in [1, 4, 9] {
            let ckpt = DataFixtures.path(dir, "killed-\(killAfterCheckpoints).safetensors")
            let metrics = DataFixtures.path(dir, "killed-\(killAfterCheckpoints).jsonl")
            let p = Process()
            p.executableURL = rsoExecutable
            p.arguments = args(ckpt, ["--max-trials", "\(totalTrials)", "--metrics", metrics])
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            // Waits for the event (the n-th checkpoint line in the metrics file), polling every ms.
            while p.isRunning && checkpointRecords(metrics) < killAfterCheckpoints { usleep(1000) }
            XCTAssertTrue(p.isRunning, "finished before the kill; raise totalTrials")
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .uncaughtSignal)
            kills += 1

            let onDisk = try SafeTensors.read(path: ckpt)
            let state = try JSONDecoder().decode(TrainerState.self, from: Data(try XCTUnwrap(onDisk.metadata["state"]).utf8))
            XCTAssertGreaterThan(state.trials, 0)
            XCTAssertLessThan(state.trials, totalTrials)
            let resumed = try runRSO(args(ckpt, ["--resume", ckpt, "--max-trials", "\(totalTrials - state.trials)"]))
            XCTAssertEqual(resumed.status, 0, resumed.output)
            let final = try SafeTensors.read(path: ckpt)
            XCTAssertEqual(final.tensors, expected.tensors, "kill after \(killAfterCheckpoints) checkpoints")
            XCTAssertEqual(try lastEvaluation(final), try lastEvaluation(expected))
        }
        XCTAssertEqual(kills, 3)
    }

    private func checkpointRecords(_ metrics: String) -> Int {
        guard let text = try? String(contentsOfFile: metrics, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { $0.contains("\"kind\":\"checkpoint\"") }.count
    }

    private func lastEvaluation(_ st: SafeTensors) throws -> [Double] {
        let records = try JSONDecoder().decode([EvaluationRecord].self, from: Data(try XCTUnwrap(st.metadata["evaluations"]).utf8))
        let last = try XCTUnwrap(records.last)
        return [Double(last.cycle), last.testAccuracy, last.testLoss]
    }
}
