/// Paper §4.7: the inputs of layer d for the whole training set, computed once with the layers
/// below d fixed (population BN statistics), so a trial only runs layers d…D.
///
/// Stored per sample ([count][C·H·W] per live tensor) so a random batch is gathered with one
/// contiguous read per sample and channel plane. Inside a residual block the cut has two live
/// tensors (the block input and the conv input); both are cached.
public final class ActivationCache {
    public let startStep: Int
    public let tensors: [Int]
    public let count: Int
    private let storage: [UnsafeMutablePointer<Float>]
    private let plan: ForwardPlan
    public let dataset: Dataset

    /// Caches the live tensors at the step of parameter layer `layer`, running the layers below it
    /// over all of `dataset` in pieces of the executor's capacity with fixed `statistics`.
    public init(executor: ForwardExecutor, dataset: Dataset, layer: Int, statistics: BNStatistics) {
        plan = executor.plan
        startStep = plan.layerStep[layer]
        tensors = plan.liveTensors(at: startStep)
        count = dataset.count
        self.dataset = dataset
        storage = tensors.map { t in
            UnsafeMutablePointer<Float>.allocate(capacity: dataset.count * executor.plan.tensors[t].elementsPerSample)
        }
        var start = 0
        while start < dataset.count {
            let end = min(dataset.count, start + executor.capacity)
            executor.loadInput(from: dataset, range: start..<end)
            executor.run(to: startStep, bn: .fixed(statistics))
            copyOut(executor, firstSample: start)
            start = end
        }
    }

    deinit { storage.forEach { $0.deallocate() } }

    public var bytes: Int {
        tensors.reduce(0) { $0 + plan.tensors[$1].elementsPerSample * count * MemoryLayout<Float>.size }
    }

    /// Gathers `indices` into the executor's live tensors and labels; then
    /// `executor.run(from: startStep, bn: .batch)` evaluates the trial from layer d.
    public func load(into executor: ForwardExecutor, indices: UnsafeBufferPointer<Int32>) {
        executor.setBatchSize(indices.count)
        executor.scheduler.forEachChunk(executor.chunkCount) { c, _ in
            let n = executor.samples(inChunk: c)
            let lo = c * executor.chunkSamples
            for (k, t) in tensors.enumerated() {
                let shape = plan.tensors[t]
                let per = shape.elementsPerSample
                let plane = shape.height * shape.width
                let dst = executor.chunkBase(tensor: t, chunk: c)
                for j in 0..<n {
                    let src = storage[k] + Int(indices[lo + j]) * per
                    if shape.flat {
                        (dst + j * per).update(from: src, count: per)
                    } else {
                        for ch in 0..<shape.channels {
                            (dst + (ch * n + j) * plane).update(from: src + ch * plane, count: plane)
                        }
                    }
                }
            }
            dataset.gatherLabels(indices: UnsafeBufferPointer(rebasing: indices[lo..<(lo + n)]),
                                 into: executor.labelBase(chunk: c))
        }
    }

    private func copyOut(_ executor: ForwardExecutor, firstSample: Int) {
        executor.scheduler.forEachChunk(executor.chunkCount) { c, _ in
            let n = executor.samples(inChunk: c)
            let lo = firstSample + c * executor.chunkSamples
            for (k, t) in tensors.enumerated() {
                let shape = plan.tensors[t]
                let per = shape.elementsPerSample
                let plane = shape.height * shape.width
                let src = executor.chunkBase(tensor: t, chunk: c)
                for j in 0..<n {
                    let dst = storage[k] + (lo + j) * per
                    if shape.flat {
                        dst.update(from: src + j * per, count: per)
                    } else {
                        for ch in 0..<shape.channels {
                            (dst + ch * plane).update(from: src + (ch * n + j) * plane, count: plane)
                        }
                    }
                }
            }
        }
    }
}
