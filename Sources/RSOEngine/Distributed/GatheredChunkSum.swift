/// The distributed `ChunkReduction`: each rank has filled the partials of its own chunks
/// (`ChunkSplit`); those of every chunk are gathered (one `MPI_Allgatherv` of each rank's
/// contiguous range, packed to `width` values per chunk) and added in global chunk order by
/// `OrderedChunkSum` — the one-process code on the one-process layout — so every rank gets the
/// one-process totals, bit for bit. While the split is inactive (`ChunkSplit.inFull`) every rank
/// holds every chunk and the sum is local.
///
/// Called by the driving thread only (MPI_THREAD_FUNNELED). A failed collective ends the job.
public final class GatheredChunkSum: ChunkReduction {
    public let split: ChunkSplit
    private let local = OrderedChunkSum()
    /// Reused buffers, grown on demand: this rank's packed partials and every chunk's.
    private var mine: [Double] = []
    private var all: [Double] = []
    /// Collectives and doubles received since creation (per-trial communication counts).
    public private(set) var collectives = 0
    public private(set) var doublesGathered = 0

    public init(split: ChunkSplit) { self.split = split }

    public func sum(_ partials: UnsafePointer<Double>, chunks: Int, stride: Int, width: Int,
                    into total: UnsafeMutablePointer<Double>) {
        let group = split.group
        guard split.isActive, group.size > 1 else {
            local.sum(partials, chunks: chunks, stride: stride, width: width, into: total)
            return
        }
        let own = split.chunks(chunks, rank: group.rank)
        let counts = (0..<group.size).map { split.chunks(chunks, rank: $0).count * width }
        if mine.count < own.count * width { mine = Array(repeating: 0, count: own.count * width) }
        if all.count < chunks * width { all = Array(repeating: 0, count: chunks * width) }
        for (k, c) in own.enumerated() {
            for j in 0..<width { mine[k * width + j] = partials[c * stride + j] }
        }
        do {
            try mine.withUnsafeBufferPointer { m in
                try all.withUnsafeMutableBufferPointer { a in
                    try group.allgatherv(UnsafeBufferPointer(rebasing: m[0..<(own.count * width)]), counts: counts,
                                         into: a.baseAddress!)
                }
            }
        } catch {
            abortJob(after: error, rank: group.rank)
        }
        collectives += 1
        doublesGathered += chunks * width
        all.withUnsafeBufferPointer {
            local.sum($0.baseAddress!, chunks: chunks, stride: width, width: width, into: total)
        }
    }
}
