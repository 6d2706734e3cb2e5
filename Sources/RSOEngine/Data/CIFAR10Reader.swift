/// CIFAR-10 binary version: each file holds exactly 10 000 records of 3073 bytes, one label byte
/// (0…9) then the 1024 R, 1024 G and 1024 B bytes of a 32×32 image, each plane row-major, i.e. the
/// image is already [C][H][W]. Train = data_batch_1…5.bin, test = test_batch.bin (also accepted
/// gzip-compressed as `name.gz`).
enum CIFAR10Reader {
    static let channels = 3
    static let side = 32
    static let imageBytes = channels * side * side  // 3072
    static let recordBytes = 1 + imageBytes  // 3073
    static let recordsPerFile = 10_000

    static let trainFiles = (1...5).map { "data_batch_\($0).bin" }
    static let testFiles = ["test_batch.bin"]

    /// Reads and concatenates `paths` in order; at most one file's records are read from each.
    /// `recordsPerFile` is the format's 10 000; the fuzzer passes a few so records get parsed.
    static func readSplit(paths: [String], recordsPerFile perFile: Int = CIFAR10Reader.recordsPerFile) throws -> RawSplit {
        let total = paths.count * perFile
        var pixels = [UInt8](repeating: 0, count: total * imageBytes)
        var labels = [UInt8](repeating: 0, count: total)
        for (f, path) in paths.enumerated() {
            let fileBytes = perFile * recordBytes
            try FileBytes.withContents(of: path, limit: fileBytes) { bytes, longer in
                guard !longer else {
                    throw DataError(.badSize, file: path,
                                    "file is \(FileBytes.size(bytes.count, longer: true, path)), expected "
                                        + "\(perFile) records (\(fileBytes) bytes)")
                }
                guard bytes.count % recordBytes == 0 else {
                    throw DataError(.badSize, file: path,
                                    "file is \(bytes.count) bytes\(FileBytes.sizeQualifier(path)), not a multiple "
                                        + "of the \(recordBytes)-byte CIFAR-10 record (1 label + 3×32×32 pixels)")
                }
                let records = bytes.count / recordBytes
                guard records == perFile else {
                    throw DataError(.badSize, file: path,
                                    "file holds \(records) records (\(bytes.count) bytes), expected "
                                        + "\(perFile) records (\(fileBytes) bytes)")
                }
                try copyRecords(bytes, path: path, first: f * perFile, records: perFile, pixels: &pixels, labels: &labels)
            }
        }
        return RawSplit(count: total, channels: channels, height: side, width: side, pixels: pixels, labels: labels)
    }

    private static func copyRecords(_ bytes: UnsafeBufferPointer<UInt8>, path: String, first: Int, records: Int,
                                    pixels: inout [UInt8], labels: inout [UInt8]) throws {
        let src = bytes.baseAddress!
        let maxLabel = UInt8(Dataset.classCount - 1)
        var r = 0
        while r < records {
            if src[r * recordBytes] > maxLabel {
                throw DataError(.badLabel, file: path,
                                "label \(src[r * recordBytes]) in record \(r) is outside 0…\(maxLabel)")
            }
            r += 1
        }
        pixels.withUnsafeMutableBufferPointer { dst in
            labels.withUnsafeMutableBufferPointer { lab in
                for r in 0..<records {
                    let record = src + r * recordBytes
                    lab[first + r] = record[0]
                    (dst.baseAddress! + (first + r) * imageBytes).update(from: record + 1, count: imageBytes)
                }
            }
        }
    }
}
