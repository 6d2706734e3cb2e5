/// Seeded sampling of k distinct indices from 0..<count without replacement.
///
/// Partial Fisher–Yates over a permutation array kept between calls: step i swaps position i with a
/// uniformly chosen position in i..<count, so whatever order the array is in, the first k entries
/// are a uniformly random ordered k-subset. One call costs O(k), not O(count). The stream of
/// batches is a pure function of the seed (and `permutation`, which a checkpoint can store).
public struct BatchSampler: Sendable, Equatable {
    public let count: Int
    /// The persistent permutation of 0..<count (state; the last sample is its first k entries).
    public private(set) var permutation: [Int32]

    public init(count: Int) {
        precondition(count >= 0 && count <= Int(Int32.max), "BatchSampler: count \(count) outside 0…\(Int32.max)")
        self.count = count
        self.permutation = (0..<Int32(count)).map { $0 }
    }

    /// Restores a sampler from a saved `permutation`; nil unless it is a permutation of 0..<n.
    public init?(permutation: [Int32]) {
        guard Self.permutationProblem(permutation) == nil else { return nil }
        self.count = permutation.count
        self.permutation = permutation
    }

    /// Why `permutation` is not a permutation of 0..<n, naming the first offending entry; nil if it is.
    public static func permutationProblem(_ permutation: [Int32]) -> String? {
        let n = permutation.count
        var firstAt = [Int](repeating: -1, count: n)
        for (i, v) in permutation.enumerated() {
            guard v >= 0, Int(v) < n else { return "entry \(i) is \(v), outside 0..<\(n)" }
            if firstAt[Int(v)] >= 0 { return "value \(v) appears twice (entries \(firstAt[Int(v)]) and \(i))" }
            firstAt[Int(v)] = i
        }
        return nil
    }

    /// Writes k distinct indices in 0..<count to out[0..<k]. Requires 0 ≤ k ≤ count and out.count ≥ k.
    public mutating func sample(_ k: Int, using rng: inout SeededGenerator, into out: UnsafeMutableBufferPointer<Int32>) {
        precondition(k >= 0 && k <= count, "BatchSampler: cannot draw \(k) distinct indices from \(count)")
        precondition(out.count >= k, "BatchSampler: output holds \(out.count) indices, \(k) requested")
        let n = count
        permutation.withUnsafeMutableBufferPointer { p in
            for i in 0..<k {
                let j = i + Int(Self.uniform(below: UInt64(n - i), using: &rng))
                p.swapAt(i, j)
                out[i] = p[i]
            }
        }
    }

    /// k distinct indices in 0..<count. Requires 0 ≤ k ≤ count.
    public mutating func sample(_ k: Int, using rng: inout SeededGenerator) -> [Int32] {
        precondition(k >= 0 && k <= count, "BatchSampler: cannot draw \(k) distinct indices from \(count)")
        return [Int32](unsafeUninitializedCapacity: k) { buffer, initialized in
            sample(k, using: &rng, into: buffer)
            initialized = k
        }
    }

    /// Uniform integer in 0..<bound (bound > 0), Lemire's multiply-and-reject method. Written out
    /// here rather than taken from the standard library so the stream never changes with the toolchain.
    @inline(__always)
    static func uniform(below bound: UInt64, using rng: inout SeededGenerator) -> UInt64 {
        var m = rng.next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = rng.next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }
}
