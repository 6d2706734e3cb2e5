import Foundation
import XCTest

/// Runs the real `rso` binary built next to the test runner.
var rsoExecutable: URL {
    // The test runner executable sits in the build products directory next to rso.
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("rso")
}

func runRSO(_ args: [String], interruptAfter: TimeInterval? = nil) throws -> (status: Int32, output: String) {
    guard FileManager.default.isExecutableFile(atPath: rsoExecutable.path) else {
        XCTFail("rso executable not built next to the tests (\(rsoExecutable.path))")
        return (-1, "")
    }
    let p = Process()
    p.executableURL = rsoExecutable
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    if let t = interruptAfter {
        Thread.sleep(forTimeInterval: t)
        p.interrupt()  // SIGINT
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
