import Foundation
import XCTest

@testable import RSOEngine

/// `--batch-reuse K`: full vs incremental decisions (the incremental path patches W's activations
/// after each accepted trial; the full path recomputes them), seeded and resumable.
final class BatchReuseIncrementalTests: XCTestCase {
    /// A whole cycle with K = 4: the same accept/reject sequence on both paths. W's loss on a reused
    /// batch is the previous trial's kept loss on the incremental path (patched activations) and a
    /// fresh run on the full path: equal within the float tolerance, not bit for bit.
    func testReuseDecisionsAgreeWithFullRecomputation() throws {
        for net in [tinyNetwork(), tinyResidualNetwork()] {
            var o = tinyOptions(cycles: 1)
            o.batchReuse = 4
            o.net = net.name
            let (f, i) = try pairOfTrainers(o, network: net, train: tinyData(count: 96, seed: 1), test: tinyData(count: 40, seed: 2))
            let r = lockstepUnits(full: f, incremental: i) { u in Array(0..<f.unitTrials(u)) }
            print("batch reuse 4, \(net.name): \(r.decisions) decisions, \(r.accepted) accepted, \(r.disagreements.count) disagreements \(r.disagreements), max |Δloss| \(r.maxLossError)")
            XCTAssertEqual(r.decisions, f.trialsPerCycle)
            XCTAssertGreaterThan(r.accepted, 0)
            XCTAssertEqual(weightBits(f.parameters), weightBits(i.parameters), net.name)
        }
    }

    /// K draws a batch every K positions: fewer batches drawn, and a run with K = 1 is unchanged.
    func testReuseDrawsFewerBatchesAndK1IsThePaper() throws {
        var o = tinyOptions(cycles: 1)
        o.evaluation = .incremental
        let a = try makeTrainer(o)
        var k1 = o
        k1.batchReuse = 1
        let b = try makeTrainer(k1)
        _ = a.run(maxTrials: 50); _ = b.run(maxTrials: 50)
        XCTAssertEqual(weightBits(a.parameters), weightBits(b.parameters))
        var k5 = o
        k5.batchReuse = 5
        let c = try makeTrainer(k5)
        _ = c.run(maxTrials: 50)
        XCTAssertEqual(c.state.trials, 50)
        XCTAssertNotEqual(weightBits(a.parameters), weightBits(c.parameters))
    }

    /// Stops land between batches (a stop request waits for the batch's last trial); resuming then
    /// ends bit-identical to an uninterrupted run, with caching and residual blocks.
    func testResumeWithBatchReuseIsBitExact() throws {
        for evaluation in EvaluationPath.allCases {
            var o = tinyOptions(cycles: 2)
            o.batchReuse = 3
            o.evaluation = evaluation
            let net = tinyResidualNetwork()
            o.net = net.name
            let whole = try makeTrainer(o, network: net)
            XCTAssertEqual(whole.run(), .finished)
            let path = temporaryCheckpointPath("rso-reuse")
            var t = try makeTrainer(o, network: net)
            for chunk in [37, 211, 95] {
                XCTAssertEqual(t.run(maxTrials: chunk), .trialLimit)
                XCTAssertEqual(t.state.position % 3, 0, "stops only between batches")
                try t.saveCheckpoint(to: path)
                t = try Trainer.resume(from: path, options: o, train: t.train, test: t.test,
                                       scheduler: SerialScheduler(), network: net)
            }
            XCTAssertEqual(t.run(), .finished)
            XCTAssertEqual(weightBits(t.parameters), weightBits(whole.parameters), "\(evaluation)")
            XCTAssertEqual(t.state.trials, whole.state.trials)
            var other = o
            other.batchReuse = 2
            XCTAssertThrowsError(try Trainer.resume(from: path, options: other, train: t.train, test: t.test,
                                                    scheduler: SerialScheduler(), network: net)) {
                XCTAssertTrue("\($0)".contains("--batch-reuse"), "\($0)")
            }
        }
    }

    func testReuseNeedsSequentialWeightSampling() throws {
        var o = tinyOptions(cycles: 1)
        o.batchReuse = 2
        o.update = .layerParallel
        XCTAssertThrowsError(try makeTrainer(o)) { XCTAssertTrue("\($0)".contains("--batch-reuse"), "\($0)") }
    }

    /// The cost model agrees with FlopModel's full count, and the incremental path is cheaper for
    /// every layer of the paper's networks; FC trials are O(batch).
    func testCostModel() {
        for name in ["mnist6", "cifar-depth10"] {
            let net = NetworkZoo.network(named: name)!
            let model = FlopModel(network: net)
            let inc = model.incremental
            for d in net.layers.indices {
                XCTAssertEqual(inc.fullFlops(fromStep: inc.plan.layerStep[d]), model.fullFlops(fromLayer: d), accuracy: 1e-6)
            }
            for c in inc.layerCosts() {
                XCTAssertLessThan(c.incremental, c.cached, "\(name) \(c.name)")
                XCTAssertLessThan(c.incrementalVariants, c.incremental)
            }
            let fc = net.layers.count - 1
            XCTAssertLessThan(inc.variantFlops(layer: fc, kind: .fcWeight), 100)
        }
    }
}
