// CSupport: direct (no im2col, no BLAS) convolution on chunked CNHW tensors.
// Layout and conventions: see csupport.h (x[Cin][n][H][W], w[Cout][Cin][k][k], y[Cout][n·H·W],
// stride 1, zero padding k/2, no bias; sum/sumsq ADDED to, in double). Design: conv_direct.c.
#ifndef CSUPPORT_CONV_DIRECT_H
#define CSUPPORT_CONV_DIRECT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// Floats of scratch that cs_conv2d_cnhw_f32__direct_avx2 needs for this shape (0 for empty shapes):
//   ⌈Cout/4⌉·4·Cin·k²   packed weights (blocks of 4 output channels, zero-filled tail)
//   + 15                 to align the padded input to 64 bytes
//   + Cin·S              zero-padded input of G samples, one channel every S floats:
// p = k/2, plane = (H + 2p)·(8·⌈W/8⌉ + 2p), G = min(n, max(1, ⌊16384 / (Cin·plane)⌋)) (a ~64 KiB
// group), S = G·plane rounded up to an odd multiple of 16.
// mnist6 16→16 3×3 28×28: 2304 + 15 + 16·1040 = 18959 floats (~74 KiB) for any n.
// Upper bound without calling this: ⌈Cout/4⌉·4·Cin·k² + 15 + max(16384, Cin·(H+k)·(W+7+k)) + 32·Cin.
long cs_conv2d_cnhw_f32__direct_scratch_floats(int Cin, int Cout, int n, int H, int W, int k);

// y[Cout][n·H·W] = conv(x[Cin][n][H][W], w[Cout][Cin][k][k]): same semantics as
// cs_conv2d_cnhw_f32__ref (any k ≥ 1, any Cin, Cout, n, H, W), single-threaded, statistics of y
// ADDED to sum[Cout], sumsq[Cout] when non-NULL. `scratch` must hold
// cs_conv2d_cnhw_f32__direct_scratch_floats(Cin, Cout, n, H, W, k) floats (any alignment, contents
// ignored; may be NULL when that is 0). x, w, y, scratch must not overlap. Writes only the
// Cout·n·H·W floats of y (a row's last vector may briefly store padding lanes over the next
// pixels of the same channel, which get their final values later in the call). Uses an AVX2+FMA micro-kernel when the CPU has it (checked at run time,
// so it also runs in builds without -mavx2), otherwise cs_conv2d_cnhw_f32__ref (scratch unused).
void cs_conv2d_cnhw_f32__direct_avx2(const float *x, const float *w, int Cin, int Cout, int n, int H,
                                int W, int k, float *y, double *sum, double *sumsq, float *scratch);

#ifdef __cplusplus
}
#endif
#endif
