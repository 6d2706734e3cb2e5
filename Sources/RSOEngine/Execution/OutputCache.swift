import CSupport

/// Exact output caching (docs/design.md, "Output caching"): while layer d is visited the layers
/// below it are frozen, so besides its input X_d (`ActivationCache`) the engine holds layer d's
/// pre-BN output Y_d = conv_d(X_d) — for the FC layer, the logits — for the whole training set.
/// A run of W on a fresh batch then starts at BN_d from gathered Y_d rows (`startStep`) instead of
/// recomputing conv_d.
///
/// Kept exact under training: a change Δ of conv weight w[o][i][ky][kx] moves only channel o, by
/// Δ·shift(X_d[i], ky, kx), and a change of FC weight w[k][i] / bias b_k only logit k, by Δ·f_i / Δ;
/// `patch` applies an accepted change to every cached sample with the kernels the trial used on its
/// batch rows (same rounding), so the cache holds what the accepted trial evaluated. BN γ/β act
/// after Y_d and need no patch. The cache is derived state, rebuilt at every layer visit (never
/// checkpointed); the rounding drift of the patches is bounded in the design notes.
///
/// Stored per sample ([count][C·H·W], or [count][K] logits) like the input cache. Built, gathered
/// and patched in fixed sample ranges through the executor's scheduler: the bytes do not depend on
/// the thread count.
public final class OutputCache {
    /// Where layer d's input rows come from: the input cache, or the images (the first layer).
    public enum Input {
        case cache(ActivationCache)
        case images(Dataset)
    }

    public let layer: Int
    /// The cached tensor (layer d's conv output, or the logits).
    public let tensor: Int
    /// The step a run starts at once the batch's rows are loaded (layer d's BN; past the FC: the loss).
    public let startStep: Int
    public let count: Int
    public let input: Input
    /// Layer d's conv/FC input tensor (the rows a patch reads).
    public let inputTensor: Int
    /// Layer d's input gathered by channel (a conv layer fed by the input cache whose input W's run
    /// from `startStep` does not read): `load` resets it.
    public let deferredInput: DeferredInputChannels?
    /// Accepted changes patched in since the build (the drift bound grows with it).
    public private(set) var patches = 0
    /// False when `stop` cut the build short: the cache must then be discarded.
    public private(set) var isComplete = true

    private let plan: ForwardPlan
    private let table: KernelTable
    private let rows: UnsafeMutablePointer<Float>
    private let perSample: Int

    /// Samples per piece of a whole-set patch (fixed: the pieces, not the threads, cut the work).
    static let patchPiece = 256

    /// Runs layer d's conv (or FC) over every sample of `input`, in pieces of the executor's
    /// capacity, with the current weights. A requested `stop` is honoured between pieces (the
    /// cache is then incomplete).
    public init(executor: ForwardExecutor, layer d: Int, input: Input, stop: StopRequest? = nil) {
        plan = executor.plan
        table = executor.table
        layer = d
        self.input = input
        let step = plan.layerStep[d]
        tensor = plan.steps[step].output
        inputTensor = plan.steps[step].input
        startStep = plan.outputCacheStep(layer: d)
        switch input {
        case .cache(let c): count = c.count
        case .images(let data): count = data.count
        }
        perSample = plan.tensors[tensor].elementsPerSample
        // Deferred only where W's run from `startStep` does not read it (a residual block's first
        // conv shares its input with the skip).
        let inShape = plan.tensors[inputTensor]
        if case .cache(let c) = input, !inShape.flat, !plan.liveTensors(at: startStep).contains(inputTensor) {
            deferredInput = DeferredInputChannels(cache: c, tensor: inputTensor, channels: inShape.channels,
                                                  capacity: executor.capacity)
        } else {
            deferredInput = nil
        }
        rows = LargeBuffer.floats(count * perSample)
        let indices = UnsafeMutableBufferPointer<Int32>.allocate(capacity: executor.capacity)
        defer { indices.deallocate() }
        var start = 0
        while start < count {
            if stop?.isRequested == true { isComplete = false; return }
            let end = min(count, start + executor.capacity)
            switch input {
            case .cache(let c):
                for j in start..<end { indices[j - start] = Int32(j) }
                c.load(into: executor, indices: UnsafeBufferPointer(rebasing: indices[0..<(end - start)]))
            case .images(let data):
                executor.loadInput(from: data, range: start..<end)
            }
            executor.run(from: step, to: step + 1)
            let shape = plan.tensors[tensor]
            executor.scheduler.forEachChunk(executor.chunkCount) { c, _ in
                let lo = start + c * executor.chunkSamples
                ActivationCache.copySamples(shape, n: executor.samples(inChunk: c),
                                            chunk: executor.chunkBase(tensor: tensor, chunk: c),
                                            sample: { rows + (lo + $0) * perSample }, toChunk: false)
            }
            start = end
        }
    }

