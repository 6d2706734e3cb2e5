import Foundation
import XCTest

@testable import RSOEngine

/// Issue 13 item 6: a second SIGINT exits at once, even when the process cannot reach a safe point,
/// and the last complete checkpoint stays loadable.
final class SignalProcessTests: XCTestCase {
    /// The process is held where it cannot reach a safe point: opening its metrics file, a FIFO that
    /// nobody reads, blocks (interrupted calls resume). The first SIGINT is acknowledged and only
    /// requests a stop; the second ends the process with 128 + 2 at once.
    func testSecondSignalExitsAtOnceKeepingTheCheckpoint() throws {
        let dir = try DataFixtures.idxDirectory(train: 300, test: 50)
        defer { DataFixtures.remove(dir) }
        let ckpt = DataFixtures.path(dir, "run.safetensors")
        let common = ["train", "--net", "mnist6", "--data-dir", dir, "--batch", "32", "--cycles", "1",
                      "--bn-samples", "64", "--checkpoint", ckpt, "--progress", "lines"]
        XCTAssertEqual(try runRSO(common + ["--max-trials", "4"]).status, 0)
        let saved = try CheckpointFixtures.contents(ckpt)
        let fifo = DataFixtures.path(dir, "metrics.fifo")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)

        let p = Process()
        p.executableURL = rsoExecutable
        p.arguments = common + ["--resume", ckpt, "--metrics", fifo]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Wait for the event "SIGINT handler installed" (caught-signal mask in /proc), not a delay.
        while p.isRunning && !catchesSIGINT(p.processIdentifier) { sched_yield() }
        p.interrupt()
        var text = ""
        while !text.contains("stop requested") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        XCTAssertTrue(text.contains("stop requested"), text)
        XCTAssertTrue(p.isRunning, "exited on the first signal while blocked")
        p.interrupt()
        text += String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit, text)
        XCTAssertEqual(p.terminationStatus, 128 + SIGINT, text)
        XCTAssertTrue(text.contains("second stop signal"), text)
        XCTAssertEqual(try CheckpointFixtures.contents(ckpt), saved)
        XCTAssertNoThrow(try Trainer.checkpointFormat == SafeTensors.read(path: ckpt).metadata["format"])
    }

    private func catchesSIGINT(_ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
              let mask = UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & (1 << UInt64(SIGINT - 1)) != 0
    }
}
