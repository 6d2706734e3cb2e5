import Foundation
import XCTest

@testable import RSOEngine

/// The real `rso` process on hostile data files: a clear error and exit status, never a signal,
/// and memory bounded by what the headers allow.
final class BoundedReadCLITests: XCTestCase {
    private var dirs: [String] = []
    override func tearDown() {
        dirs.forEach(DataFixtures.remove)
        super.tearDown()
    }

    private func idxDirectory(train: Int) throws -> String {
        let dir = try DataFixtures.idxDirectory(train: train)
        dirs.append(dir)
        return dir
    }

    private func eval(_ dir: String) throws -> MeasuredRun {
        try runRSOMeasured(["eval", "--net", "mnist6", "--data-dir", dir, "--threads", "1"])
    }

    private func assertFailsCleanly(_ r: MeasuredRun, saying fragment: String, line: UInt = #line) {
        XCTAssertNil(r.signal, "ended by signal \(r.signal ?? 0): \(r.output)", line: line)
        XCTAssertNotNil(r.exitCode, line: line)
        XCTAssertNotEqual(r.exitCode, 0, r.output, line: line)
        XCTAssertTrue(r.output.contains(fragment), "'\(fragment)' not in: \(r.output)", line: line)
    }

    func testGzipBombIsCutAtTheSizeTheHeaderClaims() throws {
        // Header: 60 000 images of 28×28 (47 040 016 bytes); body: 2 GiB of zeros in ~2 MB of gzip.
        // Unbounded, the read grew to 2.1 GB of memory before failing.
        let dir = try idxDirectory(train: 20)
        try DataFixtures.write(DataFixtures.idxLabels(DataFixtures.labels(60_000)),
                               to: DataFixtures.path(dir, IDXReader.trainLabels))
        let header = DataFixtures.bigEndian(0x803) + DataFixtures.bigEndian(60_000)
            + DataFixtures.bigEndian(28) + DataFixtures.bigEndian(28)
        let member = try DataFixtures.gzippedZeros(64 << 20)
        let path = DataFixtures.path(dir, IDXReader.trainImages + ".gz")
        try FileManager.default.removeItem(atPath: DataFixtures.path(dir, IDXReader.trainImages))
        try DataFixtures.write(DataFixtures.storedGzip(header) + Array([[UInt8]](repeating: member, count: 32).joined()), to: path)

        let r = try eval(dir)
        assertFailsCleanly(r, saying: "\(path): file is more than 47040016 bytes (after gunzip), expected 47040016 for 60000 images")
        // The cap is 47 MB of images (plus the data set of 60 000 samples); a quarter of the bomb is
        // far above that and far below what inflating it whole takes.
        print("gzip bomb: rso peak RSS \(r.peakRSSBytes >> 20) MiB")
        XCTAssertLessThan(r.peakRSSBytes, 512 << 20, "peak RSS \(r.peakRSSBytes >> 20) MiB")
    }

    func testLabelsLinkedToDevZeroAreRefused() throws {
        // Used to grow its buffer until allocation failed.
        let dir = try idxDirectory(train: 20)
        let path = DataFixtures.path(dir, IDXReader.trainLabels)
        try FileManager.default.removeItem(atPath: path)
        try DataFixtures.Irregular.devZero.make(IDXReader.trainLabels, in: dir)
        assertFailsCleanly(try eval(dir), saying: "\(path): is a character device, expected a regular file")
    }

    func testDirectoryDanglingLinkAndLoopSayWhatThePathIs() throws {
        // All three used to say "not found".
        for kind in [DataFixtures.Irregular.directory, .danglingSymlink, .symlinkLoop] {
            let dir = try idxDirectory(train: 20)
            let path = DataFixtures.path(dir, IDXReader.trainLabels)
            try FileManager.default.removeItem(atPath: path)
            try kind.make(IDXReader.trainLabels, in: dir)
            let r = try eval(dir)
            assertFailsCleanly(r, saying: "\(path): \(kind.phrase)")
            XCTAssertFalse(r.output.contains("not found"), r.output)
        }
    }
}
