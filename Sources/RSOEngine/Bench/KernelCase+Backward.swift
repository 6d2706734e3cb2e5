/// Work per call of SGD's backward kernels (one chunk of n samples, as BackwardPass calls them).
/// Same conventions as the forward families (KernelCase): FLOPs count every arithmetic operation
/// and comparison the kernel's definition needs; bytes are the compulsory traffic (every input read
/// once, every output written once, no write-allocate, parameters once per call).
///   conv_bwd_input      2·Cin·Cout·k²·P (the transposed conv, padding taps included), P = n·H·W;
///                       bytes dy + w + dx.
///   conv_bwd_weight     2·Cout·Cin·k²·P; bytes x + dy + dw (this chunk's partial).
///   bn_bwd              both passes of training-mode BN backward: 8 per element (mask, Σg, Σg·x̂,
///                       two FMAs); bytes z and dy read, g written, z and g read again, dz written
///                       (+ per channel γ, β and the double mean, var, Σg, Σg·x̂).
///   softmax_xent_bwd    5·K + 2 per sample (per class: max, subtract, exp, sum, scale; one divide,
///                       one subtraction at the label); bytes logits + labels + dlogits.
///   fc_bwd              dW 2·n·I·O, db n·O, dx 2·n·I·O; bytes x, w, dy read, dW, db, dx written.
///   global_avgpool_bwd  1 per (sample, channel) (dy·1/HW), the broadcast is stores only; bytes
///                       dy + dx.
///   avgpool2_bwd        1 per output value (dy·¼), stores to its 2×2 window; bytes dy + dx
///                       (every input value is written, the dropped odd edge as 0).
///   relu_bwd            1 (the mask's comparison) per element of the block output; bytes y and dy
///                       read, dx written (in place over dy, as the engine runs it).
///   shortcut_bwd        Cskip·L adds (the zero-padded channels pass nothing back); bytes g read,
///                       dskip read and written.
extension KernelCase.Family {
    public var isBackward: Bool {
        switch self {
        case .convBackwardInput, .convBackwardWeight, .bnBackward, .softmaxXentBackward, .fcBackward,
             .globalAvgpoolBackward, .avgpool2Backward, .reluBackward, .shortcutBackward:
            return true
        default:
            return false
        }
    }
}

extension KernelCase {
    func backwardFlops(samples n: Int) -> Double {
        let n = Double(n)
        switch (family, shape) {
        case let (.convBackwardInput, .conv(ci, co, k, h, w)), let (.convBackwardWeight, .conv(ci, co, k, h, w)):
            return 2 * Double(co * ci * k * k) * n * Double(h * w)
        case let (.bnBackward, .planes(c, h, w, _, _)):
            return 8 * Double(c * h * w) * n
        case let (.softmaxXentBackward, .logits(k)):
            return Double(5 * k + 2) * n
        case let (.fcBackward, .fc(i, o)):
            return (4 * Double(i * o) + Double(o)) * n
        case let (.globalAvgpoolBackward, .planes(c, _, _, _, _)):
            return Double(c) * n
        case let (.avgpool2Backward, .planes(c, h, w, _, _)):
            return Double(c * (h / 2) * (w / 2)) * n
        case let (.reluBackward, .planes(c, h, w, _, _)):
            return Double(c * h * w) * n
        case let (.shortcutBackward, .residual(_, cs, h, w, _)):
            return Double(cs * h * w) * n
        default:
            preconditionFailure("\(family) on \(shape)")
        }
    }

    func backwardBytes(samples n: Int) -> Double {
        let n = Double(n)
        let f = 4.0, d = 8.0
        switch (family, shape) {
        case let (.convBackwardInput, .conv(ci, co, k, h, w)), let (.convBackwardWeight, .conv(ci, co, k, h, w)):
            let p = n * Double(h * w)
            return f * (Double(ci) * p + Double(co * ci * k * k) + Double(co) * p)
        case let (.bnBackward, .planes(c, h, w, _, _)):
            return 6 * f * Double(c * h * w) * n + Double(c) * (2 * f + 4 * d)
        case let (.softmaxXentBackward, .logits(k)):
            return 2 * f * Double(k) * n + n
        case let (.fcBackward, .fc(i, o)):
            return f * (2 * n * Double(i) + 2 * Double(o * i) + n * Double(o) + Double(o))
        case let (.globalAvgpoolBackward, .planes(c, h, w, _, _)):
            return f * Double(c) * n * Double(1 + h * w)
        case let (.avgpool2Backward, .planes(c, h, w, _, _)):
            return f * Double(c) * n * Double((h / 2) * (w / 2) + h * w)
        case let (.reluBackward, .planes(c, h, w, _, _)):
            return 3 * f * Double(c * h * w) * n
        case let (.shortcutBackward, .residual(_, cs, h, w, _)):
            return 3 * f * Double(cs * h * w) * n
        default:
            preconditionFailure("\(family) on \(shape)")
        }
    }
}
