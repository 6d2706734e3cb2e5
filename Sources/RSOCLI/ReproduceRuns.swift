import Foundation
import RSOEngine

/// Executes one run of `rso reproduce` in this process: RSO through the run controller, SGD
/// through its trainer, continuing from the run directory's checkpoint when there is one. The
/// console shows progress; metrics.jsonl gets the records (eval records carry `updates`, the
/// number of times all weights were updated: RSO trials / trials per cycle, SGD iterations) and
/// log.txt the run's summary lines.
struct ReproduceRunContext {
    var run: ReproduceRun
    var directory: RunDirectory
    var resume: Bool
    var train: Dataset
    var test: Dataset
    var network: NetworkSpec
    var scheduler: ChunkScheduler
    var stop: StopRequest
    var style: ProgressStyle
    var checkpointEveryMinutes: Double
    /// At most this many trials (SGD: iterations) in this process; the run then stops with its
    /// checkpoint, unfinished (`--max-steps`).
    var maxSteps: Int?

    func say(_ line: String) {
        print(line)
        fflush(nil)
        directory.log(line)
    }

    /// Runs to the end, a stop or `maxSteps`; returns the result when the run has finished.
    func execute() throws -> RunResult? {
        if let o = run.rso { return try executeRSO(o) }
        if let o = run.sgd { return try executeSGD(o) }
        return nil
    }

    private func executeRSO(_ o: TrainingOptions) throws -> RunResult? {
        var options = RunOptions(training: o, checkpointPath: directory.checkpointPath)
        options.evalEvery = run.evalEvery
        options.checkpointEveryMinutes = checkpointEveryMinutes
        options.resume = resume ? directory.checkpointPath : nil
        let trainer = try RunController(options: options, stop: stop)
            .makeTrainer(train: train, test: test, scheduler: scheduler, network: network)
        let metrics = try MetricsWriter(path: directory.metricsPath)
        let observer = ReproduceRSOObserver(trainer: trainer, style: style, metrics: metrics, context: self)
        trainer.observer = observer
        say("\(resume ? "continuing" : "starting") \(directory.path): \(ExperimentReport.settings(run)); "
            + "\(trainer.trialsPerCycle) trials per cycle" + (resume ? "; at trial \(trainer.state.trials)" : ""))
        if !resume, trainer.evaluate() == nil { return nil }  // the curve starts at the initial weights
        let limit = run.trialLimit.map { $0 - trainer.state.trials }
        let due = [limit, maxSteps].compactMap { $0 }.min()
        var reason = Trainer.StopReason.finished
        if trainer.state.finished || (limit ?? 1) <= 0 {
            if !trainer.evaluatedCurrentWeights, trainer.evaluate() == nil { return nil }
        } else {
            options.maxTrials = due
            let controller = try RunController(options: options, stop: stop)
            let outcome = try controller.run(trainer)
            observer.finishLine()
            reason = outcome.reason
            if reason == .nonFiniteLoss {
                throw CLIError(description: "\(directory.path): training stopped on a non-finite loss: \(outcome.detail ?? ""); the last good checkpoint is kept")
            }
        }
        let finished = reason == .finished || (reason == .trialLimit && run.trialLimit.map { trainer.state.trials >= $0 } == true)
        say("\(directory.path): \(finished ? "finished" : reason == .interrupted ? "interrupted" : "stopped after --max-steps") "
            + "after \(trainer.state.trials) trials (\(formatDuration(trainer.elapsed))); checkpoint \(directory.checkpointPath)")
        guard finished else { return nil }
        return RunResult(evaluations: try ReproduceMetrics.evaluations(directory.metricsPath), steps: trainer.state.trials,
                         elapsedSeconds: trainer.elapsed)
    }

    private func executeSGD(_ o: SGDOptions) throws -> RunResult? {
        let trainer = resume
            ? try SGDTrainer.resume(from: directory.checkpointPath, options: o, train: train, test: test,
                                    scheduler: scheduler, network: network)
            : try SGDTrainer(options: o, train: train, test: test, scheduler: scheduler, network: network)
        let metrics = try MetricsWriter(path: directory.metricsPath)
        let console = SGDConsole(trainer: trainer, style: style, metrics: metrics)
        let observer = ReproduceSGDObserver(console: console, context: self)
        trainer.observer = observer  // weak: kept alive around the run below
        say("\(resume ? "continuing" : "starting") \(directory.path): \(ExperimentReport.settings(run))"
            + (resume ? "; at iteration \(trainer.state.iteration)" : ""))
        let reason = try withExtendedLifetime(observer) {
            try trainer.runCheckpointed(to: directory.checkpointPath, everyMinutes: checkpointEveryMinutes,
                                        maxSteps: maxSteps, evalEvery: run.evalEvery, shouldStop: { stop.isRequested })
        }
        console.finishLine()
        do { try trainer.saveCheckpoint(to: directory.checkpointPath) } catch {
            throw CLIError(description: "could not write checkpoint: \(error)")
        }
        say("\(directory.path): \(reason == .finished ? "finished" : reason == .interrupted ? "interrupted" : "stopped after --max-steps") "
            + "after \(trainer.state.iteration) iterations (\(formatDuration(trainer.elapsed))); checkpoint \(directory.checkpointPath)")
        guard reason == .finished else { return nil }
        return RunResult(evaluations: try ReproduceMetrics.evaluations(directory.metricsPath),
                         steps: trainer.state.iteration, elapsedSeconds: trainer.elapsed)
    }
}

