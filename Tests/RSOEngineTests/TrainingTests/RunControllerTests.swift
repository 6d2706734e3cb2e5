import XCTest
@testable import RSOEngine

/// Runs a scheduler's regions serially and requests `stop` when the `armed`-th region from now
/// begins: a stop that lands inside a whole-dataset pass at a chosen place, without timing.
private final class StoppingScheduler: ChunkScheduler {
    let stop: StopRequest
    var regions = 0
    var regionsAfterStop = 0
    private var stopAt: Int?

    init(stop: StopRequest) { self.stop = stop }

    /// Requests the stop when the `k`-th region from now starts (k ≥ 1).
    func arm(after k: Int) { stopAt = regions + k }

    var workers: Int { 1 }
    func forEachChunk(_ count: Int, _ body: (Int, Int) -> Void) {
        regions += 1
        if regions == stopAt { stop.request() } else if stop.isRequested { regionsAfterStop += 1 }
        for c in 0..<count { body(c, 0) }
    }
}

/// Arms the scheduler when a cycle finishes: the stop lands inside the cycle-end test evaluation.
private final class ArmOnCycleEnd: TrainingObserver {
    let scheduler: StoppingScheduler
    init(_ s: StoppingScheduler) { scheduler = s }
    func cycleFinished(_ summary: CycleSummary) { scheduler.arm(after: 2) }
}

/// Arms the scheduler after trial `n`: with a trial limit of n the stop lands in the exit evaluation.
private final class ArmAfterTrial: TrainingObserver {
    let scheduler: StoppingScheduler
    let n: Int
    init(_ s: StoppingScheduler, after n: Int) { scheduler = s; self.n = n }
    func trialFinished(_ info: UnitInfo, position: Int, decision: TrialDecision, totalTrials: Int) {
        if totalTrials == n { scheduler.arm(after: 2) }
    }
}

final class RunControllerTests: XCTestCase {
    private func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rso-run-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    private func options(_ o: TrainingOptions = tinyOptions(cycles: 2)) -> RunOptions {
        var training = o
        training.net = tinyNetwork().name
        training.cache = true
        return RunOptions(training: training, checkpointPath: tempPath("run.safetensors"))
    }

    private func controller(_ run: RunOptions, scheduler: ChunkScheduler = SerialScheduler(),
                            stop: StopRequest = StopRequest()) throws -> (RunController, Trainer) {
        let c = try RunController(options: run, stop: stop)
        let t = try c.makeTrainer(train: tinyData(count: 96, seed: 1), test: tinyData(count: 40, seed: 2),
                                  scheduler: scheduler, network: tinyNetwork())
        return (c, t)
    }

    /// A stop inside the activation-cache build returns within one piece of it, leaves the state
    /// where it was (the resume rebuilds the cache), and the resumed run ends bit-identical.
    func testStopDuringCacheBuildIsPromptAndResumesExactly() throws {
        let run = options()
        let (_, whole) = try controller(run)
        XCTAssertEqual(whole.run(), .finished)
        let full = StoppingScheduler(stop: StopRequest())
        let (_, probe) = try controller(run, scheduler: full)
        _ = probe.run(maxTrials: 1)  // regions of one cache build (statistics + pieces) and one trial

        let stop = StopRequest()
        let scheduler = StoppingScheduler(stop: stop)
        scheduler.arm(after: 2)
        let (c, t) = try controller(run, scheduler: scheduler, stop: stop)
        let outcome = try c.run(t)
        XCTAssertEqual(outcome.reason, .interrupted)
        XCTAssertEqual(t.state, TrainerState())
        XCTAssertNil(t.cache)
        XCTAssertLessThan(scheduler.regions, full.regions - 1, "the cache build ran to its end")
        XCTAssertLessThanOrEqual(scheduler.regionsAfterStop, 2)
        XCTAssertEqual(c.lastCheckpoint?.reason, "interrupted")
        XCTAssertTrue(t.evaluations.isEmpty, "an interrupted run evaluates nothing at exit")

        var resume = run
        resume.resume = run.checkpointPath
        let (c2, t2) = try controller(resume)
        XCTAssertEqual(try c2.run(t2).reason, .finished)
        XCTAssertEqual(weightBits(t2.parameters), weightBits(whole.parameters))
    }

    /// A stop inside the cycle-end test evaluation skips it; the checkpoint is written and the
    /// resume runs that evaluation first, with the uninterrupted run's result.
    func testStopDuringEvaluationIsResumedByTheNextRun() throws {
        let run = options()
        let (_, whole) = try controller(run)
        XCTAssertEqual(whole.run(), .finished)

        let stop = StopRequest()
        let scheduler = StoppingScheduler(stop: stop)
        let (c, t) = try controller(run, scheduler: scheduler, stop: stop)
        let arm = ArmOnCycleEnd(scheduler)
        t.observer = arm
        XCTAssertEqual(try c.run(t).reason, .interrupted)
        XCTAssertEqual(t.state.cycle, 1)
        XCTAssertTrue(t.evaluations.isEmpty)
        XCTAssertTrue(t.evaluationDue)

        var resume = run
        resume.resume = run.checkpointPath
        let (c2, t2) = try controller(resume)
        XCTAssertTrue(t2.evaluationDue)
        XCTAssertEqual(try c2.run(t2).reason, .finished)
        XCTAssertEqual(t2.evaluations.map(\.cycle), [1, 2])
        XCTAssertEqual(t2.evaluations.map(\.testLoss), whole.evaluations.map(\.testLoss))
        XCTAssertEqual(weightBits(t2.parameters), weightBits(whole.parameters))
    }

