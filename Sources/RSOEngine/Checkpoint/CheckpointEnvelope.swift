import Foundation

/// What a trainer's options must offer to be checked on resume: the network they train and the
/// options that differ from a checkpoint's, one "flag: checkpoint X, now Y" line each.
public protocol ResumableOptions: Codable {
    var net: String { get }
    func differences(from saved: Self) -> [String]
}

/// A trainer that saves its run as a checkpoint (safetensors with a CheckpointEnvelope).
public protocol CheckpointWriting {
    func checkpoint() throws -> SafeTensors
}

extension CheckpointWriting {
    /// Atomic: a crash mid-write leaves the previous checkpoint intact.
    public func saveCheckpoint(to path: String) throws {
        try checkpoint().write(atomicallyTo: path)
    }
}

/// Collects the "flag: checkpoint X, now Y" lines of ResumableOptions.differences.
public struct OptionDifferences {
    public private(set) var lines: [String] = []

    public init() {}

    public mutating func check<T: Equatable>(_ flag: String, _ now: T, _ saved: T) {
        if now != saved { lines.append("\(flag): checkpoint \(saved), now \(now)") }
    }
}

/// The metadata every trainer's checkpoint shares (RSO's and SGD's): its format name, its
/// network and its options, state and history as JSON. JSON is written with sorted keys and
/// non-finite numbers as the strings "inf", "-inf", "nan" (a non-finite test loss must not make a
/// checkpoint unwritable); every refusal names the file and what was expected.
public enum CheckpointEnvelope {
    public static func json<T: Encodable>(_ v: T) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try enc.encode(v), as: UTF8.self)
    }

    /// The JSON value under metadata `key` of the checkpoint `file`.
    public static func decode<T: Decodable>(_ st: SafeTensors, _ key: String, file: String) throws -> T {
        guard let s = st.metadata[key] else { throw CheckpointError(file: file, detail: "metadata has no \"\(key)\"") }
        do {
            let dec = JSONDecoder()
            dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            return try dec.decode(T.self, from: Data(s.utf8))
        } catch {
            throw CheckpointError(file: file, detail: "metadata \"\(key)\" is not valid: \(error)")
        }
    }

    /// The metadata of a checkpoint: format, network name, options, the trainer's state and its
    /// evaluations so far (and whatever else the trainer adds, as JSON).
    public static func metadata<O: ResumableOptions, S: Encodable, E: Encodable>(
        format: String, network: String, options: O, state: S, evaluations: E,
        more: [String: String] = [:]) throws -> [String: String] {
        var m = more
        m["format"] = format
        m["network"] = network
        m["options"] = try json(options)
        m["state"] = try json(state)
        m["evaluations"] = try json(evaluations)
        return m
    }

    /// Checks what a resume needs before reading the run's state: the format (`what` names the
    /// kind of checkpoint expected, "an rso checkpoint"), the network (`--net`; `network`, when
    /// given, is used instead of the zoo's), and options equal to the checkpoint's. Returns the
    /// network.
    public static func checkResume<O: ResumableOptions>(_ st: SafeTensors, file: String, format: String, what: String,
                                                       options: O, network: NetworkSpec?) throws -> NetworkSpec {
        func fail(_ detail: String) -> CheckpointError { CheckpointError(file: file, detail: detail) }
        guard st.metadata["format"] == format else {
            throw fail("not \(what) (metadata format is \(st.metadata["format"].map { "\"\($0)\"" } ?? "missing"), expected \"\(format)\")")
        }
        guard let netName = st.metadata["network"] else { throw fail("metadata has no \"network\"") }
        guard netName == options.net else {
            throw fail("checkpoint is for network \(netName), but --net is \(options.net)")
        }
        guard let net = network ?? NetworkZoo.network(named: netName) else {
            throw fail("unknown network \(netName); expected one of \(NetworkZoo.names.joined(separator: ", "))")
        }
        let saved: O = try decode(st, "options", file: file)
        let diffs = options.differences(from: saved)
        guard diffs.isEmpty else {
            throw fail("options differ from the checkpoint's (a resumed run must use the same ones): " + diffs.joined(separator: "; "))
        }
        return net
    }
}
