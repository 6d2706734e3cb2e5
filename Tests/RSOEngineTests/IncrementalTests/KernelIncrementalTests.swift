import CSupport
import XCTest

@testable import RSOEngine

/// The incremental-trial kernels (CSupport/incremental.c) against their __ref twins and against
/// what they stand for (a full conv with one weight changed), on swept shapes.
final class KernelIncrementalTests: XCTestCase {
    private let kernels = [1, 3, 5]

    /// shift(x, ky, kx) by definition, in double.
    private func shifted(_ x: [Float], n: Int, h: Int, w: Int, k: Int, ky: Int, kx: Int) -> [Double] {
        var s = [Double](repeating: 0, count: n * h * w)
        let p = k / 2
        for i in 0..<n { for y in 0..<h { for c in 0..<w {
            let iy = y + ky - p, ix = c + kx - p
            if iy >= 0, iy < h, ix >= 0, ix < w { s[(i * h + y) * w + c] = Double(x[(i * h + iy) * w + ix]) }
        } } }
        return s
    }

    /// Double sums in another order: |error| ≤ L·2⁻⁵³·Σ|terms| per sum (×4 for slack).
    func testShiftStatsOptMatchesRefAndDefinition() {
        var rng = KernelRNG(seed: 71)
        for (n, h, w) in kernelChunkShapes {
            for k in kernels {
                for _ in 0..<3 {
                    let ky = rng.int(k), kx = rng.int(k)
                    let x = rng.floats(n * h * w), z = rng.floats(n * h * w)
                    var ref = [0.0, 0.0, 0.0], opt = [0.0, 0.0, 0.0]
                    cs_shift_stats_cnhw_f32__ref(x, z, n.int32, h.int32, w.int32, k.int32, ky.int32, kx.int32, &ref)
                    cs_shift_stats_cnhw_f32__tap_range(x, z, n.int32, h.int32, w.int32, k.int32, ky.int32, kx.int32, &opt)
                    let s = shifted(x, n: n, h: h, w: w, k: k, ky: ky, kx: kx)
                    let exact = [s.reduce(0, +), zip(s, z).reduce(0) { $0 + $1.0 * Double($1.1) }, s.reduce(0) { $0 + $1 * $1 }]
                    let l = Double(n * h * w)
                    let bound = [s.reduce(0) { $0 + abs($1) }, zip(s, z).reduce(0) { $0 + abs($1.0 * Double($1.1)) },
                                 exact[2]].map { 4 * l * Roundoff.f64 * $0 + 1e-300 }
                    let what = "n=\(n) H=\(h) W=\(w) k=\(k) tap=(\(ky),\(kx))"
                    assertWithinBounds(ref, exact, bounds: bound, "ref \(what)")
                    assertWithinBounds(opt, exact, bounds: bound, "opt \(what)")
                }
            }
        }
    }

    /// One rounding each (fma vs double then float): the twins agree within 1 ulp of |y|.
    func testShiftAxpyOptMatchesRef() {
        var rng = KernelRNG(seed: 72)
        for (n, h, w) in kernelChunkShapes {
            for k in kernels {
                let ky = rng.int(k), kx = rng.int(k)
                let x = rng.floats(n * h * w), z = rng.floats(n * h * w)
                let delta = rng.float(-0.5, 0.5)
                var ref = [Float](repeating: 0, count: n * h * w), opt = ref
                cs_shift_axpy_cnhw_f32__ref(z, x, n.int32, h.int32, w.int32, k.int32, ky.int32, kx.int32, delta, &ref)
                cs_shift_axpy_cnhw_f32__tap_range(z, x, n.int32, h.int32, w.int32, k.int32, ky.int32, kx.int32, delta, &opt)
                let s = shifted(x, n: n, h: h, w: w, k: k, ky: ky, kx: kx)
                let exact = zip(z, s).map { Float(Double($0) + Double(delta) * $1) }
                let bounds = exact.map { 2 * Roundoff.f32 * Double(abs($0)) + 1e-38 }
                assertBitwiseEqual(ref, exact, "ref n=\(n) H=\(h) W=\(w) k=\(k)")
                assertWithinBounds(opt, exact, bounds: bounds, "opt n=\(n) H=\(h) W=\(w) k=\(k)")
            }
        }
    }

