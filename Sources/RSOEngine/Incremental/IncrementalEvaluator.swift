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
/// Variants are numbered as in the executor (`TrialVariant`: 1 is W+Δ, 2 is W−Δ); they share the
/// shift statistics; the executor's variant buffers and statistics hold what the transition conv
/// produces, and `ForwardExecutor.runVariants` runs the rest. Chunked like the executor (its
/// scheduler, its chunks, its kernel table), partials combined only by the executor's `reduction`:
/// results do not depend on the thread count. Every buffer is allocated in `init`.
///
/// This file: the trial entry point and the FC and conv-weight trials. The route of a conv change
/// is IncrementalEvaluator+Route.swift; patching W after an accepted trial, +Commit.swift.
public final class IncrementalEvaluator {
    public let executor: ForwardExecutor
    public let plan: ForwardPlan
    public let cost: IncrementalCostModel
    public var routes: [IncrementalRoute?] { cost.routes }
    let table: KernelTable

    let workers: Int
    let maxChunks: Int
    /// [worker][variant][tensor]: one channel plane of one chunk (variants 1 and 2).
    var planes: [[[UnsafeMutablePointer<Float>?]]]
    let diff: [UnsafeMutablePointer<Float>]
    let logits: [UnsafeMutablePointer<Float>]
    /// [chunk][3]: ΣS, Σz·S, ΣS² of the last conv-weight trial, and their batch totals.
    let shiftSums: UnsafeMutablePointer<Double>
    let shiftTotals: UnsafeMutablePointer<Double>
    /// [variant][chunk] loss sums.
    let chunkLoss: UnsafeMutablePointer<Double>
    /// Per conv layer: the transition layer as `runVariants`' preset list, and the tensors a commit
    /// adopts from the accepted variant (built once: no allocation per trial).
    var presets: [[Int]] = []
    var tails: [[Int]] = []

    // The trial in flight, indexed by variant (fixed-size, reused; index 0 unused).
    var deltas: [Float] = [0, 0, 0]
    var gammas: [Float] = [0, 0, 0]
    var betas: [Float] = [0, 0, 0]
    var means: [Double] = [0, 0, 0]
    var variances: [Double] = [0, 0, 0]
    /// Layer d's input gathered by channel (the output cache's, set by the trainer with each batch):
    /// a conv-weight trial gathers its input channel first when the batch does not have it yet.
    /// Weak: the output cache owns it, and it goes with the cache at the end of the layer's visit.
    public weak var deferredInput: DeferredInputChannels?
    /// What `commit` needs of the last trial.
    var lastLayer = -1
    var lastKind = ParameterKind.weight
    var lastIndex = 0
    var lastWeight: (i: Int, ky: Int, kx: Int, k: Int)? = nil

    static let variants = TrialVariant.plus...TrialVariant.minus

    /// `cost`: the trainer's model of the executor's plan (built from it when nil).
    public init(executor: ForwardExecutor, cost: IncrementalCostModel? = nil) {
        precondition(executor.maxVariants >= TrialVariant.count, "incremental trials need an executor with 3 variants")
        self.executor = executor
        plan = executor.plan
        table = executor.table
        let cost = cost ?? IncrementalCostModel(plan: executor.plan)
        self.cost = cost
        workers = executor.scheduler.workers
        maxChunks = executor.maxChunks
        var used = Set<Int>()
        for r in cost.routes.compactMap({ $0 }) { used.formUnion(r.planeTensors) }
        let n = executor.chunkSamples
        let plan = executor.plan
        planes = (0..<workers).map { _ in
            (0..<TrialVariant.count).map { v in
                plan.tensors.indices.map { t in
                    v != TrialVariant.current && used.contains(t)
                        ? UnsafeMutablePointer<Float>.allocate(capacity: n * plan.tensors[t].height * plan.tensors[t].width) : nil
                }
            }
        }
        let widest = plan.tensors.map { $0.height * $0.width }.max() ?? 1
        diff = (0..<workers).map { _ in .allocate(capacity: n * widest) }
        logits = (0..<workers).map { _ in .allocate(capacity: n * executor.parameters.network.classes) }
        shiftSums = .allocate(capacity: 3 * maxChunks)
        shiftTotals = .allocate(capacity: 3)
        chunkLoss = .allocate(capacity: TrialVariant.count * maxChunks)
        for r in cost.routes {
            presets.append(r?.transitionLayer.map { [$0] } ?? [])
            var tail: [Int] = []
            if let r, let start = r.variantStart {
                tail = r.variantInputs
                for s in start..<plan.steps.count where plan.steps[s].output != plan.steps[s].input {
                    tail.append(plan.steps[s].output)
                }
            }
            var seen = Set<Int>()  // a commit swaps each tensor's buffers once
            tails.append(tail.filter { seen.insert($0).inserted })
        }
        // Variant buffers the transitions write, allocated now rather than in the trial loop.
        for r in cost.routes.compactMap({ $0 }) {
            for t in r.variantInputs { for v in Self.variants { executor.variantBuffer(tensor: t, variant: v) } }
        }
    }

