import ArgumentParser
import XCTest
@testable import RSOCLI

/// Wrong flags and values must produce errors that name the flag and what it accepts.
final class CLIParsingTests: XCTestCase {
    func errorMessage(_ args: [String]) -> String? {
        do {
            _ = try RSOCommand.parseAsRoot(args)
            return nil  // parsed: no error
        } catch {
            return RSOCommand.message(for: error)
        }
    }

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
                              ("--max-weights", "0"), ("--bn-samples", "0")] {
            let msg = try XCTUnwrap(errorMessage(["train", flag, value]), flag)
            XCTAssertTrue(msg.contains(flag), msg)
        }
    }
}
