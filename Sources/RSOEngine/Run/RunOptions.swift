/// How a training run is driven beyond the algorithm's own options: test evaluation, checkpoints,
/// a trial limit, resuming. Messages name the `rso train` flag of each field.
public struct RunOptions: Sendable {
    public var training: TrainingOptions
    /// The checkpoint file (safetensors), written atomically.
    public var checkpointPath: String
    /// Minutes between time-based checkpoints (they are also written at each cycle end and at exit).
    public var checkpointEveryMinutes: Double = 10
    /// Evaluate on the test set every this many cycles (and after the last).
    public var evalEvery = 1
    /// Stop after this many trials in this process (smoke runs); the run still checkpoints and evaluates.
    public var maxTrials: Int?
    /// Continue the run saved in this checkpoint.
    public var resume: String?

    public init(training: TrainingOptions, checkpointPath: String) {
        self.training = training
        self.checkpointPath = checkpointPath
    }

    /// The default checkpoint of a run: runs/<net>-seed<seed>.safetensors.
    public static func defaultCheckpointPath(net: String, seed: UInt64) -> String {
        "runs/\(net)-seed\(seed).safetensors"
    }

    public func validate() throws {
        try training.validate()
        if evalEvery < 1 { throw TrainingError("--eval-every must be at least 1, got \(evalEvery)") }
        if !(checkpointEveryMinutes.isFinite && checkpointEveryMinutes > 0) {
            throw TrainingError("--checkpoint-every must be a finite positive number of minutes, got \(checkpointEveryMinutes)")
        }
        if let m = maxTrials, m < 1 { throw TrainingError("--max-trials must be at least 1, got \(m)") }
        if checkpointPath.isEmpty || checkpointPath.hasSuffix("/") {
            throw TrainingError("--checkpoint must name a file, got \"\(checkpointPath)\"")
        }
    }
}
