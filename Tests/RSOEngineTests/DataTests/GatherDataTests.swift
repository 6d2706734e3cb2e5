import XCTest

@testable import RSOEngine

/// gatherCNHW writes dst[c][j][y][x] = images[index_j][c][y][x] (C × n × H × W).
final class GatherDataTests: XCTestCase {
    // images[i][c][y][x] = 1000·i + 100·c + 10·y + x; 4 samples of 2×2×3.
    private let tiny: Dataset = {
        let (count, C, H, W) = (4, 2, 2, 3)
        var images: [Float] = []
        for i in 0..<count {
            for c in 0..<C {
                for y in 0..<H {
                    for x in 0..<W { images.append(Float(1000 * i + 100 * c + 10 * y + x)) }
                }
            }
        }
        return Dataset(name: "tiny", count: count, channels: C, height: H, width: W, images: images, labels: [3, 1, 4, 1])
    }()

    private func expectedCNHW(_ indices: [Int]) -> [Float] {
        var out: [Float] = []
        for c in 0..<2 {
            for i in indices {
                for y in 0..<2 {
                    for x in 0..<3 { out.append(Float(1000 * i + 100 * c + 10 * y + x)) }
                }
            }
        }
        return out
    }

    func testGatherByIndices() {
        let indices: [Int32] = [2, 0, 3]
        var dst = [Float](repeating: .nan, count: 2 * 3 * 6)
        var labels = [UInt8](repeating: 255, count: 3)
        indices.withUnsafeBufferPointer { idx in
            dst.withUnsafeMutableBufferPointer { tiny.gatherCNHW(indices: idx, into: $0.baseAddress!) }
            labels.withUnsafeMutableBufferPointer { tiny.gatherLabels(indices: idx, into: $0.baseAddress!) }
        }
        XCTAssertEqual(dst, expectedCNHW([2, 0, 3]))
        XCTAssertEqual(labels, [4, 3, 1])
        // dst[c=1][j=2][y=1][x=2] is sample 3, channel 1, pixel (1, 2).
        XCTAssertEqual(dst[((1 * 3 + 2) * 2 + 1) * 3 + 2], 3112)
    }

    func testGatherRepeatedIndex() {
        let indices: [Int32] = [1, 1]
        var dst = [Float](repeating: .nan, count: 2 * 2 * 6)
        indices.withUnsafeBufferPointer { idx in
            dst.withUnsafeMutableBufferPointer { tiny.gatherCNHW(indices: idx, into: $0.baseAddress!) }
        }
        XCTAssertEqual(dst, expectedCNHW([1, 1]))
    }

    func testGatherByRange() {
        var dst = [Float](repeating: .nan, count: 2 * 2 * 6)
        var labels = [UInt8](repeating: 255, count: 2)
        dst.withUnsafeMutableBufferPointer { tiny.gatherCNHW(range: 1..<3, into: $0.baseAddress!) }
        labels.withUnsafeMutableBufferPointer { tiny.gatherLabels(range: 1..<3, into: $0.baseAddress!) }
        XCTAssertEqual(dst, expectedCNHW([1, 2]))
        XCTAssertEqual(labels, [1, 4])

        // Range and the equivalent index list agree; an empty range writes nothing.
        var viaIndices = [Float](repeating: .nan, count: 2 * 4 * 6)
        var viaRange = [Float](repeating: .nan, count: 2 * 4 * 6)
        [Int32(0), 1, 2, 3].withUnsafeBufferPointer { idx in
            viaIndices.withUnsafeMutableBufferPointer { tiny.gatherCNHW(indices: idx, into: $0.baseAddress!) }
        }
        viaRange.withUnsafeMutableBufferPointer { tiny.gatherCNHW(range: 0..<4, into: $0.baseAddress!) }
        XCTAssertEqual(viaIndices, viaRange)
        var untouched: [Float] = [7]
        untouched.withUnsafeMutableBufferPointer { tiny.gatherCNHW(range: 2..<2, into: $0.baseAddress!) }
        XCTAssertEqual(untouched, [7])
    }

    func testGatherFromLoadedSyntheticIDX() throws {
        // Single channel, real loader path: dst[0][j] is the normalised image of sample index j.
        let dir = try DataFixtures.idxDirectory()
        defer { DataFixtures.remove(dir) }
        let splits = try DatasetSplits.load(format: .idx, directory: dir)
        let d = splits.train
        let indices: [Int32] = [19, 4]
        var dst = [Float](repeating: 0, count: 2 * 784)
        indices.withUnsafeBufferPointer { idx in
            dst.withUnsafeMutableBufferPointer { d.gatherCNHW(indices: idx, into: $0.baseAddress!) }
        }
        XCTAssertEqual(Array(dst[0..<784]), Array(d.images[(19 * 784)..<(20 * 784)]))
        XCTAssertEqual(Array(dst[784...]), Array(d.images[(4 * 784)..<(5 * 784)]))
        // And the normalisation is the documented affine map of the raw byte.
        let raw = Double((19 * 7 + 1 * 28 + 2) % 256)  // sample 19, y 1, x 2
        XCTAssertEqual(Double(dst[1 * 28 + 2]), (raw / 255 - Double(splits.mean[0])) / Double(splits.std[0]), accuracy: 1e-4)
    }
}
