import Foundation
import XCTest

@testable import RSOEngine

/// The real datasets load with the published counts, labels and statistics.
final class RealFilesDataTests: XCTestCase {
    func testMNISTLoadsWithOfficialCountsLabelsAndStatistics() throws {
        let dir = try DataFixtures.realDirectory("mnist")
        let start = Date()
        let splits = try DatasetSplits.load(format: .idx, directory: dir)
        let seconds = Date().timeIntervalSince(start)
        print("MNIST load: \(String(format: "%.2f", seconds)) s")

        XCTAssertEqual(splits.train.count, 60_000)
        XCTAssertEqual(splits.test.count, 10_000)
        for d in [splits.train, splits.test] {
            XCTAssertEqual([d.channels, d.height, d.width], [1, 28, 28])
            XCTAssertEqual(d.images.count, d.count * 784)
            XCTAssertEqual(d.labels.count, d.count)
        }
        XCTAssertEqual(Array(splits.train.labels.prefix(10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        XCTAssertEqual(Array(splits.test.labels.prefix(10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        XCTAssertEqual(labelCounts(splits.train.labels), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        XCTAssertEqual(labelCounts(splits.test.labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])

        // Published pixel statistics (README): 0.1306604763 / 0.3081078039. Float storage: 1e-6.
        XCTAssertEqual(Double(splits.mean[0]), 0.1306604763, accuracy: 1e-6)
        XCTAssertEqual(Double(splits.std[0]), 0.3081078039, accuracy: 1e-6)

        // After normalisation the training split is zero-mean / unit-std up to the float rounding of
        // the 256 table entries (relative ~6e-8), far inside 1e-5.
        let train = splits.train.images.withUnsafeBufferPointer { DataFixtures.meanStd($0) }
        XCTAssertEqual(train.mean, 0, accuracy: 1e-5)
        XCTAssertEqual(train.std, 1, accuracy: 1e-5)
        // The test split uses the TRAINING statistics: (0.1325146058 − 0.1306604763) / 0.3081078039.
        let test = splits.test.images.withUnsafeBufferPointer { DataFixtures.meanStd($0) }
        XCTAssertEqual(test.mean, (0.1325146058 - 0.1306604763) / 0.3081078039, accuracy: 1e-5)
        XCTAssertEqual(test.std, 0.3104802479 / 0.3081078039, accuracy: 1e-5)

        // A background pixel (0) of the first image maps to −mean/std.
        XCTAssertEqual(Double(splits.train.images[0]), -0.1306604763 / 0.3081078039, accuracy: 1e-5)
        XCTAssertEqual(splits.directory, dir)
        XCTAssertEqual(splits.format, .idx)
    }

    func testParentDirectoryResolvesToMNISTSubfolder() throws {
        let dir = try DataFixtures.realDirectory("mnist")
        let parent = (dir as NSString).deletingLastPathComponent
        let splits = try DatasetSplits.load(format: .idx, directory: parent)
        XCTAssertEqual(splits.directory, dir)
        XCTAssertEqual(splits.train.name, "mnist/train")
        XCTAssertEqual(splits.test.name, "mnist/test")
    }

    func testCIFAR10LoadsWithOfficialCountsLabelsAndStatistics() throws {
        let dir = try DataFixtures.realDirectory("cifar-10-batches-bin")
        let parent = (dir as NSString).deletingLastPathComponent
        let start = Date()
        let splits = try DatasetSplits.load(format: .cifar10, directory: parent)  // via the subfolder
        print("CIFAR-10 load: \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        XCTAssertEqual(splits.directory, dir)
        XCTAssertEqual(splits.train.count, 50_000)
        XCTAssertEqual(splits.test.count, 10_000)
        XCTAssertEqual([splits.train.channels, splits.train.height, splits.train.width], [3, 32, 32])
        // data_batch_1 label counts as published (README).
        XCTAssertEqual(labelCounts(Array(splits.train.labels.prefix(10_000))),
                       [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981])
        XCTAssertEqual(labelCounts(splits.train.labels), [Int](repeating: 5000, count: 10))
        XCTAssertEqual(labelCounts(splits.test.labels), [Int](repeating: 1000, count: 10))

        // README: mean (0.491400, 0.482158, 0.446531), std (0.247032, 0.243485, 0.261588), 6 digits.
        let mean: [Double] = [0.491400, 0.482158, 0.446531]
        let std: [Double] = [0.247032, 0.243485, 0.261588]
        for c in 0..<3 {
            XCTAssertEqual(Double(splits.mean[c]), mean[c], accuracy: 1e-6)
            XCTAssertEqual(Double(splits.std[c]), std[c], accuracy: 1e-6)
        }
        for (c, s) in DataFixtures.channelMeanStd(splits.train).enumerated() {
            XCTAssertEqual(s.mean, 0, accuracy: 1e-5, "channel \(c)")
            XCTAssertEqual(s.std, 1, accuracy: 1e-5, "channel \(c)")
        }
    }

    func testFashionMNISTLoadsIfInstalled() throws {
        let dir = DatasetSplits.debianFashionMNISTDirectory
        guard FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("train-images-idx3-ubyte.gz")) else {
            throw XCTSkip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
        }
        let splits = try DatasetSplits.load(format: .idx, directory: dir)
        XCTAssertEqual(splits.train.count, 60_000)
        XCTAssertEqual(splits.test.count, 10_000)
        XCTAssertEqual(labelCounts(splits.train.labels), [Int](repeating: 6000, count: 10))
        XCTAssertEqual(labelCounts(splits.test.labels), [Int](repeating: 1000, count: 10))
        // Commonly quoted Fashion-MNIST statistics: 0.2860 / 0.3530.
        XCTAssertEqual(Double(splits.mean[0]), 0.2860, accuracy: 1e-3)
        XCTAssertEqual(Double(splits.std[0]), 0.3530, accuracy: 1e-3)
    }

    private func labelCounts(_ labels: [UInt8]) -> [Int] {
        var counts = [Int](repeating: 0, count: 10)
        for l in labels { counts[Int(l)] += 1 }
        return counts
    }
}
