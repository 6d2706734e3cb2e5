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
    private let style: ProgressStyle
    private let metrics: MetricsWriter?
    private unowned let trainer: Trainer
    private var lastDraw = Date.distantPast
    private var unitStart = Date()
    private var unitFirstPosition = 0
    private var line: ProgressLine
    private var info: UnitInfo?

    init(trainer: Trainer, style: ProgressStyle, metrics: MetricsWriter?) {
        self.trainer = trainer
        self.style = style
        line = ProgressLine(style: style)
        self.metrics = metrics
    }

    func header(_ lines: [String]) { lines.forEach { print($0) }; fflush(nil) }

    func unitStarted(_ info: UnitInfo) {
        self.info = info
        unitStart = Date()
        unitFirstPosition = trainer.state.position
        lastDraw = .distantPast
    }

    func trialFinished(_ info: UnitInfo, position: Int, decision: TrialDecision, totalTrials: Int) {
        let now = Date()
        let every = line.interval
        guard now.timeIntervalSince(lastDraw) >= every || position == info.trials else { return }
        lastDraw = now
        let done = position - unitFirstPosition
        let dt = now.timeIntervalSince(unitStart)
        let rate = dt > 0 ? Double(done) / dt : 0
        let eta = rate > 0 ? Double(info.trials - position) / rate : .infinity
        let c = trainer.state.unitCounters
        var text = String(format: "cycle %d/%d %@ %d/%d  %.1f trials/s  layer ETA %@  loss %.4f  accept %.1f%%",
                          info.cycle, info.cycles, info.name, position, info.trials, rate, formatDuration(eta),
                          c.meanLoss, 100 * c.acceptRate)
        if info.cacheBytes + info.outputCacheBytes > 0 {
            text += "  cache \(formatCount(Double(info.cacheBytes)))B in"
                + (info.outputCacheBytes > 0 ? " + \(formatCount(Double(info.outputCacheBytes)))B out" : "")
        }
        if style == .bar {
            let width = 24
            let filled = info.trials > 0 ? width * position / info.trials : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            line.show("[\(bar)] \(text)")
        } else {
            line.show(text)
        }
    }

    func finishLine() {
        line.finish()
    }

    func unitFinished(_ s: UnitSummary) {
        finishLine()
        print(String(format: "cycle %d %-6@ %6d trials  loss %.4f  +Δ %d  −Δ %d  kept %d  %.1f trials/s  σ %.4g  elapsed %@",
                     s.cycle, s.layer as NSString, s.trials, s.trainLoss, s.acceptPlus, s.acceptMinus, s.kept,
                     s.trialsPerSecond, s.sigma, formatDuration(s.elapsed)))
        fflush(nil)
        metrics?.write(kind: "unit", s)
    }

    func cycleFinished(_ s: CycleSummary) {
        finishLine()
        print(String(format: "cycle %d done: train loss %.4f, accepted %d (+Δ %d, −Δ %d), kept %d, %@ (elapsed %@)",
                     s.cycle, s.trainLoss, s.acceptPlus + s.acceptMinus, s.acceptPlus, s.acceptMinus, s.kept,
                     formatDuration(s.seconds), formatDuration(s.elapsed)))
        fflush(nil)
        metrics?.write(kind: "cycle", s)
    }

    func evaluated(_ r: EvaluationRecord) {
        finishLine()
        print(String(format: "eval after cycle %d: test accuracy %.2f%%, test loss %.4f (%d samples)",
                     r.cycle, 100 * r.testAccuracy, r.testLoss, r.samples))
        fflush(nil)
        metrics?.write(kind: "eval", r)
    }

    func checkpointWritten(_ r: CheckpointRecord) {
        metrics?.write(kind: "checkpoint", r)
    }

    func message(_ text: String) {
        finishLine()
        print(text)
    }
}
