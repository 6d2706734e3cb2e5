import CSupport

/// The variant runner: stages over chunks, each chunk running every variant's steps on its worker.
extension ForwardExecutor {
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

    /// W's run from `startStep` to the loss (batch statistics) for a caller that reads back only the
    /// loss, the statistics and the tensors produced before step `chunkLocalFrom`: chunk-local
    /// tensors produced from there on are not written to the batch (incremental trials: the
    /// variants recompute everything from their route's `variantStart`).
    public func run(from startStep: Int, chunkLocalFrom: Int) -> BatchResult {
        chunkLocalFromStep = chunkLocalFrom
        defer { chunkLocalFromStep = Int.max }
        return run(from: startStep)
    }

    /// Runs variants 1..<variants (not variant 0) from `startStep` to the loss, with batch
    /// statistics. Tensors in `variantInputs` are read from the variants' own buffers (the caller
    /// filled them); the BN statistics of the layers in `presetStatistics` are the caller's
    /// (`statisticsStorage`), every other BN from `startStep` on is computed by the run. The
    /// variants' copies of `plan.chunkLocalTensors` are not written (only their losses are read).
    public func runVariants(from startStep: Int, variants: Int, variantInputs: [Int],
                            presetStatistics: [Int]) -> [BatchResult] {
        precondition(variants >= 2)
        for t in variantInputs {
            precondition(variantBuffers[1][t] != nil, "variant input \(t) not prepared")
            precondition(!chunkLocal[t], "variant input \(t) is chunk-local")
            variantInput[t] = true
        }
        chunkLocalVariants = true
        defer {
            for t in variantInputs { variantInput[t] = false }
            chunkLocalVariants = false
        }
        return runCore(from: startStep, to: nil, bn: .batch, collectStatistics: false, variants: variants,
                       firstVariant: 1, presetStatistics: presetStatistics)
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
        if variants > 1 {
            allocateVariantOutputs(variants, from: startStep)
            copyStatisticsToVariants(variants, keeping: presetStatistics)
        }
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
        // A run from past the last step (the logits loaded from an output cache): the loss only.
        if startStep == plan.steps.count {
            scheduler.forEachChunk(chunkCount) { c, _ in
                for v in firstVariant..<variants { computeLoss(chunk: c, variant: v) }
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
            results[v].lossSum = reduction.sum(chunkLoss + v * maxChunks, chunks: chunkCount)
            results[v].correct = Int(reduction.sum(chunkCorrect + v * maxChunks, chunks: chunkCount))
        }
        return results
    }

    private func computeLoss(chunk c: Int, variant v: Int) {
        var correct: Int32 = 0
        let slot = v * maxChunks + c
        chunkLoss[slot] = table.softmaxXent(base(plan.logitsTensor, c, v), labelBase(chunk: c),
                                            Int32(samples(inChunk: c)), Int32(parameters.network.classes), &correct)
        chunkCorrect[slot] = Double(correct)
    }

    @inline(__always)
    private func isChunkLocal(_ t: Int, _ v: Int) -> Bool {
        chunkLocal[t] && (v > 0 ? chunkLocalVariants : producer[t] >= chunkLocalFromStep)
    }

    private func runStep(_ step: ForwardPlan.Step, chunk c: Int, variant v: Int, worker: Int, collectStats: Bool) {
        let n = Int32(samples(inChunk: c))
        let shape = plan.tensors[step.input]
        let x = isChunkLocal(step.input, v) ? chunkLocalScratch[worker] : base(step.input, c, v)
        let y = isChunkLocal(step.output, v) ? chunkLocalScratch[worker] : base(step.output, c, v)
        let C = Int32(shape.channels), H = Int32(shape.height), W = Int32(shape.width)
        let plane = Int(n) * shape.height * shape.width
        switch step.kind {
        case .conv(let d):
            guard case .conv(let s) = parameters.network.layers[d] else { return }
            var sum: UnsafeMutablePointer<Double>? = nil, sq: UnsafeMutablePointer<Double>? = nil
            if collectStats {
                sum = chunkSums[v][d]! + c * s.outChannels
                sq = chunkSumSqs[v][d]! + c * s.outChannels
                sum!.update(repeating: 0, count: s.outChannels)
                sq!.update(repeating: 0, count: s.outChannels)
            }
            let conv = table.conv(kernel: s.kernel, width: s.width, inChannels: s.inChannels)
            conv(x, parameter(d, .weight, v), C, Int32(s.outChannels), n, H, W, Int32(s.kernel), y, sum, sq,
                 scratch: scratch[worker])
        case .batchNorm(let d, let relu):
            table.bnReluInfer(x, C, plane, parameter(d, .gamma, v), parameter(d, .beta, v), means[v][d],
                              variances[v][d], eps, relu ? 1 : 0, y)
        case .batchNormPool(let d, let relu):
            table.bnReluAvgpool2(x, C, n, H, W, parameter(d, .gamma, v), parameter(d, .beta, v), means[v][d],
                                 variances[v][d], eps, relu ? 1 : 0, y)
        case .avgPool2:
            table.avgpool2(x, C, n, H, W, y)
        case .globalAvgPool:
            table.globalAvgpool(x, C, n, shape.height * shape.width, y)
        case .fc(let d):
            guard case .fc(let f) = parameters.network.layers[d] else { return }
            table.fc(x, parameter(d, .weight, v), parameter(d, .bias, v), n, Int32(f.inFeatures),
                     Int32(f.outFeatures), y)
        case .addSkip(let skip, let relu):
            table.residualAdd(y, base(skip, c, v), C, Int32(plan.tensors[skip].channels), plane, relu ? 1 : 0)
        }
    }
}
