import CSupport

/// Reading a whole regular file with a size bound, through `cs_read_file_bounded`: every reader
/// (datasets, checkpoints) knows from the header and the format how many bytes it can need, and
/// passes that bound, so a lying header, a gzip bomb or /dev/zero cannot exhaust memory.
enum BoundedFile {
    /// Calls `body` with at most `limit` bytes of `path` (gunzipped when `gunzip` and the file is
    /// gzip) and whether the content goes on past them. When the file cannot be read (missing, not
    /// a regular file, corrupt gzip, …) throws `failure(detail)`, the detail saying what the path is
    /// or what went wrong, without the path itself.
    static func withContents<R>(of path: String, limit: Int, gunzip: Bool, failure: (String) -> Error,
                                _ body: (_ bytes: UnsafeBufferPointer<UInt8>, _ longer: Bool) throws -> R) throws -> R {
        precondition(limit >= 0, "BoundedFile: negative limit \(limit)")
        var data: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        var longer: Int32 = 0
        var message = [CChar](repeating: 0, count: 1024)
        let rc = cs_read_file_bounded(path, limit, gunzip ? 1 : 0, &data, &length, &longer, &message, message.count)
        guard rc == 0, let data else {
            var text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if text.hasPrefix(path + ": ") { text.removeFirst(path.count + 2) }  // the caller's error adds the path
            throw failure(text.isEmpty ? "cannot be read" : text)
        }
        defer { cs_free(data) }
        return try body(UnsafeBufferPointer(start: data, count: length), longer != 0)
    }
}
