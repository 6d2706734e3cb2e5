import XCTest
@testable import RSOEngine

final class CacheAgreementTests: XCTestCase {
    /// The two objectives differ (population vs batch statistics below d) but mostly agree; the
    /// first layer has no cache, so there both paths are the same computation and never differ.
    func testCountsDisagreementsPerLayer() throws {
        let t = try makeTrainer(tinyOptions(cycles: 1, batch: 48))
        var rows: [CacheAgreement] = []
        for u in 0..<t.unitCount { rows.append(t.measureCacheAgreement(unit: u, trials: 30)) }
        XCTAssertEqual(rows.map(\.layer), ["fc", "conv3", "conv2", "conv1"])
        XCTAssertTrue(rows.allSatisfy { $0.trials == 30 && $0.disagreements <= 30 })
        XCTAssertEqual(rows.last!.disagreements, 0)
        XCTAssertEqual(rows.last!.maxLossOffset, 0)
        XCTAssertGreaterThan(rows[0].maxLossOffset, 0)  // FC input normalised differently
    }
}
