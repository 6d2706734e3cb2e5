/// Compiles a NetworkSpec's op list into executable steps over numbered tensors, and cuts the
/// steps into stages at batch-norm barriers.
///
/// Why stages: a BN step needs the statistics of its conv over the WHOLE batch, so every chunk must
/// finish the conv before any chunk normalises. Inside a stage all steps are chunk-local, so the
/// executor runs a stage as "for each chunk: run all its steps", keeping the chunk in cache between
/// steps (normalise + ReLU + pool of layer d and the conv of layer d+1 in one pass).
public struct ForwardPlan: Sendable {
    public struct TensorShape: Sendable, Equatable {
        public var channels: Int
        public var height: Int
        public var width: Int
        /// Per-sample rows [n][channels] (after global pooling) rather than CNHW planes.
        public var flat: Bool
        public var elementsPerSample: Int { channels * height * width }
    }

    public enum StepKind: Sendable, Equatable {
        case conv(layer: Int)
        case batchNorm(layer: Int, relu: Bool)
        /// BN (+ReLU) fused with the 2×2 average pool that follows it.
        case batchNormPool(layer: Int, relu: Bool)
        case avgPool2
        case globalAvgPool
        case fc(layer: Int)
        /// output (== input, in place) += tensor `skip` zero-padded in channels, then ReLU.
        case addSkip(skip: Int, relu: Bool)
    }

    public struct Step: Sendable, Equatable {
        public var kind: StepKind
        public var input: Int
        public var output: Int
    }

    public let network: NetworkSpec
    public let tensors: [TensorShape]
    public let steps: [Step]
    /// Half-open step ranges; a new stage starts at step 0 and at every BN step.
    public let stages: [Range<Int>]
    /// Step index of each parameter layer's conv/fc step.
    public let layerStep: [Int]
    /// Step index of each conv layer's batch-norm (nil for the FC layer).
    public let bnStep: [Int?]

    public init(network: NetworkSpec) {
        self.network = network
        var tensors = [TensorShape(channels: network.inputChannels, height: network.inputHeight,
                                   width: network.inputWidth, flat: false)]
        var steps: [Step] = []
        var current = 0
        var skipStack: [Int] = []
        var layerStep = Array(repeating: -1, count: network.layers.count)

        func newTensor(_ s: TensorShape) -> Int { tensors.append(s); return tensors.count - 1 }

        var i = 0
        let ops = network.ops
        while i < ops.count {
            let shape = tensors[current]
            switch ops[i] {
            case .conv(let d):
                guard case .conv(let c) = network.layers[d] else { preconditionFailure("conv op on non-conv layer") }
                precondition(c.inChannels == shape.channels && c.height == shape.height && c.width == shape.width,
                             "\(c.name): input shape mismatch")
                let out = newTensor(TensorShape(channels: c.outChannels, height: shape.height, width: shape.width, flat: false))
                layerStep[d] = steps.count
                steps.append(Step(kind: .conv(layer: d), input: current, output: out))
                current = out
            case .batchNorm(let d, let relu):
                if i + 1 < ops.count, ops[i + 1] == .avgPool2 {
                    let out = newTensor(TensorShape(channels: shape.channels, height: shape.height / 2,
                                                    width: shape.width / 2, flat: false))
                    steps.append(Step(kind: .batchNormPool(layer: d, relu: relu), input: current, output: out))
                    current = out
                    i += 1
                } else {
                    let out = newTensor(shape)
                    steps.append(Step(kind: .batchNorm(layer: d, relu: relu), input: current, output: out))
                    current = out
                }
            case .avgPool2:
                let out = newTensor(TensorShape(channels: shape.channels, height: shape.height / 2,
                                                width: shape.width / 2, flat: false))
                steps.append(Step(kind: .avgPool2, input: current, output: out))
                current = out
            case .globalAvgPool:
                let out = newTensor(TensorShape(channels: shape.channels, height: 1, width: 1, flat: true))
                steps.append(Step(kind: .globalAvgPool, input: current, output: out))
                current = out
            case .fc(let d):
                guard case .fc(let f) = network.layers[d] else { preconditionFailure("fc op on non-fc layer") }
                precondition(shape.flat && shape.channels == f.inFeatures, "\(f.name): input shape mismatch")
                let out = newTensor(TensorShape(channels: f.outFeatures, height: 1, width: 1, flat: true))
                layerStep[d] = steps.count
                steps.append(Step(kind: .fc(layer: d), input: current, output: out))
                current = out
            case .pushSkip:
                skipStack.append(current)
            case .addSkip(let relu):
                let skip = skipStack.removeLast()
                precondition(tensors[skip].height == shape.height && tensors[skip].channels <= shape.channels,
                             "residual shortcut shape mismatch")
                steps.append(Step(kind: .addSkip(skip: skip, relu: relu), input: current, output: current))
            }
            i += 1
        }
        var stages: [Range<Int>] = []
        var start = 0
        for (s, step) in steps.enumerated() where s > 0 && Self.normalizedLayer(step.kind) != nil {
            stages.append(start..<s)
            start = s
        }
        stages.append(start..<steps.count)
        self.tensors = tensors
        self.steps = steps
        self.stages = stages
        self.layerStep = layerStep
        bnStep = network.layers.indices.map { d in steps.firstIndex { Self.normalizedLayer($0.kind) == d } }
    }

