import CSupport
import XCTest

final class BatchNormKernelTests: XCTestCase {
    /// Random BN parameters: γ of both signs, β, a positive variance, a mean near the data's.
    struct Params {
        var gamma: [Float], beta: [Float], mean: [Double], variance: [Double]
        init(_ c: Int, _ rng: inout KernelRNG) {
            gamma = rng.floats(c, -2, 2)
            beta = rng.floats(c, -1, 1)
            mean = (0..<c).map { _ in Double(rng.float(-0.5, 0.5)) }
            variance = (0..<c).map { _ in Double(rng.float(0.01, 2)) }
        }
    }

    /// Per-element bound between __affine_fma (float scale a = γ/√(var + eps) and shift b = β − mean·a,
    /// then one fma) and __ref (double, one rounding). Rounding a, b and the fma each add ≤ u
    /// relative to |a|·(|z| + |mean|), |β| + |mean·a| and |y|; __ref's final rounding adds u·|y|.
    /// Sum ≤ 3u·(|a|·(|z| + |mean|) + |β| + |y|); we allow 4u. ReLU is 1-Lipschitz: same bound.
    private func bnBound(z: Float, y: Float, gamma: Float, beta: Float, mean: Double, variance: Double,
                         eps: Float) -> Double {
        let a = abs(Double(gamma)) / (variance + Double(eps)).squareRoot()
        return 4 * Roundoff.f32 * (a * (abs(Double(z)) + abs(mean)) + abs(Double(beta)) + abs(Double(y)))
    }

    // MARK: - Statistics

    /// mean = sum/count, var = sumsq/count − mean² (biased), clamped at 0. Means are single
    /// divisions (correctly rounded in both languages: exact equality). Variances allow 4·Roundoff.f64 ×
    /// (sumsq/count): release builds may contract `q − m·m` into one fma, which rounds differently
    /// from Swift's two operations by ≤ 2 roundings of terms of that size.
    func testFinalizeStats() {
        let sum: [Double] = [6, 3, -4, 0]
        let sumsq: [Double] = [14, 2.5, 16, 0]
        var mean = [Double](repeating: .nan, count: 4), variance = mean
        cs_bn_finalize_stats(sum, sumsq, 4, 3, &mean, &variance)
        XCTAssertEqual(mean, [2, 1, -4.0 / 3, 0])
        XCTAssertEqual(variance[0], 2.0 / 3, accuracy: 4 * Roundoff.f64 * 14 / 3)
        XCTAssertEqual(variance[1], 0)  // 2.5/3 − 1 < 0: clamped
        XCTAssertEqual(variance[2], 32.0 / 9, accuracy: 4 * Roundoff.f64 * 16 / 3)
        XCTAssertEqual(variance[3], 0)
    }

    // MARK: - Inference form

    func testInferOptMatchesRef() {
        var rng = KernelRNG(seed: 32)
        for c in kernelChannelCounts {
            for l in kernelRowLengths {
                let p = Params(c, &rng)
                let z = rng.floats(c * l, -3, 3)
                for relu in [0, 1] {
                    for eps: Float in [1e-5, 0.5] {
                        var ref = [Float](repeating: .nan, count: c * l)
                        cs_bn_relu_infer_f32__ref(z, c.int32, l, p.gamma, p.beta, p.mean, p.variance, eps,
                                                  relu.int32, &ref)
                        // __affine_fma in place (y == z), which the contract allows.
                        var opt = z
                        opt.withUnsafeMutableBufferPointer { buf in
                            cs_bn_relu_infer_f32__affine_fma(buf.baseAddress, c.int32, l, p.gamma, p.beta, p.mean,
                                                      p.variance, eps, relu.int32, buf.baseAddress)
                        }
                        let bounds = (0..<(c * l)).map { j in
                            bnBound(z: z[j], y: ref[j], gamma: p.gamma[j / l], beta: p.beta[j / l],
                                    mean: p.mean[j / l], variance: p.variance[j / l], eps: eps)
                        }
                        assertWithinBounds(opt, ref, bounds: bounds, "C=\(c) L=\(l) relu=\(relu) eps=\(eps)")
                        if relu == 1 { XCTAssert(opt.allSatisfy { $0 >= 0 } && ref.allSatisfy { $0 >= 0 }) }
                    }
                }
            }
        }
    }

    /// Hand case: z = 3, mean 1, var 3, eps 1 → (3 − 1)/2 = 1; γ = 2, β = −5 → −3; ReLU → 0.
    func testInferHandComputed() {
        let z: [Float] = [3, 1, -1]
        for relu in [0, 1] {
            var a = [Float](repeating: .nan, count: 3), b = a
            cs_bn_relu_infer_f32__ref(z, 1, 3, [2], [-5], [1], [3], 1, relu.int32, &a)
            cs_bn_relu_infer_f32__affine_fma(z, 1, 3, [2], [-5], [1], [3], 1, relu.int32, &b)
            // Exact: every intermediate (1/2, 2·2·½, …) is a small binary fraction.
            let expected: [Float] = relu == 1 ? [0, 0, 0] : [-3, -5, -7]
            XCTAssertEqual(a, expected)
            XCTAssertEqual(b, expected)
        }
    }

