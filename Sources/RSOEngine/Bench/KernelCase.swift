/// One benchmark case: a CSupport kernel variant on one real layer shape of a network, with the
/// work it does per call (one chunk of n samples, as ForwardExecutor calls it).
///
/// Counting conventions (FLOPs as in FlopModel; bytes are the compulsory traffic: every input
/// element read once, every output element written once, no write-allocate, parameters once per
/// call):
///   conv             2·Cout·Cin·k²·P FLOPs (padding taps included: the work sgemm does), P = n·H·W;
///                    bytes x + w + y (+ the per-channel sums). Statistics of y are taken in the
///                    same call, as the engine does in training (their FLOPs are not counted).
///   im2col           0 FLOPs; bytes x + the patch matrix Cin·k²·P (written tile by tile, 512
///                    pixels at a time into an L2-sized scratch, as conv __sgemm does).
///   bn_relu_infer    2 (FMA) + 1 (ReLU) per element; bytes z + y.
///   bn_relu_avgpool2 2 + 1 + 1 (pool add) per input element; bytes z + y (¼ of z).
///   avgpool2         1 per input element; bytes x + y.
///   global_avgpool   1 per input element; bytes x + y.
///   fc               2·n·I·O + n·O; bytes x + w + b + y.
///   residual_add     Cskip·L adds (+ Cy·L ReLUs); bytes y (read, written) + skip.
///   softmax_xent     4·K + 1 per sample; bytes logits + labels.
///   channel_stats    3 per element (add, square, add); bytes z.
///   conv_bwd_input   2·Cin·Cout·k²·P (the transposed conv); bytes dy + w + dx.
///   conv_bwd_weight  2·Cout·Cin·k²·P; bytes x + dy + dw.
///   bn_bwd           both passes of training-mode BN backward: 8 per element (mask, Σg, Σg·x̂,
///                    two FMAs); bytes z and dy read, g written, z and g read again, dz written.
public struct KernelCase: Sendable, Equatable {
    public enum Family: String, Sendable, CaseIterable, Codable {
        case conv
        case im2col
        case bnReluInfer = "bn_relu_infer"
        case bnReluAvgpool2 = "bn_relu_avgpool2"
        case avgpool2
        case globalAvgpool = "global_avgpool"
        case fc
        case residualAdd = "residual_add"
        case softmaxXent = "softmax_xent"
        case channelStats = "channel_stats"
        case convBackwardInput = "conv_bwd_input"
        case convBackwardWeight = "conv_bwd_weight"
        case bnBackward = "bn_bwd"
    }

    /// How the kernel is done (the `__` suffix of its C name). `ref` is every family's yardstick.
    public enum Variant: String, Sendable, CaseIterable, Codable {
        case opt, sgemm, direct, ref
    }

    /// The shape a family runs on, per sample (n comes from the call).
    public enum Shape: Sendable, Equatable, Hashable {
        case conv(inChannels: Int, outChannels: Int, kernel: Int, height: Int, width: Int)
        /// A CNHW tensor of `channels` planes of height × width (BN, pooling, statistics, im2col
        /// with `kernel`).
        case planes(channels: Int, height: Int, width: Int, kernel: Int, relu: Bool)
        case fc(inFeatures: Int, outFeatures: Int)
        case residual(channels: Int, skipChannels: Int, height: Int, width: Int, relu: Bool)
        case logits(classes: Int)
    }

    public var family: Family
    public var variant: Variant
    public var shape: Shape
    public var network: String
    /// Where the shape occurs in the network ("conv2", "conv2.bn+pool", …); identical shapes of one
    /// network are measured once and list every site.
    public var sites: [String]

    public init(family: Family, variant: Variant, shape: Shape, network: String, sites: [String]) {
        self.family = family
        self.variant = variant
        self.shape = shape
        self.network = network
        self.sites = sites
    }

    /// The C function measured.
    public var kernel: String {
        let op: String
        switch family {
        case .conv: op = "cs_conv2d_cnhw_f32"
        case .im2col: op = "cs_im2col_cnhw_f32"
        case .bnReluInfer: op = "cs_bn_relu_infer_f32"
        case .bnReluAvgpool2: op = "cs_bn_relu_avgpool2_cnhw_f32"
        case .avgpool2: op = "cs_avgpool2_cnhw_f32"
        case .globalAvgpool: op = "cs_global_avgpool_cnhw_f32"
        case .fc: op = "cs_fc_f32"
        case .residualAdd: op = "cs_residual_add_cnhw_f32"
        case .softmaxXent: op = "cs_softmax_xent_f32"
        case .channelStats: op = "cs_channel_stats_f32"
        case .convBackwardInput: op = "cs_conv2d_backward_input_cnhw_f32"
        case .convBackwardWeight: op = "cs_conv2d_backward_weight_cnhw_f32"
        case .bnBackward: op = "cs_bn_relu_backward_sums_f32+cs_bn_backward_dx_f32"
        }
        return op + "__" + variant.rawValue
    }

