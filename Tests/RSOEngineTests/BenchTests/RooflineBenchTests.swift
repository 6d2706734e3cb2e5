import Foundation
import XCTest
@testable import RSOEngine
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The report's derived numbers (from synthetic timings), its JSON fields, CSV shape and SVG
/// well-formedness.
final class RooflineBenchTests: XCTestCase {
    /// Peaks of a made-up machine: 100 GFLOP/s, 10 GB/s → ridge 10 FLOP/B.
    func syntheticPeaks(workers: Int = 2) -> MachinePeaks {
        func rate(_ v: Double) -> MachinePeaks.Rate {
            MachinePeaks.Rate(work: v, stats: BenchStatistics(samples: [1]))
        }
        return MachinePeaks(workers: workers, fmaAvailable: true, fmaGflopsOneCore: rate(50), fmaGflopsAllCores: rate(100),
                            triadGBsOneCore: rate(8), triadGBsAllCores: rate(10), readGBsOneCore: rate(9),
                            readGBsAllCores: rate(12), streamArrayBytes: 1 << 20)
    }

    func syntheticReport(networks: [NetworkSpec] = [NetworkZoo.mnist6()], peaks: Bool = true) throws -> BenchReport {
        let plan = ThreadPlan.make(cores: try MachineInfo.cores(synthetic: "pack:1 core:2 pu:1"), threads: 2)
        let bench = KernelBenchmark(batch: 64)
        var ms: [KernelMeasurement] = []
        for net in networks {
            for c in KernelCase.cases(for: net) {
                // Reference twice as slow as its optimised twin: speedups are exactly 2 (or 1 for ref rows: none).
                let t = c.variant == .ref ? 0.002 : 0.001
                ms.append(KernelMeasurement(kernelCase: c, batch: 64, chunkSamples: 32, calls: 2, measuredSamples: 64,
                                            timeScale: 1, flopsPerCall: c.flops(samples: 32), bytesPerCall: c.bytes(samples: 32),
                                            batchFlops: bench.batchFlops(c), batchBytes: bench.batchBytes(c),
                                            time: BenchStatistics(samples: [t, t, t]), threads: 2))
            }
        }
        let ctx = BenchContext(command: "bench roofline", networks: networks.map(\.name), batch: 64, chunkSamples: 32,
                               convTile: 512, plan: plan, pinned: true, repetitions: 3, warmup: 1, referenceSamples: 512)
        return BenchReport(context: ctx, peaks: peaks ? syntheticPeaks() : nil, measurements: ms)
    }

    func testRowsPlaceKernelsUnderTheRoofs() throws {
        let r = try syntheticReport()
        XCTAssertEqual(r.peaks?.ridge_flop_per_byte, 10)
        for k in r.kernels {
            XCTAssertEqual(k.arithmetic_intensity, k.batch_flops / k.batch_bytes, accuracy: 1e-12)
            XCTAssertEqual(k.bound, k.batch_flops > 0 && k.arithmetic_intensity >= 10 ? "compute" : "memory", k.name)
            XCTAssertEqual(try XCTUnwrap(k.roof_gflops), min(100, 10 * k.arithmetic_intensity), accuracy: 1e-9)
            let pct = try XCTUnwrap(k.percent_of_peak)
            XCTAssertEqual(pct, k.bound == "compute" ? k.gflops : 10 * k.gbs, accuracy: 1e-9 * max(1, pct))
            if k.variant == "ref" {
                XCTAssertNil(k.speedup_vs_ref)
            } else {
                XCTAssertEqual(try XCTUnwrap(k.speedup_vs_ref, k.name), 2, accuracy: 1e-12)
            }
        }
        // The 16→16 convs (AI ≈ 36) are compute-bound; BN (AI 0.375) is memory-bound.
        XCTAssertEqual(r.kernels.first { $0.family == "conv" && $0.sites == ["conv2"] }?.bound, "compute")
        XCTAssertEqual(r.kernels.first { $0.family == "bn_relu_infer" }?.bound, "memory")
    }

