import Foundation
import XCTest

@testable import RSOEngine

/// Lockstep comparison of the full and incremental evaluation paths: two trainers with the same
/// options and seed take one step each; their decisions must agree. Where they do not, the losses
/// must agree within `tolerance` and the full path's decision must have been a near-tie (its two
/// best candidates within 2·tolerance); the incremental trainer then takes the full trainer's
/// weights so the comparison continues on one trajectory.
struct LockstepReport {
    var decisions = 0
    var accepted = 0
    var disagreements: [(step: Int, gap: Double)] = []
    var maxLossError = 0.0
    var lossWMismatches = 0

    /// Records one pair of decisions; on a (near-tie) disagreement the incremental trainer takes the
    /// full trainer's weights so both continue on one trajectory.
    mutating func compare(_ da: TrialDecision, _ db: TrialDecision, full: Trainer, incremental: Trainer,
                          context: String, file: StaticString, line: UInt) {
        decisions += 1
        if da.choice != .kept { accepted += 1 }
        if da.lossW != db.lossW { lossWMismatches += 1 }
        let tol = incrementalLossTolerance * max(1, abs(da.lossW))
        let err = max(abs(da.lossPlus - db.lossPlus), abs(da.lossMinus - db.lossMinus), abs(da.lossW - db.lossW))
        maxLossError = max(maxLossError, err)
        XCTAssertLessThanOrEqual(err, tol, "\(context): full \(da) incremental \(db)", file: file, line: line)
        if da.choice != db.choice {
            let sorted = [da.lossW, da.lossPlus, da.lossMinus].sorted()
            let gap = sorted[1] - sorted[0]
            disagreements.append((decisions, gap))
            XCTAssertLessThanOrEqual(gap, 2 * tol, "\(context): decisions differ without a near-tie", file: file, line: line)
            for (x, y) in zip(full.parameters.allTensors, incremental.parameters.allTensors) { y.assign(x.values) }
            incremental.rebuildOutputCache()  // an output cache holds the weights it was patched to
        }
    }
}

/// Relative float tolerance of a loss of the incremental path vs the full path: both are sums over
/// the batch of float forward passes that differ in rounding order only (Z ± Δ·S vs a conv with
/// w ± Δ; logits + Δ·f vs the full FC), ~ a few hundred float roundings deep. 2⁻¹⁴ relative is
/// 1000× a single float rounding and far below the loss changes RSO decides on (|Δloss| ≳ 1e-4).
let incrementalLossTolerance = 0x1.0p-14

func lockstep(full: Trainer, incremental: Trainer, steps: Int, file: StaticString = #filePath, line: UInt = #line) -> LockstepReport {
    let a = RecordingObserver(), b = RecordingObserver()
    full.observer = a
    incremental.observer = b
    var report = LockstepReport()
    for _ in 0..<steps {
        let ra = full.run(maxTrials: 1), rb = incremental.run(maxTrials: 1)
        XCTAssertEqual(ra, rb, file: file, line: line)
        guard let da = a.decisions.last, let db = b.decisions.last, a.decisions.count == b.decisions.count else { break }
        report.compare(da, db, full: full, incremental: incremental, context: "step \(report.decisions + 1)",
                       file: file, line: line)
        if ra != .trialLimit { break }
    }
    return report
}

/// Real 28×28 data for the equivalence tests: MNIST from the shared data directory when present,
/// else Debian's Fashion-MNIST (installed by tools/setup, so CI always has real data).
func mnistSplits() throws -> DatasetSplits {
    if let dir = try? DataFixtures.realDirectory("mnist") {
        return try DatasetSplits.load(format: .idx, directory: dir)
    }
    let fashion = DatasetSplits.debianFashionMNISTDirectory
    guard FileManager.default.fileExists(atPath: fashion) else {
        throw XCTSkip("neither MNIST (set RSO_TEST_DATA) nor Fashion-MNIST (\(fashion)) is present")
    }
    return try DatasetSplits.load(format: .idx, directory: fashion)
}

/// The first `train` / `test` images of CIFAR-10 from the shared data directory, or synthetic
/// 3×32×32 stand-ins when it is absent.
func cifarSubsets(train: Int, test: Int) throws -> (Dataset, Dataset) {
    if let dir = try? DataFixtures.realDirectory("cifar-10-batches-bin") {
        let splits = try DatasetSplits.load(format: .cifar10, directory: dir)
        return (prefix(splits.train, train), prefix(splits.test, test))
    }
    return (syntheticDataset(count: train, channels: 3, size: 32, seed: 5),
            syntheticDataset(count: test, channels: 3, size: 32, seed: 6))
}

/// A path for a checkpoint file in a fresh temporary directory.
func temporaryCheckpointPath(_ prefix: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("ckpt.safetensors").path
}

/// The first `count` samples of `d`.
func prefix(_ d: Dataset, _ count: Int) -> Dataset {
    let per = d.channels * d.height * d.width
    let n = min(count, d.count)
    return Dataset(name: d.name, count: n, channels: d.channels, height: d.height, width: d.width,
                   images: Array(d.images[0..<(n * per)]), labels: Array(d.labels[0..<n]))
}

/// Lockstep over chosen positions of each unit, calling the trainers' step directly (one cache
/// build per unit instead of one per `run` call). `positions(u)` lists the unit's positions in
/// increasing order. Trials are sequential (no merge bookkeeping needed).
func lockstepUnits(full: Trainer, incremental: Trainer, positions: (Int) -> [Int],
                   file: StaticString = #filePath, line: UInt = #line) -> LockstepReport {
    var report = LockstepReport()
    for u in 0..<full.unitCount {
        _ = full.prepareUnit(u)
        _ = incremental.prepareUnit(u)
        for p in positions(u) {
            let da = full.step(unit: u, position: p), db = incremental.step(unit: u, position: p)
            report.compare(da, db, full: full, incremental: incremental, context: "unit \(u) position \(p)",
                           file: file, line: line)
        }
        full.cache = nil
        incremental.cache = nil
        incremental.outputCache = nil
    }
    return report
}

/// `weights` positions spread over a layer's weights plus its first `extra` BN/bias positions.
func samplePositions(_ t: Trainer, unit u: Int, weights: Int, extra: Int) -> [Int] {
    let d = t.unitLayer(u)!
    let w = t.parameters.network.layers[d].weightCount
    let total = t.visit.slotCount(layer: d)
    let ws = weights >= w ? Array(0..<w) : (0..<weights).map { $0 * w / weights }
    return ws + Array(w..<min(total, w + extra))
}

/// A full-evaluation trainer (input cache) and an incremental one with layer d's output cached
/// too: the reference and the output-cached path of the same options.
func outputCachedPair(_ o: TrainingOptions, network: NetworkSpec, train: Dataset, test: Dataset,
                      scheduler: () -> ChunkScheduler = { SerialScheduler() }) throws -> (Trainer, Trainer) {
    var f = o, i = o
    f.evaluation = .full
    f.outputCache = false
    i.evaluation = .incremental
    i.outputCache = true
    return (try Trainer(options: f, train: train, test: test, scheduler: scheduler(), network: network),
            try Trainer(options: i, train: train, test: test, scheduler: scheduler(), network: network))
}

func pairOfTrainers(_ o: TrainingOptions, network: NetworkSpec, train: Dataset, test: Dataset) throws -> (Trainer, Trainer) {
    var f = o, i = o
    f.evaluation = .full
    i.evaluation = .incremental
    return (try Trainer(options: f, train: train, test: test, scheduler: SerialScheduler(), network: network),
            try Trainer(options: i, train: train, test: test, scheduler: SerialScheduler(), network: network))
}
