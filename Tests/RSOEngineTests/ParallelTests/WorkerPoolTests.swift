import CSupport
import XCTest
@testable import RSOEngine

final class WorkerPoolTests: XCTestCase {
    private func pool(_ n: Int) throws -> WorkerPool {
        WorkerPool(plan: ThreadPlan.make(cores: try MachineInfo.cores(), threads: n))
    }

    func testEveryChunkRunsOnceOnItsStaticWorker() throws {
        for n in [1, 2, 3, 4] {
            let p = try pool(n)
            for count in [0, 1, 2, 7, 100] {
                let hits = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(count, 1))
                let who = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0)
                p.forEachChunk(count) { c, w in hits[c] += 1; who[c] = Int32(w) }
                XCTAssertTrue(hits.prefix(count).allSatisfy { $0 == 1 }, "n \(n) count \(count)")
                if count > 1 {
                    for c in 0..<count { XCTAssertEqual(Int(who[c]), (0..<n).first { count * ($0 + 1) / n > c }!) }
                }
                hits.deallocate(); who.deallocate()
            }
        }
    }

    /// No oversubscription, on either scheduler: while training with W workers the process runs
    /// at most W − 1 extra threads and nothing multiplies them (BLAS single-threaded, no OpenMP team
    /// inside a worker). Threads the OpenMP runtime parked after earlier tests exist before too and
    /// are counted in `before`; a team reuses them.
    func testProcessThreadCountDuringTraining() throws {
        for kind in ProductionScheduler.allCases {
            let before = Int(cs_process_thread_count())
            let scheduler = try kind.make(threads: 3)
            let t = try makeTrainer(tinyOptions(cycles: 1), scheduler: scheduler)
            var peak = 0
            _ = t.run(maxTrials: 80, safePoint: { _ in peak = max(peak, Int(cs_process_thread_count())) })
            XCTAssertGreaterThan(peak, 0, "\(kind)")
            XCTAssertLessThanOrEqual(peak, before + 2, "\(kind)")
            XCTAssertEqual(cs_blas_get_threads(), 1, "\(kind)")
        }
    }
}

extension WorkerPoolTests {
    /// A 4-node plan (synthetic topology, unpinned) keeps 4 replicas of the activation cache, each
    /// worker reading its node's copy; results equal the single-copy serial run bit for bit.
    func testReplicatedCacheGivesIdenticalResults() throws {
        let plan = ThreadPlan.make(cores: try MachineInfo.cores(synthetic: "pack:2 numa:2 core:2 pu:1"))
        XCTAssertEqual(plan.replicas, 4)
        let pool = WorkerPool(plan: plan, pin: false)
        let net = NetworkZoo.mnist6()
        let data = dataset(for: net, count: 50)
        let p = NetworkParameters.heNormal(network: net, seed: 8)
        var results: [BatchResult] = []
        for scheduler in [SerialScheduler() as ChunkScheduler, pool] {
            let ex = ForwardExecutor(parameters: p, capacity: 50, chunkSamples: 8, scheduler: scheduler)
            ex.loadInput(from: data, range: 0..<50)
            ex.run()
            let stats = ex.statistics()
            let cache = ActivationCache(executor: ex, dataset: data, layer: 3, statistics: stats)
            XCTAssertEqual(cache.replicaCount, scheduler.replicas)
            let idx: [Int32] = (0..<30).map { Int32(($0 * 7) % 50) }
            results.append(idx.withUnsafeBufferPointer { i -> BatchResult in
                cache.load(into: ex, indices: i)
                return ex.run(from: cache.startStep)
            })
        }
        XCTAssertEqual(results[0], results[1])
    }
}
