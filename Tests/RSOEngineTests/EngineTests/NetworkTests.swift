import XCTest
@testable import RSOEngine

final class NetworkTests: XCTestCase {
    func testZooShapes() {
        for name in NetworkZoo.names {
            let net = NetworkZoo.network(named: name)!
            XCTAssertEqual(net.name, name)
            XCTAssertEqual(net.classes, 10)
            let plan = ForwardPlan(network: net)
            XCTAssertEqual(plan.tensors[plan.logitsTensor].channels, 10)
        }
        XCTAssertNil(NetworkZoo.network(named: "resnet50"))
        XCTAssertEqual(NetworkZoo.cifarDepth3().layers.count, 3)
        XCTAssertEqual(NetworkZoo.cifarDepth5().layers.count, 5)
    }

    func testMNIST6Layers() {
        let net = NetworkZoo.mnist6()
        let convs = net.convLayers.map(\.spec)
        XCTAssertEqual(convs.count, 6)
        XCTAssertEqual(convs.map(\.height), [28, 28, 14, 14, 7, 7])
        XCTAssertEqual(convs.map(\.inChannels), [1, 16, 16, 16, 16, 16])
        XCTAssertTrue(convs.allSatisfy { $0.outChannels == 16 && $0.kernel == 3 })
    }

    func testDepth10HasResidualBlocksWithZeroPaddedShortcut() {
        let net = NetworkZoo.cifarDepth10()
        XCTAssertEqual(net.ops.filter { $0 == .pushSkip }.count, 4)
        let plan = ForwardPlan(network: net)
        let adds = plan.steps.compactMap { step -> (Int, Int)? in
            if case .addSkip(let skip, _) = step.kind { return (plan.tensors[skip].channels, plan.tensors[step.input].channels) }
            return nil
        }
        XCTAssertEqual(adds.map(\.0), [16, 16, 32, 32])  // shortcut channels
        XCTAssertEqual(adds.map(\.1), [16, 32, 32, 32])  // block output channels: one zero-padded
    }

    /// He-normal: sample std of each layer's weights is √(2/fan_in) within sampling error
    /// (relative standard error of a std estimate ≈ 1/√(2N); we allow 5 of them).
    func testHeNormalInitMoments() {
        let net = NetworkZoo.cifarDepth10()
        let p = NetworkParameters.heNormal(network: net, seed: 42)
        for (d, layer) in net.layers.enumerated() {
            let w = p.weights[d].values.map(Double.init)
            let mean = w.reduce(0, +) / Double(w.count)
            let std = (w.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(w.count)).squareRoot()
            let expected = (2.0 / Double(layer.fanIn)).squareRoot()
            XCTAssertEqual(std, expected, accuracy: expected * 5 / (2.0 * Double(w.count)).squareRoot(), layer.name)
            XCTAssertEqual(mean, 0, accuracy: 5 * expected / Double(w.count).squareRoot(), layer.name)
        }
        XCTAssertTrue(p.gammas.compactMap { $0 }.allSatisfy { $0.values.allSatisfy { $0 == 1 } })
    }

    func testInitIsSeeded() {
        let net = NetworkZoo.mnist6()
        let a = NetworkParameters.heNormal(network: net, seed: 3).allTensors.map(\.values)
        let b = NetworkParameters.heNormal(network: net, seed: 3).allTensors.map(\.values)
        let c = NetworkParameters.heNormal(network: net, seed: 4).allTensors.map(\.values)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }
}
