/// Runs kernel cases over a batch the way ForwardExecutor does (chunks of `chunkSamples` samples on
/// the scheduler's workers, conv tiles of `convTile` pixels) and times whole-batch passes.
public struct KernelBenchmark: Sendable {
    /// ForwardExecutor's default chunk (its `init(chunkSamples: 32)`).
    public static let defaultChunkSamples = 32

    public var batch: Int
    public var chunkSamples: Int
    public var convTile: Int
    /// Reference convs, im2cols and conv1ch_adds (slow scalar loops) run on min(batch, referenceSamples) samples
    /// and their times are scaled to the batch; every other case runs the full batch.
    public var referenceSamples: Int
    public var harness: BenchHarness

    public init(batch: Int, chunkSamples: Int = defaultChunkSamples, convTile: Int = KernelTable.convTile,
                referenceSamples: Int = 512, harness: BenchHarness = BenchHarness()) {
        precondition(batch > 0 && chunkSamples > 0 && convTile > 0 && referenceSamples > 0)
        self.batch = batch
        self.chunkSamples = chunkSamples
        self.convTile = convTile
        self.referenceSamples = referenceSamples
        self.harness = harness
    }

    /// Samples a case is measured on.
    public func samples(for c: KernelCase) -> Int {
        c.variant == .ref && [.conv, .im2col, .conv1chAdd].contains(c.family) ? min(batch, referenceSamples) : batch
    }

    /// Chunk calls in one batch.
    public var calls: Int { (batch + chunkSamples - 1) / chunkSamples }

    /// FLOPs / bytes of one pass over the whole batch (sum over its chunks).
    public func batchFlops(_ c: KernelCase) -> Double { overChunks(batch) { c.flops(samples: $0) } }
    public func batchBytes(_ c: KernelCase) -> Double { overChunks(batch) { c.bytes(samples: $0) } }

    private func overChunks(_ samples: Int, _ f: (Int) -> Double) -> Double {
        let full = samples / chunkSamples, rest = samples % chunkSamples
        return Double(full) * f(chunkSamples) + (rest > 0 ? f(rest) : 0)
    }

    /// Measures every case in order; `progress(i, case)` is called before case i starts.
    public func measure(_ cases: [KernelCase], on scheduler: ChunkScheduler,
                        progress: ((Int, KernelCase) -> Void)? = nil) -> [KernelMeasurement] {
        var out: [KernelMeasurement] = []
        for (i, c) in cases.enumerated() {
            progress?(i, c)
            let n = samples(for: c)
            let workload = KernelWorkload(c, samples: n, chunkSamples: chunkSamples, scheduler: scheduler,
                                          convTile: convTile)
            let measured = harness.measure { workload.run() }
            let scale = Double(batch) / Double(n)
            out.append(KernelMeasurement(
                kernelCase: c, batch: batch, chunkSamples: chunkSamples, calls: calls, measuredSamples: n,
                timeScale: scale, flopsPerCall: c.flops(samples: chunkSamples), bytesPerCall: c.bytes(samples: chunkSamples),
                batchFlops: batchFlops(c), batchBytes: batchBytes(c),
                time: n == batch ? measured : measured.scaled(by: scale), threads: scheduler.workers))
        }
        return out
    }
}

/// One case's timing over the batch (times scaled to the full batch when it ran on fewer samples).
public struct KernelMeasurement: Sendable {
    public var kernelCase: KernelCase
    public var batch: Int
    public var chunkSamples: Int
    /// Chunk calls per batch.
    public var calls: Int
    public var measuredSamples: Int
    /// batch ÷ measuredSamples (1 when the full batch ran).
    public var timeScale: Double
    /// Work of one call on a full chunk.
    public var flopsPerCall: Double
    public var bytesPerCall: Double
    public var batchFlops: Double
    public var batchBytes: Double
    /// Seconds per whole-batch pass.
    public var time: BenchStatistics
    public var threads: Int

    /// Throughput from the median time (floored at 1 ps so a tiny case never divides by zero).
    public var gflops: Double { batchFlops / max(time.median, 1e-12) / 1e9 }
    public var gbs: Double { batchBytes / max(time.median, 1e-12) / 1e9 }
    /// FLOP per byte (0 for pure data movement such as im2col).
    public var arithmeticIntensity: Double { batchBytes > 0 ? batchFlops / batchBytes : 0 }
    public var scaled: Bool { measuredSamples != batch }
}
