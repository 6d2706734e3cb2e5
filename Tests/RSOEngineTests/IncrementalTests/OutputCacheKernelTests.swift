import CSupport
import XCTest

/// The output-cache kernels (CSupport/output_cache.c) against their __ref twins and against what
/// they stand for, on swept shapes (edges included: 1×1 planes, one sample, taps at every border).
final class OutputCacheKernelTests: XCTestCase {
    /// In-place patch of strided per-sample planes. Each element is one rounding of
    /// z + Δ·shift(x): the fma of __tap_range is within 2⁻²⁴·|y| of it and __ref (double then
    /// float) within 2⁻²⁴·|y| + 2⁻⁵³·|y|, so the twins differ by at most 2·2⁻²⁴·|y| + tiny. Each
    /// plane must also equal, bit for bit, the trial's plane kernel (cs_shift_axpy_cnhw_f32) of the
    /// same set on that sample alone — the patch must write what the accepted trial evaluated —
    /// and every other channel of the rows must stay untouched.
    func testShiftAxpyRowsMatchesRefAndThePlaneKernel() {
        var rng = KernelRNG(seed: 91)
        for (n, h, w) in kernelChunkShapes {
            for k in [1, 3, 5] {
                for (channels, o, xChannels, i) in [(1, 0, 1, 0), (3, 2, 2, 1), (5, 0, 4, 3)] {
                    let ky = rng.int(k), kx = rng.int(k), delta = rng.float(-0.5, 0.5)
                    let plane = h * w, yStride = channels * plane, xStride = xChannels * plane
                    let y0 = rng.floats(n * yStride), x = rng.floats(n * xStride)
                    var ref = y0, opt = y0
                    ref.withUnsafeMutableBufferPointer { r in
                        x.withUnsafeBufferPointer { xp in
                            cs_shift_axpy_rows_f32__ref(r.baseAddress! + o * plane, yStride, xp.baseAddress! + i * plane,
                                                        xStride, n.int32, h.int32, w.int32, k.int32, ky.int32, kx.int32, delta)
                        }
                    }
                    opt.withUnsafeMutableBufferPointer { r in
                        x.withUnsafeBufferPointer { xp in
                            cs_shift_axpy_rows_f32__tap_range(r.baseAddress! + o * plane, yStride, xp.baseAddress! + i * plane,
                                                              xStride, n.int32, h.int32, w.int32, k.int32, ky.int32,
                                                              kx.int32, delta)
                        }
                    }
                    let what = "n=\(n) H=\(h) W=\(w) k=\(k) C=\(channels) o=\(o) tap=(\(ky),\(kx))"
                    assertWithinBounds(opt, ref, bounds: ref.map { 2 * Roundoff.f32 * Double(abs($0)) + 1e-38 }, what)
                    for s in 0..<n {
                        let z = Array(y0[(s * yStride + o * plane)..<(s * yStride + (o + 1) * plane)])
                        let xs = Array(x[(s * xStride + i * plane)..<(s * xStride + (i + 1) * plane)])
                        var planeOpt = [Float](repeating: 0, count: plane), planeRef = planeOpt
                        cs_shift_axpy_cnhw_f32__tap_range(z, xs, 1, h.int32, w.int32, k.int32, ky.int32, kx.int32, delta, &planeOpt)
                        cs_shift_axpy_cnhw_f32__ref(z, xs, 1, h.int32, w.int32, k.int32, ky.int32, kx.int32, delta, &planeRef)
                        let lo = s * yStride + o * plane
                        assertBitwiseEqual(Array(opt[lo..<(lo + plane)]), planeOpt, "opt sample \(s) \(what)")
                        assertBitwiseEqual(Array(ref[lo..<(lo + plane)]), planeRef, "ref sample \(s) \(what)")
                        for c in 0..<channels where c != o {
                            let r = (s * yStride + c * plane)..<(s * yStride + (c + 1) * plane)
                            assertBitwiseEqual(Array(opt[r]), Array(y0[r]), "untouched channel \(c) \(what)")
                            assertBitwiseEqual(Array(ref[r]), Array(y0[r]), "untouched channel \(c) \(what)")
                        }
                    }
                }
            }
        }
    }

    /// Per-channel double sums of floats in another order: each total is within L·2⁻⁵³·Σ|terms|
    /// of the exact sum (×2 for the two orders compared), and sums are ADDED to what is there.
    func testChannelSumsMatchRef() {
        var rng = KernelRNG(seed: 92)
        for c in kernelChannelCounts {
            for l in kernelRowLengths {
                let z = rng.floats(c * l, -3, 3)
                let start = rng.floats(c).map(Double.init)
                var s1r = start, s2r = start, s1o = start, s2o = start
                cs_channel_sums_f32__ref(z, c.int32, l, &s1r, &s2r)
                cs_channel_sums_f32__simd(z, c.int32, l, &s1o, &s2o)
                var b1 = [Double](), b2 = [Double]()
                for ch in 0..<c {
                    let row = z[(ch * l)..<((ch + 1) * l)].map(Double.init)
                    b1.append(2 * Double(l + 1) * Roundoff.f64 * (row.reduce(abs(start[ch])) { $0 + abs($1) }) + 1e-300)
                    b2.append(2 * Double(l + 1) * Roundoff.f64 * (row.reduce(abs(start[ch])) { $0 + $1 * $1 }) + 1e-300)
                }
                assertWithinBounds(s1o, s1r, bounds: b1, "sum C=\(c) L=\(l)")
                assertWithinBounds(s2o, s2r, bounds: b2, "sumsq C=\(c) L=\(l)")
                // Against the definition (sum of doubles of the floats, exact enough in this order).
                let exact1 = (0..<c).map { ch in start[ch] + z[(ch * l)..<((ch + 1) * l)].reduce(0.0) { $0 + Double($1) } }
                assertWithinBounds(s1r, exact1, bounds: b1, "ref sum vs definition C=\(c) L=\(l)")
            }
        }
    }
}
