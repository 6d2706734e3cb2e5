import Foundation
import XCTest

@testable import RSOEngine

/// Decision equivalence of full and incremental evaluation on real data: mnist6 on MNIST, or on
/// Fashion-MNIST where MNIST is not present (all
/// layers, every trial kind) and cifar-depth10 on CIFAR-10 (residual blocks, zero-padded shortcut).
/// Caching on (the default), seed 1. Skipped when the data directory is absent (see DataFixtures).
///
/// Size (release builds, `tools/test`): batch 64 from a 2,048-image subset; mnist6 runs 200 weights
/// spread over each layer + 16 BN/bias parameters (1,410 decisions, 24–70 s by machine load), or the WHOLE cycle (12,026
/// decisions, ~460 s on this 2-core machine) with RSO_INCREMENTAL_FULL_CYCLE=1 — last run: 1
/// disagreement, a near-tie with a loss gap of 1.1e-9, max |Δloss| 6.0e-8. cifar-depth10 samples 24
/// weights + 4 BN/bias per layer (200 decisions). Debug builds (no optimised C) use batch 32 from 512 images and a
/// 12 + 4 (mnist6) / 3 + 2 (cifar) sample.
final class RealDataEquivalenceIncrementalTests: XCTestCase {
    private var wholeCycle: Bool {
        #if DEBUG
        return false
        #else
        return ProcessInfo.processInfo.environment["RSO_INCREMENTAL_FULL_CYCLE"] != nil
        #endif
    }

    #if DEBUG
    private let (batch, subset, bnSamples) = (32, 512, 128)
    #else
    private let (batch, subset, bnSamples) = (64, 2048, 512)
    #endif

    private func options(_ net: String) -> TrainingOptions {
        var o = TrainingOptions(net: net)
        o.batch = batch
        o.cycles = 1
        o.bnSamples = bnSamples
        o.seed = 1
        return o
    }

    func testMnist6CycleDecisionsAgree() throws {
        let splits = try mnistSplits()
        let train = prefix(splits.train, subset), test = prefix(splits.test, 256)
        let (f, i) = try pairOfTrainers(options("mnist6"), network: NetworkZoo.mnist6(), train: train, test: test)
        let whole = wholeCycle
        #if DEBUG
        let (sampleWeights, sampleExtra) = (12, 4)
        #else
        let (sampleWeights, sampleExtra) = (200, 16)
        #endif
        let clock = ContinuousClock(), t0 = clock.now
        let r = lockstepUnits(full: f, incremental: i) { u in
            whole ? Array(0..<f.unitTrials(u)) : samplePositions(f, unit: u, weights: sampleWeights, extra: sampleExtra)
        }
        print("mnist6 \(whole ? "whole cycle" : "layer sample"): \(r.decisions) decisions, \(r.accepted) accepted, \(r.disagreements.count) disagreements (step, loss gap) \(r.disagreements), max |Δloss| \(r.maxLossError), \(clock.now - t0)")
        if whole { XCTAssertEqual(r.decisions, f.trialsPerCycle) }
        XCTAssertEqual(r.lossWMismatches, 0)
        XCTAssertGreaterThan(r.accepted, 0)
        // Equal decisions ⇒ equal accepted values (w0 ± Δ): the final weights are identical.
        XCTAssertEqual(weightBits(f.parameters), weightBits(i.parameters))
    }

    func testCifarDepth10LayerSampleDecisionsAgree() throws {
        let (train, test) = try cifarSubsets(train: subset, test: 64)
        let (f, i) = try pairOfTrainers(options("cifar-depth10"), network: NetworkZoo.cifarDepth10(), train: train, test: test)
        #if DEBUG
        let (nw, ne) = (3, 2)
        #else
        let (nw, ne) = (16, 4)
        #endif
        let r = lockstepUnits(full: f, incremental: i) { u in samplePositions(f, unit: u, weights: nw, extra: ne) }
        print("cifar-depth10 layer sample: \(r.decisions) decisions, \(r.accepted) accepted, \(r.disagreements.count) disagreements \(r.disagreements), max |Δloss| \(r.maxLossError)")
        XCTAssertEqual(r.lossWMismatches, 0)
        XCTAssertGreaterThan(r.accepted, 0)
        XCTAssertEqual(weightBits(f.parameters), weightBits(i.parameters))
    }

