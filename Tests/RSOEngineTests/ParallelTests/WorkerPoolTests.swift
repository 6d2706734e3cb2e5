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
