// Weight gradient of a 3×3 conv with 16 samples in the 16 lanes of an AVX-512 vector.
//
// Shapes and semantics as cs_conv2d_backward_weight_cnhw_f32__ref (csupport_backward.h):
// dw[co][ci][ky][kx] = Σ_s,y,x dy[co][s][y][x]·x[ci][s][y + ky − 1][x + kx − 1] (zero outside).
//
// Why: __direct (backward_conv.c) vectorises along a row, so 28-, 14- and 7-pixel rows leave 1/8
// of its lanes idle, two of its three column taps are unaligned loads that split cache lines, and
// its third kernel row runs with 6 accumulators, too few to hide the FMA latency: it measured
// ~45% of the AVX2 roof against ~70% for the forward sample-lanes conv. Here a vector holds one
// pixel of 16 samples: every load is aligned and full whatever the plane, and with 32 registers
// a block of 2 output channels × all 9 taps (18 accumulators) shares each x load between 2 FMAs
// and each dy load between 9: 11 loads per 18 FMAs, FMA-bound. AVX-512's FMA throughput on the
// machines that have it is ~1.8× AVX2's (measured 187 vs 103 GFLOP/s per core).
//
// Loop nest, outermost first:
//   1. groups of 16 samples (the last may be partial, its missing lanes zero in both operands):
//      transposed (two 8×8 register transposes per 8 pixels) into xt[ci][Hp][Wp][16] (the pad
//      zones zeroed once per call) and dyt[co][H·W][16]; planes an odd number of lines apart.
//   2. bands of output rows whose dy pair fits in ~16 KB, so it stays in L1 across all ci.
//   3. output-channel pairs, then input channels: the 18 lane sums of the block are loaded from
//      scratch, run over the band's pixels, and stored back.
// Deterministic: each of the 16 lanes of an entry sums its samples' products in the order
// (group, band, row, pixel, ky, kx) and the lanes are added in a fixed tree at the end, all fixed
// by the shape. Accuracy: a float sum of ≤ n·H·W products, |Δ| ≤ γ_{nHW}·Σ|dy·x|.
// Single-threaded. Other k, or CPUs without AVX-512F (checked at run time): __direct.
#include "csupport.h"
#include "csupport_backward.h"

#include <stdint.h>
#include <string.h>

#include "lanes16_load.h"

#define WL_TAPS 9    // 3×3

long cs_conv2d_backward_weight_sample_lanes_scratch_floats(int Cin, int Cout, int n, int H, int W, int k) {
    const long direct = cs_conv2d_backward_weight_direct_scratch_floats(Cin, Cout, n, H, W, k);
    if (k != 3 || direct == 0) return direct;
    const long own = 15 + Cin * lanes16_plane_stride((long)(H + 2) * (W + 2)) + Cout * lanes16_plane_stride((long)H * W) +
                     (long)LANES16 * WL_TAPS * Cout * Cin;
    return own > direct ? own : direct;
}

#if defined(__x86_64__)

// Adds, for output rows y0 ..< y1 and output channels co (and co + 1 when R = 2), the products
// with input channel plane xp to the lane sums acc0[9] (acc1[9]).
AVX512_INLINE void wl_block(int R, const float *d0p, const float *d1p, const float *xp, int y0, int y1,
                            int W, int Wp, float *acc0, float *acc1) {
    __m512 a0[WL_TAPS], a1[WL_TAPS];
    for (int t = 0; t < WL_TAPS; t++) {
        a0[t] = _mm512_load_ps(acc0 + t * LANES16);
        a1[t] = R > 1 ? _mm512_load_ps(acc1 + t * LANES16) : a0[t];
    }
    const long row = (long)Wp * LANES16;
    for (int y = y0; y < y1; y++) {
        const float *d0 = d0p + (long)y * W * LANES16, *d1 = d1p + (long)y * W * LANES16;
        const float *xr = xp + y * row;  // padded row y: the top row of output row y's window
        for (int x = 0; x < W; x++) {
            const __m512 g0 = _mm512_load_ps(d0 + x * LANES16);
            const __m512 g1 = R > 1 ? _mm512_load_ps(d1 + x * LANES16) : g0;
            const float *win = xr + x * LANES16;
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) {
                    const __m512 xv = _mm512_load_ps(win + ky * row + kx * LANES16);
                    a0[3 * ky + kx] = _mm512_fmadd_ps(g0, xv, a0[3 * ky + kx]);
                    if (R > 1) a1[3 * ky + kx] = _mm512_fmadd_ps(g1, xv, a1[3 * ky + kx]);
                }
        }
    }
    for (int t = 0; t < WL_TAPS; t++) {
        _mm512_store_ps(acc0 + t * LANES16, a0[t]);
        if (R > 1) _mm512_store_ps(acc1 + t * LANES16, a1[t]);
    }
}