    /// The layer a batch-norm step normalises (nil for every other step).
    public static func normalizedLayer(_ kind: StepKind) -> Int? {
        switch kind {
        case .batchNorm(let d, _), .batchNormPool(let d, _): return d
        default: return nil
        }
    }

    /// The first step a change of one parameter of layer `d` alters: the layer's conv/FC step for a
    /// weight or bias, its batch-norm step for γ/β. Everything before it is the same for W, W+Δ
    /// and W−Δ, so trials split there.
    public func changeStep(layer d: Int, kind: ParameterKind) -> Int {
        switch kind {
        case .weight, .bias: return layerStep[d]
        case .gamma, .beta: return bnStep[d] ?? layerStep[d]
        }
    }

    /// Where a run starts when layer `d`'s conv/FC output is cached (`OutputCache`): the step after
    /// it — the layer's BN, or past the FC (only the loss runs).
    public func outputCacheStep(layer d: Int) -> Int { layerStep[d] + 1 }

    /// Tensors that can live in per-worker scratch for the length of one chunk's stage: BN outputs
    /// read by nothing but the conv right after them (not a residual shortcut, not an FC input).
    /// A run whose results are read back only at the loss need not write them to the batch.
    public var chunkLocalTensors: [Bool] {
        var local = Array(repeating: false, count: tensors.count)
        for (s, step) in steps.enumerated() where s + 1 < steps.count {
            guard Self.normalizedLayer(step.kind) != nil, step.output != step.input,
                  case .conv = steps[s + 1].kind, steps[s + 1].input == step.output else { continue }
            let readers = steps.filter { r in
                if r.input == step.output { return true }
                if case .addSkip(let skip, _) = r.kind, skip == step.output { return true }
                return false
            }
            local[step.output] = readers.count == 1
        }
        return local
    }

    /// The logits tensor (output of the last step).
    public var logitsTensor: Int { steps.last!.output }

    /// Tensors produced before step `s` and read at or after it: what a run starting at `s` needs
    /// as input (the cached activations of §4.7; two tensors inside a residual block).
    public func liveTensors(at s: Int) -> [Int] {
        var before = Set([0])
        for step in steps[..<s] { before.insert(step.output) }
        var rewritten = Set<Int>()
        var live: [Int] = []
        for step in steps[s...] {
            var reads = [step.input]
            if case .addSkip(let skip, _) = step.kind { reads.append(skip) }
            for t in reads where before.contains(t) && !rewritten.contains(t) && !live.contains(t) {
                live.append(t)
            }
            rewritten.insert(step.output)
        }
        return live.sorted()
    }
}
