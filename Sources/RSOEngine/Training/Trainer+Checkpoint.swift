import Foundation

/// Checkpoints in the safetensors format: every weight and BN tensor as F32 under its layer name
/// (readable by numpy/PyTorch users), the trainer's random streams, sampler permutation and σ_d as
/// tensors, and options/position/history/training-set identity as JSON in the metadata.
extension Trainer: CheckpointWriting {
    /// Format 2 added the training set's identity; format 1 checkpoints are refused (see README).
    public static let checkpointFormat = "rso-checkpoint-2"

    public func checkpoint() throws -> SafeTensors {
        var st = SafeTensors()
        for t in parameters.allTensors { st.add(t.name, floats: t.values, shape: t.shape) }
        st.add("trainer.rng.batches", uint64s: batchRNG.stateWords, shape: [4])
        st.add("trainer.rng.deltas", uint64s: deltaRNG.stateWords, shape: [4])
        st.add("trainer.sampler.permutation", int32s: sampler.permutation, shape: [sampler.permutation.count])
        st.add("trainer.sigma.initial", doubles: sigma.initial, shape: [sigma.initial.count])
        var saved = state
        saved.elapsedBefore = elapsed
        st.metadata = try CheckpointEnvelope.metadata(format: Self.checkpointFormat, network: parameters.network.name,
                                                      options: options, state: saved, evaluations: evaluations,
                                                      more: ["dataset": try CheckpointEnvelope.json(datasetIdentity)])
        return st
    }

    /// Continues the run saved in `path`. `options` must match the checkpoint's (everything that
    /// changes the trajectory), `train` must be the same training set (size, shape and content),
    /// and every tensor and state field must be in range; the result then ends bit-identical to an
    /// uninterrupted run. Every refusal names what differs.
    public static func resume(from path: String, options: TrainingOptions, train: Dataset, test: Dataset,
                              scheduler: ChunkScheduler, network: NetworkSpec? = nil,
                              group: ProcessGroup = LocalProcess()) throws -> Trainer {
        let st = try SafeTensors.read(path: path)
        func fail(_ detail: String) -> CheckpointError { CheckpointError(file: path, detail: detail) }
        if st.metadata["format"] == "rso-checkpoint-1" {
            throw fail("written by an older rso (format rso-checkpoint-1) that did not record which training set it was trained on, so a resume cannot be checked; start the run again (this version writes \"\(checkpointFormat)\")")
        }
        let net = try CheckpointEnvelope.checkResume(st, file: path, format: checkpointFormat, what: "an rso checkpoint",
                                                     options: options, network: network)
        let identity: DatasetIdentity = try CheckpointEnvelope.decode(st, "dataset", file: path)
        if let mismatch = DatasetIdentity(of: train).mismatch(checkpoint: identity) {
            throw fail("a resume must use the same training set: \(mismatch)")
        }
        var state: TrainerState = try CheckpointEnvelope.decode(st, "state", file: path)
        let evaluations: [EvaluationRecord] = try CheckpointEnvelope.decode(st, "evaluations", file: path)
        let params = NetworkParameters(network: net)
        for t in params.allTensors {
            guard let stored = st.tensor(t.name) else { throw fail("missing tensor \(t.name)") }
            guard stored.shape == t.shape else {
                throw fail("tensor \(t.name) has shape \(stored.shape), \(net.name) expects \(t.shape)")
            }
            let values = try st.floats(t.name)
            if let bad = values.firstNonFinite { throw fail("tensor \(t.name) holds a non-finite value (\(bad))") }
            t.assign(values)
        }
        guard let batches = SeededGenerator(state: try st.uint64s("trainer.rng.batches")),
              let deltas = SeededGenerator(state: try st.uint64s("trainer.rng.deltas")) else {
            throw fail("invalid random generator state")
        }
        let permutation = try st.int32s("trainer.sampler.permutation")
        guard permutation.count == train.count else {
            throw fail("sampler state is for a training set of \(permutation.count) samples, this one has \(train.count)")
        }
        if let problem = BatchSampler.permutationProblem(permutation) {
            throw fail("tensor trainer.sampler.permutation is not a permutation of 0..<\(train.count): \(problem)")
        }
        let sampler = BatchSampler(permutation: permutation)!
        let initial = try st.doubles("trainer.sigma.initial")
        guard initial.count == net.layers.count else { throw fail("σ schedule has \(initial.count) layers, expected \(net.layers.count)") }
        if let i = initial.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            throw fail("tensor trainer.sigma.initial holds \(initial[i]) at index \(i) (expected a finite positive σ)")
        }
        let sigma = SigmaSchedule(initial: initial, cycles: options.cycles, finalRatio: options.sigmaFinalRatio)
        state.finished = state.cycle >= options.cycles
        let trainer = try Trainer(options: options, parameters: params, sigma: sigma, state: state,
                                  batchRNG: batches, deltaRNG: deltas, sampler: sampler,
                                  train: train, test: test, scheduler: scheduler, group: group)
        trainer.evaluations = evaluations
        trainer.datasetIdentity = identity
        let problems = trainer.stateProblems()
        guard problems.isEmpty else { throw fail("state is not one this run can continue from: " + problems.joined(separator: "; ")) }
        return trainer
    }
}
