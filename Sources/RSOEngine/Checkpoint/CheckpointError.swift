/// A checkpoint file that cannot be read, is not valid safetensors, or cannot be written.
///
/// Every message names the file and says what was expected and what was found, e.g.
/// `run/ckpt.safetensors: header says 1234 bytes but only 100 follow the 8-byte length field`.
public struct CheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Path of the file concerned (for writes: the destination path).
    public var file: String
    /// What was expected and what was found.
    public var detail: String

    public init(file: String, detail: String) {
        self.file = file
        self.detail = detail
    }

    public var description: String { "\(file): \(detail)" }
}
