import CSupport
@testable import RSOEngine
import XCTest

/// Back-propagation against central finite differences of the double-precision forward
/// (DoubleForward): per kernel, and for each whole network on a small batch.
///
/// Per kernel, the objective is L = Σ r·y (r random, so the upstream gradient is r) and the
/// kernel is the `__ref` twin (its twin is held to it by BackwardKernelTests). Error budget:
///   * the kernel computes in double from the same float inputs and rounds once: ≤ u·|g|, u = 2⁻²⁴;
///   * the central difference with step h = 1e-6 in double: the rounding of the two values of L
///     (m terms each, |L| ≤ Σ|terms| = S) gives ≤ 2·(m + 2)·2⁻⁵³·S / (2h); truncation h²·|L'''|/6 ≤
///     1e-12·|L'''| is covered by an absolute 1e-9 (the third derivatives here are O(1–100)).
///   Bound: |g − fd| ≤ 2u·|fd| + (m + 2)·2⁻⁵³·S/h + 1e-9.
/// ReLU kinks: inputs are kept ≥ 1e-3 away from zero pre-activations, far beyond h.
final class GradientCheckTests: XCTestCase {
    private let h = 1e-6
    private let u = Roundoff.f32

    /// Checks the analytic gradient `g` of f at `x` (every entry) against central differences.
    private func check(_ g: [Float], _ f: ([Double]) -> Double, at x: [Double], terms m: Int, absSum s: Double,
                       _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(g.count, x.count, what, file: file, line: line)
        let fdNoise = Double(m + 2) * Roundoff.f64 * s / h + 1e-9
        for i in x.indices {
            let fd = DoubleForward.centralDifference(f, at: x, index: i, step: h)
            let bound = 2 * u * abs(fd) + fdNoise
            if !(abs(Double(g[i]) - fd) <= bound) {
                XCTFail("\(what)[\(i)]: analytic \(g[i]), finite difference \(fd), bound \(bound)", file: file, line: line)
                return
            }
        }
    }


    func testSoftmaxCrossEntropy() {
        var rng = KernelRNG(seed: 201)
        let n = 3, k = 10
        let logits = rng.floats(n * k, -4, 4)
        let labels = (0..<n).map { _ in UInt8(rng.int(k)) }
        var g = [Float](repeating: 0, count: n * k)
        cs_softmax_xent_backward_f32__ref(logits, labels, n.int32, k.int32, 1 / Float(n), &g)
        let f = { (x: [Double]) in DoubleForward.xentSum(x, labels, n: n, k: k) / Double(n) }
        check(g, f, at: d(logits), terms: n * k, absSum: 20, "softmax xent dlogits")
    }

    func testFullyConnected() {
        var rng = KernelRNG(seed: 202)
        let n = 3, i = 5, o = 4
        let x = rng.floats(n * i), w = rng.floats(o * i), b = rng.floats(o), r = rng.floats(n * o)
        var dw = [Float](repeating: 0, count: o * i), db = [Float](repeating: 0, count: o), dx = [Float](repeating: 0, count: n * i)
        cs_fc_backward_f32__ref(x, w, r, n.int32, i.int32, o.int32, &dw, &db, &dx)
        let y = { (x: [Double], w: [Double], b: [Double]) in DoubleForward.fc(x, w, b, n: n, i: i, o: o) }
        let s = absDot(r, y(d(x).map(abs), d(w).map(abs), d(b).map(abs)))
        check(dx, { dot(r, y($0, d(w), d(b))) }, at: d(x), terms: n * o * (i + 1), absSum: s, "fc dx")
        check(dw, { dot(r, y(d(x), $0, d(b))) }, at: d(w), terms: n * o * (i + 1), absSum: s, "fc dw")
        check(db, { dot(r, y(d(x), d(w), $0)) }, at: d(b), terms: n * o * (i + 1), absSum: s, "fc db")
    }

    func testPooling() {
        var rng = KernelRNG(seed: 203)
        let c = 2, n = 2, hh = 5, ww = 7  // odd sides: the dropped row/column gets zero gradient
        let x = rng.floats(c * n * hh * ww)
        let rg = rng.floats(n * c), rp = rng.floats(c * n * (hh / 2) * (ww / 2))
        var gG = [Float](repeating: 0, count: x.count), gP = gG
        cs_global_avgpool_backward_cnhw_f32__ref(rg, c.int32, n.int32, hh * ww, &gG)
        cs_avgpool2_backward_cnhw_f32__ref(rp, c.int32, n.int32, hh.int32, ww.int32, &gP)
        let s = Double(x.count)
        check(gG, { dot(rg, DoubleForward.globalAvgPool($0, c: c, n: n, hw: hh * ww)) }, at: d(x), terms: x.count, absSum: s,
              "global avgpool dx")
        check(gP, { dot(rp, DoubleForward.avgPool2($0, c: c, n: n, h: hh, w: ww)) }, at: d(x), terms: x.count, absSum: s,
              "avgpool2 dx")
    }

