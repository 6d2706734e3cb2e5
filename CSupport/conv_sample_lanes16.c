// Direct 2-D convolution with 16 samples in the 16 lanes of every AVX-512 vector: the
// sample-lanes conv (conv_sample_lanes.c) at twice the vector width, for CPUs with AVX-512F.
//
// Shapes and semantics as __ref (csupport.h): x[Cin][n][H][W], w[Cout][Cin][k][k] → y[Cout][n·H·W],
// stride 1, zero padding p = k/2, no bias; optional sum/sumsq[Cout] (double) ADDED to.
//
// Why: the FMA throughput of AVX-512 on the machines that have it is ~1.8× AVX2's (measured 187
// vs 103 GFLOP/s per core), and 32 registers allow a larger register block.
//
// Loop nest, outermost first (as conv_sample_lanes.c, with 16 lanes):
//   1. groups of 16 samples (the last may be partial, its missing lanes zero): transposed into
//      xt[ci][Hp][Wp][16] (lanes16_load.h), whose pad zones are zeroed once per call; the next
//      group's input is prefetched into L2 while this one runs.
//   2. pixel sextets q0 … q0+5 in raster order (past the end: dummies reading pixel 0, written to
//      the padding rows of yt, never read).
//   3. output-channel blocks of 4 (weights packed per call as wp[block][ci][ky·k + kx][r], zeros
//      past Cout), so a sextet's input rows stay in L1 across all blocks.
//   4. micro-kernel: 4 channels × 6 pixels = 24 accumulators of 16 samples, over ci and the k²
//      taps: 6 aligned loads of x, 4 broadcasts of w, 24 FMAs per tap (30 of the 32 registers).
//   5. per group and output channel: yt is transposed back into y's rows, and the valid lanes'
//      statistics are added in double.
// Bit-identical to __sample_lanes_avx2 (tested): every output is the float FMA chain of its
// Cin·k² products in the order (ci, ky, kx), and the statistics are summed in that kernel's order
// (per channel: its octets in turn — lanes 0–7, then 8–15 — pixels in raster order, the two
// 4-sample halves of an octet added first). So the engine's numbers do not depend on which of the
// two runs. Single-threaded. Without AVX-512F (checked at run time): __sample_lanes_avx2.
#include "csupport.h"
#include "csupport_conv_sample_lanes.h"

#include <stdint.h>
#include <string.h>

#include "sample_lanes_common.h"

#include "lanes16_load.h"

#define SL16_R 4  // output channels per register block
#define SL16_V 6  // pixels per register block

typedef struct {
    int pad, Hp, Wp, Coutr;
    long HW, HWr;  // pixels per plane; rounded up to a multiple of SL16_V
    long cstride;  // floats from one channel of xt to the next
} sl16_geometry;

static sl16_geometry sl16_geom(int Cout, int H, int W, int k) {
    sl16_geometry g;
    g.pad = k / 2;
    g.Hp = H + 2 * g.pad;
    g.Wp = W + 2 * g.pad;
    g.Coutr = (Cout + SL16_R - 1) / SL16_R * SL16_R;
    g.HW = (long)H * W;
    g.HWr = (g.HW + SL16_V - 1) / SL16_V * SL16_V;
    g.cstride = lanes16_plane_stride((long)g.Hp * g.Wp);
    return g;
}

long cs_conv2d_cnhw_f32__sample_lanes16_scratch_floats(int Cin, int Cout, int n, int H, int W, int k) {
    if (Cin <= 0 || Cout <= 0 || n <= 0 || H <= 0 || W <= 0 || k <= 0) return 0;
    const sl16_geometry g = sl16_geom(Cout, H, W, k);
    const long own = (long)g.Coutr * Cin * k * k + 15 + (long)Cin * g.cstride + LANES16 * g.HWr * g.Coutr +
                     16L * g.Coutr;  // statistics: [2][Coutr][4] doubles
    const long avx2 = cs_conv2d_cnhw_f32__sample_lanes_scratch_floats(Cin, Cout, n, H, W, k);
    return own > avx2 ? own : avx2;
}

#if defined(__x86_64__)

