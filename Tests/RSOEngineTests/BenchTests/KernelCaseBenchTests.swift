import XCTest
@testable import RSOEngine

/// The kernel registry: real layer shapes, FLOP/byte counts consistent with the shapes, one
/// reference twin per optimised case, and workloads that run.
final class KernelCaseBenchTests: XCTestCase {
    let nets = [NetworkZoo.mnist6(), NetworkZoo.cifarDepth10()]

    func testEveryCaseReportsPositiveWork() {
        for net in nets {
            let cases = KernelCase.cases(for: net)
            XCTAssertFalse(cases.isEmpty)
            for c in cases {
                for n in [1, 7, 32] {
                    XCTAssertGreaterThan(c.bytes(samples: n), 0, c.label)
                    if c.family == .im2col {
                        XCTAssertEqual(c.flops(samples: n), 0, c.label)
                    } else {
                        XCTAssertGreaterThan(c.flops(samples: n), 0, c.label)
                    }
                }
            }
        }
    }

    func testConvFlopsAndBytesFollowTheShape() throws {
        for net in nets {
            let cases = KernelCase.cases(for: net).filter { $0.family == .conv }
            // Every conv layer of the network is a site of some conv case, with all three variants.
            for (_, spec) in net.convLayers {
                let mine = cases.filter { $0.sites.contains(spec.name) }
                XCTAssertEqual(Set(mine.map(\.variant)), [.im2colBLAS, .directAVX2, .sampleLanesAVX2, .sampleLanesAVX512, .ref], spec.name)
                for c in mine {
                    let n = 32
                    let expected = 2.0 * Double(spec.outChannels * spec.inChannels * 9 * n * spec.height * spec.width)
                    XCTAssertEqual(c.flops(samples: n), expected, spec.name)
                    let p = Double(n * spec.height * spec.width)
                    let bytes = 4 * (Double(spec.inChannels) * p + Double(spec.weightCount) + Double(spec.outChannels) * p)
                        + 16 * Double(spec.outChannels)
                    XCTAssertEqual(c.bytes(samples: n), bytes, spec.name)
                }
            }
            // Sum over cases × sites of conv FLOPs = the FlopModel's conv FLOPs for a chunk.
            let model = FlopModel(network: net)
            let convMacs = zip(net.layers, model.layers).reduce(0.0) { acc, pair in
                if case .conv = pair.0 { return acc + Double(pair.1.macs) }
                return acc
            }
            let fromCases = cases.filter { $0.variant == .im2colBLAS }.reduce(0.0) { $0 + $1.flops(samples: 1) * Double($1.sites.count) }
            XCTAssertEqual(fromCases, 2 * convMacs, net.name)
        }
    }

    func testOtherFamiliesCountTheirElements() throws {
        let cases = KernelCase.cases(for: NetworkZoo.mnist6())
        let bn = try XCTUnwrap(cases.first { $0.family == .bnReluInfer && $0.variant == .optimized && $0.sites.contains("conv1.bn") })
        XCTAssertEqual(bn.flops(samples: 2), Double(3 * 16 * 28 * 28 * 2) as Double)  // FMA (2) + ReLU (1) per element
        let bnBytes: Int = 8 * 16 * 28 * 28 * 2 + 16 * 24
        XCTAssertEqual(bn.bytes(samples: 2), Double(bnBytes))
        let pool = try XCTUnwrap(cases.first { $0.family == .bnReluAvgpool2 && $0.sites.contains("conv2.bn+pool") })
        let poolBytes: Int = 4 * 16 * 28 * 28 + 4 * 16 * 14 * 14 + 16 * 24
        XCTAssertEqual(pool.bytes(samples: 1), Double(poolBytes))
        let fc = try XCTUnwrap(cases.first { $0.family == .fc })
        let fcFlops: Int = 32 * (2 * 16 * 10 + 10)
        XCTAssertEqual(fc.flops(samples: 32), Double(fcFlops))
        let loss = try XCTUnwrap(cases.first { $0.family == .softmaxXent })
        XCTAssertEqual(loss.flops(samples: 32), Double(32 * 41))
        let gap = try XCTUnwrap(cases.first { $0.family == .globalAvgpool })
        XCTAssertEqual(gap.shape, .planes(channels: 16, height: 7, width: 7, kernel: 0, relu: false))

        let cifar = KernelCase.cases(for: NetworkZoo.cifarDepth10())
        // The 16→32 block's zero-padded shortcut adds 16 channels and ReLUs all 32.
        let add = try XCTUnwrap(cifar.first { $0.family == .residualAdd && $0.shape == .residual(channels: 32, skipChannels: 16, height: 16, width: 16, relu: true) })
        let addFlops: Int = 16 * 256 + 32 * 256
        XCTAssertEqual(add.flops(samples: 1), Double(addFlops))
        let addBytes: Int = 4 * 256 * (2 * 32 + 16)
        XCTAssertEqual(add.bytes(samples: 1), Double(addBytes))
        XCTAssertTrue(cifar.contains { $0.family == .avgpool2 })
    }

