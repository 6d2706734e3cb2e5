// Shared helpers for the CSupport kernel tests: a deterministic generator, random fills, and
// element-wise comparisons against per-element error bounds derived from the problem.
import XCTest

/// Unit roundoffs: one correctly rounded operation has relative error ≤ u.
enum Roundoff {
    /// Float: u = 2⁻²⁴.
    static let f32 = 0x1.0p-24
    /// Double: u = 2⁻⁵³.
    static let f64 = 0x1.0p-53
}

/// SplitMix64: a tiny deterministic generator, local to the tests so they depend on nothing else.
struct KernelRNG {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform Float in [lo, hi).
    mutating func float(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * Float(unit()) }

    /// `count` uniform floats in [lo, hi).
    mutating func floats(_ count: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
        (0..<count).map { _ in float(lo, hi) }
    }

    mutating func int(_ upperBound: Int) -> Int { Int(next() % UInt64(upperBound)) }
}

/// Asserts |actual[i] − expected[i]| ≤ bound[i] for every i (NaN always fails), and reports the
/// first few offenders with their index, both values and the bound.
func assertWithinBounds(_ actual: [Float], _ expected: [Float], bounds: [Double],
                        _ what: @autoclosure () -> String,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(what()): count", file: file, line: line)
    XCTAssertEqual(bounds.count, expected.count, "\(what()): bounds count", file: file, line: line)
    var failures = 0
    for i in 0..<min(actual.count, expected.count, bounds.count) {
        let d = abs(Double(actual[i]) - Double(expected[i]))
        if !(d <= bounds[i]) {
            failures += 1
            if failures <= 5 {
                XCTFail("\(what()): [\(i)] got \(actual[i]), want \(expected[i]), |Δ| = \(d) > \(bounds[i])",
                        file: file, line: line)
            }
        }
    }
    if failures > 5 { XCTFail("\(what()): \(failures) elements out of bounds in all", file: file, line: line) }
}

/// Same for doubles.
func assertWithinBounds(_ actual: [Double], _ expected: [Double], bounds: [Double],
                        _ what: @autoclosure () -> String,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(what()): count", file: file, line: line)
    for i in 0..<min(actual.count, expected.count, bounds.count) {
        let d = abs(actual[i] - expected[i])
        if !(d <= bounds[i]) {
            XCTFail("\(what()): [\(i)] got \(actual[i]), want \(expected[i]), |Δ| = \(d) > \(bounds[i])",
                    file: file, line: line)
            return
        }
    }
}

/// Bit-for-bit equality (−0 and +0 count as equal; NaN equal to NaN), for kernels whose twins do
/// the same float operations in the same order.
func assertBitwiseEqual(_ actual: [Float], _ expected: [Float], _ what: @autoclosure () -> String,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(what()): count", file: file, line: line)
    for i in 0..<min(actual.count, expected.count) {
        let a = actual[i], e = expected[i]
        if !(a == e || (a.isNaN && e.isNaN)) {
            XCTFail("\(what()): [\(i)] got \(a), want \(e)", file: file, line: line)
            return
        }
    }
}

/// Shapes (n, H, W) of CNHW chunks used by the sweeps: 1×1 images, odd and even sides, n = 1 and n > 1.
let kernelChunkShapes: [(n: Int, h: Int, w: Int)] = [
    (1, 1, 1), (2, 1, 1), (1, 1, 5), (1, 2, 2), (1, 3, 3), (2, 4, 4), (3, 5, 7), (2, 6, 3),
]

/// Channel counts used by the sweeps: 1, a few odd ones, a SIMD-width multiple and one past it.
let kernelChannelCounts = [1, 3, 5, 16, 17]

/// Row lengths around the AVX2 float width (8) and a 64-element block.
let kernelRowLengths = [1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100]

extension Int {
    /// The C `int` the imported kernel signatures take.
    var int32: Int32 { Int32(self) }
}
