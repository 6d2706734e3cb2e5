import ArgumentParser
@testable import RSOEngine
import XCTest
@testable import RSOCLI

/// Wrong flags and values must produce errors that name the flag and what it accepts.
final class CLIParsingTests: XCTestCase {
    func testUnknownNetworkListsAcceptedNames() throws {
        let msg = try XCTUnwrap(errorMessage(["flops", "--net", "resnet"]))
        XCTAssertTrue(msg.contains("--net"), msg)
        for name in ["mnist6", "cifar-depth3", "cifar-depth5", "cifar-depth10"] { XCTAssertTrue(msg.contains(name), msg) }
    }

    func testNonPositiveBatchIsRejected() throws {
        let msg = try XCTUnwrap(errorMessage(["flops", "--net", "mnist6", "--batch", "0"]))
        XCTAssertTrue(msg.contains("--batch"), msg)
    }

    func testNonNumericBatchIsRejected() throws {
        let msg = try XCTUnwrap(errorMessage(["flops", "--net", "mnist6", "--batch", "lots"]))
        XCTAssertTrue(msg.contains("--batch"), msg)
    }

    func testThreadsOutOfRange() throws {
        let msg = try XCTUnwrap(errorMessage(["eval", "--threads", "0"]))
        XCTAssertTrue(msg.contains("--threads"), msg)
    }

    func testBNSamplesMustBePositive() throws {
        let msg = try XCTUnwrap(errorMessage(["eval", "--bn-samples", "-5"]))
        XCTAssertTrue(msg.contains("--bn-samples"), msg)
    }

    func testUnknownFlag() throws {
        let msg = try XCTUnwrap(errorMessage(["flops", "--net", "mnist6", "--turbo"]))
        XCTAssertTrue(msg.contains("--turbo"), msg)
    }

    func testFlopsJSONCarriesPaperTotals() throws {
        let report = FlopReport(model: .init(network: NetName.mnist6.spec), batch: 5000)
        let data = Data(try report.jsonString().utf8)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(obj["weights"] as? Int, 11_824)
        XCTAssertEqual(obj["forward_macs"] as? Int, 3_048_352)
        XCTAssertEqual((obj["layers"] as? [Any])?.count, 7)
    }

    func testSyntheticTopologyIsDescribed() throws {
        let cmd = try XCTUnwrap(try RSOCommand.parseAsRoot(["info", "--topology", "pack:2 numa:2 core:8 pu:1"]) as? InfoCommand)
        XCTAssertNoThrow(try cmd.run())
        let bad = try XCTUnwrap(try RSOCommand.parseAsRoot(["info", "--topology", "nonsense:xyz"]) as? InfoCommand)
        XCTAssertThrowsError(try bad.run()) { error in
            XCTAssertTrue(RSOCommand.message(for: error).contains("--topology"))
        }
    }
}

extension CLIParsingTests {
    func testTrainRejectsUnknownEnumValuesNamingTheFlag() throws {
        for (flag, bad, accepted) in [("--delta", "cauchy", "template"), ("--order", "random", "input-major"),
                                      ("--sampling", "neuron", "network"), ("--update", "async", "layer-parallel"),
                                      ("--cache", "maybe", "off"), ("--progress", "fancy", "lines")] {
            let msg = try XCTUnwrap(errorMessage(["train", flag, bad]), flag)
            XCTAssertTrue(msg.contains(flag) && msg.contains(accepted), msg)
        }
    }

    func testTrainRejectsNonsenseNumbers() throws {
        for (flag, value) in [("--batch", "0"), ("--cycles", "0"), ("--sigma-final-ratio", "0"), ("--sigma-scale", "-1"),
                              ("--weight-decay", "-0.1"), ("--eval-every", "0"), ("--checkpoint-every", "0"),
                              ("--max-trials", "0"), ("--max-weights", "0"), ("--bn-samples", "0")] {
            let msg = try XCTUnwrap(errorMessage(["train", flag, value]), flag)
            XCTAssertTrue(msg.contains(flag), msg)
        }
    }
}

/// Issue 13 item 2: no flag accepts NaN or ±Inf (they passed validation, trained to the end and then
/// made the checkpoint unwritable).
extension CLIParsingTests {
    func testTrainRejectsNonFiniteNumbers() throws {
        for flag in ["--sigma-scale", "--sigma-final-ratio", "--weight-decay", "--checkpoint-every"] {
            for value in ["nan", "inf", "-inf"] {
                let msg = try XCTUnwrap(errorMessage(["train", flag + "=" + value]), "\(flag) \(value)")
                XCTAssertTrue(msg.contains(flag), msg)
            }
        }
    }

    /// One name per concept: --max-trials and --trial-eval; the old spellings still parse (hidden).
    func testOldSpellingsStillParseAsTheNewNames() throws {
        let old = try XCTUnwrap(RSOCommand.parseAsRoot(["train", "--max-weights", "7", "--eval", "full"]) as? TrainCommand)
        XCTAssertEqual(old.runOptions.maxTrials, 7)
        XCTAssertEqual(old.options.evaluation, .full)
        let new = try XCTUnwrap(RSOCommand.parseAsRoot(["train", "--max-trials", "7", "--trial-eval", "full"]) as? TrainCommand)
        XCTAssertEqual(new.runOptions.maxTrials, 7)
        XCTAssertEqual(new.options.evaluation, .full)
        XCTAssertNotNil(errorMessage(["train", "--max-trials", "7", "--max-weights", "7"]))
        XCTAssertNotNil(errorMessage(["train", "--trial-eval", "full", "--eval", "full"]))
        let help = TrainCommand.helpMessage()
        XCTAssertTrue(help.contains("--max-trials") && help.contains("--trial-eval"), help)
        XCTAssertFalse(help.contains("--max-weights") || help.contains("--eval <"), help)
    }

