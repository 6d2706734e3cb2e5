import CSupport

/// Batch-norm statistics per parameter layer (empty arrays for the FC layer), in double.
public struct BNStatistics: Sendable, Equatable {
    public var mean: [[Double]]
    public var variance: [[Double]]
}

/// How batch-norm normalises in a forward run.
public enum BNMode: Sendable {
    /// Statistics of the batch being run (RSO's training-time objective).
    case batch
    /// Fixed statistics (evaluation; cached activations below layer d).
    case fixed(BNStatistics)
}

public struct BatchResult: Sendable, Equatable {
    public var lossSum: Double
    public var correct: Int
    public var count: Int
    public var meanLoss: Double { count > 0 ? lossSum / Double(count) : 0 }
    public var accuracy: Double { count > 0 ? Double(correct) / Double(count) : 0 }
}

public enum KernelSet: String, Sendable, CaseIterable {
    case optimized, reference
}

/// Runs a network forward over a batch cut into fixed chunks, keeping every tensor of the batch.
///
/// All memory is allocated once (in `init`, or on the first use of a variant split) for `capacity`
/// samples; `run` allocates nothing, so the trial loop can call it millions of times. A run can
/// start at any step given the live tensors at that step (paper §4.7: cached inputs of layer d).
///
/// Variants: a run may evaluate V parameter variants side by side (RSO's W, W+Δ, W−Δ). Tensors
/// produced before the run's first step are shared (variant 0's); the ones it produces have a
/// copy per variant; each variant may override whole parameter tensors. Every stage then runs
/// all variants of a chunk on the chunk's worker, so the three evaluations share each barrier and
/// read the shared input while it is hot.
public final class ForwardExecutor {
    public let plan: ForwardPlan
    public let parameters: NetworkParameters
    public let capacity: Int
    public let chunkSamples: Int
    public let scheduler: ChunkScheduler
    public let kernels: KernelSet
    /// Maximum variants per run.
    public let maxVariants: Int
    public var eps: Float = 1e-5
    /// Output pixels per im2col tile (k ≠ 3 convs): the patch matrix (Cin·k²·tile floats) stays in L2.
    public static let convTile = 512

    public private(set) var batchSize = 0
    public var chunkCount: Int { (batchSize + chunkSamples - 1) / chunkSamples }

    private let buffers: [UnsafeMutablePointer<Float>]
    /// [variant][tensor], variant 0 unused; allocated on first need.
    private var variantBuffers: [[UnsafeMutablePointer<Float>?]]
    private let producer: [Int]
    private let labels: UnsafeMutablePointer<UInt8>
    /// [variant][layer]
    private let chunkSums: [[UnsafeMutablePointer<Double>?]]
    private let chunkSumSqs: [[UnsafeMutablePointer<Double>?]]
    private let means: [[UnsafeMutablePointer<Double>?]]
    private let variances: [[UnsafeMutablePointer<Double>?]]
    private let chunkLoss: UnsafeMutablePointer<Double>
    private let chunkCorrect: UnsafeMutablePointer<Int32>
    private let scratch: [UnsafeMutablePointer<Float>]
    private let maxChunks: Int
    private let statsTotal: UnsafeMutablePointer<Double>
    /// Per-variant parameter copies [variant][layer·4 + kind] and whether each is active.
    private var overrides: [[ParameterTensor?]]
    private var overrideActive: [[Bool]]
    /// Per-variant results of the last run (capacity `maxVariants`, reused).
    private var results: [BatchResult] = []
    /// First step of the run in progress: tensors produced before it are shared.
    private var split = 0
    /// Tensors produced before the split that variants v > 0 still read from their own buffers
    /// (incremental trials fill them; see `runVariants`).
    private var variantInput: [Bool]

