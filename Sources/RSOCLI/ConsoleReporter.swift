import Foundation

/// What every training console does (TrainingConsole for RSO, SGDConsole): header lines, one
/// progress line redrawn at most every ProgressLine.interval, and reports that end the progress
/// line, print on stdout and append the same record to the metrics file.
final class ConsoleReporter {
    let metrics: MetricsWriter?
    let style: ProgressStyle
    private var line: ProgressLine
    private var lastDraw = Date.distantPast

    init(style: ProgressStyle, metrics: MetricsWriter?) {
        self.style = style
        line = ProgressLine(style: style)
        self.metrics = metrics
    }

    func header(_ lines: [String]) { lines.forEach { print($0) }; fflush(nil) }

    /// Whether the progress line is due for a redraw at `now` (or `force`d); a true answer starts
    /// the next interval.
    func progressDue(at now: Date, force: Bool) -> Bool {
        guard force || now.timeIntervalSince(lastDraw) >= line.interval else { return false }
        lastDraw = now
        return true
    }

    /// The next progress update is due at once.
    func restartProgressInterval() { lastDraw = .distantPast }

    func showProgress(_ text: String) { line.show(text) }

    func finishLine() { line.finish() }

    /// `text` on stdout (after the progress line) and `record` to the metrics file as `kind`.
    func report<T: Encodable>(_ text: String, kind: String, _ record: T) {
        message(text)
        fflush(nil)
        metrics?.write(kind: kind, record)
    }

    func message(_ text: String) {
        finishLine()
        print(text)
    }
}
