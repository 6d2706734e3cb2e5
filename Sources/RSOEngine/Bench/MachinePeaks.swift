import CSupport

/// The machine's measured ceilings (CSupport/peaks.c): FMA throughput and streaming bandwidth, on
/// one thread and on every worker of a pool at once. Kernel throughput is normalised to these
/// numbers, measured in the same run as the kernels (never to a datasheet).
public struct MachinePeaks: Sendable, Codable, Equatable {
    /// How much work each measurement does.
    public struct Options: Sendable, Equatable {
        /// FMA loop iterations per worker per repetition (192 FLOPs each, 512 with AVX-512).
        public var fmaIterations: Int
        /// Floats per stream array (three arrays: a, b, c), split over the workers.
        public var streamElements: Int
        public var warmup: Int
        public var repetitions: Int

        /// ~0.1 s of FMA per repetition at 95 GFLOP/s; 3 × 128 MiB arrays (≫ any L3 here).
        public static let standard = Options(fmaIterations: 50_000_000, streamElements: 1 << 25,
                                             warmup: 1, repetitions: 7)

        public init(fmaIterations: Int, streamElements: Int, warmup: Int = 1, repetitions: Int = 7) {
            precondition(fmaIterations > 0 && streamElements > 0 && repetitions > 0 && warmup >= 0)
            self.fmaIterations = fmaIterations
            self.streamElements = streamElements
            self.warmup = warmup
            self.repetitions = repetitions
        }
    }

    /// One ceiling: throughput (GFLOP/s or GB/s) from the median time, and from p90/p10 times.
    public struct Rate: Sendable, Codable, Equatable {
        public var median: Double
        /// Throughput at the p90 time (slow end) and p10 time (fast end).
        public var low: Double
        public var high: Double

        init(work: Double, stats: BenchStatistics) {
            median = work / stats.median
            low = work / stats.p90
            high = work / stats.p10
        }
    }

    /// Workers in the all-cores measurements.
    public var workers: Int
    public var fmaAvailable: Bool
    /// Float lanes of the FMA loop that set the compute roof: 16 where the CPU has AVX-512F (the
    /// widest the engine's kernels use there), else 8 (AVX2).
    public var fmaLanes: Int = 8
    /// FMA GFLOP/s on one thread (the calling thread: worker 0) and on all workers together.
    public var fmaGflopsOneCore: Rate
    public var fmaGflopsAllCores: Rate
    /// STREAM triad GB/s (12 bytes per element) on one thread and on all workers.
    public var triadGBsOneCore: Rate
    public var triadGBsAllCores: Rate
    /// Read-only sum GB/s (4 bytes per element).
    public var readGBsOneCore: Rate
    public var readGBsAllCores: Rate
    /// Bytes per stream array.
    public var streamArrayBytes: Int

    /// The roofline's compute roof for `threads` workers: all-cores when threads > 1.
    public func computeRoof(threads: Int) -> Double {
        threads > 1 ? fmaGflopsAllCores.median : fmaGflopsOneCore.median
    }
    /// The roofline's bandwidth slope (triad GB/s) for `threads` workers.
    public func bandwidthRoof(threads: Int) -> Double {
        threads > 1 ? triadGBsAllCores.median : triadGBsOneCore.median
    }
    /// Arithmetic intensity (FLOP/byte) where the roofs meet.
    public func ridgePoint(threads: Int) -> Double { computeRoof(threads: threads) / bandwidthRoof(threads: threads) }

    /// Measures the ceilings on `pool`'s workers (the 1-thread figures on the calling thread).
    public static func measure(pool: ChunkScheduler, options: Options = .standard) -> MachinePeaks {
        let harness = BenchHarness(warmup: options.warmup, repetitions: options.repetitions)
        let workers = pool.workers
        let available = cs_peak_fma_available() != 0
        let wide = KernelTable.hasAVX512
        let lanes = wide ? 16 : 8, chains = wide ? Int(CS_PEAK_FMA512_CHAINS) : Int(CS_PEAK_FMA_CHAINS)
        let loop = wide ? cs_peak_fma_f32__avx512 : cs_peak_fma_f32__avx2

        // FMA: one loop per worker, concurrently; the time is the slowest worker's (the region's).
        let iters = options.fmaIterations
        let sinks = UnsafeMutablePointer<Float>.allocate(capacity: max(1, workers))
        sinks.initialize(repeating: 0, count: max(1, workers))
        defer { sinks.deallocate() }
        let flopsPerLoop = !available ? 0 : 2.0 * Double(lanes * chains) * Double(iters)
        let fma1 = harness.measure { _ = loop(iters, sinks) }
        let fmaN = harness.measure {
            pool.forEachChunk(workers) { c, _ in _ = loop(iters, sinks + c) }
        }

        // Streams: each worker first-touches and then streams its own contiguous range.
        let n = options.streamElements
        let a = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        func range(_ w: Int, _ parts: Int) -> (Int, Int) { (n * w / parts, n * (w + 1) / parts) }
        pool.forEachChunk(workers) { w, _ in
            let (lo, hi) = range(w, workers)
            cs_stream_fill_f32(a, 0, lo, hi)
            cs_stream_fill_f32(b, 1, lo, hi)
            cs_stream_fill_f32(c, 2, lo, hi)
        }
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: max(1, workers))
        sums.initialize(repeating: 0, count: max(1, workers))
        defer { sums.deallocate() }
        let triad1 = harness.measure { cs_stream_triad_f32(a, b, c, 0.5, 0, n) }
        let triadN = harness.measure {
            pool.forEachChunk(workers) { w, _ in
                let (lo, hi) = range(w, workers)
                cs_stream_triad_f32(a, b, c, 0.5, lo, hi)
            }
        }
        let read1 = harness.measure { sums[0] += cs_stream_sum_f32(a, 0, n) }
        let readN = harness.measure {
            pool.forEachChunk(workers) { w, _ in
                let (lo, hi) = range(w, workers)
                sums[w] += cs_stream_sum_f32(a, lo, hi)
            }
        }
        let triadBytes = 12.0 * Double(n), readBytes = 4.0 * Double(n)
        return MachinePeaks(
            workers: workers, fmaAvailable: available, fmaLanes: lanes,
            fmaGflopsOneCore: Rate(work: flopsPerLoop / 1e9, stats: fma1),
            fmaGflopsAllCores: Rate(work: Double(workers) * flopsPerLoop / 1e9, stats: fmaN),
            triadGBsOneCore: Rate(work: triadBytes / 1e9, stats: triad1),
            triadGBsAllCores: Rate(work: triadBytes / 1e9, stats: triadN),
            readGBsOneCore: Rate(work: readBytes / 1e9, stats: read1),
            readGBsAllCores: Rate(work: readBytes / 1e9, stats: readN),
            streamArrayBytes: 4 * n)
    }
}
