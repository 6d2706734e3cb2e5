import Foundation
import XCTest
@testable import RSOEngine

/// A claim about a point of the curve ("after 5 cycles") is read at that point, not at the run's end.
final class ExperimentReportTests: XCTestCase {
    private func report(evaluations: [RunResult.Point]) throws -> ExperimentReport {
        let e = try XCTUnwrap(ExperimentTable.experiment(named: "mnist-accuracy"))
        let run = try XCTUnwrap(e.runs(.quick).first)
        let result = RunResult(evaluations: evaluations, steps: 1, elapsedSeconds: 1)
        let entry = ExperimentReport.Entry(run: run, directory: RunDirectory(root: "/nonexistent", experiment: e.name, run: run.name),
                                           data: "mnist", status: .finished(result))
        return ExperimentReport(experiment: e, scale: .quick, entries: [entry], directory: "/nonexistent")
    }

    func testClaimsAreReadAtTheirCycleCount() throws {
        let r = try report(evaluations: (0...5).map { .init(updates: Double($0), testAccuracy: 0.5 + 0.05 * Double($0), testLoss: 1) })
        let e = r.experiment
        XCTAssertEqual(r.measured(for: e.claims[0]), "75.00% after 5 updates of all weights")
        XCTAssertTrue(r.measured(for: e.claims[1]).hasPrefix("not reached (this run ends after 5 updates"), r.measured(for: e.claims[1]))
    }

    func testOneUpdateIsSingular() throws {
        let r = try report(evaluations: (0...1).map { .init(updates: Double($0), testAccuracy: 0.5, testLoss: 1) })
        XCTAssertEqual(r.measured(for: r.experiment.claims[0]),
                       "not reached (this run ends after 1 update of all weights, at 50.00%)")
    }

    /// Every report says what the paper scale would cost here and on a 64-core node, from the table.
    func testReportStatesThePaperScaleProjection() throws {
        for e in ExperimentTable.all {
            XCTAssertTrue(e.paperEstimate.contains(" h here"), "\(e.name): \(e.paperEstimate)")
            XCTAssertTrue(e.paperEstimate.contains("64-core node"), "\(e.name): \(e.paperEstimate)")
        }
        let r = try report(evaluations: [.init(updates: 0, testAccuracy: 0.1, testLoss: 2)])
        XCTAssertTrue(r.markdown(charts: []).contains("Paper scale, projected: \(r.experiment.paperEstimate)."))
    }
}