// out[j·jstride + r·16 …] = Σ_ci,ky,kx wp[ci][ky·k+kx][r]·in[j][tap], for a compile-time k after
// inlining (the taps unroll).
AVX512_INLINE void sl16_block(int k, const float *wp, int Cin, long cstride, long rowstride,
                              const float *const in[SL16_V], float *out, long jstride) {
    __m512 acc[SL16_R][SL16_V];
    for (int r = 0; r < SL16_R; r++)
        for (int j = 0; j < SL16_V; j++) acc[r][j] = _mm512_setzero_ps();
    const float *p[SL16_V];
    for (int j = 0; j < SL16_V; j++) p[j] = in[j];
    for (int ci = 0; ci < Cin; ci++) {
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                const long off = ky * rowstride + kx * LANES16;
                __m512 xv[SL16_V];
                for (int j = 0; j < SL16_V; j++) xv[j] = _mm512_load_ps(p[j] + off);
                for (int r = 0; r < SL16_R; r++) {
                    const __m512 wv = _mm512_set1_ps(wp[(ky * k + kx) * SL16_R + r]);
                    for (int j = 0; j < SL16_V; j++) acc[r][j] = _mm512_fmadd_ps(xv[j], wv, acc[r][j]);
                }
            }
        wp += k * k * SL16_R;
        for (int j = 0; j < SL16_V; j++) p[j] += cstride;
    }
    for (int r = 0; r < SL16_R; r++)
        for (int j = 0; j < SL16_V; j++) _mm512_store_ps(out + j * jstride + r * LANES16, acc[r][j]);
}

static AVX512_FN void sl16_block_k3(const float *wp, int Cin, long cstride, long rowstride,
                                    const float *const in[SL16_V], float *out, long jstride) {
    sl16_block(3, wp, Cin, cstride, rowstride, in, out, jstride);
}

static AVX512_FN void sl16_block_any_k(int k, const float *wp, int Cin, long cstride, long rowstride,
                                       const float *const in[SL16_V], float *out, long jstride) {
    sl16_block(k, wp, Cin, cstride, rowstride, in, out, jstride);
}

// Adds the statistics of lanes lo ..< lo + 8 (an octet of __sample_lanes_avx2; ns valid) of
// channels co0 ..< co0 + R (R ≤ 4; yt, qstride floats per pixel, channel c at c·16) to their 4
// double lanes a1[4·c] / a2[4·c] in that kernel's order: per channel, pixels in raster order. The
// R channels' chains run side by side: one channel alone waits on its add/FMA latency each pixel.
#define SL16_STATS_R 4
AVX512_INLINE void sl16_octet_stats(int R, const float *src, long HW, long qstride, int lo, int ns, double *a1,
                                    double *a2) {
    static const int lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    const __m256 valid = _mm256_loadu_ps((const float *)(lanes + 8 - ns));
    __m256d s1[SL16_STATS_R], s2[SL16_STATS_R];
    for (int r = 0; r < R; r++) {
        s1[r] = _mm256_loadu_pd(a1 + 4 * r);
        s2[r] = _mm256_loadu_pd(a2 + 4 * r);
    }
    for (long q = 0; q < HW; q++)
        for (int r = 0; r < R; r++)
            sample_lanes_stats_add(_mm256_and_ps(_mm256_load_ps(src + q * qstride + r * LANES16 + lo), valid), &s1[r],
                                   &s2[r]);
    for (int r = 0; r < R; r++) {
        _mm256_storeu_pd(a1 + 4 * r, s1[r]);
        _mm256_storeu_pd(a2 + 4 * r, s2[r]);
    }
}

// y[co][s0 + s][q] = yt[q][co][s] for s < ns; statistics into acc[co] / acc[Coutr + co] (4 doubles).
AVX512_INLINE void sl16_store_group(const float *yt, int Cout, long P, int s0, int ns, const sl16_geometry *g,
                                    float *y, int stats, double *acc) {
    const long HW = g->HW, qstride = (long)g->Coutr * LANES16;
    if (stats)
        for (int co0 = 0; co0 < Cout; co0 += SL16_STATS_R) {
            const float *src = yt + (long)co0 * LANES16;
            double *a1 = acc + 4 * co0, *a2 = acc + 4 * (g->Coutr + co0);
            for (int lo = 0; lo < ns; lo += 8) {
                const int nv = ns - lo < 8 ? ns - lo : 8;
                if (Cout - co0 >= SL16_STATS_R) sl16_octet_stats(SL16_STATS_R, src, HW, qstride, lo, nv, a1, a2);
                else
                    for (int r = 0; r < Cout - co0; r++)
                        sl16_octet_stats(1, src + r * LANES16, HW, qstride, lo, nv, a1 + 4 * r, a2 + 4 * r);
            }
        }
    for (int co = 0; co < Cout; co++) {
        const float *src = yt + (long)co * LANES16;
        float *dst = y + co * P + (long)s0 * HW;
        long q = 0;
        for (; q + 8 <= HW; q += 8) {
            __m256 r[2][8];
            for (int i = 0; i < 8; i++) {
                r[0][i] = _mm256_load_ps(src + (q + i) * qstride);
                r[1][i] = _mm256_load_ps(src + (q + i) * qstride + 8);
            }
            transpose8x8(r[0]);
            transpose8x8(r[1]);
            for (int s = 0; s < ns; s++) _mm256_storeu_ps(dst + s * HW + q, r[s / 8][s % 8]);
        }
        for (; q < HW; q++)
            for (int s = 0; s < ns; s++) dst[s * HW + q] = src[q * qstride + s];
    }
}

