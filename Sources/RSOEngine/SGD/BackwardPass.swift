import CSupport

/// Back-propagation over a ForwardExecutor that has just run a batch-mode forward (`run(bn: .batch)`):
/// the gradient of the batch's MEAN cross-entropy with respect to every parameter, in `gradients`.
///
/// What it reuses: the executor keeps every tensor of the batch and the batch statistics of every
/// BN, which is all the backward pass needs. The one tensor it does not keep, the output of a BN
/// fused with the following 2×2 pool, is never needed: the ReLU mask is recomputed from the BN input.
///
/// Determinism: parameter gradients are computed per chunk into per-chunk partials, and the BN
/// sums likewise; both are reduced in chunk order on the calling thread. Chunk boundaries do not
/// depend on the scheduler, so the gradients are bit-identical for any thread count.
///
/// Tensors read by two steps (a residual block's input: its first conv and its shortcut) receive
/// the shortcut's part after the conv wrote theirs (`shortcutSources`).
public final class BackwardPass {
    public let forward: ForwardExecutor
    /// Gradients of the last `run()`, one tensor per parameter tensor (same names and shapes).
    public let gradients: NetworkParameters

    private let plan: ForwardPlan
    private var net: NetworkSpec { plan.network }
    private let reference: Bool
    /// Batch-wide gradient buffer per tensor (nil for the network input).
    private let grads: [UnsafeMutablePointer<Float>?]
    /// Per layer: [chunk][weights] and [chunk][outputs] partial gradients (weights, β or bias).
    private let weightPartials: [UnsafeMutablePointer<Float>]
    private let biasPartials: [UnsafeMutablePointer<Float>]
    /// Per conv layer: [chunk][channel] BN sums Σg and Σg·x̂ of pass 1; and their batch totals.
    private let sumG: [UnsafeMutablePointer<Double>?]
    private let sumGX: [UnsafeMutablePointer<Double>?]
    private let totals: UnsafeMutablePointer<Double>
    private let scratch: [UnsafeMutablePointer<Float>]
    private let maxChunks: Int
    /// For tensor t: the block outputs whose first channels flow back into t through a shortcut.
    private let shortcutSources: [[Int]]

    public init(forward: ForwardExecutor) {
        self.forward = forward
        plan = forward.plan
        reference = forward.kernels == .reference
        let net = forward.parameters.network
        gradients = NetworkParameters(network: net)
        let chunks = (forward.capacity + forward.chunkSamples - 1) / forward.chunkSamples
        maxChunks = chunks
        let tensors = forward.plan.tensors, capacity = forward.capacity
        grads = tensors.indices.map { t in t == 0 ? nil : .allocate(capacity: capacity * tensors[t].elementsPerSample) }
        weightPartials = net.layers.map { .allocate(capacity: chunks * $0.weightCount) }
        biasPartials = net.layers.map { .allocate(capacity: chunks * $0.outputs) }
        func bnSums(_ layer: ParameterLayer) -> UnsafeMutablePointer<Double>? {
            if case .conv = layer { return .allocate(capacity: chunks * layer.outputs) }
            return nil
        }
        sumG = net.layers.map(bnSums)
        sumGX = net.layers.map(bnSums)
        let widest = net.layers.map(\.outputs).max() ?? 1
        totals = .allocate(capacity: 2 * widest)
        var floats = 1
        for (_, c) in net.convLayers {
            floats = max(floats, cs_conv2d_backward_weight_sample_lanes_scratch_floats(
                            Int32(c.inChannels), Int32(c.outChannels), Int32(forward.chunkSamples), Int32(c.height),
                            Int32(c.width), Int32(c.kernel)),
                         cs_conv2d_backward_input_scratch_floats(Int32(c.inChannels), Int32(c.outChannels),
                                                                 Int32(forward.chunkSamples), Int32(c.height),
                                                                 Int32(c.width), Int32(c.kernel)))
        }
        scratch = (0..<forward.scheduler.workers).map { _ in .allocate(capacity: floats) }
        var sources = Array(repeating: [Int](), count: tensors.count)
        for step in forward.plan.steps {
            if case .addSkip(let skip, _) = step.kind { sources[skip].append(step.output) }
        }
        shortcutSources = sources
        // Each shortcut's tensor must have exactly one other reader, the step that writes its gradient.
        for (t, s) in sources.enumerated() where !s.isEmpty {
            let readers = forward.plan.steps.filter { $0.input == t && $0.output != t }.count
            precondition(readers == 1, "tensor \(t): a shortcut input needs exactly one other reader")
        }
    }

    deinit {
        grads.forEach { $0?.deallocate() }
        (weightPartials + biasPartials).forEach { $0.deallocate() }
        (sumG + sumGX).forEach { $0?.deallocate() }
        totals.deallocate()
        scratch.forEach { $0.deallocate() }
    }

    /// Bytes of the gradient buffers (activations and partials).
    public var bufferBytes: Int {
        var total = 0
        for t in plan.tensors.indices where t > 0 { total += forward.capacity * plan.tensors[t].elementsPerSample * 4 }
        for layer in net.layers { total += maxChunks * (layer.weightCount + layer.outputs) * 4 }
        return total
    }

