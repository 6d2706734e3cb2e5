import Foundation

// Tensor bytes are copied to and from Swift arrays as they are (memcpy); safetensors is
// little-endian, so the host must be too (x86-64 and arm64 are).
#if !_endian(little)
#error("SafeTensors copies tensor bytes unswapped: it needs a little-endian host")
#endif

/// A safetensors file in memory: named, typed, shaped tensors plus string metadata.
///
/// File layout (https://github.com/huggingface/safetensors):
///
///     [0, 8)          N: header length, little-endian UInt64
///     [8, 8+N)        UTF-8 JSON header, padded with spaces so N is a multiple of 8:
///                     {"NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]}, …,
///                      "__metadata__": {"key": "string value", …}}
///     [8+N, EOF)      data buffer; each tensor at [BEGIN, END) of it (offsets relative to the
///                     buffer), little-endian, row-major, contiguous from 0, no gaps or overlaps.
///
/// `serialized()` lays tensors out (and lists them in the header) in the order of `tensors`; the
/// header is parsed as a JSON object, which carries no order, so `parse` restores it by sorting on
/// the begin offset (ties, which only zero-byte tensors can have, are broken by name). `parse` is as strict as the reference
/// implementation (contiguous tensors, no trailing bytes), and every error names the file and says
/// what was expected and what was found.
public struct SafeTensors: Sendable, Equatable {
    /// The element types this engine reads and writes (a subset of the format's).
    public enum DType: String, Sendable, CaseIterable {
        case f32 = "F32", f64 = "F64", i32 = "I32", i64 = "I64", u64 = "U64", u8 = "U8"

        /// Bytes per element.
        public var elementSize: Int {
            switch self {
            case .u8: return 1
            case .f32, .i32: return 4
            case .f64, .i64, .u64: return 8
            }
        }
    }

    /// One tensor: `bytes` holds product(shape) little-endian elements of `dtype`, row-major.
    public struct Tensor: Sendable, Equatable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var bytes: [UInt8]

        public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// product(shape); 1 for a scalar (shape []).
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// In file order. Names are unique and not "__metadata__".
    public var tensors: [Tensor]
    /// The header's "__metadata__" object (string → string).
    public var metadata: [String: String]
    /// Where this came from, for error messages; not part of equality.
    var source: String

    public init(tensors: [Tensor] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
        self.source = "(in-memory safetensors)"
    }

    public static func == (a: SafeTensors, b: SafeTensors) -> Bool {
        a.tensors == b.tensors && a.metadata == b.metadata
    }

    /// Reserved header key for the metadata object.
    static let metadataKey = "__metadata__"

    // MARK: - Adding tensors

    public mutating func add(_ name: String, floats: [Float], shape: [Int]) {
        append(name, .f32, shape, count: floats.count, Self.pack(floats))
    }

    public mutating func add(_ name: String, doubles: [Double], shape: [Int]) {
        append(name, .f64, shape, count: doubles.count, Self.pack(doubles))
    }

    public mutating func add(_ name: String, int32s: [Int32], shape: [Int]) {
        append(name, .i32, shape, count: int32s.count, Self.pack(int32s))
    }

    public mutating func add(_ name: String, int64s: [Int64], shape: [Int]) {
        append(name, .i64, shape, count: int64s.count, Self.pack(int64s))
    }

    public mutating func add(_ name: String, uint64s: [UInt64], shape: [Int]) {
        append(name, .u64, shape, count: uint64s.count, Self.pack(uint64s))
    }

    public mutating func add(_ name: String, uint8s: [UInt8], shape: [Int]) {
        append(name, .u8, shape, count: uint8s.count, uint8s)
    }

    /// Programmer errors (duplicate name, count ≠ product(shape)) trap: they are not file problems.
    private mutating func append(_ name: String, _ dtype: DType, _ shape: [Int], count: Int, _ bytes: [UInt8]) {
        precondition(name != Self.metadataKey, "SafeTensors: '\(Self.metadataKey)' is reserved for metadata")
        precondition(tensor(name) == nil, "SafeTensors: duplicate tensor name '\(name)'")
        precondition(shape.allSatisfy { $0 >= 0 }, "SafeTensors: tensor '\(name)' has negative shape \(shape)")
        precondition(shape.reduce(1, *) == count,
                     "SafeTensors: tensor '\(name)' has \(count) elements but shape \(shape) needs \(shape.reduce(1, *))")
        tensors.append(Tensor(name: name, dtype: dtype, shape: shape, bytes: bytes))
    }

    // MARK: - Reading tensors

    public func tensor(_ name: String) -> Tensor? {
        tensors.first { $0.name == name }
    }

