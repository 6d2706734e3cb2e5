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
///                    pixels at a time into an L2-sized scratch, as conv __im2col_blas does).
///   bn_relu_infer    2 (FMA) + 1 (ReLU) per element; bytes z + y.
///   bn_relu_avgpool2 2 + 1 + 1 (pool add) per input element; bytes z + y (¼ of z).
///   avgpool2         1 per input element; bytes x + y.
///   global_avgpool   1 per input element; bytes x + y.
///   fc               2·n·I·O + n·O; bytes x + w + b + y.
///   residual_add     Cskip·L adds (+ Cy·L ReLUs); bytes y (read, written) + skip.
///   softmax_xent     4·K + 1 per sample; bytes logits + labels.
/// Incremental trials (one plane of n·H·W values per call; docs/design.md "Incremental trials"):
///   shift_stats      5 per element (ΣS, Σz·S, ΣS²); bytes the x and z planes + the 3 sums.
///   shift_axpy       2 per element; bytes z, x (read) + y (written).
///   conv1ch_add      2·Cout·k²·P (padding taps included, as conv); bytes d plane + w + z + y
///                    (+ the per-channel sums).
///   fc_column_add    2 per sample; bytes the x column + the logit column (read, written).
///   fc_input_change  1 + 2·O per sample; bytes xnew + the x column + the w column + logits
///                    (read, written).
/// SGD backward (every `*_bwd` family): counts and their derivation in KernelCase+Backward.swift.
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
        case shiftStats = "shift_stats"
        case shiftAxpy = "shift_axpy"
        case conv1chAdd = "conv1ch_add"
        case fcColumnAdd = "fc_column_add"
        case fcInputChange = "fc_input_change"
        case shiftAxpyRows = "shift_axpy_rows"
        case channelSums = "channel_sums"
        case convBackwardInput = "conv_bwd_input"
        case convBackwardWeight = "conv_bwd_weight"
        case bnBackward = "bn_bwd"
        case softmaxXentBackward = "softmax_xent_bwd"
        case fcBackward = "fc_bwd"
        case globalAvgpoolBackward = "global_avgpool_bwd"
        case avgpool2Backward = "avgpool2_bwd"
        case reluBackward = "relu_bwd"
        case shortcutBackward = "shortcut_bwd"

        /// The C suffix of the family's optimised variant (the one `KernelTable(.optimized)` calls).
        public var optimizedSuffix: String {
            switch self {
            case .conv: return "direct_avx2"  // 3×3 on wide rows; narrow: sample_lanes_avx2; k ≠ 3: im2col_blas
            case .im2col: return "flat_copy"
            case .bnReluInfer, .bnReluAvgpool2: return "affine_fma"
            case .avgpool2, .globalAvgpool, .fc: return "simd_f32"
            case .residualAdd: return "flat_simd"
            case .softmaxXent: return "ref"  // no optimised variant (loss.c)
            case .shiftStats, .shiftAxpy: return "tap_range"
            case .conv1chAdd: return "rows_avx512"  // without AVX-512F: tap_range
            case .fcColumnAdd, .fcInputChange: return "unfused"
            case .shiftAxpyRows: return "tap_range"
            case .channelSums: return "simd"
            case .convBackwardInput: return "direct_avx2"  // the forward direct conv on the flipped kernel
            case .convBackwardWeight: return "sample_lanes_avx512"  // k ≠ 3 or no AVX-512: direct
            case .bnBackward: return "affine_fma"
            case .softmaxXentBackward, .fcBackward, .globalAvgpoolBackward, .avgpool2Backward, .reluBackward,
                 .shortcutBackward: return "simd_f32"
            }
        }
    }

    /// Which implementation is measured. `ref` is every family's yardstick; `optimized` is what
    /// `KernelTable(.optimized)` calls; convs are measured as both of their optimised variants.
    public enum Variant: String, Sendable, CaseIterable, Codable {
        case optimized
        case im2colBLAS = "im2col_blas"
        case directAVX2 = "direct_avx2"
        case sampleLanesAVX2 = "sample_lanes_avx2"
        case sampleLanesAVX512 = "sample_lanes_avx512"
        /// The AVX2-era weight gradient (row vectors), measured next to the engine's.
        case direct
        case ref
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
        case .shiftStats: op = "cs_shift_stats_cnhw_f32"
        case .shiftAxpy: op = "cs_shift_axpy_cnhw_f32"
        case .conv1chAdd: op = "cs_conv1ch_add_cnhw_f32"
        case .fcColumnAdd: op = "cs_fc_column_add_f32"
        case .fcInputChange: op = "cs_fc_input_change_f32"
        case .shiftAxpyRows: op = "cs_shift_axpy_rows_f32"
        case .channelSums: op = "cs_channel_sums_f32"
        case .convBackwardInput: op = "cs_conv2d_backward_input_cnhw_f32"
        case .convBackwardWeight: op = "cs_conv2d_backward_weight_cnhw_f32"
        case .bnBackward: op = "cs_bn_relu_backward_sums_f32+cs_bn_backward_dx_f32"
        case .softmaxXentBackward: op = "cs_softmax_xent_backward_f32"
        case .fcBackward: op = "cs_fc_backward_f32"
        case .globalAvgpoolBackward: op = "cs_global_avgpool_backward_cnhw_f32"
        case .avgpool2Backward: op = "cs_avgpool2_backward_cnhw_f32"
        case .reluBackward: op = "cs_relu_backward_f32"
        case .shortcutBackward: op = "cs_shortcut_backward_cnhw_f32"
        }
        return op + "__" + suffix
    }

    /// The `__` suffix of the C function measured: how it works.
    public var suffix: String {
        switch variant {
        case .optimized: return family.optimizedSuffix
        case .im2colBLAS, .directAVX2, .sampleLanesAVX2, .sampleLanesAVX512, .direct, .ref: return variant.rawValue
        }
    }

    /// "16→16 3×3 @28×28", "16 ch 28×28 +relu", "I 32 → O 10", "K 10".
    public var shapeDescription: String {
        switch shape {
        case let .conv(ci, co, k, h, w): return "\(ci)→\(co) \(k)×\(k) @\(h)×\(w)"
        case let .planes(c, h, w, k, relu):
            var s = "\(c)ch \(h)×\(w)"
            if [.im2col, .shiftStats, .shiftAxpy, .shiftAxpyRows].contains(family) { s += " k\(k)" }
            if relu && [.bnReluInfer, .bnReluAvgpool2, .bnBackward].contains(family) { s += " relu" }
            return s
        case let .fc(i, o): return "\(i)→\(o)"
        case let .residual(c, cs, h, w, relu): return "\(cs)→\(c)ch \(h)×\(w)\(relu ? " relu" : "")"
        case let .logits(k): return "K=\(k)"
        }
    }

    /// "conv conv2 im2col_blas", "fc ref fc": first site (and how many more) and variant, for chart labels.
    public var label: String {
        let place = sites.count > 1 ? "\(sites[0])+\(sites.count - 1)" : (sites.first ?? "")
        return "\(family.rawValue) \(suffix) \(place)"
    }

    /// Same family and shape, any variant: the key that pairs a kernel with its reference twin.
    public var shapeKey: String { "\(network)|\(family.rawValue)|\(shape)" }

    // MARK: Work per call

    /// FLOPs of one call on a chunk of `n` samples (see the type's conventions).
    public func flops(samples n: Int) -> Double {
        if family.isBackward { return backwardFlops(samples: n) }
        let n = Double(n)
        switch (family, shape) {
        case let (.conv, .conv(ci, co, k, h, w)):
            return 2 * Double(co * ci * k * k) * n * Double(h * w)
        case let (.conv1chAdd, .conv(_, co, k, h, w)):
            return 2 * Double(co * k * k) * n * Double(h * w)
        case let (.shiftStats, .planes(c, h, w, _, _)):
            return 5 * Double(c * h * w) * n
        case let (.shiftAxpy, .planes(c, h, w, _, _)):
            return 2 * Double(c * h * w) * n
        case let (.shiftAxpyRows, .planes(_, h, w, _, _)):  // one channel of rows of `c` channels
            return 2 * Double(h * w) * n
        case let (.channelSums, .planes(c, h, w, _, _)):
            return 3 * Double(c * h * w) * n
        case (.fcColumnAdd, .fc):
            return 2 * n
        case let (.fcInputChange, .fc(_, o)):
            return Double(1 + 2 * o) * n
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
        if family.isBackward { return backwardBytes(samples: n) }
        let n = Double(n)
        let f = 4.0, d = 8.0
        switch (family, shape) {
        case let (.conv, .conv(ci, co, k, h, w)):
            let p = n * Double(h * w)
            return f * (Double(ci) * p + Double(co * ci * k * k) + Double(co) * p) + 2 * d * Double(co)
        case let (.conv1chAdd, .conv(_, co, k, h, w)):
            let p = n * Double(h * w)
            return f * (p + Double(co * k * k) + 2 * Double(co) * p) + 2 * d * Double(co)
        case let (.shiftStats, .planes(c, h, w, _, _)):
            return 2 * f * Double(c * h * w) * n + 3 * d
        case let (.shiftAxpy, .planes(c, h, w, _, _)):
            return 3 * f * Double(c * h * w) * n
        case let (.shiftAxpyRows, .planes(_, h, w, _, _)):
            return 3 * f * Double(h * w) * n
        case let (.channelSums, .planes(c, h, w, _, _)):
            return f * Double(c * h * w) * n + 2 * d * Double(c)
        case (.fcColumnAdd, .fc):
            return 3 * f * n
        case let (.fcInputChange, .fc(_, o)):
            return f * (2 * n + Double(o) + 2 * n * Double(o))
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
