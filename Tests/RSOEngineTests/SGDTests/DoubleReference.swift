@testable import RSOEngine

/// Double-precision forward of every layer (same chunked CNHW layout and semantics as the C
/// kernels), and of whole networks: the functions whose central finite differences the gradient
/// checks compare the engine's float back-propagation against.
enum DoubleForward {
    static func conv(_ x: [Double], _ w: [Double], cin: Int, cout: Int, n: Int, h: Int, w wd: Int, k: Int) -> [Double] {
        let pad = k / 2, plane = n * h * wd
        var y = [Double](repeating: 0, count: cout * plane)
        for co in 0..<cout { for ci in 0..<cin { for ky in 0..<k { for kx in 0..<k {
            let wv = w[((co * cin + ci) * k + ky) * k + kx]
            for s in 0..<n { for oy in 0..<h {
                let iy = oy + ky - pad
                if iy < 0 || iy >= h { continue }
                for ox in 0..<wd {
                    let ix = ox + kx - pad
                    if ix < 0 || ix >= wd { continue }
                    y[co * plane + (s * h + oy) * wd + ox] += wv * x[ci * plane + (s * h + iy) * wd + ix]
                }
            } }
        } } } }
        return y
    }

    /// Training-mode BN over each channel's row of L values (biased variance), then ReLU.
    static func batchNorm(_ z: [Double], c: Int, l: Int, gamma: [Double], beta: [Double], eps: Double, relu: Bool) -> [Double] {
        var y = z
        for ch in 0..<c {
            let row = z[(ch * l)..<((ch + 1) * l)]
            let mean = row.reduce(0, +) / Double(l)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(l)
            let inv = 1 / (variance + eps).squareRoot()
            for i in 0..<l {
                let v = gamma[ch] * (z[ch * l + i] - mean) * inv + beta[ch]
                y[ch * l + i] = relu ? max(0, v) : v
            }
        }
        return y
    }

    static func avgPool2(_ x: [Double], c: Int, n: Int, h: Int, w: Int) -> [Double] {
        let ho = h / 2, wo = w / 2
        var y = [Double](repeating: 0, count: c * n * ho * wo)
        for p in 0..<(c * n) { for oy in 0..<ho { for ox in 0..<wo {
            var acc = 0.0
            for dy in 0..<2 { for dx in 0..<2 { acc += x[p * h * w + (2 * oy + dy) * w + 2 * ox + dx] } }
            y[p * ho * wo + oy * wo + ox] = acc / 4
        } } }
        return y
    }

    /// [C][n][HW] → [n][C].
    static func globalAvgPool(_ x: [Double], c: Int, n: Int, hw: Int) -> [Double] {
        var y = [Double](repeating: 0, count: n * c)
        for ch in 0..<c { for s in 0..<n {
            y[s * c + ch] = x[((ch * n + s) * hw)..<((ch * n + s + 1) * hw)].reduce(0, +) / Double(hw)
        } }
        return y
    }

    static func fc(_ x: [Double], _ w: [Double], _ b: [Double], n: Int, i: Int, o: Int) -> [Double] {
        var y = [Double](repeating: 0, count: n * o)
        for s in 0..<n { for oo in 0..<o {
            var acc = b[oo]
            for ii in 0..<i { acc += x[s * i + ii] * w[oo * i + ii] }
            y[s * o + oo] = acc
        } }
        return y
    }

    /// y + skip zero-padded in channels (first cskip·L values), then ReLU.
    static func residualAdd(_ y: [Double], _ skip: [Double], cskip: Int, l: Int, relu: Bool) -> [Double] {
        var out = y
        for j in 0..<(cskip * l) { out[j] += skip[j] }
        return relu ? out.map { max(0, $0) } : out
    }

    /// Σ_s cross-entropy of logits[n][K].
    static func xentSum(_ logits: [Double], _ labels: [UInt8], n: Int, k: Int) -> Double {
        var total = 0.0
        for s in 0..<n {
            let row = logits[(s * k)..<((s + 1) * k)]
            let m = row.max()!
            total += m + row.reduce(0) { $0 + exp($1 - m) }.logNatural - logits[s * k + Int(labels[s])]
        }
        return total
    }

    /// Mean cross-entropy of a network on one chunk of n samples (input [C][n][H][W]), with
    /// parameters in `NetworkParameters.allTensors` order, training-mode BN (eps as the executor's).
    static func networkLoss(_ spec: NetworkSpec, parameters p: [[Double]], input: [Double], labels: [UInt8], n: Int,
                            eps: Double = 1e-5) -> Double {
        let plan = ForwardPlan(network: spec)
        var index: [String: Int] = [:]
        var next = 0
        for layer in spec.layers {
            index["\(layer.name).w"] = next; next += 1
            if case .conv = layer { index["\(layer.name).g"] = next; next += 1 }
            index["\(layer.name).b"] = next; next += 1
        }
        var t = [[Double]](repeating: [], count: plan.tensors.count)
        t[0] = input
        for step in plan.steps {
            let shape = plan.tensors[step.input]
            let x = t[step.input]
            let c = shape.channels, h = shape.height, w = shape.width
            switch step.kind {
            case .conv(let d):
                guard case .conv(let s) = spec.layers[d] else { fatalError() }
                t[step.output] = conv(x, p[index["\(s.name).w"]!], cin: c, cout: s.outChannels, n: n, h: h, w: w, k: s.kernel)
            case .batchNorm(let d, let relu), .batchNormPool(let d, let relu):
                let name = spec.layers[d].name
                var y = batchNorm(x, c: c, l: n * h * w, gamma: p[index["\(name).g"]!], beta: p[index["\(name).b"]!],
                                  eps: eps, relu: relu)
                if case .batchNormPool = step.kind { y = avgPool2(y, c: c, n: n, h: h, w: w) }
                t[step.output] = y
            case .avgPool2:
                t[step.output] = avgPool2(x, c: c, n: n, h: h, w: w)
            case .globalAvgPool:
                t[step.output] = globalAvgPool(x, c: c, n: n, hw: h * w)
            case .fc(let d):
                guard case .fc(let f) = spec.layers[d] else { fatalError() }
                t[step.output] = fc(x, p[index["\(f.name).w"]!], p[index["\(f.name).b"]!], n: n, i: f.inFeatures, o: f.outFeatures)
            case .addSkip(let skip, let relu):
                t[step.output] = residualAdd(x, t[skip], cskip: plan.tensors[skip].channels, l: n * h * w, relu: relu)
            }
        }
        return xentSum(t[plan.logitsTensor], labels, n: n, k: spec.classes) / Double(n)
    }

    /// Central difference (f(x + h·e_i) − f(x − h·e_i)) / 2h of entry i.
    static func centralDifference(_ f: ([Double]) -> Double, at x: [Double], index i: Int, step h: Double) -> Double {
        var a = x, b = x
        a[i] += h
        b[i] -= h
        return (f(a) - f(b)) / (2 * h)
    }
}

#if canImport(Glibc)
import Glibc
#endif

private extension Double {
    var logNatural: Double { log(self) }
}
