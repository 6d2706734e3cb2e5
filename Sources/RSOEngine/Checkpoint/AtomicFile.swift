#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file POSIX I/O for checkpoints.
///
/// `write` is crash-safe: readers of `path` see either the old file or the complete new one, never
/// a partial write. Sequence: create `.<name>.tmp-<pid>-<random>` in the same directory (so the
/// rename cannot cross file systems), write everything, fsync, close, rename over `path`, fsync the
/// directory so the rename itself is durable. On any failure the temporary file is removed.
enum AtomicFile {
    /// Writes `bytes` to `path` atomically. Errors name `path` and the failing step.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let directory = parentDirectory(of: path)
        let name = lastComponent(of: path)
        guard !name.isEmpty else {
            throw CheckpointError(file: path, detail: "expected a file path, found a path ending in '/'")
        }
        let temp = join(directory, ".\(name).tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))")

        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(0o644))
        guard fd >= 0 else {
            let e = errno
            throw CheckpointError(
                file: path,
                detail: "cannot create temporary file \(temp) in directory \(directory): \(describe(e))"
                    + " (expected an existing, writable directory)")
        }
        var closed = false
        var renamed = false
        defer {
            if !closed { _ = close(fd) }
            if !renamed { _ = unlink(temp) }
        }

        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = posixWrite(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    let e = errno
                    if e == EINTR { continue }
                    throw CheckpointError(
                        file: path,
                        detail: "write to temporary file \(temp) failed after \(done) of \(raw.count) bytes: \(describe(e))")
                }
                done += n
            }
        }
        if fsync(fd) != 0 {
            let e = errno
            throw CheckpointError(file: path, detail: "fsync of temporary file \(temp) failed: \(describe(e))")
        }
        closed = true
        if close(fd) != 0 {
            let e = errno
            throw CheckpointError(file: path, detail: "close of temporary file \(temp) failed: \(describe(e))")
        }
        if rename(temp, path) != 0 {
            let e = errno
            throw CheckpointError(file: path, detail: "cannot rename temporary file \(temp) over it: \(describe(e))")
        }
        renamed = true

        // Make the rename durable. Some file systems cannot fsync a directory (EINVAL): the data
        // itself is already on disk, so that is not an error.
        let dfd = open(directory, O_RDONLY | O_CLOEXEC)
        guard dfd >= 0 else {
            let e = errno
            throw CheckpointError(file: path, detail: "written, but cannot open directory \(directory) to fsync it: \(describe(e))")
        }
        defer { _ = close(dfd) }
        if fsync(dfd) != 0 {
            let e = errno
            if e != EINVAL {
                throw CheckpointError(file: path, detail: "written, but fsync of directory \(directory) failed: \(describe(e))")
            }
        }
    }

    /// The whole content of `path`, a regular file of at most `limit` bytes. Errors name `path`:
    /// missing, not a regular file (saying what it is), larger than `limit`, unreadable.
    static func read(_ path: String, limit: Int) throws -> [UInt8] {
        try BoundedFile.withContents(
            of: path, limit: limit, gunzip: false,
            failure: { CheckpointError(file: path, detail: $0 + "; expected a safetensors checkpoint") }
        ) { bytes, longer in
            guard !longer else {
                throw CheckpointError(file: path, detail: "file is larger than \(limit) bytes, the most a checkpoint "
                    + "may have (expected a safetensors checkpoint)")
            }
            return [UInt8](bytes)
        }
    }

    // MARK: - Paths

    /// "dir/sub" for "dir/sub/name", "." for "name", "/" for "/name".
    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func lastComponent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    static func describe(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}

// The C function, named so it does not clash with the Swift method `write` above.
@inline(__always)
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}

