import CSupport

/// The workloads of SGD's backward kernels: the buffers BackwardPass gives each kernel, and the
/// per-chunk call of the measured variant (these kernels are not in KernelTable: BackwardPass picks
/// the optimised twin or `__ref` itself, and so does this).
extension KernelWorkload {
    func makeBackwardBody(convTile: Int) -> (Int, Int) -> Void {
        // Plain values for the per-chunk closures (which must not capture the workload).
        let ref = kernelCase.variant == .ref, cs = chunkSamples, total = samples
        func n(_ c: Int) -> Int { min(cs, total - c * cs) }
        switch (kernelCase.family, kernelCase.shape) {
        case let (.convBackwardInput, .conv(ci, co, k, h, w)):
            let dy = batchTensor(perSample: co * h * w, seed: 16)
            let dx = zerosF(total * ci * h * w)
            let wt = small(co * ci * k * k, seed: 17, scale: Float((2.0 / Double(ci * k * k)).squareRoot()))
            let floats = ref ? 0 : Int(cs_conv2d_backward_input_scratch_floats(Int32(ci), Int32(co), Int32(cs), Int32(h),
                                                                                 Int32(w), Int32(k)))
            let scratch = (0..<scheduler.workers).map { _ in zerosF(floats) }
            let variant = kernelCase.variant
            return { c, worker in
                let dyc = dy + c * cs * co * h * w, dxc = dx + c * cs * ci * h * w
                if ref {
                    cs_conv2d_backward_input_cnhw_f32__ref(dyc, wt, Int32(ci), Int32(co), Int32(n(c)), Int32(h), Int32(w),
                                                           Int32(k), dxc)
                } else if variant == .sampleLanesAVX512 {
                    cs_conv2d_backward_input_cnhw_f32__sample_lanes_avx512(dyc, wt, Int32(ci), Int32(co), Int32(n(c)),
                                                                           Int32(h), Int32(w), Int32(k), dxc, scratch[worker])
                } else if variant == .sampleLanesAVX2 {
                    cs_conv2d_backward_input_cnhw_f32__sample_lanes_avx2(dyc, wt, Int32(ci), Int32(co), Int32(n(c)),
                                                                         Int32(h), Int32(w), Int32(k), dxc, scratch[worker])
                } else {
                    cs_conv2d_backward_input_cnhw_f32__direct_avx2(dyc, wt, Int32(ci), Int32(co), Int32(n(c)), Int32(h), Int32(w),
                                                           Int32(k), dxc, scratch[worker])
                }
            }

        case let (.convBackwardWeight, .conv(ci, co, k, h, w)):
            let x = batchTensor(perSample: ci * h * w, seed: 18)
            let dy = batchTensor(perSample: co * h * w, seed: 19)
            let dw = zerosF(chunkCount * co * ci * k * k)  // per-chunk partials, as the engine keeps them
            let variant = kernelCase.variant
            let floats: Int
            switch variant {
            case .im2colBLAS: floats = ci * k * k * convTile
            case .optimized, .sampleLanesAVX512: floats = Int(cs_conv2d_backward_weight_sample_lanes_scratch_floats(Int32(ci), Int32(co), Int32(cs),
                                                                                              Int32(h), Int32(w), Int32(k)))
            case .direct: floats = Int(cs_conv2d_backward_weight_direct_scratch_floats(Int32(ci), Int32(co), Int32(cs),
                                                                                     Int32(h), Int32(w), Int32(k)))
            default: floats = 0
            }
            let scratch = (0..<scheduler.workers).map { _ in zerosF(floats) }
            let tile = convTile
            return { c, worker in
                let xc = x + c * cs * ci * h * w, dyc = dy + c * cs * co * h * w, dwc = dw + c * co * ci * k * k
                let nc = Int32(n(c))
                switch variant {
                case .optimized, .sampleLanesAVX512:
                    cs_conv2d_backward_weight_cnhw_f32__sample_lanes_avx512(xc, dyc, Int32(ci), Int32(co), nc, Int32(h),
                                                                            Int32(w), Int32(k), dwc, scratch[worker])
                case .direct:
                    cs_conv2d_backward_weight_cnhw_f32__direct(xc, dyc, Int32(ci), Int32(co), nc, Int32(h), Int32(w), Int32(k),
                                                               dwc, scratch[worker])
                case .im2colBLAS:
                    cs_conv2d_backward_weight_cnhw_f32__im2col_blas(xc, dyc, Int32(ci), Int32(co), nc, Int32(h), Int32(w), Int32(k),
                                                              dwc, scratch[worker], tile)
                case .ref, .directAVX2, .sampleLanesAVX2:  // the reference (the other two are forward-only)
                    cs_conv2d_backward_weight_cnhw_f32__ref(xc, dyc, Int32(ci), Int32(co), nc, Int32(h), Int32(w), Int32(k), dwc)
                }
            }

        case let (.bnBackward, .planes(ch, h, w, _, relu)):
            let z = batchTensor(perSample: ch * h * w, seed: 20)
            let dy = batchTensor(perSample: ch * h * w, seed: 21)
            let g = zerosF(total * ch * h * w)
            let gamma = small(ch, seed: 22, scale: 0.1, offset: 1), beta = small(ch, seed: 23, scale: 0.1)
            let mean = zerosD(ch), variance = zerosD(ch, value: 1)
            let sums = zerosD(chunkCount * ch), sumsX = zerosD(chunkCount * ch)
            let r: Int32 = relu ? 1 : 0
            let pass1 = ref ? cs_bn_relu_backward_sums_f32__ref : cs_bn_relu_backward_sums_f32__affine_fma
            let pass2 = ref ? cs_bn_backward_dx_f32__ref : cs_bn_backward_dx_f32__affine_fma
            let count = Double(total * h * w)
            return { c, _ in
                // Both passes on the chunk (the engine reduces the sums over the batch in between;
                // here each chunk's own sums stand in for the totals: the same work).
                let off = c * cs * ch * h * w, l = n(c) * h * w
                let s1 = sums + c * ch, s2 = sumsX + c * ch
                pass1(z + off, dy + off, Int32(ch), l, gamma, beta, mean, variance, 1e-5, r, g + off, s1, s2)
                pass2(z + off, g + off, Int32(ch), l, gamma, mean, variance, 1e-5, s1, s2, count, g + off)
            }

        case let (.softmaxXentBackward, .logits(k)):
            let logits = batchTensor(perSample: k, seed: 30)
            let labels = labels(classes: k)
            let dlogits = zerosF(total * k)
            let f = ref ? cs_softmax_xent_backward_f32__ref : cs_softmax_xent_backward_f32__simd_f32
            let scale = Float(1.0 / Double(total))
            return { c, _ in f(logits + c * cs * k, labels + c * cs, Int32(n(c)), Int32(k), scale, dlogits + c * cs * k) }

        case let (.fcBackward, .fc(i, o)):
            let x = batchTensor(perSample: i, seed: 31)
            let dy = batchTensor(perSample: o, seed: 32)
            let wt = small(o * i, seed: 33, scale: Float((2.0 / Double(i)).squareRoot()))
            let dw = zerosF(chunkCount * o * i), db = zerosF(chunkCount * o)  // per-chunk partials
            let dx = zerosF(total * i)
            let f = ref ? cs_fc_backward_f32__ref : cs_fc_backward_f32__simd_f32
            return { c, _ in
                f(x + c * cs * i, wt, dy + c * cs * o, Int32(n(c)), Int32(i), Int32(o), dw + c * o * i, db + c * o,
                  dx + c * cs * i)
            }

        case let (.globalAvgpoolBackward, .planes(ch, h, w, _, _)):
            let dy = batchTensor(perSample: ch, seed: 34)
            let dx = zerosF(total * ch * h * w)
            let f = ref ? cs_global_avgpool_backward_cnhw_f32__ref : cs_global_avgpool_backward_cnhw_f32__simd_f32
            return { c, _ in f(dy + c * cs * ch, Int32(ch), Int32(n(c)), h * w, dx + c * cs * ch * h * w) }

        case let (.avgpool2Backward, .planes(ch, h, w, _, _)):
            let outPer = ch * (h / 2) * (w / 2)
            let dy = batchTensor(perSample: outPer, seed: 35)
            let dx = zerosF(total * ch * h * w)
            let f = ref ? cs_avgpool2_backward_cnhw_f32__ref : cs_avgpool2_backward_cnhw_f32__simd_f32
            return { c, _ in f(dy + c * cs * outPer, Int32(ch), Int32(n(c)), Int32(h), Int32(w), dx + c * cs * ch * h * w) }

        case let (.reluBackward, .planes(ch, h, w, _, _)):
            // In place over dy, as the engine runs it: the first run zeroes the masked values, later
            // runs rewrite the same values (same reads and writes).
            let per = ch * h * w
            let y = batchTensor(perSample: per, seed: 36)
            let dy = batchTensor(perSample: per, seed: 37)
            let f = ref ? cs_relu_backward_f32__ref : cs_relu_backward_f32__simd_f32
            return { c, _ in
                let g = dy + c * cs * per
                f(y + c * cs * per, g, n(c) * per, g)
            }

        case let (.shortcutBackward, .residual(ch, skipCh, h, w, _)):
            // Accumulates into dskip, as the engine does after the conv wrote it; the values drift
            // by at most 1 per run (bounded inputs).
            let g = batchTensor(perSample: ch * h * w, seed: 38)
            let dskip = batchTensor(perSample: skipCh * h * w, seed: 39)
            let f = ref ? cs_shortcut_backward_cnhw_f32__ref : cs_shortcut_backward_cnhw_f32__simd_f32
            return { c, _ in
                f(g + c * cs * ch * h * w, Int32(ch), Int32(skipCh), n(c) * h * w, dskip + c * cs * skipCh * h * w)
            }

        default:
            preconditionFailure("no backward workload for \(kernelCase.family) on \(kernelCase.shape)")
        }
    }
}
