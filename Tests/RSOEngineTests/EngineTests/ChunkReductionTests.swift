import XCTest
@testable import RSOEngine

final class ChunkReductionTests: XCTestCase {
    /// Totals add the chunks in chunk order, starting from 0, per column: with 1e16, 1, −1e16 in
    /// chunk order the 1 is lost (1e16 + 1 rounds to 1e16), which any other order would keep.
    func testSumsChunksInOrderPerColumn() {
        // 3 chunks, stride 4, width 2 (columns 2–3 of each chunk are not read).
        let partials: [Double] = [1e16, 5, 99, 99,
                                  1, 6, 99, 99,
                                  -1e16, 7, 99, 99]
        var total = [Double](repeating: .nan, count: 2)
        OrderedChunkSum().sum(partials, chunks: 3, stride: 4, width: 2, into: &total)
        XCTAssertEqual(total, [0, 18])
        XCTAssertEqual(OrderedChunkSum().sum(partials, chunks: 3, stride: 4), 0)
        XCTAssertEqual(OrderedChunkSum().sum(partials, chunks: 2, stride: 4), 1e16)
        XCTAssertEqual(OrderedChunkSum().sum(partials, chunks: 0, stride: 4), 0)
    }

    /// A run's loss is the ordered sum of its per-chunk losses, whatever the chunking of the
    /// batch's work across workers (the executor combines partials only through its reduction).
    func testExecutorLossIsTheOrderedSumOfChunkLosses() {
        let net = NetworkZoo.mnist6()
        let data = dataset(for: net, count: 40)
        let p = NetworkParameters.heNormal(network: net, seed: 5)
        let whole = ForwardExecutor(parameters: p, capacity: 40, chunkSamples: 8)
        whole.loadInput(from: data, range: 0..<40)
        let r = whole.run()
        // Each chunk alone, with the whole batch's BN statistics, gives that chunk's loss.
        let stats = whole.statistics()
        let one = ForwardExecutor(parameters: p, capacity: 8, chunkSamples: 8)
        var chunkLosses: [Double] = []
        for c in 0..<5 {
            one.loadInput(from: data, range: (c * 8)..<(c * 8 + 8))
            chunkLosses.append(one.run(bn: .fixed(stats)).lossSum)
        }
        XCTAssertEqual(r.lossSum, OrderedChunkSum().sum(chunkLosses, chunks: 5))
    }
}