    public func floats(_ name: String) throws -> [Float] { try values(name, .f32) }
    public func doubles(_ name: String) throws -> [Double] { try values(name, .f64) }
    public func int32s(_ name: String) throws -> [Int32] { try values(name, .i32) }
    public func int64s(_ name: String) throws -> [Int64] { try values(name, .i64) }
    public func uint64s(_ name: String) throws -> [UInt64] { try values(name, .u64) }
    public func uint8s(_ name: String) throws -> [UInt8] { try values(name, .u8) }

    private func values<T: BitwiseCopyable>(_ name: String, _ dtype: DType) throws -> [T] {
        guard let t = tensor(name) else {
            let names = tensors.prefix(12).map { "'\($0.name)'" }.joined(separator: ", ")
                + (tensors.count > 12 ? ", …" : "")
            throw CheckpointError(
                file: source,
                detail: "no tensor named '\(name)' (expected \(dtype.rawValue)); found \(tensors.count) tensors"
                    + (tensors.isEmpty ? "" : ": \(names)"))
        }
        guard t.dtype == dtype else {
            throw CheckpointError(
                file: source, detail: "tensor '\(name)' is \(t.dtype.rawValue) \(t.shape), expected \(dtype.rawValue)")
        }
        return Self.unpack(t.bytes)
    }

