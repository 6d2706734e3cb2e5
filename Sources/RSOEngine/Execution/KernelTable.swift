import CSupport

/// Which implementation of every kernel the engine runs: the optimised variants, or their plain
/// `__ref` twins (the yardstick the optimised ones are tested against).
public enum KernelSet: String, Sendable, CaseIterable {
    case optimized, reference
}

/// A convolution variant. The three take different arguments (the reference needs no scratch,
/// im2col + BLAS a tile size), so the table holds which one, not a single function pointer.
public enum ConvKernel: Sendable, Equatable {
    case reference
    case directAVX2
    /// 8 samples in the 8 lanes of a vector (conv_sample_lanes.c): no idle lanes on narrow rows.
    case sampleLanesAVX2
    /// 16 samples per AVX-512 vector (conv_sample_lanes16.c), bit-identical to `sampleLanesAVX2`,
    /// which it runs on CPUs without AVX-512F.
    case sampleLanesAVX512
    case im2colBLAS(tile: Int)

    /// Floats of per-worker scratch the variant needs for one chunk of this shape.
    public func scratchFloats(inChannels: Int, outChannels: Int, samples: Int, height: Int, width: Int,
                              kernel: Int) -> Int {
        switch self {
        case .reference: return 0
        case .directAVX2:
            return Int(cs_conv2d_cnhw_f32__direct_scratch_floats(Int32(inChannels), Int32(outChannels),
                                                                  Int32(samples), Int32(height), Int32(width),
                                                                  Int32(kernel)))
        case .sampleLanesAVX2:
            return Int(cs_conv2d_cnhw_f32__sample_lanes_scratch_floats(
                Int32(inChannels), Int32(outChannels), Int32(samples), Int32(height), Int32(width), Int32(kernel)))
        case .sampleLanesAVX512:
            return Int(cs_conv2d_cnhw_f32__sample_lanes16_scratch_floats(
                Int32(inChannels), Int32(outChannels), Int32(samples), Int32(height), Int32(width), Int32(kernel)))
        case .im2colBLAS(let tile): return inChannels * kernel * kernel * tile
        }
    }

    /// y[Cout][n·H·W] = conv(x, w), statistics of y added to sum/sumsq when non-nil (csupport.h).
    @inline(__always)
    public func callAsFunction(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ cin: Int32, _ cout: Int32,
                               _ n: Int32, _ h: Int32, _ wd: Int32, _ k: Int32, _ y: UnsafeMutablePointer<Float>,
                               _ sum: UnsafeMutablePointer<Double>?, _ sumsq: UnsafeMutablePointer<Double>?,
                               scratch: UnsafeMutablePointer<Float>?) {
        switch self {
        case .reference: cs_conv2d_cnhw_f32__ref(x, w, cin, cout, n, h, wd, k, y, sum, sumsq)
        case .directAVX2: cs_conv2d_cnhw_f32__direct_avx2(x, w, cin, cout, n, h, wd, k, y, sum, sumsq, scratch)
        case .sampleLanesAVX2:
            cs_conv2d_cnhw_f32__sample_lanes_avx2(x, w, cin, cout, n, h, wd, k, y, sum, sumsq, scratch)
        case .sampleLanesAVX512:
            cs_conv2d_cnhw_f32__sample_lanes_avx512(x, w, cin, cout, n, h, wd, k, y, sum, sumsq, scratch)
        case .im2colBLAS(let tile):
            cs_conv2d_cnhw_f32__im2col_blas(x, w, cin, cout, n, h, wd, k, y, sum, sumsq, scratch, tile)
        }
    }
}

