import Foundation
import XCTest

/// Runs the real `rso` binary as `ranks` MPI processes on this machine (oversubscribed, allowed as
/// root: tests run as root in CI). A job that has not ended after `limit` seconds is killed and the
/// test fails: a distributed bug shows up as a hang, never as a stuck suite.
func runRSOUnderMPI(ranks: Int, _ args: [String], mca: [String] = [], limit: TimeInterval = 120) throws
    -> (status: Int32, output: String)
{
    let r = try runRSOUnderMPI(ranks: ranks, args, mca: mca, limit: limit) { _, _ in }
    return (r.status, r.output)
}

/// Same, handing each output line to `onLine` with the mpirun process (to signal it on an event).
func runRSOUnderMPI(ranks: Int, _ args: [String], mca: [String] = [], limit: TimeInterval = 120,
                    onLine: (String, Process) -> Void) throws -> RSORun {
    let launcher = "/usr/bin/mpirun"
    guard FileManager.default.isExecutableFile(atPath: launcher) else {
        XCTFail("\(launcher) not found: tools/setup installs openmpi-bin")
        return RSORun(status: -1, reason: .exit, output: "")
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: launcher)
    p.arguments = ["--oversubscribe", "-n", String(ranks)] + mca + [rsoExecutable.path] + args
    var env = ProcessInfo.processInfo.environment
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    p.environment = env
    let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + limit, execute: killer)
    defer { killer.cancel() }
    return try runStreaming(p, onLine: onLine)
}
