import Foundation

/// Whole-file access for the dataset readers: plain or gzip-compressed, bounded, regular files only
/// (see `BoundedFile`).
enum FileBytes {
    /// Calls `body` with at most `limit` (decompressed) bytes of `path` and whether the content goes
    /// on past them; the buffer is freed afterwards. Unreadable files throw `DataError(.unreadable)`.
    static func withContents<R>(of path: String, limit: Int,
                                _ body: (_ bytes: UnsafeBufferPointer<UInt8>, _ longer: Bool) throws -> R) throws -> R {
        try BoundedFile.withContents(of: path, limit: limit, gunzip: true,
                                     failure: { DataError(.unreadable, file: path, $0) }, body)
    }

    /// `directory/name` or `directory/name.gz`, whichever is a regular file (symbolic links
    /// followed), `name` first; else whichever exists in some other form (a directory, a dangling
    /// symbolic link, a loop, a device), so that reading it says what it is; else nil.
    static func locate(_ name: String, in directory: String) -> String? {
        let candidates = [name, name + ".gz"].map { (directory as NSString).appendingPathComponent($0) }
        var st = stat()
        if let regular = candidates.first(where: { stat($0, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG }) {
            return regular
        }
        return candidates.first { lstat($0, &st) == 0 }
    }

    /// " (after gunzip)" for a .gz path: sizes in messages are of the decompressed bytes.
    static func sizeQualifier(_ path: String) -> String { path.hasSuffix(".gz") ? " (after gunzip)" : "" }

    /// "N bytes", or "more than N bytes" when the read stopped at its bound, qualified for .gz paths.
    static func size(_ count: Int, longer: Bool, _ path: String) -> String {
        (longer ? "more than " : "") + "\(count) bytes" + sizeQualifier(path)
    }

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
