/// Combines per-chunk partial sums into batch totals: the ONE place where the partials of a
/// batch's chunks meet (losses, correct counts, BN sums, the shift statistics of incremental
/// trials).
///
/// Partials are laid out chunk by chunk: chunk c's `width` values start at `partials + c·stride`.
/// Floating-point addition is not associative, so the order of the chunks is part of the result:
/// `OrderedChunkSum` adds them in chunk order, which makes every total independent of the thread
/// count and the scheduler. A distributed run replaces this seam with a collective that keeps the
/// same order (gather the partials of every rank's chunks, add them in global chunk order).
public protocol ChunkReduction {
    /// total[j] = Σ_{c < chunks} partials[c·stride + j] for j < width (overwrites total).
    func sum(_ partials: UnsafePointer<Double>, chunks: Int, stride: Int, width: Int,
             into total: UnsafeMutablePointer<Double>)
}

extension ChunkReduction {
    /// One value per chunk, `stride` apart: their sum.
    @inline(__always)
    public func sum(_ partials: UnsafePointer<Double>, chunks: Int, stride: Int = 1) -> Double {
        var total = 0.0
        sum(partials, chunks: chunks, stride: stride, width: 1, into: &total)
        return total
    }
}

/// The single-process reduction: chunk 0 first, then chunk 1, … (each total starts at 0).
public struct OrderedChunkSum: ChunkReduction {
    public init() {}

    public func sum(_ partials: UnsafePointer<Double>, chunks: Int, stride: Int, width: Int,
                    into total: UnsafeMutablePointer<Double>) {
        total.update(repeating: 0, count: width)
        for c in 0..<chunks {
            let p = partials + c * stride
            for j in 0..<width { total[j] += p[j] }
        }
    }
}
