import CSupport

/// Batch-norm statistics: per-chunk sums written by the convs, batch totals (through `reduction`),
/// and the mean/variance each variant normalises with.
extension ForwardExecutor {
    /// Per-chunk BN sums of conv layer `d` of variant `v`: [chunk][channel], as the last run left them.
    public func chunkStatistics(layer d: Int, variant v: Int) -> (sum: UnsafeMutablePointer<Double>, sumSquares: UnsafeMutablePointer<Double>) {
        (chunkSums[v][d]!, chunkSumSqs[v][d]!)
    }

    /// BN mean and variance [channel] of conv layer `d` that variant `v` normalises with.
    public func statisticsStorage(layer d: Int, variant v: Int) -> (mean: UnsafeMutablePointer<Double>, variance: UnsafeMutablePointer<Double>) {
        (means[v][d]!, variances[v][d]!)
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

    /// Per-channel sum and sum of squares of conv `layer`'s output over the loaded batch (valid
    /// after a run that collected statistics and ran that conv).
    public func convStatisticsSums(layer d: Int) -> (sum: [Double], sumSquares: [Double]) {
        let channels = parameters.network.layers[d].outputs
        var sum = [Double](repeating: 0, count: channels), sq = sum
        reduceChannelSums(layer: d, variant: 0, channels: channels, into: &sum, &sq)
        return (sum, sq)
    }

    /// Batch totals of conv layer `d`'s per-chunk sums of variant `v`.
    public func reduceChannelSums(layer d: Int, variant v: Int, channels: Int,
                                  into sum: UnsafeMutablePointer<Double>, _ sumSquares: UnsafeMutablePointer<Double>) {
        reduction.sum(chunkSums[v][d]!, chunks: chunkCount, stride: channels, width: channels, into: sum)
        reduction.sum(chunkSumSqs[v][d]!, chunks: chunkCount, stride: channels, width: channels, into: sumSquares)
    }

    /// Mean and variance of variant `v`'s conv layer `d` from its per-chunk sums over the batch.
    public func finalizeStatistics(layer d: Int, variant v: Int) {
        let channels = parameters.network.layers[d].outputs
        let shape = plan.tensors[plan.steps[plan.layerStep[d]].output]
        reduceChannelSums(layer: d, variant: v, channels: channels, into: statsTotal, statsTotal + channels)
        cs_bn_finalize_stats(statsTotal, statsTotal + channels, Int32(channels),
                             Double(batchSize * shape.height * shape.width), means[v][d], variances[v][d])
    }

    /// Finalizes the statistics of the BN at `step` (nothing for other steps).
    func finalizeStatistics(forStepAt step: Int, variant v: Int) {
        guard let d = ForwardPlan.normalizedLayer(plan.steps[step].kind) else { return }
        finalizeStatistics(layer: d, variant: v)
    }

    func install(_ stats: BNStatistics, variant v: Int) {
        precondition(stats.mean.count == parameters.network.layers.count, "statistics for another network")
        for d in parameters.network.layers.indices {
            guard let mp = means[v][d], let vp = variances[v][d] else { continue }
            precondition(stats.mean[d].count == parameters.network.layers[d].outputs)
            for i in stats.mean[d].indices { mp[i] = stats.mean[d][i]; vp[i] = stats.variance[d][i] }
        }
    }

    /// Variant 0's statistics for variants 1..<variants, except the layers in `preset` (the
    /// caller's).
    func copyStatisticsToVariants(_ variants: Int, keeping preset: [Int]) {
        for v in 1..<variants {
            for d in parameters.network.layers.indices where !preset.contains(d) {
                guard let m0 = means[0][d], let v0 = variances[0][d] else { continue }
                means[v][d]!.update(from: m0, count: parameters.network.layers[d].outputs)
                variances[v][d]!.update(from: v0, count: parameters.network.layers[d].outputs)
            }
        }
    }
}
