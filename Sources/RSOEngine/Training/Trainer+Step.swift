/// One RSO step: fresh batch, Δ, losses of W / W+Δ / W−Δ on that batch, keep the best.
extension Trainer {
    func step(unit u: Int, position p: Int) -> TrialDecision {
        switch options.sampling {
        case .weight: return weightStep(layer: visit.layers[u], position: p)
        case .layer: return jointStep(layers: [visit.layers[u]])
        case .network: return jointStep(layers: allLayers)
        }
    }

    /// Draws the step's batch and loads it: from the activation cache of layer `d` when there is
    /// one (the run starts at d), else the images (the run starts at the input).
    func loadBatch(cachedLayer: Bool) -> Int {
        sampler.sample(options.batch, using: &batchRNG, into: batchIndices)
        let idx = UnsafeBufferPointer(batchIndices)
        var start = 0
        if cachedLayer, let cache {
            // With the output cache, layer d's input is gathered by channel as trials need it.
            cache.load(into: executor, indices: idx, deferring: outputCache?.deferredInput?.tensor)
            start = cache.startStep
        } else {
            executor.loadInput(from: train, indices: idx)
        }
        if cachedLayer, let outputCache {
            outputCache.load(into: executor, indices: idx)
            start = outputCache.startStep
        }
        if cachedLayer, let deferred = outputCache?.deferredInput { incremental.deferredInput = deferred }
        return start
    }

    /// Runs the shared part of a step once (variant 0, from `start` up to `split`), then W, W+Δ and
    /// W−Δ side by side from `split` (variants 0, 1, 2, whose overrides the caller has set).
    func evaluateThree(start: Int, split: Int) -> (Double, Double, Double) {
        if split > start { executor.run(from: start, to: split) }
        let r = executor.run(from: split, variants: 3)
        executor.clearOverrides()
        return (r[0].meanLoss, r[1].meanLoss, r[2].meanLoss)
    }

    func weightStep(layer d: Int, position p: Int) -> TrialDecision {
        let decision = evaluateWeightTrial(layer: d, position: p)
        applyWeightDecision(decision, layer: d, position: p)
        return decision
    }

    /// What `evaluateWeightTrial` draws from the batch and Δ streams, without evaluating: a trial
    /// another rank owns (its batch is fresh: rank-owned trials run without batch reuse).
    func drawWeightTrial(layer d: Int) {
        sampler.sample(options.batch, using: &batchRNG, into: batchIndices)
        _ = options.delta.sample(sigma: sigma.sigma(layer: d, cycle: state.cycle), using: &deltaRNG)
    }

    /// Slot `p` of layer `d`: draws the batch and Δ, evaluates W, W+Δ and W−Δ and decides,
    /// changing no weight.
    func evaluateWeightTrial(layer d: Int, position p: Int) -> TrialDecision {
        let slot = visit.slot(layer: d, position: p)
        // Batch reuse: a fresh batch every `batchReuse` positions of the unit; in between, the
        // loaded batch (and, on the incremental path, W's activations and loss) carry over.
        let reuse = options.batchReuse
        let fresh = reuse <= 1 || p % reuse == 0 || !reuseValid
        let start = fresh ? loadBatch(cachedLayer: true) : reuseStart
        reuseStart = start
        // Layers below the changed parameter are the same for all three: they run once, and the
        // variants split where the change first matters (layer d's conv/FC, or its BN for γ/β).
        let split = max(start, executor.plan.changeStep(layer: d, kind: slot.kind))
        let t = tensor(layer: d, kind: slot.kind)
        let w0 = t[slot.index]
        let delta = Float(options.delta.sample(sigma: sigma.sigma(layer: d, cycle: state.cycle), using: &deltaRNG))
        let lossW: Double, lossPlus: Double, lossMinus: Double
        let kind = TrialKind.of(layer: parameters.network.layers[d], kind: slot.kind)
        let batch = Double(executor.batchSize)
        if options.evaluation == .incremental {
            // W in full (its activations are what the ± variants patch), then only what the one
            // parameter touches.
            // (W's tensors from the route's variant start on are never read back: the variants
            // recompute them, so those that can stay in worker scratch do.)
            let unread = incremental.routes[d]?.variantStart ?? Int.max
            lossW = fresh ? executor.run(from: start, chunkLocalFrom: unread).meanLoss : reuseLossW
            (lossPlus, lossMinus) = incremental.evaluate(layer: d, kind: slot.kind, index: slot.index,
                                                         plus: w0 + delta, minus: w0 - delta)
            trialWork.add(kind, flops: batch * costModel.incrementalTrialFlops(layer: d, kind: kind, start: start, freshBatch: fresh),
                          trial: true)
        } else {
            executor.override(variant: 1, layer: d, kind: slot.kind)[slot.index] = w0 + delta
            executor.override(variant: 2, layer: d, kind: slot.kind)[slot.index] = w0 - delta
            (lossW, lossPlus, lossMinus) = evaluateThree(start: start, split: split)
            trialWork.add(kind, flops: batch * costModel.fullTrialFlops(layer: d, kind: kind, start: start), trial: true)
        }
        let lambda = slot.kind == .weight ? options.weightDecay : 0
        func penalty(_ v: Float) -> Double { lambda * Double(v) * Double(v) }
        let decision = TrialDecision.decide(lossW: lossW, lossPlus: lossPlus, lossMinus: lossMinus,
                                            delta: Double(delta), penaltyW: penalty(w0),
                                            penaltyPlus: penalty(w0 + delta), penaltyMinus: penalty(w0 - delta))
        if reuse > 1 {
            reuseValid = true
            if options.evaluation == .incremental { reuseLossW = decision.keptLoss }
        }
        return decision
    }

