import CSupport
import XCTest

/// Optimised backward kernels against their plain-loop `__ref` twins on swept shapes (edges: n = 1,
/// 1×1 and odd-sided images, channel counts around the SIMD width). Each bound is derived in the
/// comment next to it from the kernels' rounding (u = 2⁻²⁴; γ_m = m·u/(1 − m·u) for a float sum
/// of m terms in any order, Higham §3.1), plus u·|exact| for the reference's own final rounding.
final class BackwardKernelTests: XCTestCase {
    private let u = Roundoff.f32

    private func gamma(_ m: Int) -> Double { Double(m) * u / (1 - Double(m) * u) }

    func testSoftmaxXentBackward() {
        var rng = KernelRNG(seed: 101)
        for n in [1, 2, 7, 32] {
            for k in [1, 2, 10, 17] {
                let logits = rng.floats(n * k, -5, 5)
                // A label ≥ K (sample skipped by the forward) gets a zero row in both twins.
                var labels = (0..<n).map { _ in UInt8(rng.int(k)) }
                if n > 1 { labels[n - 1] = UInt8(k) }
                let scale = Float(1.0 / Double(n))
                var ref = [Float](repeating: .nan, count: n * k), opt = ref
                cs_softmax_xent_backward_f32__ref(logits, labels, n.int32, k.int32, scale, &ref)
                cs_softmax_xent_backward_f32__simd_f32(logits, labels, n.int32, k.int32, scale, &opt)
                // optimised twin: l − m rounds (≤ u·|l − m| ≤ 10u here, amplified 1× by exp), expf ≤ 2u, the
                // float Σ of K terms ≤ γ_K, the division, the scaling and the label's subtraction
                // ≤ 3u: |Δ| ≤ (K + 16)·u·|scale| (p ≤ 1), plus the reference's rounding.
                let bound = Double(k + 17) * u * Double(scale)
                assertWithinBounds(opt, ref, bounds: Array(repeating: bound, count: n * k), "n=\(n) K=\(k)")
                if n > 1 { XCTAssertEqual(Array(opt[((n - 1) * k)...]), Array(repeating: 0, count: k)) }
                // Each row of a valid sample sums to 0 (softmax sums to 1, minus the one-hot).
                for s in 0..<(n > 1 ? n - 1 : n) {
                    XCTAssertEqual(ref[(s * k)..<((s + 1) * k)].reduce(0.0) { $0 + Double($1) }, 0,
                                   accuracy: Double(k + 2) * u * Double(scale))
                }
            }
        }
    }

    func testFCBackward() {
        var rng = KernelRNG(seed: 102)
        for n in [1, 3, 32] {
            for (i, o) in [(1, 1), (16, 10), (17, 3), (32, 10)] {
                let x = rng.floats(n * i), w = rng.floats(o * i), dy = rng.floats(n * o)
                var dwR = [Float](repeating: .nan, count: o * i), dbR = [Float](repeating: .nan, count: o)
                var dxR = [Float](repeating: .nan, count: n * i)
                var dwO = dwR, dbO = dbR, dxO = dxR
                cs_fc_backward_f32__ref(x, w, dy, n.int32, i.int32, o.int32, &dwR, &dbR, &dxR)
                cs_fc_backward_f32__simd_f32(x, w, dy, n.int32, i.int32, o.int32, &dwO, &dbO, &dxO)
                // Float sums of n (dw, db) or O (dx) products: γ_m·Σ|terms| + u·|exact| ≤ γ_{m+1}·Σ|terms|.
                var bw = [Double](), bb = [Double](), bx = [Double]()
                for oo in 0..<o {
                    bb.append(gamma(n + 1) * (0..<n).reduce(0.0) { $0 + Double(abs(dy[$1 * o + oo])) })
                    for ii in 0..<i {
                        bw.append(gamma(n + 1) * (0..<n).reduce(0.0) { $0 + Double(abs(dy[$1 * o + oo] * x[$1 * i + ii])) })
                    }
                }
                for s in 0..<n {
                    for ii in 0..<i {
                        bx.append(gamma(o + 1) * (0..<o).reduce(0.0) { $0 + Double(abs(dy[s * o + $1] * w[$1 * i + ii])) })
                    }
                }
                let what = "n=\(n) I=\(i) O=\(o)"
                assertWithinBounds(dwO, dwR, bounds: bw, "\(what) dw")
                assertWithinBounds(dbO, dbR, bounds: bb, "\(what) db")
                assertWithinBounds(dxO, dxR, bounds: bx, "\(what) dx")
            }
        }
    }

