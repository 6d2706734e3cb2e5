import Foundation

/// Where an SGD run is: the iteration count determines everything else (epoch, batch, learning
/// rate), so this and the parameters plus momentum buffers are a complete checkpoint.
public struct SGDState: Codable, Equatable, Sendable {
    /// Iterations (weight updates) completed since the run began, across resumes.
    public var iteration = 0
    /// Wall-clock seconds spent before this process (across resumes).
    public var elapsedBefore: Double = 0
    public init() {}
}

/// One iteration, as reported to the observer.
public struct SGDIterationRecord: Codable, Sendable {
    /// Iterations done: each updates every weight once (RSO's "cycle" on a curve).
    public var updates: Int
    public var epoch: Double
    public var learningRate: Double
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var seconds: Double
    public var elapsed: Double
}

/// A test-set evaluation; `cycle` repeats `updates` so curves line up with `rso train` records.
public struct SGDEvaluationRecord: Codable, Sendable {
    public var updates: Int
    public var cycle: Int
    public var epoch: Double
    public var testAccuracy: Double
    public var testLoss: Double
    public var samples: Int
    public var elapsed: Double
}

public protocol SGDObserver: AnyObject {
    func iterationFinished(_ record: SGDIterationRecord)
    func evaluated(_ record: SGDEvaluationRecord)
}

/// Back-propagation SGD on the engine's kernels: the same networks, He initialisation, data,
/// chunked executor and population-statistics evaluation as RSO (so checkpoints of either are
/// inputs of `rso eval`).
///
/// Batches: each epoch visits the training set in a seeded permutation of its own (stream
/// "sgd-epoch-<e>"), in consecutive batches of `batch` (the last one smaller when `batch` does
/// not divide the set). Evaluation: BN uses population statistics of the current weights over
/// `bnSamples` training images, recomputed at each evaluation (Evaluator) — no running averages
/// are kept, exactly as for RSO.
public final class SGDTrainer {
    public enum StopReason: Sendable, Equatable { case finished, interrupted, stepLimit }

    public let options: SGDOptions
    public let parameters: NetworkParameters
    public let train: Dataset
    public let test: Dataset
    public let executor: ForwardExecutor
    public let backward: BackwardPass
    public let optimizer: SGDOptimizer
    public let schedule: LearningRateSchedule
    public internal(set) var state: SGDState
    public internal(set) var evaluations: [SGDEvaluationRecord] = []
    public weak var observer: SGDObserver?
    public let stepsPerEpoch: Int

    private var permutationEpoch = -1
    private var permutation: [Int32] = []
    private let clock = ContinuousClock()
    private let processStart: ContinuousClock.Instant

    /// A fresh run: He-normal weights from `options.seed`. `network` overrides the zoo lookup.
    public convenience init(options: SGDOptions, train: Dataset, test: Dataset, scheduler: ChunkScheduler,
                            network: NetworkSpec? = nil, kernels: KernelSet = .optimized) throws {
        guard let net = network ?? NetworkZoo.network(named: options.net) else {
            throw TrainingError("unknown network \(options.net); expected one of \(NetworkZoo.names.joined(separator: ", "))")
        }
        try self.init(options: options, parameters: .heNormal(network: net, seed: options.seed), state: SGDState(),
                      train: train, test: test, scheduler: scheduler, kernels: kernels)
    }

    init(options: SGDOptions, parameters: NetworkParameters, state: SGDState, train: Dataset, test: Dataset,
         scheduler: ChunkScheduler, kernels: KernelSet = .optimized) throws {
        let net = parameters.network
        guard train.channels == net.inputChannels, train.height == net.inputHeight, train.width == net.inputWidth else {
            throw TrainingError("\(net.name) expects \(net.inputChannels)×\(net.inputHeight)×\(net.inputWidth) inputs, the training set has \(train.channels)×\(train.height)×\(train.width)")
        }
        guard options.batch >= 1, options.batch <= train.count else {
            throw TrainingError("--batch \(options.batch) must be between 1 and the training set size \(train.count)")
        }
        guard options.steps >= 1 else { throw TrainingError("the run needs at least one iteration, got \(options.steps)") }
        self.options = options
        self.parameters = parameters
        self.train = train
        self.test = test
        self.state = state
        executor = ForwardExecutor(parameters: parameters, capacity: options.batch, scheduler: scheduler, kernels: kernels)
        backward = BackwardPass(forward: executor)
        optimizer = SGDOptimizer(parameters: parameters, momentum: options.momentum, nesterov: options.nesterov,
                                 weightDecay: options.weightDecay)
        schedule = LearningRateSchedule(options: options)
        stepsPerEpoch = options.stepsPerEpoch(trainCount: train.count)
        processStart = clock.now
    }

