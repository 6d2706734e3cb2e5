import ArgumentParser
import Foundation
import RSOEngine

/// Appends one JSON object per line, each with a "kind" field (start, unit, cycle, eval,
/// checkpoint, end). Keys are snake_case; eval records carry cycle, test_accuracy (0–1), test_loss.
final class MetricsWriter {
    private let handle: FileHandle
    private let encoder: JSONEncoder

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
    }

    func write<T: Encodable>(kind: String, _ record: T) {
        guard let body = try? encoder.encode(record),
              var obj = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else { return }
        obj["kind"] = kind
        obj["time"] = ISO8601DateFormatter().string(from: Date())
        guard var line = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]) else { return }
        line.append(0x0A)
        handle.write(line)
    }
}

struct StartRecord: Encodable {
    var options: TrainingOptions
    var threads: Int
    var trainSamples: Int
    var testSamples: Int
    var stepsPerCycle: Int
    var resumedFrom: String?
    var startTrials: Int
}

struct CheckpointRecord: Encodable {
    var path: String
    var reason: String
    var cycle: Int
    var trials: Int
}

struct EndRecord: Encodable {
    var reason: String
    var trials: Int
    var cycle: Int
    var elapsed: Double
    var peakResidentBytes: Int
    var testAccuracy: Double?
    var testLoss: Double?
}
