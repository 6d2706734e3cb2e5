import Foundation

/// RSO training (paper Algorithm 1 and its §4 variants) over a chunked forward executor.
///
/// A cycle visits units in order — the parameter layers from the classifier back to the input
/// (weight and layer sampling) or the whole network (network sampling) — and runs each unit's
/// trials. A weight trial draws a fresh batch and a Δ, evaluates W, W+Δ and W−Δ on that batch and
/// keeps the lowest objective (a tie keeps W). Every random draw comes from seeded streams whose
/// state is checkpointed, so a resumed run ends with the same weights, bit for bit.
public final class Trainer {
    public enum StopReason: String, Sendable, Equatable {
        case finished
        /// A stop was requested (`stop`, or the `shouldStop` of `run`).
        case interrupted
        /// `maxTrials` trials ran in this call.
        case trialLimit = "trial-limit"
        /// The weights in use gave a non-finite loss on a batch (`nonFiniteLoss` says where); the
        /// run cannot continue from them.
        case nonFiniteLoss = "non-finite-loss"
    }

    public let options: TrainingOptions
    public let parameters: NetworkParameters
    public let train: Dataset
    public let test: Dataset
    public let executor: ForwardExecutor
    public let visit: VisitPlan
    public let sigma: SigmaSchedule
    public internal(set) var state: TrainerState
    public var observer: TrainingObserver?
    /// Evaluate the test set every this many cycles (and at the end).
    public var evalEvery = 1
    public internal(set) var evaluations: [EvaluationRecord] = []
    /// Checked between trials and between the pieces of whole-dataset passes.
    public var stop = StopRequest()
    /// Where and how the loss became non-finite, when `run` returned `.nonFiniteLoss`.
    public internal(set) var nonFiniteLoss: String?
    /// The training split's identity, recorded in checkpoints (computed on first use).
    public internal(set) lazy var datasetIdentity = DatasetIdentity(of: train)

    var batchRNG: SeededGenerator
    var deltaRNG: SeededGenerator
    var sampler: BatchSampler
    let batchIndices: UnsafeMutableBufferPointer<Int32>
    /// Δ buffer for joint (layer/network) perturbations, sized |W| once.
    let jointDelta: UnsafeMutableBufferPointer<Float>
    var cache: ActivationCache?
    /// Every parameter layer, for network-level joint trials (built once, not per trial).
    let allLayers: [Int]
    let clock = ContinuousClock()
    var processStart: ContinuousClock.Instant
    /// Under MPI with several ranks: how the chunks of each batch are dealt to the ranks.
    let split: ChunkSplit?
    /// Under MPI: rounds of rank-owned trials this process ran (parallel update schemes).
    public internal(set) var ownedRounds = 0
    /// Under MPI: the chunk-sum gathers this rank made and the doubles they delivered.
    public var gatheredChunkSums: (collectives: Int, doubles: Int)? {
        (executor.reduction as? GatheredChunkSum).map { ($0.collectives, $0.doublesGathered) }
    }
    /// Incremental trials (`options.evaluation == .incremental`), built on first use.
    lazy var incremental = IncrementalEvaluator(executor: executor, cost: costModel)
    lazy var costModel = IncrementalCostModel(plan: executor.plan)
    /// FLOPs this process executed in weight trials, per trial kind (full-count conventions).
    public internal(set) var trialWork = TrialWorkCounter()
    /// Batch reuse (`options.batchReuse` > 1): the executor's W activations belong to the batch of
    /// the current reuse group and to the current weights.
    var reuseValid = false
    var reuseStart = 0
    var reuseLossW = 0.0

