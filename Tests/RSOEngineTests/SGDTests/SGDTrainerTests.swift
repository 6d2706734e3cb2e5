import Foundation
@testable import RSOEngine
import XCTest

/// SGD training: determinism across thread counts, bit-exact resume, the optimizer's update rule,
/// the learning-rate schedule, and checkpoints shared with `rso eval`.
final class SGDTrainerTests: XCTestCase {
    private func options(_ net: NetworkSpec, steps: Int = 4, batch: Int = 70) -> SGDOptions {
        var o = SGDOptions(net: net.name)
        o.batch = batch
        o.steps = steps
        o.learningRate = 0.2
        o.momentum = 0.9
        o.nesterov = true
        o.weightDecay = 1e-3
        o.warmupSteps = 2
        o.decay = .cosine
        o.seed = 23
        o.bnSamples = 64
        return o
    }

    private func trainer(_ net: NetworkSpec, _ o: SGDOptions, scheduler: ChunkScheduler = SerialScheduler()) throws -> SGDTrainer {
        try SGDTrainer(options: o, train: tinyData(count: 150, seed: 1), test: tinyData(count: 40, seed: 2),
                       scheduler: scheduler, network: net)
    }

    /// 70-sample batches are 3 chunks (32, 32, 6); 1 and 3 threads must give the same bits, for a
    /// plain network (fused BN + pool) and a residual one (zero-padded shortcut).
    func testWeightsBitIdenticalForAnyThreadCount() throws {
        for net in [tinyNetwork(), tinyResidualNetwork()] {
            var results: [[[UInt32]]] = []
            for threads in [1, 3] {
                let t = try trainer(net, options(net), scheduler: OpenMPScheduler(threads: threads))
                for _ in 0..<4 { t.step() }
                results.append(weightBits(t.parameters) + t.optimizer.momentumBuffers.map { $0.values.map(\.bitPattern) })
            }
            XCTAssertEqual(results[0], results[1], "\(net.name): weights depend on the thread count")
        }
    }

    /// One small step along −g on the same batch lowers its loss by ≈ lr·‖g‖² (first order): the
    /// gradient has the right direction and scale (mean loss). With lr = 1e-3 the second-order
    /// term is ≲ lr²·‖g‖²·curvature, a few percent of the first-order one here: 10% tolerance.
    func testSmallStepDecreasesTheBatchLossAsPredicted() throws {
        for net in [tinyNetwork(), tinyResidualNetwork()] {
            var o = options(net, batch: 50)
            o.momentum = 0
            o.nesterov = false
            o.weightDecay = 0
            let t = try trainer(net, o)
            let before = t.computeGradients().meanLoss
            let g2 = t.backward.gradients.allTensors.reduce(0.0) { $0 + $1.values.reduce(0.0) { $0 + Double($1) * Double($1) } }
            let lr = 1e-3
            t.optimizer.step(gradients: t.backward.gradients, lr: lr, first: true)
            let after = t.executor.run(bn: .batch).meanLoss  // same batch, updated weights
            XCTAssertLessThan(after, before, net.name)
            XCTAssertEqual((before - after) / (lr * g2), 1, accuracy: 0.1, "\(net.name): decrease vs lr·‖g‖²")
        }
    }

