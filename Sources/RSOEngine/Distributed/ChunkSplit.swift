/// How the chunks of a batch are dealt to the ranks of a job: in a fixed global order, rank r runs
/// chunks [count·r/R, count·(r+1)/R) (see `RankChunkScheduler`) and the partials of all chunks are
/// gathered and added in chunk order (`GatheredChunkSum`), so every total is the one-process total.
///
/// Whole-dataset passes split the same way, piece by piece: population statistics and test
/// evaluation through the gathered sums; the activation cache by gathering the rows each rank
/// computed (`RankChunkScheduler.shareChunkRows`), since every rank's trials read any sample.
/// Work a rank does alone on whole batches (rank-owned trials of the parallel update schemes) runs
/// inside `inFull`: every chunk runs here and sums stay local.
public final class ChunkSplit {
    public let group: ProcessGroup
    public private(set) var isActive = true

    public init(group: ProcessGroup) { self.group = group }

    /// The chunks rank `rank` owns out of `count`.
    public func chunks(_ count: Int, rank: Int) -> Range<Int> {
        (count * rank / group.size)..<(count * (rank + 1) / group.size)
    }

    /// The chunks this rank runs now.
    public func ownChunks(_ count: Int) -> Range<Int> {
        isActive ? chunks(count, rank: group.rank) : 0..<count
    }

    /// Runs `body` with every chunk on every rank (nests).
    public func inFull<T>(_ body: () throws -> T) rethrows -> T {
        let was = isActive
        isActive = false
        defer { isActive = was }
        return try body()
    }
}

/// A rank's share of a batch: runs the chunks `split` gives this rank on the rank's own scheduler
/// (pool or OpenMP team), with their global chunk indices.
public final class RankChunkScheduler: ChunkScheduler {
    public let local: ChunkScheduler
    public let split: ChunkSplit

    public init(local: ChunkScheduler, split: ChunkSplit) {
        self.local = local
        self.split = split
    }

    public var workers: Int { local.workers }
    public var replicas: Int { local.replicas }
    public func replica(ofWorker w: Int) -> Int { local.replica(ofWorker: w) }

    public func forEachChunk(_ count: Int, _ body: (Int, Int) -> Void) {
        let own = split.ownChunks(count)
        local.forEachChunk(own.count) { c, worker in body(own.lowerBound + c, worker) }
    }

    public func forEachWorker(_ body: (Int) -> Void) { local.forEachWorker(body) }

    /// One in-place gather of every rank's contiguous sample range (its chunks' rows).
    public func shareChunkRows(_ rows: UnsafeMutablePointer<Float>, rowFloats: Int, chunks: Int, chunkSamples: Int,
                               samples: Int) {
        let group = split.group
        guard split.isActive, group.size > 1 else { return }
        let counts = (0..<group.size).map { r -> Int in
            let own = split.chunks(chunks, rank: r)
            let lo = min(samples, own.lowerBound * chunkSamples), hi = min(samples, own.upperBound * chunkSamples)
            return (hi - lo) * rowFloats
        }
        do { try group.allgatherInPlace(rows, counts: counts) } catch { abortJob(after: error, rank: group.rank) }
    }
}
