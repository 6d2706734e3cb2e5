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
///
/// Under MPI (`group` of several ranks) every rank runs the same loop: stops are agreed
/// collectively (`StopRequest.agree`), only rank 0 writes checkpoints, and a failed write on rank
/// 0 stops every rank at the same safe point.
public final class RunController {
    public let options: RunOptions
    public let stop: StopRequest
    public let group: ProcessGroup
    /// The last checkpoint this controller wrote.
    public private(set) var lastCheckpoint: CheckpointRecord?

    /// Validates `options` (errors name the flag).
    public init(options: RunOptions, stop: StopRequest = StopRequest(), group: ProcessGroup = LocalProcess()) throws {
        try options.validate()
        self.options = options
        self.stop = stop
        self.group = group
        stop.agree(across: group)
    }

    /// A fresh trainer, or the run saved in `options.resume`, set up for this controller. (Check the
    /// checkpoint destination with `CheckpointDestination.prepare` before loading data.)
    public func makeTrainer(train: Dataset, test: Dataset, scheduler: ChunkScheduler,
                            network: NetworkSpec? = nil) throws -> Trainer {
        var made: Result<Trainer, Error>
        do {
            if let resume = options.resume {
                made = .success(try Trainer.resume(from: resume, options: options.training, train: train, test: test,
                                                   scheduler: scheduler, network: network, group: group))
            } else {
                made = .success(try Trainer(options: options.training, train: train, test: test, scheduler: scheduler,
                                            network: network, group: group))
            }
        } catch {
            made = .failure(error)
        }
        // Every rank starts, or none does (a rank that cannot read the checkpoint stops them all).
        var failed = false
        if case .failure = made { failed = true }
        if try group.anyRank(failed), case .success = made {
            throw TrainingError("another rank could not start the run (its error is in its own output)")
        }
        let trainer = try made.get()
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
        // Rank 0's clock decides when an interval checkpoint is due, so all ranks save together.
        func intervalDue() throws -> Bool {
            var due = [clock.now - lastSave >= .seconds(interval) ? 1.0 : 0.0]
            if group.size > 1 { due = try group.allgather(due) }
            return due[0] != 0
        }
        var saveError: Error?
        let group = self.group
        func save(_ reason: String) throws {
            var failure: Error?
            if group.rank == 0 {
                do { try trainer.saveCheckpoint(to: options.checkpointPath) } catch { failure = error }
            }
            if try group.anyRank(failure != nil) {
                throw TrainingError(failure.map { "could not write checkpoint: \($0)" }
                                    ?? "rank 0 could not write checkpoint \(options.checkpointPath)")
            }
            lastSave = clock.now
            let record = CheckpointRecord(path: options.checkpointPath, reason: reason, cycle: trainer.state.cycle,
                                          trials: trainer.state.trials)
            lastCheckpoint = record
            trainer.observer?.checkpointWritten(record)
        }
        var reason = trainer.run(
            maxTrials: options.maxTrials,
            shouldStop: { saveError != nil },
            safePoint: { _ in
                guard saveError == nil else { return }
                do { if try intervalDue() { try save("interval") } } catch { saveError = error }
            },
            cycleEnd: { _ in
                do { try save("cycle-end") } catch { saveError = error }
            })
        if let saveError { throw saveError }
        switch reason {
        case .nonFiniteLoss:
            return RunOutcome(reason: reason, signal: nil, detail: trainer.nonFiniteLoss)
        case .trialLimit:
            // A stop during this evaluation turns the exit into an interrupted one.
            if !trainer.evaluatedCurrentWeights, trainer.evaluate() == nil { reason = .interrupted }
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
