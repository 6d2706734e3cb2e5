import XCTest
@testable import RSOEngine

final class ResumeTests: XCTestCase {
    private func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rso-resume-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    /// Interrupt mid-layer (several times), checkpoint, resume in a new trainer: the final weights
    /// equal the uninterrupted run's bit for bit — with caching, a parallel scheme and residuals.
    func testResumeIsBitExact() throws {
        for (update, cache) in [(UpdateScheme.sequential, true), (.neuronParallel, false), (.layerParallel, true)] {
            var o = tinyOptions(cycles: 2)
            o.update = update
            o.cache = cache
            let net = tinyResidualNetwork()
            o.net = net.name
            let whole = try makeTrainer(o, network: net)
            XCTAssertEqual(whole.run(), .finished)

            let path = tempPath("ckpt.safetensors")
            var t = try makeTrainer(o, network: net)
            var stops = 0
            // Stop points chosen inside layers (not at unit or cycle boundaries).
            for chunk in [37, 211, 95] {
                XCTAssertEqual(t.run(maxTrials: chunk), .trialLimit)
                XCTAssertGreaterThan(t.state.position, 0)
                try t.saveCheckpoint(to: path)
                t = try Trainer.resume(from: path, options: o, train: t.train, test: t.test,
                                       scheduler: SerialScheduler(), network: net)
                stops += 1
            }
            XCTAssertEqual(t.run(), .finished)
            XCTAssertEqual(weightBits(t.parameters), weightBits(whole.parameters), "\(update) cache \(cache)")
            XCTAssertEqual(t.state.trials, whole.state.trials)
            XCTAssertEqual(stops, 3)
        }
    }

    /// A stop requested while trial 5 finishes ends the run right after it.
    func testInterruptFinishesTrialThenStops() throws {
        final class StopAfterFive: TrainingObserver {
            let stop: StopRequest
            init(_ stop: StopRequest) { self.stop = stop }
            func trialFinished(_ info: UnitInfo, position: Int, decision: TrialDecision, totalTrials: Int) {
                if totalTrials == 5 { stop.request() }
            }
        }
        let t = try makeTrainer(tinyOptions())
        let observer = StopAfterFive(t.stop)
        t.observer = observer
        XCTAssertEqual(t.run(), .interrupted)
        XCTAssertEqual(t.state.trials, 5)
    }

    func testMismatchedCheckpointsAreRejected() throws {
        let o = tinyOptions()
        let t = try makeTrainer(o)
        _ = t.run(maxTrials: 10)
        let path = tempPath("a.safetensors")
        try t.saveCheckpoint(to: path)

        var changed = o
        changed.batch = 16
        XCTAssertThrowsError(try Trainer.resume(from: path, options: changed, train: t.train, test: t.test,
                                                scheduler: SerialScheduler(), network: tinyNetwork())) {
            let msg = "\($0)"
            XCTAssertTrue(msg.contains("--batch") && msg.contains(path), msg)
        }
        var otherNet = o
        otherNet.net = "mnist6"
        XCTAssertThrowsError(try Trainer.resume(from: path, options: otherNet, train: t.train, test: t.test,
                                                scheduler: SerialScheduler())) {
            XCTAssertTrue("\($0)".contains("mnist6"), "\($0)")
        }
        // Truncated file.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = tempPath("cut.safetensors")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        XCTAssertThrowsError(try Trainer.resume(from: cut, options: o, train: t.train, test: t.test,
                                                scheduler: SerialScheduler(), network: tinyNetwork())) {
            XCTAssertTrue("\($0)".contains(cut), "\($0)")
        }
    }

    /// The weights in a checkpoint are plain named F32 tensors.
    func testCheckpointHoldsNamedWeightTensors() throws {
        let t = try makeTrainer(tinyOptions())
        let st = try t.checkpoint()
        XCTAssertEqual(try st.floats("conv1.weight"), t.parameters.weights[0].values)
        XCTAssertEqual(st.tensor("conv1.weight")?.shape, [4, 1, 3, 3])
        XCTAssertNotNil(st.tensor("fc.bias"))
        XCTAssertEqual(st.metadata["format"], Trainer.checkpointFormat)
    }
}
