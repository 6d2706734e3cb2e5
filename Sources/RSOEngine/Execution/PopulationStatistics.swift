import CSupport

/// Batch-norm population statistics of the current weights over a set of training samples.
/// When the set fits in the executor, one batch-mode forward gives them. Otherwise they are
/// computed exactly in bounded memory: one streaming pass per BN layer, in forward order, each
/// running the layers below with the statistics already found and summing its conv's output over
/// every sample (sums in double, reduced in chunk then piece order, so thread count never matters).
///
/// Used for evaluation (RSO keeps no running averages: statistics must match the weights
/// evaluated) and for the activation cache of §4.7 (layers below d run with these statistics).
public enum PopulationStatistics {
    /// Which training samples: all of them in order, or a seeded random subset of `count`.
    public static func sampleIndices(datasetCount: Int, samples: Int, seed: UInt64, label: String) -> [Int32] {
        if samples >= datasetCount { return (0..<Int32(datasetCount)).map { $0 } }
        var sampler = BatchSampler(count: datasetCount)
        var rng = SeededGenerator.stream(seed: seed, label: label)
        return sampler.sample(samples, using: &rng)
    }

    /// Statistics of every BN layer whose parameter layer index is < `belowLayer` (default: all).
    /// Entries for the other layers are left as the executor's current statistics. A requested
    /// `stop` is honoured between pieces; the statistics returned are then partial (discard them).
    public static func compute(executor: ForwardExecutor, dataset: Dataset, indices: [Int32],
                               belowLayer: Int? = nil, stop: StopRequest? = nil) -> BNStatistics {
        let net = executor.parameters.network
        let limit = belowLayer ?? net.layers.count
        if indices.count <= executor.capacity {
            // One batch-mode forward computes exactly these statistics (same sums, same order).
            // Through the BN of layer limit−1: run up to (not including) layer `limit`'s own step.
            let end = limit < net.layers.count ? executor.plan.layerStep[limit] : executor.plan.steps.count
            indices.withUnsafeBufferPointer { executor.loadInput(from: dataset, indices: $0) }
            executor.run(to: end, bn: .batch)
            return executor.statistics()
        }
        var stats = executor.statistics()
        for (d, conv) in net.convLayers where d < limit {
            var sum = [Double](repeating: 0, count: conv.outChannels), sq = sum
            var start = 0
            while start < indices.count {
                if stop?.isRequested == true { return stats }
                let end = min(indices.count, start + executor.capacity)
                indices[start..<end].withUnsafeBufferPointer { executor.loadInput(from: dataset, indices: $0) }
                executor.run(to: executor.plan.layerStep[d] + 1, bn: .fixed(stats), collectStatistics: true)
                let part = executor.convStatisticsSums(layer: d)
                for ch in 0..<conv.outChannels { sum[ch] += part.sum[ch]; sq[ch] += part.sumSquares[ch] }
                start = end
            }
            var mean = [Double](repeating: 0, count: conv.outChannels), variance = mean
            let count = Double(indices.count * conv.height * conv.width)
            cs_bn_finalize_stats(sum, sq, Int32(conv.outChannels), count, &mean, &variance)
            stats.mean[d] = mean
            stats.variance[d] = variance
        }
        return stats
    }
}
