/// Test-set evaluation.
///
/// Batch-norm at evaluation uses POPULATION statistics recomputed over the training split for the
/// current weights (see PopulationStatistics): RSO never runs a backward pass, so there are no
/// running averages to keep, and the statistics must match the weights being evaluated. By default
/// they cover a seeded subset of 10,000 training images (standard error of each mean ≈ 1% of the
/// channel's std, and a few seconds on two cores); `statisticsSamples` ≥ the split size uses all.
public enum Evaluator {
    public struct Result: Sendable {
        public var loss: Double
        public var accuracy: Double
        public var count: Int
        public var statisticsSamples: Int
    }

    /// Loss and accuracy over all of `dataset`, in pieces of the executor's capacity. A requested
    /// `stop` is honoured between pieces; the result then covers fewer samples (discard it).
    public static func evaluate(executor: ForwardExecutor, dataset: Dataset, statistics: BNStatistics,
                                stop: StopRequest? = nil) -> BatchResult {
        var total = BatchResult(lossSum: 0, correct: 0, count: 0)
        var start = 0
        while start < dataset.count {
            if stop?.isRequested == true { break }
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
        // Up to 10,000 samples the statistics come from one forward (≈ 2 GB of activations for
        // mnist6); beyond that, streaming passes in pieces of 10,000.
        let capacity = min(max(1, statisticsSamples), splits.train.count, 10_000)
        let executor = ForwardExecutor(parameters: parameters, capacity: capacity, scheduler: scheduler)
        return run(executor: executor, train: splits.train, test: splits.test,
                   statisticsSamples: statisticsSamples, seed: seed)
    }

    /// Same, reusing an executor (the trainer's). When `stop` is requested during the passes the
    /// result is partial: the caller checks `stop` and discards it.
    public static func run(executor: ForwardExecutor, train: Dataset, test: Dataset, statisticsSamples: Int,
                           seed: UInt64, stop: StopRequest? = nil) -> Result {
        let idx = PopulationStatistics.sampleIndices(datasetCount: train.count, samples: statisticsSamples,
                                                     seed: seed, label: "bn-population")
        let stats = PopulationStatistics.compute(executor: executor, dataset: train, indices: idx, stop: stop)
        let r = evaluate(executor: executor, dataset: test, statistics: stats, stop: stop)
        return Result(loss: r.meanLoss, accuracy: r.accuracy, count: r.count, statisticsSamples: idx.count)
    }
}
