import CSupport

/// The route of a conv change (see `IncrementalRoute`): channel ch of one chunk through the steps
/// that keep it single-channel, then the variants' full run from the transition conv's BN.
extension IncrementalEvaluator {
    /// Pass 2: per chunk and variant, channel `ch` along the route; then (if the route reaches a
    /// conv) the variants' statistics of that conv and their full run from its BN.
    func routeTrial(_ r: IncrementalRoute, channel ch: Int, weight: (i: Int, ky: Int, kx: Int, k: Int)?) -> (Double, Double) {
        executor.scheduler.forEachChunk(executor.chunkCount) { c, worker in
            for v in Self.variants { routeChunk(r, chunk: c, worker: worker, variant: v, channel: ch, weight: weight, commit: false) }
        }
        guard let start = r.variantStart, let e = r.transitionLayer else { return reduceLoss() }
        for v in Self.variants { executor.finalizeStatistics(layer: e, variant: v) }
        let r3 = executor.runVariants(from: start, variants: TrialVariant.count, variantInputs: r.variantInputs,
                                      presetStatistics: presets[r.layer])
        return (r3[TrialVariant.plus].meanLoss, r3[TrialVariant.minus].meanLoss)
    }

    /// Channel `ch` of chunk `c` along the route for variant `v` (`TrialVariant.plus`/`.minus`), in
    /// the worker's planes. `commit`: the trial of `v` was accepted; write what it changed into W's
    /// buffers instead of computing a loss (the transition's variant buffers are copied by `commit`).
    func routeChunk(_ r: IncrementalRoute, chunk c: Int, worker: Int, variant v: Int, channel ch: Int,
                    weight: (i: Int, ky: Int, kx: Int, k: Int)?, commit: Bool) {
        let eps = executor.eps
        let params = executor.parameters
        let n = executor.samples(inChunk: c)
        let slot = planes[worker][v]
        // Origin: channel ch of layer d's BN output.
        let zs = plan.tensors[r.preBN]
        let L = n * zs.height * zs.width
        var zIn = UnsafePointer(executor.chunkBase(tensor: r.preBN, chunk: c) + ch * L)
        if let wt = weight {
            let x = executor.chunkBase(tensor: r.input, chunk: c) + wt.i * L
            table.shiftAxpy(zIn, x, Int32(n), Int32(zs.height), Int32(zs.width), Int32(wt.k), Int32(wt.ky), Int32(wt.kx),
                            deltas[v], slot[r.preBN]!)
            zIn = UnsafePointer(slot[r.preBN]!)
        }
        var g = gammas[v], b = betas[v], m = means[v], va = variances[v]
        if r.pooled {
            table.bnReluAvgpool2(zIn, 1, Int32(n), Int32(zs.height), Int32(zs.width), &g, &b, &m, &va, eps,
                                 r.relu ? 1 : 0, slot[r.output]!)
        } else {
            table.bnReluInfer(zIn, 1, L, &g, &b, &m, &va, eps, r.relu ? 1 : 0, slot[r.output]!)
        }
        for op in r.ops {
            switch op {
            case .pool(let a, let to):
                let s = plan.tensors[a]
                table.avgpool2(slot[a]!, 1, Int32(n), Int32(s.height), Int32(s.width), slot[to]!)
            case .globalPool(let a, let to):
                let s = plan.tensors[a]
                table.globalAvgpool(slot[a]!, 1, Int32(n), s.height * s.width, slot[to]!)
            case .addSkip(let y, let skip, let yChanged, let skipChanged, let relu, let bnLayer, let bnInput):
                let s = plan.tensors[y]
                let l = n * s.height * s.width
                if !yChanged {  // pre-add value of channel ch, as W's BN produced it
                    let st = executor.statisticsStorage(layer: bnLayer, variant: TrialVariant.current)
                    let gp = params.tensor(layer: bnLayer, kind: .gamma).storage.baseAddress! + ch
                    let bp = params.tensor(layer: bnLayer, kind: .beta).storage.baseAddress! + ch
                    table.bnReluInfer(executor.chunkBase(tensor: bnInput, chunk: c) + ch * l, 1, l, gp, bp,
                                      st.mean + ch, st.variance + ch, eps, 0, slot[y]!)
                }
                let skipChannels = plan.tensors[skip].channels
                let sp: UnsafePointer<Float>? = skipChanged ? UnsafePointer(slot[skip]!)
                    : ch < skipChannels ? UnsafePointer(executor.chunkBase(tensor: skip, chunk: c) + ch * l) : nil
                table.residualAdd(slot[y]!, sp, 1, sp == nil ? 0 : 1, l, relu ? 1 : 0)
            case .fcLoss(let a, let e):
                guard case .fc(let f) = params.network.layers[e] else { break }
                let K = f.outFeatures, I = f.inFeatures
                let lg = commit ? executor.chunkBase(tensor: plan.logitsTensor, chunk: c) : logits[worker]
                if !commit { lg.update(from: executor.chunkBase(tensor: plan.logitsTensor, chunk: c), count: n * K) }
                table.fcInputChange(lg, Int32(n), Int32(K), slot[a]!, executor.chunkBase(tensor: a, chunk: c), Int32(I),
                                    Int32(ch), params.weights[e].storage.baseAddress!)
                if !commit { chunkLoss[v * maxChunks + c] = loss(lg, chunk: c, n: n) }
            case .transition(let a, let e, let output, let materialize):
                guard !commit, case .conv(let cs) = params.network.layers[e] else { break }
                let s = plan.tensors[a]
                let l = n * s.height * s.width
                cs_sub_f32(slot[a]!, executor.chunkBase(tensor: a, chunk: c) + ch * l, l, diff[worker])
                let st = executor.chunkStatistics(layer: e, variant: v)
                let sum = st.sum + c * cs.outChannels, sq = st.sumSquares + c * cs.outChannels
                sum.update(repeating: 0, count: cs.outChannels)
                sq.update(repeating: 0, count: cs.outChannels)
                table.conv1chAdd(diff[worker], params.weights[e].storage.baseAddress!, Int32(cs.inChannels), Int32(ch),
                                 Int32(cs.outChannels), Int32(n), Int32(s.height), Int32(s.width), Int32(cs.kernel),
                                 executor.chunkBase(tensor: output, chunk: c),
                                 executor.variantChunkBase(tensor: output, chunk: c, variant: v), sum, sq)
                for t in materialize {
                    let ts = plan.tensors[t]
                    let dst = executor.variantChunkBase(tensor: t, chunk: c, variant: v)
                    dst.update(from: executor.chunkBase(tensor: t, chunk: c), count: n * ts.elementsPerSample)
                    let tl = n * ts.height * ts.width
                    (dst + ch * tl).update(from: slot[t]!, count: tl)
                }
            }
        }
        guard commit else { return }
        // The accepted variant's planes become W's channel ch.
        for t in r.planeTensors {
            let ts = plan.tensors[t]
            let dst = executor.chunkBase(tensor: t, chunk: c)
            if t == r.preBN && weight == nil { continue }  // γ/β: the conv output did not change
            if ts.flat {
                for j in 0..<n { dst[j * ts.channels + ch] = slot[t]![j] }
            } else {
                let tl = n * ts.height * ts.width
                (dst + ch * tl).update(from: slot[t]!, count: tl)
            }
        }
    }
}