    /// Start of chunk `c` of tensor `t`'s gradient.
    public func gradientChunk(tensor t: Int, chunk c: Int) -> UnsafeMutablePointer<Float> {
        grads[t]! + c * forward.chunkSamples * plan.tensors[t].elementsPerSample
    }

    /// Gradients of the mean loss over the loaded batch; the executor must hold a batch-mode
    /// forward of the current parameters.
    public func run() {
        let fw = forward
        let scale = Float(1.0 / Double(fw.batchSize))
        let logits = plan.logitsTensor
        let K = Int32(net.classes)
        fw.scheduler.forEachChunk(fw.chunkCount) { c, _ in
            let f = reference ? cs_softmax_xent_backward_f32__ref : cs_softmax_xent_backward_f32__simd_f32
            f(fw.chunkBase(tensor: logits, chunk: c), fw.labelBase(chunk: c), Int32(fw.samples(inChunk: c)), K, scale,
              gradientChunk(tensor: logits, chunk: c))
        }
        for s in plan.steps.indices.reversed() { backward(plan.steps[s]) }
    }

    // MARK: Steps

    private func backward(_ step: ForwardPlan.Step) {
        let fw = forward
        let shape = plan.tensors[step.input]
        let C = Int32(shape.channels), H = Int32(shape.height), W = Int32(shape.width)
        let ref = reference
        switch step.kind {
        case .fc(let d):
            guard case .fc(let f) = net.layers[d] else { return }
            let w = fw.parameters.weights[d].storage.baseAddress!
            fw.scheduler.forEachChunk(fw.chunkCount) { c, _ in
                (ref ? cs_fc_backward_f32__ref : cs_fc_backward_f32__simd_f32)(
                    fw.chunkBase(tensor: step.input, chunk: c), w, gradientChunk(tensor: step.output, chunk: c),
                    Int32(fw.samples(inChunk: c)), Int32(f.inFeatures), Int32(f.outFeatures),
                    weightPartials[d] + c * f.weightCount, biasPartials[d] + c * f.outFeatures,
                    gradientChunk(tensor: step.input, chunk: c))
            }
            reduce(layer: d, biasInto: .bias)
        case .globalAvgPool:
            fw.scheduler.forEachChunk(fw.chunkCount) { c, _ in
                (ref ? cs_global_avgpool_backward_cnhw_f32__ref : cs_global_avgpool_backward_cnhw_f32__simd_f32)(
                    gradientChunk(tensor: step.output, chunk: c), C, Int32(fw.samples(inChunk: c)),
                    shape.height * shape.width, gradientChunk(tensor: step.input, chunk: c))
            }
        case .avgPool2:
            fw.scheduler.forEachChunk(fw.chunkCount) { c, _ in
                (ref ? cs_avgpool2_backward_cnhw_f32__ref : cs_avgpool2_backward_cnhw_f32__simd_f32)(
                    gradientChunk(tensor: step.output, chunk: c), C, Int32(fw.samples(inChunk: c)), H, W,
                    gradientChunk(tensor: step.input, chunk: c))
            }
        case .batchNorm(let d, let relu):
            batchNorm(step, layer: d, relu: relu, pooled: false)
        case .batchNormPool(let d, let relu):
            batchNorm(step, layer: d, relu: relu, pooled: true)
        case .addSkip(_, let relu):
            // In place: the gradient of the block output becomes that of the pre-add sum; its
            // first channels reach the shortcut's tensor later (see shortcutSources).
            guard relu else { return }
            fw.scheduler.forEachChunk(fw.chunkCount) { c, _ in
                let g = gradientChunk(tensor: step.output, chunk: c)
                (ref ? cs_relu_backward_f32__ref : cs_relu_backward_f32__simd_f32)(
                    fw.chunkBase(tensor: step.output, chunk: c), g, fw.samples(inChunk: c) * shape.elementsPerSample, g)
            }
        case .conv(let d):
            conv(step, layer: d)
        }
    }