    func testPoolingBackward() {
        var rng = KernelRNG(seed: 103)
        for c in kernelChannelCounts {
            for (n, h, w) in kernelChunkShapes {
                // Global: ref divides in double (one rounding), opt multiplies by the rounded 1/HW:
                // ≤ 2u·|v| + u·|v| from the reference.
                let dyG = rng.floats(n * c)
                var gR = [Float](repeating: .nan, count: c * n * h * w), gO = gR
                cs_global_avgpool_backward_cnhw_f32__ref(dyG, c.int32, n.int32, h * w, &gR)
                cs_global_avgpool_backward_cnhw_f32__simd_f32(dyG, c.int32, n.int32, h * w, &gO)
                assertWithinBounds(gO, gR, bounds: gR.map { 3 * u * Double(abs($0)) }, "global C=\(c) n=\(n) \(h)×\(w)")
                // 2×2: ·0.25 is exact, so the twins agree bit for bit, odd edges included (0).
                let dyP = rng.floats(c * n * (h / 2) * (w / 2))
                var pR = [Float](repeating: .nan, count: c * n * h * w), pO = pR
                cs_avgpool2_backward_cnhw_f32__ref(dyP, c.int32, n.int32, h.int32, w.int32, &pR)
                cs_avgpool2_backward_cnhw_f32__simd_f32(dyP, c.int32, n.int32, h.int32, w.int32, &pO)
                assertBitwiseEqual(pO, pR, "avgpool2 C=\(c) n=\(n) \(h)×\(w)")
                XCTAssertFalse(pO.contains { $0.isNaN }, "every element written")
            }
        }
    }

    func testReluAndShortcutBackwardBitwise() {
        var rng = KernelRNG(seed: 104)
        for l in kernelRowLengths {
            var y = rng.floats(l)
            y = y.map { $0 < -0.5 ? 0 : $0 }  // ReLU outputs: zeros and positives
            let dy = rng.floats(l)
            var r = [Float](repeating: .nan, count: l), o = r
            cs_relu_backward_f32__ref(y, dy, l, &r)
            cs_relu_backward_f32__simd_f32(y, dy, l, &o)
            assertBitwiseEqual(o, r, "relu L=\(l)")
            for i in 0..<l { XCTAssertEqual(r[i], y[i] > 0 ? dy[i] : 0) }
        }
        for cy in kernelChannelCounts {
            for cskip in Set([0, 1, cy / 2, cy]).sorted() {
                for l in [1, 7, 64] {
                    let g = rng.floats(cy * l), start = rng.floats(cskip * l)
                    var r = start, o = start
                    cs_shortcut_backward_cnhw_f32__ref(g, cy.int32, cskip.int32, l, &r)
                    cs_shortcut_backward_cnhw_f32__simd_f32(g, cy.int32, cskip.int32, l, &o)
                    assertBitwiseEqual(o, r, "shortcut Cy=\(cy) Cskip=\(cskip) L=\(l)")
                    for j in 0..<(cskip * l) { XCTAssertEqual(r[j], start[j] + g[j]) }
                }
            }
        }
    }

