import Foundation
import XCTest
@testable import RSOEngine

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
    return try runStreaming(p, onLine: onLine)
}

/// Runs `p` to the end, stdout and stderr together, handing each line to `onLine` as it arrives.
func runStreaming(_ p: Process, onLine: (String, Process) -> Void) throws -> RSORun {
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

/// Runs a program found on PATH (`arguments[0]`) and returns its exit status and its stdout and
/// stderr together.
func runCommand(_ arguments: [String]) throws -> (status: Int32, output: String) {
    try Plotter.run(arguments)
}

/// How a measured `rso` process ended: its exit code (nil when a signal ended it), the signal,
/// stdout and stderr together, and its own peak resident memory.
struct MeasuredRun {
    var exitCode: Int32?
    var signal: Int32?
    var output: String
    var peakRSSBytes: Int
}

/// Runs `rso` and reaps it with wait4, which reports that child's own peak RSS (getrusage's
/// RUSAGE_CHILDREN would mix in every earlier child of the test process).
func runRSOMeasured(_ args: [String]) throws -> MeasuredRun {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("rso-measured-\(UUID().uuidString).log").path
    defer { try? FileManager.default.removeItem(atPath: log) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = ([rsoExecutable.path] + args).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, rsoExecutable.path, &actions, nil, argv, environ)
    guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
        guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }
    let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    let signal = status & 0x7F  // the <sys/wait.h> macros are not imported into Swift
    return MeasuredRun(exitCode: signal == 0 ? (status >> 8) & 0xFF : nil, signal: signal == 0 ? nil : signal,
                       output: output, peakRSSBytes: usage.ru_maxrss * 1024)  // ru_maxrss is in KiB on Linux
}
