/// Every option of the RSO algorithm (paper Algorithm 1 and the variants of §4).
public enum DeltaDistribution: String, Codable, CaseIterable, Sendable {
    /// N(0, σ)
    case gaussian
    /// U(−2σ, 2σ)
    case uniform
    /// one of {−σ, 0, σ}, equally likely
    case template
}

public enum VisitOrder: String, Codable, CaseIterable, Sendable {
    /// one output neuron's weights at a time (the paper's default)
    case outputMajor = "output-major"
    /// input channel by input channel, all output neurons for each
    case inputMajor = "input-major"
}

public enum SamplingLevel: String, Codable, CaseIterable, Sendable {
    /// one weight per step (RSO)
    case weight
    /// all weights of a layer jointly per step, N(0, σ_d/10) each (§4.2 baseline)
    case layer
    /// all weights of the network jointly per step (§4.2 baseline)
    case network
}

public enum UpdateScheme: String, Codable, CaseIterable, Sendable {
    /// every accepted change is applied before the next trial
    case sequential
    /// trials of one output neuron all start from the neuron's initial state; merged after it
    case neuronParallel = "neuron-parallel"
    /// trials of one layer all start from the layer's initial state; merged after it
    case layerParallel = "layer-parallel"
}

public struct TrainingOptions: ResumableOptions, Equatable, Sendable {
    public var net: String
    public var batch: Int = 5000
    public var cycles: Int = 50
    public var sigmaScale: Double = 1
    public var sigmaFinalRatio: Double = 0.1
    public var order: VisitOrder = .outputMajor
    public var delta: DeltaDistribution = .gaussian
    public var weightDecay: Double = 0
    public var sampling: SamplingLevel = .weight
    public var update: UpdateScheme = .sequential
    public var cache: Bool = true
    public var seed: UInt64 = 1
    /// Training samples for BN population statistics (evaluation and the activation cache).
    public var bnSamples: Int = 10_000
    /// How W±Δ are evaluated in weight trials (`--trial-eval`; full: the reference, incremental:
    /// recompute only what the weight touches — the default everywhere, same decisions).
    public var evaluation: EvaluationPath = .incremental
    /// Trials per batch: 1 draws a fresh batch for every weight (the paper); K > 1 keeps a batch for
    /// K consecutive trials of a layer, so W's loss and activations carry over (weight sampling,
    /// sequential updates only).
    public var batchReuse: Int = 1

    public init(net: String) { self.net = net }

    /// Rejects values no run can use (messages name the flag); checks that need the data set are
    /// made when the trainer is built.
    public func validate() throws {
        func fail(_ message: String) -> TrainingError { TrainingError(message) }
        if batch < 1 { throw fail("--batch must be a positive number of samples, got \(batch)") }
        if cycles < 1 { throw fail("--cycles must be at least 1, got \(cycles)") }
        if !(sigmaScale.isFinite && sigmaScale > 0) {
            throw fail("--sigma-scale must be a finite positive number, got \(sigmaScale)")
        }
        if !(sigmaFinalRatio.isFinite && sigmaFinalRatio > 0 && sigmaFinalRatio <= 1) {
            throw fail("--sigma-final-ratio must be in (0, 1], got \(sigmaFinalRatio)")
        }
        if !(weightDecay.isFinite && weightDecay >= 0) {
            throw fail("--weight-decay must be a finite number ≥ 0, got \(weightDecay)")
        }
        if bnSamples < 1 { throw fail("--bn-samples must be a positive number of samples, got \(bnSamples)") }
        if batchReuse < 1 { throw fail("--batch-reuse must be at least 1, got \(batchReuse)") }
        if batchReuse > 1 && (sampling != .weight || update != .sequential) {
            throw fail("--batch-reuse \(batchReuse) needs --sampling weight and --update sequential (got \(sampling.rawValue), \(update.rawValue))")
        }
    }

    /// Options that change the trajectory: a resumed run must match them exactly.
    public func differences(from other: TrainingOptions) -> [String] {
        var d = OptionDifferences()
        d.check("--net", net, other.net)
        d.check("--batch", batch, other.batch)
        d.check("--cycles", cycles, other.cycles)
        d.check("--sigma-scale", sigmaScale, other.sigmaScale)
        d.check("--sigma-final-ratio", sigmaFinalRatio, other.sigmaFinalRatio)
        d.check("--order", order.rawValue, other.order.rawValue)
        d.check("--delta", delta.rawValue, other.delta.rawValue)
        d.check("--weight-decay", weightDecay, other.weightDecay)
        d.check("--sampling", sampling.rawValue, other.sampling.rawValue)
        d.check("--update", update.rawValue, other.update.rawValue)
        d.check("--cache", cache, other.cache)
        d.check("--seed", seed, other.seed)
        d.check("--bn-samples", bnSamples, other.bnSamples)
        d.check("--trial-eval", evaluation.rawValue, other.evaluation.rawValue)
        d.check("--batch-reuse", batchReuse, other.batchReuse)
        return d.lines
    }
}

extension TrainingOptions {
    /// Keys added after the first checkpoint format default to the behaviour before them.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(net: try c.decode(String.self, forKey: .net))
        batch = try c.decode(Int.self, forKey: .batch)
        cycles = try c.decode(Int.self, forKey: .cycles)
        sigmaScale = try c.decode(Double.self, forKey: .sigmaScale)
        sigmaFinalRatio = try c.decode(Double.self, forKey: .sigmaFinalRatio)
        order = try c.decode(VisitOrder.self, forKey: .order)
        delta = try c.decode(DeltaDistribution.self, forKey: .delta)
        weightDecay = try c.decode(Double.self, forKey: .weightDecay)
        sampling = try c.decode(SamplingLevel.self, forKey: .sampling)
        update = try c.decode(UpdateScheme.self, forKey: .update)
        cache = try c.decode(Bool.self, forKey: .cache)
        seed = try c.decode(UInt64.self, forKey: .seed)
        bnSamples = try c.decode(Int.self, forKey: .bnSamples)
        evaluation = try c.decodeIfPresent(EvaluationPath.self, forKey: .evaluation) ?? .full
        batchReuse = try c.decodeIfPresent(Int.self, forKey: .batchReuse) ?? 1
    }
}
