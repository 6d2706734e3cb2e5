import Foundation
import XCTest

@testable import RSOEngine

/// Every way a dataset can be wrong gives a DataError naming the file, the expectation and the finding.
final class ErrorCasesDataTests: XCTestCase {
    private var dirs: [String] = []
    override func tearDown() {
        dirs.forEach(DataFixtures.remove)
        super.tearDown()
    }
    private func idxDir(gzip: Bool = false) throws -> String {
        let d = try DataFixtures.idxDirectory(gzip: gzip)
        dirs.append(d)
        return d
    }
    private func p(_ dir: String, _ name: String) -> String { DataFixtures.path(dir, name) }

    // MARK: - Sanity: the synthetic fixtures themselves load

    func testSyntheticIDXLoadsRawAndGzipped() throws {
        for gzip in [false, true] {
            let dir = try idxDir(gzip: gzip)
            let s = try DatasetSplits.load(format: .idx, directory: dir)
            XCTAssertEqual(s.train.count, 20)
            XCTAssertEqual(s.test.count, 10)
            XCTAssertEqual(s.train.labels, DataFixtures.labels(20))
        }
    }

    // MARK: - Missing

    func testMissingDirectory() {
        let dir = "/nonexistent/rso-data-\(UUID().uuidString)"
        DataFixtures.assertDataError(.missingDirectory, containing: [dir, "does not exist", "yann.lecun.com"]) {
            try DatasetSplits.load(format: .idx, directory: dir)
        }
    }

    func testMissingIDXFileNamesFileDirectoryAndSource() throws {
        let empty = try DataFixtures.makeTempDirectory("empty")
        dirs.append(empty)
        DataFixtures.assertDataError(.missingFile, containing: [
            "train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "in \(empty)", "http://yann.lecun.com/exdb/mnist/",
            "apt-get install dataset-fashion-mnist", "/usr/share/datasets/fashion-mnist",
        ]) { try DatasetSplits.load(format: .idx, directory: empty) }

        let dir = try idxDir()
        try FileManager.default.removeItem(atPath: p(dir, "t10k-labels-idx1-ubyte"))
        DataFixtures.assertDataError(.missingFile, containing: ["t10k-labels-idx1-ubyte", "test labels", dir]) {
            try DatasetSplits.load(format: .idx, directory: dir)
        }
    }

