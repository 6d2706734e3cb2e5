import Foundation

/// Measures RSO steps per second per layer through the trainer's own code path (batch sampling,
/// cache gather, W / W+Δ / W−Δ side by side), on synthetic data of the network's input shape, and
/// projects a full cycle. Data content does not change the work done, so a synthetic training set
/// stands in for the real one (the caches are built over it): `trainSamples` samples, by default
/// `batch`. The output cache's patches after accepted trials cost in proportion to that size, so
/// `--cache output` is timed as a real run pays it only at the real set's size. Under MPI (`group`
/// of several ranks) every rank runs the same steps on its share of the chunks, and each layer also
/// reports this rank's communication per step.
public struct TrialBenchmark {
    public struct Layer: Sendable, Codable {
        public var name: String
        public var weights: Int
        /// Steps in one cycle for this layer (weights + BN γ/β or bias).
        public var steps: Int
        public var trialsPerSecond: Double
        public var medianTrialSeconds: Double
        /// Paper formula: 3·|W_d|·F_d-style cost of ONE trial, FLOPs (3·F_d·batch·2 cached; 3·F·batch·2 uncached).
        public var paperFlopsPerTrial: Double
        /// What the engine executes per trial by its full count (BN, pooling, loss included).
        public var engineFlopsPerTrial: Double
        /// Incremental path by formula (W in full from the run's start, ± variants incrementally).
        public var incrementalFlopsPerTrial: Double = 0
        /// What the trainer counted as executed during the timed steps, per step.
        public var countedFlopsPerTrial: Double = 0
        /// Under MPI with several ranks: this rank's collectives per timed step.
        public var communication: TrialCommunication?
    }

    public struct Result: Sendable, Codable {
        public var net: String
        public var batch: Int
        public var threads: Int
        public var cache: Bool
        /// Layer d's output cached too (`--cache output`): W runs from BN_d.
        public var outputCache: Bool = false
        /// Samples of the synthetic training set the caches hold.
        public var trainSamples: Int = 0
        public var evaluation: String
        /// Trials per batch (`--batch-reuse`); > 1: each timed step is a fresh-batch step followed
        /// by a step on the same batch, and trials/s is their K-weighted mix.
        public var batchReuse: Int = 1
        public var layers: [Layer]
        public var projectedCycleSeconds: Double
        /// Paper-formula FLOPs of a cycle ÷ projected cycle time.
        public var gflopsPaper: Double
        public var gflopsEngine: Double
        public var paperCycleFlops: Double
        public var engineCycleFlops: Double
        /// MPI ranks the steps were split over, and the chunks of one batch.
        public var ranks: Int = 1
        public var chunksPerBatch: Int = 0
    }

