import Foundation

/// Draws charts by running tools/plot.py (matplotlib) — the one way this project draws. When the
/// script, python3 or matplotlib is missing the chart is not drawn and the outcome says which and
/// how to install it; callers write that into their report instead of failing.
public enum Plotter {
    public enum Outcome: Equatable, Sendable {
        case drawn(String)
        /// Why not, and how to get it drawn.
        case notDrawn(String)
    }

    static let installHint = "install matplotlib with `apt-get install python3-matplotlib` (tools/setup does)"

    /// tools/plot.py: $RSO_PLOT_SCRIPT, else tools/plot.py above the running executable (the
    /// package root of a `.build/…/rso`), else under the current directory.
    public static func script(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let fm = FileManager.default
        if let s = environment["RSO_PLOT_SCRIPT"], !s.isEmpty { return fm.fileExists(atPath: s) ? s : nil }
        var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("tools/plot.py").path
            if fm.fileExists(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        let here = (fm.currentDirectoryPath as NSString).appendingPathComponent("tools/plot.py")
        return fm.fileExists(atPath: here) ? here : nil
    }

    /// The interpreter that draws: $RSO_PYTHON when set (and only it), else the first of python3
    /// on PATH and Debian's /usr/bin/python3 (where python3-matplotlib installs) that imports
    /// matplotlib. nil when none does.
    public static let python: String? = {
        let chosen = ProcessInfo.processInfo.environment["RSO_PYTHON"].flatMap { $0.isEmpty ? nil : [$0] }
        return (chosen ?? ["python3", "/usr/bin/python3"]).first { (try? run([$0, "-c", "import matplotlib"]))?.status == 0 }
    }()

    /// Runs `tools/plot.py <arguments>` that writes `output`.
    public static func draw(_ arguments: [String], output: String) -> Outcome {
        guard let script = script() else {
            return .notDrawn("tools/plot.py not found next to the rso executable (set RSO_PLOT_SCRIPT to its path)")
        }
        guard let python else {
            let tried = ProcessInfo.processInfo.environment["RSO_PYTHON"].map { "$RSO_PYTHON=\($0)" } ?? "python3, /usr/bin/python3"
            return .notDrawn("no python3 with matplotlib found (tried \(tried)): \(installHint)")
        }
        do {
            let r = try run([python, script] + arguments)
            if r.status == 0 { return .drawn(output) }
            let why = r.output.trimmingCharacters(in: .whitespacesAndNewlines)
            return .notDrawn("tools/plot.py \(arguments.first ?? "") failed (status \(r.status)): \(why)")
        } catch {
            return .notDrawn("could not run \(python): \(error.localizedDescription); \(installHint)")
        }
    }

    /// Runs a program (a path, or a name looked up on PATH) to the end; stdout and stderr together.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
