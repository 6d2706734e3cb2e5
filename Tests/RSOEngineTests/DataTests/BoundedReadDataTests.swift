import Foundation
import XCTest

@testable import RSOEngine

/// Reads are bounded by what the header and the format allow, and only regular files are read:
/// anything else is named for what it is.
final class BoundedReadDataTests: XCTestCase {
    private var dirs: [String] = []
    override func tearDown() {
        dirs.forEach(DataFixtures.remove)
        super.tearDown()
    }
    private func temp() throws -> String {
        let d = try DataFixtures.makeTempDirectory("bounded")
        dirs.append(d)
        return d
    }
    private func p(_ dir: String, _ name: String) -> String { DataFixtures.path(dir, name) }

    // MARK: - The C reader

    func testPlainReadStopsAtTheLimit() throws {
        let path = p(try temp(), "plain.bin")
        let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }  // spans two 64 KiB chunks
        try DataFixtures.write(payload, to: path)
        for limit in [0, 1, 65_535, 65_536, 65_537, 99_999] {
            let r = DataFixtures.readBounded(path, limit: limit)
            XCTAssertEqual(r.rc, 0, r.error)
            XCTAssertEqual(r.bytes, Array(payload.prefix(limit)), "limit \(limit)")
            XCTAssertTrue(r.longer, "limit \(limit)")
        }
        for limit in [100_000, 100_001, 1 << 30] {
            let r = DataFixtures.readBounded(path, limit: limit)
            XCTAssertEqual(r.bytes, payload, "limit \(limit)")
            XCTAssertFalse(r.longer, "limit \(limit)")
        }
        // Without gunzip, gzip bytes are returned as they are.
        let gz = p(try temp(), "raw.gz")
        try DataFixtures.write(DataFixtures.storedGzip([1, 2, 3]), to: gz)
        XCTAssertEqual(DataFixtures.readBounded(gz, limit: 100, gunzip: false).bytes, DataFixtures.storedGzip([1, 2, 3]))
    }

    func testGzipReadStopsAtTheLimit() throws {
        let dir = try temp()
        let a = (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let b = Array("second member".utf8)
        let path = p(dir, "two.gz")
        try DataFixtures.write(DataFixtures.storedGzip(a) + DataFixtures.storedGzip(b), to: path)
        for limit in [0, 10, 149_999, 150_000, 150_012] {
            let r = DataFixtures.readBounded(path, limit: limit)
            XCTAssertEqual(r.rc, 0, r.error)
            XCTAssertEqual(r.bytes, Array((a + b).prefix(limit)), "limit \(limit)")
            XCTAssertTrue(r.longer, "limit \(limit)")
        }
        let whole = DataFixtures.readBounded(path, limit: 150_013)
        XCTAssertEqual(whole.bytes, a + b)
        XCTAssertFalse(whole.longer)

        // Past the limit nothing is read, so nothing there is checked; a whole read still checks all.
        try DataFixtures.write(DataFixtures.storedGzip(a) + [0x41, 0x42], to: path)
        XCTAssertTrue(DataFixtures.readBounded(path, limit: 1000).longer)
        let trailing = DataFixtures.readBounded(path, limit: 1 << 30)
        XCTAssertEqual(trailing.rc, -1)
        XCTAssertTrue(trailing.error.contains("trailing data"), trailing.error)
    }

    func testGzipBombCostsNoMoreThanTheLimit() throws {
        // 64 MiB of zeros in ~64 KB, four times: 256 MiB if inflated whole.
        let member = try DataFixtures.gzippedZeros(64 << 20)
        let path = p(try temp(), "bomb.gz")
        try DataFixtures.write(member + member + member + member, to: path)
        let r = DataFixtures.readBounded(path, limit: 1000)
        XCTAssertEqual(r.rc, 0, r.error)
        XCTAssertEqual(r.bytes, [UInt8](repeating: 0, count: 1000))
        XCTAssertTrue(r.longer)
    }

    func testNonRegularFilesSayWhatTheyAre() throws {
        let dir = try temp()
        for kind in DataFixtures.Irregular.allCases {
            let name = "entry-\(kind)"
            try kind.make(name, in: dir)
            let r = DataFixtures.readBounded(p(dir, name), limit: 1 << 20)
            XCTAssertEqual(r.rc, -1, "\(kind)")
            XCTAssertTrue(r.error.hasPrefix(p(dir, name) + ": " + kind.phrase), r.error)
        }
    }

    // MARK: - Dataset files

    func testDatasetFileThatIsNotRegularIsNamedForWhatItIs() throws {
        // Each used to be reported as "not found" (or, for /dev/zero, read until memory ran out).
        for kind in DataFixtures.Irregular.allCases {
            let dir = try DataFixtures.idxDirectory()
            dirs.append(dir)
            try FileManager.default.removeItem(atPath: p(dir, IDXReader.trainLabels))
            try kind.make(IDXReader.trainLabels, in: dir)
            DataFixtures.assertDataError(.unreadable, containing: [p(dir, IDXReader.trainLabels) + ": " + kind.phrase]) {
                try DatasetSplits.load(format: .idx, directory: dir)
            }
        }
    }

    func testRegularFileIsPreferredOverAnIrregularEntryOfTheOtherName() throws {
        let dir = try DataFixtures.idxDirectory(gzip: true)
        dirs.append(dir)
        try FileManager.default.createDirectory(atPath: p(dir, IDXReader.trainLabels), withIntermediateDirectories: false)
        XCTAssertEqual(try DatasetSplits.load(format: .idx, directory: dir).train.count, 20)
    }

    func testIDXHeaderCountAboveTheLimit() throws {
        let dir = try DataFixtures.idxDirectory()
        dirs.append(dir)
        let claimed = UInt32(IDXReader.maxCount + 1)
        try DataFixtures.write(DataFixtures.bigEndian(0x801) + DataFixtures.bigEndian(claimed) + [1, 2], to: p(dir, IDXReader.trainLabels))
        DataFixtures.assertDataError(.badSize, containing: [IDXReader.trainLabels, "header claims 1000001 labels, more than the 1000000"]) {
            try DatasetSplits.load(format: .idx, directory: dir)
        }
        var images = DataFixtures.idxImages(count: 1)
        images.replaceSubrange(4..<8, with: DataFixtures.bigEndian(claimed))
        let path = p(dir, "images")
        try DataFixtures.write(images, to: path)
        DataFixtures.assertDataError(.badSize, containing: [path, "header claims 1000001 images, more than the 1000000"]) {
            try IDXReader.readImages(path)
        }
    }

    func testOversizedIDXFilesSayMoreThanExpected() throws {
        let dir = try DataFixtures.idxDirectory()
        dirs.append(dir)
        try DataFixtures.write(DataFixtures.idxImages(count: 20) + [9, 9, 9], to: p(dir, IDXReader.trainImages))
        DataFixtures.assertDataError(.badSize, containing: [
            IDXReader.trainImages, "file is more than 15696 bytes, expected 15696 for 20 images of 28×28",
        ]) { try DatasetSplits.load(format: .idx, directory: dir) }

        try DataFixtures.write(DataFixtures.idxLabels(DataFixtures.labels(20)) + [1], to: p(dir, IDXReader.trainLabels))
        DataFixtures.assertDataError(.badSize, containing: [IDXReader.trainLabels, "file is more than 28 bytes, expected 28 for 20 labels"]) {
            try DatasetSplits.load(format: .idx, directory: dir)
        }
    }

    func testImagesHeaderDisagreeingWithTheLabelsIsRefusedBeforeThePixels() throws {
        // The images header claims 60 000 but the file holds 20: the count disagrees with the
        // labels before any size check, and only the 16-byte header was read.
        let dir = try DataFixtures.idxDirectory()
        dirs.append(dir)
        var images = DataFixtures.idxImages(count: 20)
        images.replaceSubrange(4..<8, with: DataFixtures.bigEndian(60_000))
        try DataFixtures.write(images, to: p(dir, IDXReader.trainImages))
        DataFixtures.assertDataError(.countMismatch, containing: ["image count 60000 does not match label count 20"]) {
            try DatasetSplits.load(format: .idx, directory: dir)
        }
    }

    func testOversizedCIFARFileSaysMoreThanExpected() throws {
        let dir = try DataFixtures.cifarDirectory(firstBatch: DataFixtures.cifarBatch(records: 10_001))
        dirs.append(dir)
        DataFixtures.assertDataError(.badSize, containing: [
            "data_batch_1.bin", "file is more than 30730000 bytes, expected 10000 records (30730000 bytes)",
        ]) { try DatasetSplits.load(format: .cifar10, directory: dir) }
    }
}
