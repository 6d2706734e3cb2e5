/// The order in which one cycle visits parameters: layers from the classifier back to the input;
/// inside a layer its weights (output-major or input-major), then for a conv its BN γ/β channel by
/// channel, for the FC layer its bias. Also says where the parallel update schemes merge.
public struct VisitPlan: Sendable {
    public struct Slot: Sendable, Equatable {
        public var kind: ParameterKind
        public var index: Int
        /// Output neuron (channel) the parameter belongs to.
        public var neuron: Int
    }

    public let network: NetworkSpec
    public let order: VisitOrder
    /// Parameter layers in visiting order (classifier first).
    public var layers: [Int] { Array(network.layers.indices.reversed()) }

    public init(network: NetworkSpec, order: VisitOrder) {
        self.network = network
        self.order = order
    }

    /// Number of trials of layer `d` in weight sampling.
    public func slotCount(layer d: Int) -> Int {
        let l = network.layers[d]
        switch l {
        case .conv(let c): return l.weightCount + 2 * c.outChannels
        case .fc(let f): return l.weightCount + f.outFeatures
        }
    }

    /// The `position`-th trial of layer `d` (0 ..< slotCount).
    public func slot(layer d: Int, position p: Int) -> Slot {
        let layer = network.layers[d]
        let outputs = layer.outputs
        let fanIn = layer.fanIn
        let w = layer.weightCount
        if p < w {
            switch order {
            case .outputMajor:
                return Slot(kind: .weight, index: p, neuron: p / fanIn)
            case .inputMajor:
                // p = (i · outputs + o) · taps + t  with taps = k² (1 for FC)
                let taps: Int
                if case .conv(let c) = layer { taps = c.kernel * c.kernel } else { taps = 1 }
                let t = p % taps
                let o = (p / taps) % outputs
                let i = p / (taps * outputs)
                return Slot(kind: .weight, index: o * fanIn + i * taps + t, neuron: o)
            }
        }
        let q = p - w
        if case .conv = layer {
            return Slot(kind: q % 2 == 0 ? .gamma : .beta, index: q / 2, neuron: q / 2)
        }
        return Slot(kind: .bias, index: q, neuron: q)
    }

    /// True when the parallel scheme `update` merges its pending changes after slot `p` of layer d.
    public func mergesAfter(layer d: Int, position p: Int, update: UpdateScheme) -> Bool {
        let count = slotCount(layer: d)
        if p == count - 1 { return true }
        switch update {
        case .sequential: return true
        case .layerParallel:
            // weights merge before the BN/bias parameters are searched
            return p == network.layers[d].weightCount - 1
        case .neuronParallel:
            let a = slot(layer: d, position: p), b = slot(layer: d, position: p + 1)
            return a.neuron != b.neuron || (a.kind == .weight) != (b.kind == .weight)
        }
    }
}
