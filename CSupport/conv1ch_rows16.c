// cs_conv1ch_add (csupport_incremental.h) with a row of up to 16 columns in one AVX-512 vector.
//
// Why: an incremental trial adds the change of one input channel to all Cout output planes of the
// next conv, one short row at a time (28, 14 or 7 columns). __tap_range's `omp simd` loops over
// such rows run mostly in their scalar remainders (7 of 7 columns; 6 of 14). Here a row segment
// of ≤ 16 columns is one vector: z is loaded with a mask, each valid tap is one masked load and one
// masked FMA (a tap's invalid columns keep their value, as __tap_range skips them), y is stored
// with a mask, and the statistics take the vector's two 8-column halves. Four output channels
// run together: one load of the input per tap, four independent chains to hide FMA latency.
// Bit-identical to __tap_range (tested): every y is z + the FMA chain of its valid taps in the
// order (ky, kx), and the statistics follow conv1ch_lanes.h. Single-threaded. Without AVX-512F
// (checked at run time), or for k > 16: __tap_range.
#include "csupport_incremental.h"

#include "conv1ch_lanes.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512_FN __attribute__((target("avx512f,avx2,fma")))
#define AVX512_INLINE_C1 static inline __attribute__((always_inline, target("avx512f,avx2,fma")))

// Lanes [lo, hi) of a 16-lane mask (empty when hi ≤ lo).
static inline __mmask16 lane_range(int lo, int hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

// R output channels at once (R ≤ 4, a compile-time constant after inlining): each tap's input
// segment is loaded once for all R, the R FMA chains and statistics run side by side (independent
// dependency chains), and the statistics stay in registers. Per channel, every operation and its
// order is as in the one-channel loop that conv1ch_lanes.h describes.
#define C1_MAXR 4
AVX512_INLINE_C1 void conv1ch_rows16_block(int R, const float *d, const float *const wo[C1_MAXR],
                                           const float *const zo[C1_MAXR], float *const yo[C1_MAXR], int n,
                                           int H, int W, int k, double *const sum[C1_MAXR],
                                           double *const sumsq[C1_MAXR]) {
    const int p = k / 2;
    __m512d s1[C1_MAXR], s2[C1_MAXR];
    for (int r = 0; r < R; r++) s1[r] = s2[r] = _mm512_setzero_pd();
    for (int s = 0; s < n; s++)
        for (int row = 0; row < H; row++) {
            const long base = ((long)s * H + row) * W;
            for (int c0 = 0; c0 < W; c0 += 16) {
                const __mmask16 m = lane_range(0, W - c0);
                __m512 v[C1_MAXR];
                for (int r = 0; r < R; r++) v[r] = _mm512_maskz_loadu_ps(m, zo[r] + base + c0);
                for (int ky = 0; ky < k; ky++) {
                    const int iy = row + ky - p;
                    if (iy < 0 || iy >= H) continue;
                    const float *dr = d + ((long)s * H + iy) * W + c0;
                    for (int kx = 0; kx < k; kx++) {
                        // Valid columns c: 0 ≤ c + kx − p < W, as lanes c − c0.
                        const __mmask16 mk = m & lane_range(p - kx - c0, W + p - kx - c0);
                        const __m512 x = _mm512_maskz_loadu_ps(mk, dr + (kx - p));
                        for (int r = 0; r < R; r++)
                            v[r] = _mm512_mask3_fmadd_ps(_mm512_set1_ps(wo[r][ky * k + kx]), x, v[r], mk);
                    }
                }
                // Lanes past the row are 0 (masked load, masked FMAs): as conv1ch_lanes_add's zeros.
                for (int r = 0; r < R; r++) {
                    _mm512_mask_storeu_ps(yo[r] + base + c0, m, v[r]);
                    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v[r]));
                    s1[r] = _mm512_add_pd(s1[r], lo);
                    s2[r] = _mm512_fmadd_pd(lo, lo, s2[r]);
                    if (W - c0 > 8) {
                        const __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v[r]), 1)));
                        s1[r] = _mm512_add_pd(s1[r], hi);
                        s2[r] = _mm512_fmadd_pd(hi, hi, s2[r]);
                    }
                }
            }
        }
    for (int r = 0; r < R; r++) {
        conv1ch_lanes stats;
        _mm512_storeu_pd(stats.s1, s1[r]);
        _mm512_storeu_pd(stats.s2, s2[r]);
        conv1ch_lanes_finish(&stats, sum[r], sumsq[r]);
    }
}

static AVX512_FN void conv1ch_rows16(const float *d, const float *w, int Cin, int ci, int Cout, int n, int H,
                                     int W, int k, const float *z, float *y, double *sum, double *sumsq) {
    const long P = (long)n * H * W;
    for (int o0 = 0; o0 < Cout; o0 += C1_MAXR) {
        const int R = Cout - o0 < C1_MAXR ? Cout - o0 : C1_MAXR;
        const float *wo[C1_MAXR], *zo[C1_MAXR];
        float *yo[C1_MAXR];
        double *s1[C1_MAXR], *s2[C1_MAXR];
        for (int r = 0; r < C1_MAXR; r++) {
            const int o = o0 + (r < R ? r : 0);
            wo[r] = w + ((long)o * Cin + ci) * k * k;
            zo[r] = z + (long)o * P;
            yo[r] = y + (long)o * P;
            s1[r] = sum ? sum + o : NULL;
            s2[r] = sumsq ? sumsq + o : NULL;
        }
        if (R == C1_MAXR) conv1ch_rows16_block(C1_MAXR, d, wo, zo, yo, n, H, W, k, s1, s2);
        else for (int r = 0; r < R; r++) {
            const float *w1[C1_MAXR] = {wo[r]}, *z1[C1_MAXR] = {zo[r]};
            float *y1[C1_MAXR] = {yo[r]};
            double *a1[C1_MAXR] = {s1[r]}, *a2[C1_MAXR] = {s2[r]};
            conv1ch_rows16_block(1, d, w1, z1, y1, n, H, W, k, a1, a2);
        }
    }
}
#endif

void cs_conv1ch_add_cnhw_f32__rows_avx512(const float *d, const float *w, int Cin, int ci, int Cout, int n,
                                          int H, int W, int k, const float *z, float *y, double *sum,
                                          double *sumsq) {
#if defined(__x86_64__)
    if (k <= 16 && __builtin_cpu_supports("avx512f")) {
        conv1ch_rows16(d, w, Cin, ci, Cout, n, H, W, k, z, y, sum, sumsq);
        return;
    }
#endif
    cs_conv1ch_add_cnhw_f32__tap_range(d, w, Cin, ci, Cout, n, H, W, k, z, y, sum, sumsq);
}
