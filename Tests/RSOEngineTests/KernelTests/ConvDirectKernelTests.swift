import CSupport
import XCTest

/// cs_conv2d_cnhw_f32__direct_avx2 and cs_conv2d_cnhw_f32__sample_lanes_avx2 (AVX2+FMA micro-kernels,
/// chosen at run time, so debug builds test them too; machines without AVX2 get __ref itself) and
/// cs_conv2d_cnhw_f32__sample_lanes_avx512 (AVX-512F at run time, else __sample_lanes_avx2), against
/// __ref.
final class ConvDirectKernelTests: XCTestCase {
    struct Shape: CustomStringConvertible {
        var cin, cout, n, h, w, k: Int
        var p: Int { n * h * w }
        var kk: Int { cin * k * k }
        var description: String { "Cin=\(cin) Cout=\(cout) n=\(n) \(h)×\(w) k=\(k)" }
    }

    enum Variant: CaseIterable { case direct, sampleLanes, sampleLanes16 }

    struct Result {
        var y: [Float]
        var sum: [Double]
        var sumsq: [Double]
    }

    /// Floats around y (before and after) and after the scratch, set to `sentinel`: the kernel must
    /// leave them alone.
    private static let guardCount = 24
    private static let sentinel: Float = 1234.5

    private func ref(_ s: Shape, _ x: [Float], _ wt: [Float], statsStart: Double = 0.5) -> Result {
        var y = [Float](repeating: .nan, count: s.cout * s.p)
        var sum = [Double](repeating: statsStart, count: s.cout)
        var sumsq = [Double](repeating: statsStart, count: s.cout)
        cs_conv2d_cnhw_f32__ref(x, wt, s.cin.int32, s.cout.int32, s.n.int32, s.h.int32, s.w.int32,
                                s.k.int32, &y, &sum, &sumsq)
        return Result(y: y, sum: sum.map { $0 - statsStart }, sumsq: sumsq.map { $0 - statsStart })
    }

    private func scratchFloats(_ v: Variant, _ s: Shape) -> Int {
        let size = switch v {
        case .direct: cs_conv2d_cnhw_f32__direct_scratch_floats
        case .sampleLanes: cs_conv2d_cnhw_f32__sample_lanes_scratch_floats
        case .sampleLanes16: cs_conv2d_cnhw_f32__sample_lanes16_scratch_floats
        }
        return Int(size(s.cin.int32, s.cout.int32, s.n.int32, s.h.int32, s.w.int32, s.k.int32))
    }

    private func call(_ v: Variant, _ s: Shape, _ x: UnsafePointer<Float>, _ wt: UnsafePointer<Float>,
                      _ y: UnsafeMutablePointer<Float>, _ sum: UnsafeMutablePointer<Double>?,
                      _ sumsq: UnsafeMutablePointer<Double>?, _ scratch: UnsafeMutablePointer<Float>?) {
        let f = switch v {
        case .direct: cs_conv2d_cnhw_f32__direct_avx2
        case .sampleLanes: cs_conv2d_cnhw_f32__sample_lanes_avx2
        case .sampleLanes16: cs_conv2d_cnhw_f32__sample_lanes_avx512
        }
        f(x, wt, s.cin.int32, s.cout.int32, s.n.int32, s.h.int32, s.w.int32, s.k.int32, y, sum, sumsq, scratch)
    }

