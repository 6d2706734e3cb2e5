import Foundation
import XCTest
@testable import RSOEngine

/// A run directory keeps its settings: equal settings continue, other settings are refused with
/// the file and every differing setting named; result.json marks the run finished.
final class RunDirectoryTests: XCTestCase {
    private var root = ""
    override func setUpWithError() throws { root = try DataFixtures.makeTempDirectory("reproduce") }
    override func tearDown() { DataFixtures.remove(root); super.tearDown() }

    private func settings(batch: Int = 16, scale: ReproduceScale = .smoke) -> RunSettings {
        var o = TrainingOptions(net: "mnist6")
        o.batch = batch
        return RunSettings(experiment: "e", scale: scale, data: "mnist",
                           run: ReproduceRun(name: "r", label: "r", dataset: .mnist, rso: o, trialLimit: 40))
    }

    func testFreshThenSameSettingsThenFinished() throws {
        let dir = RunDirectory(root: root, experiment: "e", run: "r")
        XCTAssertEqual(try dir.prepare(settings()), .fresh)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.settingsPath))
        XCTAssertEqual(try dir.prepare(settings()), .fresh)
        try DataFixtures.write([1], to: dir.checkpointPath)
        XCTAssertEqual(try dir.prepare(settings()), .unfinished)
        let result = RunResult(evaluations: [.init(updates: 0.5, testAccuracy: 0.25, testLoss: 2)], steps: 40, elapsedSeconds: 1)
        try dir.writeResult(result)
        XCTAssertEqual(try dir.prepare(settings()), .finished(result))
    }

    func testChangedSettingsAreRefusedNamingTheFileAndTheSettings() throws {
        let dir = RunDirectory(root: root, experiment: "e", run: "r")
        _ = try dir.prepare(settings())
        XCTAssertThrowsError(try dir.prepare(settings(batch: 100, scale: .quick))) { error in
            let m = "\(error)"
            XCTAssertTrue(m.contains(dir.settingsPath), m)
            XCTAssertTrue(m.contains("run.rso.batch: 16 there, 100 now"), m)
            XCTAssertTrue(m.contains("scale: \"smoke\" there, \"quick\" now"), m)
        }
    }

    func testUnreadableSettingsAreNamed() throws {
        let dir = RunDirectory(root: root, experiment: "e", run: "r")
        _ = try dir.prepare(settings())
        try DataFixtures.write(Array("{not json".utf8), to: dir.settingsPath)
        XCTAssertThrowsError(try dir.prepare(settings())) { error in
            XCTAssertTrue("\(error)".contains("\(dir.settingsPath): not valid JSON"), "\(error)")
        }
    }

    func testMissingDataNamesTheFolderAndWhereToGetIt() throws {
        XCTAssertThrowsError(try ReproduceDataSource.locate(.cifar10, root: root, scale: .quick)) { error in
            let m = "\(error)"
            XCTAssertTrue(m.contains("\(root)/cifar-10-batches-bin/"), m)
            XCTAssertTrue(m.contains("cifar-10-binary.tar.gz"), m)
        }
        XCTAssertThrowsError(try ReproduceDataSource.locate(.mnist, root: nil, scale: .paper)) { error in
            XCTAssertTrue("\(error)".contains("--data-root"), "\(error)")
        }
    }
}
