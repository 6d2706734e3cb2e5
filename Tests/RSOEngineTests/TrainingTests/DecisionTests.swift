import XCTest
@testable import RSOEngine

final class DecisionTests: XCTestCase {
    func testTieKeepsW() {
        func choice(_ l0: Double, _ lp: Double, _ lm: Double) -> TrialChoice {
            TrialDecision.decide(lossW: l0, lossPlus: lp, lossMinus: lm, delta: 0.1,
                                 penaltyW: 0, penaltyPlus: 0, penaltyMinus: 0).choice
        }
        XCTAssertEqual(choice(1, 1, 1), .kept)
        XCTAssertEqual(choice(1, 1, 2), .kept)
        XCTAssertEqual(choice(1, 0.5, 0.5), .plus)  // ± tie: +Δ
        XCTAssertEqual(choice(1, 0.7, 0.5), .minus)
        XCTAssertEqual(choice(1, 0.5, 0.7), .plus)
        XCTAssertEqual(choice(1, 1.5, 2), .kept)
    }

    func testWeightDecayEntersTheDecision() {
        // +Δ lowers the loss by 0.01 but grows the L2 term by more: W is kept.
        let d = TrialDecision.decide(lossW: 1.0, lossPlus: 0.99, lossMinus: 1.2, delta: 0.5,
                                     penaltyW: 0.1 * 0.25, penaltyPlus: 0.1 * 1.0, penaltyMinus: 0)
        XCTAssertEqual(d.choice, .kept)
        // A move towards 0 wins on the penalty alone.
        let e = TrialDecision.decide(lossW: 1.0, lossPlus: 1.0, lossMinus: 1.0, delta: 0.5,
                                     penaltyW: 0.1, penaltyPlus: 0.2, penaltyMinus: 0.0)
        XCTAssertEqual(e.choice, .minus)
    }

    /// Moments of each Δ distribution over 200,000 draws; tolerances are 5 standard errors.
    func testDeltaDistributionMoments() {
        let n = 200_000, sigma = 0.3
        for dist in DeltaDistribution.allCases {
            var rng = SeededGenerator(seed: 99)
            let xs = (0..<n).map { _ in dist.sample(sigma: sigma, using: &rng) }
            let mean = xs.reduce(0, +) / Double(n)
            let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            let expectedVariance: Double
            switch dist {
            case .gaussian: expectedVariance = sigma * sigma
            case .uniform: expectedVariance = (4 * sigma) * (4 * sigma) / 12
                XCTAssertTrue(xs.allSatisfy { abs($0) <= 2 * sigma })
            case .template: expectedVariance = 2.0 / 3.0 * sigma * sigma
                XCTAssertTrue(xs.allSatisfy { $0 == -sigma || $0 == 0 || $0 == sigma })
                for v in [-sigma, 0, sigma] {
                    let share = Double(xs.filter { $0 == v }.count) / Double(n)
                    XCTAssertEqual(share, 1.0 / 3, accuracy: 5 * (2.0 / 9 / Double(n)).squareRoot())
                }
            }
            XCTAssertEqual(mean, 0, accuracy: 5 * expectedVariance.squareRoot() / Double(n).squareRoot(), "\(dist)")
            // Var of the sample variance ≈ (μ4 − σ⁴)/n ≤ 2σ⁴/n for these light-tailed laws.
            XCTAssertEqual(variance, expectedVariance, accuracy: 5 * expectedVariance * (2.0 / Double(n)).squareRoot(), "\(dist)")
        }
    }
}
