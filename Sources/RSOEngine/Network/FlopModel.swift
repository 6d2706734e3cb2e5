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
    public let layers: [Layer]

    public init(network: NetworkSpec) {
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
        var out: [OpCount] = []
        var c = network.inputChannels, h = network.inputHeight, w = network.inputWidth
        var skip: [(Int, Int, Int)] = []
        for op in network.ops {
            switch op {
            case .conv(let d):
                guard case .conv(let s) = network.layers[d] else { continue }
                out.append(OpCount(op: "\(s.name) conv", flops: 2 * Double(network.layers[d].macsPerSample), layer: d))
                c = s.outChannels
            case .batchNorm(let d, let relu):
                let n = Double(c * h * w)
                out.append(OpCount(op: "\(network.layers[d].name) bn", flops: 5 * n))
                if relu { out.append(OpCount(op: "\(network.layers[d].name) relu", flops: n)) }
            case .avgPool2:
                out.append(OpCount(op: "avgpool2", flops: Double(c * h * w)))
                h /= 2; w /= 2
            case .globalAvgPool:
                out.append(OpCount(op: "global pool", flops: Double(c * h * w)))
                h = 1; w = 1
            case .fc(let d):
                guard case .fc(let f) = network.layers[d] else { continue }
                out.append(OpCount(op: "\(f.name)", flops: 2 * Double(f.weightCount) + Double(f.outFeatures), layer: d))
                c = f.outFeatures
            case .pushSkip:
                skip.append((c, h, w))
            case .addSkip(let relu):
                let s = skip.removeLast()
                out.append(OpCount(op: "residual add", flops: Double(s.0 * h * w) + (relu ? Double(c * h * w) : 0)))
            }
        }
        out.append(OpCount(op: "softmax xent", flops: 4 * Double(network.classes) + 1))
        return out
    }
}
