/// Timing for `rso bench`: warm-up runs, then N timed repetitions on ContinuousClock, summarised
/// by percentiles (never by a single time: the machines are shared and noisy).

/// Order statistics of repeated timings, in seconds.
public struct BenchStatistics: Sendable, Equatable, Codable {
    /// Every timed repetition, in run order.
    public var samples: [Double]
    public var median: Double
    public var p10: Double
    public var p90: Double
    public var min: Double
    public var max: Double
    public var mean: Double

    public init(samples: [Double]) {
        precondition(!samples.isEmpty, "no samples")
        self.samples = samples
        let sorted = samples.sorted()
        median = Self.percentile(sorted: sorted, 0.5)
        p10 = Self.percentile(sorted: sorted, 0.1)
        p90 = Self.percentile(sorted: sorted, 0.9)
        min = sorted.first!
        max = sorted.last!
        mean = samples.reduce(0, +) / Double(samples.count)
    }

    /// Percentile q ∈ [0, 1] of sorted values, interpolated linearly between closest ranks
    /// (rank q·(n − 1); numpy's default): the median of an even count is the mean of the middle two.
    public static func percentile(sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty && q >= 0 && q <= 1)
        let rank = q * Double(sorted.count - 1)
        let lo = Int(rank.rounded(.down)), hi = Int(rank.rounded(.up))
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - Double(lo))
    }

    /// The same statistics with every time multiplied by `factor` (a reference kernel measured on
    /// fewer samples, scaled to the full batch).
    public func scaled(by factor: Double) -> BenchStatistics {
        BenchStatistics(samples: samples.map { $0 * factor })
    }
}

/// Runs a body `warmup` times untimed, then `repetitions` times timed.
public struct BenchHarness: Sendable {
    public var warmup: Int
    public var repetitions: Int

    public init(warmup: Int = 1, repetitions: Int = 5) {
        precondition(warmup >= 0 && repetitions >= 1)
        self.warmup = warmup
        self.repetitions = repetitions
    }

    public func measure(_ body: () -> Void) -> BenchStatistics {
        for _ in 0..<warmup { body() }
        let clock = ContinuousClock()
        var samples: [Double] = []
        samples.reserveCapacity(repetitions)
        for _ in 0..<repetitions {
            samples.append(Self.seconds(clock.measure(body)))
        }
        return BenchStatistics(samples: samples)
    }

    /// A ContinuousClock duration in seconds.
    public static func seconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}
