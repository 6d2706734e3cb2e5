/// Test-set evaluation.
///
/// Batch-norm at evaluation uses POPULATION statistics recomputed over the training split for the
/// current weights: RSO never runs a backward pass, so there are no running averages to keep, and
/// the statistics must match the weights being evaluated. They are the batch statistics of one
/// forward pass over `samples` training images (a seeded random subset; the whole split when
/// `samples` ≥ its size). Every BN layer's statistics are therefore exact for that subset given the
/// layers below it. 10,000 samples put the standard error of each mean at 1% of a channel's std.
public enum Evaluator {
    public struct Result: Sendable {
        public var loss: Double
        public var accuracy: Double
        public var count: Int
        public var statisticsSamples: Int
    }

    /// Batch statistics of one forward pass over `samples` training samples (≤ executor capacity).
    public static func populationStatistics(executor: ForwardExecutor, train: Dataset, samples: Int,
                                            seed: UInt64) -> BNStatistics {
        let n = min(samples, train.count, executor.capacity)
        if n == train.count {
            executor.loadInput(from: train, range: 0..<n)
        } else {
            var sampler = BatchSampler(count: train.count)
            var rng = SeededGenerator.stream(seed: seed, label: "bn-population")
            let idx = sampler.sample(n, using: &rng)
            idx.withUnsafeBufferPointer { executor.loadInput(from: train, indices: $0) }
        }
        executor.run(to: executor.plan.steps.count, bn: .batch)
        return executor.statistics()
    }

    /// Loss and accuracy over all of `dataset`, in pieces of the executor's capacity.
    public static func evaluate(executor: ForwardExecutor, dataset: Dataset, statistics: BNStatistics) -> BatchResult {
        var total = BatchResult(lossSum: 0, correct: 0, count: 0)
        var start = 0
        while start < dataset.count {
            let end = min(dataset.count, start + executor.capacity)
            executor.loadInput(from: dataset, range: start..<end)
            let r = executor.run(bn: .fixed(statistics))
            total.lossSum += r.lossSum
            total.correct += r.correct
            total.count += r.count
            start = end
        }
        return total
    }

    /// Population statistics then test evaluation.
    public static func run(parameters: NetworkParameters, splits: DatasetSplits, statisticsSamples: Int,
                           seed: UInt64, scheduler: ChunkScheduler) -> Result {
        let capacity = min(max(statisticsSamples, 1), splits.train.count)
        let executor = ForwardExecutor(parameters: parameters, capacity: capacity, scheduler: scheduler)
        let stats = populationStatistics(executor: executor, train: splits.train, samples: capacity, seed: seed)
        let r = evaluate(executor: executor, dataset: splits.test, statistics: stats)
        return Result(loss: r.meanLoss, accuracy: r.accuracy, count: r.count, statisticsSamples: capacity)
    }
}