    /// Element bytes of `values`, one memcpy.
    static func pack<T: BitwiseCopyable>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { src in
            [UInt8](unsafeUninitializedCapacity: src.count) { dst, n in
                UnsafeMutableRawBufferPointer(dst).copyMemory(from: src)
                n = src.count
            }
        }
    }

    /// `bytes` as elements of T (count = bytes.count / size, which parse and add keep exact), one memcpy.
    static func unpack<T: BitwiseCopyable>(_ bytes: [UInt8]) -> [T] {
        let count = bytes.count / MemoryLayout<T>.stride
        return bytes.withUnsafeBytes { src in
            [T](unsafeUninitializedCapacity: count) { dst, n in
                UnsafeMutableRawBufferPointer(dst).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: src[0..<count * MemoryLayout<T>.stride]))
                n = count
            }
        }
    }

    // MARK: - Writing

    /// The file bytes: length, header (space-padded to a multiple of 8), tensors in `tensors` order.
    /// Traps on an inconsistent tensor (duplicate name, bytes ≠ product(shape)·size).
    public func serialized() -> [UInt8] {
        let json = headerJSON()
        let headerLength = (json.count + 7) / 8 * 8
        let dataLength = tensors.reduce(0) { $0 + $1.bytes.count }

        var out = [UInt8]()
        out.reserveCapacity(8 + headerLength + dataLength)
        withUnsafeBytes(of: UInt64(headerLength).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: headerLength - json.count))
        for t in tensors { out.append(contentsOf: t.bytes) }
        return out
    }

    /// The header, deterministic byte for byte: `{"__metadata__":{…keys sorted…},"NAME":{"dtype":"F32",
    /// "shape":[2,3],"data_offsets":[0,24]},…}` with tensors in `tensors` order.
    ///
    /// Assembled here rather than by serialising one dictionary: JSONSerialization would order the
    /// keys by hash (bytes differing run to run) unless asked to sort them, and sorting costs ~50 ms
    /// for 300 tensors in swift-corelibs-foundation. Strings (names, metadata) are still escaped by
    /// JSONSerialization; everything else is integers and dtype names.
    func headerJSON() -> [UInt8] {
        var json = [UInt8]()
        json.reserveCapacity(64 * (tensors.count + metadata.count) + 2)
        func appendString(_ s: String) {
            do {
                json.append(contentsOf: try JSONSerialization.data(
                    withJSONObject: s, options: [.fragmentsAllowed, .withoutEscapingSlashes]))
            } catch {
                preconditionFailure("SafeTensors: JSONSerialization failed on a string: \(error)")
            }
        }
        func append(_ text: String) { json.append(contentsOf: text.utf8) }

        append("{")
        var first = true
        if !metadata.isEmpty {
            appendString(Self.metadataKey)
            append(":{")
            for (i, key) in metadata.keys.sorted().enumerated() {
                if i > 0 { append(",") }
                appendString(key)
                append(":")
                appendString(metadata[key]!)
            }
            append("}")
            first = false
        }
        var names = Set<String>()
        var offset = 0
        for t in tensors {
            precondition(t.name != Self.metadataKey, "SafeTensors: '\(Self.metadataKey)' is reserved for metadata")
            precondition(names.insert(t.name).inserted, "SafeTensors: duplicate tensor name '\(t.name)'")
            precondition(t.shape.allSatisfy { $0 >= 0 } && t.elementCount * t.dtype.elementSize == t.bytes.count,
                         "SafeTensors: tensor '\(t.name)' has \(t.bytes.count) bytes but \(t.dtype.rawValue) \(t.shape) "
                            + "needs \(t.elementCount * t.dtype.elementSize)")
            if !first { append(",") }
            first = false
            appendString(t.name)
            let shape = t.shape.map(String.init).joined(separator: ",")
            append(":{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(offset + t.bytes.count)]}")
            offset += t.bytes.count
        }
        append("}")
        return json
    }

    /// Serialises and writes crash-safely: temp file in the same directory, write, fsync, rename
    /// over `path`, fsync the directory. Errors (missing or read-only directory, …) name `path`.
    public func write(atomicallyTo path: String) throws {
        try AtomicFile.write(serialized(), to: path)
    }

    // MARK: - Reading

    /// The most bytes `read` accepts by default: far above any checkpoint of the networks here
    /// (the largest holds a few million parameters), far below what would exhaust memory.
    public static let defaultMaxBytes = 1 << 30
    /// The most header bytes `parse` accepts, as the reference implementation (100 MB): the JSON
    /// parser's memory grows with the header, not with the tensors.
    public static let maxHeaderBytes = 100_000_000

    /// Reads and parses `path`, a regular file of at most `maxBytes` bytes.
    public static func read(path: String, maxBytes: Int = defaultMaxBytes) throws -> SafeTensors {
        try parse(AtomicFile.read(path, limit: maxBytes), file: path)
    }

    /// Parses and validates a whole file; `file` names it in errors.
    public static func parse(_ bytes: [UInt8], file: String) throws -> SafeTensors {
        func fail(_ detail: String) -> CheckpointError { CheckpointError(file: file, detail: detail) }

        // Length field and header bounds.
        guard bytes.count >= 8 else {
            throw fail("file is \(bytes.count) bytes, expected at least 8 (little-endian u64 header length): "
                + "not a safetensors file, or truncated")
        }
        var declared: UInt64 = 0
        for i in 0..<8 { declared |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard declared <= UInt64(maxHeaderBytes) else {
            throw fail("header says \(declared) bytes, more than the \(maxHeaderBytes) a safetensors header may have (not a safetensors file, or corrupt)")
        }
        let following = bytes.count - 8
        guard declared <= UInt64(following) else {
            throw fail("header says \(declared) bytes but only \(following) follow the 8-byte length field "
                + "(truncated, or not a safetensors file)")
        }
        let headerLength = Int(declared)
        let headerBytes = bytes[8..<(8 + headerLength)]

        // JSON.
        guard String(bytes: headerBytes, encoding: .utf8) != nil else {
            throw fail("header (\(headerLength) bytes) is not valid UTF-8")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [.fragmentsAllowed])
        } catch {
            let why = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            throw fail("header (\(headerLength) bytes) is not valid JSON: \(why); it begins \(preview(headerBytes))")
        }
        guard let root = object as? [String: Any] else {
            throw fail("header JSON is \(kind(object)), expected an object {\"NAME\": {\"dtype\": …}, …}")
        }

        // Entries, in sorted key order so the first error reported does not depend on hashing.
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for key in root.keys.sorted() {
            let value = root[key]!
            if key == metadataKey {
                guard let m = value as? [String: Any] else {
                    throw fail("\"\(metadataKey)\" is \(kind(value)), expected an object of strings")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw fail("\"\(metadataKey)\" value for \"\(k)\" is \(kind(v)), expected a string")
                    }
                    metadata[k] = s
                }
            } else {
                entries.append(try Entry(key, value, fail))
            }
        }

        // Layout: contiguous from 0, no overlaps, buffer exactly as long as the tensors.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var end = 0
        var previous: Entry? = nil
        for e in entries {
            if e.begin < end, let p = previous {
                throw fail("tensor '\(e.name)' data_offsets [\(e.begin), \(e.end)] overlap tensor '\(p.name)' "
                    + "[\(p.begin), \(p.end)]; expected non-overlapping tensors")
            }
            if e.begin > end {
                throw fail("bytes \(end)..<\(e.begin) of the data buffer belong to no tensor (tensor '\(e.name)' "
                    + "begins at \(e.begin)); expected tensors contiguous from offset 0")
            }
            end = e.end
            previous = e
        }
        let dataStart = 8 + headerLength
        let available = bytes.count - dataStart
        if end > available {
            let e = entries.first { $0.end > available }!
            throw fail("truncated: tensor '\(e.name)' data_offsets [\(e.begin), \(e.end)] run past the data buffer, "
                + "which has only \(available) bytes; file is \(bytes.count) bytes, expected \(dataStart + end)")
        }
        if end < available {
            throw fail("file is \(bytes.count) bytes, expected \(dataStart + end): \(available - end) bytes after "
                + "the last tensor's data belong to no tensor")
        }

        var result = SafeTensors(
            tensors: entries.map {
                Tensor(name: $0.name, dtype: $0.dtype, shape: $0.shape,
                       bytes: Array(bytes[(dataStart + $0.begin)..<(dataStart + $0.end)]))
            },
            metadata: metadata)
        result.source = file
        return result
    }

    /// One validated header entry (fields present and typed, byte count matching the shape).
    private struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var begin: Int
        var end: Int

        init(_ name: String, _ value: Any, _ fail: (String) -> CheckpointError) throws {
            let what = "tensor '\(name)'"
            guard let fields = value as? [String: Any] else {
                throw fail("\(what) is \(kind(value)), expected an object with \"dtype\", \"shape\", \"data_offsets\"")
            }
            func field(_ key: String, _ example: String) throws -> Any {
                guard let v = fields[key] else {
                    throw fail("\(what) is missing field \"\(key)\" (expected e.g. \"\(key)\": \(example)); "
                        + "found fields \(fields.keys.sorted())")
                }
                return v
            }
            var supported: String { DType.allCases.map(\.rawValue).joined(separator: ", ") }
            let dtypeValue = try field("dtype", "\"F32\"")
            guard let dtypeName = dtypeValue as? String else {
                throw fail("\(what) dtype is \(kind(dtypeValue)), expected a string, one of \(supported)")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw fail("\(what) has unknown or unsupported dtype \"\(dtypeName)\", expected one of \(supported)")
            }
            let shapeValue = try field("shape", "[2, 3]")
            guard let shape = nonNegativeInts(shapeValue) else {
                throw fail("\(what) shape is \(describe(shapeValue)), expected an array of non-negative integers")
            }
            let offsetsValue = try field("data_offsets", "[0, 24]")
            guard let offsets = nonNegativeInts(offsetsValue), offsets.count == 2 else {
                throw fail("\(what) data_offsets is \(describe(offsetsValue)), "
                    + "expected [begin, end], two non-negative integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end else {
                throw fail("\(what) data_offsets [\(begin), \(end)] are out of range: begin is after end")
            }
            var count = 1
            for d in shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail("\(what) shape \(shape) has more elements than Int can count") }
                count = p
            }
            let (needed, overflow) = count.multipliedReportingOverflow(by: dtype.elementSize)
            guard !overflow, end - begin == needed else {
                throw fail("\(what) data_offsets [\(begin), \(end)] span \(end - begin) bytes, expected "
                    + "\(overflow ? "more than Int.max" : "\(needed)") = \(count) elements (shape \(shape)) × "
                    + "\(dtype.elementSize) bytes (\(dtype.rawValue))")
            }
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.begin = begin
            self.end = end
        }
    }
}

