import Foundation

extension SGDTrainer {
    /// `run` with checkpoints: after every evaluation and every `everyMinutes` minutes the state is
    /// saved to `path` (`saved` is told why: "evaluation" or "interval"). A failed write stops the
    /// run at the next iteration and is thrown. The caller writes the final checkpoint, after any
    /// evaluation of its own.
    public func runCheckpointed(to path: String, everyMinutes: Double, maxSteps: Int?, evalEvery: Int,
                                shouldStop: () -> Bool, saved: (String) -> Void = { _ in }) throws -> StopReason {
        var lastSave = Date()
        var evaluationsSaved = evaluations.count
        var saveError: Error?
        let reason = run(
            maxSteps: maxSteps, evalEvery: evalEvery,
            shouldStop: { saveError != nil || shouldStop() },
            safePoint: {
                let evaluated = evaluations.count > evaluationsSaved
                guard evaluated || Date().timeIntervalSince(lastSave) >= everyMinutes * 60 else { return }
                do {
                    try saveCheckpoint(to: path)
                    lastSave = Date()
                    evaluationsSaved = evaluations.count
                    saved(evaluated ? "evaluation" : "interval")
                } catch {
                    saveError = error
                }
            })
        if let saveError { throw TrainingError("could not write checkpoint: \(saveError)") }
        return reason
    }
}
