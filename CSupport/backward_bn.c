// Training-mode batch-norm (+ ReLU) backward on channel-major tensors, in two passes because the
// batch statistics couple every sample of the batch (the engine reduces pass 1's per-chunk sums in
// chunk order between the passes). Shapes and semantics: csupport_backward.h.
//
// With x̂ = (z − μ)/σ, σ = √(var + eps), y = γx̂ + β, g = ∂L/∂y (after the ReLU mask), N values per
// channel over the batch:
//   dβ = Σg,  dγ = Σg·x̂,  dz = (γ/σ)·(g − Σg/N − x̂·Σg·x̂/N).
//
// Intent and accuracy (u = 2⁻²⁴):
//   * The ReLU mask is recomputed from z the way the same twin's forward computed its output
//     (__ref: double formula; optimised twin: fmaf with the float scale/shift of bn_scale_shift), so the
//     mask matches the forward of the same twin exactly; the twins can differ only where the
//     pre-activation is within rounding of 0.
//   * Sums are accumulated in double in both twins (they are reduced over the whole batch).
//   * optimised twin pass 2 folds each channel into float A = γ/σ, D = γ·Σgx̂/(Nσ²), E = γ·Σg/(Nσ) (computed
//     in double, rounded once) and evaluates dz = A·g − (D·(z − μ_f) + E) with two FMAs:
//     |dz − exact| ≤ 5u·(|A·g| + |D|·(|z| + |μ|) + |E|) (roundings of A, D, E, μ_f, z − μ_f and
//     the two FMAs, each ≤ u relative to the term it touches).
#include <math.h>

#include "csupport.h"
#include "csupport_backward.h"

void cs_bn_relu_backward_sums_f32__ref(const float *z, const float *dy, int C, long L,
                                       const float *gamma, const float *beta, const double *mean,
                                       const double *var, float eps, int relu, float *g,
                                       double *sum_g, double *sum_gxhat) {
    for (int c = 0; c < C; c++) {
        const double inv = 1.0 / sqrt(var[c] + (double)eps);
        double s1 = 0.0, s2 = 0.0;
        for (long i = 0; i < L; i++) {
            const long j = (long)c * L + i;
            const double xhat = ((double)z[j] - mean[c]) * inv;
            float gv = dy[j];
            if (relu && !((double)gamma[c] * xhat + (double)beta[c] > 0.0)) gv = 0.0f;
            g[j] = gv;
            s1 += (double)gv;
            s2 += (double)gv * xhat;
        }
        sum_g[c] = s1;
        sum_gxhat[c] = s2;
    }
}

void cs_bn_relu_backward_sums_f32__affine_fma(const float *z, const float *dy, int C, long L,
                                       const float *gamma, const float *beta, const double *mean,
                                       const double *var, float eps, int relu, float *g,
                                       double *sum_g, double *sum_gxhat) {
    for (int c = 0; c < C; c++) {
        const double inv = 1.0 / sqrt(var[c] + (double)eps);
        // The forward optimised twin's scale and shift (batchnorm.c, bn_scale_shift).
        const float a = (float)((double)gamma[c] * inv);
        const float b = (float)((double)beta[c] - mean[c] * (double)a);
        const double m = mean[c];
        const float *zr = z + (long)c * L;
        const float *dr = dy + (long)c * L;
        float *gr = g + (long)c * L;
        double s1 = 0.0, s2 = 0.0;
        if (relu) {
#pragma omp simd reduction(+ : s1, s2)
            for (long i = 0; i < L; i++) {
                const float gv = fmaf(zr[i], a, b) > 0.0f ? dr[i] : 0.0f;
                gr[i] = gv;
                s1 += (double)gv;
                s2 += (double)gv * ((double)zr[i] - m);
            }
        } else {
#pragma omp simd reduction(+ : s1, s2)
            for (long i = 0; i < L; i++) {
                const float gv = dr[i];
                gr[i] = gv;
                s1 += (double)gv;
                s2 += (double)gv * ((double)zr[i] - m);
            }
        }
        sum_g[c] = s1;
        sum_gxhat[c] = s2 * inv;
    }
}

void cs_bn_backward_dx_f32__ref(const float *z, const float *g, int C, long L, const float *gamma,
                                const double *mean, const double *var, float eps,
                                const double *sum_g, const double *sum_gxhat, double count,
                                float *dz) {
    for (int c = 0; c < C; c++) {
        const double inv = 1.0 / sqrt(var[c] + (double)eps);
        const double mg = count > 0 ? sum_g[c] / count : 0.0;
        const double mgx = count > 0 ? sum_gxhat[c] / count : 0.0;
        for (long i = 0; i < L; i++) {
            const long j = (long)c * L + i;
            const double xhat = ((double)z[j] - mean[c]) * inv;
            dz[j] = (float)((double)gamma[c] * inv * ((double)g[j] - mg - xhat * mgx));
        }
    }
}

void cs_bn_backward_dx_f32__affine_fma(const float *z, const float *g, int C, long L, const float *gamma,
                                const double *mean, const double *var, float eps,
                                const double *sum_g, const double *sum_gxhat, double count,
                                float *dz) {
    for (int c = 0; c < C; c++) {
        const double inv = 1.0 / sqrt(var[c] + (double)eps);
        const double gi = (double)gamma[c] * inv;
        const double mg = count > 0 ? sum_g[c] / count : 0.0;
        const double mgx = count > 0 ? sum_gxhat[c] / count : 0.0;
        const float A = (float)gi, D = (float)(gi * inv * mgx), E = (float)(gi * mg);
        const float mf = (float)mean[c];
        const float *zr = z + (long)c * L;
        const float *gr = g + (long)c * L;
        float *out = dz + (long)c * L;
#pragma omp simd
        for (long i = 0; i < L; i++) out[i] = fmaf(A, gr[i], -fmaf(D, zr[i] - mf, E));
    }
}
