/// What a run reports, as it happens. The CLI draws progress and writes metrics from these.
public protocol TrainingObserver: AnyObject {
    func unitStarted(_ info: UnitInfo)
    /// After every trial; cheap implementations only (throttle inside).
    func trialFinished(_ info: UnitInfo, position: Int, decision: TrialDecision, totalTrials: Int)
    func unitFinished(_ summary: UnitSummary)
    func cycleFinished(_ summary: CycleSummary)
    func evaluated(_ record: EvaluationRecord)
    func checkpointWritten(_ record: CheckpointRecord)
    func message(_ text: String)
}

public extension TrainingObserver {
    func unitStarted(_ info: UnitInfo) {}
    func trialFinished(_ info: UnitInfo, position: Int, decision: TrialDecision, totalTrials: Int) {}
    func unitFinished(_ summary: UnitSummary) {}
    func cycleFinished(_ summary: CycleSummary) {}
    func evaluated(_ record: EvaluationRecord) {}
    func checkpointWritten(_ record: CheckpointRecord) {}
    func message(_ text: String) {}
}

public struct UnitInfo: Sendable {
    public var cycle: Int
    public var cycles: Int
    /// Layer name, or "network" for network-level sampling.
    public var name: String
    public var trials: Int
    public var sigma: Double
    public var cached: Bool
    /// Bytes of the input cache (all replicas) and of the output cache held for this unit.
    public var cacheBytes = 0
    public var outputCacheBytes = 0
}

public struct UnitSummary: Sendable, Codable {
    public var cycle: Int
    public var layer: String
    public var trials: Int
    public var trainLoss: Double
    public var acceptPlus: Int
    public var acceptMinus: Int
    public var kept: Int
    public var trialsPerSecond: Double
    public var elapsed: Double
    public var sigma: Double
}

public struct CycleSummary: Sendable, Codable {
    public var cycle: Int
    public var trainLoss: Double
    public var acceptPlus: Int
    public var acceptMinus: Int
    public var kept: Int
    public var seconds: Double
    public var elapsed: Double
}

public struct EvaluationRecord: Sendable, Codable {
    /// Cycles completed when evaluated (0 = initial weights).
    public var cycle: Int
    public var testAccuracy: Double
    public var testLoss: Double
    public var samples: Int
    public var elapsed: Double
}
