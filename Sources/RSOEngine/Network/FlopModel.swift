/// The paper's cost model (§4.7) and the engine's full operation count.
///
/// Paper terms, per sample, in multiply-accumulates (MACs):
///   |W_d| = n_d·i_d·k_d² (conv) or n_D·10 (FC); |W| = Σ|W_d|
///   F_d  = Σ_{e ≥ d} |W_e|·s_e²  (forward cost from layer d to the output); F = F_1
///   cycle without caching: 3·|W|·F;  with caching of layer d's input: Σ_d 3·|W_d|·F_d
/// Batch costs multiply by the batch size; FLOPs = 2·MACs.
public struct FlopModel: Sendable {
    public struct Layer: Sendable {
        public var name: String
        public var weights: Int
        /// MACs per sample of this layer alone.
        public var macs: Int
        /// F_d: MACs per sample from this layer to the output.
        public var forwardFromHere: Int
        /// BN γ/β or FC bias, outside |W|.
        public var extraParameters: Int
    }

    public let network: NetworkSpec
    /// The forward plan the full count is taken over.
    public let plan: ForwardPlan
    public let layers: [Layer]
    /// Full count per executor step (see `stepCounts(plan:)`).
    let stepCounts: [[OpCount]]

    public init(network: NetworkSpec) { self.init(plan: ForwardPlan(network: network)) }

    /// The model of an already compiled plan (an executor's), without compiling it again.
    public init(plan: ForwardPlan) {
        let network = plan.network
        self.network = network
        var suffix = 0
        var out: [Layer] = []
        for layer in network.layers.reversed() {
            suffix += layer.macsPerSample
            let extra: Int
            switch layer {
            case .conv(let c): extra = 2 * c.outChannels
            case .fc(let f): extra = f.outFeatures
            }
            out.append(Layer(name: layer.name, weights: layer.weightCount, macs: layer.macsPerSample,
                             forwardFromHere: suffix, extraParameters: extra))
        }
        layers = out.reversed()
        self.plan = plan
        stepCounts = Self.stepCounts(plan: plan)
    }

    /// |W|
    public var weights: Int { layers.reduce(0) { $0 + $1.weights } }
    /// F (MACs per sample)
    public var forward: Int { layers.first?.forwardFromHere ?? 0 }
    /// 3·|W|·F, MACs per sample per cycle.
    public var cycleWithoutCaching: Double { 3 * Double(weights) * Double(forward) }
    /// Σ 3·|W_d|·F_d, MACs per sample per cycle.
    public var cycleWithCaching: Double {
        layers.reduce(0) { $0 + 3 * Double($1.weights) * Double($1.forwardFromHere) }
    }
    public var cachingRatio: Double { cycleWithoutCaching / cycleWithCaching }
    public var extraParameters: Int { layers.reduce(0) { $0 + $1.extraParameters } }

    // MARK: Full count (what the engine really executes per forward, in FLOPs)

    /// FLOPs per sample of one full forward, counting every op the executor runs:
    /// conv/FC 2 per MAC; BN statistics 3 per element (add, square, add); BN apply 2 (one FMA);
    /// ReLU 1; 2×2 avg-pool and global pool 1 per input element; residual add 1 per element
    /// (+1 for its ReLU); FC bias 1 per output; softmax cross-entropy 4 per logit + 1.
    public var fullForwardFlops: Double {
        fullCount.reduce(0) { $0 + $1.flops }
    }

    public struct OpCount: Sendable {
        public var op: String
        public var flops: Double
        /// The parameter layer whose conv/FC this op is (nil for the other ops).
        public var layer: Int? = nil
    }

    /// Full-count FLOPs per sample of a forward that starts at parameter layer `d` (cached input).
    public func fullFlops(fromLayer d: Int) -> Double {
        let ops = fullCount
        guard let first = ops.firstIndex(where: { $0.layer == d }) else { return 0 }
        return ops[first...].reduce(0) { $0 + $1.flops }
    }

    /// Per-op breakdown of `fullForwardFlops`, in forward order.
    public var fullCount: [OpCount] {
        stepCounts.joined() + [OpCount(op: "softmax xent", flops: lossFlops)]
    }

    /// Softmax cross-entropy, per sample.
    public var lossFlops: Double { 4 * Double(network.classes) + 1 }

    /// The full count of each step of the executor's plan (BN, ReLU and a fused pool listed apart):
    /// the one place these conventions live; the incremental cost model sums them too.
    static func stepCounts(plan: ForwardPlan) -> [[OpCount]] {
        let network = plan.network
        return plan.steps.map { step in
            let e = Double(plan.tensors[step.input].elementsPerSample)
            switch step.kind {
            case .conv(let d):
                return [OpCount(op: "\(network.layers[d].name) conv", flops: 2 * Double(network.layers[d].macsPerSample), layer: d)]
            case .batchNorm(let d, let relu), .batchNormPool(let d, let relu):
                let name = network.layers[d].name
                var out = [OpCount(op: "\(name) bn", flops: 5 * e)]
                if relu { out.append(OpCount(op: "\(name) relu", flops: e)) }
                if case .batchNormPool = step.kind { out.append(OpCount(op: "avgpool2", flops: e)) }
                return out
            case .avgPool2:
                return [OpCount(op: "avgpool2", flops: e)]
            case .globalAvgPool:
                return [OpCount(op: "global pool", flops: e)]
            case .fc(let d):
                guard case .fc(let f) = network.layers[d] else { return [] }
                return [OpCount(op: f.name, flops: 2 * Double(f.weightCount) + Double(f.outFeatures), layer: d)]
            case .addSkip(let skip, let relu):
                let plane = Double(plan.tensors[step.input].height * plan.tensors[step.input].width)
                return [OpCount(op: "residual add", flops: Double(plan.tensors[skip].channels) * plane + (relu ? e : 0))]
            }
        }
    }
}
