import Foundation
import XCTest
@testable import RSOEngine

/// `rso reproduce` end to end on the real binary: every experiment at smoke scale; an interrupted
/// experiment continues to the same bytes as an uninterrupted one; finished runs are not rerun;
/// other settings in an existing directory are refused; a missing matplotlib is said in the report.
final class ReproduceCommandTests: XCTestCase {
    private var work = ""
    /// A data root whose mnist/ is the shared MNIST, else Debian's Fashion-MNIST (cifar-10-batches-bin/
    /// the shared one when present: otherwise smoke scale substitutes Fashion-MNIST).
    private var dataRoot = ""

    override func setUpWithError() throws {
        work = try DataFixtures.makeTempDirectory("reproduce-cli")
        dataRoot = DataFixtures.path(work, "data")
        try FileManager.default.createDirectory(atPath: dataRoot, withIntermediateDirectories: true)
        let shared = DataFixtures.sharedDataRoot
        let mnist = shared.map { DataFixtures.path($0, "mnist") } ?? DatasetSplits.debianFashionMNISTDirectory
        guard FileManager.default.fileExists(atPath: mnist) else {
            throw XCTSkip("neither the shared MNIST nor Debian's Fashion-MNIST is installed")
        }
        try FileManager.default.createSymbolicLink(atPath: DataFixtures.path(dataRoot, "mnist"), withDestinationPath: mnist)
        if let shared, FileManager.default.fileExists(atPath: DataFixtures.path(shared, "cifar-10-batches-bin")) {
            try FileManager.default.createSymbolicLink(atPath: DataFixtures.path(dataRoot, "cifar-10-batches-bin"),
                                                       withDestinationPath: DataFixtures.path(shared, "cifar-10-batches-bin"))
        }
    }

    override func tearDown() {
        DataFixtures.remove(work)
        super.tearDown()
    }

    private func reproduce(_ args: [String], out: String, environment: [String: String] = [:]) throws -> RSORun {
        let p = Process()
        p.executableURL = rsoExecutable
        p.arguments = ["reproduce"] + args + ["--out", out, "--data-root", dataRoot, "--threads", "2", "--progress", "lines"]
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        return try runStreaming(p) { _, _ in }
    }

    private func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func testEveryExperimentRunsAtSmokeScale() throws {
        let out = DataFixtures.path(work, "all")
        let r = try reproduce(["all", "--scale", "smoke"], out: out)
        XCTAssertEqual(r.status, 0, r.output)
        for e in ExperimentTable.all {
            let report = try String(contentsOfFile: DataFixtures.path(DataFixtures.path(out, e.name), "report.md"), encoding: .utf8)
            XCTAssertTrue(report.contains("# \(e.name) — paper \(e.reference)"), report)
            for run in e.runs(.smoke) {
                let dir = RunDirectory(root: out, experiment: e.name, run: run.name)
                for file in [dir.settingsPath, dir.metricsPath, dir.checkpointPath, dir.logPath, dir.resultPath] {
                    XCTAssertTrue(FileManager.default.fileExists(atPath: file), "\(file) missing")
                }
                let result = try JSONDecoder.snakeCase.decode(RunResult.self, from: try bytes(dir.resultPath))
                XCTAssertEqual(result.steps, run.trialLimit ?? run.sgd?.steps, "\(e.name)/\(run.name)")
                XCTAssertGreaterThanOrEqual(result.evaluations.count, 2, "\(e.name)/\(run.name): initial and final")
                XCTAssertTrue(report.contains("| \(run.name) | "), "\(e.name): no row for \(run.name)")
            }
            XCTAssertEqual(report.components(separatedBy: "| finished |").count - 1, e.runs(.smoke).count, report)
            if Plotter.python != nil {
                XCTAssertTrue(report.contains("![test accuracy against updates of all weights](accuracy.svg)"), report)
                XCTAssertTrue(report.contains("![final test accuracy per run](final-accuracy.svg)"), report)
            }
        }
    }

