/// IDX files (MNIST, Fashion-MNIST): big-endian header, then unsigned bytes.
///   images: magic 0x00000803, count, rows, cols, then count·rows·cols pixels, row-major;
///   labels: magic 0x00000801, count, then count labels 0…9.
/// Both datasets use the same file names; each may be stored raw or gzip-compressed (`name.gz`).
enum IDXReader {
    static let imagesMagic: UInt32 = 0x0000_0803
    static let labelsMagic: UInt32 = 0x0000_0801
    static let rows = 28
    static let cols = 28

    static let trainImages = "train-images-idx3-ubyte"
    static let trainLabels = "train-labels-idx1-ubyte"
    static let testImages = "t10k-images-idx3-ubyte"
    static let testLabels = "t10k-labels-idx1-ubyte"

    /// The most samples one split may hold: above every 28×28 ten-class IDX set (MNIST and
    /// Fashion-MNIST 60 000, QMNIST 120 000), and the bound that keeps a lying header from costing
    /// more than 1 MB of labels and 784 MB of images.
    static let maxCount = 1_000_000

    /// Reads one split from an images file and a labels file and checks they agree. The labels are
    /// read first: their count bounds how much of the images file is read.
    static func readSplit(imagesPath: String, labelsPath: String) throws -> RawSplit {
        let labels = try readLabels(labelsPath)
        let (count, pixels) = try readImages(imagesPath, expectedCount: labels.count, labelsPath: labelsPath)
        return RawSplit(count: count, channels: 1, height: rows, width: cols, pixels: pixels, labels: labels)
    }

    /// Reads an images file; with `expectedCount`, a header claiming another count is refused before
    /// the pixels are read. At most 16 + count·28·28 bytes are read (count ≤ `maxCount`).
    static func readImages(_ path: String, expectedCount: Int? = nil, labelsPath: String = "the labels file")
        throws -> (count: Int, pixels: [UInt8]) {
        let count = try FileBytes.withContents(of: path, limit: 16) { header, _ in
            try checkMagic(header, path: path, expected: imagesMagic, what: "IDX images")
            guard header.count >= 16 else {
                throw DataError(.badSize, file: path,
                                "file is \(header.count) bytes\(FileBytes.sizeQualifier(path)), "
                                    + "too short for the 16-byte IDX images header")
            }
            let r = Int(FileBytes.bigEndianUInt32(header, at: 8))
            let c = Int(FileBytes.bigEndianUInt32(header, at: 12))
            guard r == rows, c == cols else {
                throw DataError(.badDimensions, file: path,
                                "images are \(r)×\(c), expected \(rows)×\(cols) (MNIST / Fashion-MNIST)")
            }
            return try checkedCount(header, path: path, what: "images")
        }
        if let expectedCount, expectedCount != count {
            throw DataError(.countMismatch, file: path,
                            "image count \(count) does not match label count \(expectedCount) in \(labelsPath)")
        }
        let expected = 16 + count * rows * cols
        return try FileBytes.withContents(of: path, limit: expected) { bytes, longer in
            guard bytes.count == expected, !longer else {
                throw DataError(.badSize, file: path,
                                "file is \(FileBytes.size(bytes.count, longer: longer, path)), "
                                    + "expected \(expected) for \(count) images of \(rows)×\(cols)")
            }
            return (count, [UInt8](UnsafeBufferPointer(rebasing: bytes[16...])))
        }
    }

    /// Reads a labels file: at most 8 + count bytes (count ≤ `maxCount`).
    static func readLabels(_ path: String) throws -> [UInt8] {
        let count = try FileBytes.withContents(of: path, limit: 8) { header, _ in
            try checkMagic(header, path: path, expected: labelsMagic, what: "IDX labels")
            guard header.count >= 8 else {
                throw DataError(.badSize, file: path,
                                "file is \(header.count) bytes\(FileBytes.sizeQualifier(path)), "
                                    + "too short for the 8-byte IDX labels header")
            }
            return try checkedCount(header, path: path, what: "labels")
        }
        return try FileBytes.withContents(of: path, limit: 8 + count) { bytes, longer in
            guard bytes.count == 8 + count, !longer else {
                throw DataError(.badSize, file: path,
                                "file is \(FileBytes.size(bytes.count, longer: longer, path)), "
                                    + "expected \(8 + count) for \(count) labels")
            }
            let labels = UnsafeBufferPointer(rebasing: bytes[8...])
            if let bad = FileBytes.firstIndex(in: labels, above: UInt8(Dataset.classCount - 1)) {
                throw DataError(.badLabel, file: path,
                                "label \(labels[bad]) at index \(bad) is outside 0…\(Dataset.classCount - 1)")
            }
            return [UInt8](labels)
        }
    }

    /// The header's count (bytes 4..<8), refused above `maxCount`.
    private static func checkedCount(_ header: UnsafeBufferPointer<UInt8>, path: String, what: String) throws -> Int {
        let count = Int(FileBytes.bigEndianUInt32(header, at: 4))
        guard count <= maxCount else {
            throw DataError(.badSize, file: path,
                            "header claims \(count) \(what), more than the \(maxCount) an IDX split may hold")
        }
        return count
    }

    private static func checkMagic(_ bytes: UnsafeBufferPointer<UInt8>, path: String, expected: UInt32,
                                   what: String) throws {
        let want = "0x" + hex8(expected)
        guard bytes.count >= 4 else {
            throw DataError(.badMagic, file: path,
                            "file is \(bytes.count) bytes\(FileBytes.sizeQualifier(path)), too short for "
                                + "the magic number; expected \(want) (\(what))")
        }
        let magic = FileBytes.bigEndianUInt32(bytes, at: 0)
        guard magic == expected else {
            throw DataError(.badMagic, file: path, "bad magic 0x\(hex8(magic)), expected \(want) (\(what))")
        }
    }

    private static func hex8(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }
}
