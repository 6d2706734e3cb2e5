import CSupport

/// How a weight step evaluates W+Δ and W−Δ.
public enum EvaluationPath: String, Codable, CaseIterable, Sendable {
    /// W+Δ and W−Δ run in full from where the change first matters (the reference).
    case full
    /// Only what the one changed parameter touches is recomputed (exact math; float-equivalent).
    case incremental
}

/// Exact incremental trials (docs/design.md, "Incremental trials"): after the executor has run W
/// over the loaded batch (variant 0 holds every activation and BN statistic of W), the losses of
/// W+Δ and W−Δ for ONE changed parameter are computed from what that parameter touches:
///
/// - FC weight w[k][i] / bias b_k: logit k moves by Δ·f_i / Δ — O(batch).
/// - conv weight w[o][i][ky][kx] of layer d: channel o of the pre-BN output moves by Δ·S,
///   S = shift(A_{d−1}[i], ky, kx); its BN statistics follow in closed form from ΣS, Σz·S, ΣS²;
///   the new channel o after BN/ReLU/pool then follows the layer's `IncrementalRoute`.
/// - BN γ_o/β_o of layer d: the same route from channel o of the BN output (statistics unchanged).
///
/// Variants 1 (W+Δ) and 2 (W−Δ) share the shift statistics; the executor's variant buffers and
/// statistics hold what the transition conv produces, and `ForwardExecutor.runVariants` runs the
/// rest. Chunked like the executor (its scheduler, its chunks), reductions in chunk order: results
/// do not depend on the thread count. Every buffer is allocated in `init`.
public final class IncrementalEvaluator {
    public let executor: ForwardExecutor
    public let plan: ForwardPlan
    public let cost: IncrementalCostModel
    public var routes: [IncrementalRoute?] { cost.routes }

    private let workers: Int
    private let maxChunks: Int
    /// [worker][variant 0/1][tensor]: one channel plane of one chunk.
    private var planes: [[[UnsafeMutablePointer<Float>?]]]
    private let diff: [UnsafeMutablePointer<Float>]
    private let logits: [UnsafeMutablePointer<Float>]
    private let shiftSums: UnsafeMutablePointer<Double>
    private let chunkLoss: UnsafeMutablePointer<Double>
    private let total: UnsafeMutablePointer<Double>
    /// Per conv layer: the transition layer as `runVariants`' preset list, and the tensors a commit
    /// copies from the accepted variant (built once: no allocation per trial).
    private var presets: [[Int]] = []
    private var tails: [[Int]] = []

    // The trial in flight (fixed-size, reused).
    private var deltas: [Float] = [0, 0]
    private var gammas: [Float] = [0, 0]
    private var betas: [Float] = [0, 0]
    private var means: [Double] = [0, 0]
    private var variances: [Double] = [0, 0]
    /// What `commit` needs of the last trial.
    private var lastLayer = -1
    private var lastKind = ParameterKind.weight
    private var lastIndex = 0
    private var lastWeight: (i: Int, ky: Int, kx: Int, k: Int)? = nil

    public init(executor: ForwardExecutor) {
        precondition(executor.maxVariants >= 3, "incremental trials need an executor with 3 variants")
        self.executor = executor
        plan = executor.plan
        cost = IncrementalCostModel(network: executor.parameters.network)
        workers = executor.scheduler.workers
        maxChunks = (executor.capacity + executor.chunkSamples - 1) / executor.chunkSamples
        var used = Set<Int>()
        for r in cost.routes.compactMap({ $0 }) { used.formUnion(r.planeTensors) }
        let n = executor.chunkSamples
        let plan = executor.plan
        planes = (0..<workers).map { _ in
            (0..<2).map { _ in
                plan.tensors.indices.map { t in
                    used.contains(t) ? UnsafeMutablePointer<Float>.allocate(capacity: n * plan.tensors[t].height * plan.tensors[t].width) : nil
                }
            }
        }
        let widest = plan.tensors.map { $0.height * $0.width }.max() ?? 1
        diff = (0..<workers).map { _ in .allocate(capacity: n * widest) }
        logits = (0..<workers).map { _ in .allocate(capacity: n * executor.parameters.network.classes) }
        shiftSums = .allocate(capacity: 3 * maxChunks)
        chunkLoss = .allocate(capacity: 2 * maxChunks)
        let channels = executor.parameters.network.layers.map(\.outputs).max() ?? 1
        total = .allocate(capacity: 2 * channels)
        for r in cost.routes {
            presets.append(r?.transitionLayer.map { [$0] } ?? [])
            var tail: [Int] = []
            if let r, let start = r.variantStart {
                tail = r.variantInputs
                for s in start..<plan.steps.count where plan.steps[s].output != plan.steps[s].input {
                    tail.append(plan.steps[s].output)
                }
            }
            tails.append(tail)
        }
        // Variant buffers the transitions write, allocated now rather than in the trial loop.
        for r in cost.routes.compactMap({ $0 }) {
            for t in r.variantInputs { for v in 1...2 { executor.variantBuffer(tensor: t, variant: v) } }
        }
    }