    /// The backward families' counts follow their definitions (KernelCase+Backward.swift) on the
    /// real shapes, and every site BackwardPass calls a kernel at is listed.
    func testBackwardFamiliesCountTheirWork() throws {
        let mnist = KernelCase.cases(for: NetworkZoo.mnist6())
        func find(_ cases: [KernelCase], _ family: KernelCase.Family) throws -> KernelCase {
            try XCTUnwrap(cases.first { $0.family == family && $0.variant == .optimized }, family.rawValue)
        }
        let loss = try find(mnist, .softmaxXentBackward)
        XCTAssertEqual(loss.flops(samples: 32), Double(32 * (5 * 10 + 2)))
        XCTAssertEqual(loss.bytes(samples: 32), Double(32 * (8 * 10 + 1)))
        let fc = try find(mnist, .fcBackward)  // 16 → 10: dW, db and dx
        XCTAssertEqual(fc.flops(samples: 32), Double(32 * (4 * 16 * 10 + 10)))
        let fcBytes: Int = 4 * (2 * 32 * 16 + 2 * 160 + 32 * 10 + 10)
        XCTAssertEqual(fc.bytes(samples: 32), Double(fcBytes))
        let gap = try find(mnist, .globalAvgpoolBackward)  // 16 channels of 7×7
        XCTAssertEqual(gap.flops(samples: 2), Double(2 * 16))
        XCTAssertEqual(gap.bytes(samples: 2), Double(4 * 2 * 16 * 50))
        // mnist6's two pools are fused into BNs: both sites, on the BN's (input-sized) planes.
        let pools = mnist.filter { $0.family == .avgpool2Backward && $0.variant == .optimized }
        XCTAssertEqual(Set(pools.flatMap(\.sites)), ["conv2.bn+pool", "conv4.bn+pool"])
        let pool28 = try XCTUnwrap(pools.first { $0.sites == ["conv2.bn+pool"] })
        XCTAssertEqual(pool28.flops(samples: 1), Double(16 * 14 * 14))
        XCTAssertEqual(pool28.bytes(samples: 1), Double(4 * 16 * (14 * 14 + 28 * 28)))

        let cifar = KernelCase.cases(for: NetworkZoo.cifarDepth10())
        // The 16→32 block: the mask covers all 32 channels, the shortcut carries 16 back.
        let residual = KernelCase.Shape.residual(channels: 32, skipChannels: 16, height: 16, width: 16, relu: true)
        let shortcut = try XCTUnwrap(cifar.first { $0.family == .shortcutBackward && $0.shape == residual })
        XCTAssertEqual(shortcut.flops(samples: 1), Double(16 * 256))
        XCTAssertEqual(shortcut.bytes(samples: 1), Double(12 * 16 * 256))
        let mask = try XCTUnwrap(cifar.first {
            $0.family == .reluBackward && $0.shape == .planes(channels: 32, height: 16, width: 16, kernel: 0, relu: true)
        })
        XCTAssertEqual(mask.flops(samples: 1), Double(32 * 256))
        XCTAssertEqual(mask.bytes(samples: 1), Double(12 * 32 * 256))
        // One shortcut backward per residual add.
        let adds = cifar.filter { $0.family == .residualAdd && $0.variant == .optimized }.flatMap(\.sites)
        let shortcuts = cifar.filter { $0.family == .shortcutBackward && $0.variant == .optimized }.flatMap(\.sites)
        XCTAssertEqual(adds.sorted(), shortcuts.sorted())
    }

    func testEveryOptimisedCaseHasAReferenceTwinWithTheSameWork() {
        for net in nets {
            let cases = KernelCase.cases(for: net)
            let refs = Dictionary(uniqueKeysWithValues: cases.filter { $0.variant == .ref }.map { ($0.shapeKey, $0) })
            for c in cases where c.variant != .ref {
                let r = refs[c.shapeKey]
                XCTAssertNotNil(r, c.label)
                XCTAssertEqual(r?.flops(samples: 32), c.flops(samples: 32), c.label)
                XCTAssertEqual(r?.sites, c.sites, c.label)
            }
            // All families the network runs are present.
            // mnist6 pools right after a BN (fused); cifar-depth10 pools after residual adds.
            var expected: Set<KernelCase.Family> = [.conv, .im2col, .bnReluInfer, .globalAvgpool, .fc, .softmaxXent,
                                                   .shiftStats, .shiftAxpy, .conv1chAdd, .fcColumnAdd, .fcInputChange,
                                                   .shiftAxpyRows, .channelSums,
                                                   .convBackwardInput, .convBackwardWeight, .bnBackward,
                                                   .softmaxXentBackward, .fcBackward, .globalAvgpoolBackward,
                                                   .avgpool2Backward]
            expected.formUnion(net.name == "cifar-depth10" ? [.residualAdd, .avgpool2, .reluBackward, .shortcutBackward]
                                                           : [.bnReluAvgpool2])
            XCTAssertEqual(Set(cases.map(\.family)), expected, net.name)
        }
    }