    deinit {
        for w in planes { for v in w { for p in v { p?.deallocate() } } }
        diff.forEach { $0.deallocate() }
        logits.forEach { $0.deallocate() }
        shiftSums.deallocate()
        shiftTotals.deallocate()
        chunkLoss.deallocate()
    }

    /// Mean losses of the parameter (layer `d`, `kind`, `index`) set to `plus` and to `minus`, with
    /// every other parameter as in the executor's last run of W over the loaded batch (batch BN).
    public func evaluate(layer d: Int, kind: ParameterKind, index: Int, plus: Float, minus: Float) -> (Double, Double) {
        let layer = executor.parameters.network.layers[d]
        let w0 = executor.parameters.tensor(layer: d, kind: kind)[index]
        lastLayer = d; lastKind = kind; lastIndex = index; lastWeight = nil
        switch layer {
        case .fc(let f):
            setDeltas(plus: plus, minus: minus, from: w0)
            return fcTrial(layer: d, spec: f, kind: kind, index: index)
        case .conv(let c):
            let route = cost.routes[d]!
            switch kind {
            case .weight:
                setDeltas(plus: plus, minus: minus, from: w0)
                let kk = c.kernel * c.kernel
                let o = index / c.fanIn, i = (index % c.fanIn) / kk, tap = index % kk
                return convTrial(route, spec: c, o: o, input: i, ky: tap / c.kernel, kx: tap % c.kernel)
            case .gamma, .beta:
                let o = index
                let g = executor.parameters.tensor(layer: d, kind: .gamma)[o]
                let be = executor.parameters.tensor(layer: d, kind: .beta)[o]
                let st = executor.statisticsStorage(layer: d, variant: TrialVariant.current)
                for (v, value) in [(TrialVariant.plus, plus), (TrialVariant.minus, minus)] {
                    gammas[v] = kind == .gamma ? value : g
                    betas[v] = kind == .beta ? value : be
                    means[v] = st.mean[o]
                    variances[v] = st.variance[o]
                }
                return routeTrial(route, channel: o, weight: nil)
            case .bias:
                preconditionFailure("conv layers have no bias")
            }
        }
    }

    private func setDeltas(plus: Float, minus: Float, from w0: Float) {
        deltas[TrialVariant.plus] = Float(Double(plus) - Double(w0))
        deltas[TrialVariant.minus] = Float(Double(minus) - Double(w0))
    }

    // MARK: FC