    /// conv1ch_add: __tap_range vs __ref within (k² + 2)·2⁻²⁴·(|z| + Σ|w·d|) per element; statistics
    /// within the double rounding of their float inputs; and z + conv1ch(d) equals the full conv of
    /// x + d (channel ci) within the same kind of bound — what the kernel stands for.
    func testConv1chAddOptMatchesRefAndFullConv() {
        var rng = KernelRNG(seed: 73)
        for (n, h, w) in kernelChunkShapes {
            for k in kernels {
                for (cin, cout) in [(1, 1), (3, 5), (16, 16), (5, 17)] {
                    let ci = rng.int(cin)
                    let p = n * h * w
                    let x = rng.floats(cin * p), wt = rng.floats(cout * cin * k * k, -0.5, 0.5), d = rng.floats(p)
                    var z = [Float](repeating: 0, count: cout * p)
                    cs_conv2d_cnhw_f32__ref(x, wt, cin.int32, cout.int32, n.int32, h.int32, w.int32, k.int32, &z, nil, nil)
                    var ref = z, opt = z
                    var s1r = [Double](repeating: 0, count: cout), s2r = s1r, s1o = s1r, s2o = s1r
                    cs_conv1ch_add_cnhw_f32__ref(d, wt, cin.int32, ci.int32, cout.int32, n.int32, h.int32, w.int32, k.int32, z, &ref, &s1r, &s2r)
                    cs_conv1ch_add_cnhw_f32__tap_range(d, wt, cin.int32, ci.int32, cout.int32, n.int32, h.int32, w.int32, k.int32, z, &opt, &s1o, &s2o)
                    // Magnitudes for the bound: |z| + Σ_taps |w·d| ≤ |z| + (Σ|w_o,ci|)·max|d|.
                    let maxD = Double(d.map { abs($0) }.max() ?? 0)
                    var bounds = [Double](repeating: 0, count: cout * p)
                    for o in 0..<cout {
                        let wsum = (0..<(k * k)).reduce(0.0) { $0 + Double(abs(wt[(o * cin + ci) * k * k + $1])) }
                        for j in 0..<p { bounds[o * p + j] = Double(k * k + 2) * Roundoff.f32 * (Double(abs(z[o * p + j])) + wsum * maxD) }
                    }
                    let what = "n=\(n) H=\(h) W=\(w) k=\(k) Cin=\(cin) ci=\(ci) Cout=\(cout)"
                    assertWithinBounds(opt, ref, bounds: bounds, "opt \(what)")
                    // Statistics of each twin match its own output.
                    var e1 = [Double](repeating: 0, count: cout), e2 = e1
                    for o in 0..<cout { for j in 0..<p { let v = Double(opt[o * p + j]); e1[o] += v; e2[o] += v * v } }
                    assertWithinBounds(s1o, e1, bounds: e2.map { 4 * Double(p) * Roundoff.f64 * ($0.squareRoot() * Double(p).squareRoot() + 1) }, "opt sums \(what)")
                    assertWithinBounds(s2o, e2, bounds: e2.map { 4 * Double(p) * Roundoff.f64 * $0 + 1e-300 }, "opt sums of squares \(what)")
                    // What it stands for: conv(x with channel ci + d).
                    var x2 = x
                    for j in 0..<p { x2[ci * p + j] += d[j] }
                    var full = [Float](repeating: 0, count: cout * p)
                    cs_conv2d_cnhw_f32__ref(x2, wt, cin.int32, cout.int32, n.int32, h.int32, w.int32, k.int32, &full, nil, nil)
                    let wAll = (0..<cout).map { o in (0..<(cin * k * k)).reduce(0.0) { $0 + Double(abs(wt[o * cin * k * k + $1])) } }
                    let maxX2 = Double(x2.map { abs($0) }.max() ?? 0)
                    let fb = (0..<(cout * p)).map { 4 * Roundoff.f32 * (Double(abs(full[$0])) + wAll[$0 / p] * (maxX2 + maxD)) + Double(k * k + 2) * Roundoff.f32 * wAll[$0 / p] * (maxX2 + maxD) }
                    assertWithinBounds(ref, full, bounds: fb, "ref vs full conv \(what)")
                }
            }
        }
    }

