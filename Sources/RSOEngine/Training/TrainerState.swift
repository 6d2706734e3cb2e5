/// Where a run is, exactly: enough to continue bit for bit after a checkpoint.
public struct TrainerState: Codable, Equatable, Sendable {
    /// 0-based cycle.
    public var cycle = 0
    /// Index into the cycle's units (layers in visiting order; one unit for network sampling).
    public var unit = 0
    /// Next step inside the unit.
    public var position = 0
    /// Steps (trials) completed since the run began, across resumes.
    public var trials = 0
    /// Accepted-but-unmerged changes of a parallel update scheme.
    public var pending: [PendingChange] = []
    /// `--cache output`: the changes patched into the output cache since the layer visit began, in
    /// order, so a resumed run rebuilds the same cache bit for bit (nil: none; absent in older
    /// checkpoints).
    public var outputCachePatches: [CachePatch]?
    /// Counters of the current unit (summaries survive a resume).
    public var unitCounters = DecisionCounters()
    public var cycleCounters = DecisionCounters()
    /// Wall-clock seconds spent training before this process (across resumes).
    public var elapsedBefore: Double = 0
    public var finished = false

    public init() {}
}

public struct PendingChange: Codable, Equatable, Sendable {
    public var layer: Int
    public var kind: ParameterKind
    public var index: Int
    /// Stored as its bit pattern so a checkpoint restores it exactly.
    public var valueBits: UInt32
    public var value: Float { Float(bitPattern: valueBits) }

    public init(layer: Int, kind: ParameterKind, index: Int, value: Float) {
        self.layer = layer
        self.kind = kind
        self.index = index
        valueBits = value.bitPattern
    }
}

/// One change patched into the output cache: the parameter went from `fromBits` to `change.value`.
public struct CachePatch: Codable, Equatable, Sendable {
    public var change: PendingChange
    public var fromBits: UInt32
    public var from: Float { Float(bitPattern: fromBits) }

    public init(_ change: PendingChange, from: Float) {
        self.change = change
        fromBits = from.bitPattern
    }
}

/// Outcome counts: +Δ accepted, −Δ accepted, W kept; and the loss of the kept state summed.
public struct DecisionCounters: Codable, Equatable, Sendable {
    public var plus = 0
    public var minus = 0
    public var kept = 0
    public var lossSum = 0.0

    public var total: Int { plus + minus + kept }
    public var meanLoss: Double { total > 0 ? lossSum / Double(total) : 0 }
    public var acceptRate: Double { total > 0 ? Double(plus + minus) / Double(total) : 0 }

    mutating func record(_ d: TrialDecision) {
        switch d.choice {
        case .plus: plus += 1
        case .minus: minus += 1
        case .kept: kept += 1
        }
        lossSum += d.keptLoss
    }
}

public enum TrialChoice: String, Codable, Sendable { case plus, minus, kept }

/// The three losses of one trial and what was kept.
public struct TrialDecision: Sendable, Equatable {
    public var lossW: Double
    public var lossPlus: Double
    public var lossMinus: Double
    public var delta: Double
    public var choice: TrialChoice
    /// Loss (without the decay term) of the state kept.
    public var keptLoss: Double {
        switch choice {
        case .plus: return lossPlus
        case .minus: return lossMinus
        case .kept: return lossW
        }
    }

    /// Lowest objective wins; a tie keeps W (and prefers +Δ over −Δ). `penalty(v)` is the weight
    /// decay term of each candidate value (0 when decay is off or the parameter is not a weight).
    public static func decide(lossW: Double, lossPlus: Double, lossMinus: Double, delta: Double,
                              penaltyW: Double, penaltyPlus: Double, penaltyMinus: Double) -> TrialDecision {
        let o0 = lossW + penaltyW, op = lossPlus + penaltyPlus, om = lossMinus + penaltyMinus
        var choice = TrialChoice.kept
        if op < o0 && op <= om { choice = .plus } else if om < o0 && om < op { choice = .minus }
        return TrialDecision(lossW: lossW, lossPlus: lossPlus, lossMinus: lossMinus, delta: delta, choice: choice)
    }
}