    /// `--batch-reuse 8` on mnist6: consecutive positions (so batches really are reused and W's
    /// activations patched after accepted trials) at the start of each layer and of its BN/bias.
    func testMnist6BatchReuseDecisionsAgree() throws {
        let splits = try mnistSplits()
        let train = prefix(splits.train, subset), test = prefix(splits.test, 256)
        var o = options("mnist6")
        o.batchReuse = 8
        let (f, i) = try pairOfTrainers(o, network: NetworkZoo.mnist6(), train: train, test: test)
        #if DEBUG
        let (nw, ne) = (16, 8)
        #else
        let (nw, ne) = (64, 16)
        #endif
        let r = lockstepUnits(full: f, incremental: i) { u in
            let w = f.parameters.network.layers[f.unitLayer(u)!].weightCount
            return Array(0..<min(nw, w)) + Array(w..<min(f.unitTrials(u), w + ne))
        }
        print("mnist6 batch reuse 8: \(r.decisions) decisions, \(r.accepted) accepted, \(r.disagreements.count) disagreements \(r.disagreements), max |Δloss| \(r.maxLossError)")
        XCTAssertGreaterThan(r.accepted, 0)
        XCTAssertEqual(weightBits(f.parameters), weightBits(i.parameters))
    }

    /// `--cache output` against full evaluation on mnist6 (every layer, the FC's logits cached too):
    /// the first weights of each layer in a row (one output channel, so its cached plane takes patch
    /// after patch), a spread sample, and BN/bias parameters.
    func testMnist6OutputCachedDecisionsAgree() throws {
        let splits = try mnistSplits()
        #if DEBUG
        let sample = (row: 8, spread: 8, extra: 4)
        #else
        let sample = (row: 64, spread: 64, extra: 16)
        #endif
        try checkOutputCachedAgreement(NetworkZoo.mnist6(), train: prefix(splits.train, subset),
                                       test: prefix(splits.test, 256), sample: sample)
    }

    /// The same on cifar-depth10 (residual blocks, zero-padded shortcut).
    func testCifarDepth10OutputCachedDecisionsAgree() throws {
        let (train, test) = try cifarSubsets(train: subset, test: 64)
        #if DEBUG
        let sample = (row: 3, spread: 2, extra: 2)
        #else
        let sample = (row: 8, spread: 6, extra: 4)
        #endif
        try checkOutputCachedAgreement(NetworkZoo.cifarDepth10(), train: train, test: test, sample: sample)
    }

    private func checkOutputCachedAgreement(_ net: NetworkSpec, train: Dataset, test: Dataset,
                                            sample: (row: Int, spread: Int, extra: Int)) throws {
        let (f, i) = try outputCachedPair(options(net.name), network: net, train: train, test: test)
        let r = lockstepUnits(full: f, incremental: i) { u in
            outputCachePositions(f, unit: u, row: sample.row, spread: sample.spread, extra: sample.extra)
        }
        print("\(net.name) output cache: \(r.decisions) decisions, \(r.accepted) accepted, \(r.disagreements.count) disagreements \(r.disagreements), max |Δloss| \(r.maxLossError)")
        XCTAssertGreaterThan(r.accepted, 0)
        XCTAssertEqual(weightBits(f.parameters), weightBits(i.parameters))
    }

    /// The first `row` weights of a layer, `spread` more spread over the rest, then `extra` BN/bias positions.
    private func outputCachePositions(_ t: Trainer, unit u: Int, row: Int, spread: Int, extra: Int) -> [Int] {
        let w = t.parameters.network.layers[t.unitLayer(u)!].weightCount
        let first = Array(0..<min(row, w))
        let rest = w > row ? (0..<spread).map { row + $0 * (w - row) / spread } : []
        return Array(Set(first + rest)).sorted() + Array(w..<min(t.unitTrials(u), w + extra))
    }
}
