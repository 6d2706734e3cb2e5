import XCTest
@testable import RSOEngine

final class ForwardExecutorTests: XCTestCase {
    /// Optimised kernels vs the reference twins through a whole network. Per-sample losses are
    /// O(1); float rounding through ~10 layers of K ≤ 288-term sums with batch-norm in between
    /// stays far below 1e-3 relative on the summed loss.
    func testOptimizedMatchesReferenceKernels() {
        for net in [NetworkZoo.mnist6(), NetworkZoo.cifarDepth10()] {
            let data = dataset(for: net, count: 70)
            let p = NetworkParameters.heNormal(network: net, seed: 5)
            let opt = ForwardExecutor(parameters: p, capacity: 70, chunkSamples: 16)
            let ref = ForwardExecutor(parameters: p, capacity: 70, chunkSamples: 16, kernels: .reference)
            opt.loadInput(from: data, range: 0..<70)
            ref.loadInput(from: data, range: 0..<70)
            let a = opt.run(), b = ref.run()
            XCTAssertEqual(a.lossSum, b.lossSum, accuracy: 1e-3 * abs(b.lossSum), net.name)
            XCTAssertEqual(a.count, 70)
            let sa = opt.statistics(), sb = ref.statistics()
            for d in sa.mean.indices {
                for i in sa.mean[d].indices {
                    XCTAssertEqual(sa.mean[d][i], sb.mean[d][i], accuracy: 1e-3 * (1 + abs(sb.mean[d][i])))
                    XCTAssertEqual(sa.variance[d][i], sb.variance[d][i], accuracy: 1e-3 * (1 + sb.variance[d][i]))
                }
            }
        }
    }

    /// Fixed chunks + chunk-ordered reductions ⇒ bit-identical results for any worker count, on
    /// the pool and on an OpenMP team alike.
    func testResultsAreIdenticalForAnyThreadCount() throws {
        let net = NetworkZoo.cifarDepth10()
        let data = dataset(for: net, count: 53)
        let p = NetworkParameters.heNormal(network: net, seed: 9)
        func run(_ scheduler: ChunkScheduler) -> (BatchResult, BNStatistics) {
            let ex = ForwardExecutor(parameters: p, capacity: 53, chunkSamples: 8, scheduler: scheduler)
            ex.loadInput(from: data, range: 0..<53)
            return (ex.run(), ex.statistics())
        }
        let serial = run(SerialScheduler())
        for threads in [1, 2, 3, 4] {
            for kind in ProductionScheduler.allCases {
                let r = run(try kind.make(threads: threads))
                XCTAssertEqual(r.0, serial.0, "\(kind) \(threads)")
                XCTAssertEqual(r.1, serial.1, "\(kind) \(threads)")
            }
        }
    }

    /// Running from a cached layer-d input gives the full forward's result. Not bit for bit:
    /// OpenBLAS's edge micro-kernels sum in a different order than its main kernel, so a sample's
    /// conv output can move by an ulp with its column position in the tile (the cache was built in
    /// dataset order, the batch is gathered in random order). A few ulps per activation ⇒ 1e-6
    /// relative on the summed loss is generous and still catches any real mismatch.
    func testRunFromCachedInputMatchesFullRun() {
        for net in [NetworkZoo.mnist6(), NetworkZoo.cifarDepth10()] {
            let data = dataset(for: net, count: 40)
            let p = NetworkParameters.heNormal(network: net, seed: 11)
            let ex = ForwardExecutor(parameters: p, capacity: 40, chunkSamples: 8)
            ex.loadInput(from: data, range: 0..<40)
            ex.run()
            let population = ex.statistics()
            let batchIdx: [Int32] = [3, 17, 0, 39, 21, 8, 8 + 1, 30, 12, 5, 33]
            // Reference: full forward of the batch with fixed statistics.
            let full = batchIdx.withUnsafeBufferPointer { idx -> BatchResult in
                ex.loadInput(from: data, indices: idx)
                return ex.run(bn: .fixed(population))
            }
            for d in net.layers.indices {
                let cache = ActivationCache(executor: ex, dataset: data, layer: d, statistics: population)
                let fromCache = batchIdx.withUnsafeBufferPointer { idx -> BatchResult in
                    cache.load(into: ex, indices: idx)
                    return ex.run(from: cache.startStep, bn: .fixed(population))
                }
                XCTAssertEqual(fromCache.lossSum, full.lossSum, accuracy: 1e-6 * full.lossSum, "\(net.name) layer \(d)")
                XCTAssertEqual(fromCache.count, full.count)
            }
        }
    }

    /// Evaluation sees a trained-looking signal: on separable synthetic data accuracy of a random
    /// init is near chance; the pipeline runs end to end and counts every test sample.
    func testEvaluatorCountsEverySample() {
        let net = NetworkZoo.mnist6()
        let train = dataset(for: net, count: 64), test = dataset(for: net, count: 45, seed: 8)
        let splits = DatasetSplits(format: .idx, train: train, test: test, mean: [0], std: [1], directory: "synthetic")
        let p = NetworkParameters.heNormal(network: net, seed: 1)
        let r = Evaluator.run(parameters: p, splits: splits, statisticsSamples: 20, seed: 1, scheduler: SerialScheduler())
        XCTAssertEqual(r.count, 45)
        XCTAssertEqual(r.statisticsSamples, 20)
        XCTAssertTrue((0...1).contains(r.accuracy))
        XCTAssertGreaterThan(r.loss, 0)
    }
}

/// Batch-wide buffers come from `LargeBuffer` (huge pages where allowed): 2 MB aligned from 2 MB
/// up, ordinary and usable below, and the whole range writable.
final class LargeBufferTests: XCTestCase {
    func testLargeBuffersAreAlignedAndWritable() {
        for count in [1, 1000, (2 << 20) / 4, (2 << 20) / 4 + 1, 3_000_000] {
            let p = LargeBuffer.floats(count)
            if count * 4 >= 2 << 20 { XCTAssertEqual(UInt(bitPattern: p) % UInt(2 << 20), 0, "\(count) floats") }
            p.update(repeating: 1.5, count: count)
            XCTAssertEqual(p[count - 1], 1.5)
            LargeBuffer.free(p)
        }
    }
}
