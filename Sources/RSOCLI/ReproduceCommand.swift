import ArgumentParser
import Foundation
import RSOEngine

extension ReproduceScale: ExpressibleByArgument {}

struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Run a table or figure of the paper as a named, resumable experiment and write a report next to the paper's numbers.",
        discussion: """
        Experiments (NAME, or all):
        \(ExperimentTable.all.map { "  \($0.name) — paper \($0.reference): \($0.summary)" }.joined(separator: "\n"))

        Scales: smoke (seconds; a check that everything runs, CI), quick (≈ 30 min per experiment \
        on 2 cores, reduced batch), paper (the paper's settings, batch 5000: hours to days).

        Each run lives in DIR/<experiment>/<run>/ (settings.json, metrics.jsonl, \
        checkpoint.safetensors, log.txt, and result.json once finished); DIR/<experiment>/report.md \
        puts the paper's numbers next to the measured ones, with charts drawn by tools/plot.py \
        (matplotlib). Running the same command again continues unfinished runs from their \
        checkpoints and skips finished ones, on this machine or another one the directory was \
        copied to; a directory holding other settings is refused. Ctrl-C stops at the next safe \
        point with a checkpoint.

        Data: --data-root DIR (or RSO_DATA_ROOT) holds mnist/ and cifar-10-batches-bin/. At smoke \
        scale a dataset missing there is replaced by Debian's Fashion-MNIST \
        (/usr/share/datasets/fashion-mnist), the CIFAR networks built for its 1×28×28 images; the \
        report says so.
        """)

    @Argument(help: ArgumentHelp("Experiment: \(ExperimentTable.all.map(\.name).joined(separator: ", ")), or all.", valueName: "name"))
    var name: String

    @Option(name: .long, help: "smoke, quick or paper.")
    var scale: ReproduceScale = .quick

    @Option(name: .long, help: ArgumentHelp("Directory of the experiments' run directories and reports. Default: runs/reproduce-<scale>.", valueName: "dir"))
    var out: String?

    /// One directory per scale by default: a scale's runs never meet another's settings.
    var outDirectory: String { out ?? "runs/reproduce-\(scale.rawValue)" }

    @Option(name: .long, help: ArgumentHelp("Folder holding mnist/ and cifar-10-batches-bin/. Default: $RSO_DATA_ROOT.", valueName: "dir"))
    var dataRoot: String?

    @OptionGroup var threads: ThreadOptions

    @Option(name: .long, help: "Stop each unfinished run after N trials (SGD: iterations) in this process, with its checkpoint; the same command continues it.")
    var maxSteps: Int?

    @Option(name: .long, help: "Minutes between time-based checkpoints (also written at each cycle end or evaluation and at exit).")
    var checkpointEvery: Double = 10

    @Option(name: .long, help: "Progress display: auto (bar on a terminal, lines otherwise), bar, lines.")
    var progress: ProgressStyle = .auto

    func validate() throws {
        if name != "all", ExperimentTable.experiment(named: name) == nil {
            throw ValidationError("unknown experiment \(name); expected one of \(ExperimentTable.all.map(\.name).joined(separator: ", ")), or all")
        }
        if let m = maxSteps, m < 1 { throw ValidationError("--max-steps must be at least 1, got \(m)") }
        if !(checkpointEvery.isFinite && checkpointEvery > 0) {
            throw ValidationError("--checkpoint-every must be a positive number of minutes, got \(checkpointEvery)")
        }
        if out?.isEmpty == true { throw ValidationError("--out must name a directory") }
    }

    var experiments: [Experiment] {
        name == "all" ? ExperimentTable.all : ExperimentTable.experiment(named: name).map { [$0] } ?? []
    }

    func run() throws {
        let stop = StopRequest.signals()
        let scheduler = try threads.makeScheduler()
        let root = ReproduceDataSource.root(flag: dataRoot, environment: ProcessInfo.processInfo.environment)
        var loaded: [String: DatasetSplits] = [:]
        for experiment in experiments {
            if stop.isRequested { break }
            try reproduce(experiment, root: root, scheduler: scheduler, stop: stop, loaded: &loaded)
        }
        if stop.isRequested {
            print("stopped by signal \(stop.signal ?? 0); run the same command again to continue")
        }
    }

    /// Checks every run directory of `experiment` first (so changed settings are refused before
    /// anything trains), then runs what is unfinished, then writes the report.
    private func reproduce(_ experiment: Experiment, root: String?, scheduler: ChunkScheduler, stop: StopRequest,
                           loaded: inout [String: DatasetSplits]) throws {
        print("== \(experiment.name) (paper \(experiment.reference)), \(scale.rawValue) scale")
        var prepared: [(run: ReproduceRun, source: ReproduceDataSource, entry: ExperimentReport.Entry)] = []
        do {
            for run in experiment.runs(scale) {
                let source = try ReproduceDataSource.locate(run.dataset, root: root, scale: scale)
                let settings = RunSettings(experiment: experiment.name, scale: scale, data: source.name, run: run)
                let dir = RunDirectory(root: outDirectory, experiment: experiment.name, run: run.name)
                let status = try dir.prepare(settings)
                prepared.append((run, source, ExperimentReport.Entry(run: run, directory: dir, data: source.name, status: status)))
            }
        } catch {
            throw CLIError(description: "\(error)")
        }
        var entries: [ExperimentReport.Entry] = []
        for var p in prepared {
            defer { entries.append(p.entry) }
            if case .finished(let r) = p.entry.status {
                print("\(p.entry.directory.path): finished earlier"
                      + (r.final.map { String(format: ", test accuracy %.2f%%", 100 * $0.testAccuracy) } ?? "") + "; skipped")
                continue
            }
            if stop.isRequested { continue }
            if let s = p.source.substitutes {
                print("\(p.entry.directory.path): \(s.rawValue) not found (\(root.map { "data root \($0)" } ?? "no data root given")); smoke scale trains on Fashion-MNIST (\(p.source.directory)) instead")
            }
            do {
                let splits = try load(p.source, stop: stop, loaded: &loaded)
                let context = ReproduceRunContext(
                    run: p.run, directory: p.entry.directory, resume: p.entry.status == .unfinished,
                    train: splits.train.prefix(p.run.trainSamples), test: splits.test.prefix(p.run.testSamples),
                    network: try p.source.network(named: p.run.net), scheduler: scheduler, stop: stop,
                    style: progress.resolved, checkpointEveryMinutes: checkpointEvery, maxSteps: maxSteps)
                if let result = try context.execute() {
                    try p.entry.directory.writeResult(result)
                    p.entry.status = .finished(result)
                } else if FileManager.default.fileExists(atPath: p.entry.directory.checkpointPath) {
                    p.entry.status = .unfinished
                }
            } catch is RunStopped {
                continue
            } catch let e as CLIError {
                throw e
            } catch {
                throw CLIError(description: "\(error)")
            }
        }
        let report = ExperimentReport(experiment: experiment, scale: scale, entries: entries,
                                      directory: (outDirectory as NSString).appendingPathComponent(experiment.name))
        let written = try report.write()
        for why in written.notDrawn { print("chart not drawn — \(why)") }
        print("report: \(written.path)")
    }

    private func load(_ source: ReproduceDataSource, stop: StopRequest, loaded: inout [String: DatasetSplits]) throws -> DatasetSplits {
        if let splits = loaded[source.directory] { return splits }
        let splits = try DatasetSplits.load(format: source.format, directory: source.directory, stop: stop)
        loaded[source.directory] = splits
        return splits
    }
}
