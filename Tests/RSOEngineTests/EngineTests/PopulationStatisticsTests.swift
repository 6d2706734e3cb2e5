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

extension PopulationStatisticsTests {
    /// The one-forward path and the streaming path agree (streaming forced by a smaller executor),
    /// also when only the layers below d are asked for.
    func testBelowLayerAgreesAcrossPaths() {
        let net = NetworkZoo.mnist6()
        let data = dataset(for: net, count: 40)
        let p = NetworkParameters.heNormal(network: net, seed: 4)
        let idx = (0..<40).map(Int32.init)
        let one = PopulationStatistics.compute(executor: ForwardExecutor(parameters: p, capacity: 40, chunkSamples: 8),
                                               dataset: data, indices: idx, belowLayer: 3)
        let streamed = PopulationStatistics.compute(executor: ForwardExecutor(parameters: p, capacity: 16, chunkSamples: 8),
                                                    dataset: data, indices: idx, belowLayer: 3)
        for d in 0..<3 {
            for i in one.mean[d].indices {
                XCTAssertEqual(one.mean[d][i], streamed.mean[d][i], accuracy: 1e-5 * (1 + abs(one.mean[d][i])))
                XCTAssertEqual(one.variance[d][i], streamed.variance[d][i], accuracy: 1e-5 * (1 + one.variance[d][i]))
            }
            XCTAssertTrue(one.variance[d].allSatisfy { $0 > 0 })
        }
    }
}
