import CSupport
import Foundation

/// Whole-file access for the dataset readers: plain or gzip-compressed, through
/// `cs_read_file_maybe_gzip` (which reports truncated and corrupt gzip streams as errors).
enum FileBytes {
    /// Calls `body` with the (decompressed) bytes of `path`; the buffer is freed afterwards.
    static func withContents<R>(of path: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) throws -> R {
        var data: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        var message = [CChar](repeating: 0, count: 1024)
        let rc = cs_read_file_maybe_gzip(path, &data, &length, &message, message.count)
        guard rc == 0, let data else {
            var text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if text.hasPrefix(path + ": ") { text.removeFirst(path.count + 2) }  // DataError adds the path
            throw DataError(.unreadable, file: path, text.isEmpty ? "cannot be read" : text)
        }
        defer { cs_free(data) }
        return try body(UnsafeBufferPointer(start: data, count: length))
    }

    /// `directory/name` if it exists, else `directory/name.gz` if it exists, else nil.
    static func locate(_ name: String, in directory: String) -> String? {
        for candidate in [name, name + ".gz"] {
            let path = (directory as NSString).appendingPathComponent(candidate)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return path
            }
        }
        return nil
    }

    /// " (after gunzip)" for a .gz path: sizes in messages are of the decompressed bytes.
    static func sizeQualifier(_ path: String) -> String { path.hasSuffix(".gz") ? " (after gunzip)" : "" }

    /// Big-endian UInt32 at `offset` (the caller checked the length).
    @inline(__always)
    static func bigEndianUInt32(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    /// Index of the first byte > `maxValue`, or nil (a `while` loop: cheap in debug builds too).
    static func firstIndex(in bytes: UnsafeBufferPointer<UInt8>, above maxValue: UInt8) -> Int? {
        guard let p = bytes.baseAddress else { return nil }
        var i = 0
        while i < bytes.count {
            if p[i] > maxValue { return i }
            i += 1
        }
        return nil
    }
}

/// One split as read from disk: raw 0…255 pixels [count][C][H][W] and labels.
struct RawSplit {
    var count: Int
    var channels: Int
    var height: Int
    var width: Int
    var pixels: [UInt8]
    var labels: [UInt8]
}
