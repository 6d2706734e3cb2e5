import Foundation
import RSOEngine
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif

/// tools/plot-accuracy (tools/plot.py accuracy, matplotlib) writes well-formed SVG whatever the
/// file names and values.
final class PlotAccuracyToolTests: XCTestCase {
    private var dir = ""
    override func setUpWithError() throws {
        guard Plotter.python != nil else { throw XCTSkip("no python3 with matplotlib (tools/setup installs python3-matplotlib)") }
        dir = try DataFixtures.makeTempDirectory("plot")
    }
    override func tearDown() {
        DataFixtures.remove(dir)
        super.tearDown()
    }

    private static let tool = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("tools/plot-accuracy").path

    private func plot(_ runs: [String]) throws -> (status: Int32, output: String, svg: String) {
        let out = DataFixtures.path(dir, "plot.svg")
        let r = try runCommand([Self.tool, out] + runs)
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

    private func wellFormed(_ svg: String) -> Bool { XMLParser(data: Data(svg.utf8)).parse() }

    func testFileNamesWithMarkupCharactersAreEscaped() throws {
        let a = try run(named: "lr&sigma<0.1>.jsonl", [eval(0, "0.1"), eval(1, "0.5")])
        let b = try run(named: "plain.jsonl", [eval(0, "0.2"), eval(1, "0.6")])
        let r = try plot([a, b])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(wellFormed(r.svg))
        XCTAssertTrue(r.svg.contains("lr&amp;sigma&lt;0.1&gt;.jsonl</text>"), r.svg)
        XCTAssertTrue(r.output.contains("4 points from 2 run(s)"), r.output)
    }

    /// --log-x puts RSO cycles (0, 1, 2) and SGD iterations (up to 600) on one readable axis: the
    /// linear axis's ticks of hundreds give way to powers of ten.
    func testLogXReplacesTheLinearTicks() throws {
        let a = try run(named: "long.jsonl", [eval(0, "0.1"), eval(1, "0.5"), eval(600, "0.9")])
        let linear = try plot([a])
        let log = try plot([a, "--log-x"])
        XCTAssertEqual(linear.status, 0, linear.output)
        XCTAssertEqual(log.status, 0, log.output)
        XCTAssertTrue(wellFormed(log.svg))
        XCTAssertTrue(linear.svg.contains(">500</text>"), linear.svg)
        XCTAssertFalse(log.svg.contains(">500</text>"), log.svg)
        XCTAssertTrue(log.output.contains("3 points from 1 run(s)"), log.output)
    }

    func testNonFinitePointsAreLeftOutAndCounted() throws {
        // Python's json reads NaN and Infinity; null is the JSON way.
        let a = try run(named: "diverged.jsonl", [eval(0, "0.1"), eval(1, "NaN"), eval(2, "0.4"), eval(3, "Infinity"),
                                                  eval(4, "null")])
        let r = try plot([a])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(wellFormed(r.svg))
        XCTAssertTrue(r.output.contains("2 points from 1 run(s)"), r.output)
        XCTAssertTrue(r.svg.contains("diverged.jsonl (3 non-finite left out)"), r.svg)
        XCTAssertTrue(r.output.contains("left out 3 eval point(s)"), r.output)

        let none = try run(named: "all-nan.jsonl", [eval(0, "NaN")])
        let n = try plot([none])
        XCTAssertNotEqual(n.status, 0)
        XCTAssertTrue(n.output.contains("no finite eval records"), n.output)
    }
}
