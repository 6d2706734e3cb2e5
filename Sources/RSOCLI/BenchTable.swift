import Foundation
import RSOEngine

/// The text form of a BenchReport: context, peaks, one table per network, notes.
enum BenchTable {
    static func render(_ r: BenchReport) -> String {
        var out: [String] = []
        let c = r.context
        out.append("rso \(c.command): \(c.networks.joined(separator: ", ")) on \(c.cpu)")
        out.append("context: " + c.summaryLine)
        out.append("blas: \(c.blas)")
        if let p = r.peaks {
            let isa = p.fma_lanes == 16 ? "AVX-512" : "AVX2"
            out.append("peaks: FMA (\(isa)) " + String(format: "%.1f GFLOP/s 1 core, %.1f on %d (p10–p90 %.1f–%.1f) · stream triad %.1f GB/s 1 core, %.1f on %d · read %.1f / %.1f GB/s · arrays %.0f MiB",
                              p.fma_gflops_1core.median, p.fma_gflops_all.median, p.workers, p.fma_gflops_all.low,
                              p.fma_gflops_all.high, p.stream_triad_gbs_1core.median, p.stream_triad_gbs_all.median,
                              p.workers, p.stream_read_gbs_1core.median, p.stream_read_gbs_all.median, p.stream_array_mib))
            out.append(String(format: "roofs for %d thread(s): compute %.1f GFLOP/s, bandwidth %.1f GB/s, ridge %.2f FLOP/B",
                              c.threads, p.compute_roof_gflops, p.bandwidth_roof_gbs, p.ridge_flop_per_byte))
            if !p.fma_available { out.append("WARNING: this CPU has no AVX2/FMA: the FMA peak is 0") }
        } else {
            out.append("peaks: not measured (--peaks off): no % of peak")
        }
        let header = ["kernel", "sites", "shape", "FLOP/call", "B/call", "AI", "ms/batch", "p10–p90 ms", "µs/call",
                      "GFLOP/s", "GB/s", "bound", "%peak", "×ref"]
        for net in c.networks {
            let rows = r.kernels.filter { $0.network == net }
            guard !rows.isEmpty else { continue }
            out.append("")
            out.append("\(net)  (batch \(c.batch): \(rows.first!.calls) calls of ≤ \(rows.first!.samples_per_call) samples; times per whole batch on \(c.threads) thread(s))")
            var table = [header]
            for k in rows {
                table.append([
                    "\(k.family) __\(k.variant)\(k.time_scale != 1 ? "*" : "")",
                    sites(k.sites), k.shape, count(k.flops_per_call), count(k.bytes_per_call),
                    String(format: "%.2f", k.arithmetic_intensity),
                    String(format: "%.2f", k.time_ms_median),
                    String(format: "%.2f–%.2f", k.time_ms_p10, k.time_ms_p90),
                    String(format: "%.1f", k.us_per_call),
                    String(format: "%.2f", k.gflops), String(format: "%.2f", k.gbs),
                    k.bound ?? "-", k.percent_of_peak.map { String(format: "%.0f%%", $0) } ?? "-",
                    k.speedup_vs_ref.map { String(format: "%.1f×", $0) } ?? "",
                ])
            }
            out += align(table)
        }
        if r.kernels.contains(where: { $0.time_scale != 1 }) { out.append("* measured on fewer samples and scaled to the batch (see notes)") }
        out.append("")
        out += r.notes.map { "note: " + $0 }
        return out.joined(separator: "\n") + "\n"
    }

    static func sites(_ s: [String]) -> String {
        s.count <= 2 ? s.joined(separator: ",") : "\(s[0]),\(s[1]),+\(s.count - 2)"
    }

    static func count(_ v: Double) -> String { v == 0 ? "0" : formatCount(v) }

    /// Left-aligns the first three columns, right-aligns the rest.
    static func align(_ rows: [[String]]) -> [String] {
        let widths = (0..<rows[0].count).map { i in rows.map { $0[i].count }.max()! }
        return rows.map { row in
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i < 3 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
    }
}
