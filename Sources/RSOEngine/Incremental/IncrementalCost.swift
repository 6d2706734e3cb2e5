/// What one trial costs, per sample, by the full-count conventions of `FlopModel.stepCounts`
/// (conv/FC 2 per MAC, BN 5 per element with its statistics, ReLU 1, pooling 1 per input element,
/// residual add 1 (+1 ReLU), softmax cross-entropy 4 per logit + 1), for the full evaluation path
/// (W, then W+Δ and W−Δ from where the change first matters) and the incremental one (W, then
/// each ± variant along its `IncrementalRoute` and the full tail after it).
public enum TrialKind: String, Codable, CaseIterable, Sendable {
    case convWeight = "conv-weight"
    case bnParameter = "bn-gamma-beta"
    case fcWeight = "fc-weight"
    case fcBias = "fc-bias"

    /// Position in `allCases` (a switch: counted per trial, so no array is built for it).
    public var index: Int {
        switch self {
        case .convWeight: return 0
        case .bnParameter: return 1
        case .fcWeight: return 2
        case .fcBias: return 3
        }
    }

    public static func of(layer: ParameterLayer, kind: ParameterKind) -> TrialKind {
        switch (layer, kind) {
        case (.conv, .weight): return .convWeight
        case (.conv, _): return .bnParameter
        case (.fc, .weight): return .fcWeight
        case (.fc, _): return .fcBias
        }
    }
}

public struct IncrementalCostModel: Sendable {
    public let plan: ForwardPlan
    public let routes: [IncrementalRoute?]

    /// FLOPs per sample of a full forward from step s to the loss, for every s (computed once:
    /// the trial loop asks per trial).
    private let suffixFlops: [Double]

    /// The model of `plan` (the executor's: one plan per trainer, compiled once).
    public init(plan: ForwardPlan) {
        self.plan = plan
        routes = plan.network.layers.indices.map { IncrementalRoute.compile(plan: plan, layer: $0) }
        let model = FlopModel(plan: plan)
        var suffix = [Double](repeating: model.lossFlops, count: plan.steps.count + 1)
        for s in plan.steps.indices.reversed() {
            suffix[s] = suffix[s + 1] + model.stepCounts[s].reduce(0) { $0 + $1.flops }
        }
        suffixFlops = suffix
        lossFlops = model.lossFlops
    }

    private func plane(_ t: Int) -> Double { Double(plan.tensors[t].height * plan.tensors[t].width) }
    private let lossFlops: Double

    /// A full forward from step `s` to the loss, per sample.
    public func fullFlops(fromStep s: Int) -> Double { suffixFlops[s] }

    /// Step where a trial of `kind` in layer `d` first changes something.
    public func changeStep(layer d: Int, kind: TrialKind) -> Int {
        plan.changeStep(layer: d, kind: kind == .bnParameter ? .gamma : .weight)
    }

    /// Full path, per sample: W from `start`, then W+Δ and W−Δ from the change.
    public func fullTrialFlops(layer d: Int, kind: TrialKind, start: Int) -> Double {
        fullFlops(fromStep: start) + 2 * fullFlops(fromStep: max(start, changeStep(layer: d, kind: kind)))
    }

    /// Incremental path, per sample: work shared by the ± variants (the shift statistics).
    public func sharedFlops(layer d: Int, kind: TrialKind) -> Double {
        guard kind == .convWeight, let r = routes[d] else { return 0 }
        return 5 * plane(r.preBN)
    }

    /// Incremental path, per sample, for ONE ± variant.
    public func variantFlops(layer d: Int, kind: TrialKind) -> Double {
        let k = Double(plan.network.classes)
        switch kind {
        case .fcWeight: return 2 + lossFlops
        case .fcBias: return 1 + lossFlops
        case .convWeight, .bnParameter: break
        }
        let r = routes[d]!
        let z = plane(r.preBN)
        var f = (kind == .convWeight ? 2 * z : 0) + 2 * z + (r.relu ? z : 0) + (r.pooled ? z : 0)
        for op in r.ops {
            switch op {
            case .pool(let a, _), .globalPool(let a, _): f += plane(a)
            case .addSkip(let y, _, let yChanged, _, let relu, _, _):
                let l = plane(y)
                f += (yChanged ? 0 : 2 * l) + l + (relu ? l : 0)
            case .fcLoss: f += 1 + 2 * k + lossFlops
            case .transition(let a, let e, _, _):
                guard case .conv(let c) = plan.network.layers[e] else { break }
                let l = plane(a)
                f += l + 2 * Double(c.outChannels * c.kernel * c.kernel) * l + Double(c.outChannels) * l
                f += fullFlops(fromStep: r.variantStart!)
            }
        }
        return f
    }

