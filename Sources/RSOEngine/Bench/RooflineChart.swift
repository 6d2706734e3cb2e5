import Foundation

/// A log-log roofline chart as standalone SVG: the compute roof (measured FMA peak) and the
/// bandwidth slope (measured stream triad) for the kernels' thread count, the 1-core roofs dashed,
/// and one labelled dot per kernel at (arithmetic intensity, GFLOP/s). Kernels with no FLOPs
/// (im2col) cannot sit on a log axis; they are listed under the chart instead.
public enum RooflineChart {
    static let width = 1000.0, height = 680.0
    static let left = 80.0, right = 30.0, top = 70.0, bottom = 110.0

    public static func svg(report: BenchReport) -> String {
        guard let peaks = report.peaks else { return emptyChart("no peaks measured") }
        let roof = max(peaks.compute_roof_gflops, 1e-6), bw = max(peaks.bandwidth_roof_gbs, 1e-6)
        let roof1 = max(peaks.fma_gflops_1core.median, 1e-6), bw1 = max(peaks.stream_triad_gbs_1core.median, 1e-6)
        let plotted = report.kernels.filter { $0.gflops > 0 && $0.arithmetic_intensity > 0 }
        let skipped = report.kernels.filter { !($0.gflops > 0 && $0.arithmetic_intensity > 0) }

        // Axis ranges in whole decades around the points and the ridge.
        let ridge = roof / bw
        let ais = plotted.map(\.arithmetic_intensity) + [ridge / 10, ridge * 10]
        let xLo = floor(log10(ais.min()!)), xHi = max(ceil(log10(ais.max()!)), floor(log10(ais.min()!)) + 1)
        let ys = plotted.map(\.gflops) + [roof * 1.5, min(roof, pow(10, xLo) * bw)]
        let yLo = floor(log10(max(ys.min()!, 1e-4))), yHi = max(ceil(log10(ys.max()!)), yLo + 1)
        let pw = width - left - right, ph = height - top - bottom
        func px(_ ai: Double) -> Double { left + (log10(ai) - xLo) / (xHi - xLo) * pw }
        func py(_ g: Double) -> Double { top + (1 - (log10(g) - yLo) / (yHi - yLo)) * ph }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        var s: [String] = []
        s.append(#"<?xml version="1.0" encoding="UTF-8"?>"#)
        s.append(#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(height))" viewBox="0 0 \#(Int(width)) \#(Int(height))" font-family="sans-serif">"#)
        s.append(#"<rect x="0" y="0" width="\#(Int(width))" height="\#(Int(height))" fill="white"/>"#)
        s.append(#"<defs><clipPath id="plot"><rect x="\#(f(left))" y="\#(f(top))" width="\#(f(pw))" height="\#(f(ph))"/></clipPath></defs>"#)

        let c = report.context
        let title = "Roofline: \(c.networks.joined(separator: ", ")) · batch \(c.batch) · \(c.threads) thread(s) · \(c.build) · commit \(c.git_commit ?? "unknown")"
        s.append(text(left, 28, title, size: 15, weight: "bold"))
        let sub = String(format: "compute roof %.1f GFLOP/s (FMA, %d worker(s)) · bandwidth %.1f GB/s (stream triad) · ridge %.2f FLOP/B · pinning: %@",
                         roof, c.threads, bw, ridge, c.pinning)
        s.append(text(left, 48, sub, size: 11))

        // Grid and tick labels, one per decade.
        for d in Int(xLo)...Int(xHi) {
            let x = px(pow(10, Double(d)))
            s.append(#"<line x1="\#(f(x))" y1="\#(f(top))" x2="\#(f(x))" y2="\#(f(top + ph))" stroke="#ddd"/>"#)
            s.append(text(x, top + ph + 16, decade(d), size: 11, anchor: "middle"))
        }
        for d in Int(yLo)...Int(yHi) {
            let y = py(pow(10, Double(d)))
            s.append(#"<line x1="\#(f(left))" y1="\#(f(y))" x2="\#(f(left + pw))" y2="\#(f(y))" stroke="#ddd"/>"#)
            s.append(text(left - 6, y + 4, decade(d), size: 11, anchor: "end"))
        }
        s.append(#"<rect x="\#(f(left))" y="\#(f(top))" width="\#(f(pw))" height="\#(f(ph))" fill="none" stroke="#333"/>"#)
        s.append(text(left + pw / 2, top + ph + 36, "arithmetic intensity (FLOP/byte, compulsory traffic)", size: 12, anchor: "middle"))
        s.append(#"<text x="22" y="\#(f(top + ph / 2))" font-size="12" text-anchor="middle" transform="rotate(-90 22 \#(f(top + ph / 2)))">GFLOP/s</text>"#)

        // Roofs: min(peak, AI·bandwidth), drawn across the whole x range and clipped to the plot.
        func roofPath(_ peak: Double, _ band: Double) -> String {
            let x0 = pow(10, xLo), x1 = pow(10, xHi), r = peak / band
            var pts = [(x0, min(peak, x0 * band))]
            if r > x0 && r < x1 { pts.append((r, peak)) }
            pts.append((x1, min(peak, x1 * band)))
            return pts.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
        }
        s.append(#"<g clip-path="url(#plot)">"#)
        if c.threads > 1 {
            s.append(#"<polyline points="\#(roofPath(roof1, bw1))" fill="none" stroke="#999" stroke-width="1.5" stroke-dasharray="6 4"/>"#)
        }
        s.append(#"<polyline points="\#(roofPath(roof, bw))" fill="none" stroke="#c00" stroke-width="2.5"/>"#)
        s.append("</g>")
        s.append(text(left + pw - 4, py(roof) - 6, String(format: "FMA peak %.1f GFLOP/s", roof), size: 11, anchor: "end", fill: "#c00"))
        let slopeX = max(pow(10, xLo) * 1.5, min(ridge / 8, ridge))
        s.append(text(px(slopeX) + 4, py(slopeX * bw) - 8, String(format: "stream %.1f GB/s", bw), size: 11, fill: "#c00"))
        if c.threads > 1 {
            s.append(text(left + pw - 4, py(roof1) + 14, String(format: "1 core: %.1f GFLOP/s, %.1f GB/s (dashed)", roof1, bw1),
                          size: 10, anchor: "end", fill: "#777"))
        }

        // Kernels.
        s.append(#"<g clip-path="url(#plot)">"#)
        for (i, k) in plotted.enumerated() {
            let x = px(k.arithmetic_intensity), y = py(k.gflops)
            s.append(#"<circle cx="\#(f(x))" cy="\#(f(y))" r="4" fill="\#(color(k.variant))" stroke="#222" stroke-width="0.5"><title>\#(escape(tooltip(k)))</title></circle>"#)
            let dy = i % 2 == 0 ? -6.0 : 12.0
            s.append(text(x + 6, y + dy, k.network == c.networks.first || c.networks.count == 1 ? k.name : "\(k.name) [\(k.network)]", size: 9))
        }
        s.append("</g>")

        // Legend and what could not be plotted.
        var ly = top + ph + 58
        var lx = left
        for (v, label) in [("sgemm", "im2col+sgemm / opt"), ("direct", "direct conv"), ("ref", "reference (__ref)")] {
            s.append(#"<circle cx="\#(f(lx + 5))" cy="\#(f(ly - 4))" r="4" fill="\#(color(v))" stroke="#222" stroke-width="0.5"/>"#)
            s.append(text(lx + 14, ly, label, size: 11))
            lx += 170
        }
        if !skipped.isEmpty {
            ly += 20
            let names = skipped.map(\.name).joined(separator: ", ")
            s.append(text(left, ly, "not plotted (0 FLOP, pure data movement): " + names, size: 10, fill: "#555"))
        }
        s.append("</svg>")
        return s.joined(separator: "\n") + "\n"
    }

    static func emptyChart(_ why: String) -> String {
        #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
            + #"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="60">"# + text(10, 30, why, size: 12) + "</svg>\n"
    }

    static func color(_ variant: String) -> String {
        switch variant {
        case "ref": return "#ff7f0e"
        case "direct": return "#2ca02c"
        default: return "#1f77b4"
        }
    }

    static func decade(_ d: Int) -> String {
        d >= 0 ? String(format: "%.0f", pow(10, Double(d))) : String(format: "%.\(-d)f", pow(10, Double(d)))
    }

    static func tooltip(_ k: KernelRow) -> String {
        var t = String(format: "%@ %@ (%@): %.3g GFLOP/s, %.3g GB/s, AI %.3g FLOP/B", k.kernel, k.shape,
                       k.sites.joined(separator: ", "), k.gflops, k.gbs, k.arithmetic_intensity)
        if let p = k.percent_of_peak { t += String(format: ", %.0f%% of %@ peak", p, k.bound ?? "") }
        return t
    }

    static func text(_ x: Double, _ y: Double, _ s: String, size: Int, anchor: String = "start",
                     weight: String = "normal", fill: String = "#222") -> String {
        #"<text x="\#(String(format: "%.1f", x))" y="\#(String(format: "%.1f", y))" font-size="\#(size)" text-anchor="\#(anchor)" font-weight="\#(weight)" fill="\#(fill)">\#(escape(s))</text>"#
    }

    /// XML text/attribute escaping.
    public static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}
