// The common part of the direct conv entry points (conv_direct.c, conv_sample_lanes.c): empty
// shapes, the sum over no inputs, and the choice between the AVX2+FMA body and __ref.
#ifndef CONV_DISPATCH_H
#define CONV_DISPATCH_H

#include "csupport.h"

#include <string.h>

typedef void (*conv_body_fn)(const float *x, const float *w, int Cin, int Cout, int n, int H, int W,
                             int k, float *y, double *sum, double *sumsq, float *scratch);

// The AVX2 body `f` where it is compiled (x86-64), NULL elsewhere.
#if defined(__x86_64__)
#define CONV_AVX2_BODY(f) (f)
#else
#define CONV_AVX2_BODY(f) NULL
#endif

// `avx2`: the body compiled for AVX2+FMA (NULL off x86-64). It runs when the CPU has both (a load
// of libgcc's/compiler-rt's cpu model, filled by a constructor: cheap enough per call); machines
// without them get the plain-loop twin, the same semantics (scratch unused).
static inline void conv_dispatch(conv_body_fn avx2, const float *x, const float *w, int Cin,
                                 int Cout, int n, int H, int W, int k, float *y, double *sum,
                                 double *sumsq, float *scratch) {
    const long P = (long)n * H * W;
    if (Cout <= 0 || n <= 0 || H <= 0 || W <= 0) return;
    if (Cin <= 0 || k <= 0) {  // the sum over no inputs: y = 0, statistics unchanged
        memset(y, 0, sizeof(float) * (size_t)(Cout * P));
        return;
    }
#if defined(__x86_64__)
    if (avx2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        avx2(x, w, Cin, Cout, n, H, W, k, y, sum, sumsq, scratch);
        return;
    }
#endif
    cs_conv2d_cnhw_f32__ref(x, w, Cin, Cout, n, H, W, k, y, sum, sumsq);
}
#endif
