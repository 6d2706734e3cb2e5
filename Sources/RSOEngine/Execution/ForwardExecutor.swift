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
/// All memory is allocated once in `init` for `capacity` samples; `run` allocates nothing, so the
/// trial loop can call it millions of times. A run can start at any conv/fc step given the live
/// tensors at that step (paper §4.7: cached input activations of layer d).
public final class ForwardExecutor {
    public let plan: ForwardPlan
    public let parameters: NetworkParameters
    public let capacity: Int
    public let chunkSamples: Int
    public let scheduler: ChunkScheduler
    public let kernels: KernelSet
    public var eps: Float = 1e-5
    /// Output pixels per im2col tile: the tile's patch matrix (Cin·9·tile floats) stays in L2.
    public static let convTile = 512

    public private(set) var batchSize = 0
    public var chunkCount: Int { (batchSize + chunkSamples - 1) / chunkSamples }

    private let buffers: [UnsafeMutablePointer<Float>]
    private let labels: UnsafeMutablePointer<UInt8>
    private let chunkSums: [UnsafeMutablePointer<Double>?]
    private let chunkSumSqs: [UnsafeMutablePointer<Double>?]
    private let means: [UnsafeMutablePointer<Double>?]
    private let variances: [UnsafeMutablePointer<Double>?]
    private let chunkLoss: UnsafeMutablePointer<Double>
    private let chunkCorrect: UnsafeMutablePointer<Int32>
    private let scratch: [UnsafeMutablePointer<Float>]
    private let maxChunks: Int
    private let statsTotal: UnsafeMutablePointer<Double>

    public init(parameters: NetworkParameters, capacity: Int, chunkSamples: Int = 32,
                scheduler: ChunkScheduler = SerialScheduler(), kernels: KernelSet = .optimized) {
        precondition(capacity > 0 && chunkSamples > 0)
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
        maxChunks = (capacity + chunkSamples - 1) / chunkSamples
        // Activation buffers are written before they are read; not zero-filling them leaves the
        // pages to be faulted in by the first forward, on the threads that use them.
        buffers = plan.tensors.map { shape in
            UnsafeMutablePointer<Float>.allocate(capacity: capacity * shape.elementsPerSample)
        }
        labels = .allocate(capacity: capacity)
        labels.initialize(repeating: 0, count: capacity)
        var sums: [UnsafeMutablePointer<Double>?] = [], sqs: [UnsafeMutablePointer<Double>?] = []
        var ms: [UnsafeMutablePointer<Double>?] = [], vs: [UnsafeMutablePointer<Double>?] = []
        var maxScratch = 1
        for layer in parameters.network.layers {
            if case .conv(let c) = layer {
                func zeros(_ n: Int) -> UnsafeMutablePointer<Double> {
                    let p = UnsafeMutablePointer<Double>.allocate(capacity: n)
                    p.initialize(repeating: 0, count: n)
                    return p
                }
                sums.append(zeros(maxChunks * c.outChannels))
                sqs.append(zeros(maxChunks * c.outChannels))
                ms.append(zeros(c.outChannels))
                vs.append(zeros(c.outChannels))
                maxScratch = max(maxScratch, c.fanIn * Self.convTile)
            } else {
                sums.append(nil); sqs.append(nil); ms.append(nil); vs.append(nil)
            }
        }
        chunkSums = sums; chunkSumSqs = sqs; means = ms; variances = vs
        let widest = parameters.network.layers.map(\.outputs).max() ?? 1
        statsTotal = .allocate(capacity: 2 * widest)
        statsTotal.initialize(repeating: 0, count: 2 * widest)
        chunkLoss = .allocate(capacity: maxChunks)
        chunkCorrect = .allocate(capacity: maxChunks)
        scratch = (0..<scheduler.workers).map { _ in .allocate(capacity: maxScratch) }
    }

    deinit {
        buffers.forEach { $0.deallocate() }
        labels.deallocate()
        for p in chunkSums + chunkSumSqs + means + variances { p?.deallocate() }
        chunkLoss.deallocate()
        chunkCorrect.deallocate()
        statsTotal.deallocate()
        scratch.forEach { $0.deallocate() }
    }