    public init(parameters: NetworkParameters, capacity: Int, chunkSamples: Int = 32,
                scheduler: ChunkScheduler = SerialScheduler(), kernels: KernelSet = .optimized,
                variants: Int = 1) {
        precondition(capacity > 0 && chunkSamples > 0 && variants >= 1)
        // The engine owns parallelism: BLAS stays single-threaded (a threaded sgemm also splits
        // its work by thread count, which would make results depend on it).
        cs_blas_set_threads(1)
        let plan = ForwardPlan(network: parameters.network)
        self.plan = plan
        self.parameters = parameters
        self.capacity = capacity
        self.chunkSamples = chunkSamples
        self.scheduler = scheduler
        self.kernels = kernels
        maxVariants = variants
        results.reserveCapacity(variants)
        maxChunks = (capacity + chunkSamples - 1) / chunkSamples
        // Activation buffers are written before they are read; not zero-filling them leaves the
        // pages to be first touched by the worker that owns each chunk (NUMA placement).
        buffers = plan.tensors.map { shape in
            UnsafeMutablePointer<Float>.allocate(capacity: capacity * shape.elementsPerSample)
        }
        variantBuffers = Array(repeating: Array(repeating: nil, count: plan.tensors.count), count: variants)
        var producer = Array(repeating: -1, count: plan.tensors.count)
        for (i, step) in plan.steps.enumerated() where step.output != step.input { producer[step.output] = i }
        self.producer = producer
        labels = .allocate(capacity: capacity)
        labels.initialize(repeating: 0, count: capacity)
        func zeros(_ n: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
            return p
        }
        var sums: [[UnsafeMutablePointer<Double>?]] = [], sqs = sums, ms = sums, vs = sums
        var maxScratch = 1
        for _ in 0..<variants {
            var s1: [UnsafeMutablePointer<Double>?] = [], s2 = s1, s3 = s1, s4 = s1
            for layer in parameters.network.layers {
                if case .conv(let c) = layer {
                    s1.append(zeros(maxChunks * c.outChannels)); s2.append(zeros(maxChunks * c.outChannels))
                    s3.append(zeros(c.outChannels)); s4.append(zeros(c.outChannels))
                    maxScratch = max(maxScratch, c.fanIn * Self.convTile,
                                     cs_conv2d_cnhw_f32__direct_scratch_floats(
                                        Int32(c.inChannels), Int32(c.outChannels), Int32(chunkSamples),
                                        Int32(c.height), Int32(c.width), Int32(c.kernel)))
                } else {
                    s1.append(nil); s2.append(nil); s3.append(nil); s4.append(nil)
                }
            }
            sums.append(s1); sqs.append(s2); ms.append(s3); vs.append(s4)
        }
        chunkSums = sums; chunkSumSqs = sqs; means = ms; variances = vs
        let widest = parameters.network.layers.map(\.outputs).max() ?? 1
        statsTotal = .allocate(capacity: 2 * widest)
        statsTotal.initialize(repeating: 0, count: 2 * widest)
        chunkLoss = .allocate(capacity: maxChunks * variants)
        chunkCorrect = .allocate(capacity: maxChunks * variants)
        scratch = (0..<scheduler.workers).map { _ in .allocate(capacity: maxScratch) }
        let slots = parameters.network.layers.count * 4
        overrides = Array(repeating: Array(repeating: nil, count: slots), count: variants)
        overrideActive = Array(repeating: Array(repeating: false, count: slots), count: variants)
        variantInput = Array(repeating: false, count: plan.tensors.count)
    }

    deinit {
        buffers.forEach { $0.deallocate() }
        variantBuffers.joined().forEach { $0?.deallocate() }
        labels.deallocate()
        for p in (chunkSums + chunkSumSqs + means + variances).joined() { p?.deallocate() }
        chunkLoss.deallocate()
        chunkCorrect.deallocate()
        statsTotal.deallocate()
        scratch.forEach { $0.deallocate() }
    }

    /// Bytes held by activation buffers, variant copies included.
    public var activationBytes: Int {
        var total = 0
        for (t, shape) in plan.tensors.enumerated() {
            let per = shape.elementsPerSample * capacity * MemoryLayout<Float>.size
            total += per * (1 + variantBuffers.filter { $0[t] != nil }.count)
        }
        return total
    }

    // MARK: Batch layout

    public func samples(inChunk c: Int) -> Int { min(chunkSamples, batchSize - c * chunkSamples) }

    /// Start of chunk `c` of tensor `t` (variant 0: the shared copy).
    public func chunkBase(tensor t: Int, chunk c: Int) -> UnsafeMutablePointer<Float> {
        buffers[t] + c * chunkSamples * plan.tensors[t].elementsPerSample
    }

    @inline(__always)
    private func base(_ t: Int, _ c: Int, _ v: Int) -> UnsafeMutablePointer<Float> {
        let off = c * chunkSamples * plan.tensors[t].elementsPerSample
        if v == 0 || (producer[t] < split && !variantInput[t]) { return buffers[t] + off }
        return variantBuffers[v][t]! + off
    }

