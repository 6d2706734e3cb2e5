// Kernels of exact incremental RSO trials: what changes when ONE conv weight w[o][i][ky][kx] moves.
//
// Shapes: planes x, z, y, d are one channel of a CNHW chunk, [n][H][W] contiguous; conv outputs
// z, y in cs_conv1ch_add are [Cout][n·H·W]. Stride 1, zero padding p = k/2.
//
// The math (docs/design.md, "Incremental trials"): the pre-BN output of layer d changes only in
// channel o, by ±Δ·S with S = shift(A_{d−1}[i], ky, kx); its BN statistics follow in closed form from
// ΣS, Σz·S, ΣS² (cs_shift_stats); the new plane is z ± Δ·S (cs_shift_axpy); after BN/ReLU/pool the
// next conv's output changes by a one-input-channel convolution of the change (cs_conv1ch_add).
//
// Intent:
//   __ref  plain loops, accumulated in double and rounded once per output: the yardstick.
//   __tap_range  per output row, the valid column range of each tap is computed once, so the inner loops
//          have no branches and vectorise under `omp simd` (floats with fmaf for the planes; double
//          reductions for the statistics). Single-threaded, range-free: one chunk per call.
// conv1ch_add's statistics follow conv1ch_lanes.h's order, which its AVX-512 twin (conv1ch_rows16.c)
// follows too.
// Error of __tap_range vs exact: shift_stats — double sums, ~L·2⁻⁵³ relative (different order than
// __ref); shift_axpy — one fma, ≤ 2⁻²⁴·|y|; conv1ch_add — k² + 1 float roundings,
// ≤ (k² + 1)·2⁻²⁴·(|z| + Σ|w·d|).
#include <math.h>

#include "csupport_incremental.h"

#include "conv1ch_lanes.h"

// Valid output columns [*lo, *hi) of tap column kx: 0 ≤ x + kx − p < W.
static inline void tap_range(int W, int p, int kx, int *lo, int *hi) {
    int a = p - kx, b = W + p - kx;
    *lo = a > 0 ? a : 0;
    *hi = b < W ? b : W;
}

// MARK: - Statistics of the shifted plane

