import XCTest
@testable import RSOEngine

/// The whole-dataset passes — streamed population statistics, test evaluation in pieces, the
/// activation-cache build and a gather from it — give bit-identical results on either scheduler
/// at any thread count. The executor holds 16 samples of 50 (4 chunks of 4), so every pass runs in
/// several pieces and 3 threads split the chunks unevenly.
final class WholeDatasetPassTests: XCTestCase {
    func testPassesAreIdenticalOnEitherScheduler() throws {
        let net = NetworkZoo.mnist6()
        let train = dataset(for: net, count: 50), test = dataset(for: net, count: 37, seed: 8)
        let p = NetworkParameters.heNormal(network: net, seed: 6)
        let batch: [Int32] = (0..<16).map { Int32(($0 * 13) % 50) }
        func passes(_ scheduler: ChunkScheduler) -> (BNStatistics, BatchResult, BatchResult) {
            let ex = ForwardExecutor(parameters: p, capacity: 16, chunkSamples: 4, scheduler: scheduler)
            let stats = PopulationStatistics.compute(executor: ex, dataset: train, indices: (0..<50).map(Int32.init))
            let evaluation = Evaluator.evaluate(executor: ex, dataset: test, statistics: stats)
            let cache = ActivationCache(executor: ex, dataset: train, layer: 3, statistics: stats)
            let trial = batch.withUnsafeBufferPointer { i -> BatchResult in
                cache.load(into: ex, indices: i)
                return ex.run(from: cache.startStep)
            }
            return (stats, evaluation, trial)
        }
        let serial = passes(SerialScheduler())
        XCTAssertEqual(serial.1.count, 37)
        for threads in [2, 3] {
            for kind in ProductionScheduler.allCases {
                let r = passes(try kind.make(threads: threads))
                XCTAssertEqual(r.0, serial.0, "statistics, \(kind) \(threads)")
                XCTAssertEqual(r.1, serial.1, "evaluation, \(kind) \(threads)")
                XCTAssertEqual(r.2, serial.2, "cached trial, \(kind) \(threads)")
            }
        }
    }
}
