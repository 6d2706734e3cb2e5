import Foundation

/// Checks a checkpoint destination before any work, so a run never trains for hours and then
/// finds it cannot save: creates the parent directory if needed, then creates and removes a
/// temporary file there (what the atomic write will do). Errors name the path and what is wrong.
public enum CheckpointDestination {
    public static func prepare(_ path: String, flag: String = "--checkpoint") throws {
        let directory = AtomicFile.parentDirectory(of: path)
        guard !AtomicFile.lastComponent(of: path).isEmpty else {
            throw CheckpointError(file: path, detail: "\(flag) must name a file, not a directory")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw CheckpointError(file: path, detail: "\(flag): \(directory) is not a directory")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw CheckpointError(file: path, detail: "\(flag): cannot create directory \(directory) (a component may be a file, or not writable)")
            }
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CheckpointError(file: path, detail: "\(flag): is a directory, expected a file path")
        }
        let probe = AtomicFile.join(directory, ".\(AtomicFile.lastComponent(of: path)).probe-\(getpid())")
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(0o600))
        guard fd >= 0 else {
            let e = errno
            throw CheckpointError(file: path, detail: "\(flag): cannot create a file in directory \(directory): \(AtomicFile.describe(e)) (expected a writable directory)")
        }
        close(fd)
        unlink(probe)
    }
}
