import Foundation

/// SGD checkpoints in safetensors: the parameters under the same names as an RSO checkpoint (so
/// `rso eval --weights` reads either), the momentum buffers, and options/state/evaluations as JSON.
extension SGDTrainer: CheckpointWriting {
    public static let checkpointFormat = "rso-sgd-checkpoint-1"

    public func checkpoint() throws -> SafeTensors {
        var st = SafeTensors()
        for t in parameters.allTensors + optimizer.momentumBuffers { st.add(t.name, floats: t.values, shape: t.shape) }
        var saved = state
        saved.elapsedBefore = elapsed
        st.metadata = try CheckpointEnvelope.metadata(format: Self.checkpointFormat, network: parameters.network.name,
                                                      options: options, state: saved, evaluations: evaluations)
        return st
    }

    /// Continues the run saved in `path`; `options` must equal the checkpoint's. The run then ends
    /// with the weights of an uninterrupted one, bit for bit.
    public static func resume(from path: String, options: SGDOptions, train: Dataset, test: Dataset,
                              scheduler: ChunkScheduler, network: NetworkSpec? = nil,
                              kernels: KernelSet = .optimized) throws -> SGDTrainer {
        let st = try SafeTensors.read(path: path)
        func fail(_ detail: String) -> CheckpointError { CheckpointError(file: path, detail: detail) }
        let net = try CheckpointEnvelope.checkResume(st, file: path, format: checkpointFormat, what: "an rso sgd checkpoint",
                                                     options: options, network: network)
        let state: SGDState = try CheckpointEnvelope.decode(st, "state", file: path)
        let evaluations: [SGDEvaluationRecord] = try CheckpointEnvelope.decode(st, "evaluations", file: path)
        guard state.iteration >= 0, state.iteration <= options.steps else {
            throw fail("iteration \(state.iteration) is outside 0…\(options.steps)")
        }
        let params = try NetworkParameters.load(from: st, file: path, network: net)
        let trainer = try SGDTrainer(options: options, parameters: params, state: state, train: train, test: test,
                                     scheduler: scheduler, kernels: kernels)
        for t in trainer.optimizer.momentumBuffers {
            guard let stored = st.tensor(t.name), stored.shape == t.shape else {
                throw fail("missing tensor \(t.name) of shape \(t.shape)")
            }
            t.assign(try st.floats(t.name))
        }
        trainer.evaluations = evaluations
        return trainer
    }
}
