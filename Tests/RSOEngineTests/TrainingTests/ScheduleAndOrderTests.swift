import XCTest
@testable import RSOEngine

final class ScheduleAndOrderTests: XCTestCase {
    func testSigmaAnnealsLinearlyToFinalRatio() {
        let s = SigmaSchedule(initial: [1, 2], cycles: 5, finalRatio: 0.1)
        XCTAssertEqual(s.sigma(layer: 0, cycle: 0), 1)
        XCTAssertEqual(s.sigma(layer: 1, cycle: 0), 2)
        XCTAssertEqual(s.sigma(layer: 0, cycle: 4), 0.1, accuracy: 1e-15)
        XCTAssertEqual(s.sigma(layer: 0, cycle: 2), 0.55, accuracy: 1e-15)  // halfway
        XCTAssertEqual(s.sigma(layer: 1, cycle: 1), 2 * (1 - 0.25 * 0.9), accuracy: 1e-15)
        XCTAssertEqual(SigmaSchedule(initial: [3], cycles: 1, finalRatio: 0.1).sigma(layer: 0, cycle: 0), 3)
    }

    /// σ_d is measured from the initial weights (and scaled by --sigma-scale).
    func testSigmaMeasuredFromInitialWeights() {
        let net = NetworkZoo.mnist6()
        let p = NetworkParameters.heNormal(network: net, seed: 1)
        let s = SigmaSchedule(parameters: p, scale: 2, cycles: 3, finalRatio: 0.1)
        let w = p.weights[1].values.map(Double.init)
        let mean = w.reduce(0, +) / Double(w.count)
        let std = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(w.count)).squareRoot()
        XCTAssertEqual(s.initial[1], 2 * std, accuracy: 1e-9)
    }

    func testLayersVisitedFromClassifierBack() {
        let plan = VisitPlan(network: NetworkZoo.mnist6(), order: .outputMajor)
        XCTAssertEqual(plan.layers, [6, 5, 4, 3, 2, 1, 0])
    }

    func testOutputMajorOrder() {
        let net = NetworkZoo.mnist6()  // conv2: 16 out, fan-in 144
        let plan = VisitPlan(network: net, order: .outputMajor)
        XCTAssertEqual(plan.slotCount(layer: 1), 2304 + 32)
        for p in [0, 1, 143, 144, 2303] {
            XCTAssertEqual(plan.slot(layer: 1, position: p), .init(kind: .weight, index: p, neuron: p / 144))
        }
        XCTAssertEqual(plan.slot(layer: 1, position: 2304), .init(kind: .gamma, index: 0, neuron: 0))
        XCTAssertEqual(plan.slot(layer: 1, position: 2305), .init(kind: .beta, index: 0, neuron: 0))
        XCTAssertEqual(plan.slot(layer: 1, position: 2335), .init(kind: .beta, index: 15, neuron: 15))
        XCTAssertEqual(plan.slot(layer: 6, position: 160), .init(kind: .bias, index: 0, neuron: 0))
    }

    func testInputMajorOrderVisitsEveryWeightOnceChannelByChannel() {
        let net = NetworkZoo.mnist6()
        let plan = VisitPlan(network: net, order: .inputMajor)
        let slots = (0..<2304).map { plan.slot(layer: 1, position: $0) }
        XCTAssertEqual(Set(slots.map(\.index)).count, 2304)
        // First 9: input channel 0 of output 0; next 9: input channel 0 of output 1 (index 144…152).
        XCTAssertEqual(slots[0..<9].map(\.index), Array(0..<9))
        XCTAssertEqual(slots[9..<18].map(\.index), Array(144..<153))
        // After all 16 outputs of input channel 0 comes input channel 1 of output 0.
        XCTAssertEqual(slots[144].index, 9)
        // FC (taps = 1): input feature 0 of every output, then feature 1.
        let fc = (0..<160).map { plan.slot(layer: 6, position: $0).index }
        XCTAssertEqual(Array(fc[0..<3]), [0, 16, 32])
        XCTAssertEqual(Set(fc).count, 160)
    }

    func testParallelSchemesMergePoints() {
        let plan = VisitPlan(network: NetworkZoo.mnist6(), order: .outputMajor)
        XCTAssertTrue(plan.mergesAfter(layer: 1, position: 143, update: .neuronParallel))
        XCTAssertFalse(plan.mergesAfter(layer: 1, position: 142, update: .neuronParallel))
        XCTAssertFalse(plan.mergesAfter(layer: 1, position: 143, update: .layerParallel))
        XCTAssertTrue(plan.mergesAfter(layer: 1, position: 2303, update: .layerParallel))
        XCTAssertTrue(plan.mergesAfter(layer: 1, position: 2335, update: .layerParallel))
    }
}