    /// A fresh run: He-normal weights from `options.seed`, σ_d measured from them.
    /// `network` overrides the zoo lookup of `options.net` (tests use small networks).
    public convenience init(options: TrainingOptions, train: Dataset, test: Dataset,
                            scheduler: ChunkScheduler, network: NetworkSpec? = nil,
                            group: ProcessGroup = LocalProcess()) throws {
        guard let net = network ?? NetworkZoo.network(named: options.net) else {
            throw TrainingError("unknown network \(options.net); expected one of \(NetworkZoo.names.joined(separator: ", "))")
        }
        let params = NetworkParameters.heNormal(network: net, seed: options.seed)
        let sigma = SigmaSchedule(parameters: params, scale: options.sigmaScale, cycles: options.cycles,
                                  finalRatio: options.sigmaFinalRatio)
        try self.init(options: options, parameters: params, sigma: sigma, state: TrainerState(),
                      batchRNG: .stream(seed: options.seed, label: "batches"),
                      deltaRNG: .stream(seed: options.seed, label: "deltas"),
                      sampler: BatchSampler(count: train.count), train: train, test: test, scheduler: scheduler,
                      group: group)
    }

    init(options: TrainingOptions, parameters: NetworkParameters, sigma: SigmaSchedule, state: TrainerState,
         batchRNG: SeededGenerator, deltaRNG: SeededGenerator, sampler: BatchSampler,
         train: Dataset, test: Dataset, scheduler: ChunkScheduler, group: ProcessGroup = LocalProcess()) throws {
        try Self.validate(options, train: train, network: parameters.network)
        self.options = options
        self.parameters = parameters
        self.train = train
        self.test = test
        self.sigma = sigma
        self.state = state
        self.batchRNG = batchRNG
        self.deltaRNG = deltaRNG
        self.sampler = sampler
        split = group.size > 1 ? ChunkSplit(group: group) : nil
        visit = VisitPlan(network: parameters.network, order: options.order)
        // Under MPI each rank runs its share of every batch's chunks; totals are gathered in chunk order.
        if let split {
            executor = ForwardExecutor(parameters: parameters, capacity: options.batch,
                                       scheduler: RankChunkScheduler(local: scheduler, split: split), variants: 3,
                                       reduction: GatheredChunkSum(split: split))
        } else {
            executor = ForwardExecutor(parameters: parameters, capacity: options.batch, scheduler: scheduler, variants: 3)
        }
        batchIndices = .allocate(capacity: options.batch)
        let w = parameters.network.weightCount
        jointDelta = .allocate(capacity: w)
        allLayers = Array(parameters.network.layers.indices)
        processStart = clock.now
    }

    deinit {
        batchIndices.deallocate()
        jointDelta.deallocate()
    }

    static func validate(_ o: TrainingOptions, train: Dataset, network: NetworkSpec) throws {
        try o.validate()
        if o.batch > train.count {
            throw TrainingError("--batch must be between 1 and the training set size \(train.count), got \(o.batch)")
        }
        if o.bnSamples > train.count {
            throw TrainingError("--bn-samples must be at most the training set size \(train.count), got \(o.bnSamples)")
        }
        if train.channels != network.inputChannels || train.height != network.inputHeight || train.width != network.inputWidth {
            throw TrainingError("\(network.name) expects \(network.inputChannels)×\(network.inputHeight)×\(network.inputWidth) images, the data set has \(train.channels)×\(train.height)×\(train.width)")
        }
    }

    // MARK: Units

    /// Units of a cycle: layers in visiting order, or one "network" unit.
    public var unitCount: Int { options.sampling == .network ? 1 : visit.layers.count }

    /// The parameter layer of unit `u` (nil: the whole network).
    public func unitLayer(_ u: Int) -> Int? { options.sampling == .network ? nil : visit.layers[u] }

    public func unitTrials(_ u: Int) -> Int {
        switch options.sampling {
        case .weight: return visit.slotCount(layer: visit.layers[u])
        case .layer: return parameters.network.layers[visit.layers[u]].weightCount
        case .network: return parameters.network.weightCount
        }
    }

    /// Trials in one cycle (all units).
    public var trialsPerCycle: Int { (0..<unitCount).reduce(0) { $0 + unitTrials($1) } }

    public var elapsed: Double { state.elapsedBefore + seconds(clock.now - processStart) }

