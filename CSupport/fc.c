// Fully connected layer on per-sample rows.
//
// Shapes: x[n][I], w[O][I], b[O] or NULL  →  y[n][O] = x · wᵀ + b.
//
// Intent: the classifier head (I = the last conv width, O = classes), so both dimensions are small
// and the whole w fits in L1/L2; no BLAS call is worth its overhead here.
//   __ref  plain loops, dot products in double, one rounding per output.
//   __simd_f32  one float dot product per (sample, output) under `omp simd reduction`, i.e. 8 partial
//          sums in AVX2 lanes combined at the end: error ≤ ~(I/8 + 3)·2⁻²⁴·Σ|x·w| + 2⁻²⁴·|b|
//          (tests use the looser I·2⁻²⁴·Σ|x·w|, valid for any summation order).
#include "csupport.h"

void cs_fc_f32__ref(const float *x, const float *w, const float *b, int n, int I, int O, float *y) {
    for (int s = 0; s < n; s++) {
        for (int o = 0; o < O; o++) {
            double acc = b ? (double)b[o] : 0.0;
            for (int i = 0; i < I; i++) acc += (double)x[(long)s * I + i] * (double)w[(long)o * I + i];
            y[(long)s * O + o] = (float)acc;
        }
    }
}

void cs_fc_f32__simd_f32(const float *x, const float *w, const float *b, int n, int I, int O, float *y) {
    for (int s = 0; s < n; s++) {
        const float *xr = x + (long)s * I;
        for (int o = 0; o < O; o++) {
            const float *wr = w + (long)o * I;
            float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
            for (int i = 0; i < I; i++) acc += xr[i] * wr[i];
            y[(long)s * O + o] = b ? acc + b[o] : acc;
        }
    }
}