    deinit {
        for w in planes { for v in w { for p in v { p?.deallocate() } } }
        diff.forEach { $0.deallocate() }
        logits.forEach { $0.deallocate() }
        shiftSums.deallocate()
        chunkLoss.deallocate()
        total.deallocate()
    }

    /// Mean losses of the parameter (layer `d`, `kind`, `index`) set to `plus` and to `minus`, with
    /// every other parameter as in the executor's last run of W over the loaded batch (batch BN).
    public func evaluate(layer d: Int, kind: ParameterKind, index: Int, plus: Float, minus: Float) -> (Double, Double) {
        let layer = executor.parameters.network.layers[d]
        let w0 = executor.parameters.tensor(layer: d, kind: kind)[index]
        lastLayer = d; lastKind = kind; lastIndex = index; lastWeight = nil
        switch layer {
        case .fc(let f):
            deltas[0] = Float(Double(plus) - Double(w0))
            deltas[1] = Float(Double(minus) - Double(w0))
            return fcTrial(layer: d, spec: f, kind: kind, index: index)
        case .conv(let c):
            let route = cost.routes[d]!
            switch kind {
            case .weight:
                deltas[0] = Float(Double(plus) - Double(w0))
                deltas[1] = Float(Double(minus) - Double(w0))
                let kk = c.kernel * c.kernel
                let o = index / c.fanIn, i = (index % c.fanIn) / kk, tap = index % kk
                return convTrial(route, spec: c, o: o, input: i, ky: tap / c.kernel, kx: tap % c.kernel)
            case .gamma, .beta:
                let o = index
                let g = executor.parameters.tensor(layer: d, kind: .gamma)[o]
                let be = executor.parameters.tensor(layer: d, kind: .beta)[o]
                gammas[0] = kind == .gamma ? plus : g; gammas[1] = kind == .gamma ? minus : g
                betas[0] = kind == .beta ? plus : be; betas[1] = kind == .beta ? minus : be
                let st = executor.statisticsStorage(layer: d, variant: 0)
                means[0] = st.mean[o]; means[1] = st.mean[o]
                variances[0] = st.variance[o]; variances[1] = st.variance[o]
                return routeTrial(route, channel: o, weight: nil)
            case .bias:
                preconditionFailure("conv layers have no bias")
            }
        }
    }

    // MARK: FC

    private func fcTrial(layer d: Int, spec f: FCLayerSpec, kind: ParameterKind, index: Int) -> (Double, Double) {
        let K = f.outFeatures, I = f.inFeatures
        let k = kind == .weight ? index / I : index, i = index % I
        let featT = plan.steps[plan.layerStep[d]].input
        executor.scheduler.forEachChunk(executor.chunkCount) { c, worker in
            let n = executor.samples(inChunk: c)
            let lg = logits[worker]
            let feats = executor.chunkBase(tensor: featT, chunk: c)
            for v in 0..<2 {
                lg.update(from: executor.chunkBase(tensor: plan.logitsTensor, chunk: c), count: n * K)
                let delta = deltas[v]
                if kind == .weight {
                    for j in 0..<n { lg[j * K + k] += delta * feats[j * I + i] }
                } else {
                    for j in 0..<n { lg[j * K + k] += delta }
                }
                chunkLoss[v * maxChunks + c] = loss(lg, chunk: c, n: n)
            }
        }
        return reduceLoss()
    }

    private func loss(_ lg: UnsafePointer<Float>, chunk c: Int, n: Int) -> Double {
        var correct: Int32 = 0
        let K = Int32(executor.parameters.network.classes)
        if executor.kernels == .reference {
            return cs_softmax_xent_f32__ref(lg, executor.labelBase(chunk: c), Int32(n), K, &correct)
        }
        return cs_softmax_xent_f32__opt(lg, executor.labelBase(chunk: c), Int32(n), K, &correct)
    }

    private func reduceLoss() -> (Double, Double) {
        var plus = 0.0, minus = 0.0
        for c in 0..<executor.chunkCount { plus += chunkLoss[c]; minus += chunkLoss[maxChunks + c] }  // chunk order
        let b = Double(executor.batchSize)
        return (plus / b, minus / b)
    }

