import ArgumentParser
import Foundation
import RSOEngine

/// `rso bench`: kernel and machine measurements. Subcommands are listed here only; `trial` and
/// `scaling` are to be added to `subcommandList`.
struct BenchCommand: ParsableCommand {
    static let subcommandList: [ParsableCommand.Type] = [BenchKernelsCommand.self, BenchRooflineCommand.self, BenchTrialCommand.self, BenchScalingCommand.self, BenchAgreementCommand.self]

    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kernels on the networks' real layer shapes, and the machine's peaks (roofline).",
        discussion: "Measure release builds only (swift build -c release): debug C kernels are unoptimised.",
        subcommands: subcommandList)
}

// MARK: - kernels

struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Per-kernel table: FLOPs and bytes per call, time, GFLOP/s, GB/s, arithmetic intensity, ×ref, % of peak.",
        discussion: "Every case is a real layer shape of the network run over --batch samples in chunks of 32, as the engine runs it. Peaks (FMA, stream) are measured in the same run unless --peaks off.")

    @OptionGroup var bench: BenchOptions
    @OptionGroup var peakOptions: PeakOptions

    @Option(name: .long, help: "Measure the machine's peaks first, for % of peak: on or off.")
    var peaks: OnOff = .on

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws { print(try output(), terminator: "") }

    /// Exactly what `run` prints.
    func output() throws -> String {
        let report = try bench.measure(command: "bench kernels", peaks: peaks == .on ? peakOptions : nil)
        return json ? try report.jsonString() + "\n" : BenchTable.render(report)
    }
}

// MARK: - roofline

struct BenchRooflineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roofline",
        abstract: "Measure peaks and kernels in one run; place every kernel by arithmetic intensity; write CSV, JSON and an SVG chart.",
        discussion: "Files in --out: roofline.csv, roofline.json, roofline.svg (log-log: compute roof = measured FMA peak, slope = measured stream triad bandwidth, one dot per kernel; drawn from the JSON by tools/plot.py roofline with matplotlib — without it the chart is not drawn and the output says how to install it).")

    @OptionGroup var bench: BenchOptions
    @OptionGroup var peakOptions: PeakOptions

    @Option(name: .long, help: ArgumentHelp("Directory for roofline.csv, roofline.json and roofline.svg (created if missing).", valueName: "dir"))
    var out: String = "bench-out"

    @Flag(name: .long, help: "Print one JSON object (the report, with the files written) instead of a table.")
    var json = false

    func validate() throws {
        if out.isEmpty { throw ValidationError("--out must name a directory") }
    }

    func run() throws { print(try output(), terminator: "") }

    func output() throws -> String {
        var report = try bench.measure(command: "bench roofline", peaks: peakOptions)
        let dir = URL(fileURLWithPath: out, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw CLIError(description: "--out: cannot create directory \(out): \(error.localizedDescription)")
        }
        let files = ["csv": dir.appendingPathComponent("roofline.csv").path,
                     "json": dir.appendingPathComponent("roofline.json").path,
                     "svg": dir.appendingPathComponent("roofline.svg").path]
        report.files = files
        do {
            try report.csv.write(toFile: files["csv"]!, atomically: true, encoding: .utf8)
            try (report.jsonString(pretty: true) + "\n").write(toFile: files["json"]!, atomically: true, encoding: .utf8)
            // The chart is drawn from the JSON just written; without it the JSON says why.
            if case .notDrawn(let why) = Plotter.draw(["roofline", files["svg"]!, files["json"]!], output: files["svg"]!) {
                report.files?["svg"] = nil
                report.notes.append("roofline.svg not drawn: \(why)")
                try (report.jsonString(pretty: true) + "\n").write(toFile: files["json"]!, atomically: true, encoding: .utf8)
            }
        } catch {
            throw CLIError(description: "--out: cannot write into \(out): \(error.localizedDescription)")
        }
        if json { return try report.jsonString() + "\n" }
        let written = ["csv", "json", "svg"].compactMap { report.files?[$0] }
        return BenchTable.render(report) + "wrote \(written.joined(separator: ", "))\n"
    }
}
