import Foundation
import XCTest

@testable import RSOEngine

/// `write(atomicallyTo:)` replaces the destination in one rename, leaves no temporary file behind,
/// and reports an unwritable destination as a CheckpointError naming the path.
final class AtomicWriteCheckpointTests: XCTestCase {
    private var dir = ""
    override func setUpWithError() throws { dir = try CheckpointFixtures.makeTempDirectory("atomic") }
    override func tearDown() {
        chmod(dir, 0o755)
        CheckpointFixtures.remove(dir)
        super.tearDown()
    }

    private func listing(_ d: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: d).sorted()  // includes dot files
    }

    private func small(_ value: Float) -> SafeTensors {
        var st = SafeTensors(metadata: ["v": "\(value)"])
        st.add("w", floats: [value], shape: [1])
        return st
    }

    func testWriteCreatesFileWithSerializedBytesAndNoTempFile() throws {
        let path = CheckpointFixtures.path(dir, "ckpt.safetensors")
        let st = CheckpointFixtures.sample()
        try st.write(atomicallyTo: path)
        XCTAssertEqual(try CheckpointFixtures.contents(path), st.serialized())
        XCTAssertEqual(try listing(dir), ["ckpt.safetensors"])
    }

    func testWriteReplacesExistingFileByRename() throws {
        let path = CheckpointFixtures.path(dir, "ckpt.safetensors")
        let big = CheckpointFixtures.sample()
        try big.write(atomicallyTo: path)
        // A reader holding the old file keeps seeing it whole: the new file is a new inode, not
        // the old one truncated and rewritten.
        let oldReader = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? oldReader.close() }

        let replacement = small(2.5)
        try replacement.write(atomicallyTo: path)
        XCTAssertEqual(try SafeTensors.read(path: path), replacement)
        XCTAssertEqual(try CheckpointFixtures.contents(path).count, replacement.serialized().count)
        XCTAssertEqual(try listing(dir), ["ckpt.safetensors"])
        XCTAssertEqual([UInt8](try oldReader.readToEnd() ?? Data()), big.serialized())

        // And again, over a file written by someone else.
        try CheckpointFixtures.write(Array("not a checkpoint".utf8), to: path)
        try small(3).write(atomicallyTo: path)
        XCTAssertEqual(try SafeTensors.read(path: path), small(3))
        XCTAssertEqual(try listing(dir), ["ckpt.safetensors"])
    }

    func testWriteIntoMissingDirectoryThrows() throws {
        let missing = CheckpointFixtures.path(dir, "no-such-dir")
        let path = CheckpointFixtures.path(missing, "ckpt.safetensors")
        assertCheckpointError(file: path, containing: [
            "cannot create temporary file", "in directory \(missing)", "No such file or directory",
            "expected an existing, writable directory",
        ]) { try small(1).write(atomicallyTo: path) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing))
        XCTAssertEqual(try listing(dir), [])
    }

    func testWriteUnderARegularFileThrows() throws {
        let notDir = CheckpointFixtures.path(dir, "plain")
        try CheckpointFixtures.write([1], to: notDir)
        let path = CheckpointFixtures.path(notDir, "ckpt.safetensors")
        assertCheckpointError(file: path, containing: ["cannot create temporary file", "Not a directory"]) {
            try small(1).write(atomicallyTo: path)
        }
    }

    func testWriteOverADirectoryThrowsAndCleansUp() throws {
        let target = CheckpointFixtures.path(dir, "taken")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        try CheckpointFixtures.write([1], to: CheckpointFixtures.path(target, "inside"))
        assertCheckpointError(file: target, containing: ["cannot rename temporary file", "over it"]) {
            try small(1).write(atomicallyTo: target)
        }
        XCTAssertEqual(try listing(dir), ["taken"], "temporary file removed after the failed rename")
    }

    func testWriteIntoReadOnlyDirectoryThrows() throws {
        guard geteuid() != 0 else { throw XCTSkip("running as root: directory permissions are not enforced") }
        let path = CheckpointFixtures.path(dir, "ckpt.safetensors")
        XCTAssertEqual(chmod(dir, 0o555), 0)
        assertCheckpointError(file: path, containing: ["cannot create temporary file", "Permission denied"]) {
            try small(1).write(atomicallyTo: path)
        }
    }

    func testPathSplitting() {
        XCTAssertEqual(AtomicFile.parentDirectory(of: "a/b/c.st"), "a/b")
        XCTAssertEqual(AtomicFile.parentDirectory(of: "c.st"), ".")
        XCTAssertEqual(AtomicFile.parentDirectory(of: "/c.st"), "/")
        XCTAssertEqual(AtomicFile.lastComponent(of: "a/b/c.st"), "c.st")
        XCTAssertEqual(AtomicFile.lastComponent(of: "c.st"), "c.st")
        XCTAssertEqual(AtomicFile.join(".", "x"), "./x")
        XCTAssertEqual(AtomicFile.join("/", "x"), "/x")
    }

    func testTrailingSlashIsNotAFilePath() {
        let path = dir + "/"
        assertCheckpointError(file: path, containing: ["expected a file path"]) { try small(1).write(atomicallyTo: path) }
    }
}
