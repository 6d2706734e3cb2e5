import Foundation

/// SGD checkpoints in safetensors: the parameters under the same names as an RSO checkpoint (so
/// `rso eval --weights` reads either), the momentum buffers, and options/state/evaluations as JSON.
extension SGDTrainer {
    public static let checkpointFormat = "rso-sgd-checkpoint-1"

    public func checkpoint() throws -> SafeTensors {
        var st = SafeTensors()
        for t in parameters.allTensors + optimizer.momentumBuffers { st.add(t.name, floats: t.values, shape: t.shape) }
        var saved = state
        saved.elapsedBefore = elapsed
        st.metadata = [
            "format": Self.checkpointFormat,
            "network": parameters.network.name,
            "options": try Self.json(options),
            "state": try Self.json(saved),
            "evaluations": try Self.json(evaluations),
        ]
        return st
    }

    /// Atomic: a crash mid-write leaves the previous checkpoint intact.
    public func saveCheckpoint(to path: String) throws {
        try checkpoint().write(atomicallyTo: path)
    }

    /// Continues the run saved in `path`; `options` must equal the checkpoint's. The run then ends
    /// with the weights of an uninterrupted one, bit for bit.
    public static func resume(from path: String, options: SGDOptions, train: Dataset, test: Dataset,
                              scheduler: ChunkScheduler, network: NetworkSpec? = nil,
                              kernels: KernelSet = .optimized) throws -> SGDTrainer {
        let st = try SafeTensors.read(path: path)
        func fail(_ detail: String) -> CheckpointError { CheckpointError(file: path, detail: detail) }
        guard st.metadata["format"] == checkpointFormat else {
            throw fail("not an rso sgd checkpoint (metadata format is \(st.metadata["format"].map { "\"\($0)\"" } ?? "missing"), expected \"\(checkpointFormat)\")")
        }
        guard let netName = st.metadata["network"], netName == options.net else {
            throw fail("checkpoint is for network \(st.metadata["network"] ?? "(none)"), but --net is \(options.net)")
        }
        guard let net = network ?? NetworkZoo.network(named: netName) else {
            throw fail("unknown network \(netName); expected one of \(NetworkZoo.names.joined(separator: ", "))")
        }
        let saved: SGDOptions = try decode(st.metadata["options"], "options", path)
        let diffs = options.differences(from: saved)
        guard diffs.isEmpty else {
            throw fail("options differ from the checkpoint's (a resumed run must use the same ones): " + diffs.joined(separator: "; "))
        }
        let state: SGDState = try decode(st.metadata["state"], "state", path)
        let evaluations: [SGDEvaluationRecord] = try decode(st.metadata["evaluations"], "evaluations", path)
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

    private static func json<T: Encodable>(_ v: T) throws -> String {
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