/// Progress of an RSO run on the console (TrainingConsole), its records in metrics.jsonl with the
/// updates of all weights so far, and its evaluations and cycles in log.txt.
final class ReproduceRSOObserver: TrainingObserver {
    private let console: TrainingConsole
    private let metrics: MetricsWriter
    private let context: ReproduceRunContext
    private unowned let trainer: Trainer

    init(trainer: Trainer, style: ProgressStyle, metrics: MetricsWriter, context: ReproduceRunContext) {
        self.trainer = trainer
        console = TrainingConsole(trainer: trainer, style: style, metrics: nil)
        self.metrics = metrics
        self.context = context
    }

    func finishLine() { console.finishLine() }

    func unitStarted(_ info: UnitInfo) { console.unitStarted(info) }

    func trialFinished(_ info: UnitInfo, position: Int, decision: TrialDecision, totalTrials: Int) {
        console.trialFinished(info, position: position, decision: decision, totalTrials: totalTrials)
    }

    func unitFinished(_ s: UnitSummary) {
        console.unitFinished(s)
        metrics.write(kind: "unit", s)
    }

    func cycleFinished(_ s: CycleSummary) {
        console.cycleFinished(s)
        metrics.write(kind: "cycle", s)
        context.directory.log(String(format: "cycle %d: train loss %.4f, %.1f s", s.cycle, s.trainLoss, s.seconds))
    }

    func evaluated(_ r: EvaluationRecord) {
        let updates = Double(trainer.state.trials) / Double(trainer.trialsPerCycle)
        console.finishLine()
        context.say(String(format: "eval after %d trials (%.3f cycles): test accuracy %.2f%%, test loss %.4f",
                           trainer.state.trials, updates, 100 * r.testAccuracy, r.testLoss))
        metrics.write(kind: "eval", ReproduceEvalRecord(cycle: r.cycle, updates: updates, steps: trainer.state.trials,
                                                        testAccuracy: r.testAccuracy, testLoss: r.testLoss,
                                                        samples: r.samples, elapsed: r.elapsed))
    }

    func checkpointWritten(_ r: CheckpointRecord) { metrics.write(kind: "checkpoint", r) }

    func message(_ text: String) { console.message(text) }
}

/// SGD progress on the console and in metrics.jsonl (SGDConsole), evaluations also in log.txt.
final class ReproduceSGDObserver: SGDObserver {
    private let console: SGDConsole
    private let context: ReproduceRunContext

    init(console: SGDConsole, context: ReproduceRunContext) {
        self.console = console
        self.context = context
    }

    func iterationFinished(_ r: SGDIterationRecord) { console.iterationFinished(r) }

    func evaluated(_ r: SGDEvaluationRecord) {
        console.evaluated(r)
        context.directory.log(String(format: "eval after %d iterations: test accuracy %.2f%%, test loss %.4f",
                                     r.updates, 100 * r.testAccuracy, r.testLoss))
    }
}

/// An RSO evaluation with the number of times all weights were updated so far.
struct ReproduceEvalRecord: Encodable {
    var cycle: Int
    var updates: Double
    /// Trials run in all when evaluated.
    var steps: Int
    var testAccuracy: Double
    var testLoss: Double
    var samples: Int
    var elapsed: Double
}

/// Reads the evaluations back from a run's metrics.jsonl (every process that worked on the run
/// appended to it).
enum ReproduceMetrics {
    static func evaluations(_ path: String) throws -> [RunResult.Point] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CLIError(description: "\(path): cannot read the metrics: \(error.localizedDescription)")
        }
        var points: [RunResult.Point] = []
        for (n, line) in text.split(separator: "\n").enumerated() {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw CLIError(description: "\(path):\(n + 1): not a JSON object")
            }
            guard obj["kind"] as? String == "eval" else { continue }
            guard let u = (obj["updates"] as? NSNumber)?.doubleValue else {
                throw CLIError(description: "\(path):\(n + 1): eval record without a number \"updates\"")
            }
            let a = (obj["test_accuracy"] as? NSNumber)?.doubleValue ?? .nan
            let l = (obj["test_loss"] as? NSNumber)?.doubleValue ?? .nan
            // A resumed run may evaluate the same weights again: keep the last.
            if points.last?.updates == u { points.removeLast() }
            points.append(RunResult.Point(updates: u, testAccuracy: a, testLoss: l))
        }
        return points
    }
}