    // MARK: Conv weights

    private func convTrial(_ r: IncrementalRoute, spec: ConvLayerSpec, o: Int, input i: Int, ky: Int, kx: Int) -> (Double, Double) {
        let shape = plan.tensors[r.preBN]
        let H = shape.height, W = shape.width
        let ref = executor.kernels == .reference
        // Pass 1: ΣS, Σz·S, ΣS² per chunk (shared by both signs).
        executor.scheduler.forEachChunk(executor.chunkCount) { c, _ in
            let n = executor.samples(inChunk: c)
            let L = n * H * W
            let out = shiftSums + 3 * c
            out.update(repeating: 0, count: 3)
            let x = executor.chunkBase(tensor: r.input, chunk: c) + i * L
            let z = executor.chunkBase(tensor: r.preBN, chunk: c) + o * L
            (ref ? cs_shift_stats_cnhw_f32__ref : cs_shift_stats_cnhw_f32__opt)(
                x, z, Int32(n), Int32(H), Int32(W), Int32(spec.kernel), Int32(ky), Int32(kx), out)
        }
        // Closed-form statistics of channel o for both signs, reduced in chunk order.
        var sS = 0.0, sZS = 0.0, sSS = 0.0, sZ = 0.0, sZZ = 0.0
        let w = executor.chunkStatistics(layer: r.layer, variant: 0)
        let C = spec.outChannels
        for c in 0..<executor.chunkCount {
            sS += shiftSums[3 * c]; sZS += shiftSums[3 * c + 1]; sSS += shiftSums[3 * c + 2]
            sZ += w.sum[c * C + o]; sZZ += w.sumSquares[c * C + o]
        }
        let count = Double(executor.batchSize * H * W)
        for v in 0..<2 {
            let dl = Double(deltas[v])
            var s1 = sZ + dl * sS
            var s2 = sZZ + 2 * dl * sZS + dl * dl * sSS
            var m = 0.0, va = 0.0
            cs_bn_finalize_stats(&s1, &s2, 1, count, &m, &va)
            means[v] = m; variances[v] = va
        }
        let g = executor.parameters.tensor(layer: r.layer, kind: .gamma)[o]
        let be = executor.parameters.tensor(layer: r.layer, kind: .beta)[o]
        gammas[0] = g; gammas[1] = g; betas[0] = be; betas[1] = be
        lastWeight = (i, ky, kx, spec.kernel)
        return routeTrial(r, channel: o, weight: lastWeight)
    }

    // MARK: The route

    /// Pass 2: per chunk and variant, channel `ch` along the route; then (if the route reaches a
    /// conv) the variants' statistics of that conv and their full run from its BN.
    private func routeTrial(_ r: IncrementalRoute, channel ch: Int, weight: (i: Int, ky: Int, kx: Int, k: Int)?) -> (Double, Double) {
        executor.scheduler.forEachChunk(executor.chunkCount) { c, worker in
            for v in 0..<2 { routeChunk(r, chunk: c, worker: worker, variant: v, channel: ch, weight: weight, commit: false) }
        }
        guard let start = r.variantStart, let e = r.transitionLayer,
              case .conv(let cs) = executor.parameters.network.layers[e] else { return reduceLoss() }
        let C = cs.outChannels
        let count = Double(executor.batchSize * cs.height * cs.width)
        for v in 1...2 {
            let st = executor.chunkStatistics(layer: e, variant: v)
            total.update(repeating: 0, count: 2 * C)
            for c in 0..<executor.chunkCount {  // chunk order
                for o in 0..<C { total[o] += st.sum[c * C + o]; total[C + o] += st.sumSquares[c * C + o] }
            }
            let out = executor.statisticsStorage(layer: e, variant: v)
            cs_bn_finalize_stats(total, total + C, Int32(C), count, out.mean, out.variance)
        }
        let r3 = executor.runVariants(from: start, variants: 3, variantInputs: r.variantInputs, presetStatistics: presets[r.layer])
        return (r3[1].meanLoss, r3[2].meanLoss)
    }