    /// Bytes held by activation buffers (reported by benchmarks and `rso eval`).
    public var activationBytes: Int {
        plan.tensors.reduce(0) { $0 + $1.elementsPerSample * capacity * MemoryLayout<Float>.size }
    }

    // MARK: Batch layout

    public func samples(inChunk c: Int) -> Int { min(chunkSamples, batchSize - c * chunkSamples) }

    /// Start of chunk `c` of tensor `t` ([C][n][H][W] or [n][C] inside the chunk).
    public func chunkBase(tensor t: Int, chunk c: Int) -> UnsafeMutablePointer<Float> {
        buffers[t] + c * chunkSamples * plan.tensors[t].elementsPerSample
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

    // MARK: Running

    /// Runs steps `startStep..<endStep` (default: to the loss) over the loaded batch. The live tensors at `startStep` (see
    /// `ForwardPlan.liveTensors`) must hold valid data. With `.batch`, a BN whose conv did not run
    /// in this call keeps the statistics of the previous call.
    @discardableResult
    ///
    /// `collectStatistics` makes convs accumulate their per-chunk sums even with `.fixed` BN, so
    /// `convStatisticsSums` can build population statistics layer by layer.
    public func run(from startStep: Int = 0, to endStep: Int? = nil, bn: BNMode = .batch,
                    collectStatistics: Bool = false) -> BatchResult {
        let end = endStep ?? plan.steps.count
        precondition(batchSize > 0, "no batch loaded")
        var batchMode = true
        if case .fixed(let stats) = bn {
            batchMode = false
            install(stats)
        }
        let collect = batchMode || collectStatistics
        let lastStage = plan.stages.count - 1
        for (si, stage) in plan.stages.enumerated() where stage.upperBound > startStep && stage.lowerBound < end {
            let first = max(stage.lowerBound, startStep)
            let last = min(stage.upperBound, end)
            let withLoss = si == lastStage && last == plan.steps.count
            if batchMode, stage.lowerBound > startStep {
                finalizeStatistics(forStepAt: stage.lowerBound)
            }
            scheduler.forEachChunk(chunkCount) { c, worker in
                for s in first..<last {
                    runStep(plan.steps[s], chunk: c, worker: worker, collectStats: collect)
                }
                if withLoss { computeLoss(chunk: c) }
            }
        }
        var result = BatchResult(lossSum: 0, correct: 0, count: batchSize)
        guard end == plan.steps.count else { return result }
        for c in 0..<chunkCount {  // chunk order: identical for any scheduler
            result.lossSum += chunkLoss[c]
            result.correct += Int(chunkCorrect[c])
        }
        return result
    }

    /// Statistics of every BN as last computed (batch mode) or installed (fixed mode).
    public func statistics() -> BNStatistics {
        var m: [[Double]] = [], v: [[Double]] = []
        for (d, layer) in parameters.network.layers.enumerated() {
            let n = layer.outputs
            if let mp = means[d], let vp = variances[d] {
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
                sum[ch] += chunkSums[d]![c * channels + ch]
                sq[ch] += chunkSumSqs[d]![c * channels + ch]
            }
        }
        return (sum, sq)
    }

    private func install(_ stats: BNStatistics) {
        precondition(stats.mean.count == parameters.network.layers.count, "statistics for another network")
        for d in parameters.network.layers.indices {
            guard let mp = means[d], let vp = variances[d] else { continue }
            precondition(stats.mean[d].count == parameters.network.layers[d].outputs)
            for i in stats.mean[d].indices { mp[i] = stats.mean[d][i]; vp[i] = stats.variance[d][i] }
        }
    }

    /// Reduces the per-chunk sums of the conv feeding the BN at `step`, in chunk order.
    private func finalizeStatistics(forStepAt step: Int) {
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
                total[ch] += chunkSums[d]![c * channels + ch]
                total[channels + ch] += chunkSumSqs[d]![c * channels + ch]
            }
        }
        cs_bn_finalize_stats(total, total + channels, Int32(channels),
                             Double(batchSize * shape.height * shape.width), means[d], variances[d])
    }

    private func computeLoss(chunk c: Int) {
        let n = samples(inChunk: c)
        let logits = chunkBase(tensor: plan.logitsTensor, chunk: c)
        var correct: Int32 = 0
        let k = Int32(parameters.network.classes)
        switch kernels {
        case .optimized: chunkLoss[c] = cs_softmax_xent_f32__opt(logits, labelBase(chunk: c), Int32(n), k, &correct)
        case .reference: chunkLoss[c] = cs_softmax_xent_f32__ref(logits, labelBase(chunk: c), Int32(n), k, &correct)
        }
        chunkCorrect[c] = correct
    }

    private func runStep(_ step: ForwardPlan.Step, chunk c: Int, worker: Int, collectStats: Bool) {
        let n = Int32(samples(inChunk: c))
        let shape = plan.tensors[step.input]
        let x = chunkBase(tensor: step.input, chunk: c)
        let y = chunkBase(tensor: step.output, chunk: c)
        let ref = kernels == .reference
        let C = Int32(shape.channels), H = Int32(shape.height), W = Int32(shape.width)
        let plane = Int(n) * shape.height * shape.width
        switch step.kind {
        case .conv(let d):
            guard case .conv(let s) = parameters.network.layers[d] else { return }
            let w = parameters.weights[d].storage.baseAddress!
            var sum: UnsafeMutablePointer<Double>? = nil, sq: UnsafeMutablePointer<Double>? = nil
            if collectStats {
                sum = chunkSums[d]! + c * s.outChannels
                sq = chunkSumSqs[d]! + c * s.outChannels
                sum!.update(repeating: 0, count: s.outChannels)
                sq!.update(repeating: 0, count: s.outChannels)
            }
            if ref {
                cs_conv2d_cnhw_f32__ref(x, w, C, Int32(s.outChannels), n, H, W, Int32(s.kernel), y, sum, sq)
            } else {
                cs_conv2d_cnhw_f32__sgemm(x, w, C, Int32(s.outChannels), n, H, W, Int32(s.kernel), y, sum, sq,
                                          scratch[worker], Self.convTile)
            }
        case .batchNorm(let d, let relu):
            let g = parameters.gammas[d]!.storage.baseAddress!, b = parameters.betasOrBias[d].storage.baseAddress!
            let f = ref ? cs_bn_relu_infer_f32__ref : cs_bn_relu_infer_f32__opt
            f(x, C, plane, g, b, means[d], variances[d], eps, relu ? 1 : 0, y)
        case .batchNormPool(let d, let relu):
            let g = parameters.gammas[d]!.storage.baseAddress!, b = parameters.betasOrBias[d].storage.baseAddress!
            let f = ref ? cs_bn_relu_avgpool2_cnhw_f32__ref : cs_bn_relu_avgpool2_cnhw_f32__opt
            f(x, C, n, H, W, g, b, means[d], variances[d], eps, relu ? 1 : 0, y)
        case .avgPool2:
            (ref ? cs_avgpool2_cnhw_f32__ref : cs_avgpool2_cnhw_f32__opt)(x, C, n, H, W, y)
        case .globalAvgPool:
            (ref ? cs_global_avgpool_cnhw_f32__ref : cs_global_avgpool_cnhw_f32__opt)(x, C, n, shape.height * shape.width, y)
        case .fc(let d):
            guard case .fc(let f) = parameters.network.layers[d] else { return }
            let w = parameters.weights[d].storage.baseAddress!, b = parameters.betasOrBias[d].storage.baseAddress!
            (ref ? cs_fc_f32__ref : cs_fc_f32__opt)(x, w, b, n, Int32(f.inFeatures), Int32(f.outFeatures), y)
        case .addSkip(let skip, let relu):
            let skipC = Int32(plan.tensors[skip].channels)
            let sp = chunkBase(tensor: skip, chunk: c)
            (ref ? cs_residual_add_cnhw_f32__ref : cs_residual_add_cnhw_f32__opt)(y, sp, C, skipC, plane, relu ? 1 : 0)
        }
    }
}
