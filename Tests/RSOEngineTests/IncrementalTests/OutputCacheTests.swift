import Foundation
import XCTest

@testable import RSOEngine

/// `--cache output` (docs/design.md, "Output caching"): decisions agree with full evaluation except
/// at near-ties, runs do not depend on the thread count, resumes are bit-exact, and the patched
/// cache stays within its rounding-drift bound of a fresh recompute.
final class OutputCacheTests: XCTestCase {
    // MARK: Equivalence

    /// Whole cycles on the tiny chain (its first conv cached from the images) and the tiny residual
    /// network, fresh batches and batch reuse 4: the output-cached path decides as full evaluation
    /// (input cache) does, up to near-ties (`LockstepReport`'s criterion).
    func testWholeCyclesAgreeWithFullEvaluationOnTinyNetworks() throws {
        for net in [tinyNetwork(), tinyResidualNetwork()] {
            for reuse in [1, 4] {
                var o = tinyOptions(cycles: 1)
                o.net = net.name
                o.batchReuse = reuse
                let (f, i) = try outputCachedPair(o, network: net, train: tinyData(count: 96, seed: 1),
                                                  test: tinyData(count: 40, seed: 2))
                let r = lockstepUnits(full: f, incremental: i) { u in Array(0..<f.unitTrials(u)) }
                print("output cache, \(net.name), batch reuse \(reuse): \(r.decisions) decisions, \(r.accepted) accepted, \(r.disagreements.count) disagreements \(r.disagreements), max |Δloss| \(r.maxLossError)")
                XCTAssertEqual(r.decisions, f.trialsPerCycle)
                XCTAssertGreaterThan(r.accepted, 0)
                XCTAssertEqual(weightBits(f.parameters), weightBits(i.parameters), "\(net.name) reuse \(reuse)")
            }
        }
    }

