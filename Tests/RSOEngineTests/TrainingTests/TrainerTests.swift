import XCTest
@testable import RSOEngine

final class TrainerTests: XCTestCase {
    /// After every step the kept state's loss on that step's batch is ≤ the loss of W, and
    /// re-running the batch with the new weights gives exactly the loss the decision recorded.
    /// (The full path, whose losses are exactly a forward run's; the incremental path agrees within
    /// float tolerance, see IncrementalTests.)
    func testAcceptedStepNeverIncreasesLossOnItsBatch() throws {
        var o = tinyOptions(cycles: 1)
        o.cache = false
        o.evaluation = .full
        let t = try makeTrainer(o)
        let check = ForwardExecutor(parameters: t.parameters, capacity: o.batch, chunkSamples: t.executor.chunkSamples)
        let obs = RecordingObserver()
        t.observer = obs
        var accepted = 0
        for _ in 0..<150 {
            _ = t.run(maxTrials: 1)
            let d = try XCTUnwrap(obs.decisions.last)
            XCTAssertLessThanOrEqual(d.keptLoss, d.lossW)
            check.loadInput(from: t.train, indices: UnsafeBufferPointer(t.batchIndices))
            XCTAssertEqual(check.run().meanLoss, d.keptLoss, "step \(obs.decisions.count)")
            if d.choice != .kept { accepted += 1; XCTAssertLessThan(d.keptLoss, d.lossW) }
        }
        XCTAssertGreaterThan(accepted, 0)
    }

    /// With a strong L2 penalty every accepted weight move shrinks |w|.
    func testWeightDecayShrinksAcceptedWeights() throws {
        var o = tinyOptions(cycles: 1)
        o.weightDecay = 1000
        let t = try makeTrainer(o)
        // FC layer first in the visit: 40 weights.
        let before = t.parameters.weights[3].values
        _ = t.run(maxTrials: 40)
        let after = t.parameters.weights[3].values
        var moved = 0
        for i in before.indices where before[i] != after[i] {
            moved += 1
            XCTAssertLessThan(abs(after[i]), abs(before[i]))
        }
        XCTAssertGreaterThan(moved, 0)
    }

    func testTrainingLowersTrainLossAndIsSeeded() throws {
        let a = try makeTrainer(tinyOptions(cycles: 2))
        let obs = RecordingObserver()
        a.observer = obs
        XCTAssertEqual(a.run(), .finished)
        let b = try makeTrainer(tinyOptions(cycles: 2))
        _ = b.run()
        XCTAssertEqual(weightBits(a.parameters), weightBits(b.parameters))
        XCTAssertEqual(obs.evaluations.map(\.cycle), [1, 2])
        XCTAssertLessThan(obs.units.last!.trainLoss, obs.units.first!.trainLoss)
        var other = tinyOptions(cycles: 2)
        other.seed = 18
        let c = try makeTrainer(other)
        _ = c.run()
        XCTAssertNotEqual(weightBits(a.parameters), weightBits(c.parameters))
    }

    /// Same seed, serial vs 1–3 workers on either scheduler ⇒ identical weights, for every option
    /// combination exercised.
    func testThreadCountDoesNotChangeWeights() throws {
        for (update, sampling) in [(UpdateScheme.sequential, SamplingLevel.weight), (.layerParallel, .weight), (.sequential, .layer)] {
            var o = tinyOptions(cycles: 1)
            o.update = update
            o.sampling = sampling
            func weights(_ scheduler: ChunkScheduler) throws -> [[UInt32]] {
                let t = try makeTrainer(o, network: tinyResidualNetwork(), scheduler: scheduler)
                _ = t.run(maxTrials: 120)
                return weightBits(t.parameters)
            }
            let serial = try weights(SerialScheduler())
            for threads in [1, 2, 3] {
                for kind in ProductionScheduler.allCases {
                    XCTAssertEqual(try weights(try kind.make(threads: threads)), serial, "\(update) \(sampling) \(kind) \(threads)")
                }
            }
        }
    }

    func testEveryVariantRuns() throws {
        for delta in DeltaDistribution.allCases {
            for sampling in SamplingLevel.allCases {
                var o = tinyOptions(cycles: 1)
                o.delta = delta
                o.sampling = sampling
                o.order = .inputMajor
                o.update = .neuronParallel
                let t = try makeTrainer(o, network: tinyResidualNetwork())
                XCTAssertEqual(t.run(maxTrials: 60), .trialLimit)
                XCTAssertEqual(t.state.trials, 60)
            }
        }
    }

    func testBadOptionsAreRejected() {
        var o = tinyOptions()
        o.batch = 1000
        XCTAssertThrowsError(try makeTrainer(o)) { XCTAssertTrue("\($0)".contains("--batch")) }
        o = tinyOptions(); o.sigmaFinalRatio = 2
        XCTAssertThrowsError(try makeTrainer(o)) { XCTAssertTrue("\($0)".contains("--sigma-final-ratio")) }
        o = tinyOptions(); o.cycles = 0
        XCTAssertThrowsError(try makeTrainer(o)) { XCTAssertTrue("\($0)".contains("--cycles")) }
    }
}
