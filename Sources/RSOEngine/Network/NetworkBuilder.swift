/// Builds a NetworkSpec while tracking tensor shapes, so the zoo reads like the paper's tables and
/// shape mistakes are caught at construction.
public struct NetworkBuilder {
    private(set) var spec: NetworkSpec
    private var channels: Int
    private var height: Int
    private var width: Int
    private var flat = false
    private var skipShapes: [(c: Int, h: Int, w: Int)] = []

    public init(name: String, inputChannels: Int, height: Int, width: Int, classes: Int) {
        spec = NetworkSpec(name: name, inputChannels: inputChannels, inputHeight: height,
                           inputWidth: width, classes: classes, layers: [], ops: [])
        channels = inputChannels
        self.height = height
        self.width = width
    }

    /// conv k×k → batch-norm → ReLU (ReLU optional for the last conv of a residual block).
    public mutating func convBN(_ out: Int, kernel: Int = 3, relu: Bool = true) {
        precondition(!flat, "conv after global pooling")
        let index = spec.layers.count
        let name = "conv\(spec.convLayers.count + 1)"
        spec.layers.append(.conv(ConvLayerSpec(name: name, inChannels: channels, outChannels: out,
                                               kernel: kernel, height: height, width: width)))
        spec.ops.append(.conv(layer: index))
        spec.ops.append(.batchNorm(layer: index, relu: relu))
        channels = out
    }

    public mutating func avgPool2() {
        precondition(!flat && height >= 2 && width >= 2, "avgPool2 needs a 2×2 or larger map")
        spec.ops.append(.avgPool2)
        height /= 2
        width /= 2
    }

    public mutating func globalAvgPool() {
        spec.ops.append(.globalAvgPool)
        height = 1
        width = 1
        flat = true
    }

    public mutating func fc(_ out: Int) {
        precondition(flat, "fc expects a flattened (globally pooled) input")
        let index = spec.layers.count
        spec.layers.append(.fc(FCLayerSpec(name: "fc", inFeatures: channels, outFeatures: out)))
        spec.ops.append(.fc(layer: index))
        channels = out
    }

    /// Basic residual block: conv-BN-ReLU, conv-BN, + shortcut, ReLU. When the channel count grows
    /// the shortcut is the input zero-padded in channels (parameter-free, so |W| is the paper's).
    public mutating func basicBlock(_ out: Int) {
        precondition(out >= channels, "a zero-padded shortcut cannot shrink channels")
        spec.ops.append(.pushSkip)
        skipShapes.append((channels, height, width))
        convBN(out)
        convBN(out, relu: false)
        let skip = skipShapes.removeLast()
        precondition(skip.h == height && skip.w == width, "shortcut shape mismatch")
        spec.ops.append(.addSkip(relu: true))
    }

    public func build() -> NetworkSpec {
        precondition(skipShapes.isEmpty, "unclosed residual block")
        precondition(flat && channels == spec.classes, "network must end in fc(classes)")
        return spec
    }
}