void cs_shift_stats_cnhw_f32__ref(const float *x, const float *z, int n, int H, int W, int k, int ky,
                                  int kx, double *out) {
    const int p = k / 2;
    double s1 = 0.0, s2 = 0.0, s3 = 0.0;
    for (int s = 0; s < n; s++)
        for (int y = 0; y < H; y++)
            for (int c = 0; c < W; c++) {
                const int iy = y + ky - p, ix = c + kx - p;
                const double sv = (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                      ? (double)x[((long)s * H + iy) * W + ix] : 0.0;
                const double zv = (double)z[((long)s * H + y) * W + c];
                s1 += sv;
                s2 += zv * sv;
                s3 += sv * sv;
            }
    out[0] += s1;
    out[1] += s2;
    out[2] += s3;
}

void cs_shift_stats_cnhw_f32__tap_range(const float *x, const float *z, int n, int H, int W, int k, int ky,
                                  int kx, double *out) {
    const int p = k / 2;
    int lo, hi;
    tap_range(W, p, kx, &lo, &hi);
    const int dx = kx - p;
    double s1 = 0.0, s2 = 0.0, s3 = 0.0;
    for (int s = 0; s < n; s++)
        for (int y = 0; y < H; y++) {
            const int iy = y + ky - p;
            if (iy < 0 || iy >= H) continue;  // S is 0 on this row
            const float *xr = x + ((long)s * H + iy) * W + dx;
            const float *zr = z + ((long)s * H + y) * W;
#pragma omp simd reduction(+ : s1, s2, s3)
            for (int c = lo; c < hi; c++) {
                const double sv = (double)xr[c];
                s1 += sv;
                s2 += (double)zr[c] * sv;
                s3 += sv * sv;
            }
        }
    out[0] += s1;
    out[1] += s2;
    out[2] += s3;
}

// MARK: - z + Δ·S

void cs_shift_axpy_cnhw_f32__ref(const float *z, const float *x, int n, int H, int W, int k, int ky,
                                 int kx, float delta, float *y) {
    const int p = k / 2;
    for (int s = 0; s < n; s++)
        for (int r = 0; r < H; r++)
            for (int c = 0; c < W; c++) {
                const int iy = r + ky - p, ix = c + kx - p;
                const double sv = (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                      ? (double)x[((long)s * H + iy) * W + ix] : 0.0;
                const long j = ((long)s * H + r) * W + c;
                y[j] = (float)((double)z[j] + (double)delta * sv);
            }
}

void cs_shift_axpy_cnhw_f32__tap_range(const float *z, const float *x, int n, int H, int W, int k, int ky,
                                 int kx, float delta, float *y) {
    const int p = k / 2;
    int lo, hi;
    tap_range(W, p, kx, &lo, &hi);
    const int dx = kx - p;
    for (int s = 0; s < n; s++)
        for (int r = 0; r < H; r++) {
            const long row = ((long)s * H + r) * W;
            const float *zr = z + row;
            float *yr = y + row;
            const int iy = r + ky - p;
            if (iy < 0 || iy >= H) {
                for (int c = 0; c < W; c++) yr[c] = zr[c];
                continue;
            }
            const float *xr = x + ((long)s * H + iy) * W + dx;
            for (int c = 0; c < lo; c++) yr[c] = zr[c];
#pragma omp simd
            for (int c = lo; c < hi; c++) yr[c] = fmaf(delta, xr[c], zr[c]);
            for (int c = hi; c < W; c++) yr[c] = zr[c];
        }
}

// MARK: - One-input-channel convolution

void cs_conv1ch_add_cnhw_f32__ref(const float *d, const float *w, int Cin, int ci, int Cout, int n,
                                  int H, int W, int k, const float *z, float *y, double *sum,
                                  double *sumsq) {
    const int p = k / 2;
    const long P = (long)n * H * W;
    for (int o = 0; o < Cout; o++) {
        const float *wo = w + ((long)o * Cin + ci) * k * k;
        double s1 = 0.0, s2 = 0.0;
        for (int s = 0; s < n; s++)
            for (int r = 0; r < H; r++)
                for (int c = 0; c < W; c++) {
                    const long j = ((long)s * H + r) * W + c;
                    double acc = (double)z[(long)o * P + j];
                    for (int ky = 0; ky < k; ky++) {
                        const int iy = r + ky - p;
                        if (iy < 0 || iy >= H) continue;
                        for (int kx = 0; kx < k; kx++) {
                            const int ix = c + kx - p;
                            if (ix < 0 || ix >= W) continue;
                            acc += (double)wo[ky * k + kx] * (double)d[((long)s * H + iy) * W + ix];
                        }
                    }
                    const float v = (float)acc;
                    y[(long)o * P + j] = v;
                    s1 += (double)v;
                    s2 += (double)v * (double)v;
                }
        if (sum) sum[o] += s1;
        if (sumsq) sumsq[o] += s2;
    }
}

void cs_conv1ch_add_cnhw_f32__tap_range(const float *d, const float *w, int Cin, int ci, int Cout, int n,
                                  int H, int W, int k, const float *z, float *y, double *sum,
                                  double *sumsq) {
    if (k > 16) {  // tap ranges below are kept on the stack; no network here has k > 3
        cs_conv1ch_add_cnhw_f32__ref(d, w, Cin, ci, Cout, n, H, W, k, z, y, sum, sumsq);
        return;
    }
    const int p = k / 2;
    const long P = (long)n * H * W;
    int lo[16], hi[16];  // valid output columns of each tap column
    for (int kx = 0; kx < k; kx++) tap_range(W, p, kx, &lo[kx], &hi[kx]);
    for (int o = 0; o < Cout; o++) {
        const float *wo = w + ((long)o * Cin + ci) * k * k;
        const float *zo = z + (long)o * P;
        float *yo = y + (long)o * P;
        conv1ch_lanes stats = {{0.0}, {0.0}};
        for (int s = 0; s < n; s++)
            for (int r = 0; r < H; r++) {
                const long row = ((long)s * H + r) * W;
                float *yr = yo + row;
#pragma omp simd
                for (int c = 0; c < W; c++) yr[c] = zo[row + c];
                for (int ky = 0; ky < k; ky++) {
                    const int iy = r + ky - p;
                    if (iy < 0 || iy >= H) continue;
                    const float *dr = d + ((long)s * H + iy) * W;
                    for (int kx = 0; kx < k; kx++) {
                        const float wv = wo[ky * k + kx];
                        const float *src = dr + (kx - p);
                        const int a = lo[kx], b = hi[kx];
#pragma omp simd
                        for (int c = a; c < b; c++) yr[c] = fmaf(wv, src[c], yr[c]);
                    }
                }
                for (int c0 = 0; c0 < W; c0 += CONV1CH_LANES) conv1ch_lanes_add(&stats, yr + c0, W - c0);
            }
        conv1ch_lanes_finish(&stats, sum ? sum + o : NULL, sumsq ? sumsq + o : NULL);
    }
}

void cs_sub_f32(const float *a, const float *b, long L, float *out) {
#pragma omp simd
    for (long i = 0; i < L; i++) out[i] = a[i] - b[i];
}