    func testJSONHasTheRequiredFields() throws {
        let r = try syntheticReport(networks: [NetworkZoo.mnist6(), NetworkZoo.cifarDepth10()])
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try r.jsonString().utf8)) as? [String: Any])
        let ctx = try XCTUnwrap(obj["context"] as? [String: Any])
        for key in ["threads", "pinning", "batch", "chunk_samples", "conv_tile", "build", "cpu", "networks", "repetitions"] {
            XCTAssertNotNil(ctx[key], key)
        }
        XCTAssertEqual(ctx["batch"] as? Int, 64)
        XCTAssertEqual(ctx["threads"] as? Int, 2)
        let peaks = try XCTUnwrap(obj["peaks"] as? [String: Any])
        for key in ["fma_gflops_1core", "fma_gflops_all", "stream_triad_gbs_1core", "stream_triad_gbs_all",
                    "stream_read_gbs_all", "compute_roof_gflops", "bandwidth_roof_gbs", "ridge_flop_per_byte"] {
            XCTAssertNotNil(peaks[key], key)
        }
        XCTAssertEqual((peaks["fma_gflops_all"] as? [String: Any])?["median"] as? Double, 100)
        let kernels = try XCTUnwrap(obj["kernels"] as? [[String: Any]])
        XCTAssertEqual(kernels.count, r.kernels.count)
        for k in kernels {
            for key in ["name", "kernel", "family", "variant", "network", "sites", "shape", "flops_per_call", "bytes_per_call",
                        "arithmetic_intensity", "time_ms_median", "time_ms_p10", "time_ms_p90", "gflops", "gbs", "bound",
                        "percent_of_peak", "roof_gflops"] {
                XCTAssertNotNil(k[key], "\(key) missing in \(k["name"] ?? "?")")
            }
        }
        XCTAssertEqual(Set(kernels.compactMap { $0["network"] as? String }), ["mnist6", "cifar-depth10"])
        XCTAssertNotNil(obj["notes"] as? [String])
    }

    func testCSVHasOneLinePerKernel() throws {
        let r = try syntheticReport()
        let lines = r.csv.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, 1 + r.kernels.count)
        XCTAssertEqual(String(lines[0]), BenchReport.csvColumns.joined(separator: ","))
        // No field of ours contains a comma or quote, so a plain split sees every column.
        for line in lines { XCTAssertEqual(line.split(separator: ",", omittingEmptySubsequences: false).count, BenchReport.csvColumns.count, String(line)) }
    }

    /// tools/plot.py roofline draws the report's JSON: well-formed SVG, every plotted kernel
    /// labelled, the 0-FLOP kernels listed under the chart; without peaks a chart that says so.
    func testRooflineChartIsDrawnFromTheJSON() throws {
        guard Plotter.python != nil else { throw XCTSkip("no python3 with matplotlib (tools/setup installs python3-matplotlib)") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rso-roofline-chart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func draw(_ r: BenchReport, _ name: String) throws -> String {
            let json = dir.appendingPathComponent("\(name).json").path, svg = dir.appendingPathComponent("\(name).svg").path
            try r.jsonString().write(toFile: json, atomically: true, encoding: .utf8)
            XCTAssertEqual(Plotter.draw(["roofline", svg, json], output: svg), .drawn(svg))
            let text = try String(contentsOfFile: svg, encoding: .utf8)
            let parser = XMLParser(data: Data(text.utf8))
            XCTAssertTrue(parser.parse(), "SVG does not parse: \(String(describing: parser.parserError))")
            return text
        }
        for nets in [[NetworkZoo.mnist6()], [NetworkZoo.mnist6(), NetworkZoo.cifarDepth10()]] {
            let r = try syntheticReport(networks: nets)
            let svg = try draw(r, nets.map(\.name).joined(separator: "+"))
            for k in r.kernels where k.gflops > 0 && k.arithmetic_intensity > 0 {
                XCTAssertTrue(svg.contains(">\(k.name)</text>"), "no label for \(k.name)")
            }
            XCTAssertTrue(svg.contains("not plotted (0 FLOP"))  // im2col has no FLOPs
        }
        XCTAssertTrue(try draw(try syntheticReport(peaks: false), "empty").contains("no peaks measured"))
    }

    func testMachinePeaksRunOnATinyProblem() {
        // Correctness of the plumbing only: positive rates, the right worker count. No timing bounds.
        let peaks = MachinePeaks.measure(pool: SerialScheduler(),
                                         options: .init(fmaIterations: 1000, streamElements: 4096, warmup: 0, repetitions: 2))
        XCTAssertEqual(peaks.workers, 1)
        XCTAssertEqual(peaks.streamArrayBytes, 4 * 4096)
        if peaks.fmaAvailable { XCTAssertGreaterThan(peaks.fmaGflopsOneCore.median, 0) }
        XCTAssertGreaterThan(peaks.triadGBsAllCores.median, 0)
        XCTAssertGreaterThan(peaks.readGBsOneCore.median, 0)
    }
}
