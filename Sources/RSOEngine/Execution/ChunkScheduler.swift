import CSupport

/// Runs a body once per chunk. Chunk boundaries never depend on the scheduler, and every
/// reduction over chunks is done by the caller in chunk order afterwards, so results are
/// identical whichever scheduler (and however many threads) ran the chunks.
public protocol ChunkScheduler: AnyObject {
    /// Number of workers; `body` receives a worker index in 0..<workers (for per-worker scratch).
    var workers: Int { get }
    func forEachChunk(_ count: Int, _ body: (_ chunk: Int, _ worker: Int) -> Void)
    /// Copies kept of data every worker reads (one per NUMA node in use), and which one worker
    /// `w` should read.
    var replicas: Int { get }
    func replica(ofWorker w: Int) -> Int
}

extension ChunkScheduler {
    public var replicas: Int { 1 }
    public func replica(ofWorker w: Int) -> Int { 0 }
}

/// Runs every chunk on the calling thread.
public final class SerialScheduler: ChunkScheduler {
    public init() {}
    public var workers: Int { 1 }
    public func forEachChunk(_ count: Int, _ body: (Int, Int) -> Void) {
        for c in 0..<count { body(c, 0) }
    }
}

/// Whole-dataset passes on an OpenMP team (driven from one thread): worker w takes a contiguous,
/// static range of chunks. Not for use from inside another worker (no nested parallelism).
public final class OpenMPScheduler: ChunkScheduler {
    public let workers: Int

    public init(threads: Int) {
        workers = max(1, threads)
        // The engine owns parallelism: BLAS runs single-threaded inside each worker.
        cs_blas_set_threads(1)
    }

    public func forEachChunk(_ count: Int, _ body: (Int, Int) -> Void) {
        if workers == 1 || count <= 1 {
            for c in 0..<count { body(c, 0) }
            return
        }
        let teams = min(workers, count)
        withoutActuallyEscaping(body) { body in
            var context = RangeContext(count: count, teams: teams, body: body)
            withUnsafeMutablePointer(to: &context) { ptr in
                cs_parallel_for(teams, Int32(teams), { raw, w in
                    let ctx = raw!.assumingMemoryBound(to: RangeContext.self).pointee
                    let worker = Int(w)
                    let lo = ctx.count * worker / ctx.teams
                    let hi = ctx.count * (worker + 1) / ctx.teams
                    for c in lo..<hi { ctx.body(c, worker) }
                }, ptr)
            }
        }
    }

    private struct RangeContext {
        var count: Int
        var teams: Int
        var body: (Int, Int) -> Void
    }
}