    deinit { LargeBuffer.free(rows) }

    /// Bytes the cache holds.
    public var bytes: Int { count * perSample * MemoryLayout<Float>.size }

    /// Bytes an output cache of layer `d` holds for `count` samples (memory planning, `rso info`).
    public static func bytes(plan: ForwardPlan, layer d: Int, count: Int) -> Int {
        count * plan.tensors[plan.steps[plan.layerStep[d]].output].elementsPerSample * MemoryLayout<Float>.size
    }

    /// Gathers the rows of `indices` into the executor's copy of the cached tensor; for a conv, with
    /// the per-chunk BN sums of the gathered rows and the batch statistics of layer d (what the conv
    /// would have produced). Layer d's input rows and the labels must already be loaded (the
    /// input cache's `load`, or the images; with `deferredInput`, its tensor deferred); then
    /// `executor.run(from: startStep)` runs W.
    public func load(into executor: ForwardExecutor, indices: UnsafeBufferPointer<Int32>) {
        precondition(executor.batchSize == indices.count, "load layer d's inputs of the batch first")
        deferredInput?.reset(batch: indices)
        let shape = plan.tensors[tensor]
        let conv = !shape.flat
        executor.scheduler.forEachChunk(executor.chunkCount) { c, _ in
            let n = executor.samples(inChunk: c)
            let lo = c * executor.chunkSamples
            let chunk = executor.chunkBase(tensor: tensor, chunk: c)
            ActivationCache.copySamples(shape, n: n, chunk: chunk, sample: { rows + Int(indices[lo + $0]) * perSample },
                                        toChunk: true)
            guard conv else { return }
            let st = executor.chunkStatistics(layer: layer, variant: TrialVariant.current)
            let sum = st.sum + c * shape.channels, sq = st.sumSquares + c * shape.channels
            sum.update(repeating: 0, count: shape.channels)
            sq.update(repeating: 0, count: shape.channels)
            table.channelSums(chunk, Int32(shape.channels), n * shape.height * shape.width, sum, sq)
        }
        if conv { executor.finalizeStatistics(layer: layer, variant: TrialVariant.current) }
    }

    /// The parameter (`kind`, `index`) of layer d moved by `delta` (the effective change,
    /// (w0 + Δ)_float − w0) and the network now uses the new value: patch every cached sample.
    /// Chunked over fixed sample ranges through `scheduler`; BN γ/β need nothing.
    public func patch(kind: ParameterKind, index: Int, delta: Float, parameters: NetworkParameters,
                      scheduler: ChunkScheduler) {
        let pieces = (count + Self.patchPiece - 1) / Self.patchPiece
        switch parameters.network.layers[layer] {
        case .conv(let c):
            guard kind == .weight else { return }  // γ/β act after the cached pre-BN output
            let kk = c.kernel * c.kernel
            let o = index / c.fanIn, i = (index % c.fanIn) / kk, tap = index % kk
            let shape = plan.tensors[tensor]
            let plane = shape.height * shape.width
            let xPer = plan.tensors[inputTensor].elementsPerSample
            withInputRows { x in
                scheduler.forEachChunk(pieces) { p, _ in
                    let lo = p * Self.patchPiece, n = min(Self.patchPiece, count - lo)
                    table.shiftAxpyRows(rows + lo * perSample + o * plane, perSample, x + lo * xPer + i * plane, xPer,
                                        Int32(n), Int32(shape.height), Int32(shape.width), Int32(c.kernel),
                                        Int32(tap / c.kernel), Int32(tap % c.kernel), delta)
                }
            }
        case .fc(let f):
            let K = f.outFeatures, I = f.inFeatures
            let k = kind == .weight ? index / I : index, i = index % I
            withInputRows { x in
                scheduler.forEachChunk(pieces) { p, _ in
                    let lo = p * Self.patchPiece, n = min(Self.patchPiece, count - lo)
                    table.fcColumnAdd(rows + lo * K, Int32(n), Int32(K), Int32(k), kind == .weight ? x + lo * I : nil,
                                      Int32(I), Int32(i), delta)
                }
            }
        }
        patches += 1
    }

    /// Copies of the cached rows (tests compare a patched cache with a fresh one).
    public func values() -> [Float] { Array(UnsafeBufferPointer(start: rows, count: count * perSample)) }

    /// Calls `body` with the rows of layer d's input tensor ([count][C·H·W]).
    private func withInputRows(_ body: (UnsafePointer<Float>) -> Void) {
        switch input {
        case .cache(let c): body(c.rows(tensor: inputTensor))
        case .images(let data): data.images.withUnsafeBufferPointer { body($0.baseAddress!) }
        }
    }
}
