import Foundation

/// DIR/<experiment>/report.md: the paper's numbers next to the measured ones (with the scale they
/// were measured at), one row per run, and the charts (accuracy against updates of all weights,
/// final accuracies as bars) — or, when a chart could not be drawn, which one and why.
public struct ExperimentReport {
    public struct Entry {
        public var run: ReproduceRun
        public var directory: RunDirectory
        /// The data the run trained on (settings.json's `data`), nil when it did not start.
        public var data: String?
        public var status: RunDirectory.Status

        public init(run: ReproduceRun, directory: RunDirectory, data: String?, status: RunDirectory.Status) {
            self.run = run
            self.directory = directory
            self.data = data
            self.status = status
        }

        var result: RunResult? {
            if case .finished(let r) = status { return r }
            return nil
        }
    }

    public let experiment: Experiment
    public let scale: ReproduceScale
    public let entries: [Entry]
    /// DIR/<experiment>.
    public let directory: String

    public init(experiment: Experiment, scale: ReproduceScale, entries: [Entry], directory: String) {
        self.experiment = experiment
        self.scale = scale
        self.entries = entries
        self.directory = directory
    }

    public var path: String { (directory as NSString).appendingPathComponent("report.md") }

    /// Draws the charts and writes report.md; returns its path and the charts not drawn.
    @discardableResult
    public func write(plot: ([String], String) -> Plotter.Outcome = Plotter.draw) throws -> (path: String, notDrawn: [String]) {
        let charts = drawCharts(plot)
        let text = markdown(charts: charts)
        do { try AtomicFile.write(Array(text.utf8), to: path) } catch {
            throw ReproduceError("\(path): cannot write the report: \(error)")
        }
        return (path, charts.compactMap { if case .notDrawn(let why) = $0.outcome { return "\($0.title): \(why)" } else { return nil } })
    }

    struct Chart {
        var title: String
        var file: String
        var outcome: Plotter.Outcome
    }

    func drawCharts(_ plot: ([String], String) -> Plotter.Outcome) -> [Chart] {
        func chart(_ title: String, _ file: String, _ subcommand: String, chartTitle: String, data: [String],
                   missing: String) -> Chart {
            let out = (directory as NSString).appendingPathComponent(file)
            guard !data.isEmpty else { return Chart(title: title, file: file, outcome: .notDrawn(missing)) }
            return Chart(title: title, file: file, outcome: plot([subcommand, out, "--title", chartTitle] + data, out))
        }
        let curves = entries.filter { FileManager.default.fileExists(atPath: $0.directory.metricsPath) }
        let finished = entries.compactMap { e in e.result?.final.map { (e.run.label, $0.testAccuracy) } }
            .filter { $0.1.isFinite }
        return [
            chart("test accuracy against updates of all weights", "accuracy.svg", "accuracy",
                  chartTitle: "\(experiment.name) (\(scale.rawValue) scale)",
                  data: curves.flatMap { ["--run", $0.run.label, $0.directory.metricsPath] }, missing: "no run has metrics yet"),
            chart("final test accuracy per run", "final-accuracy.svg", "bars",
                  chartTitle: "\(experiment.name): final test accuracy (\(scale.rawValue) scale)",
                  data: finished.flatMap { ["--bar", $0.0, String($0.1)] }, missing: "no run has finished yet"),
        ]
    }

    func markdown(charts: [Chart]) -> String {
        var s: [String] = []
        let e = experiment
        s.append("# \(e.name) — paper \(e.reference)")
        s.append("")
        s.append(e.summary)
        s.append("")
        s.append("Scale **\(scale.rawValue)**: \(Self.scaleDescription(scale)). Command: `rso reproduce \(e.name) --scale \(scale.rawValue)`.")
        let substituted = entries.filter { $0.data == "fashion-mnist" }.map(\.run.dataset)
        if !substituted.isEmpty {
            let cifar = substituted.contains(.cifar10) ? " (the CIFAR networks built for its 1×28×28 images)" : ""
            s.append("")
            s.append("**Data**: \(Set(substituted.map(\.rawValue)).sorted().joined(separator: " and ")) not found under the data root, so this smoke run trained on Debian's Fashion-MNIST instead\(cifar). It checks that the experiment runs; its numbers say nothing about the paper's.")
        }
        s.append("")
        s.append("## The paper's numbers next to the measured ones")
        s.append("")
        s.append("| paper \(e.reference) | paper | measured at \(scale.rawValue) scale |")
        s.append("|---|---|---|")
        for c in e.claims {
            s.append("| \(c.what) | \(c.value) | \(measured(for: c)) |")
        }
        s.append("")
        s.append("## Runs")
        s.append("")
        s.append("| run | settings | data | status | final test accuracy | test loss | updates of all weights | steps | wall time |")
        s.append("|---|---|---|---|---|---|---|---|---|")
        for entry in entries {
            let r = entry.result
            let status: String
            switch entry.status {
            case .fresh: status = "not started"
            case .unfinished: status = "unfinished (run the command again to continue)"
            case .finished: status = "finished"
            }
            s.append("| \(entry.run.name) | \(Self.settings(entry.run)) | \(entry.data ?? "—") | \(status) | "
                     + "\(r?.final.map { Self.percent($0.testAccuracy) } ?? "—") | "
                     + "\(r?.final.map { String(format: "%.4f", $0.testLoss) } ?? "—") | "
                     + "\(r?.final.map { Self.updates($0.updates) } ?? "—") | \(r.map { "\($0.steps)" } ?? "—") | "
                     + "\(r.map { Self.duration($0.elapsedSeconds) } ?? "—") |")
        }
        if e.name == "caching" {
            s.append("")
            s += cachingFlops()
        }
        s.append("")
        s.append("## Charts")
        for chart in charts {
            s.append("")
            switch chart.outcome {
            case .drawn:
                s.append("![\(chart.title)](\(chart.file))")
            case .notDrawn(let why):
                s.append("**Not drawn: \(chart.title)** (`\(chart.file)`) — \(why).")
            }
        }
        if !e.paperSettingNotes.isEmpty {
            s.append("")
            s.append("## Paper-scale settings chosen here")
            s.append("")
            for n in e.paperSettingNotes { s.append("- \(n)") }
        }
        s.append("")
        s.append("Paper scale, projected: \(e.paperEstimate).")
        s.append("")
        s.append("Quick scale, estimated: \(e.quickEstimate). Each run's settings, metrics (JSON lines), checkpoint and log are in its directory next to this file.")
        return s.joined(separator: "\n") + "\n"
    }