    func testBatchNormBackward() {
        var rng = KernelRNG(seed: 105)
        let eps: Float = 1e-5
        for c in [1, 3, 16, 17] {
            for l in [1, 2, 9, 64, 100] {
                var z = rng.floats(c * l, -2, 3)
                let gamma = rng.floats(c, 0.5, 1.5), beta = rng.floats(c, -0.5, 0.5)
                let dy = rng.floats(c * l)
                var mean = [Double](repeating: 0, count: c), variance = mean
                for ch in 0..<c {
                    let row = z[(ch * l)..<((ch + 1) * l)].map(Double.init)
                    mean[ch] = row.reduce(0, +) / Double(l)
                    variance[ch] = max(0, row.map { $0 * $0 }.reduce(0, +) / Double(l) - mean[ch] * mean[ch])
                }
                // The twins' ReLU masks may differ only within rounding of a zero pre-activation:
                // move such z away from it (keeping the statistics' values as computed above is
                // fine: the kernels take mean/var as given).
                for ch in 0..<c {
                    let inv = 1 / (variance[ch] + Double(eps)).squareRoot()
                    for i in 0..<l {
                        let v = Double(gamma[ch]) * (Double(z[ch * l + i]) - mean[ch]) * inv + Double(beta[ch])
                        if abs(v) < 1e-3 { z[ch * l + i] += 0.01 }
                    }
                }
                for relu in [0, 1] {
                    var gR = [Float](repeating: .nan, count: c * l), gO = gR
                    var sgR = [Double](repeating: .nan, count: c), sxR = sgR, sgO = sgR, sxO = sgR
                    cs_bn_relu_backward_sums_f32__ref(z, dy, c.int32, l, gamma, beta, mean, variance, eps, relu.int32, &gR, &sgR, &sxR)
                    cs_bn_relu_backward_sums_f32__affine_fma(z, dy, c.int32, l, gamma, beta, mean, variance, eps, relu.int32, &gO, &sgO, &sxO)
                    let what = "C=\(c) L=\(l) relu=\(relu)"
                    assertBitwiseEqual(gO, gR, "\(what) masked g")
                    // Double sums of the same L terms in other orders (and Σg·(z − μ) scaled once
                    // by 1/σ): ≤ (L + 4)·2⁻⁵³·Σ|terms|.
                    var bg = [Double](), bx = [Double]()
                    for ch in 0..<c {
                        let inv = 1 / (variance[ch] + Double(eps)).squareRoot()
                        let row = (0..<l).map { ch * l + $0 }
                        bg.append(Double(l + 4) * Roundoff.f64 * row.reduce(0.0) { $0 + abs(Double(gR[$1])) })
                        bx.append(Double(l + 4) * Roundoff.f64 * row.reduce(0.0) {
                            $0 + abs(Double(gR[$1]) * (Double(z[$1]) - mean[ch]) * inv)
                        })
                    }
                    assertWithinBounds(sgO, sgR, bounds: bg, "\(what) Σg")
                    assertWithinBounds(sxO, sxR, bounds: bx, "\(what) Σg·x̂")
                    // Pass 2 with these sums as the batch totals of `count` = L values.
                    var dzR = [Float](repeating: .nan, count: c * l), dzO = dzR
                    cs_bn_backward_dx_f32__ref(z, gR, c.int32, l, gamma, mean, variance, eps, sgR, sxR, Double(l), &dzR)
                    cs_bn_backward_dx_f32__affine_fma(z, gR, c.int32, l, gamma, mean, variance, eps, sgR, sxR, Double(l), &dzO)
                    // backward_bn.c: |Δ| ≤ 5u·(|A·g| + |D|·(|z| + |μ|) + |E|), + u·|exact| ≤ u·(same sum).
                    var bz = [Double]()
                    for ch in 0..<c {
                        let inv = 1 / (variance[ch] + Double(eps)).squareRoot()
                        let a = Double(gamma[ch]) * inv
                        let d = a * inv * sxR[ch] / Double(l), e = a * sgR[ch] / Double(l)
                        for i in 0..<l {
                            let j = ch * l + i
                            bz.append(6 * u * (abs(a * Double(gR[j])) + abs(d) * (abs(Double(z[j])) + abs(mean[ch])) + abs(e)))
                        }
                    }
                    assertWithinBounds(dzO, dzR, bounds: bz, "\(what) dz")
                    // In place (dz == g) gives the same values.
                    var inPlace = gO
                    cs_bn_backward_dx_f32__affine_fma(z, inPlace, c.int32, l, gamma, mean, variance, eps, sgR, sxR, Double(l), &inPlace)
                    assertBitwiseEqual(inPlace, dzO, "\(what) dz in place")
                }
            }
        }
    }