    /// Exit policy: a trial limit evaluates the current weights and checkpoints "trial-limit".
    func testTrialLimitEvaluatesAndCheckpoints() throws {
        var run = options()
        run.maxTrials = 10
        let (c, t) = try controller(run)
        let outcome = try c.run(t)
        XCTAssertEqual(outcome, RunOutcome(reason: .trialLimit, signal: nil, detail: nil))
        XCTAssertEqual(t.evaluations.count, 1)
        XCTAssertEqual(c.lastCheckpoint, CheckpointRecord(path: run.checkpointPath, reason: "trial-limit", cycle: 0, trials: 10))
        XCTAssertEqual(try SafeTensors.read(path: run.checkpointPath).metadata["format"], Trainer.checkpointFormat)
    }

    /// A stop during the trial limit's exit evaluation makes the exit an interrupted one: no
    /// evaluation recorded, checkpoint "interrupted".
    func testStopDuringTheExitEvaluationIsAnInterruption() throws {
        var run = options()
        run.maxTrials = 10
        let stop = StopRequest()
        let scheduler = StoppingScheduler(stop: stop)
        let (c, t) = try controller(run, scheduler: scheduler, stop: stop)
        let arm = ArmAfterTrial(scheduler, after: 10)
        t.observer = arm
        XCTAssertEqual(try c.run(t).reason, .interrupted)
        XCTAssertEqual(t.state.trials, 10)
        XCTAssertTrue(t.evaluations.isEmpty)
        XCTAssertEqual(c.lastCheckpoint?.reason, "interrupted")
    }

    /// Options are validated before anything runs; messages name the flag.
    func testInvalidRunOptionsNameTheFlag() {
        var bad = options()
        bad.evalEvery = 0
        XCTAssertThrowsError(try RunController(options: bad)) { XCTAssertTrue("\($0)".contains("--eval-every")) }
        bad = options()
        bad.checkpointEveryMinutes = .infinity
        XCTAssertThrowsError(try RunController(options: bad)) { XCTAssertTrue("\($0)".contains("--checkpoint-every")) }
        bad = options()
        bad.training.sigmaScale = .nan
        XCTAssertThrowsError(try RunController(options: bad)) { XCTAssertTrue("\($0)".contains("--sigma-scale")) }
        bad = options()
        bad.maxTrials = 0
        XCTAssertThrowsError(try RunController(options: bad)) { XCTAssertTrue("\($0)".contains("--max-trials")) }
    }

    /// Pending changes only exist under a parallel update scheme and must point inside a tensor.
    func testResumedStateWithImpossiblePendingChangesIsRefused() throws {
        var o = tinyOptions(cycles: 1)
        o.update = .sequential
        let t = try makeTrainer(o)
        _ = t.run(maxTrials: 5)
        t.state.pending = [PendingChange(layer: 0, kind: .weight, index: 1_000_000, value: 1)]
        let problems = t.stateProblems()
        XCTAssertTrue(problems.contains { $0.contains("--update sequential") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("index 1000000") }, "\(problems)")
    }

    /// Data loading honours a stop between the splits (it takes seconds on the real sets).
    func testStopDuringDataLoadingThrowsRunStopped() throws {
        let dir = try DataFixtures.idxDirectory(train: 30, test: 10)
        defer { DataFixtures.remove(dir) }
        XCTAssertEqual(try DatasetSplits.load(format: .idx, directory: dir, stop: StopRequest()).train.count, 30)
        let stop = StopRequest()
        stop.request()
        XCTAssertThrowsError(try DatasetSplits.load(format: .idx, directory: dir, stop: stop)) { error in
            XCTAssertTrue(error is RunStopped, "\(error)")
        }
    }

    func testDatasetIdentityTellsContentApart() {
        let a = tinyData(count: 96, seed: 1), b = tinyData(count: 96, seed: 3)
        XCTAssertNil(DatasetIdentity(of: a).mismatch(checkpoint: DatasetIdentity(of: a)))
        XCTAssertTrue(DatasetIdentity(of: b).mismatch(checkpoint: DatasetIdentity(of: a))?.contains("content differs") ?? false)
        XCTAssertTrue(DatasetIdentity(of: tinyData(count: 95, seed: 1)).mismatch(checkpoint: DatasetIdentity(of: a))?
            .contains("96 training samples") ?? false)
    }
}

/// Issue 13 item 1: a pool released at once (an error right after creating it) must not crash
/// when its threads start afterwards (they read the pool through an unowned reference before).
final class WorkerPoolLifetimeTests: XCTestCase {
    func testPoolsReleasedBeforeTheirThreadsStartAreSafe() throws {
        let cores = try MachineInfo.cores()
        for _ in 0..<200 {
            _ = WorkerPool(plan: ThreadPlan.make(cores: cores, threads: 4), pin: false)
        }
        let p = WorkerPool(plan: ThreadPlan.make(cores: cores, threads: 4), pin: false)
        var sum = [Int](repeating: 0, count: 4)
        sum.withUnsafeMutableBufferPointer { s in p.forEachChunk(4) { c, _ in s[c] = c + 1 } }
        XCTAssertEqual(sum, [1, 2, 3, 4])
    }
}