    /// Parallel update schemes patch the cache when pending changes merge: output-cached vs
    /// input-cached incremental trials, merging where `run` merges.
    func testParallelUpdatesPatchTheCacheAtMerges() throws {
        for update in [UpdateScheme.neuronParallel, .layerParallel] {
            var o = tinyOptions(cycles: 1)
            o.update = update
            o.evaluation = .incremental
            var oc = o
            oc.outputCache = true
            let net = tinyResidualNetwork()
            let a = try makeTrainer(o, network: net), b = try makeTrainer(oc, network: net)
            var report = LockstepReport()
            for u in 0..<a.unitCount {
                _ = a.prepareUnit(u)
                _ = b.prepareUnit(u)
                let d = a.unitLayer(u)!
                for p in 0..<a.unitTrials(u) {
                    let da = a.step(unit: u, position: p), db = b.step(unit: u, position: p)
                    report.compare(da, db, full: a, incremental: b, context: "\(update) unit \(u) position \(p)",
                                   file: #filePath, line: #line)
                    for t in [a, b] where t.visit.mergesAfter(layer: d, position: p, update: update) { t.mergePending() }
                }
            }
            XCTAssertEqual(report.disagreements.count, 0, "\(update)")
            XCTAssertGreaterThan(report.accepted, 0)
            XCTAssertEqual(weightBits(a.parameters), weightBits(b.parameters), "\(update)")
        }
    }

    /// Layer d's input is deferred (gathered by channel) only where W's run from BN_d does not
    /// read it: not for the first conv (fed by the images), not for a residual block's first conv
    /// (its input is the shortcut); and a channel gathered on demand equals the full gather's.
    func testDeferredInputChannelsMatchTheFullGather() throws {
        var o = tinyOptions(cycles: 1)
        o.evaluation = .incremental
        o.outputCache = true
        let plain = try makeTrainer(o)
        var deferredLayers: [Int] = []
        for u in 0..<plain.unitCount {
            _ = plain.prepareUnit(u)
            let d = plain.unitLayer(u)!
            guard let oc = plain.outputCache, let deferred = oc.deferredInput else { continue }
            deferredLayers.append(d)
            let cache = try XCTUnwrap(plain.cache)
            let ex = plain.executor
            let idx: [Int32] = (0..<Int32(o.batch)).map { ($0 * 37 + 5) % Int32(cache.count) }
            idx.withUnsafeBufferPointer { ib in
                cache.load(into: ex, indices: ib)  // every channel
                let t = deferred.tensor, shape = ex.plan.tensors[t]
                let full = (0..<ex.chunkCount).map { c in
                    Array(UnsafeBufferPointer(start: ex.chunkBase(tensor: t, chunk: c),
                                              count: ex.samples(inChunk: c) * shape.elementsPerSample))
                }
                for c in 0..<ex.chunkCount {  // scribble, then gather one channel back
                    ex.chunkBase(tensor: t, chunk: c).update(repeating: .nan, count: ex.samples(inChunk: c) * shape.elementsPerSample)
                }
                cache.load(into: ex, indices: ib, deferring: t)
                oc.load(into: ex, indices: ib)
                XCTAssertFalse(deferred.isLoaded(channel: 1))
                for c in 0..<ex.chunkCount { deferred.gather(channel: 1, chunk: c, worker: 0, into: ex) }
                let plane = shape.height * shape.width
                for c in 0..<ex.chunkCount {
                    let n = ex.samples(inChunk: c)
                    let got = Array(UnsafeBufferPointer(start: ex.chunkBase(tensor: t, chunk: c) + n * plane, count: n * plane))
                    XCTAssertEqual(got.map(\.bitPattern), Array(full[c][(n * plane)..<(2 * n * plane)]).map(\.bitPattern))
                    let other = ex.chunkBase(tensor: t, chunk: c)[0]
                    XCTAssertTrue(other.isNaN, "channel 0 was not gathered")
                }
            }
        }
        XCTAssertEqual(deferredLayers, [2, 1], "the tiny chain's second and third convs, not the first")

        let residual = try makeTrainer(o, network: tinyResidualNetwork())
        let plan = residual.executor.plan
        for u in 0..<residual.unitCount {
            _ = residual.prepareUnit(u)
            let d = residual.unitLayer(u)!
            guard let oc = residual.outputCache, case .conv = residual.parameters.network.layers[d] else { continue }
            let readByW = plan.liveTensors(at: oc.startStep).contains(oc.inputTensor)
            XCTAssertEqual(oc.deferredInput == nil, readByW || d == 0, "layer \(d)")
            if d == 1 { XCTAssertNil(oc.deferredInput, "the block's first conv shares its input with the shortcut") }
        }
    }

    // MARK: Determinism and resume

    /// Serial vs 1–3 workers on both schedulers: identical weights and identical cache bytes after
    /// patches. Batch 100 (4 chunks) over 600 samples (3 patch pieces of 256), so chunks and pieces
    /// really are spread over the workers.
    func testThreadCountDoesNotChangeOutputCachedRuns() throws {
        let net = tinyResidualNetwork()
        var o = tinyOptions(cycles: 1, batch: 100)
        o.net = net.name
        o.evaluation = .incremental
        o.outputCache = true
        o.bnSamples = 200
        let train = tinyData(count: 600, seed: 1), test = tinyData(count: 40, seed: 2)
        func outcome(_ scheduler: ChunkScheduler) throws -> ([[UInt32]], [UInt32]) {
            let t = try Trainer(options: o, train: train, test: test, scheduler: scheduler, network: net)
            XCTAssertEqual(t.run(maxTrials: 150), .trialLimit)  // the FC unit, then 100 trials into a block conv
            let cache = try XCTUnwrap(t.outputCache)
            XCTAssertGreaterThan(cache.patches, 0)
            return (weightBits(t.parameters), cache.values().map(\.bitPattern))
        }
        let serial = try outcome(SerialScheduler())
        for threads in [1, 2, 3] {
            for kind in ProductionScheduler.allCases {
                let r = try outcome(try kind.make(threads: threads))
                XCTAssertEqual(r.0, serial.0, "weights, \(kind) \(threads)")
                XCTAssertTrue(r.1 == serial.1, "output cache bytes, \(kind) \(threads)")
            }
        }
    }

    /// Stops inside layers (sequential, batch reuse 3, neuron-parallel): the resumed run rebuilds
    /// the cache from the visit's starting weights and replays the logged patches, so it ends bit
    /// for bit where an uninterrupted run ends.
    func testResumeInsideLayersIsBitExact() throws {
        for (update, reuse) in [(UpdateScheme.sequential, 1), (.sequential, 3), (.neuronParallel, 1)] {
            let net = tinyResidualNetwork()
            var o = tinyOptions(cycles: 2)
            o.net = net.name
            o.evaluation = .incremental
            o.outputCache = true
            o.update = update
            o.batchReuse = reuse
            let whole = try makeTrainer(o, network: net)
            XCTAssertEqual(whole.run(), .finished)
            let path = temporaryCheckpointPath("rso-outcache")
            var t = try makeTrainer(o, network: net)
            var logged = 0
            for chunk in [37, 211, 95] {
                XCTAssertEqual(t.run(maxTrials: chunk), .trialLimit)
                logged = max(logged, t.state.outputCachePatches?.count ?? 0)
                try t.saveCheckpoint(to: path)
                t = try Trainer.resume(from: path, options: o, train: t.train, test: t.test,
                                       scheduler: SerialScheduler(), network: net)
            }
            XCTAssertGreaterThan(logged, 0, "a stop inside a layer with patches applied")
            XCTAssertEqual(t.run(), .finished)
            XCTAssertEqual(weightBits(t.parameters), weightBits(whole.parameters), "\(update) reuse \(reuse)")
        }
    }

    /// The cache mode is part of the trajectory: a checkpoint of an input-cache run is not resumed
    /// with `--cache output`, and a forged patch log is refused with what is wrong.
    func testResumeChecksTheCacheModeAndThePatchLog() throws {
        var o = tinyOptions(cycles: 1)
        o.evaluation = .incremental
        let t = try makeTrainer(o)
        XCTAssertEqual(t.run(maxTrials: 5), .trialLimit)
        let path = temporaryCheckpointPath("rso-outcache")
        try t.saveCheckpoint(to: path)
        var oc = o
        oc.outputCache = true
        XCTAssertThrowsError(try Trainer.resume(from: path, options: oc, train: t.train, test: t.test,
                                                scheduler: SerialScheduler(), network: tinyNetwork())) {
            XCTAssertTrue("\($0)".contains("--cache") && "\($0)".contains("output"), "\($0)")
        }
        t.state.outputCachePatches = [CachePatch(PendingChange(layer: 0, kind: .weight, index: 0, value: 1), from: 0)]
        try t.saveCheckpoint(to: path)
        XCTAssertThrowsError(try Trainer.resume(from: path, options: o, train: t.train, test: t.test,
                                                scheduler: SerialScheduler(), network: tinyNetwork())) {
            XCTAssertTrue("\($0)".contains("output cache patch"), "\($0)")
        }
    }

    func testOptionsNeedIncrementalWeightTrialsAndTheInputCache() throws {
        var o = tinyOptions(cycles: 1)
        o.outputCache = true
        o.evaluation = .full
        XCTAssertThrowsError(try makeTrainer(o)) { XCTAssertTrue("\($0)".contains("--cache output"), "\($0)") }
        o.evaluation = .incremental
        o.sampling = .layer
        XCTAssertThrowsError(try makeTrainer(o)) { XCTAssertTrue("\($0)".contains("--cache output"), "\($0)") }
        o.sampling = .weight
        o.cache = false
        XCTAssertThrowsError(try makeTrainer(o)) { XCTAssertTrue("\($0)".contains("--cache output"), "\($0)") }
        o.cache = true
        XCTAssertNoThrow(try makeTrainer(o))
        // Checkpoints written before the option existed decode without an output cache.
        var obj = try XCTUnwrap(JSONSerialization.jsonObject(with: try JSONEncoder().encode(o)) as? [String: Any])
        obj["outputCache"] = nil
        let old = try JSONDecoder().decode(TrainingOptions.self, from: try JSONSerialization.data(withJSONObject: obj))
        XCTAssertFalse(old.outputCache)
        XCTAssertEqual(old.cacheMode, "input")
    }

    // MARK: Cost model

    /// Output caching removes exactly layer d's conv (the FC: the FC step) from W's run.
    func testCostModelDropsLayerDsOwnStep() {
        for name in ["mnist6", "cifar-depth10"] {
            let net = NetworkZoo.network(named: name)!
            let inc = FlopModel(network: net).incremental
            for (d, c) in zip(net.layers.indices.reversed(), inc.layerCosts()) {
                let s = inc.plan.layerStep[d]
                let step = inc.fullFlops(fromStep: s) - inc.fullFlops(fromStep: s + 1)
                XCTAssertEqual(c.incremental - c.outputCached, step, accuracy: 1e-6 * c.incremental, "\(name) \(c.name)")
                XCTAssertLessThan(c.outputCached, c.incremental)
                XCTAssertGreaterThan(c.outputCached, c.incrementalVariants)
            }
        }
    }

    // MARK: Rounding drift

    /// Patched cache vs a fresh recompute with the final weights, on real data, after the patches of
    /// real trials plus many synthetic ones (twice a layer visit's worth on one output channel).
    ///
    /// The bound (u = 2⁻²⁴; n the dot-product length: C_in·k² for a conv, I + 1 for the FC with its
    /// bias; A = conv(|X|, W_max) per element, W_max the largest |w| each parameter held; k_c the
    /// patches of the element's channel/logit):
    ///   fresh:   |Ŷ − Y| ≤ γ_n·A_f ≤ n·u·A (a float dot product of n terms; the initial build alike),
    ///   patch j: one rounding of the result (fma: u·|Ŷ_j| ≤ u·A; the FC's unfused product and sum: 2
    ///            roundings, ≤ u·2A + u·A) plus Δ_j = (new − old) rounded to float (≤ u·|Δ_j·S_j| ≤ 2u·A,
    ///            since |Δ_j| ≤ |old| + |new|) — at most 5u·A per patch,
    /// so |Ŷ_patched − Ŷ_fresh| ≤ (2n + 5k_c)·u·A, plus one u·A for second-order terms; A itself is
    /// computed in floats from non-negative terms (X is post-ReLU here, checked), so it is low by at
    /// most a factor (1 − n·u): the tolerance takes A·(1 + 2n·u).
    func testPatchedCacheStaysWithinItsDriftBoundOnRealData() throws {
        let splits = try mnistSplits()
        var o = TrainingOptions(net: "mnist6")
        o.batch = 64
        o.cycles = 1
        o.bnSamples = 256
        o.outputCache = true
        let t = try Trainer(options: o, train: prefix(splits.train, 512), test: prefix(splits.test, 64),
                            scheduler: SerialScheduler(), network: NetworkZoo.mnist6())
        for d in [1, 3, 6] { try checkDrift(t, layer: d, realSteps: 48, synthetic: 2 * 150, seed: UInt64(d)) }
    }

    /// The same on a residual network: cifar-depth10's first block conv (its input is the block
    /// input, also read by the shortcut) and second block conv (the add follows its BN).
    func testPatchedCacheStaysWithinItsDriftBoundInResidualBlocks() throws {
        let (train, test) = try cifarSubsets(train: 256, test: 64)
        var o = TrainingOptions(net: "cifar-depth10")
        o.batch = 64
        o.cycles = 1
        o.bnSamples = 128
        o.outputCache = true
        let t = try Trainer(options: o, train: train, test: test, scheduler: SerialScheduler(), network: NetworkZoo.cifarDepth10())
        for d in [1, 2] { try checkDrift(t, layer: d, realSteps: 24, synthetic: 2 * 144, seed: UInt64(10 + d)) }
    }

    /// Visits layer `d`: `realSteps` trainer steps, then `synthetic` accepted-like changes through
    /// the trainer's own patch path (every second one on output 0), then compares with a fresh build.
    private func checkDrift(_ t: Trainer, layer d: Int, realSteps: Int, synthetic: Int, seed: UInt64,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let u = try XCTUnwrap(t.visit.layers.firstIndex(of: d))
        _ = t.prepareUnit(u)
        let cache = try XCTUnwrap(t.outputCache)
        for p in 0..<realSteps { _ = t.step(unit: u, position: (p * 7) % t.unitTrials(u)) }
        var rng = KernelRNG(seed: seed)
        let sigma = t.sigma.sigma(layer: d, cycle: 0)
        let layer = t.parameters.network.layers[d]
        let outputs = layer.outputs
        let fanIn: Int, n: Int
        switch layer {
        case .conv(let c): fanIn = c.fanIn; n = c.fanIn
        case .fc(let f): fanIn = f.inFeatures; n = f.inFeatures + 1
        }
        for j in 0..<synthetic {
            let o = j % 2 == 0 ? 0 : rng.int(outputs)
            let bias = layer.isFC && j % 5 == 4
            let kind: ParameterKind = bias ? .bias : .weight
            let index = bias ? o : o * fanIn + rng.int(fanIn)
            let w = t.tensor(layer: d, kind: kind)
            let old = w[index], new = old + Float(sigma) * rng.float(-2, 2)
            t.patchOutputCache(layer: d, kind: kind, index: index, from: old, to: new)
            w[index] = new
        }
        // Patches per channel / logit and the largest |value| each parameter held, from the log.
        let log = t.state.outputCachePatches ?? []
        XCTAssertGreaterThan(log.count, synthetic, "real trials were accepted too", file: file, line: line)
        var perOutput = [Int](repeating: 0, count: outputs)
        var wMax = t.parameters.weights[d].values.map(abs)
        let biasTensor = layer.isFC ? t.tensor(layer: d, kind: .bias) : nil
        var bMax = biasTensor?.values.map(abs) ?? []
        for p in log {
            let o = p.change.kind == .bias ? p.change.index : p.change.index / fanIn
            perOutput[o] += 1
            let m = max(abs(p.from), abs(p.change.value))
            if p.change.kind == .bias { bMax[p.change.index] = max(bMax[p.change.index], m) } else {
                wMax[p.change.index] = max(wMax[p.change.index], m)
            }
        }
        let patched = cache.values()
        let fresh = OutputCache(executor: t.executor, layer: d, input: cache.input).values()
        // A: the same build with |W|_max (and |b|_max) over non-negative inputs.
        if case .cache(let input) = cache.input {
            let x = UnsafeBufferPointer(start: input.rows(tensor: cache.inputTensor),
                                        count: input.count * t.executor.plan.tensors[cache.inputTensor].elementsPerSample)
            XCTAssertTrue(x.allSatisfy { $0 >= 0 }, "layer \(d)'s input is post-ReLU", file: file, line: line)
        } else {
            XCTFail("layer \(d) is cached from its input cache", file: file, line: line)
        }
        let saved = t.parameters.weights[d].values, savedBias = biasTensor?.values
        t.parameters.weights[d].assign(wMax)
        biasTensor?.assign(bMax)
        let a = OutputCache(executor: t.executor, layer: d, input: cache.input).values()
        t.parameters.weights[d].assign(saved)
        if let savedBias { biasTensor?.assign(savedBias) }

        let u32 = Roundoff.f32
        let shape = t.executor.plan.tensors[cache.tensor]
        let plane = shape.height * shape.width, per = shape.elementsPerSample
        var worst = 0.0
        let bounds = a.indices.map { e -> Double in
            let channel = (e % per) / plane
            let bound = Double(2 * n + 5 * perOutput[channel] + 1) * u32 * Double(a[e]) * (1 + 2 * Double(n) * u32) + 1e-37
            if a[e] > 0 { worst = max(worst, abs(Double(patched[e]) - Double(fresh[e])) / (u32 * Double(a[e]))) }
            return bound
        }
        assertWithinBounds(patched, fresh, bounds: bounds, "layer \(d) after \(log.count) patches", file: file, line: line)
        print("output cache drift, \(t.parameters.network.name) layer \(d): \(log.count) patches (max \(perOutput.max()!) on one output), n = \(n): max |patched − fresh| = \(String(format: "%.2f", worst))·u·A (bound \(2 * n + 5 * perOutput.max()! + 1)·u·A)")
    }
}

private extension ParameterLayer {
    var isFC: Bool { if case .fc = self { return true } else { return false } }
}