    func testConvBackwardInput() {
        var rng = KernelRNG(seed: 106)
        for (cin, cout) in [(1, 1), (3, 16), (16, 16), (17, 5)] {
            for k in [1, 3] {
                for (n, h, w) in kernelChunkShapes {
                    let plane = n * h * w
                    let dy = rng.floats(cout * plane), wt = rng.floats(cout * cin * k * k)
                    var ref = [Float](repeating: .nan, count: cin * plane)
                    cs_conv2d_backward_input_cnhw_f32__ref(dy, wt, cin.int32, cout.int32, n.int32, h.int32, w.int32, k.int32, &ref)
                    let floats = cs_conv2d_backward_input_scratch_floats(cin.int32, cout.int32, n.int32, h.int32, w.int32, k.int32)
                    // Each dx is a float sum of ≤ Cout·k² products (either direct conv, FMA):
                    // γ_{Cout·k²}·Σ|w·dy| + u·|exact| ≤ γ_{Cout·k² + 1}·Σ|w·dy|.
                    let absRef = refAbsInput(dy, wt, cin, cout, n, h, w, k)
                    for (name, f) in [("direct_avx2", cs_conv2d_backward_input_cnhw_f32__direct_avx2),
                                      ("sample_lanes_avx2", cs_conv2d_backward_input_cnhw_f32__sample_lanes_avx2),
                                      ("sample_lanes_avx512", cs_conv2d_backward_input_cnhw_f32__sample_lanes_avx512)] {
                        var scratch = [Float](repeating: .nan, count: max(1, floats))
                        var opt = [Float](repeating: .nan, count: cin * plane)
                        f(dy, wt, cin.int32, cout.int32, n.int32, h.int32, w.int32, k.int32, &opt, &scratch)
                        assertWithinBounds(opt, ref, bounds: absRef.map { gamma(cout * k * k + 1) * $0 },
                                           "\(name) Cin=\(cin) Cout=\(cout) k=\(k) n=\(n) \(h)×\(w)")
                    }
                }
            }
        }
    }

    func testConvBackwardWeight() {
        var rng = KernelRNG(seed: 107)
        for (cin, cout) in [(1, 1), (3, 16), (16, 16), (17, 5)] {
            for k in [1, 3, 5] {
                for (n, h, w) in kernelChunkShapes {
                    let plane = n * h * w
                    let x = rng.floats(cin * plane), dy = rng.floats(cout * plane)
                    let (ref, absW) = weightGradientReference(x, dy, cin, cout, n, h, w, k)
                    for tile in [1, 7, 512] {
                        var opt = [Float](repeating: .nan, count: ref.count)
                        var scratch = [Float](repeating: .nan, count: cin * k * k * tile)
                        cs_conv2d_backward_weight_cnhw_f32__im2col_blas(x, dy, cin.int32, cout.int32, n.int32, h.int32, w.int32,
                                                                  k.int32, &opt, &scratch, tile)
                        // A float sum of P = n·H·W products: γ_{P+1}·Σ|dy·x| (incl. the reference's rounding
                        // and the ≤ u relative error of the rounded Σ|terms| itself).
                        assertWithinBounds(opt, ref, bounds: absW.map { gamma(plane + 2) * Double($0) },
                                           "Cin=\(cin) Cout=\(cout) k=\(k) n=\(n) \(h)×\(w) tile=\(tile)")
                    }
                    checkDirectWeightGradient(x, dy, ref, absW, cin, cout, n, h, w, k)
                }
            }
        }
    }

    /// The direct and sample-lanes weight gradients on the planes the networks run (rows of 1, 2 and
    /// 4 vectors), the widths around a vector (8, 9, 16, 17), sample counts that cut the direct
    /// kernel's sample tiles unevenly (16 KB tiles at k = 3: 1 sample at 28×28, 5 at 14×14, 20 at
    /// 7×7) and the lanes kernel's groups of 16 (full, partial, one and a half, two), plane sizes
    /// that are not a multiple of 8 pixels (its transposes' scalar tail), for k = 1, 3, 5 and odd
    /// channel counts (an unpaired output channel, a lone kernel row).
    func testConvBackwardWeightDirectOnNetworkPlanes() {
        var rng = KernelRNG(seed: 108)
        let planes: [(n: Int, h: Int, w: Int)] = [(2, 28, 28), (7, 14, 14), (23, 7, 7), (3, 9, 17), (2, 5, 16),
                                                  (1, 3, 8), (4, 2, 9), (11, 16, 16), (32, 7, 7), (16, 5, 6),
                                                  (17, 4, 4)]
        for (cin, cout) in [(16, 16), (1, 16), (3, 5)] {
            for k in [1, 3, 5] {
                for (n, h, w) in planes {
                    let x = rng.floats(cin * n * h * w), dy = rng.floats(cout * n * h * w)
                    let (ref, absW) = weightGradientReference(x, dy, cin, cout, n, h, w, k)
                    checkDirectWeightGradient(x, dy, ref, absW, cin, cout, n, h, w, k)
                }
            }
        }
    }