    func testResumeIsBitExact() throws {
        let net = tinyResidualNetwork()
        let o = options(net, steps: 5)
        let straight = try trainer(net, o)
        XCTAssertEqual(straight.run(evalEvery: 100), .finished)

        let first = try trainer(net, o)
        XCTAssertEqual(first.run(maxSteps: 2, evalEvery: 100), .stepLimit)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sgd-resume-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try first.saveCheckpoint(to: path)
        let resumed = try SGDTrainer.resume(from: path, options: o, train: tinyData(count: 150, seed: 1),
                                            test: tinyData(count: 40, seed: 2), scheduler: SerialScheduler(), network: net)
        XCTAssertEqual(resumed.state.iteration, 2)
        XCTAssertEqual(resumed.run(evalEvery: 100), .finished)
        XCTAssertEqual(weightBits(resumed.parameters), weightBits(straight.parameters))
        XCTAssertEqual(resumed.optimizer.momentumBuffers.map(\.values), straight.optimizer.momentumBuffers.map(\.values))
        XCTAssertEqual(resumed.evaluations.map(\.updates), [0, 5])

        var other = o
        other.learningRate = 0.3
        XCTAssertThrowsError(try SGDTrainer.resume(from: path, options: other, train: tinyData(count: 150, seed: 1),
                                                   test: tinyData(count: 40, seed: 2), scheduler: SerialScheduler(),
                                                   network: net)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(path) && text.contains("--lr"), text)
        }
    }

    /// An RSO checkpoint is not an SGD run to resume; the error names the file and the format.
    func testResumeRejectsAnRSOCheckpoint() throws {
        let net = tinyNetwork()
        let rso = try makeTrainer(tinyOptions(cycles: 1), network: net)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rso-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try rso.saveCheckpoint(to: path)
        XCTAssertThrowsError(try SGDTrainer.resume(from: path, options: options(net), train: tinyData(count: 150, seed: 1),
                                                   test: tinyData(count: 40, seed: 2), scheduler: SerialScheduler(),
                                                   network: net)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(path) && text.contains(SGDTrainer.checkpointFormat), text)
        }
    }

    /// Both kinds of checkpoint give `rso eval` (NetworkParameters.load) the trainer's exact parameters.
    func testRSOAndSGDCheckpointsAreInterchangeableWeights() throws {
        let net = tinyNetwork()
        let sgd = try trainer(net, options(net))
        sgd.step()
        let rso = try makeTrainer(tinyOptions(cycles: 1), network: net)
        let dir = FileManager.default.temporaryDirectory
        let sgdPath = dir.appendingPathComponent("sgd-\(UUID()).safetensors").path
        let rsoPath = dir.appendingPathComponent("rso-\(UUID()).safetensors").path
        defer { for p in [sgdPath, rsoPath] { try? FileManager.default.removeItem(atPath: p) } }
        try sgd.saveCheckpoint(to: sgdPath)
        try rso.saveCheckpoint(to: rsoPath)
        XCTAssertEqual(weightBits(try NetworkParameters.load(checkpoint: sgdPath, network: net)), weightBits(sgd.parameters))
        XCTAssertEqual(weightBits(try NetworkParameters.load(checkpoint: rsoPath, network: net)), weightBits(rso.parameters))
        XCTAssertThrowsError(try NetworkParameters.load(checkpoint: sgdPath, network: tinyResidualNetwork())) { error in
            XCTAssertTrue("\(error)".contains(sgdPath), "\(error)")
        }
    }

    /// PyTorch's SGD rule on one parameter, by hand: g' = g + λp; buf = g' (first), then μ·buf + g';
    /// Nesterov step g' + μ·buf.
    func testOptimizerFollowsTheMomentumRule() {
        let net = tinyNetwork()
        let p = NetworkParameters(network: net), g = NetworkParameters(network: net)
        p.weights[0][0] = 1.0
        g.weights[0][0] = 0.5
        let opt = SGDOptimizer(parameters: p, momentum: 0.5, nesterov: true, weightDecay: 0.1)
        opt.step(gradients: g, lr: 0.1, first: true)
        // g' = 0.5 + 0.1 = 0.6, buf = 0.6, step = 0.6 + 0.5·0.6 = 0.9 → p = 1 − 0.09 = 0.91
        XCTAssertEqual(p.weights[0][0], 0.91, accuracy: 1e-6)
        opt.step(gradients: g, lr: 0.1, first: false)
        // g' = 0.5 + 0.091 = 0.591, buf = 0.3 + 0.591 = 0.891, step = 0.591 + 0.4455 = 1.0365
        XCTAssertEqual(p.weights[0][0], 0.91 - 0.10365, accuracy: 1e-6)
    }

    func testLearningRateWarmupThenCosine() {
        var o = SGDOptions(net: "x")
        o.learningRate = 0.5
        o.steps = 10
        o.warmupSteps = 4
        o.decay = .cosine
        let s = LearningRateSchedule(options: o)
        XCTAssertEqual((0..<4).map { s.rate(at: $0) }, [0.125, 0.25, 0.375, 0.5])
        XCTAssertEqual(s.rate(at: 4), 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 9), 0, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 6), 0.5 * 0.5 * (1 + cos(Double.pi * 2 / 5)), accuracy: 1e-12)
        o.decay = .constant
        XCTAssertEqual(LearningRateSchedule(options: o).rate(at: 9), 0.5)
    }

    /// Every epoch is a permutation of the training set (no sample twice, none left out).
    func testEpochVisitsEverySampleOnce() throws {
        let net = tinyNetwork()
        let t = try trainer(net, options(net, batch: 40))
        XCTAssertEqual(t.stepsPerEpoch, 4)  // 150 = 40 + 40 + 40 + 30
        for epoch in 0..<2 {
            let seen = (0..<4).flatMap { Array(t.batchIndices(iteration: epoch * 4 + $0)) }
            XCTAssertEqual(seen.sorted(), (0..<150).map(Int32.init))
        }
        XCTAssertNotEqual(Array(t.batchIndices(iteration: 0)), Array(t.batchIndices(iteration: 4)), "epochs are reshuffled")
    }
}
