import Foundation

/// Drives a training run the same way for the CLI and for library users: validated options, stop
/// requests honoured at every phase,
/// checkpoints on a timer, at each cycle end and at exit, and one policy for what happens at exit.
///
/// Exit policy:
/// - finished: the schedule's last evaluation has run; checkpoint "finished".
/// - trial limit (`maxTrials`): the current weights are evaluated (unless just evaluated);
///   checkpoint "trial-limit".
/// - interrupted: no evaluation (a resume runs any scheduled one that was cut short);
///   checkpoint "interrupted".
/// - non-finite loss: no checkpoint — the last good one is kept.
public final class RunController {
    public let options: RunOptions
    public let stop: StopRequest
    /// The last checkpoint this controller wrote.
    public private(set) var lastCheckpoint: CheckpointRecord?

    /// Validates `options` (errors name the flag).
    public init(options: RunOptions, stop: StopRequest = StopRequest()) throws {
        try options.validate()
        self.options = options
        self.stop = stop
    }

    /// A fresh trainer, or the run saved in `options.resume`, set up for this controller. (Check the
    /// checkpoint destination with `CheckpointDestination.prepare` before loading data.)
    public func makeTrainer(train: Dataset, test: Dataset, scheduler: ChunkScheduler,
                            network: NetworkSpec? = nil) throws -> Trainer {
        let trainer: Trainer
        if let resume = options.resume {
            trainer = try Trainer.resume(from: resume, options: options.training, train: train, test: test,
                                         scheduler: scheduler, network: network)
        } else {
            trainer = try Trainer(options: options.training, train: train, test: test, scheduler: scheduler,
                                  network: network)
        }
        trainer.evalEvery = options.evalEvery
        trainer.stop = stop
        return trainer
    }

    /// Runs `trainer` to one of the outcomes of the exit policy. Throws when a checkpoint cannot be
    /// written (the run stops at the next safe point first).
    public func run(_ trainer: Trainer) throws -> RunOutcome {
        let interval = options.checkpointEveryMinutes * 60
        let clock = ContinuousClock()
        var lastSave = clock.now
        var saveError: Error?
        func save(_ reason: String) throws {
            do {
                try trainer.saveCheckpoint(to: options.checkpointPath)
            } catch {
                throw TrainingError("could not write checkpoint: \(error)")
            }
            lastSave = clock.now
            let record = CheckpointRecord(path: options.checkpointPath, reason: reason, cycle: trainer.state.cycle,
                                          trials: trainer.state.trials)
            lastCheckpoint = record
            trainer.observer?.checkpointWritten(record)
        }
        let reason = trainer.run(
            maxTrials: options.maxTrials,
            shouldStop: { saveError != nil },
            safePoint: { _ in
                guard saveError == nil, clock.now - lastSave >= .seconds(interval) else { return }
                do { try save("interval") } catch { saveError = error }
            },
            cycleEnd: { _ in
                do { try save("cycle-end") } catch { saveError = error }
            })
        if let saveError { throw saveError }
        switch reason {
        case .nonFiniteLoss:
            return RunOutcome(reason: reason, signal: nil, detail: trainer.nonFiniteLoss)
        case .trialLimit:
            if !trainer.evaluatedCurrentWeights { trainer.evaluate() }
        case .finished, .interrupted:
            break
        }
        try save(reason.rawValue)
        return RunOutcome(reason: reason, signal: stop.signal, detail: nil)
    }
}

/// How a run ended.
public struct RunOutcome: Sendable, Equatable {
    public var reason: Trainer.StopReason
    /// The stop signal received, when a signal interrupted the run.
    public var signal: Int32?
    /// For a non-finite loss: where and how.
    public var detail: String?
}

/// A checkpoint written by a run (metrics "checkpoint" records).
public struct CheckpointRecord: Sendable, Codable, Equatable {
    public var path: String
    /// interval, cycle-end, finished, trial-limit or interrupted.
    public var reason: String
    public var cycle: Int
    public var trials: Int
}
