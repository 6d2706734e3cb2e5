import CSupport
import Foundation
import XCTest

@testable import RSOEngine

/// Synthetic dataset files and the location of the real ones, for the data-layer tests.
enum DataFixtures {
    // MARK: - Real data

    /// Root holding mnist/ and cifar-10-batches-bin/: $RSO_TEST_DATA, else shared/data next to or
    /// inside the package.
    static let sharedDataRoot: String? = {
        let fm = FileManager.default
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["RSO_TEST_DATA"] { candidates.append(env) }
        candidates += [packageRoot.appendingPathComponent("shared/data").path,
                       packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path]
        return candidates.first { fm.fileExists(atPath: ($0 as NSString).appendingPathComponent("mnist")) }
    }()

    static func realDirectory(_ sub: String) throws -> String {
        guard let root = sharedDataRoot else { throw XCTSkip("shared data directory not found (set RSO_TEST_DATA)") }
        let dir = (root as NSString).appendingPathComponent(sub)
        guard FileManager.default.fileExists(atPath: dir) else { throw XCTSkip("\(dir) not present") }
        return dir
    }

    // MARK: - Temporary directories

    static func makeTempDirectory(_ label: String = "data") throws -> String {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rso-\(label)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func path(_ dir: String, _ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    // MARK: - Reading

    /// `cs_read_file_bounded` as values: return code, bytes, whether the content goes on, message.
    static func readBounded(_ path: String, limit: Int, gunzip: Bool = true)
        -> (rc: Int32, bytes: [UInt8], longer: Bool, error: String) {
        var data: UnsafeMutablePointer<UInt8>? = nil
        var len = 0
        var longer: Int32 = 0
        var err = [CChar](repeating: 0, count: 1024)
        let rc = cs_read_file_bounded(path, limit, gunzip ? 1 : 0, &data, &len, &longer, &err, err.count)
        defer { cs_free(data) }
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? []
        return (rc, bytes, longer != 0, err.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    }

    /// One gzip member holding `count` zero bytes, compressed by the system's gzip at its best
    /// ratio (about 1000:1): a few of these concatenated make a gzip bomb.
    static func gzippedZeros(_ count: Int) throws -> [UInt8] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "head -c \(count) /dev/zero | gzip -9 -c"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, !data.isEmpty else { throw XCTSkip("gzip is not available") }
        return [UInt8](data)
    }

    /// A directory entry `name` in `dir` that is not a regular file, and the phrase that says what it is.
    enum Irregular: CaseIterable {
        case directory, devZero, danglingSymlink, symlinkLoop, fifo

        func make(_ name: String, in dir: String) throws {
            let path = DataFixtures.path(dir, name)
            let fm = FileManager.default
            switch self {
            case .directory: try fm.createDirectory(atPath: path, withIntermediateDirectories: false)
            case .devZero: try fm.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
            case .danglingSymlink: try fm.createSymbolicLink(atPath: path, withDestinationPath: "no-such-target")
            case .symlinkLoop:
                try fm.createSymbolicLink(atPath: path, withDestinationPath: name + ".other")
                try fm.createSymbolicLink(atPath: path + ".other", withDestinationPath: name)
            case .fifo: guard mkfifo(path, 0o600) == 0 else { throw POSIXError(.EIO) }
            }
        }

        var phrase: String {
            switch self {
            case .directory: return "is a directory, expected a regular file"
            case .devZero: return "is a character device, expected a regular file"
            case .danglingSymlink: return "is a dangling symbolic link to 'no-such-target'"
            case .symlinkLoop: return "is a symbolic link loop"
            case .fifo: return "is a FIFO (named pipe), expected a regular file"
            }
        }
    }

    // MARK: - IDX

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    /// IDX images: pixel (i, y, x) = (i·7 + y·28 + x) mod 256.
    static func idxImages(count: Int, rows: Int = 28, cols: Int = 28, magic: UInt32 = 0x803) -> [UInt8] {
        var bytes = bigEndian(magic) + bigEndian(UInt32(count)) + bigEndian(UInt32(rows)) + bigEndian(UInt32(cols))
        bytes.reserveCapacity(16 + count * rows * cols)
        for i in 0..<count {
            for y in 0..<rows {
                for x in 0..<cols { bytes.append(UInt8((i * 7 + y * 28 + x) % 256)) }
            }
        }
        return bytes
    }

    static func idxLabels(_ labels: [UInt8], magic: UInt32 = 0x801) -> [UInt8] {
        bigEndian(magic) + bigEndian(UInt32(labels.count)) + labels
    }

    static func labels(_ count: Int) -> [UInt8] { (0..<count).map { UInt8($0 % 10) } }

    /// A complete small IDX dataset (train 20, test 10) in a new temp directory; `gzip` stores every
    /// file as name.gz.
    static func idxDirectory(train: Int = 20, test: Int = 10, gzip: Bool = false) throws -> String {
        let dir = try makeTempDirectory("idx")
        let files: [(String, [UInt8])] = [
            ("train-images-idx3-ubyte", idxImages(count: train)),
            ("train-labels-idx1-ubyte", idxLabels(labels(train))),
            ("t10k-images-idx3-ubyte", idxImages(count: test)),
            ("t10k-labels-idx1-ubyte", idxLabels(labels(test))),
        ]
        for (name, bytes) in files {
            if gzip {
                try write(storedGzip(bytes), to: path(dir, name + ".gz"))
            } else {
                try write(bytes, to: path(dir, name))
            }
        }
        return dir
    }

    // MARK: - CIFAR-10

    static let cifarRecord = 3073

    /// `records` CIFAR-10 records with labels r mod 10 (or `labelAt` overrides) and pixel bytes
    /// (r + k) mod 256.
    static func cifarBatch(records: Int, labelOverride: (index: Int, label: UInt8)? = nil) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: records * cifarRecord)
        for r in 0..<records {
            bytes[r * cifarRecord] = UInt8(r % 10)
            for k in 0..<3072 { bytes[r * cifarRecord + 1 + k] = UInt8((r + k) % 256) }
        }
        if let o = labelOverride { bytes[o.index * cifarRecord] = o.label }
        return bytes
    }

