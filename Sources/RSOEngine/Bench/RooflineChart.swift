import Foundation

/// A log-log roofline chart as standalone SVG: the compute roof (measured FMA peak) and the
/// bandwidth slope (measured stream triad) for the kernels' thread count, the 1-core roofs dashed,
/// and one labelled dot per kernel at (arithmetic intensity, GFLOP/s); colour = variant, marker =
/// network. Labels are placed greedily where they overlap nothing; a dot whose label does not fit
/// gets a number, listed under the chart. Kernels with no FLOPs (im2col) cannot sit on a log axis:
/// they are listed under the chart too. Every dot carries a <title> tooltip with its numbers.
public enum RooflineChart {
    static let width = 1100.0
    static let left = 80.0, right = 30.0, top = 70.0, plotHeight = 520.0

    private struct Box {
        var x0, y0, x1, y1: Double
        func hits(_ o: Box) -> Bool { x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1 }
    }

    public static func svg(report: BenchReport) -> String {
        guard let peaks = report.peaks else { return emptyChart("no peaks measured") }
        let c = report.context
        let roof = max(peaks.compute_roof_gflops, 1e-6), bw = max(peaks.bandwidth_roof_gbs, 1e-6)
        let roof1 = max(peaks.fma_gflops_1core.median, 1e-6), bw1 = max(peaks.stream_triad_gbs_1core.median, 1e-6)
        let plotted = report.kernels.filter { $0.gflops > 0 && $0.arithmetic_intensity > 0 }
        let skipped = report.kernels.filter { !($0.gflops > 0 && $0.arithmetic_intensity > 0) }

        // Axis ranges in whole decades around the points and the ridge (room on the right for labels).
        let ridge = roof / bw
        let ais = plotted.map(\.arithmetic_intensity) + [ridge / 10, ridge * 10]
        let xLo = floor(log10(ais.min()!)), xHi = max(ceil(log10(ais.max()! * 3)), xLo + 1)
        let ys = plotted.map(\.gflops) + [roof * 2, min(roof, pow(10, xLo) * bw)]
        let yLo = floor(log10(max(ys.min()!, 1e-4))), yHi = max(ceil(log10(ys.max()!)), yLo + 1)
        let pw = width - left - right, ph = plotHeight
        func px(_ ai: Double) -> Double { left + (log10(ai) - xLo) / (xHi - xLo) * pw }
        func py(_ g: Double) -> Double { top + (1 - (log10(g) - yLo) / (yHi - yLo)) * ph }

        var body: [String] = []
        let title = "Roofline: \(c.networks.joined(separator: ", ")) · batch \(c.batch) · \(c.threads) thread(s) · \(c.build) build · commit \(c.git_commit ?? "unknown")"
        body.append(text(left, 28, title, size: 15, weight: "bold"))
        let sub = String(format: "compute roof %.1f GFLOP/s (FMA loop, %d thread(s)) · bandwidth %.1f GB/s (stream triad) · ridge %.2f FLOP/B · pinning: %@ · %@",
                         roof, c.threads, bw, ridge, c.pinning, c.date)
        body.append(text(left, 48, sub, size: 11))

        // Grid and tick labels, one per decade.
        for d in Int(xLo)...Int(xHi) {
            let x = px(pow(10, Double(d)))
            body.append(##"<line x1="\##(f(x))" y1="\##(f(top))" x2="\##(f(x))" y2="\##(f(top + ph))" stroke="#ddd"/>"##)
            body.append(text(x, top + ph + 16, decade(d), size: 11, anchor: "middle"))
        }
        for d in Int(yLo)...Int(yHi) {
            let y = py(pow(10, Double(d)))
            body.append(##"<line x1="\##(f(left))" y1="\##(f(y))" x2="\##(f(left + pw))" y2="\##(f(y))" stroke="#ddd"/>"##)
            body.append(text(left - 6, y + 4, decade(d), size: 11, anchor: "end"))
        }
        body.append(##"<rect x="\##(f(left))" y="\##(f(top))" width="\##(f(pw))" height="\##(f(ph))" fill="none" stroke="#333"/>"##)
        body.append(text(left + pw / 2, top + ph + 36, "arithmetic intensity (FLOP/byte of compulsory traffic)", size: 12, anchor: "middle"))
        body.append(##"<text x="22" y="\##(f(top + ph / 2))" font-size="12" text-anchor="middle" transform="rotate(-90 22 \##(f(top + ph / 2)))">GFLOP/s</text>"##)

        // Roofs: min(peak, AI·bandwidth) across the x range, clipped to the plot.
        func roofPath(_ peak: Double, _ band: Double) -> String {
            let x0 = pow(10, xLo), x1 = pow(10, xHi), r = peak / band
            var pts = [(x0, min(peak, x0 * band))]
            if r > x0 && r < x1 { pts.append((r, peak)) }
            pts.append((x1, min(peak, x1 * band)))
            return pts.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
        }
        body.append(##"<g clip-path="url(#plot)">"##)
        if c.threads > 1 {
            body.append(##"<polyline points="\##(roofPath(roof1, bw1))" fill="none" stroke="#999" stroke-width="1.5" stroke-dasharray="6 4"/>"##)
        }
        body.append(##"<polyline points="\##(roofPath(roof, bw))" fill="none" stroke="#c00" stroke-width="2.5"/>"##)
        body.append("</g>")

        // Boxes already taken (roof labels, dots), then kernel labels placed greedily.
        var taken: [Box] = []
        func put(_ x: Double, _ y: Double, _ s: String, size: Int, anchor: String = "start", fill: String = "#222") {
            body.append(text(x, y, s, size: size, anchor: anchor, fill: fill))
            taken.append(box(x, y, s, size: size, anchor: anchor))
        }
        let points = plotted.map { (px($0.arithmetic_intensity), py($0.gflops)) }
        taken += points.map { Box(x0: $0.0 - 5, y0: $0.1 - 5, x1: $0.0 + 5, y1: $0.1 + 5) }
        // The higher roof's label goes above its line, the lower one's below (they may be close).
        let oneAbove = c.threads > 1 && roof1 >= roof
        put(left + pw - 4, py(roof) + (oneAbove ? 14 : -6), String(format: "FMA peak %.1f GFLOP/s", roof), size: 11,
            anchor: "end", fill: "#c00")
        if c.threads > 1 {
            put(left + pw - 4, py(roof1) + (oneAbove ? -6 : 14), String(format: "1 core: %.1f GFLOP/s, %.1f GB/s (dashed)", roof1, bw1),
                size: 10, anchor: "end", fill: "#777")
        }
        // The slope's label: the first spot along the slope (above, then below it) that hides no dot.
        let slopeLabel = String(format: "stream triad %.1f GB/s", bw)
        let ridgeX = log10(ridge)
        var spots: [(Double, Double)] = []
        for frac in [0.15, 0.4, 0.65, 0.9] {
            let ai = pow(10, xLo + frac * max(0.1, ridgeX - xLo))
            spots.append((ai, -8))
            spots.append((ai, 16))
        }
        let slopeSpot = spots.first { sp in
            !taken.contains { $0.hits(box(px(sp.0) + 6, py(sp.0 * bw) + sp.1, slopeLabel, size: 11, anchor: "start")) }
        } ?? spots[0]
        put(px(slopeSpot.0) + 6, py(slopeSpot.0 * bw) + slopeSpot.1, slopeLabel, size: 11, fill: "#c00")
        for (k, p) in zip(plotted, points) {
            body.append(marker(p.0, p.1, network: c.networks.firstIndex(of: k.network) ?? 0, fill: color(k.variant),
                               tooltip: tooltip(k)))
        }
        let plotBox = Box(x0: left + 1, y0: top + 1, x1: left + pw - 1, y1: top + ph - 1)
        let offsets: [(Double, Double, String)] = [(7, -5, "start"), (7, 12, "start"), (-7, -5, "end"), (-7, 12, "end"),
                                                   (7, -16, "start"), (7, 23, "start"), (-7, -16, "end"), (-7, 23, "end"),
                                                   (0, -10, "middle"), (0, 19, "middle")]
        var numbered: [(Int, KernelRow)] = []
        // Optimised kernels first: their labels matter most.
        let order = plotted.indices.sorted { (plotted[$0].variant == "ref" ? 1 : 0, $0) < (plotted[$1].variant == "ref" ? 1 : 0, $1) }
        for i in order {
            let k = plotted[i], (x, y) = points[i]
            let label = k.name
            let spot = offsets.first { o in
                let b = box(x + o.0, y + o.1, label, size: 9, anchor: o.2)
                return b.x0 >= plotBox.x0 && b.x1 <= plotBox.x1 && b.y0 >= plotBox.y0 && b.y1 <= plotBox.y1
                    && !taken.contains(where: { $0.hits(b) })
            }
            if let spot {
                put(x + spot.0, y + spot.1, label, size: 9, anchor: spot.2)
            } else {
                let n = numbered.count + 1
                numbered.append((n, k))
                let (dx, dy, anchor) = offsets.first { o in
                    let b = box(x + o.0, y + o.1, "\(n)", size: 9, anchor: o.2)
                    return !taken.contains(where: { $0.hits(b) })
                } ?? offsets[0]
                put(x + dx, y + dy, "\(n)", size: 9, anchor: anchor, fill: "#444")
            }
        }

        // Legend and lists under the plot.
        var y = top + ph + 62
        var x = left
        for (v, label) in [("im2col_blas", "im2col + BLAS / other optimised"), ("direct_avx2", "direct conv (AVX2)"), ("ref", "reference (__ref)")] {
            body.append(marker(x + 5, y - 4, network: 0, fill: color(v), tooltip: nil))
            body.append(text(x + 14, y, label, size: 11))
            x += 190
        }
        if c.networks.count > 1 {
            for (i, net) in c.networks.enumerated() {
                body.append(marker(x + 5, y - 4, network: i, fill: "#bbb", tooltip: nil))
                body.append(text(x + 14, y, net, size: 11))
                x += 120
            }
        }
        let columns = 2, colWidth = pw / Double(columns)
        if !numbered.isEmpty {
            y += 22
            body.append(text(left, y, "numbered dots (label did not fit):", size: 10, fill: "#555"))
            for (j, (n, k)) in numbered.enumerated() {
                if j % columns == 0 { y += 14 }
                let netTag = c.networks.count > 1 ? " [\(k.network)]" : ""
                body.append(text(left + Double(j % columns) * colWidth, y,
                                 String(format: "%d  %@%@ — %.3g GFLOP/s", n, k.name, netTag, k.gflops), size: 10))
            }
        }
        if !skipped.isEmpty {
            y += 22
            body.append(text(left, y, "not plotted (0 FLOP: pure data movement), GB/s:", size: 10, fill: "#555"))
            for (j, k) in skipped.enumerated() {
                if j % columns == 0 { y += 14 }
                let netTag = c.networks.count > 1 ? " [\(k.network)]" : ""
                body.append(text(left + Double(j % columns) * colWidth, y,
                                 String(format: "%@%@ — %.3g GB/s", k.name, netTag, k.gbs), size: 10))
            }
        }
        let height = y + 24

        var s: [String] = []
        s.append(##"<?xml version="1.0" encoding="UTF-8"?>"##)
        s.append(##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))" font-family="sans-serif">"##)
        s.append(##"<rect x="0" y="0" width="\##(Int(width))" height="\##(Int(height))" fill="white"/>"##)
        s.append(##"<defs><clipPath id="plot"><rect x="\##(f(left))" y="\##(f(top))" width="\##(f(pw))" height="\##(f(ph))"/></clipPath></defs>"##)
        s += body
        s.append("</svg>")
        return s.joined(separator: "\n") + "\n"
    }

    static func emptyChart(_ why: String) -> String {
        ##"<?xml version="1.0" encoding="UTF-8"?>"## + "\n"
            + ##"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="60">"## + text(10, 30, why, size: 12) + "</svg>\n"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func color(_ variant: String) -> String {
        switch variant {
        case "ref": return "#ff7f0e"
        case "direct_avx2": return "#2ca02c"
        default: return "#1f77b4"
        }
    }

    /// Circle, square, diamond, triangle by network index.
    static func marker(_ x: Double, _ y: Double, network: Int, fill: String, tooltip: String?) -> String {
        let tip = tooltip.map { "<title>\(escape($0))</title>" } ?? ""
        let style = ##"fill="\##(fill)" stroke="#222" stroke-width="0.6""##
        switch network % 4 {
        case 0:
            return ##"<circle cx="\##(f(x))" cy="\##(f(y))" r="4" \##(style)>\##(tip)</circle>"##
        case 1:
            return ##"<rect x="\##(f(x - 3.5))" y="\##(f(y - 3.5))" width="7" height="7" \##(style)>\##(tip)</rect>"##
        case 2:
            return ##"<polygon points="\##(f(x)),\##(f(y - 5)) \##(f(x + 5)),\##(f(y)) \##(f(x)),\##(f(y + 5)) \##(f(x - 5)),\##(f(y))" \##(style)>\##(tip)</polygon>"##
        default:
            return ##"<polygon points="\##(f(x)),\##(f(y - 5)) \##(f(x + 5)),\##(f(y + 4)) \##(f(x - 5)),\##(f(y + 4))" \##(style)>\##(tip)</polygon>"##
        }
    }

    /// Estimated extent of a text (sans-serif: ~0.56 em per character, ~0.8 em above the baseline).
    private static func box(_ x: Double, _ y: Double, _ s: String, size: Int, anchor: String) -> Box {
        let w = 0.56 * Double(size) * Double(s.count), h = Double(size)
        let x0 = anchor == "end" ? x - w : anchor == "middle" ? x - w / 2 : x
        return Box(x0: x0, y0: y - 0.8 * h, x1: x0 + w, y1: y + 0.25 * h)
    }

    static func decade(_ d: Int) -> String {
        d >= 0 ? String(format: "%.0f", pow(10, Double(d))) : String(format: "%.\(-d)f", pow(10, Double(d)))
    }

    static func tooltip(_ k: KernelRow) -> String {
        var t = String(format: "%@ %@ (%@, %@): %.3g GFLOP/s, %.3g GB/s, AI %.3g FLOP/B, %.3g ms/batch", k.kernel, k.shape,
                       k.network, k.sites.joined(separator: ", "), k.gflops, k.gbs, k.arithmetic_intensity, k.time_ms_median)
        if let p = k.percent_of_peak { t += String(format: ", %.0f%% of %@ peak", p, k.bound ?? "") }
        if let s = k.speedup_vs_ref { t += String(format: ", %.1f× ref", s) }
        return t
    }

    static func text(_ x: Double, _ y: Double, _ s: String, size: Int, anchor: String = "start",
                     weight: String = "normal", fill: String = "#222") -> String {
        ##"<text x="\##(f(x))" y="\##(f(y))" font-size="\##(size)" text-anchor="\##(anchor)" font-weight="\##(weight)" fill="\##(fill)">\##(escape(s))</text>"##
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
