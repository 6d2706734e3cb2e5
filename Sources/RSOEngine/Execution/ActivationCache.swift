/// Paper §4.7: the inputs of layer d for the whole training set, computed once with the layers
/// below d fixed (population BN statistics), so a trial only runs layers d…D.
///
/// Stored per sample ([count][C·H·W] per live tensor) so a random batch is gathered with one
/// contiguous read per sample and channel plane. Inside a residual block the cut has two live
/// tensors (the block input and the conv input); both are cached.
///
/// On a multi-node machine every worker reads the whole cache, so it is replicated once per NUMA
/// node in use: replica r is written (first touched, hence placed) by node r's workers, and a
/// worker gathers from its own node's replica.
public final class ActivationCache {
    public let startStep: Int
    public let tensors: [Int]
    public let count: Int
    /// storage[replica][live tensor]
    private var storage: [[UnsafeMutablePointer<Float>]]
    private let plan: ForwardPlan
    public let dataset: Dataset
    /// False when `stop` cut the build short: the cache must then be discarded.
    public private(set) var isComplete = true

    /// Caches the live tensors at the step of parameter layer `layer`, running the layers below it
    /// over all of `dataset` in pieces of the executor's capacity with fixed `statistics`. A
    /// requested `stop` is honoured between pieces (the cache is then incomplete).
    public init(executor: ForwardExecutor, dataset: Dataset, layer: Int, statistics: BNStatistics,
                stop: StopRequest? = nil) {
        plan = executor.plan
        startStep = plan.layerStep[layer]
        tensors = plan.liveTensors(at: startStep)
        count = dataset.count
        self.dataset = dataset
        let plan = executor.plan
        let sizes = tensors.map { dataset.count * plan.tensors[$0].elementsPerSample }
        storage = [sizes.map { LargeBuffer.floats($0) }]
        var start = 0
        while start < dataset.count {
            if stop?.isRequested == true { isComplete = false; return }
            let end = min(dataset.count, start + executor.capacity)
            executor.loadInput(from: dataset, range: start..<end)
            executor.run(to: startStep, bn: .fixed(statistics))
            copyOut(executor, firstSample: start)
            // Under MPI each rank ran its own chunks of the piece: gather the others' rows.
            for (k, t) in tensors.enumerated() {
                let per = plan.tensors[t].elementsPerSample
                executor.scheduler.shareChunkRows(storage[0][k] + start * per, rowFloats: per, chunks: executor.chunkCount,
                                                  chunkSamples: executor.chunkSamples, samples: end - start)
            }
            start = end
        }
        let scheduler = executor.scheduler
        if scheduler.replicas > 1 { replicate(sizes, scheduler) }
    }

    deinit { storage.joined().forEach { LargeBuffer.free($0) } }

    /// Bytes of one replica.
    public var bytes: Int {
        tensors.reduce(0) { $0 + plan.tensors[$1].elementsPerSample * count * MemoryLayout<Float>.size }
    }

    public var replicaCount: Int { storage.count }

    /// The per-sample rows ([count][C·H·W]) of live tensor `t`, first replica (read-only use).
    public func rows(tensor t: Int) -> UnsafePointer<Float> {
        UnsafePointer(storage[0][tensors.firstIndex(of: t)!])
    }

    /// Staging copy → one replica per node, each copied by that node's workers (first touch).
    private func replicate(_ sizes: [Int], _ scheduler: ChunkScheduler) {
        let staging = storage[0]
        let replicas = (0..<scheduler.replicas).map { _ in sizes.map { LargeBuffer.floats($0) } }
        let workers = scheduler.workers
        scheduler.forEachWorker { worker in
            let r = scheduler.replica(ofWorker: worker)
            let peers = (0..<workers).filter { scheduler.replica(ofWorker: $0) == r }
            let k = peers.firstIndex(of: worker)!
            for (i, size) in sizes.enumerated() {
                let lo = size * k / peers.count, hi = size * (k + 1) / peers.count
                (replicas[r][i] + lo).update(from: staging[i] + lo, count: hi - lo)
            }
        }
        staging.forEach { LargeBuffer.free($0) }
        storage = replicas
    }

