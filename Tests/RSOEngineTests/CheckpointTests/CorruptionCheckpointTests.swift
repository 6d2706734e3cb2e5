import Foundation
import XCTest

@testable import RSOEngine

/// Every way a checkpoint file can be wrong gives a CheckpointError naming the file, what was
/// expected and what was found; no corrupt input crashes the reader or is accepted.
final class CorruptionCheckpointTests: XCTestCase {
    private var dir = ""
    override func setUpWithError() throws { dir = try CheckpointFixtures.makeTempDirectory("corrupt") }
    override func tearDown() {
        CheckpointFixtures.remove(dir)
        super.tearDown()
    }

    /// Writes `bytes` to a fresh file and asserts that reading it fails with `fragments`.
    private func assertRejected(_ bytes: [UInt8], _ fragments: [String], line: UInt = #line) throws {
        let path = CheckpointFixtures.path(dir, "bad-\(line).safetensors")
        try CheckpointFixtures.write(bytes, to: path)
        assertCheckpointError(file: path, containing: fragments, line: line) { try SafeTensors.read(path: path) }
    }

    private func rejectHeader(_ header: String, data: [UInt8] = [], _ fragments: [String], line: UInt = #line) throws {
        try assertRejected(CheckpointFixtures.file(header: header, data: data), fragments, line: line)
    }

    private let e = CheckpointFixtures.entry

    // MARK: - File and length field

    func testMissingFile() {
        let path = CheckpointFixtures.path(dir, "nope.safetensors")
        assertCheckpointError(file: path, containing: ["No such file or directory", "expected a safetensors checkpoint"]) {
            try SafeTensors.read(path: path)
        }
    }

    func testDirectoryInsteadOfFile() {
        assertCheckpointError(file: dir, containing: ["is a directory, expected a regular file", "expected a safetensors checkpoint"]) {
            try SafeTensors.read(path: dir)
        }
    }

    func testShorterThanLengthField() throws {
        try assertRejected([], ["file is 0 bytes, expected at least 8"])
        try assertRejected([1, 2, 3, 4, 5], ["file is 5 bytes, expected at least 8", "header length"])
    }

    func testHeaderLengthLargerThanFile() throws {
        let data = [UInt8](repeating: 0x20, count: 100)
        try assertRejected(CheckpointFixtures.littleEndian(1234) + data, ["header says 1234 bytes but only 100 follow"])
        try assertRejected(CheckpointFixtures.littleEndian(100_000_000) + data,
                           ["header says 100000000 bytes but only 100 follow"])
    }

    func testHeaderLengthAboveTheFormatLimit() throws {
        // Refused before anything is parsed, whatever follows: the JSON parser's memory grows with the header.
        let data = [UInt8](repeating: 0x20, count: 100)
        try assertRejected(CheckpointFixtures.littleEndian(.max) + data,
                           ["header says 18446744073709551615 bytes, more than the 100000000"])
        try assertRejected(CheckpointFixtures.littleEndian(100_000_001) + data, ["header says 100000001 bytes, more than"])
        // A text file is not a safetensors file: "hello wo" read as a length is huge.
        try assertRejected(Array("hello world, this is text".utf8), ["header says", "not a safetensors file"])
    }

    // MARK: - Header JSON