    func testFamilyFilterAndDeduplication() {
        let convs = KernelCase.cases(for: NetworkZoo.mnist6(), families: [.conv])
        XCTAssertTrue(convs.allSatisfy { $0.family == .conv })
        // mnist6: conv1 (1→16 @28), conv2 (@28), conv3+conv4 (@14), conv5+conv6 (@7): 4 shapes × 5 variants.
        XCTAssertEqual(convs.count, 20)
        XCTAssertEqual(convs.first { $0.sites == ["conv5", "conv6"] }?.variant, .im2colBLAS)
    }

    func testBatchWorkSumsTheChunks() throws {
        let c = try XCTUnwrap(KernelCase.cases(for: NetworkZoo.mnist6(), families: [.conv]).first)
        let bench = KernelBenchmark(batch: 5000)
        XCTAssertEqual(bench.calls, 157)  // 156 chunks of 32 + one of 8
        XCTAssertEqual(bench.batchFlops(c), 156 * c.flops(samples: 32) + c.flops(samples: 8))
        XCTAssertEqual(bench.batchFlops(c), c.flops(samples: 1) * 5000, accuracy: 1)
        XCTAssertEqual(bench.samples(for: c), 5000)
        let ref = try XCTUnwrap(KernelCase.cases(for: NetworkZoo.mnist6(), families: [.conv]).first { $0.variant == .ref })
        XCTAssertEqual(bench.samples(for: ref), 512)
    }

    func testEveryCaseRunsOnATinyBatch() {
        // 1 repetition, no warm-up, 2 workers: checks the measurement bookkeeping (no timing is
        // asserted; testEveryWorkloadWritesItsOutputs checks that the calls do their work).
        let bench = KernelBenchmark(batch: 9, chunkSamples: 4, referenceSamples: 5,
                                    harness: BenchHarness(warmup: 0, repetitions: 1))
        let pool = WorkerPool(plan: ThreadPlan.make(cores: (try? MachineInfo.cores()) ?? [CoreInfo(index: 0, node: 0, pu: 0)], threads: 2), pin: false)
        for net in nets {
            let cases = KernelCase.cases(for: net)
            let results = bench.measure(cases, on: pool)
            XCTAssertEqual(results.count, cases.count)
            for m in results {
                XCTAssertEqual(m.calls, 3)
                XCTAssertEqual(m.time.samples.count, 1)
                XCTAssertEqual(m.batchFlops, bench.batchFlops(m.kernelCase))
                let scaledRef = m.kernelCase.variant == .ref && KernelBenchmark.scaledReferenceFamilies.contains(m.kernelCase.family)
                XCTAssertEqual(m.measuredSamples, scaledRef ? 5 : 9, m.kernelCase.label)
            }
        }
    }

    func testWorkloadTotalsMatchTheBenchmarkCounts() throws {
        let c = try XCTUnwrap(KernelCase.cases(for: NetworkZoo.cifarDepth10(), families: [.residualAdd]).first)
        let w = KernelWorkload(c, samples: 70, chunkSamples: 32, scheduler: SerialScheduler())
        XCTAssertEqual(w.chunkCount, 3)
        XCTAssertEqual(w.samples(inChunk: 2), 6)
        XCTAssertEqual(w.totalFlops, KernelBenchmark(batch: 70).batchFlops(c))
        XCTAssertEqual(w.totalBytes, KernelBenchmark(batch: 70).batchBytes(c))
    }

    /// Every workload's run writes its outputs (the buffers' sum changes): a case that silently
    /// called nothing would be timed as free.
    func testEveryWorkloadWritesItsOutputs() {
        for net in nets {
            for c in KernelCase.cases(for: net) {
                let w = KernelWorkload(c, samples: 9, chunkSamples: 4, scheduler: SerialScheduler())
                let before = w.checksum
                w.run()
                XCTAssertNotEqual(w.checksum, before, c.label)
            }
        }
    }
}
