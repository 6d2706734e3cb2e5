import CSupport
import XCTest

final class FCKernelTests: XCTestCase {
    /// y[n][O] = x[n][I]·w[O][I]ᵀ + b, small integers: exact. Also b == NULL.
    func testHandComputed() {
        let x: [Float] = [1, 2,
                          3, -1]
        let w: [Float] = [1, 0,
                          0, 1,
                          2, 3]
        let b: [Float] = [0.5, -1, 10]
        for opt in [false, true] {
            var y = [Float](repeating: .nan, count: 6), y0 = y
            let f = opt ? cs_fc_f32__simd_f32 : cs_fc_f32__ref
            f(x, w, b, 2, 2, 3, &y)
            f(x, w, nil, 2, 2, 3, &y0)
            XCTAssertEqual(y, [1.5, 1, 18, 3.5, -2, 13], "opt=\(opt)")
            XCTAssertEqual(y0, [1, 2, 8, 3, -1, 3], "opt=\(opt)")
        }
    }

    /// __simd_f32: float dot of I products in SIMD-lane order plus b: any summation order is within
    /// (I + 1)·u·(Σ|x·w| + |b|) of exact (γ bound, I products + I adds incl. b); __ref rounds once
    /// (u·|y|). Bound: (I + 2)·u·(Σ|x·w| + |b|).
    func testOptMatchesRef() {
        var rng = KernelRNG(seed: 51)
        for n in [1, 2, 7, 32] {
            for inputs in [1, 3, 7, 8, 9, 16, 17, 63, 64, 65, 256] {
                for outputs in [1, 3, 10, 17] {
                    let x = rng.floats(n * inputs, -2, 2), w = rng.floats(outputs * inputs)
                    let b = rng.floats(outputs)
                    for bias in [true, false] {
                        var ref = [Float](repeating: .nan, count: n * outputs), opt = ref
                        cs_fc_f32__ref(x, w, bias ? b : nil, n.int32, inputs.int32, outputs.int32, &ref)
                        cs_fc_f32__simd_f32(x, w, bias ? b : nil, n.int32, inputs.int32, outputs.int32, &opt)
                        var bounds = [Double](repeating: 0, count: n * outputs)
                        for s in 0..<n {
                            for o in 0..<outputs {
                                var m = bias ? abs(Double(b[o])) : 0
                                for i in 0..<inputs { m += abs(Double(x[s * inputs + i]) * Double(w[o * inputs + i])) }
                                bounds[s * outputs + o] = Double(inputs + 2) * Roundoff.f32 * m
                            }
                        }
                        assertWithinBounds(opt, ref, bounds: bounds, "n=\(n) I=\(inputs) O=\(outputs) bias=\(bias)")
                    }
                }
            }
        }
    }
}
