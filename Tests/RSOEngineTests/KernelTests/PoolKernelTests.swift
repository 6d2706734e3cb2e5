import CSupport
import XCTest

final class PoolKernelTests: XCTestCase {
    private func avgpool2(_ x: [Float], c: Int, n: Int, h: Int, w: Int, opt: Bool) -> [Float] {
        var y = [Float](repeating: .nan, count: c * n * (h / 2) * (w / 2))
        if opt {
            cs_avgpool2_cnhw_f32__simd_f32(x, c.int32, n.int32, h.int32, w.int32, &y)
        } else {
            cs_avgpool2_cnhw_f32__ref(x, c.int32, n.int32, h.int32, w.int32, &y)
        }
        return y
    }

    /// Floor on odd sizes: a 3×5 image pools to 1×2 (last row and column dropped); 1×W and H×1
    /// images pool to nothing. Inputs are small integers and quarters: exact.
    func testFloorOnOddSizes() {
        let x: [Float] = [1, 2, 3, 4, 5,
                          6, 7, 8, 9, 10,
                          11, 12, 13, 14, 15]
        for opt in [false, true] {
            XCTAssertEqual(avgpool2(x, c: 1, n: 1, h: 3, w: 5, opt: opt), [4, 6], "opt=\(opt)")
            XCTAssertEqual(avgpool2(x, c: 1, n: 1, h: 1, w: 15, opt: opt), [], "opt=\(opt)")
            XCTAssertEqual(avgpool2(x, c: 1, n: 1, h: 15, w: 1, opt: opt), [], "opt=\(opt)")
            // Two channels × two samples of 2×2: one output per (channel, sample) plane, in order.
            let planes: [Float] = [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 5, 0, 0, 0, -4]
            XCTAssertEqual(avgpool2(planes, c: 2, n: 2, h: 2, w: 2, opt: opt), [1, 2, 3.5, -1], "opt=\(opt)")
        }
    }

    /// __simd_f32 sums (x00 + x01) + (x10 + x11) in float: 3 roundings of partial sums, each ≤ u times
    /// a partial sum ≤ Σ|x| → ≤ 3u·Σ|x|/4 after the exact ¼; __ref rounds once: ≤ u·Σ|x|/4.
    /// Bound: 4u·Σ|x|/4 = u·Σ|x|.
    func testAvgpool2OptMatchesRef() {
        var rng = KernelRNG(seed: 41)
        for c in kernelChannelCounts {
            for (n, h, w) in kernelChunkShapes + [(2, 8, 9), (1, 9, 8), (2, 28, 28), (1, 33, 17)] {
                let x = rng.floats(c * n * h * w, -3, 3)
                let ref = avgpool2(x, c: c, n: n, h: h, w: w, opt: false)
                let opt = avgpool2(x, c: c, n: n, h: h, w: w, opt: true)
                let ho = h / 2, wo = w / 2
                var bounds = [Double](repeating: 0, count: ref.count)
                for plane in 0..<(c * n) {
                    for oy in 0..<ho {
                        for ox in 0..<wo {
                            var s = 0.0
                            for dy in 0..<2 {
                                for dx in 0..<2 { s += abs(Double(x[(plane * h + 2 * oy + dy) * w + 2 * ox + dx])) }
                            }
                            bounds[(plane * ho + oy) * wo + ox] = Roundoff.f32 * s
                        }
                    }
                }
                assertWithinBounds(opt, ref, bounds: bounds, "C=\(c) n=\(n) \(h)×\(w)")
            }
        }
    }

    /// Layout: x[C][n][HW] → y[n][C]. C = 2, n = 3, HW = 2, values chosen so each mean is exact.
    func testGlobalAvgpoolLayout() {
        let x: [Float] = [1, 3, 5, 7, 9, 11,     // channel 0: samples (1,3) (5,7) (9,11)
                          -2, 0, 10, 20, 0.5, 0.5]  // channel 1
        for opt in [false, true] {
            var y = [Float](repeating: .nan, count: 6)
            if opt {
                cs_global_avgpool_cnhw_f32__simd_f32(x, 2, 3, 2, &y)
            } else {
                cs_global_avgpool_cnhw_f32__ref(x, 2, 3, 2, &y)
            }
            XCTAssertEqual(y, [2, -1, 6, 15, 10, 0.5], "opt=\(opt)")
        }
    }

    /// __simd_f32: float sum of HW terms in any order (SIMD lanes), ≤ (HW − 1)·u·Σ|x|, then ×(1/HW)
    /// with 1/HW rounded: 2 more roundings; __ref rounds once. Bound: (HW + 3)·u·Σ|x|/HW.
    func testGlobalAvgpoolOptMatchesRef() {
        var rng = KernelRNG(seed: 42)
        for c in kernelChannelCounts {
            for n in [1, 3] {
                for hw in [1, 4, 7, 8, 9, 49, 64, 65, 784] {
                    let x = rng.floats(c * n * hw, -1, 3)
                    var ref = [Float](repeating: .nan, count: n * c), opt = ref
                    cs_global_avgpool_cnhw_f32__ref(x, c.int32, n.int32, hw, &ref)
                    cs_global_avgpool_cnhw_f32__simd_f32(x, c.int32, n.int32, hw, &opt)
                    var bounds = [Double](repeating: 0, count: n * c)
                    for ch in 0..<c {
                        for s in 0..<n {
                            let sumAbs = x[((ch * n + s) * hw)..<((ch * n + s + 1) * hw)].reduce(0.0) { $0 + abs(Double($1)) }
                            bounds[s * c + ch] = Double(hw + 3) * Roundoff.f32 * sumAbs / Double(hw)
                        }
                    }
                    assertWithinBounds(opt, ref, bounds: bounds, "C=\(c) n=\(n) HW=\(hw)")
                }
            }
        }
    }
}
