import CSupport
import XCTest

/// Both twins do one float add per element (and the same ReLU), so they must agree bit for bit.
final class ResidualKernelTests: XCTestCase {
    private func add(_ y: [Float], _ skip: [Float], cy: Int, cskip: Int, l: Int, relu: Int, opt: Bool)
        -> [Float] {
        var out = y
        if opt {
            cs_residual_add_cnhw_f32__flat_simd(&out, skip, cy.int32, cskip.int32, l, relu.int32)
        } else {
            cs_residual_add_cnhw_f32__ref(&out, skip, cy.int32, cskip.int32, l, relu.int32)
        }
        return out
    }

    /// Cy = 3, Cskip = 1, L = 2: channel 0 gets the add, channels 1 and 2 (zero-padded shortcut)
    /// are unchanged except for the ReLU.
    func testZeroPaddedChannelsHandComputed() {
        let y: [Float] = [1, -2, -3, 4, 5, -6]
        let skip: [Float] = [0.5, 1]
        for opt in [false, true] {
            XCTAssertEqual(add(y, skip, cy: 3, cskip: 1, l: 2, relu: 0, opt: opt), [1.5, -1, -3, 4, 5, -6])
            XCTAssertEqual(add(y, skip, cy: 3, cskip: 1, l: 2, relu: 1, opt: opt), [1.5, 0, 0, 4, 5, 0])
        }
    }

    func testOptMatchesRefOnSweptShapes() {
        var rng = KernelRNG(seed: 61)
        for cy in kernelChannelCounts {
            for cskip in Set([0, 1, cy / 2, cy - 1, cy]).filter({ $0 >= 0 && $0 <= cy }).sorted() {
                for l in kernelRowLengths {
                    let y = rng.floats(cy * l), skip = rng.floats(cskip * l)
                    for relu in [0, 1] {
                        let ref = add(y, skip, cy: cy, cskip: cskip, l: l, relu: relu, opt: false)
                        let opt = add(y, skip, cy: cy, cskip: cskip, l: l, relu: relu, opt: true)
                        let what = "Cy=\(cy) Cskip=\(cskip) L=\(l) relu=\(relu)"
                        assertBitwiseEqual(opt, ref, what)
                        // Padded channels: untouched, or ReLU'd.
                        let tail = Array(y[(cskip * l)...]).map { relu == 1 ? max($0, 0) : $0 }
                        assertBitwiseEqual(Array(opt[(cskip * l)...]), tail, "\(what): padded channels")
                    }
                }
            }
        }
    }
}
