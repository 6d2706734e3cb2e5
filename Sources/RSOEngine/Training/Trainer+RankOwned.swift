/// Rank-owned trials of the parallel update schemes under MPI (paper §4.6's distributed setting).
///
/// With `--update neuron-parallel` or `layer-parallel` every trial of a merge group (a neuron's
/// weights, a layer's weights, a channel's γ/β…) starts from the weights at the group's start,
/// so its decision depends only on those weights, its batch and its Δ. The ranks therefore split
/// a group's trials instead of each trial's chunks: a round of consecutive positions is dealt in
/// contiguous shares, every rank draws every trial's batch and Δ from the shared streams (cheap,
/// and it keeps the streams in step) but evaluates only its own trials, on whole batches with its
/// own threads and no collective; one gather of the decisions then gives every rank the round, and
/// all apply them in position order. Which rank ran a trial never enters its result, so the
/// weights are the one-process weights for any rank count.
///
/// Rounds end at merge points, at the run's trial limit, and after `roundTrialsPerRank` trials per
/// rank (a stop or a checkpoint waits at most one round).
extension Trainer {
    static let roundTrialsPerRank = 16
    /// Values gathered per trial: lossW, lossPlus, lossMinus, Δ, choice.
    private static let decisionWidth = 5

    /// Whether the trials of weight units are rank-owned in this run (every trial then draws a
    /// fresh batch: batch reuse requires the sequential scheme).
    var ranksOwnTrials: Bool {
        split != nil && options.sampling == .weight && options.update != .sequential
    }

    /// The end of the round starting at position `p` of layer `d` (of `trials`), at most `limit` trials.
    func roundEnd(layer d: Int, from p: Int, trials: Int, limit: Int?) -> Int {
        let ranks = split?.group.size ?? 1
        var end = min(trials, p + Self.roundTrialsPerRank * ranks)
        if let limit { end = min(end, p + max(1, limit)) }
        var q = p
        while q < end - 1, !visit.mergesAfter(layer: d, position: q, update: options.update) { q += 1 }
        return q + 1
    }

    /// Runs positions `positions` of layer `d`, this rank its own share, and returns every
    /// trial's decision in position order (the same on every rank).
    func ownedRound(layer d: Int, positions: Range<Int>) -> [TrialDecision] {
        guard let split else { preconditionFailure("rank-owned trials need an MPI split") }
        let group = split.group
        let own = split.chunks(positions.count, rank: group.rank)
        var mine: [Double] = []
        mine.reserveCapacity(own.count * Self.decisionWidth)
        for (k, p) in positions.enumerated() {
            guard own.contains(k) else {
                drawWeightTrial(layer: d)
                continue
            }
            let t = split.inFull { evaluateWeightTrial(layer: d, position: p) }
            mine += [t.lossW, t.lossPlus, t.lossMinus, t.delta, Double(t.choice.code)]
        }
        let counts = (0..<group.size).map { split.chunks(positions.count, rank: $0).count * Self.decisionWidth }
        var all = [Double](repeating: 0, count: positions.count * Self.decisionWidth)
        do {
            try mine.withUnsafeBufferPointer { m in
                try all.withUnsafeMutableBufferPointer { try group.allgatherv(m, counts: counts, into: $0.baseAddress!) }
            }
        } catch {
            abortJob(after: error, rank: group.rank)
        }
        ownedRounds += 1
        return (0..<positions.count).map { k in
            let v = all[(k * Self.decisionWidth)..<((k + 1) * Self.decisionWidth)].map { $0 }
            return TrialDecision(lossW: v[0], lossPlus: v[1], lossMinus: v[2], delta: v[3],
                                 choice: TrialChoice(code: Int(v[4])))
        }
    }
}

/// A choice as one gathered value.
private extension TrialChoice {
    var code: Int {
        switch self {
        case .kept: return 0
        case .plus: return 1
        case .minus: return 2
        }
    }

    init(code: Int) {
        switch code {
        case 1: self = .plus
        case 2: self = .minus
        default: self = .kept
        }
    }
}
