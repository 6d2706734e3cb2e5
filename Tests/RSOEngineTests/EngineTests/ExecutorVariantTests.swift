import XCTest
@testable import RSOEngine

/// W, W+Δ, W−Δ side by side give exactly what three separate runs with modified parameters give.
final class ExecutorVariantTests: XCTestCase {
    func testVariantsEqualSeparateRuns() {
        let net = NetworkZoo.cifarDepth10()
        let data = dataset(for: net, count: 37)
        let p = NetworkParameters.heNormal(network: net, seed: 12)
        let ex = ForwardExecutor(parameters: p, capacity: 37, chunkSamples: 8, variants: 3)
        let plan = ex.plan
        let bnStep = { (d: Int) in plan.steps.firstIndex { if case .batchNorm(d, _) = $0.kind { return true }; return false }! }
        // (layer, kind, index, split step): a block's second conv weight, its BN γ, and the FC bias.
        let cases: [(Int, ParameterKind, Int, Int)] = [(2, .weight, 100, plan.layerStep[2]), (2, .gamma, 3, bnStep(2)),
                                                       (9, .bias, 4, plan.layerStep[9]), (4, .beta, 7, bnStep(4))]
        for (d, kind, index, split) in cases {
            let t = p.tensor(layer: d, kind: kind)
            let w0 = t[index]
            var separate: [Double] = []
            for value in [w0, w0 + 0.3, w0 - 0.3] {
                t[index] = value
                ex.loadInput(from: data, range: 0..<37)
                separate.append(ex.run().lossSum)
            }
            t[index] = w0
            ex.loadInput(from: data, range: 0..<37)
            ex.run(to: split)
            ex.override(variant: 1, layer: d, kind: kind)[index] = w0 + 0.3
            ex.override(variant: 2, layer: d, kind: kind)[index] = w0 - 0.3
            let side = ex.run(from: split, variants: 3).map(\.lossSum)
            ex.clearOverrides()
            XCTAssertEqual(side, separate, "layer \(d) \(kind)")
            XCTAssertNotEqual(side[1], side[0])
        }
    }
}
