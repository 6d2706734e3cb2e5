import XCTest
@testable import RSOEngine

/// The harness's statistics on known samples (no timing assertions: only counts and arithmetic).
final class HarnessBenchTests: XCTestCase {
    func testMedianOfOddAndEvenCounts() {
        XCTAssertEqual(BenchStatistics(samples: [3, 1, 2]).median, 2)
        // Even count: the mean of the two middle values.
        XCTAssertEqual(BenchStatistics(samples: [4, 1, 3, 2]).median, 2.5)
        XCTAssertEqual(BenchStatistics(samples: [7]).median, 7)
    }

    func testPercentilesInterpolateBetweenRanks() {
        // 1…11: rank q·10, so p10 = 2 and p90 = 10 exactly.
        let s = BenchStatistics(samples: (1...11).reversed().map(Double.init))
        XCTAssertEqual(s.p10, 2)
        XCTAssertEqual(s.p90, 10)
        XCTAssertEqual(s.min, 1)
        XCTAssertEqual(s.max, 11)
        XCTAssertEqual(s.mean, 6)
        // 0, 10: p10 lies a tenth of the way (linear interpolation, numpy's default).
        XCTAssertEqual(BenchStatistics(samples: [10, 0]).p10, 1, accuracy: 1e-12)
        XCTAssertEqual(BenchStatistics(samples: [10, 0]).p90, 9, accuracy: 1e-12)
    }

    func testSamplesKeepRunOrderAndScale() {
        let s = BenchStatistics(samples: [3, 1, 2])
        XCTAssertEqual(s.samples, [3, 1, 2])
        let t = s.scaled(by: 10)
        XCTAssertEqual(t.samples, [30, 10, 20])
        XCTAssertEqual(t.median, 20)
    }

    func testHarnessRunsWarmupThenRepetitions() {
        var calls = 0
        let stats = BenchHarness(warmup: 2, repetitions: 5).measure { calls += 1 }
        XCTAssertEqual(calls, 7)
        XCTAssertEqual(stats.samples.count, 5)
        XCTAssertLessThanOrEqual(stats.p10, stats.median)
        XCTAssertLessThanOrEqual(stats.median, stats.p90)
    }

    func testDurationToSeconds() {
        XCTAssertEqual(BenchHarness.seconds(.milliseconds(1500)), 1.5, accuracy: 1e-15)
        XCTAssertEqual(BenchHarness.seconds(.nanoseconds(3)), 3e-9, accuracy: 1e-21)
    }
}