    private func batchNorm(_ step: ForwardPlan.Step, layer d: Int, relu: Bool, pooled: Bool) {
        let fw = forward
        let shape = plan.tensors[step.input]
        let C = Int32(shape.channels), H = Int32(shape.height), W = Int32(shape.width)
        let channels = shape.channels
        let gamma = fw.parameters.gammas[d]!.storage.baseAddress!
        let beta = fw.parameters.betasOrBias[d].storage.baseAddress!
        let stats = fw.statisticsStorage(layer: d, variant: 0)
        let ref = reference
        let eps = fw.eps
        fw.scheduler.forEachChunk(fw.chunkCount) { c, _ in
            let n = Int32(fw.samples(inChunk: c))
            let g = gradientChunk(tensor: step.input, chunk: c)
            var dy = gradientChunk(tensor: step.output, chunk: c)
            if pooled {
                (ref ? cs_avgpool2_backward_cnhw_f32__ref : cs_avgpool2_backward_cnhw_f32__simd_f32)(dy, C, n, H, W, g)
                dy = g
            }
            (ref ? cs_bn_relu_backward_sums_f32__ref : cs_bn_relu_backward_sums_f32__affine_fma)(
                fw.chunkBase(tensor: step.input, chunk: c), dy, C, Int(n) * shape.height * shape.width, gamma, beta,
                stats.mean, stats.variance, eps, relu ? 1 : 0, g, sumG[d]! + c * channels, sumGX[d]! + c * channels)
        }
        // Batch totals in chunk order; they are also dβ and dγ.
        let sg = totals, sgx = totals + channels
        sg.update(repeating: 0, count: 2 * channels)
        for c in 0..<fw.chunkCount {
            for ch in 0..<channels {
                sg[ch] += sumG[d]![c * channels + ch]
                sgx[ch] += sumGX[d]![c * channels + ch]
            }
        }
        let dGamma = gradients.gammas[d]!.storage, dBeta = gradients.betasOrBias[d].storage
        for ch in 0..<channels {
            dGamma[ch] = Float(sgx[ch])
            dBeta[ch] = Float(sg[ch])
        }
        let count = Double(fw.batchSize * shape.height * shape.width)
        fw.scheduler.forEachChunk(fw.chunkCount) { c, _ in
            let g = gradientChunk(tensor: step.input, chunk: c)
            (ref ? cs_bn_backward_dx_f32__ref : cs_bn_backward_dx_f32__affine_fma)(
                fw.chunkBase(tensor: step.input, chunk: c), g, C, fw.samples(inChunk: c) * shape.height * shape.width,
                gamma, stats.mean, stats.variance, eps, sg, sgx, count, g)
        }
    }

    private func conv(_ step: ForwardPlan.Step, layer d: Int) {
        guard case .conv(let s) = net.layers[d] else { return }
        let fw = forward
        let w = fw.parameters.weights[d].storage.baseAddress!
        let Cin = Int32(s.inChannels), Cout = Int32(s.outChannels), H = Int32(s.height), W = Int32(s.width)
        let k = Int32(s.kernel)
        let needInput = grads[step.input] != nil
        let ref = reference
        let plane = s.height * s.width
        fw.scheduler.forEachChunk(fw.chunkCount) { c, worker in
            let n = Int32(fw.samples(inChunk: c))
            let x = fw.chunkBase(tensor: step.input, chunk: c)
            let dy = gradientChunk(tensor: step.output, chunk: c)
            let dw = weightPartials[d] + c * s.weightCount
            if ref {
                cs_conv2d_backward_weight_cnhw_f32__ref(x, dy, Cin, Cout, n, H, W, k, dw)
            } else {
                cs_conv2d_backward_weight_cnhw_f32__sample_lanes_avx512(x, dy, Cin, Cout, n, H, W, k, dw, scratch[worker])
            }
            guard needInput else { return }
            let dx = gradientChunk(tensor: step.input, chunk: c)
            if ref {
                cs_conv2d_backward_input_cnhw_f32__ref(dy, w, Cin, Cout, n, H, W, k, dx)
            } else if KernelTable.prefersWideLanes(kernel: Int(k), inChannels: Int(Cout)) {  // dy's channels
                cs_conv2d_backward_input_cnhw_f32__sample_lanes_avx512(dy, w, Cin, Cout, n, H, W, k, dx, scratch[worker])
            } else if KernelTable.prefersSampleLanes(kernel: Int(k), width: Int(W)) {
                cs_conv2d_backward_input_cnhw_f32__sample_lanes_avx2(dy, w, Cin, Cout, n, H, W, k, dx, scratch[worker])
            } else {
                cs_conv2d_backward_input_cnhw_f32__direct_avx2(dy, w, Cin, Cout, n, H, W, k, dx, scratch[worker])
            }
            for source in shortcutSources[step.input] {
                let cy = Int32(plan.tensors[source].channels)
                (ref ? cs_shortcut_backward_cnhw_f32__ref : cs_shortcut_backward_cnhw_f32__simd_f32)(
                    gradientChunk(tensor: source, chunk: c), cy, Cin, Int(n) * plane, dx)
            }
        }
        reduce(layer: d, biasInto: nil)
    }

    /// Sums the per-chunk partials of layer `d` in chunk order (in double, rounded once).
    private func reduce(layer d: Int, biasInto kind: ParameterKind?) {
        let chunks = forward.chunkCount
        func sum(_ partials: UnsafeMutablePointer<Float>, _ count: Int, into out: UnsafeMutableBufferPointer<Float>) {
            for i in 0..<count {
                var acc = 0.0
                for c in 0..<chunks { acc += Double(partials[c * count + i]) }
                out[i] = Float(acc)
            }
        }
        let layer = net.layers[d]
        sum(weightPartials[d], layer.weightCount, into: gradients.weights[d].storage)
        if let kind { sum(biasPartials[d], layer.outputs, into: gradients.tensor(layer: d, kind: kind).storage) }
    }
}