    func testMissingCIFARFileNamesSource() throws {
        let empty = try DataFixtures.makeTempDirectory("empty")
        dirs.append(empty)
        DataFixtures.assertDataError(.missingFile, containing: [
            "data_batch_1.bin", empty, "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        ]) { try DatasetSplits.load(format: .cifar10, directory: empty) }
    }

    // MARK: - IDX headers and sizes

    func testBadMagic() throws {
        let dir = try idxDir()
        try DataFixtures.write(DataFixtures.idxImages(count: 20, magic: 0x802), to: p(dir, "train-images-idx3-ubyte"))
        DataFixtures.assertDataError(.badMagic, containing: [
            "train-images-idx3-ubyte", "bad magic 0x00000802, expected 0x00000803 (IDX images)",
        ]) { try DatasetSplits.load(format: .idx, directory: dir) }

        try DataFixtures.write(DataFixtures.idxImages(count: 20), to: p(dir, "train-images-idx3-ubyte"))
        try DataFixtures.write(DataFixtures.idxLabels(DataFixtures.labels(20), magic: 0x803),
                               to: p(dir, "train-labels-idx1-ubyte"))
        DataFixtures.assertDataError(.badMagic, containing: [
            "train-labels-idx1-ubyte", "bad magic 0x00000803, expected 0x00000801 (IDX labels)",
        ]) { try DatasetSplits.load(format: .idx, directory: dir) }
    }

    func testBadMagicInsideGzip() throws {
        let dir = try idxDir(gzip: true)
        try DataFixtures.write(DataFixtures.storedGzip(DataFixtures.idxImages(count: 10, magic: 0x0801)),
                               to: p(dir, "t10k-images-idx3-ubyte.gz"))
        DataFixtures.assertDataError(.badMagic, containing: ["t10k-images-idx3-ubyte.gz", "bad magic 0x00000801"]) {
            try DatasetSplits.load(format: .idx, directory: dir)
        }
    }

    func testWrongDimensions() throws {
        let dir = try idxDir()
        try DataFixtures.write(DataFixtures.idxImages(count: 20, rows: 32, cols: 28), to: p(dir, "train-images-idx3-ubyte"))
        DataFixtures.assertDataError(.badDimensions, containing: ["train-images-idx3-ubyte", "32×28", "expected 28×28"]) {
            try DatasetSplits.load(format: .idx, directory: dir)
        }
    }

    func testTruncatedRawImages() throws {
        let dir = try idxDir()
        let full = DataFixtures.idxImages(count: 20)
        try DataFixtures.write(Array(full.prefix(1000)), to: p(dir, "train-images-idx3-ubyte"))
        DataFixtures.assertDataError(.badSize, containing: [
            "train-images-idx3-ubyte", "file is 1000 bytes, expected \(16 + 20 * 784) for 20 images of 28×28",
        ]) { try DatasetSplits.load(format: .idx, directory: dir) }

        try DataFixtures.write(Array(full.prefix(10)), to: p(dir, "train-images-idx3-ubyte"))
        DataFixtures.assertDataError(.badSize, containing: ["file is 10 bytes", "16-byte IDX images header"]) {
            try DatasetSplits.load(format: .idx, directory: dir)
        }
    }

    func testTruncatedRawLabels() throws {
        let dir = try idxDir()
        try DataFixtures.write(Array(DataFixtures.idxLabels(DataFixtures.labels(10)).prefix(15)),
                               to: p(dir, "t10k-labels-idx1-ubyte"))
        DataFixtures.assertDataError(.badSize, containing: ["t10k-labels-idx1-ubyte", "file is 15 bytes, expected 18 for 10 labels"]) {
            try DatasetSplits.load(format: .idx, directory: dir)
        }
    }

    func testTruncatedGzip() throws {
        let dir = try idxDir(gzip: true)
        let gz = DataFixtures.storedGzip(DataFixtures.idxImages(count: 20))
        for keep in [gz.count - 1, gz.count - 8, gz.count / 2, 12] {  // trailer, data, header cut
            try DataFixtures.write(Array(gz.prefix(keep)), to: p(dir, "train-images-idx3-ubyte.gz"))
            DataFixtures.assertDataError(.unreadable, containing: [
                "train-images-idx3-ubyte.gz", "truncated gzip stream", "expected a complete gzip file",
            ]) { try DatasetSplits.load(format: .idx, directory: dir) }
        }
    }

    func testTruncatedRealGzip() throws {
        let real = DataFixtures.path(try DataFixtures.realDirectory("mnist"), "t10k-labels-idx1-ubyte.gz")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: real)))
        let dir = try idxDir(gzip: true)
        try DataFixtures.write(Array(bytes.prefix(bytes.count - 100)), to: p(dir, "t10k-labels-idx1-ubyte.gz"))
        DataFixtures.assertDataError(.unreadable, containing: ["t10k-labels-idx1-ubyte.gz", "truncated gzip stream"]) {
            try DatasetSplits.load(format: .idx, directory: dir)
        }
    }

    func testCorruptGzip() throws {
        let dir = try idxDir(gzip: true)
        var gz = DataFixtures.storedGzip(DataFixtures.idxLabels(DataFixtures.labels(20)))
        gz[gz.count - 6] ^= 0xFF  // CRC-32 trailer
        try DataFixtures.write(gz, to: p(dir, "train-labels-idx1-ubyte.gz"))
        DataFixtures.assertDataError(.unreadable, containing: [
            "train-labels-idx1-ubyte.gz", "corrupt gzip stream", "incorrect data check",
        ]) { try DatasetSplits.load(format: .idx, directory: dir) }

        // A damaged deflate stream of the real file.
        let real = DataFixtures.path(try DataFixtures.realDirectory("mnist"), "t10k-labels-idx1-ubyte.gz")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: real)))
        for k in stride(from: 200, to: 400, by: 3) { bytes[k] ^= 0x5A }
        try DataFixtures.write(bytes, to: p(dir, "t10k-labels-idx1-ubyte.gz"))
        try DataFixtures.write(DataFixtures.storedGzip(DataFixtures.idxLabels(DataFixtures.labels(20))),
                               to: p(dir, "train-labels-idx1-ubyte.gz"))
        DataFixtures.assertDataError(.unreadable, containing: ["t10k-labels-idx1-ubyte.gz", "corrupt gzip stream"]) {
            try DatasetSplits.load(format: .idx, directory: dir)
        }
    }

    func testImageLabelCountMismatch() throws {
        let dir = try idxDir()
        try DataFixtures.write(DataFixtures.idxLabels(DataFixtures.labels(19)), to: p(dir, "train-labels-idx1-ubyte"))
        DataFixtures.assertDataError(.countMismatch, containing: [
            "train-images-idx3-ubyte", "image count 20 does not match label count 19 in", p(dir, "train-labels-idx1-ubyte"),
        ]) { try DatasetSplits.load(format: .idx, directory: dir) }
    }

    func testLabelOutOfRange() throws {
        let dir = try idxDir()
        var labels = DataFixtures.labels(20)
        labels[5] = 12
        try DataFixtures.write(DataFixtures.idxLabels(labels), to: p(dir, "train-labels-idx1-ubyte"))
        DataFixtures.assertDataError(.badLabel, containing: ["train-labels-idx1-ubyte", "label 12 at index 5 is outside 0…9"]) {
            try DatasetSplits.load(format: .idx, directory: dir)
        }
    }

    // MARK: - CIFAR-10

    func testCIFARSizeNotMultipleOfRecord() throws {
        let dir = try DataFixtures.cifarDirectory(firstBatch: DataFixtures.cifarBatch(records: 3) + [1, 2, 3, 4, 5])
        dirs.append(dir)
        DataFixtures.assertDataError(.badSize, containing: [
            "data_batch_1.bin", "file is \(3 * 3073 + 5) bytes", "not a multiple of the 3073-byte CIFAR-10 record",
        ]) { try DatasetSplits.load(format: .cifar10, directory: dir) }
    }

    func testCIFARWrongRecordCount() throws {
        let dir = try DataFixtures.cifarDirectory(firstBatch: DataFixtures.cifarBatch(records: 100))
        dirs.append(dir)
        DataFixtures.assertDataError(.badSize, containing: [
            "data_batch_1.bin", "holds 100 records", "expected 10000 records (30730000 bytes)",
        ]) { try DatasetSplits.load(format: .cifar10, directory: dir) }
    }

    func testCIFARLabelOutOfRange() throws {
        let dir = try DataFixtures.cifarDirectory(
            firstBatch: DataFixtures.cifarBatch(records: 10_000, labelOverride: (index: 7, label: 10)))
        dirs.append(dir)
        DataFixtures.assertDataError(.badLabel, containing: ["data_batch_1.bin", "label 10 in record 7 is outside 0…9"]) {
            try DatasetSplits.load(format: .cifar10, directory: dir)
        }
    }

    func testCIFARRecordLayoutOnSyntheticBatch() throws {
        // One valid synthetic file read by the reader directly: label and planes land where expected.
        let dir = try DataFixtures.makeTempDirectory("cifar-one")
        dirs.append(dir)
        try DataFixtures.write(DataFixtures.cifarBatch(records: 10_000), to: p(dir, "b.bin"))
        let raw = try CIFAR10Reader.readSplit(paths: [p(dir, "b.bin")])
        XCTAssertEqual(raw.count, 10_000)
        XCTAssertEqual(Array(raw.labels.prefix(12)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
        for (r, k) in [(0, 0), (1, 0), (3, 1024 + 5), (9999, 3071)] {
            XCTAssertEqual(raw.pixels[r * 3072 + k], UInt8((r + k) % 256), "record \(r) byte \(k)")
        }
    }
}
