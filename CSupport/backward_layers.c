// Backward kernels of the cheap layers: softmax cross-entropy, fully connected, pooling, ReLU,
// zero-padded shortcut. Shapes and semantics: csupport_backward.h.
//
// Intent and accuracy (u = 2⁻²⁴):
//   softmax_xent  __ref: softmax in double (max-stabilised), one rounding per output.
//                 optimised twin: the same in float with expf: each p_j = e_j/Σe has ≤ ~(K + 4)·u relative
//                 error, so |Δ dlogit| ≤ (K + 5)·u·|scale| (p ≤ 1).
//   fc            __ref: double sums, one rounding. optimised twin: float sums under `omp simd` (dw: over n
//                 samples; dx: over O outputs): |Δ| ≤ γ_m·Σ|terms|, m = n or O, γ_m = m·u/(1 − m·u).
//   pooling       global: __ref divides in double, optimised twin multiplies by the float 1/HW: ≤ 2 u
//                 relative. avgpool2: ·0.25 is exact, so the twins agree bit for bit.
//   relu, shortcut: selections and one float add: the twins agree bit for bit.
#include <math.h>

#include "csupport.h"
#include "csupport_backward.h"

// MARK: - Softmax cross-entropy

// What both twins share, exactly: the walk over the rows, the zero row of an unlabelled sample
// (label ≥ K) and the row's maximum (a float, exact in either precision). Each twin supplies the
// gradient of one labelled row, given its maximum.
typedef void (*xent_row_fn)(const float *l, int label, int K, float m, float scale, float *d);

static void xent_backward_rows(const float *logits, const uint8_t *labels, int n, int K, float scale,
                               float *dlogits, xent_row_fn row) {
    for (int s = 0; s < n; s++) {
        const float *l = logits + (long)s * K;
        float *d = dlogits + (long)s * K;
        const int label = labels[s];
        if (label >= K) {
            for (int j = 0; j < K; j++) d[j] = 0.0f;
            continue;
        }
        float m = l[0];
        for (int j = 1; j < K; j++) m = l[j] > m ? l[j] : m;
        row(l, label, K, m, scale, d);
    }
}

static void xent_row_ref(const float *l, int label, int K, float m, float scale, float *d) {
    double se = 0.0;
    for (int j = 0; j < K; j++) se += exp((double)l[j] - (double)m);
    for (int j = 0; j < K; j++) {
        const double p = exp((double)l[j] - (double)m) / se;
        d[j] = (float)((double)scale * (p - (j == label ? 1.0 : 0.0)));
    }
}

static void xent_row_simd_f32(const float *l, int label, int K, float m, float scale, float *d) {
    float se = 0.0f;
    for (int j = 0; j < K; j++) {
        d[j] = expf(l[j] - m);
        se += d[j];
    }
    const float f = scale / se;
    for (int j = 0; j < K; j++) d[j] *= f;
    d[label] -= scale;
}

void cs_softmax_xent_backward_f32__ref(const float *logits, const uint8_t *labels, int n, int K,
                                       float scale, float *dlogits) {
    xent_backward_rows(logits, labels, n, K, scale, dlogits, xent_row_ref);
}

void cs_softmax_xent_backward_f32__simd_f32(const float *logits, const uint8_t *labels, int n, int K,
                                       float scale, float *dlogits) {
    xent_backward_rows(logits, labels, n, K, scale, dlogits, xent_row_simd_f32);
}

// MARK: - Fully connected

void cs_fc_backward_f32__ref(const float *x, const float *w, const float *dy, int n, int I, int O,
                             float *dw, float *db, float *dx) {
    for (int o = 0; o < O; o++) {
        double b = 0.0;
        for (int s = 0; s < n; s++) b += (double)dy[(long)s * O + o];
        db[o] = (float)b;
        for (int i = 0; i < I; i++) {
            double acc = 0.0;
            for (int s = 0; s < n; s++) acc += (double)dy[(long)s * O + o] * (double)x[(long)s * I + i];
            dw[(long)o * I + i] = (float)acc;
        }
    }
    if (!dx) return;
    for (int s = 0; s < n; s++) {
        for (int i = 0; i < I; i++) {
            double acc = 0.0;
            for (int o = 0; o < O; o++) acc += (double)dy[(long)s * O + o] * (double)w[(long)o * I + i];
            dx[(long)s * I + i] = (float)acc;
        }
    }
}