    func testReluAndZeroPaddedShortcut() {
        var rng = KernelRNG(seed: 204)
        let cy = 3, cskip = 2, l = 6
        // Keep every pre-activation y + skip ≥ 1e-3 away from 0.
        let skip = rng.floats(cskip * l)
        var y = rng.floats(cy * l)
        for j in y.indices {
            let v = y[j] + (j < cskip * l ? skip[j] : 0)
            if abs(v) < 1e-2 { y[j] += 0.05 }
        }
        let r = rng.floats(cy * l)
        let out = DoubleForward.residualAdd(d(y), d(skip), cskip: cskip, l: l, relu: true).map(Float.init)
        var g = [Float](repeating: 0, count: cy * l)
        cs_relu_backward_f32__ref(out, r, (cy * l), &g)
        var dskip = [Float](repeating: 0, count: cskip * l)
        cs_shortcut_backward_cnhw_f32__ref(g, cy.int32, cskip.int32, l, &dskip)
        let s = Double(cy * l) * 4
        check(g, { dot(r, DoubleForward.residualAdd($0, d(skip), cskip: cskip, l: l, relu: true)) }, at: d(y),
              terms: cy * l, absSum: s, "residual d(block output)")
        check(dskip, { dot(r, DoubleForward.residualAdd(d(y), $0, cskip: cskip, l: l, relu: true)) }, at: d(skip),
              terms: cy * l, absSum: s, "residual d(shortcut)")
    }

    func testBatchNormTrainingMode() {
        var rng = KernelRNG(seed: 205)
        let c = 2, l = 12
        let eps: Float = 1e-5
        let gamma = rng.floats(c, 0.5, 1.5), beta = rng.floats(c, -0.3, 0.3), r = rng.floats(c * l)
        var z = rng.floats(c * l, -1, 2)
        for relu in [false, true] {
            var mean = [Double](repeating: 0, count: c), variance = mean
            func stats() {
                for ch in 0..<c {
                    let row = z[(ch * l)..<((ch + 1) * l)].map(Double.init)
                    mean[ch] = row.reduce(0, +) / Double(l)
                    variance[ch] = row.reduce(0) { $0 + ($1 - mean[ch]) * ($1 - mean[ch]) } / Double(l)
                }
            }
            stats()
            if relu {  // pre-activations away from the kink
                for ch in 0..<c {
                    let inv = 1 / (variance[ch] + Double(eps)).squareRoot()
                    for i in 0..<l where abs(Double(gamma[ch]) * (Double(z[ch * l + i]) - mean[ch]) * inv + Double(beta[ch])) < 0.05 {
                        z[ch * l + i] += 0.2
                    }
                }
                stats()
            }
            var g = [Float](repeating: 0, count: c * l), sg = [Double](repeating: 0, count: c), sgx = sg
            cs_bn_relu_backward_sums_f32__ref(z, r, c.int32, l, gamma, beta, mean, variance, eps, relu ? 1 : 0, &g, &sg, &sgx)
            var dz = [Float](repeating: 0, count: c * l)
            cs_bn_backward_dx_f32__ref(z, g, c.int32, l, gamma, mean, variance, eps, sg, sgx, Double(l), &dz)
            let f = { (z: [Double], gm: [Double], bt: [Double]) in
                dot(r, DoubleForward.batchNorm(z, c: c, l: l, gamma: gm, beta: bt, eps: Double(eps), relu: relu))
            }
            let s = Double(c * l) * 4
            let what = relu ? "bn+relu" : "bn"
            check(dz, { f($0, d(gamma), d(beta)) }, at: d(z), terms: 4 * c * l, absSum: s, "\(what) dz")
            check(sgx.map { Float($0) }, { f(d(z), $0, d(beta)) }, at: d(gamma), terms: 4 * c * l, absSum: s, "\(what) dγ")
            check(sg.map { Float($0) }, { f(d(z), d(gamma), $0) }, at: d(beta), terms: 4 * c * l, absSum: s, "\(what) dβ")
        }
    }

    func testConvolution() {
        var rng = KernelRNG(seed: 206)
        for (cin, cout, n, hh, ww, k) in [(2, 3, 2, 4, 5, 3), (3, 2, 1, 3, 3, 1), (1, 2, 2, 1, 1, 3)] {
            let x = rng.floats(cin * n * hh * ww), w = rng.floats(cout * cin * k * k), r = rng.floats(cout * n * hh * ww)
            var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: w.count)
            cs_conv2d_backward_input_cnhw_f32__ref(r, w, cin.int32, cout.int32, n.int32, hh.int32, ww.int32, k.int32, &dx)
            cs_conv2d_backward_weight_cnhw_f32__ref(x, r, cin.int32, cout.int32, n.int32, hh.int32, ww.int32, k.int32, &dw)
            let y = { (x: [Double], w: [Double]) in
                DoubleForward.conv(x, w, cin: cin, cout: cout, n: n, h: hh, w: ww, k: k)
            }
            let s = absDot(r, y(d(x).map(abs), d(w).map(abs)))
            let m = r.count * cin * k * k
            let what = "conv Cin=\(cin) Cout=\(cout) n=\(n) \(hh)×\(ww) k=\(k)"
            check(dx, { dot(r, y($0, d(w))) }, at: d(x), terms: m, absSum: s, "\(what) dx")
            check(dw, { dot(r, y(d(x), $0)) }, at: d(w), terms: m, absSum: s, "\(what) dw")
        }
    }
}

private func dot(_ r: [Float], _ y: [Double]) -> Double { zip(r, y).reduce(0) { $0 + Double($1.0) * $1.1 } }
private func absDot(_ r: [Float], _ y: [Double]) -> Double { zip(r, y).reduce(0) { $0 + abs(Double($1.0) * $1.1) } }
private func d(_ v: [Float]) -> [Double] { v.map(Double.init) }