    /// Channel `ch` of chunk `c` along the route for variant `v` (0: W+Δ, 1: W−Δ), in the worker's
    /// planes. `commit`: the trial of `v` was accepted; write what it changed into W's buffers
    /// instead of computing a loss (the transition's variant buffers are copied by `commit`).
    private func routeChunk(_ r: IncrementalRoute, chunk c: Int, worker: Int, variant v: Int, channel ch: Int,
                            weight: (i: Int, ky: Int, kx: Int, k: Int)?, commit: Bool) {
                let ref = executor.kernels == .reference
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
                    (ref ? cs_shift_axpy_cnhw_f32__ref : cs_shift_axpy_cnhw_f32__opt)(
                        zIn, x, Int32(n), Int32(zs.height), Int32(zs.width), Int32(wt.k), Int32(wt.ky), Int32(wt.kx),
                        deltas[v], slot[r.preBN]!)
                    zIn = UnsafePointer(slot[r.preBN]!)
                }
                var g = gammas[v], b = betas[v], m = means[v], va = variances[v]
                if r.pooled {
                    (ref ? cs_bn_relu_avgpool2_cnhw_f32__ref : cs_bn_relu_avgpool2_cnhw_f32__opt)(
                        zIn, 1, Int32(n), Int32(zs.height), Int32(zs.width), &g, &b, &m, &va, eps, r.relu ? 1 : 0, slot[r.output]!)
                } else {
                    (ref ? cs_bn_relu_infer_f32__ref : cs_bn_relu_infer_f32__opt)(
                        zIn, 1, L, &g, &b, &m, &va, eps, r.relu ? 1 : 0, slot[r.output]!)
                }
                for op in r.ops {
                    switch op {
                    case .pool(let a, let to):
                        let s = plan.tensors[a]
                        (ref ? cs_avgpool2_cnhw_f32__ref : cs_avgpool2_cnhw_f32__opt)(
                            slot[a]!, 1, Int32(n), Int32(s.height), Int32(s.width), slot[to]!)
                    case .globalPool(let a, let to):
                        let s = plan.tensors[a]
                        (ref ? cs_global_avgpool_cnhw_f32__ref : cs_global_avgpool_cnhw_f32__opt)(
                            slot[a]!, 1, Int32(n), s.height * s.width, slot[to]!)
                    case .addSkip(let y, let skip, let yChanged, let skipChanged, let relu, let bnLayer, let bnInput):
                        let s = plan.tensors[y]
                        let l = n * s.height * s.width
                        if !yChanged {  // pre-add value of channel ch, as W's BN produced it
                            let st = executor.statisticsStorage(layer: bnLayer, variant: 0)
                            let gp = params.tensor(layer: bnLayer, kind: .gamma).storage.baseAddress! + ch
                            let bp = params.tensor(layer: bnLayer, kind: .beta).storage.baseAddress! + ch
                            (ref ? cs_bn_relu_infer_f32__ref : cs_bn_relu_infer_f32__opt)(
                                executor.chunkBase(tensor: bnInput, chunk: c) + ch * l, 1, l, gp, bp,
                                st.mean + ch, st.variance + ch, eps, 0, slot[y]!)
                        }
                        let skipChannels = plan.tensors[skip].channels
                        let sp: UnsafePointer<Float>? = skipChanged ? UnsafePointer(slot[skip]!)
                            : ch < skipChannels ? UnsafePointer(executor.chunkBase(tensor: skip, chunk: c) + ch * l) : nil
                        (ref ? cs_residual_add_cnhw_f32__ref : cs_residual_add_cnhw_f32__opt)(
                            slot[y]!, sp, 1, sp == nil ? 0 : 1, l, relu ? 1 : 0)
                    case .fcLoss(let a, let e):
                        guard case .fc(let f) = params.network.layers[e] else { break }
                        let K = f.outFeatures, I = f.inFeatures
                        let lg = commit ? executor.chunkBase(tensor: plan.logitsTensor, chunk: c) : logits[worker]
                        if !commit { lg.update(from: executor.chunkBase(tensor: plan.logitsTensor, chunk: c), count: n * K) }
                        let feats = executor.chunkBase(tensor: a, chunk: c)
                        let wf = params.weights[e].storage.baseAddress!
                        let new = slot[a]!
                        for j in 0..<n {
                            let dv = new[j] - feats[j * I + ch]
                            for k in 0..<K { lg[j * K + k] += dv * wf[k * I + ch] }
                        }
                        if !commit { chunkLoss[v * maxChunks + c] = loss(lg, chunk: c, n: n) }
                    case .transition(let a, let e, let output, let materialize):
                        guard !commit, case .conv(let cs) = params.network.layers[e] else { break }
                        let s = plan.tensors[a]
                        let l = n * s.height * s.width
                        cs_sub_f32(slot[a]!, executor.chunkBase(tensor: a, chunk: c) + ch * l, l, diff[worker])
                        let st = executor.chunkStatistics(layer: e, variant: v + 1)
                        let sum = st.sum + c * cs.outChannels, sq = st.sumSquares + c * cs.outChannels
                        sum.update(repeating: 0, count: cs.outChannels)
                        sq.update(repeating: 0, count: cs.outChannels)
                        (ref ? cs_conv1ch_add_cnhw_f32__ref : cs_conv1ch_add_cnhw_f32__opt)(
                            diff[worker], params.weights[e].storage.baseAddress!, Int32(cs.inChannels), Int32(ch),
                            Int32(cs.outChannels), Int32(n), Int32(s.height), Int32(s.width), Int32(cs.kernel),
                            executor.chunkBase(tensor: output, chunk: c),
                            executor.variantChunkBase(tensor: output, chunk: c, variant: v + 1), sum, sq)
                        for t in materialize {
                            let ts = plan.tensors[t]
                            let dst = executor.variantChunkBase(tensor: t, chunk: c, variant: v + 1)
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

    // MARK: Batch reuse: patching W's activations

    /// The last trial's variant (0: W+Δ, 1: W−Δ) was accepted and the parameter now holds its
    /// value: make the executor's W buffers and BN statistics those of the new W, so the next trial
    /// on the same batch starts from them (`--batch-reuse`). Only what the trial changed is written:
    /// channel o along the route, then (after a transition) the variant's tensors of the tail.
    public func commit(variant v: Int) {
        precondition(v == 0 || v == 1)
        let d = lastLayer
        switch executor.parameters.network.layers[d] {
        case .fc(let f):
            let K = f.outFeatures, I = f.inFeatures
            let k = lastKind == .weight ? lastIndex / I : lastIndex, i = lastIndex % I
            let featT = plan.steps[plan.layerStep[d]].input
            let delta = deltas[v], weight = lastKind == .weight
            executor.scheduler.forEachChunk(executor.chunkCount) { c, _ in
                let n = executor.samples(inChunk: c)
                let lg = executor.chunkBase(tensor: plan.logitsTensor, chunk: c)
                let feats = executor.chunkBase(tensor: featT, chunk: c)
                for j in 0..<n { lg[j * K + k] += weight ? delta * feats[j * I + i] : delta }
            }
        case .conv(let spec):
            let r = cost.routes[d]!
            let o = lastKind == .weight ? lastIndex / spec.fanIn : lastIndex
            let weight = lastKind == .weight ? lastWeight : nil
            let tail = tails[d]
            executor.scheduler.forEachChunk(executor.chunkCount) { c, worker in
                routeChunk(r, chunk: c, worker: worker, variant: v, channel: o, weight: weight, commit: true)
                let n = executor.samples(inChunk: c)
                for t in tail {
                    executor.chunkBase(tensor: t, chunk: c).update(
                        from: executor.variantChunkBase(tensor: t, chunk: c, variant: v + 1),
                        count: n * plan.tensors[t].elementsPerSample)
                }
            }
            // BN statistics: channel o of layer d in closed form (the values the trial used), per
            // chunk too; every BN of the tail from the variant.
            if weight != nil {
                let st = executor.chunkStatistics(layer: d, variant: 0)
                let C = spec.outChannels, dl = Double(deltas[v])
                for c in 0..<executor.chunkCount {
                    st.sum[c * C + o] += dl * shiftSums[3 * c]
                    st.sumSquares[c * C + o] += 2 * dl * shiftSums[3 * c + 1] + dl * dl * shiftSums[3 * c + 2]
                }
                let m = executor.statisticsStorage(layer: d, variant: 0)
                m.mean[o] = means[v]
                m.variance[o] = variances[v]
            }
            if let start = r.variantStart {
                for l in executor.parameters.network.layers.indices {
                    guard case .conv(let cl) = executor.parameters.network.layers[l],
                          let route = cost.routes[l], route.bnStep >= start else { continue }
                    let from = executor.statisticsStorage(layer: l, variant: v + 1)
                    let to = executor.statisticsStorage(layer: l, variant: 0)
                    to.mean.update(from: from.mean, count: cl.outChannels)
                    to.variance.update(from: from.variance, count: cl.outChannels)
                    let fs = executor.chunkStatistics(layer: l, variant: v + 1)
                    let ts = executor.chunkStatistics(layer: l, variant: 0)
                    ts.sum.update(from: fs.sum, count: executor.chunkCount * cl.outChannels)
                    ts.sumSquares.update(from: fs.sumSquares, count: executor.chunkCount * cl.outChannels)
                }
            }
        }
    }
}
