// cs_conv1ch_add (csupport_incremental.h) with a row of up to 16 columns in one AVX-512 vector.
//
// Why: an incremental trial adds the change of one input channel to all Cout output planes of the
// next conv, one short row at a time (28, 14 or 7 columns). __tap_range's `omp simd` loops over
// such rows run mostly in their scalar remainders (7 of 7 columns; 6 of 14). Here a row segment
// of ≤ 16 columns is one vector: z is loaded with a mask, each valid tap is one masked load and one
// masked FMA (a tap's invalid columns keep their value, as __tap_range skips them), y is stored
// with a mask, and the statistics take the vector's two 8-column halves.
// Bit-identical to __tap_range (tested): every y is z + the FMA chain of its valid taps in the
// order (ky, kx), and the statistics follow conv1ch_lanes.h. Single-threaded. Without AVX-512F
// (checked at run time), or for k > 16: __tap_range.
#include "csupport_incremental.h"

#include "conv1ch_lanes.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512_FN __attribute__((target("avx512f,avx2,fma")))

// Lanes [lo, hi) of a 16-lane mask (empty when hi ≤ lo).
static inline __mmask16 lane_range(int lo, int hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

static AVX512_FN void conv1ch_rows16(const float *d, const float *w, int Cin, int ci, int Cout, int n, int H,
                                     int W, int k, const float *z, float *y, double *sum, double *sumsq) {
    const int p = k / 2;
    const long P = (long)n * H * W;
    for (int o = 0; o < Cout; o++) {
        const float *wo = w + ((long)o * Cin + ci) * k * k;
        const float *zo = z + (long)o * P;
        float *yo = y + (long)o * P;
        conv1ch_lanes stats = {{0.0}, {0.0}};
        for (int s = 0; s < n; s++)
            for (int r = 0; r < H; r++) {
                const long row = ((long)s * H + r) * W;
                for (int c0 = 0; c0 < W; c0 += 16) {
                    const __mmask16 m = lane_range(0, W - c0);
                    __m512 v = _mm512_maskz_loadu_ps(m, zo + row + c0);
                    for (int ky = 0; ky < k; ky++) {
                        const int iy = r + ky - p;
                        if (iy < 0 || iy >= H) continue;
                        const float *dr = d + ((long)s * H + iy) * W + c0;
                        for (int kx = 0; kx < k; kx++) {
                            // Valid columns c: 0 ≤ c + kx − p < W, as lanes c − c0.
                            const __mmask16 mk = m & lane_range(p - kx - c0, W + p - kx - c0);
                            const __m512 x = _mm512_maskz_loadu_ps(mk, dr + (kx - p));
                            v = _mm512_mask3_fmadd_ps(_mm512_set1_ps(wo[ky * k + kx]), x, v, mk);
                        }
                    }
                    _mm512_mask_storeu_ps(yo + row + c0, m, v);
                    float lanes[16];
                    _mm512_storeu_ps(lanes, v);
                    conv1ch_lanes_add(&stats, lanes, W - c0);
                    if (W - c0 > 8) conv1ch_lanes_add(&stats, lanes + 8, W - c0 - 8);
                }
            }
        conv1ch_lanes_finish(&stats, sum ? sum + o : NULL, sumsq ? sumsq + o : NULL);
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