    func testAnInterruptedExperimentContinuesToTheSameBytesAndFinishedRunsAreSkipped() throws {
        let e = try XCTUnwrap(ExperimentTable.experiment(named: "rso-vs-sgd"))
        let whole = DataFixtures.path(work, "whole"), pieces = DataFixtures.path(work, "pieces")
        let w = try reproduce([e.name, "--scale", "smoke"], out: whole)
        XCTAssertEqual(w.status, 0, w.output)

        // Three trials (SGD: iterations) of every run, then the rest.
        let first = try reproduce([e.name, "--scale", "smoke", "--max-steps", "3"], out: pieces)
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("stopped after --max-steps after 3 trials"), first.output)
        XCTAssertTrue(first.output.contains("stopped after --max-steps after 3 iterations"), first.output)
        for run in e.runs(.smoke) {
            XCTAssertFalse(FileManager.default.fileExists(atPath: RunDirectory(root: pieces, experiment: e.name, run: run.name).resultPath))
        }
        XCTAssertTrue(try String(contentsOfFile: DataFixtures.path(DataFixtures.path(pieces, e.name), "report.md"), encoding: .utf8)
            .contains("unfinished (run the command again to continue)"))
        let second = try reproduce([e.name, "--scale", "smoke"], out: pieces)
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("continuing "), second.output)

        for run in e.runs(.smoke) {
            let a = RunDirectory(root: whole, experiment: e.name, run: run.name)
            let b = RunDirectory(root: pieces, experiment: e.name, run: run.name)
            // Every tensor (weights, BN, random streams, momentum) bit for bit; the metadata holds wall times.
            let ta = try SafeTensors.read(path: a.checkpointPath).tensors, tb = try SafeTensors.read(path: b.checkpointPath).tensors
            XCTAssertEqual(ta.map(\.name), tb.map(\.name), run.name)
            for (x, y) in zip(ta, tb) { XCTAssertEqual(x.bytes, y.bytes, "\(run.name): \(x.name)") }
            let ra = try JSONDecoder.snakeCase.decode(RunResult.self, from: try bytes(a.resultPath))
            let rb = try JSONDecoder.snakeCase.decode(RunResult.self, from: try bytes(b.resultPath))
            XCTAssertEqual(ra.final, rb.final, run.name)
            XCTAssertEqual(ra.steps, rb.steps, run.name)
        }

        // Finished runs are not run again: nothing in their directories changes.
        let dirs = e.runs(.smoke).map { RunDirectory(root: pieces, experiment: e.name, run: $0.name) }
        let before = try dirs.map { (try bytes($0.metricsPath), try bytes($0.checkpointPath)) }
        let third = try reproduce([e.name, "--scale", "smoke"], out: pieces)
        XCTAssertEqual(third.status, 0, third.output)
        XCTAssertEqual(third.output.components(separatedBy: "finished earlier").count - 1, dirs.count, third.output)
        XCTAssertFalse(third.output.contains("starting ") || third.output.contains("continuing "), third.output)
        for (dir, old) in zip(dirs, before) {
            XCTAssertEqual(try bytes(dir.metricsPath), old.0, dir.path)
            XCTAssertEqual(try bytes(dir.checkpointPath), old.1, dir.path)
        }

        // Other settings in the same directory are refused before anything trains.
        let quick = try reproduce([e.name, "--scale", "quick"], out: pieces)
        XCTAssertNotEqual(quick.status, 0)
        XCTAssertTrue(quick.output.contains("\(dirs[0].settingsPath): this directory holds a run with other settings"), quick.output)
        XCTAssertTrue(quick.output.contains("run.rso.batch: 16 there, 100 now"), quick.output)
        XCTAssertFalse(quick.output.contains("starting "), quick.output)

        // Without matplotlib the report is still written and says which chart was not drawn and how to get it.
        let bare = try reproduce([e.name, "--scale", "smoke"], out: pieces, environment: ["RSO_PYTHON": DataFixtures.path(work, "no-python")])
        XCTAssertEqual(bare.status, 0, bare.output)
        let report = try String(contentsOfFile: DataFixtures.path(DataFixtures.path(pieces, e.name), "report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("**Not drawn: test accuracy against updates of all weights**"), report)
        XCTAssertTrue(report.contains("**Not drawn: final test accuracy per run**"), report)
        XCTAssertTrue(report.contains("apt-get install python3-matplotlib"), report)
        XCTAssertTrue(bare.output.contains("chart not drawn"), bare.output)
    }

    /// SIGINT during a run's trials (sent on its first progress line, an event, not a delay: a
    /// quick-scale cycle takes minutes) stops it with a checkpoint; the same command continues it.
    func testCtrlCStopsWithACheckpointAndTheSameCommandContinues() throws {
        let out = DataFixtures.path(work, "signal")
        var sent = false
        let p = Process()
        p.executableURL = rsoExecutable
        p.arguments = ["reproduce", "mnist-accuracy", "--scale", "quick", "--out", out, "--data-root", dataRoot,
                       "--threads", "2", "--progress", "lines"]
        let r = try runStreaming(p) { line, process in
            if !sent, line.hasPrefix("cycle 1/5 fc ") {
                sent = true
                kill(process.processIdentifier, SIGINT)
            }
        }
        XCTAssertTrue(sent, r.output)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("stopped by signal \(SIGINT); run the same command again to continue"), r.output)
        let dir = RunDirectory(root: out, experiment: "mnist-accuracy", run: "mnist6")
        let stopped = try XCTUnwrap(r.output.components(separatedBy: "\n").first { $0.hasPrefix("\(dir.path): interrupted after ") }, r.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.checkpointPath))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.resultPath))
        let trials = try XCTUnwrap(Int(stopped.dropFirst("\(dir.path): interrupted after ".count).prefix { $0.isNumber }))
        XCTAssertGreaterThan(trials, 0)

        let again = try reproduce(["mnist-accuracy", "--scale", "quick", "--max-steps", "2"], out: out)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("continuing \(dir.path)"), again.output)
        XCTAssertTrue(again.output.contains("at trial \(trials)"), again.output)
        XCTAssertTrue(again.output.contains("stopped after --max-steps after \(trials + 2) trials"), again.output)
    }

    func testHelpListsTheExperimentsWithTheirPaperReferences() throws {
        let r = try runRSO(["reproduce", "--help"])
        XCTAssertEqual(r.status, 0, r.output)
        let flat = r.output.replacingOccurrences(of: "\n", with: " ")
        for e in ExperimentTable.all {
            XCTAssertTrue(flat.contains("\(e.name) — paper \(e.reference)"), "\(e.name) missing in\n\(r.output)")
        }
    }
}