    func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    // MARK: Loop

    /// Runs until the schedule ends, a stop is requested (`stop` or `shouldStop`, checked between
    /// trials — the trial in flight always finishes — and between the pieces of the activation-cache
    /// build and of test evaluations), `maxTrials` trials have run in this call, or the weights give
    /// a non-finite loss. `safePoint` is called between trials so the caller can write time-based
    /// checkpoints; `cycleEnd` after each cycle. Whenever it returns, the state is a valid
    /// checkpoint (for `.nonFiniteLoss` the weights are those that failed: keep the last checkpoint).
    public func run(maxTrials: Int? = nil, shouldStop: () -> Bool = { false },
                    safePoint: (Trainer) -> Void = { _ in }, cycleEnd: (Trainer) -> Void = { _ in }) -> StopReason {
        var ranHere = 0
        if evaluationDue {
            // A scheduled evaluation that an interruption cut short: run it before going on.
            guard evaluate() != nil else { return .interrupted }
            cycleEnd(self)
        }
        while state.cycle < options.cycles {
            var cycleStart = clock.now
            while state.unit < unitCount {
                let u = state.unit
                let trials = unitTrials(u)
                if stop.isRequested || shouldStop() { return .interrupted }
                if let m = maxTrials, ranHere >= m { return .trialLimit }
                let info = prepareUnit(u)
                // A stop during the cache build leaves it incomplete; a resume builds it again.
                if stop.isRequested { cache = nil; return .interrupted }
                observer?.unitStarted(info)
                let unitStart = clock.now
                let firstPosition = state.position
                /// Books a decided trial; false when W's loss was non-finite.
                func finish(_ decision: TrialDecision) -> Bool {
                    if !decision.keptLoss.isFinite {
                        // Nothing was changed (a non-finite candidate is never accepted over a
                        // finite W), but W itself fails: stop before the counters take it in.
                        nonFiniteLoss = "the loss of the current weights is \(decision.keptLoss) on the batch of trial \(state.position + 1) of \(info.name) in cycle \(state.cycle + 1) (trial \(state.trials + 1) of the run); candidates W+Δ \(decision.lossPlus), W−Δ \(decision.lossMinus)"
                        return false
                    }
                    state.unitCounters.record(decision)
                    state.cycleCounters.record(decision)
                    if let d = unitLayer(u), options.sampling == .weight,
                       visit.mergesAfter(layer: d, position: state.position, update: options.update) {
                        mergePending()
                    }
                    state.position += 1
                    state.trials += 1
                    ranHere += 1
                    observer?.trialFinished(info, position: state.position, decision: decision, totalTrials: state.trials)
                    return true
                }
                while state.position < trials {
                    // With batch reuse a run stops only between batches, so a checkpoint never
                    // holds a half-used batch (a resumed run then draws exactly what this one would).
                    let betweenBatches = options.batchReuse <= 1 || state.position % options.batchReuse == 0
                    if betweenBatches, stop.isRequested || shouldStop() { return .interrupted }
                    if betweenBatches, let m = maxTrials, ranHere >= m { return .trialLimit }
                    if ranksOwnTrials, let d = unitLayer(u) {
                        // A round of trials dealt to the ranks (Trainer+RankOwned.swift).
                        let end = roundEnd(layer: d, from: state.position, trials: trials, limit: maxTrials.map { $0 - ranHere })
                        for decision in ownedRound(layer: d, positions: state.position..<end) {
                            applyWeightDecision(decision, layer: d, position: state.position)
                            guard finish(decision) else { return .nonFiniteLoss }
                        }
                    } else {
                        guard finish(step(unit: u, position: state.position)) else { return .nonFiniteLoss }
                    }
                    if options.batchReuse <= 1 || state.position % options.batchReuse == 0 { safePoint(self) }
                }
                let dt = seconds(clock.now - unitStart)
                let c = state.unitCounters
                observer?.unitFinished(UnitSummary(
                    cycle: state.cycle + 1, layer: info.name, trials: trials, trainLoss: c.meanLoss,
                    acceptPlus: c.plus, acceptMinus: c.minus, kept: c.kept,
                    trialsPerSecond: dt > 0 ? Double(trials - firstPosition) / dt : 0, elapsed: elapsed, sigma: info.sigma))
                cache = nil
                state.unit += 1
                state.position = 0
                state.unitCounters = DecisionCounters()
            }
            let c = state.cycleCounters
            observer?.cycleFinished(CycleSummary(cycle: state.cycle + 1, trainLoss: c.meanLoss, acceptPlus: c.plus,
                                                 acceptMinus: c.minus, kept: c.kept,
                                                 seconds: seconds(clock.now - cycleStart), elapsed: elapsed))
            state.cycle += 1
            state.unit = 0
            state.cycleCounters = DecisionCounters()
            if evaluationDue, evaluate() == nil { return .interrupted }
            cycleEnd(self)
            cycleStart = clock.now
        }
        state.finished = true
        return .finished
    }

