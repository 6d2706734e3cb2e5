import XCTest

@testable import RSOEngine

/// Full vs incremental evaluation on the small synthetic networks: whole cycles, with and without
/// caching, plain chain and residual (zero-padded shortcut), and thread-count invariance.
final class TinyEquivalenceIncrementalTests: XCTestCase {
    private func pair(_ o: TrainingOptions, network: NetworkSpec, scheduler: () -> ChunkScheduler = { SerialScheduler() })
        throws -> (Trainer, Trainer) {
        var f = o, i = o
        f.evaluation = .full
        i.evaluation = .incremental
        return (try makeTrainer(f, network: network, scheduler: scheduler()),
                try makeTrainer(i, network: network, scheduler: scheduler()))
    }

    func testWholeCyclesAgreeOnTinyChain() throws {
        for cache in [true, false] {
            var o = tinyOptions(cycles: 1)
            o.cache = cache
            let (f, i) = try pair(o, network: tinyNetwork())
            let r = lockstep(full: f, incremental: i, steps: f.trialsPerCycle)
            XCTAssertEqual(r.decisions, f.trialsPerCycle)
            XCTAssertEqual(r.lossWMismatches, 0, "W's loss comes from the same full run on both paths")
            XCTAssertGreaterThan(r.accepted, 0)
            print("tiny chain cache \(cache): \(r.decisions) decisions, \(r.accepted) accepted, \(r.disagreements.count) disagreements \(r.disagreements), max |Δloss| \(r.maxLossError)")
            XCTAssertEqual(weightBits(f.parameters), weightBits(i.parameters))
        }
    }

    func testWholeCyclesAgreeOnTinyResidual() throws {
        for cache in [true, false] {
            var o = tinyOptions(cycles: 1)
            o.cache = cache
            let (f, i) = try pair(o, network: tinyResidualNetwork())
            let r = lockstep(full: f, incremental: i, steps: f.trialsPerCycle)
            XCTAssertEqual(r.decisions, f.trialsPerCycle)
            XCTAssertEqual(r.lossWMismatches, 0)
            print("tiny residual cache \(cache): \(r.decisions) decisions, \(r.accepted) accepted, \(r.disagreements.count) disagreements \(r.disagreements), max |Δloss| \(r.maxLossError)")
            XCTAssertEqual(weightBits(f.parameters), weightBits(i.parameters))
        }
    }

    /// Same seed, serial vs 1–3 workers on either scheduler ⇒ identical weights on the incremental path.
    func testThreadCountDoesNotChangeIncrementalWeights() throws {
        var o = tinyOptions(cycles: 1)
        o.evaluation = .incremental
        func weights(_ scheduler: ChunkScheduler) throws -> [[UInt32]] {
            let t = try makeTrainer(o, network: tinyResidualNetwork(), scheduler: scheduler)
            _ = t.run(maxTrials: 200)
            return weightBits(t.parameters)
        }
        let serial = try weights(SerialScheduler())
        for threads in [1, 2, 3] {
            for kind in ProductionScheduler.allCases {
                XCTAssertEqual(try weights(try kind.make(threads: threads)), serial, "\(kind) \(threads)")
            }
        }
    }

    /// The reference kernels give the same decisions through the incremental path.
    func testReferenceKernelsAgree() throws {
        var o = tinyOptions(cycles: 1)
        o.evaluation = .incremental
        o.net = "tiny"
        let train = tinyData(count: 96, seed: 1)
        let p = NetworkParameters.heNormal(network: tinyNetwork(), seed: 3)
        let ex = ForwardExecutor(parameters: p, capacity: 24, kernels: .reference, variants: 3)
        let eo = ForwardExecutor(parameters: p, capacity: 24, variants: 3)
        let idx = (0..<24).map { Int32($0 * 3) }
        for e in [ex, eo] { idx.withUnsafeBufferPointer { e.loadInput(from: train, indices: $0) }; e.run() }
        let ir = IncrementalEvaluator(executor: ex), io = IncrementalEvaluator(executor: eo)
        for (d, kind, index) in [(0, ParameterKind.weight, 5), (1, .weight, 40), (2, .gamma, 1), (2, .beta, 3), (3, .weight, 7), (3, .bias, 2)] {
            let w0 = p.tensor(layer: d, kind: kind)[index]
            let a = ir.evaluate(layer: d, kind: kind, index: index, plus: w0 + 0.1, minus: w0 - 0.1)
            let b = io.evaluate(layer: d, kind: kind, index: index, plus: w0 + 0.1, minus: w0 - 0.1)
            XCTAssertEqual(a.0, b.0, accuracy: 1e-5, "\(d) \(kind)")
            XCTAssertEqual(a.1, b.1, accuracy: 1e-5, "\(d) \(kind)")
        }
    }
}
