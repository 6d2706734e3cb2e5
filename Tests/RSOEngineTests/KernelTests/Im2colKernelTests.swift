import CSupport
import XCTest

/// im2col only copies values or writes zeros, so every comparison here is exact: no tolerance.
final class Im2colKernelTests: XCTestCase {
    private func im2col(_ x: [Float], c: Int, n: Int, h: Int, w: Int, k: Int, p0: Int, p1: Int,
                        opt: Bool) -> [Float] {
        // Pre-filled with NaN: an element the kernel forgets to write shows up as a mismatch.
        var col = [Float](repeating: .nan, count: c * k * k * (p1 - p0))
        if opt {
            cs_im2col_cnhw_f32__flat_copy(x, c.int32, n.int32, h.int32, w.int32, k.int32, p0, p1, &col)
        } else {
            cs_im2col_cnhw_f32__ref(x, c.int32, n.int32, h.int32, w.int32, k.int32, p0, p1, &col)
        }
        return col
    }

    /// One 2×2 image, k = 3: each patch row is the image shifted by (ky − 1, kx − 1), zero outside.
    func testHandComputedSmallImage() {
        let x: [Float] = [1, 2,
                          3, 4]
        let expected: [[Float]] = [
            [0, 0, 0, 1],  // (ky, kx) = (0, 0): x[oy − 1][ox − 1]
            [0, 0, 1, 2],  // (0, 1)
            [0, 0, 2, 0],  // (0, 2)
            [0, 1, 0, 3],  // (1, 0)
            [1, 2, 3, 4],  // (1, 1): the image itself
            [2, 0, 4, 0],  // (1, 2)
            [0, 3, 0, 0],  // (2, 0)
            [3, 4, 0, 0],  // (2, 1)
            [4, 0, 0, 0],  // (2, 2)
        ]
        for opt in [false, true] {
            let col = im2col(x, c: 1, n: 1, h: 2, w: 2, k: 3, p0: 0, p1: 4, opt: opt)
            XCTAssertEqual(col, expected.flatMap { $0 }, "opt=\(opt)")
        }
        // A sub-range [1, 3) keeps the same columns, re-based at 0 with row stride 2.
        let part = im2col(x, c: 1, n: 1, h: 2, w: 2, k: 3, p0: 1, p1: 3, opt: true)
        XCTAssertEqual(part, expected.flatMap { Array($0[1..<3]) })
    }

    /// Two samples: the pixel index runs over samples, and no tap reaches across a sample border.
    func testSamplesDoNotBleedIntoEachOther() {
        let x: [Float] = [1, 2, 3, 10, 20, 30]  // C = 1, n = 2, H = 1, W = 3
        for opt in [false, true] {
            let col = im2col(x, c: 1, n: 2, h: 1, w: 3, k: 3, p0: 0, p1: 6, opt: opt)
            // Row (ky, kx) = (1, 0) is x[ox − 1]; row (1, 2) is x[ox + 1].
            XCTAssertEqual(Array(col[3 * 6..<4 * 6]), [0, 1, 2, 0, 10, 20], "opt=\(opt)")
            XCTAssertEqual(Array(col[5 * 6..<6 * 6]), [2, 3, 0, 20, 30, 0], "opt=\(opt)")
        }
    }

    /// __flat_copy against __ref on swept shapes, kernel sizes and pixel ranges cut into tiles of
    /// 1, 7, 8, 9, 64 (tile − 1, tile, tile + 1 around the SIMD width) and the whole range, so
    /// ranges start and end mid-row, mid-image and across sample borders.
    func testOptMatchesRefOnSweptShapes() {
        var rng = KernelRNG(seed: 11)
        for c in [1, 3, 5] {
            for (n, h, w) in kernelChunkShapes {
                let x = rng.floats(c * n * h * w)
                let p = n * h * w
                for k in [1, 3, 5, 7] {  // 5 and 7: shifts wider than the 1×1…5×… images
                    for tile in [1, 7, 8, 9, 64, p] {
                        var p0 = 0
                        while p0 < p {
                            let p1 = min(p, p0 + tile)
                            let a = im2col(x, c: c, n: n, h: h, w: w, k: k, p0: p0, p1: p1, opt: true)
                            let b = im2col(x, c: c, n: n, h: h, w: w, k: k, p0: p0, p1: p1, opt: false)
                            assertBitwiseEqual(a, b, "C=\(c) n=\(n) \(h)×\(w) k=\(k) [\(p0), \(p1))")
                            p0 = p1
                        }
                    }
                }
            }
        }
    }
}
