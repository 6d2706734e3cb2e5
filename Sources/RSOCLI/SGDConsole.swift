import Foundation
import RSOEngine

/// Progress of an SGD run (a bar on stderr or a line every 10 s), evaluations on stdout, and the
/// iteration and eval records in the metrics file.
final class SGDConsole: SGDObserver {
    private let out: ConsoleReporter
    private unowned let trainer: SGDTrainer

    init(trainer: SGDTrainer, style: ProgressStyle, metrics: MetricsWriter?) {
        self.trainer = trainer
        out = ConsoleReporter(style: style, metrics: metrics)
    }

    func header(_ lines: [String]) { out.header(lines) }

    func iterationFinished(_ r: SGDIterationRecord) {
        out.metrics?.write(kind: "iteration", r)
        guard out.progressDue(at: Date(), force: r.updates == trainer.options.steps) else { return }
        let eta = Double(trainer.options.steps - r.updates) * r.seconds
        out.showProgress(String(format: "iteration %d/%d  epoch %.2f  lr %.4g  batch loss %.4f  batch acc %.2f%%  %.2f s/it  ETA %@",
                                r.updates, trainer.options.steps, r.epoch, r.learningRate, r.trainLoss,
                                100 * r.trainAccuracy, r.seconds, formatDuration(eta)))
    }

    func finishLine() { out.finishLine() }

    func evaluated(_ r: SGDEvaluationRecord) {
        out.report(String(format: "eval after %d iterations (epoch %.2f): test accuracy %.2f%%, test loss %.4f (%d samples, elapsed %@)",
                          r.updates, r.epoch, 100 * r.testAccuracy, r.testLoss, r.samples, formatDuration(r.elapsed)),
                   kind: "eval", r)
    }
}
