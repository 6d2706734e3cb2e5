/// One RSO step: fresh batch, Δ, losses of W / W+Δ / W−Δ on that batch, keep the best.
extension Trainer {
    func step(unit u: Int, position p: Int) -> TrialDecision {
        switch options.sampling {
        case .weight: return weightStep(layer: visit.layers[u], position: p)
        case .layer: return jointStep(layers: [visit.layers[u]])
        case .network: return jointStep(layers: Array(parameters.network.layers.indices))
        }
    }

    /// Draws the step's batch and loads it: from the activation cache of layer `d` when there is
    /// one (the run starts at d), else the images (the run starts at the input).
    func loadBatch(cachedLayer: Bool) -> Int {
        sampler.sample(options.batch, using: &batchRNG, into: batchIndices)
        let idx = UnsafeBufferPointer(batchIndices)
        if cachedLayer, let cache {
            cache.load(into: executor, indices: idx)
            return cache.startStep
        }
        executor.loadInput(from: train, indices: idx)
        return 0
    }

    func weightStep(layer d: Int, position p: Int) -> TrialDecision {
        let slot = visit.slot(layer: d, position: p)
        let start = loadBatch(cachedLayer: true)
        let lossW = executor.run(from: start).meanLoss
        // Layers below the changed parameter keep their activations (and, uncached, their batch
        // statistics) from the W run, so the ± runs restart where the change first matters.
        let restart: Int
        switch slot.kind {
        case .weight, .bias: restart = max(start, executor.plan.layerStep[d])
        case .gamma, .beta: restart = max(start, bnSteps[d])
        }
        let t = tensor(layer: d, kind: slot.kind)
        let w0 = t[slot.index]
        let delta = Float(options.delta.sample(sigma: sigma.sigma(layer: d, cycle: state.cycle), using: &deltaRNG))
        t[slot.index] = w0 + delta
        let lossPlus = executor.run(from: restart).meanLoss
        t[slot.index] = w0 - delta
        let lossMinus = executor.run(from: restart).meanLoss
        t[slot.index] = w0
        let lambda = slot.kind == .weight ? options.weightDecay : 0
        func penalty(_ v: Float) -> Double { lambda * Double(v) * Double(v) }
        let decision = TrialDecision.decide(lossW: lossW, lossPlus: lossPlus, lossMinus: lossMinus,
                                            delta: Double(delta), penaltyW: penalty(w0),
                                            penaltyPlus: penalty(w0 + delta), penaltyMinus: penalty(w0 - delta))
        let value: Float
        switch decision.choice {
        case .kept: return decision
        case .plus: value = w0 + delta
        case .minus: value = w0 - delta
        }
        if options.update == .sequential {
            t[slot.index] = value
        } else {
            state.pending.append(PendingChange(layer: d, kind: slot.kind, index: slot.index, value: value))
        }
        return decision
    }

    /// §4.2 baselines: every weight of `layers` perturbed at once with N(0, σ_d/10).
    func jointStep(layers: [Int]) -> TrialDecision {
        let start = loadBatch(cachedLayer: layers.count == 1)
        let lossW = executor.run(from: start).meanLoss
        var offset = 0
        var sq0 = 0.0, sqPlus = 0.0, sqMinus = 0.0
        for d in layers {
            let w = parameters.weights[d].storage
            let s = sigma.sigma(layer: d, cycle: state.cycle) / 10
            for i in w.indices {
                let delta = Float(s * deltaRNG.nextGaussian())
                jointBackup[offset + i] = w[i]
                jointDelta[offset + i] = delta
                sq0 += Double(w[i]) * Double(w[i])
                sqPlus += Double(w[i] + delta) * Double(w[i] + delta)
                sqMinus += Double(w[i] - delta) * Double(w[i] - delta)
            }
            offset += w.count
        }
        let restart = max(start, executor.plan.layerStep[layers.min()!])
        setJoint(layers, sign: 1)
        let lossPlus = executor.run(from: restart).meanLoss
        setJoint(layers, sign: -1)
        let lossMinus = executor.run(from: restart).meanLoss
        let lambda = options.weightDecay
        let decision = TrialDecision.decide(lossW: lossW, lossPlus: lossPlus, lossMinus: lossMinus, delta: 0,
                                            penaltyW: lambda * sq0, penaltyPlus: lambda * sqPlus,
                                            penaltyMinus: lambda * sqMinus)
        switch decision.choice {
        case .plus: setJoint(layers, sign: 1)
        case .minus: break  // already W − Δ
        case .kept: setJoint(layers, sign: 0)
        }
        return decision
    }

    /// Weights of `layers` := backup + sign·Δ (sign 0 restores the backup exactly).
    private func setJoint(_ layers: [Int], sign: Float) {
        var offset = 0
        for d in layers {
            let w = parameters.weights[d].storage
            for i in w.indices { w[i] = jointBackup[offset + i] + sign * jointDelta[offset + i] }
            offset += w.count
        }
    }
}
