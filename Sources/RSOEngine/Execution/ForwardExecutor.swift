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

/// The parameter variants of one RSO trial, as numbered everywhere (executor runs, incremental
/// trials, commits): the current weights W, W+Δ and W−Δ.
public enum TrialVariant {
    public static let current = 0
    public static let plus = 1
    public static let minus = 2
    /// Variants a trial runs side by side.
    public static let count = 3
}

/// Runs a network forward over a batch cut into fixed chunks, keeping every tensor of the batch.
///
/// All memory is allocated once (in `init`, or on the first use of a variant split) for `capacity`
/// samples; `run` allocates nothing, so the trial loop can call it millions of times. A run can
/// start at any step given the live tensors at that step (paper §4.7: cached inputs of layer d).
///
/// Variants: a run may evaluate V parameter variants side by side (RSO's W, W+Δ, W−Δ; see
/// `TrialVariant`). Tensors produced before the run's first step are shared (variant 0's); the ones
/// it produces have a copy per variant; each variant may override whole parameter tensors. Every
/// stage then runs all variants of a chunk on the chunk's worker, so the three evaluations share
/// each barrier and read the shared input while it is hot.
///
/// This file holds the storage (activations, variant copies, parameter overrides, batch layout);
/// ForwardExecutor+Run.swift runs steps over it and ForwardExecutor+Statistics.swift owns the BN
/// statistics. Per-chunk partial sums are combined only by `reduction`.
public final class ForwardExecutor {
    public let plan: ForwardPlan
    public let parameters: NetworkParameters
    public let capacity: Int
    public let chunkSamples: Int
    public let scheduler: ChunkScheduler
    public let kernels: KernelSet
    /// The kernels every step calls, chosen once from `kernels`.
    public let table: KernelTable
    /// Where per-chunk partial sums become batch totals.
    public let reduction: ChunkReduction
    /// Maximum variants per run.
    public let maxVariants: Int
    public var eps: Float = 1e-5

    public private(set) var batchSize = 0
    public var chunkCount: Int { (batchSize + chunkSamples - 1) / chunkSamples }
    /// Chunks of a full-capacity batch: the stride of per-variant chunk arrays.
    public let maxChunks: Int

    /// W's (variant 0's) activations; `adoptVariantBuffers` swaps some with a variant's.
    var buffers: [UnsafeMutablePointer<Float>]
    /// [variant][tensor], variant 0 unused; allocated on first need.
    var variantBuffers: [[UnsafeMutablePointer<Float>?]]
    /// Step that produces each tensor (−1: the input).
    let producer: [Int]
    let labels: UnsafeMutablePointer<UInt8>
    /// [variant][layer]: per-chunk BN sums [chunk][channel] and the statistics BN normalises with.
    let chunkSums: [[UnsafeMutablePointer<Double>?]]
    let chunkSumSqs: [[UnsafeMutablePointer<Double>?]]
    let means: [[UnsafeMutablePointer<Double>?]]
    let variances: [[UnsafeMutablePointer<Double>?]]
    /// [variant][chunk]: loss sum and correct count of each chunk of the last run.
    let chunkLoss: UnsafeMutablePointer<Double>
    let chunkCorrect: UnsafeMutablePointer<Double>
    /// Per worker, conv scratch.
    let scratch: [UnsafeMutablePointer<Float>]
    /// `plan.chunkLocalTensors`, and per worker one chunk of the largest of them: in `runVariants`
    /// the variants write those BN outputs here, where the next conv reads them while they are in
    /// cache, instead of sending them to memory (nothing reads a variant's copy afterwards); so does
    /// W's run for the tensors a caller will not read (`run(from:chunkLocalFrom:)`).
    let chunkLocal: [Bool]
    let chunkLocalScratch: [UnsafeMutablePointer<Float>]
    /// In the run in progress: variants ≥ 1 keep chunk-local tensors in scratch, and variant 0
    /// those produced at or after this step (Int.max: none).
    var chunkLocalVariants = false
    var chunkLocalFromStep = Int.max
    /// Batch totals of one BN's sums (sum then sum of squares), reused.
    let statsTotal: UnsafeMutablePointer<Double>
    /// Per-variant parameter copies [variant][layer·4 + kind] and whether each is active.
    var overrides: [[ParameterTensor?]]
    var overrideActive: [[Bool]]
    /// Per-variant results of the last run (capacity `maxVariants`, reused).
    var results: [BatchResult] = []
    /// First step of the run in progress: tensors produced before it are shared.
    var split = 0
    /// Tensors produced before the split that variants v > 0 still read from their own buffers
    /// (incremental trials fill them; see `runVariants`).
    var variantInput: [Bool]