    /// Incremental path, per sample: W from `start` (when the batch is fresh) + shared + 2 variants.
    public func incrementalTrialFlops(layer d: Int, kind: TrialKind, start: Int, freshBatch: Bool = true) -> Double {
        (freshBatch ? fullFlops(fromStep: start) : 0) + sharedFlops(layer: d, kind: kind) + 2 * variantFlops(layer: d, kind: kind)
    }
}

/// FLOPs the engine executed, per trial kind (counted as the work runs).
public struct TrialWorkCounter: Sendable, Codable, Equatable {
    public var trials = [Int](repeating: 0, count: TrialKind.allCases.count)
    public var flops = [Double](repeating: 0, count: TrialKind.allCases.count)

    public init() {}

    public mutating func add(_ kind: TrialKind, flops f: Double, trial: Bool) {
        if trial { trials[kind.index] += 1 }
        flops[kind.index] += f
    }

    public var totalTrials: Int { trials.reduce(0, +) }
    public var totalFlops: Double { flops.reduce(0, +) }
    public func perTrial(_ kind: TrialKind) -> Double {
        trials[kind.index] > 0 ? flops[kind.index] / Double(trials[kind.index]) : 0
    }
}

extension FlopModel {
    /// The incremental-trial cost model of this network (per layer and trial kind).
    public var incremental: IncrementalCostModel { IncrementalCostModel(plan: plan) }
}

extension IncrementalCostModel {
    /// One layer's trial costs side by side, FLOPs per sample, with caching of layer d's input
    /// (the run of W starts at layer d). `paper`: the §4.7 formula 3·F_d (as FLOPs); `cached`: the
    /// engine's full count of the full path (W, W+Δ, W−Δ from layer d); `incremental`: W in full,
    /// then the ± variants incrementally; `incrementalVariants`: the ± variants alone (what a trial
    /// costs when W's activations carry over, the batch-reuse limit); `outputCached`: the same with
    /// layer d's output cached too (W runs from BN_d, `--cache output`).
    public struct LayerCost: Sendable, Codable {
        public var name: String
        public var weights: Int
        /// Weight trials + BN γ/β or bias trials of one cycle.
        public var steps: Int
        public var paper: Double
        public var cached: Double
        public var incremental: Double
        public var incrementalVariants: Double
        public var outputCached: Double
        /// Per-sample FLOPs of the layer's whole share of a cycle (weights and BN/bias trials).
        public var cycleCached: Double
        public var cycleIncremental: Double
        public var cycleOutputCached: Double
    }

    public func layerCosts() -> [LayerCost] {
        let model = FlopModel(plan: plan)
        return plan.network.layers.indices.reversed().map { d in
            let layer = plan.network.layers[d]
            let start = plan.layerStep[d]
            let wk: TrialKind, ek: TrialKind, extras: Int
            switch layer {
            case .conv(let c): wk = .convWeight; ek = .bnParameter; extras = 2 * c.outChannels
            case .fc(let f): wk = .fcWeight; ek = .fcBias; extras = f.outFeatures
            }
            let w = Double(layer.weightCount), e = Double(extras)
            let out = plan.outputCacheStep(layer: d)
            let incremental = incrementalTrialFlops(layer: d, kind: wk, start: start)
            let outputCached = incrementalTrialFlops(layer: d, kind: wk, start: out)
            let cycleCached = w * fullTrialFlops(layer: d, kind: wk, start: start)
                + e * fullTrialFlops(layer: d, kind: ek, start: start)
            let cycleIncremental = w * incremental + e * incrementalTrialFlops(layer: d, kind: ek, start: start)
            let cycleOutputCached = w * outputCached + e * incrementalTrialFlops(layer: d, kind: ek, start: out)
            return LayerCost(
                name: layer.name, weights: layer.weightCount, steps: layer.weightCount + extras,
                paper: 3 * 2 * Double(model.layers[d].forwardFromHere),
                cached: fullTrialFlops(layer: d, kind: wk, start: start), incremental: incremental,
                incrementalVariants: incrementalTrialFlops(layer: d, kind: wk, start: start, freshBatch: false),
                outputCached: outputCached, cycleCached: cycleCached, cycleIncremental: cycleIncremental,
                cycleOutputCached: cycleOutputCached)
        }
    }
}
