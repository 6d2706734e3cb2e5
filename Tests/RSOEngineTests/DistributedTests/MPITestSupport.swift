import Foundation
import XCTest

/// Runs the real `rso` binary as `ranks` MPI processes on this machine (oversubscribed, allowed as
/// root: tests run as root in CI). A job that has not ended after `limit` seconds is killed and the
/// test fails: a distributed bug shows up as a hang, never as a stuck suite.
func runRSOUnderMPI(ranks: Int, _ args: [String], mca: [String] = [], limit: TimeInterval = 120) throws
    -> (status: Int32, output: String)
{
    let launcher = "/usr/bin/mpirun"
    guard FileManager.default.isExecutableFile(atPath: launcher) else {
        XCTFail("\(launcher) not found: tools/setup installs openmpi-bin")
        return (-1, "")
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: launcher)
    p.arguments = ["--oversubscribe", "-n", String(ranks)] + mca + [rsoExecutable.path] + args
    var env = ProcessInfo.processInfo.environment
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    p.environment = env
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + limit, execute: killer)
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    killer.cancel()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
