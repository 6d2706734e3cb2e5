import CSupport
import XCTest

final class LossKernelTests: XCTestCase {
    /// The loss has one implementation, called by both kernel sets (loss.c).
    private func xent(_ logits: [Float], _ labels: [UInt8], k: Int) -> (Double, Int) {
        var correct: Int32 = -1
        let loss = cs_softmax_xent_f32__ref(logits, labels, labels.count.int32, k.int32, &correct)
        return (loss, Int(correct))
    }

    /// Hand-computed: [1, 2, 3] label 2 → log(1 + e⁻¹ + e⁻²) = 0.4076059644443804 (correct);
    /// [5, 5, 1] label 1 → log(2 + e⁻⁴) = 0.7022633214390952, a tie that the FIRST maximum
    /// (index 0) wins, so not correct; [2.5, 2.5, 2.5] label 0 → log 3 = 1.0986122886681098,
    /// correct (first of three equal maxima). The values come from a double-precision evaluation
    /// of the closed forms; a few ulps (1e-15 on a sum of order 1) covers log/exp rounding.
    func testHandComputedWithTies() {
        let logits: [Float] = [1, 2, 3,
                               5, 5, 1,
                               2.5, 2.5, 2.5]
        let (loss, correct) = xent(logits, [2, 1, 0], k: 3)
        XCTAssertEqual(loss, 0.4076059644443804 + 0.7022633214390952 + 1.0986122886681098, accuracy: 1e-15)
        XCTAssertEqual(correct, 2)
        // The tie goes to index 0: label 0 on the second row is correct.
        XCTAssertEqual(xent(Array(logits[3..<6]), [0], k: 3).1, 1)
        XCTAssertEqual(xent(Array(logits[6..<9]), [2], k: 3).1, 0)
    }

    /// Logits far beyond exp's range: log-sum-exp is stabilised, so the loss is finite and equals
    /// m − l[label] + log(1 + tiny) = m − l[label] exactly in double.
    func testLargeLogitsDoNotOverflow() {
        let logits: [Float] = [1000, 0, -1000,
                               3e38, -3e38, 0,
                               -3e38, -3e38, -3e38]
        let (l1, c1) = xent(Array(logits[0..<3]), [1], k: 3)
        XCTAssertEqual(l1, 1000)
        XCTAssertEqual(c1, 0)
        let (l2, c2) = xent(Array(logits[3..<6]), [1], k: 3)
        XCTAssertEqual(l2, Double(Float(3e38)) * 2)
        XCTAssert(l2.isFinite)
        XCTAssertEqual(c2, 0)
        let (l3, c3) = xent(Array(logits[3..<6]), [0], k: 3)
        XCTAssertEqual(l3, 0)
        XCTAssertEqual(c3, 1)
        let (l4, c4) = xent(Array(logits[6..<9]), [2], k: 3)
        XCTAssertEqual(l4, log(3.0), accuracy: 1e-15)  // all equal: uniform softmax
        XCTAssertEqual(c4, 0)
    }

    /// Random batches (K = 1, 2, 10, 17; n = 1, 7, 64) incl. forced ties, against the definition
    /// evaluated here in double: Σ_s (m − l_label) + log Σ exp(l − m). Both work in double on exactly
    /// converted logits; per sample |Δ| ≤ 8·Roundoff.f64·(|m| + |l_label| + log K + 1) covers
    /// different exp-summation orders and the final additions; summed over samples.
    func testRandomBatchesMatchTheDefinition() {
        var rng = KernelRNG(seed: 71)
        for k in [1, 2, 10, 17] {
            for n in [1, 7, 64] {
                var logits = rng.floats(n * k, -8, 8)
                for s in 0..<n where s % 3 == 0 && k > 1 {  // ties on every third sample
                    logits[s * k + rng.int(k)] = 9
                    logits[s * k + rng.int(k)] = 9
                }
                let labels = (0..<n).map { _ in UInt8(rng.int(k)) }
                let (lr, cr) = xent(logits, labels, k: k)
                var bound = 0.0, expectedLoss = 0.0
                for s in 0..<n {
                    let row = logits[(s * k)..<((s + 1) * k)]
                    let m = Double(row.max()!)
                    expectedLoss += (m - Double(row[s * k + Int(labels[s])])) + log(row.reduce(0.0) { $0 + exp(Double($1) - m) })
                    bound += 8 * Roundoff.f64 * (Double(row.max()!).magnitude + Double(row[s * k + Int(labels[s])]).magnitude
                        + log(Double(k)) + 1)
                }
                XCTAssertEqual(lr, expectedLoss, accuracy: bound, "K=\(k) n=\(n)")
                // Accuracy from an independent first-max argmax.
                var expected = 0
                for s in 0..<n {
                    let row = Array(logits[(s * k)..<((s + 1) * k)])
                    if row.firstIndex(of: row.max()!)! == Int(labels[s]) { expected += 1 }
                }
                XCTAssertEqual(cr, expected, "K=\(k) n=\(n)")
            }
        }
    }
}
