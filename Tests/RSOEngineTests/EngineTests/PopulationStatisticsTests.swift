import XCTest
@testable import RSOEngine

final class PopulationStatisticsTests: XCTestCase {
    /// Layer-by-layer streaming statistics over a set equal, bit for bit, the batch statistics of
    /// one forward over that same set when it fits in one piece (same sums, same order).
    func testStreamingEqualsOneBatchWhenItFits() {
        let net = NetworkZoo.cifarDepth10()
        let data = dataset(for: net, count: 48)
        let p = NetworkParameters.heNormal(network: net, seed: 2)
        let ex = ForwardExecutor(parameters: p, capacity: 48, chunkSamples: 8)
        ex.loadInput(from: data, range: 0..<48)
        ex.run()
        let batch = ex.statistics()
        let idx = PopulationStatistics.sampleIndices(datasetCount: 48, samples: 48, seed: 0, label: "x")
        XCTAssertEqual(idx, (0..<48).map(Int32.init))
        let streamed = PopulationStatistics.compute(executor: ex, dataset: data, indices: idx)
        XCTAssertEqual(streamed, batch)
    }

    /// In pieces smaller than the set the sums are regrouped: equal to double rounding (1e-9 relative).
    func testPiecesAgreeWithOneBatch() {
        let net = NetworkZoo.mnist6()
        let data = dataset(for: net, count: 50)
        let p = NetworkParameters.heNormal(network: net, seed: 3)
        let big = ForwardExecutor(parameters: p, capacity: 50, chunkSamples: 8)
        big.loadInput(from: data, range: 0..<50)
        big.run()
        let small = ForwardExecutor(parameters: p, capacity: 16, chunkSamples: 8)
        let s = PopulationStatistics.compute(executor: small, dataset: data, indices: (0..<50).map(Int32.init))
        let b = big.statistics()
        for d in b.mean.indices {
            for i in b.mean[d].indices {
                XCTAssertEqual(s.mean[d][i], b.mean[d][i], accuracy: 1e-5 * (1 + abs(b.mean[d][i])))
                XCTAssertEqual(s.variance[d][i], b.variance[d][i], accuracy: 1e-5 * (1 + b.variance[d][i]))
            }
        }
    }
}