// MARK: - JSON value helpers

/// An array of JSON integers ≥ 0 (not booleans, not floats), else nil.
private func nonNegativeInts(_ value: Any) -> [Int]? {
    guard let array = value as? [Any] else { return nil }
    var out: [Int] = []
    out.reserveCapacity(array.count)
    for v in array {
        guard let n = v as? NSNumber, !isBoolOrFloat(n), let i = v as? Int, i >= 0 else { return nil }
        out.append(i)
    }
    return out
}

/// JSONSerialization gives NSNumber for true/false (objCType "c") and for reals ("d"); both bridge to
/// Int when they happen to be whole, so they are told apart by type code.
private func isBoolOrFloat(_ n: NSNumber) -> Bool {
    let code = UInt8(bitPattern: n.objCType.pointee)  // one-letter codes: c B d f i q Q …
    return code == UInt8(ascii: "c") || code == UInt8(ascii: "B") || code == UInt8(ascii: "d") || code == UInt8(ascii: "f")
}

/// "a string", "a number", … for messages.
private func kind(_ value: Any) -> String {
    switch value {
    case is String: return "a string"
    case let n as NSNumber: return String(cString: n.objCType) == "c" ? "a boolean" : "a number"
    case is [Any]: return "an array"
    case is [String: Any]: return "an object"
    case is NSNull: return "null"
    default: return "\(type(of: value))"
    }
}

/// The JSON value itself if short (arrays of numbers, strings), else its kind.
private func describe(_ value: Any) -> String {
    if JSONSerialization.isValidJSONObject([value]),
       let data = try? JSONSerialization.data(withJSONObject: [value]) {
        let text = String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
        if text.count <= 60 { return text }
    }
    return kind(value)
}

/// First 40 characters of the header, quoted, for "not valid JSON" errors.
private func preview(_ bytes: ArraySlice<UInt8>) -> String {
    let text = String(decoding: bytes.prefix(40), as: UTF8.self)
    return "\"\(text)\"" + (bytes.count > 40 ? "…" : "")
}