    /// Batch statistics (finalize of double sums) then the optimised inference form, without ReLU:
    /// each channel's output has mean β and variance γ²·var/(var + eps). Checks the normalisation
    /// formula itself. Tolerances: mean of L values each within ~4u·(|γ|·3/σ + |β|) of exact →
    /// 1e-5 absolute is > 10× that for |γ| ≤ 2, σ ≥ 0.5; the variance likewise within a relative 1e-5.
    func testBatchStatisticsNormaliseToBetaAndGamma() {
        var rng = KernelRNG(seed: 34)
        let c = 5, l = 1000
        let gamma = rng.floats(c, 0.5, 2), beta = rng.floats(c, -1, 1)
        let z = rng.floats(c * l, -2, 4)
        var s1 = [Double](repeating: 0, count: c), s2 = s1
        for ch in 0..<c {
            for i in 0..<l { let v = Double(z[ch * l + i]); s1[ch] += v; s2[ch] += v * v }
        }
        var m = [Double](repeating: .nan, count: c), v = m
        cs_bn_finalize_stats(s1, s2, c.int32, Double(l), &m, &v)
        var y = [Float](repeating: .nan, count: c * l)
        cs_bn_relu_infer_f32__affine_fma(z, c.int32, l, gamma, beta, m, v, 1e-5, 0, &y)
        for ch in 0..<c {
            let row = y[(ch * l)..<((ch + 1) * l)].map(Double.init)
            let mu = row.reduce(0, +) / Double(l)
            let va = row.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(l)
            let g = Double(gamma[ch])
            XCTAssertEqual(mu, Double(beta[ch]), accuracy: 1e-5)
            XCTAssertEqual(va, g * g * v[ch] / (v[ch] + 1e-5), accuracy: 1e-5 * g * g)
        }
    }

    // MARK: - Fused normalise + ReLU + 2×2 average pool

    /// Bound per pooled output: with B = max over its 4 inputs of |a|·(|z| + |mean|) + |β| (which
    /// also bounds each normalised value |v|), each v is within 4u·2B (inference bound), the two
    /// levels of float adds add ≤ 2u·B (after the exact ¼), __ref's rounding u·B: ≤ 11u·B; we
    /// allow 12u·B.
    func testFusedAvgpoolOptMatchesRefAndComposition() {
        var rng = KernelRNG(seed: 35)
        for c in kernelChannelCounts {
            for (n, h, w) in kernelChunkShapes + [(2, 8, 9), (1, 9, 8), (3, 28, 28)] {
                let p = Params(c, &rng)
                let z = rng.floats(c * n * h * w, -3, 3)
                let ho = h / 2, wo = w / 2
                let eps: Float = 1e-5
                for relu in [0, 1] {
                    var yr = [Float](repeating: .nan, count: c * n * ho * wo), yo = yr
                    cs_bn_relu_avgpool2_cnhw_f32__ref(z, c.int32, n.int32, h.int32, w.int32, p.gamma, p.beta, p.mean,
                                                      p.variance, eps, relu.int32, &yr)
                    cs_bn_relu_avgpool2_cnhw_f32__affine_fma(z, c.int32, n.int32, h.int32, w.int32, p.gamma, p.beta, p.mean,
                                                      p.variance, eps, relu.int32, &yo)
                    var bounds = [Double](repeating: 0, count: yr.count)
                    for ch in 0..<c {
                        let a = abs(Double(p.gamma[ch])) / (p.variance[ch] + Double(eps)).squareRoot()
                        for s in 0..<n {
                            for oy in 0..<ho {
                                for ox in 0..<wo {
                                    var bMax = 0.0
                                    for dy in 0..<2 {
                                        for dx in 0..<2 {
                                            let zv = z[((ch * n + s) * h + 2 * oy + dy) * w + 2 * ox + dx]
                                            bMax = max(bMax, a * (abs(Double(zv)) + abs(p.mean[ch]))
                                                + abs(Double(p.beta[ch])))
                                        }
                                    }
                                    bounds[((ch * n + s) * ho + oy) * wo + ox] = 12 * Roundoff.f32 * bMax
                                }
                            }
                        }
                    }
                    let what = "C=\(c) n=\(n) \(h)×\(w) relu=\(relu)"
                    assertWithinBounds(yo, yr, bounds: bounds, "\(what): opt vs ref")
                    // The fusion equals infer then pool (both __ref: two roundings, within the bound).
                    var t = [Float](repeating: .nan, count: z.count)
                    cs_bn_relu_infer_f32__ref(z, c.int32, n * h * w, p.gamma, p.beta, p.mean, p.variance, eps,
                                              relu.int32, &t)
                    var composed = [Float](repeating: .nan, count: yr.count)
                    cs_avgpool2_cnhw_f32__ref(t, c.int32, n.int32, h.int32, w.int32, &composed)
                    assertWithinBounds(composed, yr, bounds: bounds, "\(what): ref vs infer+pool")
                }
            }
        }
    }
}
