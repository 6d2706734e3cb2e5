import XCTest
@testable import RSOEngine

/// The paper's cost formulas, pinned to values derived by hand in the issue.
final class FlopModelTests: XCTestCase {
    func testMNIST6MatchesHandDerivedValues() {
        let m = FlopModel(network: NetworkZoo.mnist6())
        // 1·16·9 + 5·16·16·9 + 16·10
        XCTAssertEqual(m.weights, 11_824)
        // 28²·(144 + 2304) + 14²·2·2304 + 7²·2·2304 + 160
        XCTAssertEqual(m.forward, 3_048_352)
        XCTAssertEqual(m.layers.map(\.weights), [144, 2304, 2304, 2304, 2304, 2304, 160])
        XCTAssertEqual(m.layers.last!.forwardFromHere, 160)
        XCTAssertEqual(m.layers[5].forwardFromHere, 2304 * 49 + 160)
        XCTAssertEqual((m.cachingRatio * 100).rounded() / 100, 2.97)
        XCTAssertEqual(m.cycleWithoutCaching, 3 * 11_824 * 3_048_352)
        // BN γ/β of six 16-channel convs and the FC bias, listed apart from |W|.
        XCTAssertEqual(m.extraParameters, 6 * 32 + 10)
        // The "364 TFLOP per cycle" at batch 5000 with caching.
        XCTAssertEqual(2 * 5000 * m.cycleWithCaching / 1e12, 364, accuracy: 1)
    }

    func testCifarDepth10MatchesHandDerivedValues() {
        let m = FlopModel(network: NetworkZoo.cifarDepth10())
        XCTAssertEqual(m.weights, 56_048)
        XCTAssertEqual(m.forward, 11_059_520)
        XCTAssertEqual((m.cachingRatio * 100).rounded() / 100, 3.58)
        XCTAssertEqual(m.layers.count, 10)
    }

    func testFullCountIncludesNonConvOps() {
        let m = FlopModel(network: NetworkZoo.mnist6())
        let convFC = 2 * Double(m.forward) + 10  // MACs ×2 plus FC bias adds
        XCTAssertGreaterThan(m.fullForwardFlops, convFC)
        // BN (5/elem) + ReLU (1/elem) on 16·28² elements for conv1.
        XCTAssertEqual(m.fullCount.first { $0.op == "conv1 bn" }?.flops, 5 * 16 * 784)
        XCTAssertEqual(m.fullCount.last?.op, "softmax xent")
    }
}