    /// The reference weight gradient and |dy|ᵀ·|x| per tap (the Σ|terms| of each entry).
    private func weightGradientReference(_ x: [Float], _ dy: [Float], _ cin: Int, _ cout: Int, _ n: Int, _ h: Int,
                                         _ w: Int, _ k: Int) -> (ref: [Float], absW: [Float]) {
        var ref = [Float](repeating: .nan, count: cout * cin * k * k)
        cs_conv2d_backward_weight_cnhw_f32__ref(x, dy, cin.int32, cout.int32, n.int32, h.int32, w.int32, k.int32, &ref)
        var absW = [Float](repeating: 0, count: ref.count)
        cs_conv2d_backward_weight_cnhw_f32__ref(x.map { abs($0) }, dy.map { abs($0) }, cin.int32, cout.int32, n.int32,
                                                h.int32, w.int32, k.int32, &absW)
        return (ref, absW)
    }

    /// The direct and sample-lanes weight gradients against the reference, and bit-identical when
    /// called again on their (now dirty) scratch.
    private func checkDirectWeightGradient(_ x: [Float], _ dy: [Float], _ ref: [Float], _ absW: [Float], _ cin: Int,
                                           _ cout: Int, _ n: Int, _ h: Int, _ w: Int, _ k: Int) {
        let kernels = [("direct", cs_conv2d_backward_weight_direct_scratch_floats,
                        cs_conv2d_backward_weight_cnhw_f32__direct),
                       ("sample_lanes_avx512", cs_conv2d_backward_weight_sample_lanes_scratch_floats,
                        cs_conv2d_backward_weight_cnhw_f32__sample_lanes_avx512)]
        for (name, scratchFloats, kernel) in kernels {
            let what = "\(name) Cin=\(cin) Cout=\(cout) k=\(k) n=\(n) \(h)×\(w)"
            let floats = scratchFloats(cin.int32, cout.int32, n.int32, h.int32, w.int32, k.int32)
            var scratch = [Float](repeating: .nan, count: max(1, floats))
            var out = [Float](repeating: .nan, count: ref.count), again = out
            kernel(x, dy, cin.int32, cout.int32, n.int32, h.int32, w.int32, k.int32, &out, &scratch)
            // A float sum of P = n·H·W products in whatever order (lanes, sample tiles or groups;
            // the pad lanes add exact zeros): γ_P·Σ|dy·x|, plus the reference's rounding and the
            // ≤ u relative error of the rounded Σ|terms|: γ_{P+2}·Σ|dy·x|.
            assertWithinBounds(out, ref, bounds: absW.map { gamma(n * h * w + 2) * Double($0) }, what)
            kernel(x, dy, cin.int32, cout.int32, n.int32, h.int32, w.int32, k.int32, &again, &scratch)
            assertBitwiseEqual(again, out, what + " (second call)")
        }
    }

    /// Σ|w·dy| of every input-gradient entry (the transposed conv of |dy| with |w|, in double).
    private func refAbsInput(_ dy: [Float], _ w: [Float], _ cin: Int, _ cout: Int, _ n: Int, _ h: Int, _ wd: Int,
                             _ k: Int) -> [Double] {
        var out = [Float](repeating: 0, count: cin * n * h * wd)
        cs_conv2d_backward_input_cnhw_f32__ref(dy.map { abs($0) }, w.map { abs($0) }, cin.int32, cout.int32, n.int32,
                                               h.int32, wd.int32, k.int32, &out)
        return out.map { Double($0) * (1 + u) }
    }
}
