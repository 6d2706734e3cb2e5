import CSupport

/// Runs a body once per chunk. Chunk boundaries never depend on the scheduler, and every
/// reduction over chunks is done by the caller in chunk order afterwards, so results are
/// identical whichever scheduler (and however many threads) ran the chunks.
///
/// Production schedulers: the pinned `WorkerPool` (default) and `OpenMPScheduler`
/// (`--scheduler openmp`). One scheduler runs every pass of a process — trials, cache builds,
/// population statistics, test evaluation — so there is one level of parallelism and no second
/// set of threads competing for the cores (docs/design.md, "Parallelism").
public protocol ChunkScheduler: AnyObject {
    /// Number of workers; `body` receives a worker index in 0..<workers (for per-worker scratch).
    var workers: Int { get }
    func forEachChunk(_ count: Int, _ body: (_ chunk: Int, _ worker: Int) -> Void)
    /// Copies kept of data every worker reads (one per NUMA node in use), and which one worker
    /// `w` should read.
    var replicas: Int { get }
    func replica(ofWorker w: Int) -> Int
    /// Runs `body` once for each of this process's workers (per-worker work: placing a replica).
    func forEachWorker(_ body: (_ worker: Int) -> Void)
    /// A pass wrote per-sample rows (`rowFloats` each, sample after sample from `rows`) for the
    /// chunks this process ran, out of `chunks` chunks of `chunkSamples` (`samples` in all): make
    /// every chunk's rows present here. A scheduler that ran every chunk has nothing to do.
    func shareChunkRows(_ rows: UnsafeMutablePointer<Float>, rowFloats: Int, chunks: Int, chunkSamples: Int,
                        samples: Int)
}

extension ChunkScheduler {
    public var replicas: Int { 1 }
    public func replica(ofWorker w: Int) -> Int { 0 }
    public func forEachWorker(_ body: (Int) -> Void) { forEachChunk(workers) { _, worker in body(worker) } }
    public func shareChunkRows(_ rows: UnsafeMutablePointer<Float>, rowFloats: Int, chunks: Int, chunkSamples: Int,
                               samples: Int) {}
}

/// Runs every chunk on the calling thread.
public final class SerialScheduler: ChunkScheduler {
    public init() {}
    public var workers: Int { 1 }
    public func forEachChunk(_ count: Int, _ body: (Int, Int) -> Void) {
        for c in 0..<count { body(c, 0) }
    }
}