    func testHeaderNotJSON() throws {
        try rejectHeader(#"{"a": [1,"#, ["header (9 bytes) is not valid JSON", #"begins "{"a": [1,""#])
        try rejectHeader("", ["header (0 bytes) is not valid JSON"])
        try assertRejected(CheckpointFixtures.littleEndian(4) + [0x7B, 0xFF, 0xFE, 0x7D], ["not valid UTF-8"])
        try rejectHeader("[1, 2]", ["header JSON is an array, expected an object"])
        try rejectHeader(#""str""#, ["header JSON is a string, expected an object"])
    }

    func testMetadataMustBeStrings() throws {
        try rejectHeader(#"{"__metadata__": {"step": 12}}"#, [#""__metadata__" value for "step" is a number, expected a string"#])
        try rejectHeader(#"{"__metadata__": [1]}"#, [#""__metadata__" is an array, expected an object of strings"#])
    }

    // MARK: - Tensor entries

    func testEntryMissingFields() throws {
        try rejectHeader(#"{"w": {"shape": [1], "data_offsets": [0, 4]}}"#,
                         ["tensor 'w' is missing field \"dtype\"", #"found fields ["data_offsets", "shape"]"#])
        try rejectHeader(#"{"w": {"dtype": "F32", "data_offsets": [0, 4]}}"#, ["tensor 'w' is missing field \"shape\""])
        try rejectHeader(#"{"w": {"dtype": "F32", "shape": [1]}}"#, ["tensor 'w' is missing field \"data_offsets\""])
        try rejectHeader(#"{"w": [1, 2]}"#, ["tensor 'w' is an array, expected an object with \"dtype\""])
    }

    func testUnknownOrMistypedDType() throws {
        try rejectHeader("{\(e("w", "BF16", [2], 0, 4))}", data: [0, 0, 0, 0],
                         ["tensor 'w' has unknown or unsupported dtype \"BF16\"", "expected one of F32, F64, I32, I64, U64, U8"])
        try rejectHeader("{\(e("w", "f32", [1], 0, 4))}", data: [0, 0, 0, 0], ["unsupported dtype \"f32\""])
        try rejectHeader(#"{"w": {"dtype": 7, "shape": [1], "data_offsets": [0, 4]}}"#,
                         ["tensor 'w' dtype is a number, expected a string"])
    }

    func testMalformedShapeAndOffsets() throws {
        try rejectHeader(#"{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#,
                         ["tensor 'w' shape is [-1], expected an array of non-negative integers"])
        try rejectHeader(#"{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, ["shape is [1.5]"])
        try rejectHeader(#"{"w": {"dtype": "F32", "shape": [true], "data_offsets": [0, 4]}}"#, ["shape is [true]"])
        try rejectHeader(#"{"w": {"dtype": "F32", "shape": "2", "data_offsets": [0, 4]}}"#, ["shape is \"2\""])
        try rejectHeader(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}"#,
                         ["data_offsets is [0,4,8], expected [begin, end], two non-negative integers"])
        try rejectHeader(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}"#, ["data_offsets is [-4,0]"])
        try rejectHeader(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 18446744073709551616]}}"#,
                         ["data_offsets is", "expected [begin, end]"])
    }

    // MARK: - Offsets against shapes and each other

    func testOffsetsBeginAfterEnd() throws {
        try rejectHeader("{\(e("w", "F32", [1], 8, 4))}", data: [UInt8](repeating: 0, count: 8),
                         ["tensor 'w' data_offsets [8, 4] are out of range: begin is after end"])
    }

    func testByteCountDisagreesWithShape() throws {
        try rejectHeader("{\(e("w", "F32", [3], 0, 8))}", data: [UInt8](repeating: 0, count: 8),
                         ["tensor 'w' data_offsets [0, 8] span 8 bytes, expected 12 = 3 elements (shape [3]) × 4 bytes (F32)"])
        try rejectHeader("{\(e("d", "F64", [2, 2], 0, 16))}", data: [UInt8](repeating: 0, count: 16),
                         ["span 16 bytes, expected 32 = 4 elements (shape [2, 2]) × 8 bytes (F64)"])
        try rejectHeader("{\(e("w", "U8", [Int.max, 3], 0, 8))}", data: [UInt8](repeating: 0, count: 8),
                         ["has more elements than Int can count"])
    }

    func testOverlappingTensors() throws {
        try rejectHeader("{\(e("a", "F32", [2], 0, 8)),\(e("b", "F32", [2], 4, 12))}", data: [UInt8](repeating: 0, count: 12),
                         ["tensor 'b' data_offsets [4, 12] overlap tensor 'a' [0, 8]", "expected non-overlapping"])
        try rejectHeader("{\(e("a", "F32", [2], 0, 8)),\(e("b", "F32", [2], 0, 8))}", data: [UInt8](repeating: 0, count: 8),
                         ["overlap tensor 'a' [0, 8]"])
    }

    func testGapBetweenTensors() throws {
        try rejectHeader("{\(e("a", "F32", [1], 0, 4)),\(e("b", "F32", [1], 8, 12))}", data: [UInt8](repeating: 0, count: 12),
                         ["bytes 4..<8 of the data buffer belong to no tensor", "tensor 'b' begins at 8", "contiguous"])
        try rejectHeader("{\(e("a", "F32", [1], 4, 8))}", data: [UInt8](repeating: 0, count: 8),
                         ["bytes 0..<4 of the data buffer belong to no tensor"])
    }

    // MARK: - Buffer length

    func testTruncatedData() throws {
        var st = SafeTensors()
        st.add("a", floats: [1, 2, 3], shape: [3])
        st.add("b", floats: [4, 5, 6, 7], shape: [2, 2])
        let bytes = st.serialized()  // 8 + 80-byte header + 28 data = 116
        let headerLength = Int(bytes[0])
        XCTAssertEqual(bytes.count, 8 + headerLength + 28)
        try assertRejected(Array(bytes.dropLast(5)), [
            "truncated: tensor 'b' data_offsets [12, 28] run past the data buffer, which has only 23 bytes",
            "file is \(bytes.count - 5) bytes, expected \(bytes.count)",
        ])
        try assertRejected(Array(bytes.prefix(8 + headerLength)), ["truncated: tensor 'a' data_offsets [0, 12]", "only 0 bytes"])
    }

    func testTrailingBytes() throws {
        var st = SafeTensors()
        st.add("a", floats: [1], shape: [1])
        let bytes = st.serialized()
        try assertRejected(bytes + [9, 9, 9], ["file is \(bytes.count + 3) bytes, expected \(bytes.count)",
                                               "3 bytes after the last tensor's data belong to no tensor"])
    }

    // MARK: - Robustness

    /// Every prefix of a valid file is rejected with an error naming the file (never accepted, never a crash).
    func testEveryTruncationIsRejected() throws {
        let bytes = CheckpointFixtures.sample().serialized()
        for cut in 0..<bytes.count {
            XCTAssertThrowsError(try SafeTensors.parse(Array(bytes.prefix(cut)), file: "cut-\(cut)")) { error in
                XCTAssertEqual((error as? CheckpointError)?.file, "cut-\(cut)", "\(error)")
            }
        }
    }

    /// Random byte flips in the length field and header either parse or throw CheckpointError.
    func testRandomHeaderCorruptionNeverCrashes() throws {
        let bytes = CheckpointFixtures.sample().serialized()
        let headerEnd = 8 + Int(bytes[0]) + Int(bytes[1]) << 8
        var rng = SeededGenerator(seed: 20240601)
        for trial in 0..<500 {
            var b = bytes
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                b[Int.random(in: 0..<headerEnd, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            do { _ = try SafeTensors.parse(b, file: "trial-\(trial)") } catch let error as CheckpointError {
                XCTAssertEqual(error.file, "trial-\(trial)")
            }
        }
    }
}
