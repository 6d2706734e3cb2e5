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
}
