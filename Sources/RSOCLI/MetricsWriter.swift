import ArgumentParser
import Foundation
import RSOEngine

/// Appends one JSON object per line, each with a "kind" field (start, unit, cycle, eval,
/// checkpoint, end). Keys are snake_case; eval records carry cycle, test_accuracy (0–1), test_loss.
/// Non-finite numbers are written as null (JSON has no NaN), so no record is ever dropped; a
/// record that still cannot be written is reported on stderr.
final class MetricsWriter {
    private let handle: FileHandle
    private let encoder: JSONEncoder
    /// Made once: building a formatter per record cost more than the record (one per SGD iteration).
    private let timestamps = ISO8601DateFormatter()

    init(path: String) throws {
        try ensureParentDirectory(path, flag: "--metrics")
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ValidationError("--metrics: cannot create \(path)")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw ValidationError("--metrics: cannot open \(path) for writing") }
        h.seekToEndOfFile()
        handle = h
        encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: Self.nonFinite, negativeInfinity: Self.nonFinite, nan: Self.nonFinite)
    }

    /// Stands for a non-finite number between encoding and the final line, where it becomes null.
    private static let nonFinite = "\u{1}non-finite"

    func write<T: Encodable>(kind: String, _ record: T) {
        do {
            let body = try encoder.encode(record)
            guard var obj = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw CLIError(description: "not a JSON object")
            }
            obj = obj.mapValues(Self.nullingNonFinite)
            obj["kind"] = kind
            obj["time"] = timestamps.string(from: Date())
            var line = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            line.append(0x0A)
            handle.write(line)
        } catch {
            FileHandle.standardError.write(Data("warning: could not write the \(kind) metrics record: \(error)\n".utf8))
        }
    }

    private static func nullingNonFinite(_ v: Any) -> Any {
        switch v {
        case let s as String where s == nonFinite: return NSNull()
        case let d as [String: Any]: return d.mapValues(nullingNonFinite)
        case let a as [Any]: return a.map(nullingNonFinite)
        default: return v
        }
    }
}
