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

    /// Forward results are bit-identical for 1–4 pinned workers.
    func testForwardIsIdenticalForAnyWorkerCount() throws {
        let net = NetworkZoo.cifarDepth10()
        let data = dataset(for: net, count: 45)
        let p = NetworkParameters.heNormal(network: net, seed: 21)
        var results: [BatchResult] = []
        for n in [1, 2, 3, 4] {
            let ex = ForwardExecutor(parameters: p, capacity: 45, chunkSamples: 8, scheduler: try pool(n))
            ex.loadInput(from: data, range: 0..<45)
            results.append(ex.run())
        }
        XCTAssertTrue(results.allSatisfy { $0 == results[0] })
    }

    /// Training with 1, 2, 3, 4 workers ends with byte-identical checkpoints' weights.
    func testTrainingIsIdenticalForAnyWorkerCount() throws {
        var o = tinyOptions(cycles: 1)
        o.net = "tiny-res"
        var bits: [[[UInt32]]] = []
        for n in [1, 2, 3, 4] {
            let t = try makeTrainer(o, network: tinyResidualNetwork(), scheduler: try pool(n))
            _ = t.run(maxTrials: 150)
            bits.append(weightBits(t.parameters))
        }
        XCTAssertTrue(bits.allSatisfy { $0 == bits[0] })
    }

    /// No oversubscription: while training with W workers the process runs W − 1 extra worker
    /// threads and nothing multiplies them (BLAS single-threaded, no OpenMP team inside a worker).
    func testProcessThreadCountDuringTraining() throws {
        let before = Int(cs_process_thread_count())
        let p = try pool(3)
        let t = try makeTrainer(tinyOptions(cycles: 1), scheduler: p)
        var peak = 0
        _ = t.run(maxTrials: 80, safePoint: { _ in peak = max(peak, Int(cs_process_thread_count())) })
        XCTAssertGreaterThan(peak, 0)
        // +2 pool threads; the OpenMP runtime may have parked its own team from earlier tests
        // (cs_parallel_for), which exists before too and is counted in `before`.
        XCTAssertLessThanOrEqual(peak, before + 2)
        XCTAssertEqual(cs_blas_get_threads(), 1)
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
