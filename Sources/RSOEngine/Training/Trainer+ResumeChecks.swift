/// Range checks of a resumed state: every field of a checkpoint's state must be one this run
/// could have written, or the resume would silently skip work or continue from garbage.
extension Trainer {
    /// Every way the restored state is impossible for these options and network, in words.
    func stateProblems() -> [String] {
        var problems: [String] = []
        let s = state
        guard (0...options.cycles).contains(s.cycle) else {
            return ["state cycle \(s.cycle) is outside 0…\(options.cycles) (--cycles \(options.cycles))"]
        }
        if s.cycle == options.cycles {
            if s.unit != 0 || s.position != 0 {
                problems.append("state is past the last cycle but at unit \(s.unit), position \(s.position) (expected 0, 0)")
            }
        } else if !(0..<unitCount).contains(s.unit) {
            return ["state unit \(s.unit) is outside 0..<\(unitCount) (units per cycle)"]
        } else {
            let trials = unitTrials(s.unit)
            if !(0...trials).contains(s.position) {
                return ["state position \(s.position) is outside 0…\(trials) (the trials of unit \(s.unit), \(unitLayer(s.unit).map { parameters.network.layers[$0].name } ?? "network"))"]
            }
            if options.batchReuse > 1, s.position % options.batchReuse != 0, s.position != trials {
                problems.append("state position \(s.position) is inside a batch of --batch-reuse \(options.batchReuse) (checkpoints are only written between batches)")
            }
        }
        let beforeUnit = (0..<min(s.unit, unitCount)).reduce(0) { $0 + unitTrials($1) }
        let expectedTrials = s.cycle * trialsPerCycle + beforeUnit + s.position
        if s.trials != expectedTrials {
            problems.append("state trials \(s.trials) does not match cycle \(s.cycle), unit \(s.unit), position \(s.position) (expected \(expectedTrials))")
        }
        problems += counterProblems("unit counters", s.unitCounters, expectedTotal: s.position)
        problems += counterProblems("cycle counters", s.cycleCounters, expectedTotal: beforeUnit + s.position)
        if !(s.elapsedBefore.isFinite && s.elapsedBefore >= 0) {
            problems.append("state elapsed time \(s.elapsedBefore) is not a finite number ≥ 0")
        }
        if options.update == .sequential, !s.pending.isEmpty {
            problems.append("state holds \(s.pending.count) pending changes, but --update sequential has none")
        }
        for (i, p) in s.pending.enumerated() { problems += changeProblems("pending change \(i)", p) }
        for (i, p) in (s.outputCachePatches ?? []).enumerated() {
            problems += changeProblems("output cache patch \(i)", p.change)
            if !p.from.isFinite { problems.append("output cache patch \(i): old value \(p.from) is not finite") }
        }
        if let log = s.outputCachePatches, !log.isEmpty {
            let layer = s.unit < unitCount ? unitLayer(s.unit) : nil
            if !options.outputCache {
                problems.append("state holds output cache patches, but the run has no output cache (--cache \(options.cacheMode))")
            } else if let bad = log.first(where: { $0.change.layer != layer }) {
                problems.append("output cache patch of layer \(bad.change.layer), but unit \(s.unit) visits layer \(layer.map(String.init) ?? "none")")
            }
        }
        var previous = -1
        for e in evaluations {
            if e.cycle < previous || e.cycle > s.cycle {
                problems.append("evaluation history is out of order or ahead of the state (cycle \(e.cycle) after \(previous), state at \(s.cycle))")
                break
            }
            previous = e.cycle
        }
        return problems
    }

    /// What is wrong with a recorded change of one parameter (`label` names it).
    private func changeProblems(_ label: String, _ p: PendingChange) -> [String] {
        guard parameters.network.layers.indices.contains(p.layer) else {
            return ["\(label): layer \(p.layer) is outside 0..<\(parameters.network.layers.count)"]
        }
        let hasGamma = parameters.gammas[p.layer] != nil
        let kindFits = p.kind == .weight || (hasGamma ? p.kind != .bias : p.kind == .bias)
        guard kindFits else { return ["\(label): layer \(p.layer) has no \(p.kind.rawValue) parameter"] }
        var problems: [String] = []
        let t = tensor(layer: p.layer, kind: p.kind)
        if !(0..<t.count).contains(p.index) {
            problems.append("\(label): index \(p.index) is outside \(t.name) (\(t.count) values)")
        }
        if !p.value.isFinite { problems.append("\(label): value \(p.value) is not finite") }
        return problems
    }

    private func counterProblems(_ what: String, _ c: DecisionCounters, expectedTotal: Int) -> [String] {
        var problems: [String] = []
        if c.plus < 0 || c.minus < 0 || c.kept < 0 {
            problems.append("\(what) are negative (+Δ \(c.plus), −Δ \(c.minus), kept \(c.kept))")
        } else if c.total != expectedTotal {
            problems.append("\(what) count \(c.total) trials, the position implies \(expectedTotal)")
        }
        if !c.lossSum.isFinite { problems.append("\(what) hold a non-finite loss sum \(c.lossSum)") }
        return problems
    }
}

extension Array where Element == Float {
    /// "nan at index 12" for the first non-finite value; nil when all are finite.
    var firstNonFinite: String? {
        firstIndex { !$0.isFinite }.map { "\(self[$0]) at index \($0)" }
    }
}
