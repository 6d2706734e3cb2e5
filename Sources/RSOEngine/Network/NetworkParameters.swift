/// One named parameter tensor in stable, never-reallocated storage: the trial loop reads and
/// patches weights through raw pointers without copy-on-write or allocation.
public final class ParameterTensor: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    public let storage: UnsafeMutableBufferPointer<Float>

    public init(name: String, shape: [Int], fill: Float = 0) {
        self.name = name
        self.shape = shape
        storage = .allocate(capacity: shape.reduce(1, *))
        storage.initialize(repeating: fill)
    }
    deinit { storage.deallocate() }

    public var count: Int { storage.count }
    public var values: [Float] { Array(storage) }
    public func assign(_ v: [Float]) {
        precondition(v.count == count, "\(name): expected \(count) values, got \(v.count)")
        _ = storage.update(fromContentsOf: v)
    }
    public subscript(i: Int) -> Float {
        get { storage[i] }
        set { storage[i] = newValue }
    }
}

/// Which tensor of a parameter layer: its weights, BN γ or β (conv), or bias (FC).
public enum ParameterKind: String, Codable, Sendable, CaseIterable {
    case weight, gamma, beta, bias
}

/// All parameters of a network: per parameter layer its weights, and BN γ/β (conv) or bias (FC).
/// Names follow the layer names: "conv1.weight", "conv1.bn.gamma", "conv1.bn.beta", "fc.weight", "fc.bias".
public final class NetworkParameters: @unchecked Sendable {
    public let network: NetworkSpec
    public let weights: [ParameterTensor]
    /// BN γ per conv layer (nil for FC).
    public let gammas: [ParameterTensor?]
    /// BN β per conv layer; FC bias for the FC layer.
    public let betasOrBias: [ParameterTensor]

    /// Zero weights, γ = 1, β = 0, bias = 0.
    public init(network: NetworkSpec) {
        self.network = network
        var w: [ParameterTensor] = [], g: [ParameterTensor?] = [], b: [ParameterTensor] = []
        for layer in network.layers {
            switch layer {
            case .conv(let c):
                w.append(ParameterTensor(name: "\(c.name).weight", shape: [c.outChannels, c.inChannels, c.kernel, c.kernel]))
                g.append(ParameterTensor(name: "\(c.name).bn.gamma", shape: [c.outChannels], fill: 1))
                b.append(ParameterTensor(name: "\(c.name).bn.beta", shape: [c.outChannels]))
            case .fc(let f):
                w.append(ParameterTensor(name: "\(f.name).weight", shape: [f.outFeatures, f.inFeatures]))
                g.append(nil)
                b.append(ParameterTensor(name: "\(f.name).bias", shape: [f.outFeatures]))
            }
        }
        weights = w
        gammas = g
        betasOrBias = b
    }

    /// He-normal initialisation N(0, √(2/fan_in)) of every weight from `seed`, layer by layer in
    /// forward order; γ = 1, β = bias = 0.
    public static func heNormal(network: NetworkSpec, seed: UInt64) -> NetworkParameters {
        let p = NetworkParameters(network: network)
        var rng = SeededGenerator.stream(seed: seed, label: "init")
        for (d, layer) in network.layers.enumerated() {
            let std = (2.0 / Double(layer.fanIn)).squareRoot()
            let w = p.weights[d].storage
            for i in w.indices { w[i] = Float(rng.nextGaussian() * std) }
        }
        return p
    }

    public func tensor(layer d: Int, kind: ParameterKind) -> ParameterTensor {
        switch kind {
        case .weight: return weights[d]
        case .gamma: return gammas[d]!
        case .beta, .bias: return betasOrBias[d]
        }
    }

    /// Every tensor in a fixed order (checkpoints, comparisons).
    public var allTensors: [ParameterTensor] {
        var out: [ParameterTensor] = []
        for d in network.layers.indices {
            out.append(weights[d])
            if let g = gammas[d] { out.append(g) }
            out.append(betasOrBias[d])
        }
        return out
    }

    /// Count of parameters outside the paper's |W| (BN γ/β and FC bias), reported apart.
    public var nonWeightCount: Int {
        gammas.reduce(0) { $0 + ($1?.count ?? 0) } + betasOrBias.reduce(0) { $0 + $1.count }
    }
}
