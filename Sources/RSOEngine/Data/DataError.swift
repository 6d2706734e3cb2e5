/// A dataset that cannot be found or does not have the expected shape.
///
/// Every message names the file (or directory) concerned, what was expected and what was found,
/// e.g. `…/train-images-idx3-ubyte.gz: bad magic 0x00000802, expected 0x00000803 (IDX images)`.
public struct DataError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// No data directory given, or the directory does not exist.
        case missingDirectory
        /// A file the format needs is not in the directory.
        case missingFile
        /// The file exists but cannot be read or decompressed (I/O error, truncated or corrupt gzip).
        case unreadable
        /// The header's magic number is not the expected one.
        case badMagic
        /// The header's dimensions are not the expected ones.
        case badDimensions
        /// The file size does not match what its header (or the format) implies.
        case badSize
        /// A label is outside 0…9.
        case badLabel
        /// Images and labels of one split disagree on the count.
        case countMismatch
    }

    public let kind: Kind
    /// Path of the file (or directory) the problem is about.
    public let file: String
    /// What was expected and what was found.
    public let detail: String

    public init(_ kind: Kind, file: String, _ detail: String) {
        self.kind = kind
        self.file = file
        self.detail = detail
    }

    public var description: String { "\(file): \(detail)" }
}

/// Where to get each dataset, quoted in "missing" errors.
enum DataSources {
    static let debianFashionMNIST = "/usr/share/datasets/fashion-mnist"
    static let idx = "get MNIST from http://yann.lecun.com/exdb/mnist/ or Fashion-MNIST with "
        + "`apt-get install dataset-fashion-mnist` (files under \(debianFashionMNIST))"
    static let cifar10 = "get the CIFAR-10 binary version from "
        + "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz (unpack it: cifar-10-batches-bin/)"

    static func hint(for format: DatasetFormat) -> String {
        switch format {
        case .idx: return idx
        case .cifar10: return cifar10
        }
    }
}