    /// At a cycle boundary whose scheduled test evaluation (every `evalEvery` cycles, and after the
    /// last) has not run yet.
    public var evaluationDue: Bool {
        state.cycle > 0 && state.unit == 0 && state.position == 0
            && (state.cycle % max(1, evalEvery) == 0 || state.cycle == options.cycles)
            && evaluations.last?.cycle != state.cycle
    }

    /// Whether the last evaluation was of exactly the current weights.
    public var evaluatedCurrentWeights: Bool {
        evaluations.last?.cycle == state.cycle && state.unit == 0 && state.position == 0
    }

    /// Test accuracy and loss of the current weights (population BN statistics, see Evaluator);
    /// nil when `stop` was requested before it finished.
    @discardableResult
    public func evaluate() -> EvaluationRecord? {
        reuseValid = false
        let r = Evaluator.run(executor: executor, train: train, test: test, statisticsSamples: options.bnSamples,
                              seed: options.seed, stop: stop)
        if stop.isRequested { return nil }
        let record = EvaluationRecord(cycle: state.cycle, testAccuracy: r.accuracy, testLoss: r.loss,
                                      samples: r.count, elapsed: elapsed)
        evaluations.append(record)
        observer?.evaluated(record)
        return record
    }

    /// Builds the activation cache of the unit's layer when caching applies.
    func prepareUnit(_ u: Int) -> UnitInfo {
        reuseValid = false
        let layer = unitLayer(u)
        var cached = false
        if let d = layer, options.cache, executor.plan.layerStep[d] > 0 {
            let idx = PopulationStatistics.sampleIndices(datasetCount: train.count, samples: options.bnSamples,
                                                         seed: options.seed, label: "cache-\(state.cycle)-\(u)")
            let stats = PopulationStatistics.compute(executor: executor, dataset: train, indices: idx, belowLayer: d,
                                                     stop: stop)
            // Under MPI each rank computes its chunks of every piece and gathers the others' rows:
            // every rank holds the whole cache, since its trials read any sample of it.
            cache = ActivationCache(executor: executor, dataset: train, layer: d, statistics: stats, stop: stop)
            cached = true
        }
        let name = layer.map { parameters.network.layers[$0].name } ?? "network"
        let s = layer.map { sigma.sigma(layer: $0, cycle: state.cycle) } ?? sigma.sigma(layer: 0, cycle: state.cycle)
        return UnitInfo(cycle: state.cycle + 1, cycles: options.cycles, name: name, trials: unitTrials(u), sigma: s,
                        cached: cached)
    }

    func mergePending() {
        for p in state.pending { tensor(layer: p.layer, kind: p.kind)[p.index] = p.value }
        state.pending.removeAll(keepingCapacity: true)
    }

    func tensor(layer d: Int, kind: ParameterKind) -> ParameterTensor {
        parameters.tensor(layer: d, kind: kind)
    }
}

public struct TrainingError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}
