import Foundation

/// Checkpoints in the safetensors format: every weight and BN tensor as F32 under its layer name
/// (readable by numpy/PyTorch users), the trainer's random streams, sampler permutation and σ_d as
/// tensors, and options/position/history/training-set identity as JSON in the metadata.
extension Trainer {
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
        st.metadata = [
            "format": Self.checkpointFormat,
            "network": parameters.network.name,
            "options": try json(options),
            "state": try json(saved),
            "evaluations": try json(evaluations),
            "dataset": try json(datasetIdentity),
        ]
        return st
    }

    /// Atomic: a crash mid-write leaves the previous checkpoint intact.
    public func saveCheckpoint(to path: String) throws {
        try checkpoint().write(atomicallyTo: path)
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
        let identity: DatasetIdentity = try decode(st.metadata["dataset"], "dataset", path)
        if let mismatch = DatasetIdentity(of: train).mismatch(checkpoint: identity) {
            throw fail("a resume must use the same training set: \(mismatch)")
        }
        var state: TrainerState = try decode(st.metadata["state"], "state", path)
        let evaluations: [EvaluationRecord] = try decode(st.metadata["evaluations"], "evaluations", path)
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

    private func json<T: Encodable>(_ v: T) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        // Test losses may be non-finite (they are reported, not trained on); they must not make
        // the checkpoint unwritable.
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try enc.encode(v), as: UTF8.self)
    }

    private static func decode<T: Decodable>(_ s: String?, _ key: String, _ path: String) throws -> T {
        guard let s else { throw CheckpointError(file: path, detail: "metadata has no \"\(key)\"") }
        do {
            let dec = JSONDecoder()
            dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            return try dec.decode(T.self, from: Data(s.utf8))
        } catch {
            throw CheckpointError(file: path, detail: "metadata \"\(key)\" is not valid: \(error)")
        }
    }
}