static AVX512_FN void sample_lanes16(const float *x, const float *w, int Cin, int Cout, int n, int H, int W,
                                     int k, float *y, double *sum, double *sumsq, float *scratch) {
    const sl16_geometry g = sl16_geom(Cout, H, W, k);
    const long P = (long)n * g.HW;
    const int kk = k * k;
    const int stats = (sum != NULL) || (sumsq != NULL);

    float *wp = scratch;  // wp[block][ci][t][r], zero past Cout
    sample_lanes_pack_weights(w, Cin, Cout, g.Coutr, kk, SL16_R, wp);
    float *xt = wp + (long)g.Coutr * Cin * kk;
    xt += (16 - ((uintptr_t)xt / sizeof(float)) % 16) % 16;  // 64-byte aligned
    float *yt = xt + (long)Cin * g.cstride;                  // yt[HWr][Coutr][16]
    double *acc = (double *)(yt + LANES16 * g.HWr * g.Coutr);  // [2][Coutr][4]
    memset(xt, 0, sizeof(float) * (size_t)(Cin * g.cstride));
    memset(acc, 0, sizeof(double) * 8 * (size_t)g.Coutr);
    const long jstride = (long)g.Coutr * LANES16, rowstride = (long)g.Wp * LANES16;

    for (int s0 = 0; s0 < n; s0 += LANES16) {
        const int ns = n - s0 < LANES16 ? n - s0 : LANES16;
        lanes16_load_group(x + (long)s0 * g.HW, (long)n * g.HW, Cin, g.HW, W, ns, g.pad, g.Wp, g.cstride, xt);
        sample_lanes_prefetch next =
            sample_lanes_prefetch_group(x, Cin, n, g.HW, s0 + LANES16, LANES16, g.HWr / SL16_V);
        long oy = 0, ox = 0;  // the pixel q0
        for (long q0 = 0; q0 < g.HWr; q0 += SL16_V) {
            sample_lanes_prefetch_some(&next);
            const float *in[SL16_V];
            for (int j = 0; j < SL16_V; j++) {
                in[j] = q0 + j < g.HW ? xt + (oy * g.Wp + ox) * LANES16 : xt;  // tap (0, 0)
                if (++ox == W) { ox = 0; oy++; }
            }
            float *out = yt + q0 * jstride;
            for (int co0 = 0; co0 < Cout; co0 += SL16_R) {
                const float *wb = wp + (long)co0 * Cin * kk;
                if (k == 3) sl16_block_k3(wb, Cin, g.cstride, rowstride, in, out + co0 * LANES16, jstride);
                else sl16_block_any_k(k, wb, Cin, g.cstride, rowstride, in, out + co0 * LANES16, jstride);
            }
        }
        sl16_store_group(yt, Cout, P, s0, ns, &g, y, stats, acc);
    }
    if (stats) sample_lanes_finish_stats(acc, Cout, g.Coutr, sum, sumsq);
}
#endif

int cs_cpu_has_avx512f(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

void cs_conv2d_cnhw_f32__sample_lanes_avx512(const float *x, const float *w, int Cin, int Cout, int n, int H,
                                             int W, int k, float *y, double *sum, double *sumsq,
                                             float *scratch) {
#if defined(__x86_64__)
    if (Cin > 0 && Cout > 0 && n > 0 && H > 0 && W > 0 && k > 0 && __builtin_cpu_supports("avx512f")) {
        sample_lanes16(x, w, Cin, Cout, n, H, W, k, y, sum, sumsq, scratch);
        return;
    }
#endif
    cs_conv2d_cnhw_f32__sample_lanes_avx2(x, w, Cin, Cout, n, H, W, k, y, sum, sumsq, scratch);
}
