import Foundation
import XCTest

/// Runs the real `rso` binary built next to the test runner.
var rsoExecutable: URL {
    // The test runner executable sits in the build products directory next to rso.
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("rso")
}

struct RSORun {
    var status: Int32
    /// .uncaughtSignal when the process died of a signal (a crash, or a kill).
    var reason: Process.TerminationReason
    var output: String
}

/// Runs rso to the end; stdout and stderr together.
func runRSO(_ args: [String]) throws -> (status: Int32, output: String) {
    let r = try runRSO(args) { _, _ in }
    return (r.status, r.output)
}

/// Runs rso, handing each line of its output to `onLine` as it arrives, with the process (to
/// signal it on an event rather than after a delay).
func runRSO(_ args: [String], onLine: (String, Process) -> Void) throws -> RSORun {
    guard FileManager.default.isExecutableFile(atPath: rsoExecutable.path) else {
        XCTFail("rso executable not built next to the tests (\(rsoExecutable.path))")
        return RSORun(status: -1, reason: .exit, output: "")
    }
    let p = Process()
    p.executableURL = rsoExecutable
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    var all = Data()
    var pending = Data()
    while true {
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { break }  // EOF
        all.append(chunk)
        pending.append(chunk)
        while let nl = pending.firstIndex(of: 0x0A) {
            onLine(String(decoding: pending[pending.startIndex..<nl], as: UTF8.self), p)
            pending.removeSubrange(pending.startIndex...nl)
        }
    }
    p.waitUntilExit()
    return RSORun(status: p.terminationStatus, reason: p.terminationReason, output: String(decoding: all, as: UTF8.self))
}