    public func labelBase(chunk c: Int) -> UnsafeMutablePointer<UInt8> { labels + c * chunkSamples }

    public func setBatchSize(_ n: Int) {
        precondition(n > 0 && n <= capacity, "batch of \(n) exceeds executor capacity \(capacity)")
        batchSize = n
    }

    /// Gathers `indices` of `dataset` into the input tensor and labels.
    public func loadInput(from dataset: Dataset, indices: UnsafeBufferPointer<Int32>) {
        setBatchSize(indices.count)
        scheduler.forEachChunk(chunkCount) { c, _ in
            let lo = c * chunkSamples
            let part = UnsafeBufferPointer(rebasing: indices[lo..<(lo + samples(inChunk: c))])
            dataset.gatherCNHW(indices: part, into: chunkBase(tensor: 0, chunk: c))
            dataset.gatherLabels(indices: part, into: labelBase(chunk: c))
        }
    }

    /// Loads samples `range` of `dataset` (evaluation passes).
    public func loadInput(from dataset: Dataset, range: Range<Int>) {
        setBatchSize(range.count)
        scheduler.forEachChunk(chunkCount) { c, _ in
            let lo = range.lowerBound + c * chunkSamples
            let r = lo..<(lo + samples(inChunk: c))
            dataset.gatherCNHW(range: r, into: chunkBase(tensor: 0, chunk: c))
            dataset.gatherLabels(range: r, into: labelBase(chunk: c))
        }
    }

    // MARK: Parameter variants

    /// Variant `v`'s private copy of a parameter tensor, initialised from the current value and
    /// used by that variant until `clearOverrides()`. Variant 0 is the unmodified network.
    public func override(variant v: Int, layer d: Int, kind: ParameterKind) -> UnsafeMutableBufferPointer<Float> {
        precondition(v > 0 && v < maxVariants, "variant \(v) out of 1..<\(maxVariants)")
        let slot = d * 4 + Self.kindIndex(kind)
        let source = parameters.tensor(layer: d, kind: kind)
        if overrides[v][slot] == nil {
            overrides[v][slot] = ParameterTensor(name: source.name, shape: source.shape)
        }
        let copy = overrides[v][slot]!.storage
        _ = copy.update(fromContentsOf: source.storage)
        overrideActive[v][slot] = true
        return copy
    }

    public func clearOverrides() {
        for v in overrideActive.indices { for i in overrideActive[v].indices { overrideActive[v][i] = false } }
    }

    private static func kindIndex(_ k: ParameterKind) -> Int {
        switch k {
        case .weight: return 0
        case .gamma: return 1
        case .beta: return 2
        case .bias: return 3
        }
    }

    @inline(__always)
    private func parameter(_ d: Int, _ kind: ParameterKind, _ v: Int) -> UnsafeMutablePointer<Float> {
        let slot = d * 4 + Self.kindIndex(kind)
        if v > 0 && overrideActive[v][slot] { return overrides[v][slot]!.storage.baseAddress! }
        return parameters.tensor(layer: d, kind: kind).storage.baseAddress!
    }

    // MARK: Running

    /// Runs steps `startStep..<endStep` (default: to the loss) over the loaded batch. The live
    /// tensors at `startStep` (see `ForwardPlan.liveTensors`) must hold valid data. With `.batch`,
    /// a BN whose conv did not run in this call keeps the statistics of the previous call.
    ///
    /// `collectStatistics` makes convs accumulate their per-chunk sums even with `.fixed` BN, so
    /// `convStatisticsSums` can build population statistics layer by layer.
    @discardableResult
    public func run(from startStep: Int = 0, to endStep: Int? = nil, bn: BNMode = .batch,
                    collectStatistics: Bool = false) -> BatchResult {
        run(from: startStep, to: endStep, bn: bn, collectStatistics: collectStatistics, variants: 1)[0]
    }

    /// Runs `variants` parameter variants side by side from `startStep` (see the type's notes);
    /// returns one result per variant. Variant v > 0 starts with variant 0's BN statistics.
    public func run(from startStep: Int, to endStep: Int? = nil, bn: BNMode = .batch,
                    collectStatistics: Bool = false, variants: Int) -> [BatchResult] {
        runCore(from: startStep, to: endStep, bn: bn, collectStatistics: collectStatistics, variants: variants,
                firstVariant: 0, presetStatistics: [])
    }

