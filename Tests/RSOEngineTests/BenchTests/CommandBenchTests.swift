import ArgumentParser
import Foundation
import XCTest
@testable import RSOCLI
import RSOEngine
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `rso bench …` parses, validates and prints one JSON object (tiny batches, one repetition).
final class CommandBenchTests: XCTestCase {
    func parse(_ args: [String]) throws -> ParsableCommand { try RSOCommand.parseAsRoot(args) }

    func errorMessage(_ args: [String]) -> String? {
        do { _ = try parse(args); return nil } catch { return RSOCommand.message(for: error) }
    }

    func testKernelsJSONIsOneObject() throws {
        let cmd = try XCTUnwrap(try parse(["bench", "kernels", "--net", "mnist6", "--batch", "8", "--repeat", "1",
                                           "--warmup", "0", "--peaks", "off", "--threads", "2", "--json"]) as? BenchKernelsCommand)
        let out = try cmd.output()
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let ctx = try XCTUnwrap(obj["context"] as? [String: Any])
        XCTAssertEqual(ctx["batch"] as? Int, 8)
        XCTAssertEqual(ctx["threads"] as? Int, 2)
        XCTAssertEqual(ctx["networks"] as? [String], ["mnist6"])
        XCTAssertNotNil(ctx["pinning"])
        XCTAssertNil(obj["peaks"])  // --peaks off
        let kernels = try XCTUnwrap(obj["kernels"] as? [[String: Any]])
        XCTAssertFalse(kernels.isEmpty)
        XCTAssertTrue(kernels.allSatisfy { ($0["bytes_per_call"] as? Double ?? 0) > 0 })
        // Exactly one line: one JSON object, nothing else on stdout.
        XCTAssertEqual(out.split(separator: "\n").count, 1)
    }

    func testKernelsTableWithPeaksPrintsContext() throws {
        let cmd = try XCTUnwrap(try parse(["bench", "kernels", "--net", "cifar-depth10", "--family", "residual_add,fc",
                                           "--batch", "4", "--repeat", "1", "--warmup", "0", "--fma-iterations", "1000",
                                           "--stream-mib", "1", "--peak-repeat", "1"]) as? BenchKernelsCommand)
        let out = try cmd.output()
        for needle in ["threads", "pinning", "batch 4", "commit", "peaks: FMA", "residual_add __flat_simd", "fc __ref", "%peak"] {
            XCTAssertTrue(out.contains(needle), "missing \(needle) in\n\(out)")
        }
    }

    func testRooflineWritesCSVJSONAndSVG() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rso-roofline-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cmd = try XCTUnwrap(try parse(["bench", "roofline", "--net", "mnist6", "--family", "conv,bn_relu_infer,im2col",
                                           "--batch", "4", "--repeat", "1", "--warmup", "0", "--ref-samples", "2",
                                           "--fma-iterations", "1000", "--stream-mib", "1", "--peak-repeat", "1",
                                           "--out", dir.path, "--json"]) as? BenchRooflineCommand)
        let out = try cmd.output()
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let files = try XCTUnwrap(obj["files"] as? [String: String])
        XCTAssertNotNil(obj["peaks"] as? [String: Any])
        if Plotter.python != nil {
            XCTAssertEqual(Set(files.keys), ["csv", "json", "svg"])
            let svg = try Data(contentsOf: URL(fileURLWithPath: try XCTUnwrap(files["svg"])))
            XCTAssertTrue(XMLParser(data: svg).parse())
        } else {
            // Without matplotlib the chart is left out and the notes say why.
            XCTAssertEqual(Set(files.keys), ["csv", "json"])
            XCTAssertTrue(((obj["notes"] as? [String]) ?? []).contains { $0.contains("roofline.svg not drawn") })
        }
        let json = try Data(contentsOf: URL(fileURLWithPath: try XCTUnwrap(files["json"])))
        let saved = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: Any])
        XCTAssertEqual((saved["kernels"] as? [Any])?.count, (obj["kernels"] as? [Any])?.count)
        let csv = try String(contentsOfFile: try XCTUnwrap(files["csv"]), encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("network,family,variant,kernel"))
        // The scaled reference conv says so.
        let notes = try XCTUnwrap(obj["notes"] as? [String])
        XCTAssertTrue(notes.contains { $0.contains("measured on 2 of 4 samples") }, "\(notes)")
    }

    func testBadValuesNameTheFlag() throws {
        let net = try XCTUnwrap(errorMessage(["bench", "kernels", "--net", "resnet"]))
        XCTAssertTrue(net.contains("--net") && net.contains("cifar-depth10") && net.contains("all"), net)
        let fam = try XCTUnwrap(errorMessage(["bench", "kernels", "--family", "conv,winograd"]))
        XCTAssertTrue(fam.contains("--family") && fam.contains("winograd") && fam.contains("bn_relu_infer"), fam)
        for (flag, value) in [("--batch", "0"), ("--repeat", "0"), ("--warmup", "-1"), ("--ref-samples", "0"),
                              ("--stream-mib", "0"), ("--fma-iterations", "0"), ("--threads", "0")] {
            let msg = try XCTUnwrap(errorMessage(["bench", "roofline", flag, value]), flag)
            XCTAssertTrue(msg.contains(flag), msg)
        }
    }

    func testSubcommandsAreListed() {
        let names = BenchCommand.subcommandList.compactMap { $0.configuration.commandName }
        XCTAssertTrue(names.contains("kernels") && names.contains("roofline"), "\(names)")
        XCTAssertEqual(BenchCommand.configuration.subcommands.count, BenchCommand.subcommandList.count)
    }
}
