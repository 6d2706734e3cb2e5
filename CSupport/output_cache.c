// Kernels of the output cache: patching cached pre-BN planes after an accepted weight change, and
// the BN sums of a chunk gathered from the cache (docs/design.md, "Output caching").
//
// Intent:
//   __ref  the plane kernel's own __ref twin per sample / plain double loops: the yardstick.
//   __tap_range  cs_shift_axpy_cnhw_f32__tap_range per sample, in place (it reads z[j] before it
//          writes y[j] at the same index, so z == y is safe): one fma per element, exactly the
//          arithmetic the trial used on the batch rows.
//   __simd  the per-channel double reductions under `omp simd` (another summation order than __ref).
// Error vs exact: shift_axpy_rows — one rounding, ≤ 2⁻²⁴·|y| (__ref: double then float, ≤ 2⁻²⁴·|y|
// + 2⁻⁵³·|y|); channel_sums — double sums, ≤ L·2⁻⁵³·Σ|terms|.
#include "csupport_incremental.h"
#include "csupport_output_cache.h"

void cs_shift_axpy_rows_f32__ref(float *y, long ystride, const float *x, long xstride, int n, int H,
                                 int W, int k, int ky, int kx, float delta) {
    for (int s = 0; s < n; s++) {
        float *ys = y + (long)s * ystride;
        cs_shift_axpy_cnhw_f32__ref(ys, x + (long)s * xstride, 1, H, W, k, ky, kx, delta, ys);
    }
}

void cs_shift_axpy_rows_f32__tap_range(float *y, long ystride, const float *x, long xstride, int n,
                                       int H, int W, int k, int ky, int kx, float delta) {
    for (int s = 0; s < n; s++) {
        float *ys = y + (long)s * ystride;
        cs_shift_axpy_cnhw_f32__tap_range(ys, x + (long)s * xstride, 1, H, W, k, ky, kx, delta, ys);
    }
}

void cs_channel_sums_f32__ref(const float *z, int C, long L, double *sum, double *sumsq) {
    for (int c = 0; c < C; c++) {
        double s1 = 0.0, s2 = 0.0;
        for (long j = 0; j < L; j++) {
            const double v = (double)z[(long)c * L + j];
            s1 += v;
            s2 += v * v;
        }
        sum[c] += s1;
        sumsq[c] += s2;
    }
}

void cs_channel_sums_f32__simd(const float *z, int C, long L, double *sum, double *sumsq) {
    for (int c = 0; c < C; c++) {
        const float *r = z + (long)c * L;
        double s1 = 0.0, s2 = 0.0;
#pragma omp simd reduction(+ : s1, s2)
        for (long j = 0; j < L; j++) {
            const double v = (double)r[j];
            s1 += v;
            s2 += v * v;
        }
        sum[c] += s1;
        sumsq[c] += s2;
    }
}