    private func runCore(from startStep: Int, to endStep: Int?, bn: BNMode, collectStatistics: Bool,
                         variants: Int, firstVariant: Int, presetStatistics: [Int]) -> [BatchResult] {
        let end = endStep ?? plan.steps.count
        precondition(batchSize > 0, "no batch loaded")
        precondition(variants >= 1 && variants <= maxVariants, "\(variants) variants, executor allows \(maxVariants)")
        var batchMode = true
        if case .fixed(let stats) = bn {
            batchMode = false
            for v in 0..<variants { install(stats, variant: v) }
        }
        split = startStep
        if variants > 1 { prepareVariants(variants, from: startStep, keeping: presetStatistics) }
        let collect = batchMode || collectStatistics
        let lastStage = plan.stages.count - 1
        for (si, stage) in plan.stages.enumerated() where stage.upperBound > startStep && stage.lowerBound < end {
            let first = max(stage.lowerBound, startStep)
            let last = min(stage.upperBound, end)
            let withLoss = si == lastStage && last == plan.steps.count
            if batchMode, stage.lowerBound > startStep {
                for v in firstVariant..<variants { finalizeStatistics(forStepAt: stage.lowerBound, variant: v) }
            }
            scheduler.forEachChunk(chunkCount) { c, worker in
                for v in firstVariant..<variants {
                    for s in first..<last {
                        runStep(plan.steps[s], chunk: c, variant: v, worker: worker, collectStats: collect)
                    }
                    if withLoss { computeLoss(chunk: c, variant: v) }
                }
            }
        }
        // A run that stops right before a BN has computed that BN's statistics: finalize them so
        // a later run starting at the BN (a γ/β trial) uses this batch's.
        if batchMode, end < plan.steps.count, end > startStep, plan.stages.contains(where: { $0.lowerBound == end }) {
            for v in firstVariant..<variants { finalizeStatistics(forStepAt: end, variant: v) }
        }
        // Reused storage: no allocation per run as long as callers do not keep the returned array.
        results.removeAll(keepingCapacity: true)
        for _ in 0..<variants { results.append(BatchResult(lossSum: 0, correct: 0, count: batchSize)) }
        guard end == plan.steps.count else { return results }
        for v in firstVariant..<variants {
            for c in 0..<chunkCount {  // chunk order: identical for any scheduler
                results[v].lossSum += chunkLoss[v * maxChunks + c]
                results[v].correct += Int(chunkCorrect[v * maxChunks + c])
            }
        }
        return results
    }

    /// Variant copies of the tensors this run produces (allocated once per tensor), and variant 0's
    /// statistics for the BNs whose conv ran before the split.
    private func prepareVariants(_ variants: Int, from start: Int, keeping preset: [Int] = []) {
        for v in 1..<variants {
            for t in plan.tensors.indices where producer[t] >= start && variantBuffers[v][t] == nil {
                variantBuffers[v][t] = .allocate(capacity: capacity * plan.tensors[t].elementsPerSample)
            }
            for d in parameters.network.layers.indices where !preset.contains(d) {
                guard let m0 = means[0][d], let v0 = variances[0][d] else { continue }
                means[v][d]!.update(from: m0, count: parameters.network.layers[d].outputs)
                variances[v][d]!.update(from: v0, count: parameters.network.layers[d].outputs)
            }
        }
    }

    // MARK: Incremental-trial hooks (Incremental/)

    /// Variant `v`'s buffer of tensor `t` (v > 0), allocated on first use: call outside parallel
    /// regions. Incremental trials write the tensors a change reaches before the variants' full run.
    @discardableResult
    public func variantBuffer(tensor t: Int, variant v: Int) -> UnsafeMutablePointer<Float> {
        precondition(v > 0 && v < maxVariants)
        if variantBuffers[v][t] == nil {
            variantBuffers[v][t] = .allocate(capacity: capacity * plan.tensors[t].elementsPerSample)
        }
        return variantBuffers[v][t]!
    }

