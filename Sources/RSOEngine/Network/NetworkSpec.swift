/// A network described as data: the parameterised layers (what RSO searches) and the op list that
/// runs them (what the executor and the FLOP model walk). Nothing here computes; see ForwardPlan.

/// A 3×3 (or k×k) "same" convolution, stride 1, no bias: batch-norm follows every conv.
public struct ConvLayerSpec: Sendable, Equatable {
    public var name: String
    public var inChannels: Int
    public var outChannels: Int
    public var kernel: Int
    /// Spatial size the conv runs at (input = output size).
    public var height: Int
    public var width: Int

    public var fanIn: Int { inChannels * kernel * kernel }
    public var weightCount: Int { outChannels * fanIn }
    public var outputPixelsPerSample: Int { height * width }
}

/// Fully connected classifier layer, with bias.
public struct FCLayerSpec: Sendable, Equatable {
    public var name: String
    public var inFeatures: Int
    public var outFeatures: Int

    public var fanIn: Int { inFeatures }
    public var weightCount: Int { inFeatures * outFeatures }
}

/// A layer whose weights RSO searches, in forward order.
public enum ParameterLayer: Sendable, Equatable {
    case conv(ConvLayerSpec)
    case fc(FCLayerSpec)

    public var name: String {
        switch self {
        case .conv(let c): return c.name
        case .fc(let f): return f.name
        }
    }
    /// |W_d| of the paper: weights only (no bias, no BN parameters).
    public var weightCount: Int {
        switch self {
        case .conv(let c): return c.weightCount
        case .fc(let f): return f.weightCount
        }
    }
    public var fanIn: Int {
        switch self {
        case .conv(let c): return c.fanIn
        case .fc(let f): return f.fanIn
        }
    }
    /// Output neurons: conv output channels or FC outputs.
    public var outputs: Int {
        switch self {
        case .conv(let c): return c.outChannels
        case .fc(let f): return f.outFeatures
        }
    }
    /// MACs per sample of this layer alone: |W_d|·s_d² (s_d² = output pixels; 1 for FC).
    public var macsPerSample: Int {
        switch self {
        case .conv(let c): return c.weightCount * c.outputPixelsPerSample
        case .fc(let f): return f.weightCount
        }
    }
}

/// One step of the forward computation. Ops read the current tensor and replace it, except the
/// skip ops, which remember / add back the tensor at the start of a residual block.
public enum NetworkOp: Sendable, Equatable {
    case conv(layer: Int)
    /// Batch-norm of conv `layer`'s output, then ReLU if `relu`.
    case batchNorm(layer: Int, relu: Bool)
    case avgPool2
    case globalAvgPool
    case fc(layer: Int)
    /// Remember the current tensor as a residual block's shortcut.
    case pushSkip
    /// current += shortcut (zero-padded when it has fewer channels), then ReLU if `relu`.
    case addSkip(relu: Bool)
}

public struct NetworkSpec: Sendable, Equatable {
    public var name: String
    public var inputChannels: Int
    public var inputHeight: Int
    public var inputWidth: Int
    public var classes: Int
    public var layers: [ParameterLayer]
    public var ops: [NetworkOp]

    public var weightCount: Int { layers.reduce(0) { $0 + $1.weightCount } }

    public var convLayers: [(index: Int, spec: ConvLayerSpec)] {
        layers.enumerated().compactMap { i, l in
            if case .conv(let c) = l { return (i, c) }
            return nil
        }
    }
}
