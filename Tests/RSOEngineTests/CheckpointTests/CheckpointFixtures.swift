import Foundation
import XCTest

@testable import RSOEngine

/// Temporary directories, hand-built safetensors files and error assertions for the checkpoint tests.
enum CheckpointFixtures {
    static func makeTempDirectory(_ label: String = "ckpt") throws -> String {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rso-\(label)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    static func path(_ dir: String, _ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func contents(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func littleEndian(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }

    /// A file from a header text and a data buffer; `declaredLength` overrides the length field.
    static func file(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        return littleEndian(declaredLength ?? UInt64(h.count)) + h + data
    }

    /// Header entry text for one tensor.
    static func entry(_ name: String, _ dtype: String, _ shape: [Int], _ begin: Int, _ end: Int) -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
    }

    /// A small file with every dtype, metadata included.
    static func sample() -> SafeTensors {
        var st = SafeTensors(metadata: ["trainer": #"{"step":12,"lr":0.5}"#, "format": "rso-v1"])
        st.add("conv1.weight", floats: (0..<24).map { Float($0) * 0.25 - 3 }, shape: [2, 3, 2, 2])
        st.add("bn1.running_var", floats: [1, 2.5, .greatestFiniteMagnitude, -0.0], shape: [4])
        st.add("trainer.loss_history", doubles: [0.1, 1e-300, -2.75], shape: [3])
        st.add("trainer.perm", int32s: [3, -1, Int32.max, Int32.min, 0, 7], shape: [2, 3])
        st.add("trainer.i64", int64s: [Int64.min, 42], shape: [2])
        st.add("trainer.rng", uint64s: [0, 1, UInt64.max, 0x0123_4567_89AB_CDEF], shape: [4])
        st.add("mask", uint8s: [0, 255, 7], shape: [3])
        st.add("scalar", floats: [9.5], shape: [])
        st.add("empty", floats: [], shape: [0, 5])
        return st
    }
}

/// Asserts `body` throws a CheckpointError whose file is `file` and whose description contains every
/// fragment of `containing` (the file path is always checked).
func assertCheckpointError<T>(
    file: String, containing fragments: [String],
    sourceFile: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T
) {
    do {
        _ = try body()
        XCTFail("expected CheckpointError for \(file), got success", file: sourceFile, line: line)
    } catch let error as CheckpointError {
        XCTAssertEqual(error.file, file, "error names the wrong file: \(error)", file: sourceFile, line: line)
        XCTAssertTrue(error.description.hasPrefix(file + ": "), "\(error)", file: sourceFile, line: line)
        for f in fragments {
            XCTAssertTrue(error.description.contains(f), "'\(f)' not in: \(error)", file: sourceFile, line: line)
        }
    } catch {
        XCTFail("expected CheckpointError, got \(type(of: error)): \(error)", file: sourceFile, line: line)
    }
}
