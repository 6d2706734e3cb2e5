/// The benchmark registry: kernel cases taken from a network's real forward plan, so every shape
/// measured is one the engine runs (XNNPACK's habit: benchmark shapes come from real models).
extension KernelCase {
    /// The conv variants measured: im2col + BLAS (k ≠ 3 in the engine), the direct 3×3 ones (rows,
    /// or samples in the lanes of AVX2 or AVX-512 vectors, `KernelTable.prefersSampleLanes`), the reference.
    public static let convVariants: [Variant] = [.im2colBLAS, .directAVX2, .sampleLanesAVX2, .sampleLanesAVX512, .ref]
    /// The conv input-gradient variants: the direct forward kernels on the flipped kernel, the reference.
    public static let convInputGradVariants: [Variant] = [.directAVX2, .sampleLanesAVX2, .sampleLanesAVX512, .ref]
    /// The conv weight-gradient variants: the engine's (16 samples in AVX-512 lanes at k = 3), the
    /// row-vector direct one, im2col + BLAS, the reference.
    public static let convWeightGradVariants: [Variant] = [.sampleLanesAVX512, .direct, .im2colBLAS, .ref]

    /// Every kernel call of one forward pass of `network` (ForwardPlan's steps, plus the loss), of
    /// its incremental trials, and of its SGD backward pass (BackwardPass: loss, FC, pools, BN,
    /// ReLU mask, shortcut, conv to input and weights), each as an optimised variant and its
    /// reference twin (the forward loss has only its reference). Identical shapes are merged into
    /// one case listing all their sites.
    public static func cases(for network: NetworkSpec, families: Set<Family>? = nil) -> [KernelCase] {
        let plan = ForwardPlan(network: network)
        var out: [KernelCase] = []
        var index: [String: Int] = [:]

        func add(_ family: Family, _ variants: [Variant], _ shape: Shape, _ site: String) {
            if let families, !families.contains(family) { return }
            for v in variants {
                let c = KernelCase(family: family, variant: v, shape: shape, network: network.name, sites: [site])
                let key = c.shapeKey + "|" + v.rawValue
                if let i = index[key] {
                    out[i].sites.append(site)
                } else {
                    index[key] = out.count
                    out.append(c)
                }
            }
        }

        var last = "input"
        let transitions = Set(network.layers.indices.compactMap {
            IncrementalRoute.compile(plan: plan, layer: $0)?.transitionLayer
        })
        for step in plan.steps {
            let t = plan.tensors[step.input]
            switch step.kind {
            case .conv(let d):
                guard case .conv(let s) = network.layers[d] else { continue }
                last = s.name
                // Incremental trials of this layer's weights: the shifted input plane.
                let plane = Shape.planes(channels: 1, height: s.height, width: s.width, kernel: s.kernel, relu: false)
                add(.shiftStats, [.optimized, .ref], plane, s.name)
                add(.shiftAxpy, [.optimized, .ref], plane, s.name)
                // Output cache: patching one channel of the cached rows; BN sums of gathered rows.
                add(.shiftAxpyRows, [.optimized, .ref], .planes(channels: s.outChannels, height: s.height, width: s.width,
                                                               kernel: s.kernel, relu: false), s.name)
                add(.channelSums, [.optimized, .ref], .planes(channels: s.outChannels, height: s.height, width: s.width,
                                                             kernel: 0, relu: false), s.name)
                // A change of one input channel of this conv (a route's transition into it).
                if transitions.contains(d) {
                    add(.conv1chAdd, [.optimized, .ref], .conv(inChannels: s.inChannels, outChannels: s.outChannels,
                                                                kernel: s.kernel, height: s.height, width: s.width), s.name)
                }
                add(.conv, convVariants, .conv(inChannels: s.inChannels, outChannels: s.outChannels,
                                               kernel: s.kernel, height: s.height, width: s.width), s.name)
                if s.kernel > 1 {
                    add(.im2col, [.optimized, .ref], .planes(channels: s.inChannels, height: s.height, width: s.width,
                                                      kernel: s.kernel, relu: false), s.name)
                }
                // SGD's backward of this conv (no input gradient for the network's first layer).
                let convShape = Shape.conv(inChannels: s.inChannels, outChannels: s.outChannels, kernel: s.kernel,
                                           height: s.height, width: s.width)
                add(.convBackwardWeight, convWeightGradVariants, convShape, s.name)
                if step.input != 0 { add(.convBackwardInput, convInputGradVariants, convShape, s.name) }
            case .batchNorm(let d, let relu), .batchNormPool(let d, let relu):
                let planes = Shape.planes(channels: t.channels, height: t.height, width: t.width, kernel: 0, relu: relu)
                add(.bnBackward, [.optimized, .ref], planes, network.layers[d].name + ".bn")
                guard case .batchNorm = step.kind else {
                    // The fused pool's gradient is spread over the BN output first.
                    add(.avgpool2Backward, [.optimized, .ref], Shape.planes(channels: t.channels, height: t.height,
                                                                            width: t.width, kernel: 0, relu: false),
                        network.layers[d].name + ".bn+pool")
                    add(.bnReluAvgpool2, [.optimized, .ref], .planes(channels: t.channels, height: t.height, width: t.width,
                                                              kernel: 0, relu: relu), network.layers[d].name + ".bn+pool")
                    continue
                }
                add(.bnReluInfer, [.optimized, .ref], .planes(channels: t.channels, height: t.height, width: t.width,
                                                       kernel: 0, relu: relu), network.layers[d].name + ".bn")
            case .avgPool2:
                let planes = Shape.planes(channels: t.channels, height: t.height, width: t.width, kernel: 0, relu: false)
                add(.avgpool2, [.optimized, .ref], planes, last + ".pool")
                add(.avgpool2Backward, [.optimized, .ref], planes, last + ".pool")
            case .globalAvgPool:
                let planes = Shape.planes(channels: t.channels, height: t.height, width: t.width, kernel: 0, relu: false)
                add(.globalAvgpool, [.optimized, .ref], planes, "gap")
                add(.globalAvgpoolBackward, [.optimized, .ref], planes, "gap")
            case .fc(let d):
                guard case .fc(let f) = network.layers[d] else { continue }
                last = f.name
                let fcShape = Shape.fc(inFeatures: f.inFeatures, outFeatures: f.outFeatures)
                add(.fc, [.optimized, .ref], fcShape, f.name)
                // Incremental trials: an FC weight/bias (one logit column), a changed feature.
                add(.fcColumnAdd, [.optimized, .ref], fcShape, f.name)
                add(.fcInputChange, [.optimized, .ref], fcShape, f.name)
                add(.fcBackward, [.optimized, .ref], fcShape, f.name)
            case .addSkip(let skip, let relu):
                let residual = Shape.residual(channels: t.channels, skipChannels: plan.tensors[skip].channels,
                                              height: t.height, width: t.width, relu: relu)
                add(.residualAdd, [.optimized, .ref], residual, last + ".add")
                // Backward: the ReLU mask of the block output, then the shortcut's channels.
                if relu {
                    add(.reluBackward, [.optimized, .ref], .planes(channels: t.channels, height: t.height, width: t.width,
                                                                 kernel: 0, relu: true), last + ".add")
                }
                add(.shortcutBackward, [.optimized, .ref], residual, last + ".add")
            }
        }
        add(.softmaxXent, [.ref], .logits(classes: network.classes), "loss")
        add(.softmaxXentBackward, [.optimized, .ref], .logits(classes: network.classes), "loss")
        return out
    }
}