    public var finished: Bool { state.iteration >= options.steps }

    /// Training wall time across resumes (evaluations included).
    public var elapsed: Double {
        let d = (clock.now - processStart).components
        return state.elapsedBefore + Double(d.seconds) + Double(d.attoseconds) * 1e-18
    }

    public var epoch: Double { Double(state.iteration) / Double(stepsPerEpoch) }

    /// The training indices of iteration t's batch.
    public func batchIndices(iteration t: Int) -> ArraySlice<Int32> {
        let e = t / stepsPerEpoch
        if e != permutationEpoch {
            var sampler = BatchSampler(count: train.count)
            var rng = SeededGenerator.stream(seed: options.seed, label: "sgd-epoch-\(e)")
            permutation = sampler.sample(train.count, using: &rng)
            permutationEpoch = e
        }
        let lo = (t % stepsPerEpoch) * options.batch
        return permutation[lo..<min(train.count, lo + options.batch)]
    }

    /// Forward on the batch of the current iteration, then the gradients (in `backward.gradients`).
    /// Returns the batch's loss and accuracy (before the update).
    @discardableResult
    public func computeGradients() -> BatchResult {
        batchIndices(iteration: state.iteration).withUnsafeBufferPointer { executor.loadInput(from: train, indices: $0) }
        let r = executor.run(bn: .batch)
        backward.run()
        return r
    }

    /// One iteration: gradients, then the SGD update.
    @discardableResult
    public func step() -> SGDIterationRecord {
        let t0 = clock.now
        let r = computeGradients()
        let lr = schedule.rate(at: state.iteration)
        optimizer.step(gradients: backward.gradients, lr: lr, first: state.iteration == 0)
        state.iteration += 1
        let d = (clock.now - t0).components
        let record = SGDIterationRecord(updates: state.iteration, epoch: epoch, learningRate: lr,
                                        trainLoss: r.meanLoss, trainAccuracy: r.accuracy,
                                        seconds: Double(d.seconds) + Double(d.attoseconds) * 1e-18, elapsed: elapsed)
        observer?.iterationFinished(record)
        return record
    }

    @discardableResult
    public func evaluate() -> SGDEvaluationRecord {
        let r = Evaluator.run(executor: executor, train: train, test: test, statisticsSamples: options.bnSamples,
                              seed: options.seed)
        let record = SGDEvaluationRecord(updates: state.iteration, cycle: state.iteration, epoch: epoch,
                                         testAccuracy: r.accuracy, testLoss: r.loss, samples: r.count, elapsed: elapsed)
        evaluations.append(record)
        observer?.evaluated(record)
        return record
    }

    /// Runs to `options.steps`, at most `maxSteps` iterations in this call. Evaluates the initial
    /// weights (fresh runs), every `evalEvery` iterations and at the end of the run. `safePoint`
    /// runs after every iteration (checkpoints), `shouldStop` is polled before every iteration.
    public func run(maxSteps: Int? = nil, evalEvery: Int, shouldStop: () -> Bool = { false },
                    safePoint: () -> Void = {}) -> StopReason {
        if state.iteration == 0 && evaluations.isEmpty { evaluate() }
        var done = 0
        while !finished {
            if shouldStop() { return .interrupted }
            if let maxSteps, done >= maxSteps { return .stepLimit }
            step()
            done += 1
            if state.iteration % evalEvery == 0 || finished { evaluate() }
            safePoint()
        }
        return .finished
    }
}