void cs_fc_backward_f32__simd_f32(const float *x, const float *w, const float *dy, int n, int I, int O,
                             float *dw, float *db, float *dx) {
    // dw row o = Σ_s dy[s][o]·x[s][:]: axpy over contiguous rows of x, samples in order.
    for (int o = 0; o < O; o++) {
        float *wr = dw + (long)o * I;
        for (int i = 0; i < I; i++) wr[i] = 0.0f;
        float b = 0.0f;
        for (int s = 0; s < n; s++) {
            const float g = dy[(long)s * O + o];
            const float *xr = x + (long)s * I;
            b += g;
#pragma omp simd
            for (int i = 0; i < I; i++) wr[i] += g * xr[i];
        }
        db[o] = b;
    }
    if (!dx) return;
    for (int s = 0; s < n; s++) {
        float *xr = dx + (long)s * I;
        for (int i = 0; i < I; i++) xr[i] = 0.0f;
        for (int o = 0; o < O; o++) {
            const float g = dy[(long)s * O + o];
            const float *wr = w + (long)o * I;
#pragma omp simd
            for (int i = 0; i < I; i++) xr[i] += g * wr[i];
        }
    }
}

// MARK: - Pooling

void cs_global_avgpool_backward_cnhw_f32__ref(const float *dy, int C, int n, long HW, float *dx) {
    for (int c = 0; c < C; c++)
        for (int s = 0; s < n; s++) {
            const float v = HW > 0 ? (float)((double)dy[(long)s * C + c] / (double)HW) : 0.0f;
            for (long i = 0; i < HW; i++) dx[((long)c * n + s) * HW + i] = v;
        }
}

void cs_global_avgpool_backward_cnhw_f32__simd_f32(const float *dy, int C, int n, long HW, float *dx) {
    const float inv = HW > 0 ? (float)(1.0 / (double)HW) : 0.0f;
    for (int c = 0; c < C; c++)
        for (int s = 0; s < n; s++) {
            const float v = dy[(long)s * C + c] * inv;
            float *r = dx + ((long)c * n + s) * HW;
#pragma omp simd
            for (long i = 0; i < HW; i++) r[i] = v;
        }
}

void cs_avgpool2_backward_cnhw_f32__ref(const float *dy, int C, int n, int H, int W, float *dx) {
    const int Ho = H / 2, Wo = W / 2;
    for (long cs = 0; cs < (long)C * n; cs++) {
        const float *dp = dy + cs * Ho * Wo;
        float *xp = dx + cs * H * W;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const int oy = y / 2, ox = x / 2;
                xp[(long)y * W + x] = (oy < Ho && ox < Wo) ? 0.25f * dp[(long)oy * Wo + ox] : 0.0f;
            }
    }
}

void cs_avgpool2_backward_cnhw_f32__simd_f32(const float *dy, int C, int n, int H, int W, float *dx) {
    const int Ho = H / 2, Wo = W / 2;
    for (long cs = 0; cs < (long)C * n; cs++) {
        const float *dp = dy + cs * Ho * Wo;
        float *xp = dx + cs * H * W;
        for (int oy = 0; oy < Ho; oy++) {
            float *r0 = xp + (long)(2 * oy) * W;
            float *r1 = r0 + W;
            const float *g = dp + (long)oy * Wo;
#pragma omp simd
            for (int ox = 0; ox < Wo; ox++) {
                const float v = 0.25f * g[ox];
                r0[2 * ox] = v;
                r0[2 * ox + 1] = v;
                r1[2 * ox] = v;
                r1[2 * ox + 1] = v;
            }
            if (W & 1) r0[W - 1] = r1[W - 1] = 0.0f;
        }
        if (H & 1)
            for (int x = 0; x < W; x++) xp[(long)(H - 1) * W + x] = 0.0f;
    }
}

// MARK: - ReLU and shortcut

void cs_relu_backward_f32__ref(const float *y, const float *dy, long count, float *dx) {
    for (long i = 0; i < count; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

void cs_relu_backward_f32__simd_f32(const float *y, const float *dy, long count, float *dx) {
#pragma omp simd
    for (long i = 0; i < count; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

void cs_shortcut_backward_cnhw_f32__ref(const float *g, int Cy, int Cskip, long L, float *dskip) {
    for (int c = 0; c < Cskip && c < Cy; c++)
        for (long i = 0; i < L; i++) dskip[(long)c * L + i] += g[(long)c * L + i];
}

void cs_shortcut_backward_cnhw_f32__simd_f32(const float *g, int Cy, int Cskip, long L, float *dskip) {
    // The first Cskip channels of a CNHW chunk are one contiguous block of Cskip·L floats.
    const long m = (long)(Cskip < Cy ? Cskip : Cy) * L;
#pragma omp simd
    for (long j = 0; j < m; j++) dskip[j] += g[j];
}