    /// `trials` timed steps per layer (after one warm-up), spread over the layer's weights; only the
    /// layers named in `only` when given (the projection then covers those layers alone).
    public static func run(network: NetworkSpec, batch: Int, cache: Bool, outputCache: Bool = false,
                           trainSamples: Int? = nil, trials: Int, only: Set<String>? = nil,
                           scheduler: ChunkScheduler, seed: UInt64 = 1,
                           evaluation: EvaluationPath? = nil, batchReuse: Int = 1, group: ProcessGroup = LocalProcess(),
                           progress: (String) -> Void = { _ in }) throws -> Result {
        var rng = SeededGenerator(seed: seed)
        let per = network.inputChannels * network.inputHeight * network.inputWidth
        let count = max(batch, trainSamples ?? batch)
        let images = (0..<(count * per)).map { _ in Float(rng.nextGaussian()) }
        let labels = (0..<count).map { _ in UInt8(rng.next() % 10) }
        let data = Dataset(name: "synthetic", count: count, channels: network.inputChannels,
                           height: network.inputHeight, width: network.inputWidth, images: images, labels: labels)
        var options = TrainingOptions(net: network.name)
        options.batch = batch
        options.cycles = 1
        options.cache = cache
        options.outputCache = outputCache
        options.bnSamples = batch
        options.seed = seed
        if let evaluation { options.evaluation = evaluation }  // else what training runs
        options.batchReuse = max(1, batchReuse)
        let reuse = options.batchReuse
        let trainer = try Trainer(options: options, train: data, test: data, scheduler: scheduler, network: network,
                                  group: group)
        let model = FlopModel(plan: trainer.executor.plan)
        let clock = ContinuousClock()
        var layers: [Layer] = []
        for u in 0..<trainer.unitCount {
            let d = trainer.unitLayer(u)!
            if let only, !only.contains(network.layers[d].name) { continue }
            _ = trainer.prepareUnit(u)
            let weights = network.layers[d].weightCount
            var times: [Double] = [], reusedTimes: [Double] = []
            var counted = TrialWorkCounter()
            var traffic = group.traffic
            var gathered = trainer.gatheredChunkSums?.doubles ?? 0
            func timed(_ position: Int) -> Double {
                let t0 = clock.now
                _ = trainer.step(unit: u, position: position)
                let dt = clock.now - t0
                return Double(dt.components.seconds) + Double(dt.components.attoseconds) * 1e-18
            }
            for k in 0...trials {
                if k == 1 {
                    counted = trainer.trialWork
                    traffic = group.traffic
                    gathered = trainer.gatheredChunkSums?.doubles ?? 0
                }
                var position = (k * 7919) % weights  // spread over the layer's weights
                if reuse > 1 {
                    position -= position % reuse  // a batch's first position: a fresh batch…
                    trainer.reuseValid = false
                }
                let t = timed(position)
                if k > 0 { times.append(t) }
                if reuse > 1, position + 1 < weights {  // …then a step that reuses it
                    let r = timed(position + 1)
                    if k > 0 { reusedTimes.append(r) }
                }
            }
            times.sort()
            let median = times[times.count / 2]
            var mean = times.reduce(0, +) / Double(times.count)
            if !reusedTimes.isEmpty {
                let reused = reusedTimes.reduce(0, +) / Double(reusedTimes.count)
                mean = (mean + Double(reuse - 1) * reused) / Double(reuse)
            }
            let b = Double(batch)
            let paper = 3 * Double(cache ? model.layers[d].forwardFromHere : model.forward) * b * 2
            let fromD = model.fullFlops(fromLayer: d)
            let engine = (cache ? 3 * fromD : model.fullForwardFlops + 2 * fromD) * b
            let name = network.layers[d].name
            let kind = TrialKind.of(layer: network.layers[d], kind: .weight)
            let plan = trainer.executor.plan
            let start = outputCache ? plan.outputCacheStep(layer: d) : cache ? plan.layerStep[d] : 0
            let timedFlops = trainer.trialWork.flops[kind.index] - counted.flops[kind.index]
            let timedSteps = Double(trials + reusedTimes.count)
            var communication: TrialCommunication?
            if group.size > 1 {
                let t = group.traffic.since(traffic)
                communication = TrialCommunication(
                    collectives: Double(t.collectives) / timedSteps, bytesReceived: Double(t.bytesReceived) / timedSteps,
                    seconds: t.seconds / timedSteps,
                    payloadBytes: Double(((trainer.gatheredChunkSums?.doubles ?? 0) - gathered) * 8) / timedSteps)
            }
            layers.append(Layer(name: name, weights: weights, steps: trainer.visit.slotCount(layer: d),
                                trialsPerSecond: 1 / mean, medianTrialSeconds: median,
                                paperFlopsPerTrial: paper, engineFlopsPerTrial: engine,
                                incrementalFlopsPerTrial: b * trainer.costModel.incrementalTrialFlops(layer: d, kind: kind, start: start),
                                countedFlopsPerTrial: timedFlops / timedSteps, communication: communication))
            progress(String(format: "%@: %.2f trials/s (median %.2f ms)", name, 1 / mean, 1000 * median))
            trainer.cache = nil
            trainer.outputCache = nil
        }
        // Project with the weights' rate for every step of the layer (BN/bias steps cost at most that).
        let seconds = layers.reduce(0) { $0 + Double($1.steps) / $1.trialsPerSecond }
        let paperCycle = layers.reduce(0) { $0 + Double($1.weights) * $1.paperFlopsPerTrial }
        let engineCycle = layers.reduce(0) { $0 + Double($1.steps) * $1.engineFlopsPerTrial }
        return Result(net: network.name, batch: batch, threads: scheduler.workers, cache: cache,
                      outputCache: outputCache, trainSamples: count, evaluation: options.evaluation.rawValue, batchReuse: reuse, layers: layers,
                      projectedCycleSeconds: seconds, gflopsPaper: paperCycle / seconds / 1e9,
                      gflopsEngine: engineCycle / seconds / 1e9, paperCycleFlops: paperCycle,
                      engineCycleFlops: engineCycle, ranks: group.size,
                      chunksPerBatch: (batch + trainer.executor.chunkSamples - 1) / trainer.executor.chunkSamples)
    }
}
