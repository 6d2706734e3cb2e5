import CSupport
import XCTest

final class ConvKernelTests: XCTestCase {
    struct Shape: CustomStringConvertible {
        var cin, cout, n, h, w, k: Int
        var p: Int { n * h * w }
        var kk: Int { cin * k * k }
        var description: String { "Cin=\(cin) Cout=\(cout) n=\(n) \(h)×\(w) k=\(k)" }
    }

    struct Result {
        var y: [Float]
        var sum: [Double]
        var sumsq: [Double]
    }

    /// Runs __ref (tile == nil) or __im2col_blas; the statistics start from `statsStart` to check that
    /// they are ADDED, not stored.
    private func conv(_ s: Shape, _ x: [Float], _ wt: [Float], tile: Int?, statsStart: Double = 0.5)
        -> Result {
        var y = [Float](repeating: .nan, count: s.cout * s.p)
        var sum = [Double](repeating: statsStart, count: s.cout)
        var sumsq = [Double](repeating: statsStart, count: s.cout)
        if let tile {
            var scratch = [Float](repeating: .nan, count: max(1, s.kk * min(tile, s.p)))
            cs_conv2d_cnhw_f32__im2col_blas(x, wt, s.cin.int32, s.cout.int32, s.n.int32, s.h.int32, s.w.int32, s.k.int32, &y, &sum,
                                      &sumsq, &scratch, tile)
        } else {
            cs_conv2d_cnhw_f32__ref(x, wt, s.cin.int32, s.cout.int32, s.n.int32, s.h.int32, s.w.int32, s.k.int32, &y, &sum,
                                    &sumsq)
        }
        return Result(y: y, sum: sum.map { $0 - statsStart }, sumsq: sumsq.map { $0 - statsStart })
    }

    // MARK: - Reference against hand-computed cases

    /// 3×3 image 1…9, all-ones 3×3 kernel: each output is the sum of the in-image neighbourhood.
    /// All values are small integers, exact in float: the comparison is exact.
    func testRefAllOnesKernel() {
        let s = Shape(cin: 1, cout: 1, n: 1, h: 3, w: 3, k: 3)
        let x: [Float] = (1...9).map(Float.init)
        let r = conv(s, x, [Float](repeating: 1, count: 9), tile: nil, statsStart: 0)
        let expected: [Float] = [12, 21, 16,
                                 27, 45, 33,
                                 24, 39, 28]
        XCTAssertEqual(r.y, expected)
        XCTAssertEqual(r.sum, [245])
        XCTAssertEqual(r.sumsq, [Double(expected.reduce(0) { $0 + $1 * $1 })])
    }

    /// A one-hot kernel at (ky, kx) = (0, 0) is cross-correlation (not flipped): y[oy][ox] =
    /// x[oy − 1][ox − 1], zero in the first row and column.
    func testRefOrientationIsCrossCorrelation() {
        let s = Shape(cin: 1, cout: 1, n: 1, h: 3, w: 3, k: 3)
        let x: [Float] = (1...9).map(Float.init)
        var wt = [Float](repeating: 0, count: 9)
        wt[0] = 1
        let r = conv(s, x, wt, tile: nil)
        XCTAssertEqual(r.y, [0, 0, 0,
                             0, 1, 2,
                             0, 4, 5])
    }

    /// k = 1, Cin = 2, Cout = 2, n = 2 samples of 1×2: a per-pixel 2×2 matrix product, with the
    /// weight layout [Cout][Cin] and the CNHW input layout x[c][s][pixel].
    func testRefPointwiseTwoChannels() {
        let s = Shape(cin: 2, cout: 2, n: 2, h: 1, w: 2, k: 1)
        let x: [Float] = [1, 2, 3, 4,      // channel 0: sample 0 = (1, 2), sample 1 = (3, 4)
                          10, 20, 30, 40]  // channel 1
        let wt: [Float] = [1, 0.5,  // out 0 = x0 + 0.5·x1
                           -1, 2]   // out 1 = −x0 + 2·x1
        let r = conv(s, x, wt, tile: nil, statsStart: 0)
        XCTAssertEqual(r.y, [6, 12, 18, 24,
                             19, 38, 57, 76])
        XCTAssertEqual(r.sum, [60, 190])
        XCTAssertEqual(r.sumsq, [1080, 10830])  // 36 + 144 + 324 + 576, 361 + 1444 + 3249 + 5776
    }

    // MARK: - __im2col_blas against __ref

    /// Per-output error bound. __ref rounds an (almost) exact double sum once: ≤ u·|y| ≤ u·Σ|w·x|.
    /// __im2col_blas sums K = Cin·k² float products in some order (OpenBLAS blocking, FMA or not): the
    /// classic bound |ŷ − y| ≤ γ_K·Σ|w·x| ≈ K·u·Σ|w·x| holds for every order. So the two differ by
    /// at most (K + 1)·u·Σ|w·x|; we allow (K + 2) for the O(u²) terms. Σ|w·x| per output is the
    /// reference convolution of |x| with |w| (exact enough: double sums of non-negative terms).
    private func bounds(_ s: Shape, _ x: [Float], _ wt: [Float]) -> [Double] {
        let magnitude = conv(s, x.map(abs), wt.map(abs), tile: nil).y
        return magnitude.map { Double(s.kk + 2) * Roundoff.f32 * Double($0) }
    }

    private func check(_ s: Shape, tiles: [Int], rng: inout KernelRNG) {
        let x = rng.floats(s.cin * s.p)
        let wt = rng.floats(s.cout * s.kk)
        let ref = conv(s, x, wt, tile: nil)
        let bound = bounds(s, x, wt)
        for tile in tiles {
            let got = conv(s, x, wt, tile: tile)
            assertWithinBounds(got.y, ref.y, bounds: bound, "\(s) tile=\(tile): y")
            checkStats(s, got, ref, bound, "\(s) tile=\(tile)")
        }
    }