    /// Chunk `c` of variant `v`'s buffer of tensor `t` (allocated by `variantBuffer` first).
    public func variantChunkBase(tensor t: Int, chunk c: Int, variant v: Int) -> UnsafeMutablePointer<Float> {
        variantBuffers[v][t]! + c * chunkSamples * plan.tensors[t].elementsPerSample
    }

    /// Per-chunk BN sums of conv layer `d` of variant `v`: [chunk][channel], as the last run left them.
    public func chunkStatistics(layer d: Int, variant v: Int) -> (sum: UnsafeMutablePointer<Double>, sumSquares: UnsafeMutablePointer<Double>) {
        (chunkSums[v][d]!, chunkSumSqs[v][d]!)
    }

    /// BN mean and variance [channel] of conv layer `d` that variant `v` normalises with.
    public func statisticsStorage(layer d: Int, variant v: Int) -> (mean: UnsafeMutablePointer<Double>, variance: UnsafeMutablePointer<Double>) {
        (means[v][d]!, variances[v][d]!)
    }

    /// Runs variants 1..<variants (not variant 0) from `startStep` to the loss, with batch
    /// statistics. Tensors in `variantInputs` are read from the variants' own buffers (the caller
    /// filled them); the BN statistics of the layers in `presetStatistics` are the caller's
    /// (`statisticsStorage`), every other BN from `startStep` on is computed by the run.
    public func runVariants(from startStep: Int, variants: Int, variantInputs: [Int],
                            presetStatistics: [Int]) -> [BatchResult] {
        precondition(variants >= 2)
        for t in variantInputs {
            precondition(variantBuffers[1][t] != nil, "variant input \(t) not prepared")
            variantInput[t] = true
        }
        defer { for t in variantInputs { variantInput[t] = false } }
        return runCore(from: startStep, to: nil, bn: .batch, collectStatistics: false, variants: variants,
                       firstVariant: 1, presetStatistics: presetStatistics)
    }

    /// Statistics of every BN as last computed (batch mode) or installed (fixed mode), variant 0.
    public func statistics() -> BNStatistics {
        var m: [[Double]] = [], v: [[Double]] = []
        for (d, layer) in parameters.network.layers.enumerated() {
            let n = layer.outputs
            if let mp = means[0][d], let vp = variances[0][d] {
                m.append(Array(UnsafeBufferPointer(start: mp, count: n)))
                v.append(Array(UnsafeBufferPointer(start: vp, count: n)))
            } else {
                m.append([]); v.append([])
            }
        }
        return BNStatistics(mean: m, variance: v)
    }

    /// Per-channel sum and sum of squares of conv `layer`'s output over the loaded batch, reduced in
    /// chunk order (valid after a run that collected statistics and ran that conv).
    public func convStatisticsSums(layer d: Int) -> (sum: [Double], sumSquares: [Double]) {
        let channels = parameters.network.layers[d].outputs
        var sum = [Double](repeating: 0, count: channels), sq = sum
        for c in 0..<chunkCount {
            for ch in 0..<channels {
                sum[ch] += chunkSums[0][d]![c * channels + ch]
                sq[ch] += chunkSumSqs[0][d]![c * channels + ch]
            }
        }
        return (sum, sq)
    }

    private func install(_ stats: BNStatistics, variant v: Int) {
        precondition(stats.mean.count == parameters.network.layers.count, "statistics for another network")
        for d in parameters.network.layers.indices {
            guard let mp = means[v][d], let vp = variances[v][d] else { continue }
            precondition(stats.mean[d].count == parameters.network.layers[d].outputs)
            for i in stats.mean[d].indices { mp[i] = stats.mean[d][i]; vp[i] = stats.variance[d][i] }
        }
    }

    /// Reduces the per-chunk sums of the conv feeding the BN at `step`, in chunk order.
    private func finalizeStatistics(forStepAt step: Int, variant v: Int) {
        let d: Int
        switch plan.steps[step].kind {
        case .batchNorm(let l, _), .batchNormPool(let l, _): d = l
        default: return
        }
        let shape = plan.tensors[plan.steps[step].input]
        let channels = shape.channels
        let total = statsTotal
        total.update(repeating: 0, count: 2 * channels)
        for c in 0..<chunkCount {
            for ch in 0..<channels {
                total[ch] += chunkSums[v][d]![c * channels + ch]
                total[channels + ch] += chunkSumSqs[v][d]![c * channels + ch]
            }
        }
        cs_bn_finalize_stats(total, total + channels, Int32(channels),
                             Double(batchSize * shape.height * shape.width), means[v][d], variances[v][d])
    }