    /// One default per concept: the benchmark measures the trial path training runs.
    func testBenchTrialMeasuresWhatTrainRuns() throws {
        let train = try XCTUnwrap(RSOCommand.parseAsRoot(["train"]) as? TrainCommand)
        let bench = try XCTUnwrap(RSOCommand.parseAsRoot(["bench", "trial"]) as? BenchTrialCommand)
        XCTAssertEqual(bench.evaluation.rawValue, train.options.evaluation.rawValue)
        XCTAssertEqual(train.options.evaluation, .incremental)
    }


    /// Issue 13 item 5: the printed resume command is one word per argument for a POSIX shell.
    func testShellQuoting() {
        XCTAssertEqual(shellQuoted("runs/a-1.safetensors"), "runs/a-1.safetensors")
        XCTAssertEqual(shellQuoted("my run.safetensors"), "'my run.safetensors'")
        XCTAssertEqual(shellQuoted("it's"), "'it'\\''s'")
        XCTAssertEqual(shellQuoted(""), "''")
        XCTAssertEqual(shellQuoted("$HOME;rm"), "'$HOME;rm'")
    }
}

/// Issue 13 item 2: a NaN loss made the metrics file drop its eval and end records silently.
final class MetricsWriterTests: XCTestCase {
    func testNonFiniteNumbersAreWrittenAsNull() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rso-metrics-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try MetricsWriter(path: path)
        writer.write(kind: "eval", EvaluationRecord(cycle: 3, testAccuracy: 0.1, testLoss: .nan, samples: 50, elapsed: .infinity))
        writer.write(kind: "end", CountedRecord(EndRecord(reason: "non-finite-loss", error: "loss nan", signal: nil,
                                                          elapsed: 1, peakResidentBytes: 1, testAccuracy: 0.1,
                                                          testLoss: -.infinity),
                                                counters: ["trials": 7, "cycle": 3]))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let records = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(records.map { $0["kind"] as? String }, ["eval", "end"])
        XCTAssertTrue(records[0]["test_loss"] is NSNull && records[0]["elapsed"] is NSNull, "\(records[0])")
        XCTAssertEqual(records[0]["cycle"] as? Int, 3)
        XCTAssertTrue(records[1]["test_loss"] is NSNull, "\(records[1])")
        XCTAssertEqual(records[1]["reason"] as? String, "non-finite-loss")
    }

    /// rso train's and rso sgd's start and end records share one type each but keep the flat keys
    /// tools read (the trainer's counters beside the common fields, snake_case, nil fields absent).
    func testStartAndEndRecordsKeepTheirFlatKeys() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rso-metrics-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try MetricsWriter(path: path)
        writer.write(kind: "start", CountedRecord(StartRecord(options: TrainingOptions(net: "mnist6"), threads: 2,
                                                              trainSamples: 10, testSamples: 5, resumedFrom: nil),
                                                  counters: ["trialsPerCycle": 30, "startTrials": 4]))
        writer.write(kind: "start", CountedRecord(StartRecord(options: SGDOptions(net: "mnist6"), threads: 2,
                                                              trainSamples: 10, testSamples: 5, resumedFrom: "a.safetensors"),
                                                  counters: ["stepsPerEpoch": 3, "startUpdates": 1]))
        writer.write(kind: "end", CountedRecord(EndRecord(reason: "finished", elapsed: 2, peakResidentBytes: 9,
                                                          testAccuracy: 0.5, testLoss: 1.5),
                                                counters: ["updates": 6, "cycle": 6]))
        let records = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(records.count, 3)
        let common: Set = ["kind", "time", "options", "threads", "train_samples", "test_samples"]
        XCTAssertEqual(Set(records[0].keys), common.union(["trials_per_cycle", "start_trials"]))
        XCTAssertEqual(records[0]["trials_per_cycle"] as? Int, 30)
        XCTAssertEqual(Set(records[1].keys), common.union(["resumed_from", "steps_per_epoch", "start_updates"]))
        XCTAssertEqual(records[1]["start_updates"] as? Int, 1)
        XCTAssertEqual((records[1]["options"] as? [String: Any])?["learning_rate"] as? Double, 0.1)
        XCTAssertEqual(Set(records[2].keys), ["kind", "time", "reason", "updates", "cycle", "elapsed", "peak_resident_bytes",
                                              "test_accuracy", "test_loss"])
        XCTAssertEqual(records[2]["updates"] as? Int, 6)
    }

    /// The exit statuses are documented where users look.
    func testTrainHelpDocumentsExitStatus() {
        let help = TrainCommand.helpMessage()
        for fragment in ["Exit status", "0 finished", "1 error", "3 the loss became", "64 invalid", "128+N"] {
            XCTAssertTrue(help.contains(fragment), "missing \(fragment) in \(help)")
        }
    }
}
