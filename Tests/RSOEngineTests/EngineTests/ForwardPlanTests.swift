import XCTest
@testable import RSOEngine

final class ForwardPlanTests: XCTestCase {
    func testMNIST6StagesBreakAtEveryBatchNorm() {
        let plan = ForwardPlan(network: NetworkZoo.mnist6())
        // 6 BN barriers ⇒ 7 stages; BN+pool fused twice.
        XCTAssertEqual(plan.stages.count, 7)
        let fused = plan.steps.filter { if case .batchNormPool = $0.kind { return true }; return false }
        XCTAssertEqual(fused.count, 2)
        XCTAssertEqual(plan.stages.first, 0..<1)  // conv1 alone
    }

    func testLiveTensorsAtConvInsideResidualBlockIncludeShortcut() {
        let net = NetworkZoo.cifarDepth10()
        let plan = ForwardPlan(network: net)
        // Layer 1 is the first conv of the first block: its input is also the shortcut.
        XCTAssertEqual(plan.liveTensors(at: plan.layerStep[1]).count, 1)
        // Layer 2 is the block's second conv: needs its own input and the block input.
        XCTAssertEqual(plan.liveTensors(at: plan.layerStep[2]).count, 2)
        // Plain chain: one live tensor.
        let m = ForwardPlan(network: NetworkZoo.mnist6())
        for d in 0..<7 { XCTAssertEqual(m.liveTensors(at: m.layerStep[d]).count, 1) }
        XCTAssertEqual(m.liveTensors(at: 0), [0])
    }

    /// Chunk-local tensors (variants' BN outputs kept in worker scratch): in mnist6 every BN
    /// output but the last (which feeds the global pool); in cifar-depth10 none that a shortcut reads.
    func testChunkLocalTensorsAreBNOutputsReadOnlyByTheNextConv() {
        let m = ForwardPlan(network: NetworkZoo.mnist6())
        let local = m.chunkLocalTensors
        let bnOutputs = m.steps.filter { ForwardPlan.normalizedLayer($0.kind) != nil }.map(\.output)
        XCTAssertEqual(bnOutputs.count, 6)
        XCTAssertEqual(bnOutputs.filter { local[$0] }, Array(bnOutputs.dropLast()))
        XCTAssertEqual(local.filter { $0 }.count, 5)

        let r = ForwardPlan(network: NetworkZoo.cifarDepth10())
        let rl = r.chunkLocalTensors
        var shortcuts = Set<Int>()
        for step in r.steps { if case .addSkip(let skip, _) = step.kind { shortcuts.insert(skip) } }
        XCTAssertFalse(shortcuts.isEmpty)
        for t in shortcuts { XCTAssertFalse(rl[t], "shortcut tensor \(t)") }
        for (s, step) in r.steps.enumerated() where rl[step.output] {
            XCTAssertNotNil(ForwardPlan.normalizedLayer(step.kind))
            guard case .conv = r.steps[s + 1].kind else { return XCTFail("step \(s + 1) is not a conv") }
            XCTAssertEqual(r.steps.filter { $0.input == step.output }.count, 1)
        }
        XCTAssertGreaterThan(rl.filter { $0 }.count, 0)
    }

    /// The plan's BN step of each conv is the step that normalises that layer's conv output, right
    /// after it in a chain; trials of γ/β split there, weight and bias trials at the conv/FC.
    func testBatchNormStepsAndChangeSteps() {
        for net in [NetworkZoo.mnist6(), NetworkZoo.cifarDepth10()] {
            let plan = ForwardPlan(network: net)
            for (d, layer) in net.layers.enumerated() {
                switch layer {
                case .conv:
                    let bn = plan.bnStep[d]!
                    XCTAssertEqual(ForwardPlan.normalizedLayer(plan.steps[bn].kind), d, "\(net.name) layer \(d)")
                    XCTAssertEqual(plan.steps[bn].input, plan.steps[plan.layerStep[d]].output, "\(net.name) layer \(d)")
                    XCTAssertEqual(plan.changeStep(layer: d, kind: .gamma), bn)
                    XCTAssertEqual(plan.changeStep(layer: d, kind: .beta), bn)
                case .fc:
                    XCTAssertNil(plan.bnStep[d])
                    XCTAssertEqual(plan.changeStep(layer: d, kind: .bias), plan.layerStep[d])
                }
                XCTAssertEqual(plan.changeStep(layer: d, kind: .weight), plan.layerStep[d])
            }
            // Every stage but the first starts at a BN step, and every BN step starts a stage.
            let bnSteps = Set(plan.bnStep.compactMap { $0 })
            XCTAssertEqual(Set(plan.stages.dropFirst().map(\.lowerBound)), bnSteps, net.name)
        }
    }
}
