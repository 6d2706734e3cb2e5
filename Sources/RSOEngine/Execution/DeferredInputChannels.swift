/// Layer d's input X_d gathered one channel at a time, when the output cache holds Y_d: W's run on
/// a fresh batch starts at BN_d from the gathered Y_d rows and never reads X_d, and a trial on
/// conv weight w[o][i][ky][kx] reads only channel i of it. So a fresh batch gathers none of X_d
/// (`ActivationCache.load(… deferring:)`), and each trial gathers the channel it needs, once per
/// batch: 1/C of the bytes a full gather moves.
///
/// The batch's indices are copied at `reset`: the trainer's index buffer may be redrawn (a trial
/// another rank owns) while a reused batch is still loaded.
public final class DeferredInputChannels {
    public let cache: ActivationCache
    /// The live tensor of `cache` left to be gathered by channel (layer d's conv input).
    public let tensor: Int
    private let indices: UnsafeMutableBufferPointer<Int32>
    private var count = 0
    private var loaded: [Bool]

    public init(cache: ActivationCache, tensor: Int, channels: Int, capacity: Int) {
        precondition(cache.tensors.contains(tensor), "tensor \(tensor) is not cached")
        self.cache = cache
        self.tensor = tensor
        indices = .allocate(capacity: capacity)
        loaded = Array(repeating: false, count: channels)
    }

    deinit { indices.deallocate() }

    /// A fresh batch was loaded with `batch`: none of its channels is gathered yet.
    public func reset(batch: UnsafeBufferPointer<Int32>) {
        precondition(batch.count <= indices.count, "batch of \(batch.count) exceeds \(indices.count)")
        _ = UnsafeMutableBufferPointer(rebasing: indices[0..<batch.count]).initialize(from: batch)
        count = batch.count
        for c in loaded.indices { loaded[c] = false }
    }

    public func isLoaded(channel ch: Int) -> Bool { loaded[ch] }

    /// Gathers channel `ch` of chunk `c` into the executor's tensor (inside the caller's chunk loop).
    public func gather(channel ch: Int, chunk c: Int, worker: Int, into executor: ForwardExecutor) {
        cache.loadChannel(ch, of: tensor, into: executor, indices: UnsafeBufferPointer(rebasing: indices[0..<count]),
                          chunk: c, worker: worker)
    }

    /// Every chunk of the batch has channel `ch` now.
    public func markLoaded(channel ch: Int) { loaded[ch] = true }
}
