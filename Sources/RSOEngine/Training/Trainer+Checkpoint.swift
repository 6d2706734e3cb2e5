import Foundation

/// Checkpoints in the safetensors format: every weight and BN tensor as F32 under its layer name
/// (readable by numpy/PyTorch users), the trainer's random streams, sampler permutation and σ_d as
/// tensors, and options/position/history as JSON in the metadata.
extension Trainer {
    public static let checkpointFormat = "rso-checkpoint-1"

    public func checkpoint() throws -> SafeTensors {
        var st = SafeTensors()
        for t in parameters.allTensors { st.add(t.name, floats: t.values, shape: t.shape) }
        st.add("trainer.rng.batches", uint64s: batchRNG.stateWords, shape: [4])
        st.add("trainer.rng.deltas", uint64s: deltaRNG.stateWords, shape: [4])
        st.add("trainer.sampler.permutation", int32s: sampler.permutation, shape: [sampler.permutation.count])
        st.add("trainer.sigma.initial", doubles: sigma.initial, shape: [sigma.initial.count])
        var saved = state
        saved.elapsedBefore = elapsed
        st.metadata = [
            "format": Self.checkpointFormat,
            "network": parameters.network.name,
            "options": try json(options),
            "state": try json(saved),
            "evaluations": try json(evaluations),
        ]
        return st
    }

    /// Atomic: a crash mid-write leaves the previous checkpoint intact.
    public func saveCheckpoint(to path: String) throws {
        try checkpoint().write(atomicallyTo: path)
    }

    /// Continues the run saved in `path`. `options` must match the checkpoint's (everything that
    /// changes the trajectory); the result then ends bit-identical to an uninterrupted run.
    public static func resume(from path: String, options: TrainingOptions, train: Dataset, test: Dataset,
                              scheduler: ChunkScheduler, network: NetworkSpec? = nil) throws -> Trainer {
        let st = try SafeTensors.read(path: path)
        func fail(_ detail: String) -> CheckpointError { CheckpointError(file: path, detail: detail) }
        guard st.metadata["format"] == checkpointFormat else {
            throw fail("not an rso checkpoint (metadata format is \(st.metadata["format"].map { "\"\($0)\"" } ?? "missing"), expected \"\(checkpointFormat)\")")
        }
        guard let netName = st.metadata["network"] else { throw fail("metadata has no \"network\"") }
        guard netName == options.net else {
            throw fail("checkpoint is for network \(netName), but --net is \(options.net)")
        }
        guard let net = network ?? NetworkZoo.network(named: netName) else {
            throw fail("unknown network \(netName); expected one of \(NetworkZoo.names.joined(separator: ", "))")
        }
        let saved: TrainingOptions = try decode(st.metadata["options"], "options", path)
        let diffs = options.differences(from: saved)
        guard diffs.isEmpty else {
            throw fail("options differ from the checkpoint's (a resumed run must use the same ones): " + diffs.joined(separator: "; "))
        }
        var state: TrainerState = try decode(st.metadata["state"], "state", path)
        let evaluations: [EvaluationRecord] = try decode(st.metadata["evaluations"], "evaluations", path)
        let params = NetworkParameters(network: net)
        for t in params.allTensors {
            guard let stored = st.tensor(t.name) else { throw fail("missing tensor \(t.name)") }
            guard stored.shape == t.shape else {
                throw fail("tensor \(t.name) has shape \(stored.shape), \(net.name) expects \(t.shape)")
            }
            t.assign(try st.floats(t.name))
        }
        guard let batches = SeededGenerator(state: try st.uint64s("trainer.rng.batches")),
              let deltas = SeededGenerator(state: try st.uint64s("trainer.rng.deltas")) else {
            throw fail("invalid random generator state")
        }
        let permutation = try st.int32s("trainer.sampler.permutation")
        guard permutation.count == train.count, let sampler = BatchSampler(permutation: permutation) else {
            throw fail("sampler state is for a training set of \(permutation.count) samples, this one has \(train.count)")
        }
        let initial = try st.doubles("trainer.sigma.initial")
        guard initial.count == net.layers.count else { throw fail("σ schedule has \(initial.count) layers, expected \(net.layers.count)") }
        let sigma = SigmaSchedule(initial: initial, cycles: options.cycles, finalRatio: options.sigmaFinalRatio)
        state.finished = state.cycle >= options.cycles
        let trainer = try Trainer(options: options, parameters: params, sigma: sigma, state: state,
                                  batchRNG: batches, deltaRNG: deltas, sampler: sampler,
                                  train: train, test: test, scheduler: scheduler)
        trainer.evaluations = evaluations
        return trainer
    }

    private func json<T: Encodable>(_ v: T) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try enc.encode(v), as: UTF8.self)
    }

    private static func decode<T: Decodable>(_ s: String?, _ key: String, _ path: String) throws -> T {
        guard let s else { throw CheckpointError(file: path, detail: "metadata has no \"\(key)\"") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(s.utf8))
        } catch {
            throw CheckpointError(file: path, detail: "metadata \"\(key)\" is not valid: \(error)")
        }
    }
}
