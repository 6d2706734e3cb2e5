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

    /// Reads one split from an images file and a labels file and checks they agree.
    static func readSplit(imagesPath: String, labelsPath: String) throws -> RawSplit {
        let (count, pixels) = try readImages(imagesPath)
        let labels = try readLabels(labelsPath)
        guard labels.count == count else {
            throw DataError(.countMismatch, file: imagesPath,
                            "image count \(count) does not match label count \(labels.count) in \(labelsPath)")
        }
        return RawSplit(count: count, channels: 1, height: rows, width: cols, pixels: pixels, labels: labels)
    }

    static func readImages(_ path: String) throws -> (count: Int, pixels: [UInt8]) {
        try FileBytes.withContents(of: path) { bytes in
            try checkMagic(bytes, path: path, expected: imagesMagic, what: "IDX images")
            guard bytes.count >= 16 else {
                throw DataError(.badSize, file: path,
                                "file is \(bytes.count) bytes\(FileBytes.sizeQualifier(path)), "
                                    + "too short for the 16-byte IDX images header")
            }
            let count = Int(FileBytes.bigEndianUInt32(bytes, at: 4))
            let r = Int(FileBytes.bigEndianUInt32(bytes, at: 8))
            let c = Int(FileBytes.bigEndianUInt32(bytes, at: 12))
            guard r == rows, c == cols else {
                throw DataError(.badDimensions, file: path,
                                "images are \(r)×\(c), expected \(rows)×\(cols) (MNIST / Fashion-MNIST)")
            }
            let expected = 16 + count * rows * cols
            guard bytes.count == expected else {
                throw DataError(.badSize, file: path,
                                "file is \(bytes.count) bytes\(FileBytes.sizeQualifier(path)), expected "
                                    + "\(expected) for \(count) images of \(rows)×\(cols)")
            }
            let pixels = [UInt8](UnsafeBufferPointer(rebasing: bytes[16...]))
            return (count, pixels)
        }
    }

    static func readLabels(_ path: String) throws -> [UInt8] {
        try FileBytes.withContents(of: path) { bytes in
            try checkMagic(bytes, path: path, expected: labelsMagic, what: "IDX labels")
            guard bytes.count >= 8 else {
                throw DataError(.badSize, file: path,
                                "file is \(bytes.count) bytes\(FileBytes.sizeQualifier(path)), "
                                    + "too short for the 8-byte IDX labels header")
            }
            let count = Int(FileBytes.bigEndianUInt32(bytes, at: 4))
            guard bytes.count == 8 + count else {
                throw DataError(.badSize, file: path,
                                "file is \(bytes.count) bytes\(FileBytes.sizeQualifier(path)), expected "
                                    + "\(8 + count) for \(count) labels")
            }
            let labels = UnsafeBufferPointer(rebasing: bytes[8...])
            if let bad = FileBytes.firstIndex(in: labels, above: UInt8(Dataset.classCount - 1)) {
                throw DataError(.badLabel, file: path,
                                "label \(labels[bad]) at index \(bad) is outside 0…\(Dataset.classCount - 1)")
            }
            return [UInt8](labels)
        }
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
