import ArgumentParser
import Foundation
import RSOEngine

enum ProgressStyle: String, ExpressibleByArgument, CaseIterable {
    case auto, bar, lines
    var resolved: ProgressStyle {
        self == .auto ? (isatty(STDERR_FILENO) != 0 ? .bar : .lines) : self
    }
}

/// Progress on the terminal (a redrawn bar on stderr, or plain lines every 10 s), one summary line
/// per layer, cycle and evaluation on stdout, and the same records to the metrics file.
final class TrainingConsole: TrainingObserver {
    private let out: ConsoleReporter
    private unowned let trainer: Trainer
    private var unitStart = Date()
    private var unitFirstPosition = 0
    private var info: UnitInfo?

    init(trainer: Trainer, style: ProgressStyle, metrics: MetricsWriter?) {
        self.trainer = trainer
        out = ConsoleReporter(style: style, metrics: metrics)
    }

    func header(_ lines: [String]) { out.header(lines) }

    func unitStarted(_ info: UnitInfo) {
        self.info = info
        unitStart = Date()
        unitFirstPosition = trainer.state.position
        out.restartProgressInterval()
    }

    func trialFinished(_ info: UnitInfo, position: Int, decision: TrialDecision, totalTrials: Int) {
        let now = Date()
        guard out.progressDue(at: now, force: position == info.trials) else { return }
        let done = position - unitFirstPosition
        let dt = now.timeIntervalSince(unitStart)
        let rate = dt > 0 ? Double(done) / dt : 0
        let eta = rate > 0 ? Double(info.trials - position) / rate : .infinity
        let c = trainer.state.unitCounters
        let text = String(format: "cycle %d/%d %@ %d/%d  %.1f trials/s  layer ETA %@  loss %.4f  accept %.1f%%",
                          info.cycle, info.cycles, info.name, position, info.trials, rate, formatDuration(eta),
                          c.meanLoss, 100 * c.acceptRate)
        if out.style == .bar {
            let width = 24
            let filled = info.trials > 0 ? width * position / info.trials : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            out.showProgress("[\(bar)] \(text)")
        } else {
            out.showProgress(text)
        }
    }

    func finishLine() { out.finishLine() }

    func unitFinished(_ s: UnitSummary) {
        out.report(String(format: "cycle %d %-6@ %6d trials  loss %.4f  +Δ %d  −Δ %d  kept %d  %.1f trials/s  σ %.4g  elapsed %@",
                          s.cycle, s.layer as NSString, s.trials, s.trainLoss, s.acceptPlus, s.acceptMinus, s.kept,
                          s.trialsPerSecond, s.sigma, formatDuration(s.elapsed)), kind: "unit", s)
    }

    func cycleFinished(_ s: CycleSummary) {
        out.report(String(format: "cycle %d done: train loss %.4f, accepted %d (+Δ %d, −Δ %d), kept %d, %@ (elapsed %@)",
                          s.cycle, s.trainLoss, s.acceptPlus + s.acceptMinus, s.acceptPlus, s.acceptMinus, s.kept,
                          formatDuration(s.seconds), formatDuration(s.elapsed)), kind: "cycle", s)
    }

    func evaluated(_ r: EvaluationRecord) {
        out.report(String(format: "eval after cycle %d: test accuracy %.2f%%, test loss %.4f (%d samples)",
                          r.cycle, 100 * r.testAccuracy, r.testLoss, r.samples), kind: "eval", r)
    }

    func checkpointWritten(_ r: CheckpointRecord) {
        out.metrics?.write(kind: "checkpoint", r)
    }

    func message(_ text: String) { out.message(text) }
}
