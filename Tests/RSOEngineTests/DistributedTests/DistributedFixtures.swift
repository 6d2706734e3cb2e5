import Foundation
import RSOEngine
import XCTest

/// Small real data sets for distributed runs (each run a few seconds), and checkpoint comparison.
enum DistributedFixtures {
    /// The first `train` and `test` images of the real MNIST, as uncompressed IDX files; without
    /// the shared data directory, of Debian's Fashion-MNIST (installed by tools/setup), so CI
    /// always runs the distributed tests on real data.
    static func mnistSubset(train: Int, test: Int) throws -> String {
        let real: String
        if let mnist = try? DataFixtures.realDirectory("mnist") {
            real = mnist
        } else if FileManager.default.fileExists(atPath: DatasetSplits.debianFashionMNISTDirectory) {
            real = DatasetSplits.debianFashionMNISTDirectory
        } else {
            throw XCTSkip("neither MNIST (set RSO_TEST_DATA) nor Fashion-MNIST (\(DatasetSplits.debianFashionMNISTDirectory)) is present")
        }
        let dir = try DataFixtures.makeTempDirectory("mnist-subset")
        for (prefix, count) in [("train", train), ("t10k", test)] {
            for (kind, header, perItem) in [("images-idx3", 16, 784), ("labels-idx1", 8, 1)] {
                let name = "\(prefix)-\(kind)-ubyte"
                let r = DataFixtures.readBounded(DataFixtures.path(real, name + ".gz"), limit: 64 << 20)
                guard r.rc == 0 else { throw XCTSkip("cannot read \(name).gz: \(r.error)") }
                var bytes = Array(r.bytes[0..<(header + count * perItem)])
                bytes.replaceSubrange(4..<8, with: DataFixtures.bigEndian(UInt32(count)))
                try DataFixtures.write(bytes, to: DataFixtures.path(dir, name))
            }
        }
        return dir
    }

    /// A data set in CIFAR-10's binary format, written here: CI has no CIFAR-10, and the reader
    /// accepts only whole files (10,000 records each), so this writes data_batch_1…5.bin and
    /// test_batch.bin (184 MB; the caller removes the directory) of seeded random labels and
    /// pixels. What the data looks like does not matter to the comparison: runs on it must give
    /// one process's bytes, and they use its first few hundred images (--train-samples).
    static func syntheticCIFAR() throws -> String {
        let dir = try DataFixtures.makeTempDirectory("cifar-synthetic")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var record = [UInt8](repeating: 0, count: 3073)
        for name in (1...5).map({ "data_batch_\($0).bin" }) + ["test_batch.bin"] {
            var bytes = [UInt8]()
            bytes.reserveCapacity(10_000 * record.count)
            for _ in 0..<10_000 {
                for i in stride(from: 0, to: record.count, by: 8) {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    for k in 0..<min(8, record.count - i) { record[i + k] = UInt8(truncatingIfNeeded: state >> (8 * k)) }
                }
                record[0] %= 10  // the label
                bytes += record
            }
            try DataFixtures.write(bytes, to: DataFixtures.path(dir, name))
        }
        return dir
    }

    /// A checkpoint as what must match between runs: every tensor's bytes (weights, random
    /// generator states, sampler) and the metadata without wall-clock times.
    static func trainedState(_ path: String) throws -> (tensors: Data, metadata: String) {
        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        guard file.count >= 8 else { throw CocoaError(.fileReadCorruptFile) }
        let headerLength = file.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        // The header is padded with spaces to an 8-byte boundary: its length follows the times'.
        let header = String(decoding: file[8..<(8 + headerLength)], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        let timeless = header.replacingOccurrences(of: #"\\"elapsed(Before)?\\":[0-9.e+-]+"#, with: "",
                                                   options: .regularExpression)
        return (file[(8 + headerLength)...], timeless)
    }
}
