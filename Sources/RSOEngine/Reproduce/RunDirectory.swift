import Foundation

/// What `settings.json` of a run directory holds: everything that decides the run's result. A
/// directory is continued only with equal settings, so a run is never resumed into another.
public struct RunSettings: Codable, Equatable, Sendable {
    public var experiment: String
    public var scale: ReproduceScale
    /// The data actually trained on: "mnist", "cifar-10", or "fashion-mnist" when a smoke run
    /// substitutes Debian's Fashion-MNIST for a dataset missing under the data root.
    public var data: String
    public var run: ReproduceRun

    public init(experiment: String, scale: ReproduceScale, data: String, run: ReproduceRun) {
        self.experiment = experiment
        self.scale = scale
        self.data = data
        self.run = run
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }

    /// "run.rso.batch: 16 there, 100 now" for every setting (as a JSON key path) that differs.
    public func differences(from stored: Data) throws -> [String] {
        let mine = try JSONSerialization.jsonObject(with: try Self.encoder().encode(self))
        let theirs = try JSONSerialization.jsonObject(with: stored)
        var out: [String] = []
        func walk(_ a: Any?, _ b: Any?, _ path: String) {
            if let a = a as? [String: Any], let b = b as? [String: Any] {
                for key in Set(a.keys).union(b.keys).sorted() {
                    walk(a[key], b[key], path.isEmpty ? key : "\(path).\(key)")
                }
                return
            }
            let x = a.map(Self.text) ?? "(absent)", y = b.map(Self.text) ?? "(absent)"
            if x != y { out.append("\(path): \(y) there, \(x) now") }
        }
        walk(mine, theirs, "")
        return out
    }

    private static func text(_ v: Any) -> String {
        if let d = try? JSONSerialization.data(withJSONObject: v, options: [.fragmentsAllowed, .sortedKeys]) {
            return String(decoding: d, as: UTF8.self)
        }
        return "\(v)"
    }
}

/// How a run ended, written as `result.json` once it has finished: its presence is what makes a
/// later `rso reproduce` skip the run.
public struct RunResult: Codable, Equatable, Sendable {
    public struct Point: Codable, Equatable, Sendable {
        /// Updates of all weights: RSO cycles (trials / trials per cycle), SGD iterations.
        public var updates: Double
        public var testAccuracy: Double
        public var testLoss: Double
        public init(updates: Double, testAccuracy: Double, testLoss: Double) {
            self.updates = updates
            self.testAccuracy = testAccuracy
            self.testLoss = testLoss
        }
    }

    /// Test evaluations in order (the last one is of the final weights).
    public var evaluations: [Point]
    /// RSO trials or SGD iterations run in all.
    public var steps: Int
    /// Wall time across every process that worked on the run, evaluations included.
    public var elapsedSeconds: Double

    public init(evaluations: [Point], steps: Int, elapsedSeconds: Double) {
        self.evaluations = evaluations
        self.steps = steps
        self.elapsedSeconds = elapsedSeconds
    }

    public var final: Point? { evaluations.last }
}

/// DIR/<experiment>/<run>/: settings.json, metrics.jsonl, checkpoint.safetensors, log.txt and,
/// once finished, result.json.
public struct RunDirectory: Sendable {
    public let path: String

    public init(root: String, experiment: String, run: String) {
        path = ((root as NSString).appendingPathComponent(experiment) as NSString).appendingPathComponent(run)
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    public var settingsPath: String { file("settings.json") }
    public var metricsPath: String { file("metrics.jsonl") }
    public var checkpointPath: String { file("checkpoint.safetensors") }
    public var logPath: String { file("log.txt") }
    public var resultPath: String { file("result.json") }

    public enum Status: Equatable, Sendable {
        /// Nothing trained yet.
        case fresh
        /// A checkpoint to continue from.
        case unfinished
        case finished(RunResult)
    }

    /// Creates the directory with `settings` on first use; afterwards refuses settings that differ
    /// from the stored ones (the error names the file and every differing setting).
    public func prepare(_ settings: RunSettings) throws -> Status {
        let fm = FileManager.default
        if fm.fileExists(atPath: settingsPath) {
            let stored: Data
            do { stored = try Data(contentsOf: URL(fileURLWithPath: settingsPath)) } catch {
                throw ReproduceError("\(settingsPath): cannot read: \(error.localizedDescription)")
            }
            let diffs: [String]
            do { diffs = try settings.differences(from: stored) } catch {
                throw ReproduceError("\(settingsPath): not valid JSON (\(error.localizedDescription)); remove the run directory \(path) to start the run again")
            }
            guard diffs.isEmpty else {
                throw ReproduceError("\(settingsPath): this directory holds a run with other settings: "
                    + diffs.joined(separator: "; ")
                    + ". Use another --out, or remove \(path) to start this run afresh")
            }
        } else {
            do {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
                try AtomicFile.write([UInt8](try RunSettings.encoder().encode(settings)), to: settingsPath)
            } catch {
                throw ReproduceError("\(settingsPath): cannot write: \(error)")
            }
        }
        if fm.fileExists(atPath: resultPath) {
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: resultPath))
                return .finished(try JSONDecoder.snakeCase.decode(RunResult.self, from: data))
            } catch {
                throw ReproduceError("\(resultPath): not a readable result (\(error)); remove it to finish the run again from its checkpoint")
            }
        }
        return fm.fileExists(atPath: checkpointPath) ? .unfinished : .fresh
    }

    /// Marks the run finished.
    public func writeResult(_ result: RunResult) throws {
        do { try AtomicFile.write([UInt8](try RunSettings.encoder().encode(result)), to: resultPath) } catch {
            throw ReproduceError("\(resultPath): cannot write: \(error)")
        }
    }

    /// Appends `line` to log.txt (best effort: the console has the same line).
    public func log(_ line: String) {
        let data = Data((line + "\n").utf8)
        if let h = FileHandle(forWritingAtPath: logPath) {
            h.seekToEndOfFile()
            h.write(data)
            try? h.close()
        } else {
            _ = FileManager.default.createFile(atPath: logPath, contents: data)
        }
    }
}

extension JSONDecoder {
    static var snakeCase: JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }
}

/// A reproduce error: names the file or flag and what was expected.
public struct ReproduceError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}
