import CSupport
import XCTest

/// The classifier-side logit updates of incremental trials (CSupport/fc_update.c): __unfused
/// against __ref, against the definition in double, and bit for bit against the float expression
/// the engine evaluated before these were kernels (so trials keep their decisions), on swept
/// shapes (n, K, I from 1 up, a short last chunk, the first and last column).
final class FCUpdateKernelTests: XCTestCase {
    private let shapes = [(n: 1, k: 1, i: 1), (n: 7, k: 10, i: 16), (n: 32, k: 10, i: 64), (n: 33, k: 17, i: 3)]

    /// column_add: exact value e = l + δ·x. __ref rounds the (exact) double sum once: ≤ u·|e|.
    /// __unfused rounds δ·x (≤ u·|δx|) then the sum (≤ u·(|e| + u·|δx|)): ≤ 2u·(|δx| + |e|) covers
    /// both and their difference. Every other logit is untouched (bit for bit).
    func testColumnAddMatchesRefDefinitionAndFloatExpression() {
        var rng = KernelRNG(seed: 81)
        for s in shapes {
            for column in Set([0, s.k - 1]) {
                for bias in [false, true] {
                    let logits = rng.floats(s.n * s.k, -4, 4), x = rng.floats(s.n * s.i, -3, 3)
                    let feature = rng.int(s.i), delta = rng.float(-0.5, 0.5)
                    var ref = logits, opt = logits
                    x.withUnsafeBufferPointer { xp in
                        let xa = bias ? nil : xp.baseAddress
                        cs_fc_column_add_f32__ref(&ref, s.n.int32, s.k.int32, column.int32, xa, s.i.int32, feature.int32, delta)
                        cs_fc_column_add_f32__unfused(&opt, s.n.int32, s.k.int32, column.int32, xa, s.i.int32, feature.int32, delta)
                    }
                    var exact = logits.map(Double.init), swift = logits, bounds = [Double](repeating: 0, count: logits.count)
                    for j in 0..<s.n {
                        let at = j * s.k + column
                        let add = bias ? Double(delta) : Double(delta) * Double(x[j * s.i + feature])
                        exact[at] += add
                        swift[at] += bias ? delta : delta * x[j * s.i + feature]
                        bounds[at] = 2 * Roundoff.f32 * (abs(add) + abs(exact[at])) + 1e-38
                    }
                    let what = "n=\(s.n) K=\(s.k) I=\(s.i) column=\(column) bias=\(bias)"
                    assertWithinBounds(ref, exact.map { Float($0) }, bounds: bounds, "ref \(what)")
                    assertWithinBounds(opt, ref, bounds: bounds, "unfused vs ref \(what)")
                    assertBitwiseEqual(opt, swift, "unfused vs float expression \(what)")
                }
            }
        }
    }

    /// input_change: e = l + (x' − x)·w. __unfused rounds the difference (≤ u·|x' − x|, times |w|),
    /// the product and the sum: ≤ 3u·(|(x' − x)·w| + |e|) with room for the O(u²) terms; __ref
    /// rounds once (≤ u·|e|).
    func testInputChangeMatchesRefDefinitionAndFloatExpression() {
        var rng = KernelRNG(seed: 82)
        for s in shapes {
            for feature in Set([0, s.i - 1]) {
                let logits = rng.floats(s.n * s.k, -4, 4), x = rng.floats(s.n * s.i, 0, 3)
                let xnew = rng.floats(s.n, 0, 3), w = rng.floats(s.k * s.i, -1, 1)
                var ref = logits, opt = logits
                cs_fc_input_change_f32__ref(&ref, s.n.int32, s.k.int32, xnew, x, s.i.int32, feature.int32, w)
                cs_fc_input_change_f32__unfused(&opt, s.n.int32, s.k.int32, xnew, x, s.i.int32, feature.int32, w)
                var exact = logits.map(Double.init), swift = logits, bounds = exact
                for j in 0..<s.n {
                    let d = Double(xnew[j]) - Double(x[j * s.i + feature])
                    let df = xnew[j] - x[j * s.i + feature]
                    for o in 0..<s.k {
                        let at = j * s.k + o
                        let add = d * Double(w[o * s.i + feature])
                        exact[at] += add
                        swift[at] += df * w[o * s.i + feature]
                        bounds[at] = 4 * Roundoff.f32 * (abs(add) + abs(exact[at])) + 1e-38
                    }
                }
                let what = "n=\(s.n) K=\(s.k) I=\(s.i) feature=\(feature)"
                assertWithinBounds(ref, exact.map { Float($0) }, bounds: bounds, "ref \(what)")
                assertWithinBounds(opt, ref, bounds: bounds, "unfused vs ref \(what)")
                assertBitwiseEqual(opt, swift, "unfused vs float expression \(what)")
            }
        }
    }
}