    /// Statistics. (1) Against the kernel's own y, recomputed in double: the only difference is
    /// the order of ≤ P double additions, ≤ P·Roundoff.f64·Σ|v| each side → 2·P·Roundoff.f64·Σ|v|.
    /// (2) Against __ref's statistics: Σ_p of the per-output y bound for the sum; for the sum of
    /// squares |ŷ² − y²| ≤ (2|y| + b)·b per output; plus the double-order term of (1).
    private func checkStats(_ s: Shape, _ got: Result, _ ref: Result, _ bound: [Double],
                            _ what: String) {
        var own1 = [Double](repeating: 0, count: s.cout), own2 = own1, abs1 = own1, abs2 = own1
        var ref1Bound = own1, ref2Bound = own1
        for co in 0..<s.cout {
            for i in 0..<s.p {
                let v = Double(got.y[co * s.p + i])
                let b = bound[co * s.p + i]
                own1[co] += v
                own2[co] += v * v
                abs1[co] += abs(v)
                abs2[co] += v * v
                ref1Bound[co] += b
                ref2Bound[co] += (2 * abs(Double(ref.y[co * s.p + i])) + b) * b
            }
        }
        let order1 = abs1.map { 2 * Double(s.p + 2) * Roundoff.f64 * $0 + 4 * Roundoff.f64 }  // + the 0.5 offset's ulp
        let order2 = abs2.map { 2 * Double(s.p + 2) * Roundoff.f64 * $0 + 4 * Roundoff.f64 }
        assertWithinBounds(got.sum, own1, bounds: order1, "\(what): sum vs own y")
        assertWithinBounds(got.sumsq, own2, bounds: order2, "\(what): sumsq vs own y")
        assertWithinBounds(got.sum, ref.sum, bounds: zip(ref1Bound, order1).map { 2 * ($0 + $1) },
                           "\(what): sum vs ref")
        assertWithinBounds(got.sumsq, ref.sumsq, bounds: zip(ref2Bound, order2).map { 2 * ($0 + $1) },
                           "\(what): sumsq vs ref")
    }

    /// Tile 64 with P = 63, 64, 65 and 1 pixels (one sample and several), and a P = 200 that
    /// 64 does not divide; channel pairs from {1, 3, 5, 16, 17}; k = 1 (direct x path) and 3.
    func testSgemmMatchesRefAroundTile64() {
        var rng = KernelRNG(seed: 21)
        let pixels: [(n: Int, h: Int, w: Int)] = [
            (1, 1, 1), (1, 7, 9), (1, 8, 8), (1, 5, 13),  // P = 1, 63, 64, 65 in one image
            (3, 3, 7), (4, 4, 4), (5, 1, 13),             // P = 63, 64, 65 over several samples
            (2, 10, 10), (3, 1, 1),                       // P = 200; 1×1 images, n = 3
        ]
        let channels = [(1, 1), (3, 5), (5, 3), (16, 17), (17, 16), (1, 17), (17, 1)]
        for (cin, cout) in channels {
            for (n, h, w) in pixels {
                for k in [1, 3] {
                    check(Shape(cin: cin, cout: cout, n: n, h: h, w: w, k: k), tiles: [64], rng: &rng)
                }
            }
        }
    }

    /// Other tile sizes on one shape: 1 pixel, SIMD-width neighbours, a tile larger than P.
    func testSgemmTileSizes() {
        var rng = KernelRNG(seed: 22)
        for k in [1, 3] {
            check(Shape(cin: 5, cout: 16, n: 2, h: 6, w: 5, k: k), tiles: [1, 7, 8, 9, 59, 60, 61, 1000],
                  rng: &rng)
        }
    }

    /// A larger, network-like chunk (16 → 16, 3×3, 4 samples of 12×12) with the tile sizes the
    /// engine may use; k = 5 once to cover a wider kernel.
    func testSgemmNetworkLikeChunk() {
        var rng = KernelRNG(seed: 23)
        check(Shape(cin: 16, cout: 16, n: 4, h: 12, w: 12, k: 3), tiles: [128, 256, 576], rng: &rng)
        check(Shape(cin: 3, cout: 4, n: 2, h: 7, w: 6, k: 5), tiles: [16, 84], rng: &rng)
    }

    /// NULL statistics pointers are allowed: y is unchanged.
    func testStatisticsAreOptional() {
        var rng = KernelRNG(seed: 24)
        let s = Shape(cin: 3, cout: 5, n: 2, h: 5, w: 4, k: 3)
        let x = rng.floats(s.cin * s.p), wt = rng.floats(s.cout * s.kk)
        let with = conv(s, x, wt, tile: 16)
        var y = [Float](repeating: .nan, count: s.cout * s.p)
        var scratch = [Float](repeating: 0, count: s.kk * 16)
        cs_conv2d_cnhw_f32__im2col_blas(x, wt, s.cin.int32, s.cout.int32, s.n.int32, s.h.int32, s.w.int32, s.k.int32, &y, nil, nil,
                                  &scratch, 16)
        assertBitwiseEqual(y, with.y, "sgemm without stats")
        var yr = [Float](repeating: .nan, count: s.cout * s.p)
        cs_conv2d_cnhw_f32__ref(x, wt, s.cin.int32, s.cout.int32, s.n.int32, s.h.int32, s.w.int32, s.k.int32, &yr, nil, nil)
        assertBitwiseEqual(yr, conv(s, x, wt, tile: nil).y, "ref without stats")
    }
}
