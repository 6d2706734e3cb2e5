/// Batch reuse: patching W's activations and statistics after an accepted trial.
extension IncrementalEvaluator {
    /// The last trial's variant `v` (`TrialVariant.plus` or `.minus`) was accepted and the
    /// parameter now holds its value: make the executor's W buffers and BN statistics those of the
    /// new W, so the next trial on the same batch starts from them (`--batch-reuse`). Only what the
    /// trial changed is written: channel o along the route; after a transition the variant's
    /// tensors of the tail are adopted whole (their buffers swapped, not copied).
    public func commit(variant v: Int) {
        precondition(Self.variants.contains(v), "commit of variant \(v): expected W+Δ or W−Δ")
        let d = lastLayer
        let current = TrialVariant.current
        switch executor.parameters.network.layers[d] {
        case .fc(let f):
            let K = f.outFeatures, I = f.inFeatures
            let k = lastKind == .weight ? lastIndex / I : lastIndex, i = lastIndex % I
            let featT = plan.steps[plan.layerStep[d]].input
            let delta = deltas[v], weight = lastKind == .weight
            executor.scheduler.forEachChunk(executor.chunkCount) { c, _ in
                let n = executor.samples(inChunk: c)
                let feats = weight ? UnsafePointer(executor.chunkBase(tensor: featT, chunk: c)) : nil
                table.fcColumnAdd(executor.chunkBase(tensor: plan.logitsTensor, chunk: c), Int32(n), Int32(K), Int32(k),
                                  feats, Int32(I), Int32(i), delta)
            }
        case .conv(let spec):
            let r = cost.routes[d]!
            let o = lastKind == .weight ? lastIndex / spec.fanIn : lastIndex
            let weight = lastKind == .weight ? lastWeight : nil
            let tail = tails[d]
            executor.scheduler.forEachChunk(executor.chunkCount) { c, worker in
                routeChunk(r, chunk: c, worker: worker, variant: v, channel: o, weight: weight, commit: true)
            }
            executor.adoptVariantBuffers(tail, variant: v)
            // BN statistics: channel o of layer d in closed form (the values the trial used), per
            // chunk too; every BN of the tail from the variant.
            if weight != nil {
                let st = executor.chunkStatistics(layer: d, variant: current)
                let C = spec.outChannels, dl = Double(deltas[v])
                for c in 0..<executor.chunkCount {  // per-chunk partials updated, not combined
                    st.sum[c * C + o] += dl * shiftSums[3 * c]
                    st.sumSquares[c * C + o] += 2 * dl * shiftSums[3 * c + 1] + dl * dl * shiftSums[3 * c + 2]
                }
                let m = executor.statisticsStorage(layer: d, variant: current)
                m.mean[o] = means[v]
                m.variance[o] = variances[v]
            }
            if let start = r.variantStart {
                for l in executor.parameters.network.layers.indices {
                    guard case .conv(let cl) = executor.parameters.network.layers[l],
                          let bn = plan.bnStep[l], bn >= start else { continue }
                    let from = executor.statisticsStorage(layer: l, variant: v)
                    let to = executor.statisticsStorage(layer: l, variant: current)
                    to.mean.update(from: from.mean, count: cl.outChannels)
                    to.variance.update(from: from.variance, count: cl.outChannels)
                    let fs = executor.chunkStatistics(layer: l, variant: v)
                    let ts = executor.chunkStatistics(layer: l, variant: current)
                    ts.sum.update(from: fs.sum, count: executor.chunkCount * cl.outChannels)
                    ts.sumSquares.update(from: fs.sumSquares, count: executor.chunkCount * cl.outChannels)
                }
            }
        }
    }
}