    /// conv1ch_add's AVX-512 rows (conv1ch_rows16.c) against __tap_range: y, sums and sums of
    /// squares bit for bit (the same FMA chain per output, the statistics in conv1ch_lanes.h's
    /// order), on every width 1…33 (one vector, a partial one, two, the 8-column halves) and the
    /// networks' planes, k = 1, 3, 5, odd channel counts. Without AVX-512F it is __tap_range itself.
    func testConv1chAddRows16IsBitIdenticalToTapRange() {
        var rng = KernelRNG(seed: 75)
        var shapes = (1...33).map { w in (n: 1 + w % 3, h: 1 + w % 5, w: w) }
        shapes += [(3, 28, 28), (5, 14, 14), (9, 7, 7), (2, 32, 32), (4, 8, 8)]
        for (i, (n, h, w)) in shapes.enumerated() {
            let k = [3, 1, 5][i % 3]
            let (cin, cout) = [(16, 16), (3, 5), (1, 17)][i % 3]
            let ci = rng.int(cin), p = n * h * w
            let wt = rng.floats(cout * cin * k * k, -0.5, 0.5), d = rng.floats(p), z = rng.floats(cout * p)
            var rows = [Float](repeating: .nan, count: cout * p), taps = rows
            var s1r = [Double](repeating: 0.25, count: cout), s2r = s1r, s1t = s1r, s2t = s1r
            cs_conv1ch_add_cnhw_f32__rows_avx512(d, wt, cin.int32, ci.int32, cout.int32, n.int32, h.int32, w.int32,
                                                 k.int32, z, &rows, &s1r, &s2r)
            cs_conv1ch_add_cnhw_f32__tap_range(d, wt, cin.int32, ci.int32, cout.int32, n.int32, h.int32, w.int32,
                                               k.int32, z, &taps, &s1t, &s2t)
            let what = "n=\(n) H=\(h) W=\(w) k=\(k) Cin=\(cin) ci=\(ci) Cout=\(cout)"
            assertBitwiseEqual(rows, taps, "y \(what)")
            XCTAssertEqual(s1r.map(\.bitPattern), s1t.map(\.bitPattern), "sums \(what)")
            XCTAssertEqual(s2r.map(\.bitPattern), s2t.map(\.bitPattern), "sums of squares \(what)")
        }
    }

    /// Closed-form BN statistics of channel o after w[o][i][ky][kx] += ±Δ vs recomputing the conv
    /// with the changed weight and its statistics directly (all in the engine's kernels).
    func testClosedFormStatisticsMatchDirectRecomputation() {
        var rng = KernelRNG(seed: 74)
        for (n, h, w) in [(4, 7, 7), (3, 5, 6), (32, 28, 28)] {
            for k in [1, 3] {
                let cin = 3, cout = 4, p = n * h * w
                let x = rng.floats(cin * p), wt = rng.floats(cout * cin * k * k, -0.5, 0.5)
                var z = [Float](repeating: 0, count: cout * p)
                var s1 = [Double](repeating: 0, count: cout), s2 = s1
                cs_conv2d_cnhw_f32__ref(x, wt, cin.int32, cout.int32, n.int32, h.int32, w.int32, k.int32, &z, &s1, &s2)
                let o = rng.int(cout), i = rng.int(cin), ky = rng.int(k), kx = rng.int(k)
                var sums = [0.0, 0.0, 0.0]
                z.withUnsafeBufferPointer { zp in
                    x.withUnsafeBufferPointer { xp in
                        cs_shift_stats_cnhw_f32__tap_range(xp.baseAddress! + i * p, zp.baseAddress! + o * p, n.int32, h.int32, w.int32,
                                                     k.int32, ky.int32, kx.int32, &sums)
                    }
                }
                for delta in [Float(0.3), -0.3, 1e-3] {
                    let count = Double(p)
                    var a1 = s1[o] + Double(delta) * sums[0]
                    var a2 = s2[o] + 2 * Double(delta) * sums[1] + Double(delta) * Double(delta) * sums[2]
                    var mean = 0.0, variance = 0.0
                    cs_bn_finalize_stats(&a1, &a2, 1, count, &mean, &variance)
                    var w2 = wt
                    w2[((o * cin + i) * k + ky) * k + kx] += delta
                    var z2 = [Float](repeating: 0, count: cout * p)
                    var t1 = [Double](repeating: 0, count: cout), t2 = t1
                    cs_conv2d_cnhw_f32__ref(x, w2, cin.int32, cout.int32, n.int32, h.int32, w.int32, k.int32, &z2, &t1, &t2)
                    var dm = 0.0, dv = 0.0
                    cs_bn_finalize_stats(&t1[o], &t2[o], 1, count, &dm, &dv)
                    // The direct path rounds each z' to float (relative 2⁻²⁴); the closed form is exact
                    // up to double sums. Bound: 4·2⁻²⁴ of the scale E|z'| (mean) and E[z'²] (variance).
                    let scale = (0..<p).reduce(0.0) { $0 + Double(abs(z2[o * p + $1])) } / count
                    XCTAssertEqual(mean, dm, accuracy: 4 * Roundoff.f32 * scale, "mean n=\(n) H=\(h) k=\(k) Δ=\(delta)")
                    XCTAssertEqual(variance, dv, accuracy: 4 * Roundoff.f32 * (t2[o] / count) + 1e-12, "var n=\(n) H=\(h) k=\(k) Δ=\(delta)")
                }
            }
        }
    }
}
