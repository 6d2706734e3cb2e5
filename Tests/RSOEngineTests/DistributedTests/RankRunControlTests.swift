import XCTest
@testable import RSOEngine

/// Rank 1 of a two-rank job, in one process: each collective answers as if rank 0 contributed
/// zeros and voted false, except at vote `otherRankStopsAtVote` (rank 0 asks to stop there).
private final class SecondOfTwoRanks: ProcessGroup {
    var rank: Int { 1 }
    var size: Int { 2 }
    var stopVotes = 0
    var otherRankStopsAtVote: Int?

    func allgather(_ values: [Double]) throws -> [Double] { Array(repeating: 0, count: values.count) + values }
    func allgatherv(_ values: UnsafeBufferPointer<Double>, counts: [Int], into output: UnsafeMutablePointer<Double>) throws {
        output.update(repeating: 0, count: counts[0])
        if let v = values.baseAddress { (output + counts[0]).update(from: v, count: counts[1]) }
    }
    func allgatherInPlace(_ buffer: UnsafeMutablePointer<Float>, counts: [Int]) throws {
        buffer.update(repeating: 0, count: counts[0])
    }
    var traffic: CommunicationTraffic { CommunicationTraffic() }
    func anyRank(_ flag: Bool) throws -> Bool {
        stopVotes += 1
        return flag || stopVotes == otherRankStopsAtVote
    }
    func broadcast(_ bytes: inout [UInt8], root: Int) throws {}
    func hostNames() throws -> [String] { ["a", "a"] }
}

final class RankRunControlTests: XCTestCase {
    private func run(_ group: SecondOfTwoRanks, maxTrials: Int) throws -> (RunOutcome, RunController, String) {
        var training = tinyOptions(cycles: 2)
        training.net = tinyNetwork().name
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rso-rank-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        var options = RunOptions(training: training, checkpointPath: dir.appendingPathComponent("run.safetensors").path)
        options.maxTrials = maxTrials
        let controller = try RunController(options: options, group: group)
        let trainer = try controller.makeTrainer(train: tinyData(count: 96, seed: 1), test: tinyData(count: 40, seed: 2),
                                                 scheduler: SerialScheduler(), network: tinyNetwork())
        return (try controller.run(trainer), controller, options.checkpointPath)
    }

    /// Only rank 0 writes checkpoints; the others still take part in every save's agreement.
    func testOnlyRankZeroWritesTheCheckpoint() throws {
        let group = SecondOfTwoRanks()
        let (outcome, controller, path) = try run(group, maxTrials: 5)
        XCTAssertEqual(outcome.reason, .trialLimit)
        XCTAssertEqual(controller.lastCheckpoint?.trials, 5)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        // At least one stop vote per trial, plus the start and the final save.
        XCTAssertGreaterThanOrEqual(group.stopVotes, 5 + 2)
    }

    /// A stop requested on another rank stops this one at the same safe point, with no local request.
    func testAStopOnAnotherRankStopsThisRank() throws {
        let group = SecondOfTwoRanks()
        // Vote 1 is the start's agreement; vote 3 is a stop check of the first unit (a stop, once
        // agreed, is not voted on again: the later votes are the final save's).
        group.otherRankStopsAtVote = 3
        let (outcome, controller, _) = try run(group, maxTrials: 3)
        XCTAssertEqual(outcome.reason, .interrupted)
        XCTAssertNil(outcome.signal)
        XCTAssertLessThan(controller.lastCheckpoint?.trials ?? 3, 3)
    }
}
