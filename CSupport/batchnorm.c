// Batch-norm (+ ReLU) on channel-major tensors, and its statistics.
//
// Shapes: z, y [C][L] (one contiguous row of L = n·H·W values per channel of a CNHW chunk);
// gamma, beta [C] (float); sum, sumsq, mean, var [C] (double). Fused pool: z [C][n][H][W] →
// y [C][n][H/2][W/2] (floor).
//
// Intent:
//   * Statistics are accumulated in double (they feed RSO's accept/reject decisions) by the conv
//     that produces z (conv.c, conv_direct.c); cs_bn_finalize_stats turns the batch sums into
//     mean = Σz/L, var = Σz²/L − mean² (biased, clamped at 0).
//   * __ref computes y = γ(z − mean)/√(var + eps) + β in double and rounds once.
//   * __affine_fma folds each channel into one float scale a = γ/√(var + eps) and shift b = β − mean·a
//     (both computed in double, rounded to float) and runs y = fma(z, a, b) under `omp simd`.
//     Error vs exact: ≤ ~3·2⁻²⁴·(|a|·(|z| + |mean|) + |β| + |y|) — rounding of a, of b, of the fma.
//   * ReLU is `v < 0 ? 0 : v` in both twins: NaN propagates instead of being hidden as 0.
//   * The fused bn_relu_avgpool2 reads each z once and writes only the pooled y (¼ the bytes).
// In-place (y == z) is allowed for the infer form.
#include <math.h>

#include "csupport.h"

static inline float relu_f(float v) { return v < 0.0f ? 0.0f : v; }
// max(v, lo) that lets NaN through (fmaxf would turn NaN into lo).
static inline float max_keep_nan(float v, float lo) { return v < lo ? lo : v; }
static inline double relu_d(double v) { return v < 0.0 ? 0.0 : v; }

// MARK: - Statistics

void cs_bn_finalize_stats(const double *sum, const double *sumsq, int C, double count,
                          double *mean, double *var) {
    for (int c = 0; c < C; c++) {
        const double m = count > 0 ? sum[c] / count : 0.0;
        double v = count > 0 ? sumsq[c] / count - m * m : 0.0;
        if (v < 0.0) v = 0.0;  // cancellation can leave a tiny negative; NaN passes through
        mean[c] = m;
        var[c] = v;
    }
}

// MARK: - Inference form

void cs_bn_relu_infer_f32__ref(const float *z, int C, long L, const float *gamma, const float *beta,
                               const double *mean, const double *var, float eps, int relu, float *y) {
    for (int c = 0; c < C; c++) {
        const double inv = 1.0 / sqrt(var[c] + (double)eps);
        for (long i = 0; i < L; i++) {
            const long j = (long)c * L + i;
            double v = (double)gamma[c] * ((double)z[j] - mean[c]) * inv + (double)beta[c];
            if (relu) v = relu_d(v);
            y[j] = (float)v;
        }
    }
}

// Per-channel scale a and shift b with y = a·z + b (see the intent block for the error).
static inline void bn_scale_shift(float gamma, float beta, double mean, double var, float eps,
                                  float *a, float *b) {
    const double ad = (double)gamma / sqrt(var + (double)eps);
    const float af = (float)ad;
    *a = af;
    *b = (float)((double)beta - mean * (double)af);
}

static void bn_relu_row(const float *z, long L, float a, float b, int relu, float *y) {
    if (relu) {
#pragma omp simd
        for (long i = 0; i < L; i++) y[i] = relu_f(fmaf(z[i], a, b));
    } else {
#pragma omp simd
        for (long i = 0; i < L; i++) y[i] = fmaf(z[i], a, b);
    }
}

void cs_bn_relu_infer_f32__affine_fma(const float *z, int C, long L, const float *gamma, const float *beta,
                               const double *mean, const double *var, float eps, int relu, float *y) {
    for (int c = 0; c < C; c++) {
        float a, b;
        bn_scale_shift(gamma[c], beta[c], mean[c], var[c], eps, &a, &b);
        bn_relu_row(z + (long)c * L, L, a, b, relu, y + (long)c * L);
    }
}

// MARK: - Fused normalise + ReLU + 2×2 average pool

void cs_bn_relu_avgpool2_cnhw_f32__ref(const float *z, int C, int n, int H, int W,
                                       const float *gamma, const float *beta, const double *mean,
                                       const double *var, float eps, int relu, float *y) {
    const int Ho = H / 2, Wo = W / 2;
    for (int c = 0; c < C; c++) {
        const double inv = 1.0 / sqrt(var[c] + (double)eps);
        for (int s = 0; s < n; s++) {
            const float *zp = z + ((long)c * n + s) * H * W;
            float *yp = y + ((long)c * n + s) * Ho * Wo;
            for (int oy = 0; oy < Ho; oy++) {
                for (int ox = 0; ox < Wo; ox++) {
                    double acc = 0.0;
                    for (int dy = 0; dy < 2; dy++) {
                        for (int dx = 0; dx < 2; dx++) {
                            const float zv = zp[(long)(2 * oy + dy) * W + 2 * ox + dx];
                            double v = (double)gamma[c] * ((double)zv - mean[c]) * inv +
                                       (double)beta[c];
                            if (relu) v = relu_d(v);
                            acc += v;
                        }
                    }
                    yp[(long)oy * Wo + ox] = (float)(0.25 * acc);
                }
            }
        }
    }
}

void cs_bn_relu_avgpool2_cnhw_f32__affine_fma(const float *z, int C, int n, int H, int W,
                                       const float *gamma, const float *beta, const double *mean,
                                       const double *var, float eps, int relu, float *y) {
    const int Ho = H / 2, Wo = W / 2;
    for (int c = 0; c < C; c++) {
        float a, b;
        bn_scale_shift(gamma[c], beta[c], mean[c], var[c], eps, &a, &b);
        // Without ReLU, avg(a·z + b) = a·avg(z) + b would also do; one code path keeps it simple.
        const float lo = relu ? 0.0f : -INFINITY;
        for (int s = 0; s < n; s++) {
            const float *zp = z + ((long)c * n + s) * H * W;
            float *yp = y + ((long)c * n + s) * Ho * Wo;
            for (int oy = 0; oy < Ho; oy++) {
                const float *r0 = zp + (long)(2 * oy) * W;
                const float *r1 = r0 + W;
                float *o = yp + (long)oy * Wo;
#pragma omp simd
                for (int ox = 0; ox < Wo; ox++) {
                    const float v00 = max_keep_nan(fmaf(r0[2 * ox], a, b), lo);
                    const float v01 = max_keep_nan(fmaf(r0[2 * ox + 1], a, b), lo);
                    const float v10 = max_keep_nan(fmaf(r1[2 * ox], a, b), lo);
                    const float v11 = max_keep_nan(fmaf(r1[2 * ox + 1], a, b), lo);
                    o[ox] = 0.25f * ((v00 + v01) + (v10 + v11));
                }
            }
        }
    }
}