    /// A CIFAR directory whose data_batch_1.bin is `first`; the other files exist but are empty
    /// (the reader fails on the first file before reaching them).
    static func cifarDirectory(firstBatch first: [UInt8]) throws -> String {
        let dir = try makeTempDirectory("cifar")
        try write(first, to: path(dir, "data_batch_1.bin"))
        for name in ["data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"] {
            try write([], to: path(dir, name))
        }
        return dir
    }

    // MARK: - gzip without zlib

    /// A valid gzip member holding `data` in stored (uncompressed) deflate blocks.
    static func storedGzip(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out.append(final)
            out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        out += littleEndian(crc32(data)) + littleEndian(UInt32(truncatingIfNeeded: data.count))
        return out
    }

    static func littleEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var table = [UInt32](repeating: 0, count: 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            table[i] = c
        }
        var crc: UInt32 = 0xFFFF_FFFF
        for b in data { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    // MARK: - Assertions

    /// Runs `body`, expects a DataError of `kind` whose message contains every one of `fragments`.
    static func assertDataError<T>(_ kind: DataError.Kind, containing fragments: [String],
                                   file: StaticString = #filePath, line: UInt = #line,
                                   _ body: () throws -> T) {
        do {
            _ = try body()
            XCTFail("expected a DataError (\(kind)), got success", file: file, line: line)
        } catch let error as DataError {
            if ProcessInfo.processInfo.environment["RSO_PRINT_ERRORS"] != nil { print("DataError: \(error)") }
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            for f in fragments {
                XCTAssertTrue(error.description.contains(f), "message lacks “\(f)”: \(error)", file: file, line: line)
            }
        } catch {
            XCTFail("expected a DataError, got \(error)", file: file, line: line)
        }
    }

    /// Mean and population std in double (a `while` loop: tens of millions of floats in a debug build).
    static func meanStd(_ x: UnsafeBufferPointer<Float>) -> (mean: Double, std: Double) {
        var s = 0.0
        var s2 = 0.0
        guard let p = x.baseAddress else { return (0, 0) }
        var i = 0
        while i < x.count {
            let v = Double(p[i])
            s += v
            s2 += v * v
            i += 1
        }
        let n = Double(x.count)
        let m = s / n
        return (m, max(0, s2 / n - m * m).squareRoot())
    }

    /// Per-channel mean/std of a dataset's normalised images.
    static func channelMeanStd(_ d: Dataset) -> [(mean: Double, std: Double)] {
        let plane = d.height * d.width
        return (0..<d.channels).map { c in
            var s = 0.0
            var s2 = 0.0
            d.images.withUnsafeBufferPointer { all in
                for i in 0..<d.count {
                    let part = UnsafeBufferPointer(rebasing: all[((i * d.channels + c) * plane)..<((i * d.channels + c + 1) * plane)])
                    let (m, sd) = meanStd(part)
                    s += m * Double(plane)
                    s2 += (sd * sd + m * m) * Double(plane)
                }
            }
            let n = Double(d.count * plane)
            let m = s / n
            return (m, max(0, s2 / n - m * m).squareRoot())
        }
    }
}
