// CSupport: direct convolution with 8 samples in the 8 lanes of a vector, for small planes.
// Layout and conventions as cs_conv2d_cnhw_f32__ref (csupport.h). Design: conv_sample_lanes.c.
#ifndef CSUPPORT_CONV_SAMPLE_LANES_H
#define CSUPPORT_CONV_SAMPLE_LANES_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// Floats of scratch that cs_conv2d_cnhw_f32__sample_lanes_avx2 needs (0 for empty shapes), with
// p = k/2, Hp = H + 2p, Wp = W + 2p, Coutr = 4·⌈Cout/4⌉, HWr = 3·⌈H·W/3⌉:
//   Coutr·Cin·k²                packed weights
//   + 15                        to align what follows to 64 bytes
//   + Cin·S                     the lane-transposed padded input of 8 samples, S = 8·Hp·Wp
//                               rounded up to an odd multiple of 16
//   + 8·HWr·Coutr               the lane-transposed output of 8 samples
//   + 16·Coutr                  statistics accumulators (4 double lanes of sum and sum of squares)
// Independent of n. mnist6 16→16 3×3 7×7: 2304 + 15 + 16·656 + 6528 + 256 = 19599 (~77 KiB).
long cs_conv2d_cnhw_f32__sample_lanes_scratch_floats(int Cin, int Cout, int n, int H, int W, int k);

// The same semantics as cs_conv2d_cnhw_f32__ref (any k ≥ 1, Cin, Cout, n, H, W; statistics of y
// ADDED to sum/sumsq when non-NULL), single-threaded. `scratch` holds
// cs_conv2d_cnhw_f32__sample_lanes_scratch_floats(...) floats (any alignment, contents ignored).
// Writes only the Cout·n·H·W floats of y. AVX2+FMA checked at run time; without it, __ref.
void cs_conv2d_cnhw_f32__sample_lanes_avx2(const float *x, const float *w, int Cin, int Cout, int n,
                                           int H, int W, int k, float *y, double *sum,
                                           double *sumsq, float *scratch);

// The same at 16 samples per AVX-512 vector (conv_sample_lanes16.c): bit-identical results,
// statistics included. Without AVX-512F (checked at run time) it runs __sample_lanes_avx2, so
// its scratch is the larger of the two needs.
// 1 when this CPU runs the AVX-512 kernels (AVX-512F), 0 when they fall back to AVX2.
int cs_cpu_has_avx512f(void);
long cs_conv2d_cnhw_f32__sample_lanes16_scratch_floats(int Cin, int Cout, int n, int H, int W, int k);
void cs_conv2d_cnhw_f32__sample_lanes_avx512(const float *x, const float *w, int Cin, int Cout, int n,
                                             int H, int W, int k, float *y, double *sum,
                                             double *sumsq, float *scratch);

#ifdef __cplusplus
}
#endif
#endif