    func measured(for claim: PaperClaim) -> String {
        guard let name = claim.run else { return "see the runs below" }
        guard let entry = entries.first(where: { $0.run.name == name }) else { return "—" }
        guard let result = entry.result, let final = result.final else { return "not finished" }
        if let at = claim.atUpdates {
            // The evaluation at that point of the curve; a run that stopped short of it says how far it got.
            guard let point = result.evaluations.first(where: { abs($0.updates - at) < 1e-9 }) else {
                return "not reached (this run ends after \(Self.updatesOfAllWeights(final.updates)), at \(Self.percent(final.testAccuracy)))"
            }
            return "\(Self.percent(point.testAccuracy)) after \(Self.updatesOfAllWeights(point.updates))"
        }
        return "\(Self.percent(final.testAccuracy)) after \(Self.updatesOfAllWeights(final.updates))"
    }

    /// The paper's cost model per cycle (Σ 3·|W_d|·F_d with caching, 3·|W|·F without) for each
    /// network of the experiment: computed, not measured.
    func cachingFlops() -> [String] {
        var s = ["FLOPs per cycle from the paper's cost model (`rso flops`), at each run's batch:", "",
                 "| network | batch | without caching | with caching | ratio |", "|---|---|---|---|---|"]
        var seen = Set<String>()
        for entry in entries {
            guard let o = entry.run.rso, !seen.contains(o.net), let net = NetworkZoo.network(named: o.net) else { continue }
            seen.insert(o.net)
            let m = FlopModel(network: net)
            let per = 2 * Double(o.batch)
            s.append(String(format: "| %@ | %d | %.3g | %.3g | %.2f× |", o.net, o.batch, m.cycleWithoutCaching * per,
                            m.cycleWithCaching * per, m.cachingRatio))
        }
        s.append("")
        s.append("Measured: compare the runs' wall times above (each is one cycle plus its evaluations at quick and paper scale; at smoke scale the first trials only).")
        return s
    }

    static func scaleDescription(_ scale: ReproduceScale) -> String {
        switch scale {
        case .smoke:
            return "batch \(ExperimentTable.smokeBatch), the first \(ExperimentTable.smokeTrials) trials (SGD: \(ExperimentTable.smokeSteps) iterations) on the first \(ExperimentTable.smokeTrain) training and \(ExperimentTable.smokeTest) test images — a check that everything runs, not a result"
        case .quick:
            return "reduced batch and whole cycles, about 30 minutes per experiment on 2 cores; not the paper's setting"
        case .paper:
            return "the paper's setting (batch 5000)"
        }
    }

    /// One line: what the run trains and how.
    public static func settings(_ run: ReproduceRun) -> String {
        if let o = run.rso {
            var parts = ["RSO \(o.net)", "batch \(o.batch)", "\(o.cycles) cycle(s)"]
            if let l = run.trialLimit { parts.append("stop at \(l) trials") }
            if o.sampling != .weight { parts.append("\(o.sampling.rawValue) sampling") }
            if o.update != .sequential { parts.append(o.update.rawValue) }
            if o.sigmaScale != 1 { parts.append("σ × \(o.sigmaScale.shortText)") }
            parts.append(o.cache ? "cache" : "no cache")
            parts.append("\(o.evaluation.rawValue) trials")
            return parts.joined(separator: ", ")
        }
        if let o = run.sgd {
            return "SGD \(o.net), batch \(o.batch), \(o.steps) iterations, lr \(o.learningRate), warm-up \(o.warmupSteps), \(o.decay.rawValue)"
        }
        return "—"
    }

    static func percent(_ a: Double) -> String { a.isFinite ? String(format: "%.2f%%", 100 * a) : "not finite" }
    static func updates(_ u: Double) -> String { u == u.rounded() ? String(Int(u)) : String(format: "%.3f", u) }
    /// "1 update of all weights", "5 updates of all weights", "0.500 updates of all weights".
    static func updatesOfAllWeights(_ u: Double) -> String { "\(updates(u)) update\(u == 1 ? "" : "s") of all weights" }
    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
        if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return String(format: "%.1fs", s)
    }
}
