import RSOEngine
import XCTest

/// The node projection of `rso bench trial` (docs/performance.md): its two terms on hand-computed
/// cases, and the measured side (`rso bench trial` under mpirun) reporting communication per step.
final class CommunicationProjectionTests: XCTestCase {
    private let measured = TrialCommunication(collectives: 10, bytesReceived: 500_000, seconds: 0.2e-3,
                                              payloadBytes: 1_000_000)

    /// t = 1.2 ms of which 0.2 ms communication; 157 chunks on nodes of 2 workers.
    /// N = 4: compute = 1 ms · ⌈157/8⌉/⌈157/2⌉ = 20/79 ms; comm = 10 · 2 µs · ⌈log₂4⌉ + 10⁶ B · ¾ / 12.5 GB/s
    /// = 40 µs + 60 µs. Both are a few operations on exact-ish doubles: 1e-12 relative is ample.
    func testTermsOnFourNodes() {
        let p = CommunicationProjection(stepSeconds: 1.2e-3, communication: measured, chunks: 157, workers: 2,
                                        nodes: 4, latency: 2e-6)
        XCTAssertEqual(p.computeSeconds, 1e-3 * 20 / 79, accuracy: 1e-15)
        XCTAssertEqual(p.communicationSeconds, 100e-6, accuracy: 1e-15)
        XCTAssertEqual(p.communicationShare, 100e-6 / (1e-3 * 20 / 79 + 100e-6), accuracy: 1e-12)
    }

    /// ⌈log₂ N⌉ rounds (5 nodes: 3) and chunk granularity (64 nodes × 2 workers > 157 chunks:
    /// each worker still runs up to 2 chunks, so compute stops shrinking at 1/40 of the node's).
    func testLatencyRoundsAndChunkGranularity() {
        let five = CommunicationProjection(stepSeconds: 1.2e-3, communication: measured, chunks: 157, workers: 2,
                                           nodes: 5, latency: 5e-6)
        XCTAssertEqual(five.communicationSeconds, 10 * 5e-6 * 3 + 1e6 * 0.8 / 12.5e9, accuracy: 1e-15)
        let many = CommunicationProjection(stepSeconds: 1.2e-3, communication: measured, chunks: 157, workers: 2,
                                           nodes: 64, latency: 2e-6)
        XCTAssertEqual(many.computeSeconds, 1e-3 * 2 / 79, accuracy: 1e-15)
        let one = CommunicationProjection(stepSeconds: 1.2e-3, communication: measured, chunks: 157, workers: 2,
                                          nodes: 1, latency: 2e-6)
        XCTAssertEqual(one.communicationSeconds, 0)
        XCTAssertEqual(one.computeSeconds, 1e-3, accuracy: 1e-15)
    }

    /// Under mpirun, rank 0 alone prints the trial table and, per layer, the collectives and bytes
    /// of a step (a tiny batch: this checks the report, not speed).
    func testBenchTrialUnderMPIReportsCommunication() throws {
        let r = try runRSOUnderMPI(ranks: 2, ["bench", "trial", "--net", "mnist6", "--batch", "64", "--trials", "1",
                                              "--cache", "on", "--threads", "1"], limit: 300)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(r.output.components(separatedBy: "projected cycle").count, 2, r.output)
        let header = "layer   collectives"
        XCTAssertTrue(r.output.contains(header), r.output)
        // Every layer's step gathers its loss and correct counts at least (the FC step: 4 collectives).
        let rows = r.output.split(separator: "\n").drop { !$0.contains(header) }.dropFirst().prefix(7)
        XCTAssertEqual(rows.count, 7, r.output)
        for row in rows {
            let fields = row.split(separator: " ")
            XCTAssertGreaterThanOrEqual(Double(fields[1]) ?? 0, 2, String(row))
        }
    }
}
