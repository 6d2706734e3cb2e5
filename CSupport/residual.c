// Residual (basic-block shortcut) add on chunked CNHW tensors.
//
// Shapes: y[Cy][L] (in/out), skip[Cskip][L], Cskip ≤ Cy, L = n·H·W.
//   y[c][i] += skip[c][i] for c < Cskip; channels c ≥ Cskip get + 0 (the parameter-free zero-padded
//   shortcut: no add, no read of skip); then ReLU over all Cy·L values when relu != 0.
//
// Intent: in CNHW the first Cskip channels are one contiguous block of Cskip·L floats, so the add is
// one flat loop and the ReLU of the padded channels another. Both twins do the same single float
// add per element, so __flat_simd must equal __ref bit for bit; it only adds `omp simd`.
// ReLU is `v < 0 ? 0 : v` (NaN propagates rather than being hidden as 0).
#include "csupport.h"

void cs_residual_add_cnhw_f32__ref(float *y, const float *skip, int Cy, int Cskip, long L, int relu) {
    for (int c = 0; c < Cy; c++) {
        for (long i = 0; i < L; i++) {
            const long j = (long)c * L + i;
            float v = y[j];
            if (c < Cskip) v = v + skip[j];
            if (relu && v < 0.0f) v = 0.0f;
            y[j] = v;
        }
    }
}

void cs_residual_add_cnhw_f32__flat_simd(float *y, const float *skip, int Cy, int Cskip, long L, int relu) {
    if (Cskip > Cy) Cskip = Cy;  // contract violation: never read past y
    const long nAdd = (long)Cskip * L;
    const long nAll = (long)Cy * L;
    if (relu) {
#pragma omp simd
        for (long j = 0; j < nAdd; j++) {
            const float v = y[j] + skip[j];
            y[j] = v < 0.0f ? 0.0f : v;
        }
#pragma omp simd
        for (long j = nAdd; j < nAll; j++) y[j] = y[j] < 0.0f ? 0.0f : y[j];
    } else {
#pragma omp simd
        for (long j = 0; j < nAdd; j++) y[j] = y[j] + skip[j];
    }
}
