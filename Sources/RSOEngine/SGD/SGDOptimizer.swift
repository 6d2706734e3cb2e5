/// SGD with momentum, as PyTorch's torch.optim.SGD (dampening 0): with g = ∇ + λ·p,
///   buf ← μ·buf + g (buf = g at the first update), step = g + μ·buf (Nesterov) or buf,  p ← p − lr·step.
/// The update is elementwise, so it is the same for any thread count; it runs on one thread
/// (|W| ≤ 60k parameters: microseconds next to the backward pass).
public final class SGDOptimizer {
    public let parameters: NetworkParameters
    /// One momentum buffer per parameter tensor, in `allTensors` order (checkpointed).
    public let momentumBuffers: [ParameterTensor]
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float

    public init(parameters: NetworkParameters, momentum: Double, nesterov: Bool, weightDecay: Double) {
        self.parameters = parameters
        momentumBuffers = parameters.allTensors.map { ParameterTensor(name: "sgd.momentum.\($0.name)", shape: $0.shape) }
        self.momentum = Float(momentum)
        self.nesterov = nesterov
        self.weightDecay = Float(weightDecay)
    }

    /// Applies one update with learning rate `lr` from `gradients` (same layout as `parameters`).
    /// `first`: the momentum buffers start as the gradient (PyTorch's convention).
    public func step(gradients: NetworkParameters, lr: Double, first: Bool) {
        let rate = Float(lr)
        for (i, (p, g)) in zip(parameters.allTensors, gradients.allTensors).enumerated() {
            let buf = momentumBuffers[i].storage
            let pw = p.storage, gw = g.storage
            for j in 0..<pw.count {
                let grad = gw[j] + weightDecay * pw[j]
                var update = grad
                if momentum != 0 {
                    let b = first ? grad : momentum * buf[j] + grad
                    buf[j] = b
                    update = nesterov ? grad + momentum * b : b
                }
                pw[j] -= rate * update
            }
        }
    }
}
