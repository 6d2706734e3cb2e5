import Foundation
import XCTest

@testable import RSOEngine

final class DirectoryDataTests: XCTestCase {
    func testFlagWinsOverEnvironment() throws {
        let d = try DatasetSplits.resolveDirectory(flag: "/data/flag", environment: ["RSO_DATA": "/data/env"], format: .cifar10)
        XCTAssertEqual(d, "/data/flag")
    }

    func testEnvironmentWhenNoFlag() throws {
        for flag in [nil, ""] as [String?] {
            let d = try DatasetSplits.resolveDirectory(flag: flag, environment: ["RSO_DATA": "/data/env"], format: .idx)
            XCTAssertEqual(d, "/data/env")
        }
    }

    func testIDXFallsBackToDebianFashionMNIST() throws {
        let debian = DatasetSplits.debianFashionMNISTDirectory
        if FileManager.default.fileExists(atPath: debian) {
            XCTAssertEqual(try DatasetSplits.resolveDirectory(flag: nil, environment: [:], format: .idx), debian)
        } else {
            DataFixtures.assertDataError(.missingDirectory, containing: ["--data-dir", "RSO_DATA", "dataset-fashion-mnist"]) {
                try DatasetSplits.resolveDirectory(flag: nil, environment: [:], format: .idx)
            }
        }
    }

    func testCIFARWithoutDirectoryExplainsWhatToDo() {
        DataFixtures.assertDataError(.missingDirectory, containing: [
            "--data-dir", "RSO_DATA", "cifar-10-batches-bin", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        ]) { try DatasetSplits.resolveDirectory(flag: nil, environment: ["HOME": "/root"], format: .cifar10) }
    }

    func testSubfolderIsUsedWhenFilesAreNotAtTopLevel() throws {
        let parent = try DataFixtures.makeTempDirectory("parent")
        defer { DataFixtures.remove(parent) }
        let inner = try DataFixtures.idxDirectory()
        defer { DataFixtures.remove(inner) }
        let mnist = DataFixtures.path(parent, "mnist")
        try FileManager.default.copyItem(atPath: inner, toPath: mnist)
        let s = try DatasetSplits.load(format: .idx, directory: parent)
        XCTAssertEqual(s.directory, mnist)
        XCTAssertEqual(s.train.count, 20)
    }

    func testFormatNames() {
        XCTAssertEqual(DatasetFormat.allCases.map(\.rawValue), ["idx", "cifar10"])
        XCTAssertEqual(DatasetFormat(rawValue: "cifar10"), .cifar10)
    }
}
