import ArgumentParser
import XCTest
@testable import RSOCLI
@testable import RSOEngine

/// `--eval` and `--batch-reuse` on `rso train` and `rso bench trial`.
final class CLIIncrementalTests: XCTestCase {
    private func message(_ args: [String]) -> String? {
        do { _ = try RSOCommand.parseAsRoot(args); return nil } catch { return RSOCommand.message(for: error) }
    }

    func testTrainDefaultsToIncrementalWithoutReuse() throws {
        let cmd = try XCTUnwrap(try RSOCommand.parseAsRoot(["train"]) as? TrainCommand)
        XCTAssertEqual(cmd.options.evaluation, .incremental)
        XCTAssertEqual(cmd.options.batchReuse, 1)
        let full = try XCTUnwrap(try RSOCommand.parseAsRoot(["train", "--eval", "full", "--batch-reuse", "4"]) as? TrainCommand)
        XCTAssertEqual(full.options.evaluation, .full)
        XCTAssertEqual(full.options.batchReuse, 4)
    }

    func testBadValuesNameTheFlag() throws {
        let a = try XCTUnwrap(message(["train", "--trial-eval", "fast"]))
        XCTAssertTrue(a.contains("--trial-eval") && a.contains("incremental"), a)
        let b = try XCTUnwrap(message(["train", "--batch-reuse", "0"]))
        XCTAssertTrue(b.contains("--batch-reuse"), b)
        let c = try XCTUnwrap(message(["train", "--batch-reuse", "3", "--update", "layer-parallel"]))
        XCTAssertTrue(c.contains("--batch-reuse"), c)
        let d = try XCTUnwrap(message(["bench", "trial", "--trial-eval", "fast"]))
        XCTAssertTrue(d.contains("--trial-eval"), d)
    }

    /// Checkpoints written before these options existed decode as full evaluation, K = 1.
    func testOptionsWithoutNewKeysDecodeAsBefore() throws {
        var o = TrainingOptions(net: "mnist6")
        o.evaluation = .incremental
        o.batchReuse = 3
        var obj = try XCTUnwrap(JSONSerialization.jsonObject(with: try JSONEncoder().encode(o)) as? [String: Any])
        XCTAssertEqual(try JSONDecoder().decode(TrainingOptions.self, from: try JSONSerialization.data(withJSONObject: obj)), o)
        obj["evaluation"] = nil
        obj["batchReuse"] = nil
        let old = try JSONDecoder().decode(TrainingOptions.self, from: try JSONSerialization.data(withJSONObject: obj))
        XCTAssertEqual(old.evaluation, .full)
        XCTAssertEqual(old.batchReuse, 1)
        XCTAssertEqual(old.batch, o.batch)
    }

    /// `--cache`: on (the first spelling) and input cache layer d's input; output also its pre-BN
    /// output; off neither. Output caching needs incremental weight trials, on train and bench trial.
    func testCacheFlagSpellings() throws {
        for (flag, cache, output) in [("on", true, false), ("input", true, false), ("output", true, true), ("off", false, false)] {
            let cmd = try XCTUnwrap(try RSOCommand.parseAsRoot(["train", "--cache", flag]) as? TrainCommand)
            XCTAssertEqual(cmd.options.cache, cache, flag)
            XCTAssertEqual(cmd.options.outputCache, output, flag)
        }
        let a = try XCTUnwrap(message(["train", "--cache", "output", "--trial-eval", "full"]))
        XCTAssertTrue(a.contains("--cache output") && a.contains("--trial-eval"), a)
        let b = try XCTUnwrap(message(["train", "--cache", "output", "--sampling", "layer"]))
        XCTAssertTrue(b.contains("--cache output"), b)
        let c = try XCTUnwrap(message(["train", "--cache", "both"]))
        XCTAssertTrue(c.contains("--cache"), c)
        let d = try XCTUnwrap(message(["bench", "trial", "--cache", "output", "--trial-eval", "full"]))
        XCTAssertTrue(d.contains("--cache output"), d)
        XCTAssertNil(message(["bench", "trial", "--cache", "output", "--train-samples", "60000"]))
        let e = try XCTUnwrap(message(["bench", "trial", "--batch", "500", "--train-samples", "499"]))
        XCTAssertTrue(e.contains("--train-samples"), e)
        let f = try XCTUnwrap(message(["bench", "trial", "--net", "mnist6", "--layers", "conv2,conv9"]))
        XCTAssertTrue(f.contains("--layers") && f.contains("conv9") && f.contains("conv6"), f)
        XCTAssertNil(message(["bench", "trial", "--layers", "conv2,fc"]))
    }
}

/// `rso bench trial --layers`: only the named layers are timed, and the projection sums those.
final class TrialBenchmarkLayerFilterTests: XCTestCase {
    func testOnlyTheNamedLayersAreTimed() throws {
        let net = tinyNetwork()
        let names = net.layers.map(\.name)
        let pick: Set<String> = [names[1], names[3]]
        let r = try TrialBenchmark.run(network: net, batch: 24, cache: true, trials: 1, only: pick,
                                       scheduler: SerialScheduler())
        XCTAssertEqual(Set(r.layers.map(\.name)), pick)
        let projected = r.layers.reduce(0) { $0 + Double($1.steps) / $1.trialsPerSecond }
        XCTAssertEqual(r.projectedCycleSeconds, projected, accuracy: 1e-9 * projected)
    }
}