    public init(parameters: NetworkParameters, capacity: Int, chunkSamples: Int = 32,
                scheduler: ChunkScheduler = SerialScheduler(), kernels: KernelSet = .optimized,
                variants: Int = 1, reduction: ChunkReduction = OrderedChunkSum()) {
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
        let table = KernelTable(kernels)
        self.table = table
        self.reduction = reduction
        maxVariants = variants
        results.reserveCapacity(variants)
        maxChunks = (capacity + chunkSamples - 1) / chunkSamples
        // Activation buffers are written before they are read; not zero-filling them leaves the
        // pages to be first touched by the worker that owns each chunk (NUMA placement).
        buffers = plan.tensors.map { shape in
            LargeBuffer.floats(capacity * shape.elementsPerSample)
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
                    let conv = table.conv(kernel: c.kernel, width: c.width, inChannels: c.inChannels)
                    maxScratch = max(maxScratch, conv.scratchFloats(
                        inChannels: c.inChannels, outChannels: c.outChannels, samples: chunkSamples,
                        height: c.height, width: c.width, kernel: c.kernel))
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
        let local = plan.chunkLocalTensors
        chunkLocal = local
        let localFloats = plan.tensors.indices.filter { local[$0] }.map { plan.tensors[$0].elementsPerSample }.max() ?? 0
        chunkLocalScratch = (0..<scheduler.workers).map { _ in .allocate(capacity: max(1, localFloats * chunkSamples)) }
        let slots = parameters.network.layers.count * 4
        overrides = Array(repeating: Array(repeating: nil, count: slots), count: variants)
        overrideActive = Array(repeating: Array(repeating: false, count: slots), count: variants)
        variantInput = Array(repeating: false, count: plan.tensors.count)
    }

    deinit {
        buffers.forEach { LargeBuffer.free($0) }
        variantBuffers.joined().forEach { LargeBuffer.free($0) }
        labels.deallocate()
        for p in (chunkSums + chunkSumSqs + means + variances).joined() { p?.deallocate() }
        chunkLoss.deallocate()
        chunkCorrect.deallocate()
        statsTotal.deallocate()
        scratch.forEach { $0.deallocate() }
        chunkLocalScratch.forEach { $0.deallocate() }
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

    /// Chunk `c` of tensor `t` as variant `v` reads and writes it in the run in progress.
    @inline(__always)
    func base(_ t: Int, _ c: Int, _ v: Int) -> UnsafeMutablePointer<Float> {
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

    // MARK: Variant storage

    /// Variant `v`'s buffer of tensor `t` (v > 0), allocated on first use: call outside parallel
    /// regions. Incremental trials write the tensors a change reaches before the variants' full run.
    @discardableResult
    public func variantBuffer(tensor t: Int, variant v: Int) -> UnsafeMutablePointer<Float> {
        precondition(v > 0 && v < maxVariants)
        if variantBuffers[v][t] == nil {
            variantBuffers[v][t] = LargeBuffer.floats(capacity * plan.tensors[t].elementsPerSample)
        }
        return variantBuffers[v][t]!
    }

    /// Chunk `c` of variant `v`'s buffer of tensor `t` (allocated by `variantBuffer` first).
    public func variantChunkBase(tensor t: Int, chunk c: Int, variant v: Int) -> UnsafeMutablePointer<Float> {
        variantBuffers[v][t]! + c * chunkSamples * plan.tensors[t].elementsPerSample
    }

    /// Variant `v`'s buffers of `tensors` become W's and W's become the variant's: an accepted
    /// trial's activations are adopted by swapping storage, not copied (batch reuse). Both hold
    /// `capacity` samples, and chunk c of each was written by the worker of chunk c.
    public func adoptVariantBuffers(_ tensors: [Int], variant v: Int) {
        precondition(v > 0 && v < maxVariants)
        for t in tensors {
            guard let mine = variantBuffers[v][t] else { preconditionFailure("variant \(v) has no buffer of tensor \(t)") }
            variantBuffers[v][t] = buffers[t]
            buffers[t] = mine
        }
    }

    /// Variant copies of the tensors a run from `start` produces (allocated once per tensor).
    func allocateVariantOutputs(_ variants: Int, from start: Int) {
        for v in 1..<variants {
            for t in plan.tensors.indices where producer[t] >= start && variantBuffers[v][t] == nil {
                variantBuffers[v][t] = LargeBuffer.floats(capacity * plan.tensors[t].elementsPerSample)
            }
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

    /// Parameter tensor `kind` of layer `d` as variant `v` sees it.
    @inline(__always)
    func parameter(_ d: Int, _ kind: ParameterKind, _ v: Int) -> UnsafeMutablePointer<Float> {
        let slot = d * 4 + Self.kindIndex(kind)
        if v > 0 && overrideActive[v][slot] { return overrides[v][slot]!.storage.baseAddress! }
        return parameters.tensor(layer: d, kind: kind).storage.baseAddress!
    }
}
