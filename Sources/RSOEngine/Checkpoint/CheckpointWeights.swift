/// The network parameters stored in any engine checkpoint (RSO `rso train` or SGD `rso sgd`):
/// both store every parameter tensor as F32 under its layer name, so either is an input of
/// `rso eval --weights`.
extension NetworkParameters {
    /// Parameters of `network` read from the tensors of `st` (read from `file`, named in errors).
    public static func load(from st: SafeTensors, file: String, network: NetworkSpec) throws -> NetworkParameters {
        if let stored = st.metadata["network"], stored != network.name {
            throw CheckpointError(file: file, detail: "checkpoint is for network \(stored), not \(network.name)")
        }
        let params = NetworkParameters(network: network)
        for t in params.allTensors {
            guard let stored = st.tensor(t.name) else { throw CheckpointError(file: file, detail: "missing tensor \(t.name)") }
            guard stored.shape == t.shape else {
                throw CheckpointError(file: file, detail: "tensor \(t.name) has shape \(stored.shape), \(network.name) expects \(t.shape)")
            }
            t.assign(try st.floats(t.name))
        }
        return params
    }

    /// Same, from the checkpoint file at `path`.
    public static func load(checkpoint path: String, network: NetworkSpec) throws -> NetworkParameters {
        try load(from: try SafeTensors.read(path: path), file: path, network: network)
    }
}