    /// Takes slot `p`'s decision: the sequential scheme changes the weight now, the parallel ones
    /// queue the change until their merge (the weight still holds the value the trial started from).
    func applyWeightDecision(_ decision: TrialDecision, layer d: Int, position p: Int) {
        let slot = visit.slot(layer: d, position: p)
        let t = tensor(layer: d, kind: slot.kind)
        let w0 = t[slot.index]
        let delta = Float(decision.delta)  // exact: the Δ was a Float
        let reuse = options.batchReuse
        let value: Float
        switch decision.choice {
        case .kept: return
        case .plus: value = w0 + delta
        case .minus: value = w0 - delta
        }
        if options.update == .sequential {
            patchOutputCache(layer: d, kind: slot.kind, index: slot.index, from: w0, to: value)
            t[slot.index] = value
            // The next trial reuses this batch: patch W's activations with the accepted variant's.
            if reuse > 1, options.evaluation == .incremental {
                if (p + 1) % reuse != 0 {
                    incremental.commit(variant: decision.choice == .plus ? TrialVariant.plus : TrialVariant.minus)
                } else {
                    reuseValid = false  // the next position draws a fresh batch anyway
                }
            }
        } else {
            state.pending.append(PendingChange(layer: d, kind: slot.kind, index: slot.index, value: value))
        }
    }

    /// §4.2 baselines: every weight of `layers` perturbed at once with N(0, σ_d/10).
    func jointStep(layers: [Int]) -> TrialDecision {
        let start = loadBatch(cachedLayer: layers.count == 1)
        var offset = 0
        var sq0 = 0.0, sqPlus = 0.0, sqMinus = 0.0
        for d in layers {
            let w = parameters.weights[d].storage
            let plus = executor.override(variant: 1, layer: d, kind: .weight)
            let minus = executor.override(variant: 2, layer: d, kind: .weight)
            let s = sigma.sigma(layer: d, cycle: state.cycle) / 10
            for i in w.indices {
                let delta = Float(s * deltaRNG.nextGaussian())
                jointDelta[offset + i] = delta
                plus[i] = w[i] + delta
                minus[i] = w[i] - delta
                sq0 += Double(w[i]) * Double(w[i])
                sqPlus += Double(plus[i]) * Double(plus[i])
                sqMinus += Double(minus[i]) * Double(minus[i])
            }
            offset += w.count
        }
        let (lossW, lossPlus, lossMinus) = evaluateThree(start: start,
                                                         split: max(start, executor.plan.changeStep(layer: layers.min()!, kind: .weight)))
        let lambda = options.weightDecay
        let decision = TrialDecision.decide(lossW: lossW, lossPlus: lossPlus, lossMinus: lossMinus, delta: 0,
                                            penaltyW: lambda * sq0, penaltyPlus: lambda * sqPlus,
                                            penaltyMinus: lambda * sqMinus)
        let sign: Float
        switch decision.choice {
        case .plus: sign = 1
        case .minus: sign = -1
        case .kept: return decision
        }
        offset = 0
        for d in layers {
            let w = parameters.weights[d].storage
            for i in w.indices { w[i] += sign * jointDelta[offset + i] }
            offset += w.count
        }
        return decision
    }
}