    /// Gathers `indices` into the executor's live tensors and labels; then
    /// `executor.run(from: startStep, bn: .batch)` evaluates the trial from layer d. The live tensor
    /// `deferred` is left out: its channels are gathered on demand (`loadChannel`).
    public func load(into executor: ForwardExecutor, indices: UnsafeBufferPointer<Int32>, deferring deferred: Int? = nil) {
        executor.setBatchSize(indices.count)
        let scheduler = executor.scheduler
        scheduler.forEachChunk(executor.chunkCount) { c, worker in
            let n = executor.samples(inChunk: c)
            let lo = c * executor.chunkSamples
            let source = storage[scheduler.replica(ofWorker: worker)]
            for (k, t) in tensors.enumerated() where t != deferred {
                let per = plan.tensors[t].elementsPerSample
                Self.copySamples(plan.tensors[t], n: n, chunk: executor.chunkBase(tensor: t, chunk: c),
                            sample: { source[k] + Int(indices[lo + $0]) * per }, toChunk: true)
            }
            dataset.gatherLabels(indices: UnsafeBufferPointer(rebasing: indices[lo..<(lo + n)]),
                                 into: executor.labelBase(chunk: c))
        }
    }

    /// Gathers channel `ch` of live tensor `t` (a channel plane per sample) for chunk `c` of the
    /// batch `indices`, from `worker`'s replica: a deferred tensor, one channel at a time.
    public func loadChannel(_ ch: Int, of t: Int, into executor: ForwardExecutor, indices: UnsafeBufferPointer<Int32>,
                            chunk c: Int, worker: Int) {
        let shape = plan.tensors[t]
        precondition(!shape.flat && ch < shape.channels, "channel \(ch) of tensor \(t)")
        guard let k = tensors.firstIndex(of: t) else { preconditionFailure("tensor \(t) is not cached") }
        let per = shape.elementsPerSample, plane = shape.height * shape.width
        let n = executor.samples(inChunk: c), lo = c * executor.chunkSamples
        let source = storage[executor.scheduler.replica(ofWorker: worker)][k] + ch * plane
        let chunk = executor.chunkBase(tensor: t, chunk: c) + ch * n * plane
        for j in 0..<n { (chunk + j * plane).update(from: source + Int(indices[lo + j]) * per, count: plane) }
    }

    private func copyOut(_ executor: ForwardExecutor, firstSample: Int) {
        executor.scheduler.forEachChunk(executor.chunkCount) { c, _ in
            let n = executor.samples(inChunk: c)
            let lo = firstSample + c * executor.chunkSamples
            for (k, t) in tensors.enumerated() {
                let per = plan.tensors[t].elementsPerSample
                Self.copySamples(plan.tensors[t], n: n, chunk: executor.chunkBase(tensor: t, chunk: c),
                            sample: { storage[0][k] + (lo + $0) * per }, toChunk: false)
            }
        }
    }

    /// Moves n samples between a chunk ([C][n][H·W], or [n][C] when flat) and per-sample rows
    /// ([C·H·W] each, at `sample(j)`), in the direction `toChunk`.
    @inline(__always)
    static func copySamples(_ shape: ForwardPlan.TensorShape, n: Int, chunk: UnsafeMutablePointer<Float>,
                             sample: (Int) -> UnsafeMutablePointer<Float>, toChunk: Bool) {
        let per = shape.elementsPerSample
        let plane = shape.height * shape.width
        for j in 0..<n {
            let row = sample(j)
            if shape.flat {
                if toChunk { (chunk + j * per).update(from: row, count: per) } else { row.update(from: chunk + j * per, count: per) }
                continue
            }
            for ch in 0..<shape.channels {
                let inChunk = chunk + (ch * n + j) * plane
                if toChunk { inChunk.update(from: row + ch * plane, count: plane) } else { (row + ch * plane).update(from: inChunk, count: plane) }
            }
        }
    }
}