    /// "16→16 3×3 @28×28", "16 ch 28×28 +relu", "I 32 → O 10", "K 10".
    public var shapeDescription: String {
        switch shape {
        case let .conv(ci, co, k, h, w): return "\(ci)→\(co) \(k)×\(k) @\(h)×\(w)"
        case let .planes(c, h, w, k, relu):
            var s = "\(c)ch \(h)×\(w)"
            if family == .im2col { s += " k\(k)" }
            if relu && [.bnReluInfer, .bnReluAvgpool2, .bnBackward].contains(family) { s += " relu" }
            return s
        case let .fc(i, o): return "\(i)→\(o)"
        case let .residual(c, cs, h, w, relu): return "\(cs)→\(c)ch \(h)×\(w)\(relu ? " relu" : "")"
        case let .logits(k): return "K=\(k)"
        }
    }

    /// "conv2 sgemm", "conv3+1 ref": first site (and how many more) and variant, for chart labels.
    public var label: String {
        let place = sites.count > 1 ? "\(sites[0])+\(sites.count - 1)" : (sites.first ?? "")
        return "\(family.rawValue) \(variant.rawValue) \(place)"
    }

    /// Same family and shape, any variant: the key that pairs a kernel with its reference twin.
    public var shapeKey: String { "\(network)|\(family.rawValue)|\(shape)" }

    // MARK: Work per call

    /// FLOPs of one call on a chunk of `n` samples (see the type's conventions).
    public func flops(samples n: Int) -> Double {
        let n = Double(n)
        switch (family, shape) {
        case let (.conv, .conv(ci, co, k, h, w)), let (.convBackwardInput, .conv(ci, co, k, h, w)),
             let (.convBackwardWeight, .conv(ci, co, k, h, w)):
            return 2 * Double(co * ci * k * k) * n * Double(h * w)
        case let (.bnBackward, .planes(c, h, w, _, _)):
            return 8 * Double(c * h * w) * n
        case (.im2col, _):
            return 0
        case let (.bnReluInfer, .planes(c, h, w, _, relu)):
            return Double(2 + (relu ? 1 : 0)) * Double(c * h * w) * n
        case let (.bnReluAvgpool2, .planes(c, h, w, _, relu)):
            return Double(3 + (relu ? 1 : 0)) * Double(c * (h / 2) * 2 * (w / 2) * 2) * n
        case let (.avgpool2, .planes(c, h, w, _, _)):
            return Double(c * (h / 2) * 2 * (w / 2) * 2) * n
        case let (.globalAvgpool, .planes(c, h, w, _, _)):
            return Double(c * h * w) * n
        case let (.channelStats, .planes(c, h, w, _, _)):
            return 3 * Double(c * h * w) * n
        case let (.fc, .fc(i, o)):
            return (2 * Double(i * o) + Double(o)) * n
        case let (.residualAdd, .residual(c, cs, h, w, relu)):
            return Double(cs * h * w + (relu ? c * h * w : 0)) * n
        case let (.softmaxXent, .logits(k)):
            return Double(4 * k + 1) * n
        default:
            preconditionFailure("\(family) on \(shape)")
        }
    }

    /// Compulsory bytes of one call on a chunk of `n` samples (see the type's conventions).
    public func bytes(samples n: Int) -> Double {
        let n = Double(n)
        let f = 4.0, d = 8.0
        switch (family, shape) {
        case let (.conv, .conv(ci, co, k, h, w)):
            let p = n * Double(h * w)
            return f * (Double(ci) * p + Double(co * ci * k * k) + Double(co) * p) + 2 * d * Double(co)
        case let (.convBackwardInput, .conv(ci, co, k, h, w)), let (.convBackwardWeight, .conv(ci, co, k, h, w)):
            let p = n * Double(h * w)
            return f * (Double(ci) * p + Double(co * ci * k * k) + Double(co) * p)
        case let (.bnBackward, .planes(c, h, w, _, _)):
            return 6 * f * Double(c * h * w) * n + Double(c) * (2 * f + 4 * d)
        case let (.im2col, .planes(c, h, w, k, _)):
            let p = n * Double(h * w)
            return f * Double(c) * p * Double(1 + k * k)
        case let (.bnReluInfer, .planes(c, h, w, _, _)):
            return 2 * f * Double(c * h * w) * n + Double(c) * (2 * f + 2 * d)
        case let (.bnReluAvgpool2, .planes(c, h, w, _, _)):
            let used = Double(c * (h / 2) * 2 * (w / 2) * 2) * n
            return f * used + f * used / 4 + Double(c) * (2 * f + 2 * d)
        case let (.avgpool2, .planes(c, h, w, _, _)):
            let used = Double(c * (h / 2) * 2 * (w / 2) * 2) * n
            return f * used + f * used / 4
        case let (.globalAvgpool, .planes(c, h, w, _, _)):
            return f * Double(c * h * w) * n + f * Double(c) * n
        case let (.channelStats, .planes(c, h, w, _, _)):
            return f * Double(c * h * w) * n + 2 * d * Double(c)
        case let (.fc, .fc(i, o)):
            return f * (n * Double(i) + Double(o * i) + Double(o) + n * Double(o))
        case let (.residualAdd, .residual(c, cs, h, w, relu)):
            let l = n * Double(h * w)
            return relu ? f * l * Double(2 * c + cs) : f * l * Double(3 * cs)
        case let (.softmaxXent, .logits(k)):
            return f * Double(k) * n + n
        default:
            preconditionFailure("\(family) on \(shape)")
        }
    }
}