static AVX512_FN void weight_lanes_k3(const float *x, const float *dy, int Cin, int Cout, int n, int H,
                                      int W, float *dw, float *scratch) {
    const int Hp = H + 2, Wp = W + 2;
    const long HW = (long)H * W;
    const long xstride = lanes16_plane_stride((long)Hp * Wp), dstride = lanes16_plane_stride(HW);
    float *xt = scratch + (16 - ((uintptr_t)scratch / sizeof(float)) % 16) % 16;  // 64-byte aligned
    float *dyt = xt + Cin * xstride;
    float *acc = dyt + Cout * dstride;  // acc[co][ci][t][16]
    const long taps = (long)Cout * Cin * WL_TAPS;
    memset(xt, 0, sizeof(float) * (size_t)(Cin * xstride));
    memset(acc, 0, sizeof(float) * (size_t)(taps * LANES16));
    // Rows per band: a dy pair's band in ~16 KB (at least one row).
    const long rowBytes = 2L * W * LANES16 * (long)sizeof(float);
    const int band = rowBytes >= 16384 ? 1 : (int)(16384 / rowBytes);
    for (int s0 = 0; s0 < n; s0 += LANES16) {
        const int ns = n - s0 < LANES16 ? n - s0 : LANES16;
        lanes16_load_group(x + (long)s0 * HW, (long)n * HW, Cin, HW, W, ns, 1, Wp, xstride, xt);
        lanes16_load_group(dy + (long)s0 * HW, (long)n * HW, Cout, HW, W, ns, 0, W, dstride, dyt);
        for (int y0 = 0; y0 < H; y0 += band) {
            const int y1 = H - y0 < band ? H : y0 + band;
            for (int co = 0; co < Cout; co += 2) {
                const float *d0 = dyt + co * dstride;
                float *a0 = acc + (long)co * Cin * WL_TAPS * LANES16;
                for (int ci = 0; ci < Cin; ci++) {
                    float *b0 = a0 + (long)ci * WL_TAPS * LANES16;
                    if (co + 1 < Cout)
                        wl_block(2, d0, d0 + dstride, xt + ci * xstride, y0, y1, W, Wp, b0,
                                 b0 + (long)Cin * WL_TAPS * LANES16);
                    else
                        wl_block(1, d0, d0, xt + ci * xstride, y0, y1, W, Wp, b0, b0);
                }
            }
        }
    }
    for (long i = 0; i < taps; i++) {
        const float *l = acc + i * LANES16;
        float h[8];
        for (int j = 0; j < 8; j++) h[j] = l[j] + l[j + 8];
        dw[i] = ((h[0] + h[1]) + (h[2] + h[3])) + ((h[4] + h[5]) + (h[6] + h[7]));
    }
}
#endif

void cs_conv2d_backward_weight_cnhw_f32__sample_lanes_avx512(const float *x, const float *dy, int Cin,
                                                             int Cout, int n, int H, int W, int k,
                                                             float *dw, float *scratch) {
#if defined(__x86_64__)
    if (k == 3 && Cin > 0 && Cout > 0 && n > 0 && H > 0 && W > 0 && __builtin_cpu_supports("avx512f")) {
        weight_lanes_k3(x, dy, Cin, Cout, n, H, W, dw, scratch);
        return;
    }
#endif
    cs_conv2d_backward_weight_cnhw_f32__direct(x, dy, Cin, Cout, n, H, W, k, dw, scratch);
}
