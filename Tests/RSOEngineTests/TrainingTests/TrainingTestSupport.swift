@testable import RSOEngine

/// A network small enough that whole training cycles run in a test: 1×8×8 input, conv 1→4,
/// conv 4→4, 2×2 pool, conv 4→4, global pool, FC 4→10 (|W| = 364).
func tinyNetwork(name: String = "tiny") -> NetworkSpec {
    var b = NetworkBuilder(name: name, inputChannels: 1, height: 8, width: 8, classes: 10)
    b.convBN(4); b.convBN(4); b.avgPool2()
    b.convBN(4)
    b.globalAvgPool(); b.fc(10)
    return b.build()
}

/// A tiny residual network (zero-padded shortcut included) for the cached/residual paths.
func tinyResidualNetwork() -> NetworkSpec {
    var b = NetworkBuilder(name: "tiny-res", inputChannels: 1, height: 8, width: 8, classes: 10)
    b.convBN(2)
    b.basicBlock(4); b.avgPool2()
    b.globalAvgPool(); b.fc(10)
    return b.build()
}

func tinyData(count: Int, seed: UInt64) -> Dataset {
    syntheticDataset(count: count, channels: 1, size: 8, seed: seed)
}

func tinyOptions(cycles: Int = 2, batch: Int = 24) -> TrainingOptions {
    var o = TrainingOptions(net: "tiny")
    o.cycles = cycles
    o.batch = batch
    o.bnSamples = 64
    o.seed = 17
    return o
}

func makeTrainer(_ options: TrainingOptions, network: NetworkSpec = tinyNetwork(),
                 scheduler: ChunkScheduler = SerialScheduler()) throws -> Trainer {
    var o = options
    o.net = network.name
    return try Trainer(options: o, train: tinyData(count: 96, seed: 1), test: tinyData(count: 40, seed: 2),
                scheduler: scheduler, network: network)
}

func weightBits(_ p: NetworkParameters) -> [[UInt32]] {
    p.allTensors.map { $0.values.map(\.bitPattern) }
}

/// Records every decision.
final class RecordingObserver: TrainingObserver {
    var decisions: [TrialDecision] = []
    var units: [UnitSummary] = []
    var evaluations: [EvaluationRecord] = []
    func trialFinished(_ info: UnitInfo, position: Int, decision: TrialDecision, totalTrials: Int) {
        decisions.append(decision)
    }
    func unitFinished(_ summary: UnitSummary) { units.append(summary) }
    func evaluated(_ record: EvaluationRecord) { evaluations.append(record) }
}