/// The engine's kernels, chosen once from a `KernelSet`: the only place where a `__ref` twin or
/// an optimised variant is picked. ForwardExecutor, IncrementalEvaluator and the kernel
/// benchmarks call through a table and never name a variant themselves.
public struct KernelTable {
    public typealias BNReluInfer = @convention(c) (
        UnsafePointer<Float>?, Int32, Int, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Double>?,
        UnsafePointer<Double>?, Float, Int32, UnsafeMutablePointer<Float>?) -> Void
    public typealias BNReluAvgpool2 = @convention(c) (
        UnsafePointer<Float>?, Int32, Int32, Int32, Int32, UnsafePointer<Float>?, UnsafePointer<Float>?,
        UnsafePointer<Double>?, UnsafePointer<Double>?, Float, Int32, UnsafeMutablePointer<Float>?) -> Void
    public typealias Avgpool2 = @convention(c) (
        UnsafePointer<Float>?, Int32, Int32, Int32, Int32, UnsafeMutablePointer<Float>?) -> Void
    public typealias GlobalAvgpool = @convention(c) (
        UnsafePointer<Float>?, Int32, Int32, Int, UnsafeMutablePointer<Float>?) -> Void
    public typealias FC = @convention(c) (
        UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, Int32, Int32, Int32,
        UnsafeMutablePointer<Float>?) -> Void
    public typealias ResidualAdd = @convention(c) (
        UnsafeMutablePointer<Float>?, UnsafePointer<Float>?, Int32, Int32, Int, Int32) -> Void
    public typealias SoftmaxXent = @convention(c) (
        UnsafePointer<Float>?, UnsafePointer<UInt8>?, Int32, Int32, UnsafeMutablePointer<Int32>?) -> Double
    public typealias ShiftStats = @convention(c) (
        UnsafePointer<Float>?, UnsafePointer<Float>?, Int32, Int32, Int32, Int32, Int32, Int32,
        UnsafeMutablePointer<Double>?) -> Void
    public typealias ShiftAxpy = @convention(c) (
        UnsafePointer<Float>?, UnsafePointer<Float>?, Int32, Int32, Int32, Int32, Int32, Int32, Float,
        UnsafeMutablePointer<Float>?) -> Void
    public typealias Conv1chAdd = @convention(c) (
        UnsafePointer<Float>?, UnsafePointer<Float>?, Int32, Int32, Int32, Int32, Int32, Int32, Int32,
        UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Double>?,
        UnsafeMutablePointer<Double>?) -> Void
    public typealias FCColumnAdd = @convention(c) (
        UnsafeMutablePointer<Float>?, Int32, Int32, Int32, UnsafePointer<Float>?, Int32, Int32, Float) -> Void
    public typealias Im2col = @convention(c) (
        UnsafePointer<Float>?, Int32, Int32, Int32, Int32, Int32, Int, Int, UnsafeMutablePointer<Float>?) -> Void
    public typealias FCInputChange = @convention(c) (
        UnsafeMutablePointer<Float>?, Int32, Int32, UnsafePointer<Float>?, UnsafePointer<Float>?, Int32, Int32,
        UnsafePointer<Float>?) -> Void
    public typealias ShiftAxpyRows = @convention(c) (
        UnsafeMutablePointer<Float>?, Int, UnsafePointer<Float>?, Int, Int32, Int32, Int32, Int32, Int32, Int32,
        Float) -> Void
    public typealias ChannelSums = @convention(c) (
        UnsafePointer<Float>?, Int32, Int, UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?) -> Void

    public let set: KernelSet
    /// Conv with a 3×3 kernel (the direct micro-kernel: 2–3× im2col + sgemm on these narrow layers).
    public let conv3x3: ConvKernel
    /// Conv with a 3×3 kernel on planes where row vectors would idle lanes (`prefersSampleLanes`).
    public let conv3x3SampleLanes: ConvKernel
    /// Conv with a 3×3 kernel where 16-lane AVX-512 vectors pay off (`prefersWideLanes`).
    public let conv3x3WideLanes: ConvKernel
    /// Conv with any other kernel size.
    public let convOther: ConvKernel
    public let bnReluInfer: BNReluInfer
    public let bnReluAvgpool2: BNReluAvgpool2
    public let avgpool2: Avgpool2
    public let globalAvgpool: GlobalAvgpool
    public let fc: FC
    public let residualAdd: ResidualAdd
    public let softmaxXent: SoftmaxXent
    /// The patch-matrix builder inside `im2colBLAS` (the table lists it for the benchmarks).
    public let im2col: Im2col
    // Incremental trials (Incremental/).
    public let shiftStats: ShiftStats
    public let shiftAxpy: ShiftAxpy
    public let conv1chAdd: Conv1chAdd
    public let fcColumnAdd: FCColumnAdd
    public let fcInputChange: FCInputChange
    // Output cache (Execution/OutputCache.swift).
    public let shiftAxpyRows: ShiftAxpyRows
    public let channelSums: ChannelSums

    /// Output pixels per im2col tile (k ≠ 3 convs): the patch matrix (Cin·k²·tile floats) stays in L2.
    public static let convTile = 512

