/// How often the cached objective (layers below d normalised with population statistics, paper
/// §4.7) and the uncached one (every layer with the step batch's statistics) decide a weight
/// trial differently, on the same batch and the same Δ, starting from the same weights.
public struct CacheAgreement: Sendable, Codable {
    public var layer: String
    public var trials: Int
    public var disagreements: Int
    /// Largest |loss(cached) − loss(uncached)| of W over the trials (the objectives' offset).
    public var maxLossOffset: Double
    /// Median relative gap between the best and second-best objective in disagreeing trials.
    public var medianDisagreementMargin: Double

    public var rate: Double { trials > 0 ? Double(disagreements) / Double(trials) : 0 }
}

extension Trainer {
    /// Runs `trials` weight trials of unit `u` (positions spread over the layer) both ways; applies
    /// the cached decision after each so the weights move as in a cached run.
    public func measureCacheAgreement(unit u: Int, trials: Int) -> CacheAgreement {
        let d = visit.layers[u]
        _ = prepareUnit(u)
        let split = executor.plan.layerStep[d]
        let weights = parameters.network.layers[d].weightCount
        var disagreements = 0, maxOffset = 0.0
        var margins: [Double] = []
        for k in 0..<trials {
            let index = (k * 7919) % weights
            sampler.sample(options.batch, using: &batchRNG, into: batchIndices)
            let delta = Float(options.delta.sample(sigma: sigma.sigma(layer: d, cycle: state.cycle), using: &deltaRNG))
            let w = parameters.weights[d]
            let w0 = w[index]
            func three(cached: Bool) -> (Double, Double, Double) {
                let idx = UnsafeBufferPointer(batchIndices)
                if cached, let cache {
                    cache.load(into: executor, indices: idx)
                } else {
                    executor.loadInput(from: train, indices: idx)
                    if split > 0 { executor.run(to: split) }
                }
                executor.override(variant: 1, layer: d, kind: .weight)[index] = w0 + delta
                executor.override(variant: 2, layer: d, kind: .weight)[index] = w0 - delta
                let r = executor.run(from: split, variants: 3)
                executor.clearOverrides()
                return (r[0].meanLoss, r[1].meanLoss, r[2].meanLoss)
            }
            let a = three(cached: true), b = three(cached: false)
            let da = TrialDecision.decide(lossW: a.0, lossPlus: a.1, lossMinus: a.2, delta: Double(delta),
                                          penaltyW: 0, penaltyPlus: 0, penaltyMinus: 0)
            let db = TrialDecision.decide(lossW: b.0, lossPlus: b.1, lossMinus: b.2, delta: Double(delta),
                                          penaltyW: 0, penaltyPlus: 0, penaltyMinus: 0)
            maxOffset = max(maxOffset, abs(a.0 - b.0))
            if da.choice != db.choice {
                disagreements += 1
                let sorted = [b.0, b.1, b.2].sorted()
                margins.append((sorted[1] - sorted[0]) / max(sorted[0], 1e-12))
            }
            switch da.choice {
            case .plus: w[index] = w0 + delta
            case .minus: w[index] = w0 - delta
            case .kept: break
            }
        }
        cache = nil
        margins.sort()
        return CacheAgreement(layer: parameters.network.layers[d].name, trials: trials, disagreements: disagreements,
                              maxLossOffset: maxOffset, medianDisagreementMargin: margins.isEmpty ? 0 : margins[margins.count / 2])
    }
}