    private func computeLoss(chunk c: Int, variant v: Int) {
        let n = samples(inChunk: c)
        let logits = base(plan.logitsTensor, c, v)
        var correct: Int32 = 0
        let k = Int32(parameters.network.classes)
        let slot = v * maxChunks + c
        switch kernels {
        case .optimized: chunkLoss[slot] = cs_softmax_xent_f32__opt(logits, labelBase(chunk: c), Int32(n), k, &correct)
        case .reference: chunkLoss[slot] = cs_softmax_xent_f32__ref(logits, labelBase(chunk: c), Int32(n), k, &correct)
        }
        chunkCorrect[slot] = correct
    }

    private func runStep(_ step: ForwardPlan.Step, chunk c: Int, variant v: Int, worker: Int, collectStats: Bool) {
        let n = Int32(samples(inChunk: c))
        let shape = plan.tensors[step.input]
        let x = base(step.input, c, v)
        let y = base(step.output, c, v)
        let ref = kernels == .reference
        let C = Int32(shape.channels), H = Int32(shape.height), W = Int32(shape.width)
        let plane = Int(n) * shape.height * shape.width
        switch step.kind {
        case .conv(let d):
            guard case .conv(let s) = parameters.network.layers[d] else { return }
            let w = parameter(d, .weight, v)
            var sum: UnsafeMutablePointer<Double>? = nil, sq: UnsafeMutablePointer<Double>? = nil
            if collectStats {
                sum = chunkSums[v][d]! + c * s.outChannels
                sq = chunkSumSqs[v][d]! + c * s.outChannels
                sum!.update(repeating: 0, count: s.outChannels)
                sq!.update(repeating: 0, count: s.outChannels)
            }
            if ref {
                cs_conv2d_cnhw_f32__ref(x, w, C, Int32(s.outChannels), n, H, W, Int32(s.kernel), y, sum, sq)
            } else if s.kernel == 3 {
                // Direct micro-kernel: 2–3× the im2col+sgemm path on these narrow layers.
                cs_conv2d_cnhw_f32__direct(x, w, C, Int32(s.outChannels), n, H, W, Int32(s.kernel), y, sum, sq,
                                           scratch[worker])
            } else {
                cs_conv2d_cnhw_f32__sgemm(x, w, C, Int32(s.outChannels), n, H, W, Int32(s.kernel), y, sum, sq,
                                          scratch[worker], Self.convTile)
            }
        case .batchNorm(let d, let relu):
            let g = parameter(d, .gamma, v), b = parameter(d, .beta, v)
            let f = ref ? cs_bn_relu_infer_f32__ref : cs_bn_relu_infer_f32__opt
            f(x, C, plane, g, b, means[v][d], variances[v][d], eps, relu ? 1 : 0, y)
        case .batchNormPool(let d, let relu):
            let g = parameter(d, .gamma, v), b = parameter(d, .beta, v)
            let f = ref ? cs_bn_relu_avgpool2_cnhw_f32__ref : cs_bn_relu_avgpool2_cnhw_f32__opt
            f(x, C, n, H, W, g, b, means[v][d], variances[v][d], eps, relu ? 1 : 0, y)
        case .avgPool2:
            (ref ? cs_avgpool2_cnhw_f32__ref : cs_avgpool2_cnhw_f32__opt)(x, C, n, H, W, y)
        case .globalAvgPool:
            (ref ? cs_global_avgpool_cnhw_f32__ref : cs_global_avgpool_cnhw_f32__opt)(x, C, n, shape.height * shape.width, y)
        case .fc(let d):
            guard case .fc(let f) = parameters.network.layers[d] else { return }
            let w = parameter(d, .weight, v), b = parameter(d, .bias, v)
            (ref ? cs_fc_f32__ref : cs_fc_f32__opt)(x, w, b, n, Int32(f.inFeatures), Int32(f.outFeatures), y)
        case .addSkip(let skip, let relu):
            let skipC = Int32(plan.tensors[skip].channels)
            let sp = base(skip, c, v)
            (ref ? cs_residual_add_cnhw_f32__ref : cs_residual_add_cnhw_f32__opt)(y, sp, C, skipC, plane, relu ? 1 : 0)
        }
    }
}