    public init(_ set: KernelSet, convTile: Int = KernelTable.convTile) {
        self.set = set
        // The loss has no optimised variant (loss.c): both sets call __ref.
        softmaxXent = cs_softmax_xent_f32__ref
        switch set {
        case .optimized:
            conv3x3 = .directAVX2
            conv3x3SampleLanes = .sampleLanesAVX2
            conv3x3WideLanes = .sampleLanesAVX512
            convOther = .im2colBLAS(tile: convTile)
            bnReluInfer = cs_bn_relu_infer_f32__affine_fma
            bnReluAvgpool2 = cs_bn_relu_avgpool2_cnhw_f32__affine_fma
            avgpool2 = cs_avgpool2_cnhw_f32__simd_f32
            globalAvgpool = cs_global_avgpool_cnhw_f32__simd_f32
            fc = cs_fc_f32__simd_f32
            residualAdd = cs_residual_add_cnhw_f32__flat_simd
            shiftStats = cs_shift_stats_cnhw_f32__tap_range
            shiftAxpy = cs_shift_axpy_cnhw_f32__tap_range
            conv1chAdd = cs_conv1ch_add_cnhw_f32__rows_avx512
            fcColumnAdd = cs_fc_column_add_f32__unfused
            fcInputChange = cs_fc_input_change_f32__unfused
            im2col = cs_im2col_cnhw_f32__flat_copy
            shiftAxpyRows = cs_shift_axpy_rows_f32__tap_range
            channelSums = cs_channel_sums_f32__simd
        case .reference:
            conv3x3 = .reference
            conv3x3SampleLanes = .reference
            conv3x3WideLanes = .reference
            convOther = .reference
            bnReluInfer = cs_bn_relu_infer_f32__ref
            bnReluAvgpool2 = cs_bn_relu_avgpool2_cnhw_f32__ref
            avgpool2 = cs_avgpool2_cnhw_f32__ref
            globalAvgpool = cs_global_avgpool_cnhw_f32__ref
            fc = cs_fc_f32__ref
            residualAdd = cs_residual_add_cnhw_f32__ref
            shiftStats = cs_shift_stats_cnhw_f32__ref
            shiftAxpy = cs_shift_axpy_cnhw_f32__ref
            conv1chAdd = cs_conv1ch_add_cnhw_f32__ref
            fcColumnAdd = cs_fc_column_add_f32__ref
            fcInputChange = cs_fc_input_change_f32__ref
            im2col = cs_im2col_cnhw_f32__ref
            shiftAxpyRows = cs_shift_axpy_rows_f32__ref
            channelSums = cs_channel_sums_f32__ref
        }
    }

    /// The conv variant for kernel size `k` on `inChannels` planes `width` pixels wide.
    @inline(__always)
    public func conv(kernel k: Int, width: Int, inChannels: Int) -> ConvKernel {
        if k != 3 { return convOther }
        if Self.prefersWideLanes(kernel: k, inChannels: inChannels) { return conv3x3WideLanes }
        return Self.prefersSampleLanes(kernel: k, width: width) ? conv3x3SampleLanes : conv3x3
    }

    /// Where the 16-lane AVX-512 kernel runs a k×k conv or its input gradient: 3×3 with at least 4
    /// input channels on CPUs with AVX-512F (1.2–1.5× the 8-lane kernel on mnist6's 16-channel
    /// convs at batch 5000, `rso bench roofline --family conv,conv_bwd_input`). With one input
    /// channel (mnist6's conv1) the conv is bound by moving samples in and out of the lanes, where
    /// the 8-lane kernel's statistics, fused into its store, win (0.54 vs 0.72 ms per batch of 128).
    /// The 16- and 8-lane kernels give bit-identical outputs and statistics; where the AVX2 choice
    /// is `__direct_avx2` (rows of 16 or 32) the outputs are identical and the statistics' double
    /// sums differ in order.
    public static func prefersWideLanes(kernel: Int, inChannels: Int) -> Bool {
        kernel == 3 && inChannels >= 4 && hasAVX512
    }

    /// Where samples in lanes beat row vectors for a k×k conv or its input gradient (`rso bench
    /// roofline --family conv,conv_bwd_input`, docs/performance.md): 3×3 on rows of 8 or fewer
    /// pixels, or not a multiple of 8 (28, 14, 7: a row's last vector idles lanes). On full rows of
    /// 16 and 32 the two measured within noise; __direct_avx2 keeps those.
    public static func prefersSampleLanes(kernel: Int, width: Int) -> Bool {
        kernel == 3 && (width <= 8 || width % 8 != 0)
    }

    /// Whether this CPU runs the AVX-512 kernels (they fall back to AVX2 without it).
    public static let hasAVX512 = cs_cpu_has_avx512f() != 0
}
