import Foundation

/// Everything that determines an SGD run's trajectory (a resumed run must match it exactly).
public struct SGDOptions: ResumableOptions, Equatable, Sendable {
    public enum Decay: String, Codable, Sendable, CaseIterable {
        /// The learning rate stays at --lr after the warm-up.
        case constant
        /// Half-cosine from --lr (end of warm-up) to 0 (last iteration).
        case cosine
    }

    public var net: String
    public var batch = 128
    /// Total iterations (weight updates) of the run.
    public var steps = 1
    public var learningRate = 0.1
    public var momentum = 0.0
    public var nesterov = false
    /// L2 coefficient λ added to every parameter's gradient (λ·p), as PyTorch's SGD weight_decay.
    public var weightDecay = 0.0
    /// Iterations of linear warm-up: iteration t < warmup uses lr·(t + 1)/warmup.
    public var warmupSteps = 0
    public var decay = Decay.constant
    public var seed: UInt64 = 1
    /// Training samples over which evaluation recomputes BN population statistics.
    public var bnSamples = 10_000

    public init(net: String) { self.net = net }

    /// Iterations per epoch: every training sample once, the last batch possibly smaller.
    public func stepsPerEpoch(trainCount: Int) -> Int { (trainCount + batch - 1) / batch }

    public func differences(from other: SGDOptions) -> [String] {
        var d = OptionDifferences()
        d.check("--net", net, other.net)
        d.check("--batch", batch, other.batch)
        d.check("--steps (or --epochs)", steps, other.steps)
        d.check("--lr", learningRate, other.learningRate)
        d.check("--momentum", momentum, other.momentum)
        d.check("--nesterov", nesterov, other.nesterov)
        d.check("--weight-decay", weightDecay, other.weightDecay)
        d.check("--warmup-epochs (as iterations)", warmupSteps, other.warmupSteps)
        d.check("--decay", decay.rawValue, other.decay.rawValue)
        d.check("--seed", seed, other.seed)
        d.check("--bn-samples", bnSamples, other.bnSamples)
        return d.lines
    }
}

/// Learning rate of iteration t (0-based): linear warm-up, then constant or cosine decay.
public struct LearningRateSchedule: Sendable {
    public let options: SGDOptions

    public init(options: SGDOptions) { self.options = options }

    public func rate(at t: Int) -> Double {
        let base = options.learningRate
        let warm = options.warmupSteps
        if t < warm { return base * Double(t + 1) / Double(warm) }
        switch options.decay {
        case .constant:
            return base
        case .cosine:
            let span = options.steps - warm
            guard span > 1 else { return base }
            let progress = Double(t - warm) / Double(span - 1)
            return base * 0.5 * (1 + cos(Double.pi * progress))
        }
    }
}
