import Foundation
import XCTest

/// tools/plot-accuracy writes well-formed SVG whatever the file names and values.
final class PlotAccuracyToolTests: XCTestCase {
    private var dir = ""
    override func setUpWithError() throws {
        dir = try DataFixtures.makeTempDirectory("plot")
    }
    override func tearDown() {
        DataFixtures.remove(dir)
        super.tearDown()
    }

    private static let tool = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("tools/plot-accuracy").path

    private func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        guard let probe = try? runCommand(["python3", "-c", "pass"]), probe.status == 0 else {
            throw XCTSkip("python3 is not installed")
        }
        return try runCommand(["python3"] + arguments)
    }

    private func plot(_ runs: [String]) throws -> (status: Int32, output: String, svg: String) {
        let out = DataFixtures.path(dir, "plot.svg")
        let r = try python([Self.tool, out] + runs)
        return (r.status, r.output, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }

    private func run(named name: String, _ lines: [String]) throws -> String {
        let path = DataFixtures.path(dir, name)
        try DataFixtures.write(Array((lines.joined(separator: "\n") + "\n").utf8), to: path)
        return path
    }

    private func eval(_ cycle: Int, _ accuracy: String) -> String {
        "{\"kind\":\"eval\",\"cycle\":\(cycle),\"test_accuracy\":\(accuracy)}"
    }

    /// Parses the plot as XML (Python's expat: FoundationXML needs libxml2); nil when well-formed,
    /// else the parser's complaint.
    private func xmlError() throws -> String? {
        let r = try python(["-c", "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])", DataFixtures.path(dir, "plot.svg")])
        return r.status == 0 ? nil : r.output
    }

    func testFileNamesWithMarkupCharactersAreEscaped() throws {
        // Used to write the name raw: invalid XML.
        let a = try run(named: "lr&sigma<0.1>.jsonl", [eval(0, "0.1"), eval(1, "0.5")])
        let b = try run(named: "plain.jsonl", [eval(0, "0.2"), eval(1, "0.6")])
        let r = try plot([a, b])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertNil(try xmlError(), r.svg)
        XCTAssertTrue(r.svg.contains(">lr&amp;sigma&lt;0.1&gt;.jsonl</text>"), r.svg)
    }

    func testNonFinitePointsAreLeftOutAndCounted() throws {
        // Used to write "nan" coordinates. Python's json reads NaN and Infinity; null is the JSON way.
        let a = try run(named: "diverged.jsonl", [eval(0, "0.1"), eval(1, "NaN"), eval(2, "0.4"), eval(3, "Infinity"),
                                                  eval(4, "null")])
        let r = try plot([a])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertNil(try xmlError(), r.svg)
        XCTAssertNil(r.svg.range(of: #"\b(nan|inf)"#, options: [.regularExpression, .caseInsensitive]), r.svg)
        XCTAssertEqual(r.svg.components(separatedBy: "<circle").count - 1, 2, r.svg)
        XCTAssertTrue(r.svg.contains("diverged.jsonl (3 non-finite left out)"), r.svg)
        XCTAssertTrue(r.output.contains("left out 3 eval point(s)"), r.output)

        let none = try run(named: "all-nan.jsonl", [eval(0, "NaN")])
        let n = try plot([none])
        XCTAssertNotEqual(n.status, 0)
        XCTAssertTrue(n.output.contains("no finite eval records"), n.output)
    }
}