    /// Runs a variant with y and the scratch (exactly the advertised size, pre-filled with NaN: its
    /// contents must not matter) inside guard zones, checks the guards, and returns y and the
    /// statistics ADDED to `statsStart` (nil: NULL statistics pointers).
    private func run(_ v: Variant, _ s: Shape, _ x: [Float], _ wt: [Float], stats: Bool = true,
                     statsStart: Double = 0.5, file: StaticString = #filePath, line: UInt = #line)
        -> Result {
        let g = Self.guardCount
        let yCount = s.cout * s.p
        var yBuf = [Float](repeating: Self.sentinel, count: g + yCount + g)
        for i in g..<(g + yCount) { yBuf[i] = .nan }  // an output the kernel forgets stays NaN
        let scratchCount = scratchFloats(v, s)
        XCTAssertGreaterThanOrEqual(scratchCount, 0, "\(s): scratch size", file: file, line: line)
        var scratch = [Float](repeating: .nan, count: scratchCount + g)
        for i in scratchCount..<(scratchCount + g) { scratch[i] = Self.sentinel }
        var sum = [Double](repeating: statsStart, count: s.cout)
        var sumsq = [Double](repeating: statsStart, count: s.cout)
        yBuf.withUnsafeMutableBufferPointer { yb in
            scratch.withUnsafeMutableBufferPointer { sb in
                sum.withUnsafeMutableBufferPointer { s1 in
                    sumsq.withUnsafeMutableBufferPointer { s2 in
                        let y = yb.baseAddress! + g
                        let p1 = stats ? s1.baseAddress : nil, p2 = stats ? s2.baseAddress : nil
                        call(v, s, x, wt, y, p1, p2, sb.baseAddress)
                    }
                }
            }
        }
        let guards = Array(yBuf[..<g]) + Array(yBuf[(g + yCount)...]) + Array(scratch[scratchCount...])
        if guards.contains(where: { $0 != Self.sentinel }) {
            XCTFail("\(v) \(s): wrote outside y or past the advertised scratch size", file: file, line: line)
        }
        if !stats {
            XCTAssertEqual(sum, [Double](repeating: statsStart, count: s.cout), file: file, line: line)
        }
        return Result(y: Array(yBuf[g..<(g + yCount)]), sum: sum.map { $0 - statsStart },
                      sumsq: sumsq.map { $0 - statsStart })
    }

    /// Per-output error bound. __ref rounds an (almost) exact double sum once: ≤ u·|y| ≤ u·Σ|w·x|.
    /// __direct_avx2 and __sample_lanes_avx2 each sum the K = Cin·k² float products of an output in
    /// the order (ci, ky, kx) with FMA, one rounding per FMA (without AVX2 they are __ref itself): |ŷ − y| ≤ γ_K·Σ|w·x| ≈ K·u·Σ|w·x|. So the
    /// two differ by at most (K + 1)·u·Σ|w·x|; (K + 2) covers the O(u²) terms. Σ|w·x| per output is
    /// the reference convolution of |x| with |w| (double sums of non-negative terms).
    private func bounds(_ s: Shape, _ x: [Float], _ wt: [Float]) -> [Double] {
        let magnitude = ref(s, x.map(abs), wt.map(abs)).y
        return magnitude.map { Double(s.kk + 2) * Roundoff.f32 * Double($0) }
    }

    /// Statistics, as in ConvKernelTests. (1) Against the kernel's own y recomputed in double: only
    /// the order of ≤ P double additions differs, ≤ P·Roundoff.f64·Σ|v| each side. (2) Against
    /// __ref's statistics: Σ_p of the per-output bound for the sum; |ŷ² − y²| ≤ (2|y| + b)·b per
    /// output for the sum of squares; plus the order term of (1).
    private func checkStats(_ s: Shape, _ got: Result, _ want: Result, _ bound: [Double],
                            _ what: String) {
        var own1 = [Double](repeating: 0, count: s.cout), own2 = own1, abs1 = own1
        var ref1Bound = own1, ref2Bound = own1
        for co in 0..<s.cout {
            for i in 0..<s.p {
                let v = Double(got.y[co * s.p + i])
                let b = bound[co * s.p + i]
                own1[co] += v
                own2[co] += v * v
                abs1[co] += abs(v)
                ref1Bound[co] += b
                ref2Bound[co] += (2 * abs(Double(want.y[co * s.p + i])) + b) * b
            }
        }
        // + 4·u64 for the ulp of the 0.5 the sums started from.
        let order1 = abs1.map { 2 * Double(s.p + 2) * Roundoff.f64 * $0 + 4 * Roundoff.f64 }
        let order2 = own2.map { 2 * Double(s.p + 2) * Roundoff.f64 * $0 + 4 * Roundoff.f64 }
        assertWithinBounds(got.sum, own1, bounds: order1, "\(what): sum vs own y")
        assertWithinBounds(got.sumsq, own2, bounds: order2, "\(what): sumsq vs own y")
        assertWithinBounds(got.sum, want.sum, bounds: zip(ref1Bound, order1).map { 2 * ($0 + $1) },
                           "\(what): sum vs ref")
        assertWithinBounds(got.sumsq, want.sumsq, bounds: zip(ref2Bound, order2).map { 2 * ($0 + $1) },
                           "\(what): sumsq vs ref")
    }

    private func check(_ s: Shape, variants: [Variant] = Variant.allCases, rng: inout KernelRNG) {
        let x = rng.floats(s.cin * s.p)
        let wt = rng.floats(s.cout * s.kk)
        let want = ref(s, x, wt)
        let bound = bounds(s, x, wt)
        for v in variants {
            let got = run(v, s, x, wt)
            assertWithinBounds(got.y, want.y, bounds: bound, "\(v) \(s): y")
            checkStats(s, got, want, bound, "\(v) \(s)")
        }
    }

    // MARK: - Hand-computed

    /// 3×3 image 1…9, all-ones 3×3 kernel: each output is the sum of its in-image neighbourhood.
    /// Small integers, exact in float in any order: exact comparison, both variants.
    func testAllOnesKernelIsExact() {
        let s = Shape(cin: 1, cout: 1, n: 1, h: 3, w: 3, k: 3)
        let x: [Float] = (1...9).map(Float.init)
        let expected: [Float] = [12, 21, 16,
                                 27, 45, 33,
                                 24, 39, 28]
        for v in Variant.allCases {
            let r = run(v, s, x, [Float](repeating: 1, count: 9), statsStart: 0)
            XCTAssertEqual(r.y, expected, "\(v)")
            XCTAssertEqual(r.sum, [245], "\(v)")
            XCTAssertEqual(r.sumsq, [Double(expected.reduce(0) { $0 + $1 * $1 })], "\(v)")
        }
    }

    // MARK: - Against __ref on swept shapes

    /// Every channel pair from {1, 3, 5, 8, 16, 17, 32} (Cout below, at and past the 4-channel
    /// register block, Cin = 1 and 3 of the first layers), k = 1 and 3, on a 9×7 image (one
    /// partial 8-pixel vector per row, whose extra lane is stored over the next row's first pixel
    /// and later overwritten; the plane's last vector masked) and on 3 samples of 2×14 (a full and
    /// a 6-lane vector per row, the spill crossing into the next sample).
    func testMatchesRefOnAllChannelPairs() {
        var rng = KernelRNG(seed: 31)
        let channels = [1, 3, 5, 8, 16, 17, 32]
        for cin in channels {
            for cout in channels {
                for k in [1, 3] {
                    check(Shape(cin: cin, cout: cout, n: 1, h: 9, w: 7, k: k), rng: &rng)
                    check(Shape(cin: cin, cout: cout, n: 3, h: 2, w: 14, k: k), rng: &rng)
                }
            }
        }
    }

    /// Every H × W from {1, 2, 7, 8, 9, 14, 28, 32} (1×1 images, widths below, at and past 8
    /// lanes, 28 = 3½ vectors), n = 1 and 3, k = 1 and 3, for Cin = 3 → Cout = 5 (a partial
    /// register block); and for 17 → 16 with n = 1.
    func testMatchesRefOnAllImageSizes() {
        var rng = KernelRNG(seed: 32)
        let sides = [1, 2, 7, 8, 9, 14, 28, 32]
        for h in sides {
            for w in sides {
                for k in [1, 3] {
                    for n in [1, 3] {
                        check(Shape(cin: 3, cout: 5, n: n, h: h, w: w, k: k), rng: &rng)
                    }
                    check(Shape(cin: 17, cout: 16, n: 1, h: h, w: w, k: k), rng: &rng)
                }
            }
        }
    }

    /// n = 32 chunks of the real networks (mnist6, cifar-depth10): several sample groups of the
    /// padded input buffer, and samples sharing one group. The scalar twin once, on a small one.
    func testMatchesRefOnNetworkChunks() {
        var rng = KernelRNG(seed: 33)
        let shapes = [
            Shape(cin: 16, cout: 16, n: 32, h: 28, w: 28, k: 3),
            Shape(cin: 1, cout: 16, n: 32, h: 28, w: 28, k: 3),
            Shape(cin: 16, cout: 16, n: 32, h: 14, w: 14, k: 3),
            Shape(cin: 16, cout: 16, n: 32, h: 7, w: 7, k: 3),
            Shape(cin: 32, cout: 32, n: 32, h: 8, w: 8, k: 3),
            Shape(cin: 16, cout: 32, n: 32, h: 16, w: 16, k: 3),
            Shape(cin: 3, cout: 16, n: 32, h: 32, w: 32, k: 3),
            Shape(cin: 16, cout: 32, n: 32, h: 16, w: 16, k: 1),
            Shape(cin: 5, cout: 17, n: 32, h: 9, w: 9, k: 3),
        ]
        for s in shapes { check(s, rng: &rng) }
    }

    /// __sample_lanes_avx2 on the shapes that choose it and their edges: every square plane 1…30
    /// (7, 14, 28 included) and a non-square one of each odd width 1…29; channel counts 1, 3, 16, 17
    /// (partial 4-channel blocks); chunks of 1, 7, 8, 9, 16, 17 and 32 samples (a partial octet of
    /// lanes, exactly one, one past it, several).
    func testSampleLanesMatchesRefOnSweptShapes() {
        var rng = KernelRNG(seed: 37)
        let channels = [1, 3, 16, 17], chunks = [1, 7, 8, 9, 16, 17, 32]
        for side in 1...30 {
            let cin = channels[side % 4], cout = channels[(side / 4) % 4], n = chunks[side % chunks.count]
            check(Shape(cin: cin, cout: cout, n: n, h: side, w: side, k: 3), variants: [.sampleLanes, .sampleLanes16], rng: &rng)
            if side % 2 == 1 {
                check(Shape(cin: cout, cout: cin, n: chunks[(side + 3) % chunks.count], h: 31 - side, w: side, k: 3),
                      variants: [.sampleLanes, .sampleLanes16], rng: &rng)
            }
        }
        for cin in channels {
            for cout in channels {
                for (side, n) in [(7, 9), (14, 1), (28, 2)] {
                    check(Shape(cin: cin, cout: cout, n: n, h: side, w: side, k: 3),
                          variants: [.sampleLanes, .sampleLanes16], rng: &rng)
                }
            }
        }
    }

    /// The two direct variants do the same FMAs in the same order per output (ci, ky, kx), only on
    /// different lanes: y is bit-identical (so switching variant by shape changes no activation; the
    /// statistics' summation order differs, within checkStats' bounds).
    func testSampleLanesOutputIsBitIdenticalToDirect() {
        var rng = KernelRNG(seed: 38)
        for s in [Shape(cin: 16, cout: 16, n: 9, h: 7, w: 7, k: 3), Shape(cin: 17, cout: 3, n: 1, h: 14, w: 14, k: 3),
                  Shape(cin: 3, cout: 16, n: 32, h: 28, w: 28, k: 3), Shape(cin: 5, cout: 6, n: 3, h: 5, w: 9, k: 1)] {
            let x = rng.floats(s.cin * s.p), wt = rng.floats(s.cout * s.kk)
            assertBitwiseEqual(run(.sampleLanes, s, x, wt).y, run(.direct, s, x, wt).y, "\(s)")
        }
    }

    /// The 16-lane kernel does the AVX2 sample-lanes kernel's FMAs in the same order per output and
    /// sums the statistics in its order (octet by octet, pixels in raster order): y, sum and sumsq
    /// are bit-identical, so the engine's numbers do not depend on the CPU having AVX-512. Chunks
    /// around the 16-sample group (1, 8, 9, 15, 16, 17, 31, 32, 33), the networks' planes, odd
    /// channel counts (partial 4-channel blocks), k = 1, 3, 5 (the run-time-k micro-kernel).
    func testSampleLanes16IsBitIdenticalToSampleLanes() {
        var rng = KernelRNG(seed: 39)
        let planes = [(28, 28), (14, 14), (7, 7), (32, 32), (8, 8), (3, 5), (1, 1)]
        let chunks = [1, 8, 9, 15, 16, 17, 31, 32, 33]
        for (i, (h, w)) in planes.enumerated() {
            for (j, n) in chunks.enumerated() where (i + j) % 2 == 0 || h <= 8 {
                for (cin, cout) in [(16, 16), (3, 17), (1, 5)] {
                    let k = [3, 3, 1, 5][(i + j) % 4]
                    let s = Shape(cin: cin, cout: cout, n: n, h: h, w: w, k: k)
                    let x = rng.floats(s.cin * s.p), wt = rng.floats(s.cout * s.kk)
                    let lanes8 = run(.sampleLanes, s, x, wt), lanes16 = run(.sampleLanes16, s, x, wt)
                    assertBitwiseEqual(lanes16.y, lanes8.y, "y \(s)")
                    XCTAssertEqual(lanes16.sum.map(\.bitPattern), lanes8.sum.map(\.bitPattern), "sum \(s)")
                    XCTAssertEqual(lanes16.sumsq.map(\.bitPattern), lanes8.sumsq.map(\.bitPattern), "sumsq \(s)")
                }
            }
        }
    }

    /// Kernel sizes other than 1 and 3 take the generic (run-time k) micro-kernel: k = 5 and 7,
    /// and even k = 2 and 4 (not used by our networks; __ref pads k/2 before, k/2 − 1 after).
    func testOtherKernelSizes() {
        var rng = KernelRNG(seed: 34)
        for k in [2, 4, 5, 7] {
            check(Shape(cin: 3, cout: 5, n: 2, h: 6, w: 9, k: k), rng: &rng)
            check(Shape(cin: 2, cout: 4, n: 1, h: 1, w: 1, k: k), rng: &rng)
        }
    }

    // MARK: - Contract details

    /// NULL statistics pointers: y is bit-identical to the run with statistics, which are not touched.
    func testStatisticsAreOptional() {
        var rng = KernelRNG(seed: 35)
        for s in [Shape(cin: 3, cout: 5, n: 2, h: 5, w: 11, k: 3),
                  Shape(cin: 16, cout: 16, n: 3, h: 14, w: 14, k: 3)] {
            let x = rng.floats(s.cin * s.p), wt = rng.floats(s.cout * s.kk)
            for v in Variant.allCases {
                let with = run(v, s, x, wt)
                let without = run(v, s, x, wt, stats: false)
                assertBitwiseEqual(without.y, with.y, "\(v) \(s) without stats")
            }
        }
    }

    /// Statistics are ADDED: two calls on the same sums give twice the statistics of one.
    func testStatisticsAccumulate() {
        var rng = KernelRNG(seed: 36)
        let s = Shape(cin: 4, cout: 6, n: 2, h: 7, w: 10, k: 3)
        let x = rng.floats(s.cin * s.p), wt = rng.floats(s.cout * s.kk)
        for v in Variant.allCases {
            let once = run(v, s, x, wt, statsStart: 0)
            var scratch = [Float](repeating: 0, count: scratchFloats(v, s))
            var y = [Float](repeating: 0, count: s.cout * s.p)
            var sum = [Double](repeating: 0, count: s.cout), sumsq = sum
            for _ in 0..<2 { call(v, s, x, wt, &y, &sum, &sumsq, &scratch) }
            // 2·a is exact in double, and a + a == 2·a: the second call adds the same value exactly.
            XCTAssertEqual(sum, once.sum.map { 2 * $0 }, "\(v)")
            XCTAssertEqual(sumsq, once.sumsq.map { 2 * $0 }, "\(v)")
        }
    }

    /// Cin = 0 is the sum over no inputs: y = 0, statistics += 0. Empty images write nothing.
    func testDegenerateShapes() {
        let s = Shape(cin: 0, cout: 3, n: 2, h: 4, w: 5, k: 3)
        for v in Variant.allCases {
            let r = run(v, s, [], [], statsStart: 0)
            XCTAssertEqual(r.y, [Float](repeating: 0, count: s.cout * s.p), "\(v)")
            XCTAssertEqual(r.sum, [0, 0, 0], "\(v)")
        }
        XCTAssertEqual(cs_conv2d_cnhw_f32__direct_scratch_floats(0, 3, 2, 4, 5, 3), 0)
        XCTAssertEqual(cs_conv2d_cnhw_f32__sample_lanes_scratch_floats(0, 3, 2, 4, 5, 3), 0)
        for empty in [Shape(cin: 2, cout: 3, n: 0, h: 4, w: 5, k: 3),
                      Shape(cin: 2, cout: 3, n: 2, h: 0, w: 5, k: 3)] {
            for v in Variant.allCases { _ = run(v, empty, [], [Float](repeating: 1, count: empty.cout * empty.kk)) }
        }
    }

    /// The scratch size documented in the header: packed weights plus one padded sample group,
    /// under the closed-form upper bound given there.
    func testScratchSizeWithinDocumentedBound() {
        for (cin, cout, n, h, w, k) in [(16, 16, 32, 28, 28, 3), (1, 16, 32, 28, 28, 3),
                                        (32, 32, 32, 8, 8, 3), (3, 5, 1, 1, 1, 1),
                                        (17, 16, 3, 32, 32, 5)] {
            let got = Int(cs_conv2d_cnhw_f32__direct_scratch_floats(cin.int32, cout.int32, n.int32,
                                                                   h.int32, w.int32, k.int32))
            let weights = cout * cin * k * k
            XCTAssertGreaterThanOrEqual(got, weights)
            let upper = ((cout + 3) / 4 * 4) * cin * k * k + 15
                + max(16384, cin * (h + k) * (w + 7 + k)) + 32 * cin
            XCTAssertLessThanOrEqual(got, upper, "Cin=\(cin) Cout=\(cout) \(h)×\(w) k=\(k)")
        }
        // __sample_lanes_avx2: the header's worked example (mnist6 7×7), independent of n.
        for n in [1, 32] {
            XCTAssertEqual(cs_conv2d_cnhw_f32__sample_lanes_scratch_floats(16, 16, n.int32, 7, 7, 3), 19599)
        }
    }
}