    private func fcTrial(layer d: Int, spec f: FCLayerSpec, kind: ParameterKind, index: Int) -> (Double, Double) {
        let K = f.outFeatures, I = f.inFeatures
        let k = kind == .weight ? index / I : index, i = index % I
        let featT = plan.steps[plan.layerStep[d]].input
        executor.scheduler.forEachChunk(executor.chunkCount) { c, worker in
            let n = executor.samples(inChunk: c)
            let lg = logits[worker]
            let feats = kind == .weight ? UnsafePointer(executor.chunkBase(tensor: featT, chunk: c)) : nil
            for v in Self.variants {
                lg.update(from: executor.chunkBase(tensor: plan.logitsTensor, chunk: c), count: n * K)
                table.fcColumnAdd(lg, Int32(n), Int32(K), Int32(k), feats, Int32(I), Int32(i), deltas[v])
                chunkLoss[v * maxChunks + c] = loss(lg, chunk: c, n: n)
            }
        }
        return reduceLoss()
    }

    func loss(_ lg: UnsafePointer<Float>, chunk c: Int, n: Int) -> Double {
        var correct: Int32 = 0
        return table.softmaxXent(lg, executor.labelBase(chunk: c), Int32(n), Int32(executor.parameters.network.classes),
                                 &correct)
    }

    /// Mean losses of W+Δ and W−Δ from their per-chunk loss sums.
    func reduceLoss() -> (Double, Double) {
        let b = Double(executor.batchSize)
        let r = executor.reduction
        return (r.sum(chunkLoss + TrialVariant.plus * maxChunks, chunks: executor.chunkCount) / b,
                r.sum(chunkLoss + TrialVariant.minus * maxChunks, chunks: executor.chunkCount) / b)
    }

    // MARK: Conv weights

    private func convTrial(_ r: IncrementalRoute, spec: ConvLayerSpec, o: Int, input i: Int, ky: Int, kx: Int) -> (Double, Double) {
        let shape = plan.tensors[r.preBN]
        let H = shape.height, W = shape.width
        // Pass 1: ΣS, Σz·S, ΣS² per chunk (shared by both signs), after gathering input channel i
        // when it is deferred and not loaded yet.
        let gather = deferredInput.flatMap { $0.tensor == r.input && !$0.isLoaded(channel: i) ? $0 : nil }
        executor.scheduler.forEachChunk(executor.chunkCount) { c, worker in
            gather?.gather(channel: i, chunk: c, worker: worker, into: executor)
            let n = executor.samples(inChunk: c)
            let L = n * H * W
            let out = shiftSums + 3 * c
            out.update(repeating: 0, count: 3)
            let x = executor.chunkBase(tensor: r.input, chunk: c) + i * L
            let z = executor.chunkBase(tensor: r.preBN, chunk: c) + o * L
            table.shiftStats(x, z, Int32(n), Int32(H), Int32(W), Int32(spec.kernel), Int32(ky), Int32(kx), out)
        }
        gather?.markLoaded(channel: i)
        // Closed-form statistics of channel o for both signs, from the batch totals.
        executor.reduction.sum(shiftSums, chunks: executor.chunkCount, stride: 3, width: 3, into: shiftTotals)
        let sS = shiftTotals[0], sZS = shiftTotals[1], sSS = shiftTotals[2]
        let w = executor.chunkStatistics(layer: r.layer, variant: TrialVariant.current)
        let C = spec.outChannels
        let sZ = executor.reduction.sum(w.sum + o, chunks: executor.chunkCount, stride: C)
        let sZZ = executor.reduction.sum(w.sumSquares + o, chunks: executor.chunkCount, stride: C)
        let count = Double(executor.batchSize * H * W)
        let g = executor.parameters.tensor(layer: r.layer, kind: .gamma)[o]
        let be = executor.parameters.tensor(layer: r.layer, kind: .beta)[o]
        for v in Self.variants {
            let dl = Double(deltas[v])
            var s1 = sZ + dl * sS
            var s2 = sZZ + 2 * dl * sZS + dl * dl * sSS
            var m = 0.0, va = 0.0
            cs_bn_finalize_stats(&s1, &s2, 1, count, &m, &va)
            means[v] = m; variances[v] = va
            gammas[v] = g; betas[v] = be
        }
        lastWeight = (i, ky, kx, spec.kernel)
        return routeTrial(r, channel: o, weight: lastWeight)
    }
}
