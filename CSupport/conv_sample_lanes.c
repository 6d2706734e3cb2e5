// Direct 2-D convolution with 8 samples in the 8 lanes of every vector: all lanes busy whatever
// the plane's width, for the small planes (14×14, 7×7) on which __direct_avx2's row vectors idle.
//
// Shapes and semantics as __ref (csupport.h): x[Cin][n][H][W], w[Cout][Cin][k][k] → y[Cout][n·H·W],
// stride 1, zero padding p = k/2, no bias; optional sum/sumsq[Cout] (double) ADDED to.
//
// Why: __direct_avx2 vectorises along a row, 8 pixels per vector, so a 7-pixel row uses 7/8 of
// the lanes and each row's few vectors pay the slot set-up and epilogue. Here a vector holds one
// pixel of 8 samples, every load is aligned and full, and the plane's shape only sets addresses.
//
// Loop nest, outermost first:
//   1. sample octets (8 samples; the last may be partial, its missing lanes zero): the octet is
//      transposed (8×8 in registers) into xt[ci][Hp][Wp][8], Hp = H + 2p, Wp = W + 2p, whose pad
//      zones are zeroed once per call; channel planes an odd number of cache lines apart.
//   2. pixel triples q0, q0+1, q0+2 of the plane in raster order (past the end: dummies reading
//      pixel 0, written to the padding rows of yt, never read).
//   3. output-channel blocks of 4 (weights packed per call as wp[block][ci][ky·k + kx][r], zeros
//      past Cout), so a triple's input rows stay in L1 across all blocks.
//   4. micro-kernel: 4 channels × 3 pixels = 12 accumulators of 8 samples, over ci and the k²
//      taps: 3 aligned loads of x, 4 broadcasts of w, 12 FMAs per tap. k = 3 runs the same
//      inline-assembly loop as __direct_avx2 (conv_direct_taps.h) with a kx step of one pixel
//      (32 bytes); other k an intrinsics loop. Results go to yt[q][co][8].
//   5. per octet and output channel: yt is transposed back (8×8) into y's rows; the valid lanes,
//      widened to double, are added to 4-lane double sums and sums of squares (FMA in double).
// Deterministic: every output is the float sum of its Cin·k² products in the order (ci, ky, kx)
// with FMA, as __direct_avx2 (|ŷ − y| ≤ γ_K·Σ|w·x|, K = Cin·k²); the statistics are summed in the
// order (octet, pixel, lane pair) and reduced per channel at the end: all fixed by the shape.
// Single-threaded; no OpenMP, no BLAS. Without AVX2+FMA (checked at run time) it calls __ref.
#include "csupport.h"
#include "csupport_conv_sample_lanes.h"

#include <stdint.h>
#include <string.h>

#include "sample_lanes_common.h"

#include "conv_dispatch.h"

#define SL_R 4      // output channels per register block
#define SL_V 3      // pixels per register block
#define SL_LANES 8  // samples per vector

typedef struct {
    int pad, Hp, Wp, Coutr;
    long HW, HWr;  // pixels per plane; rounded up to a multiple of SL_V
    long cstride;  // floats from one channel of xt to the next
} sl_geometry;

static sl_geometry sl_geom(int Cin, int Cout, int H, int W, int k) {
    (void)Cin;
    sl_geometry g;
    g.pad = k / 2;
    g.Hp = H + 2 * g.pad;
    g.Wp = W + 2 * g.pad;
    g.Coutr = (Cout + SL_R - 1) / SL_R * SL_R;
    g.HW = (long)H * W;
    g.HWr = (g.HW + SL_V - 1) / SL_V * SL_V;
    // An odd number of 64-byte lines (as __direct_avx2: the Cin planes read together by the
    // micro-kernel then fall into different L1 sets).
    g.cstride = ((long)SL_LANES * g.Hp * g.Wp + 15) / 16 * 16;
    if ((g.cstride / 16) % 2 == 0) g.cstride += 16;
    return g;
}

long cs_conv2d_cnhw_f32__sample_lanes_scratch_floats(int Cin, int Cout, int n, int H, int W, int k) {
    if (Cin <= 0 || Cout <= 0 || n <= 0 || H <= 0 || W <= 0 || k <= 0) return 0;
    const sl_geometry g = sl_geom(Cin, Cout, H, W, k);
    return (long)g.Coutr * Cin * k * k + 15 + (long)Cin * g.cstride + SL_LANES * g.HWr * g.Coutr +
           16L * g.Coutr;
}

// MARK: - AVX2 + FMA path

#if defined(__x86_64__)
#include <immintrin.h>

#include "conv_direct_taps.h"
#include "lanes_transpose.h"

#define AVX2_FN __attribute__((target("avx2,fma")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

// Offset in floats of pixel (oy, ox) of a lane-transposed padded plane.
static inline long sl_pixel(const sl_geometry *g, long oy, long ox) {
    return ((oy + g->pad) * g->Wp + ox + g->pad) * SL_LANES;
}

// xt[ci][pixel][s] = x[ci][s0 + s][pixel] for s < ns, 0 for ns ≤ s < 8 (interiors only).
AVX2_INLINE void sl_load_octet(const float *x, int Cin, int n, int W, int s0, int ns,
                               const sl_geometry *g, float *xt) {
    const long HW = g->HW;
    for (int ci = 0; ci < Cin; ci++) {
        const float *src = x + ((long)ci * n + s0) * HW;
        float *dst = xt + ci * g->cstride;
        long q = 0, oy = 0, ox = 0;
        for (; q + 8 <= HW; q += 8) {
            __m256 r[8];
            for (int s = 0; s < 8; s++)
                r[s] = s < ns ? _mm256_loadu_ps(src + s * HW + q) : _mm256_setzero_ps();
            transpose8x8(r);
            for (int i = 0; i < 8; i++) {
                _mm256_store_ps(dst + sl_pixel(g, oy, ox), r[i]);
                if (++ox == W) { ox = 0; oy++; }
            }
        }
        for (; q < HW; q++) {
            float *d = dst + sl_pixel(g, oy, ox);
            for (int s = 0; s < 8; s++) d[s] = s < ns ? src[s * HW + q] : 0.0f;
            if (++ox == W) { ox = 0; oy++; }
        }
    }
}

// y[co][s0 + s][q] = yt[q][co][s] for s < ns; the valid lanes' statistics added to the 4 double
// lanes acc[co] (sums) and acc[Coutr + co] (sums of squares).
AVX2_INLINE void sl_store_octet(const float *yt, int Cout, long P, int s0, int ns,
                                const sl_geometry *g, float *y, int stats, double *acc) {
    const long HW = g->HW, qstride = (long)g->Coutr * SL_LANES;
    static const int lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    const __m256 valid = _mm256_loadu_ps((const float *)(lanes + 8 - ns));
    for (int co = 0; co < Cout; co++) {
        const float *src = yt + (long)co * SL_LANES;
        float *dst = y + co * P + (long)s0 * HW;
        double *a1 = acc + 4 * co, *a2 = acc + 4 * (g->Coutr + co);
        __m256d s1 = _mm256_loadu_pd(a1), s2 = _mm256_loadu_pd(a2);
        long q = 0;
        for (; q < HW; q += 8) {
            const int m = HW - q < 8 ? (int)(HW - q) : 8;
            __m256 r[8];
            for (int i = 0; i < m; i++) {
                r[i] = _mm256_and_ps(_mm256_load_ps(src + (q + i) * qstride), valid);
                if (stats) sample_lanes_stats_add(r[i], &s1, &s2);
            }
            if (m == 8) {
                transpose8x8(r);
                for (int s = 0; s < ns; s++) _mm256_storeu_ps(dst + s * HW + q, r[s]);
            } else {
                for (int i = 0; i < m; i++) {
                    float lane[8];
                    _mm256_storeu_ps(lane, r[i]);
                    for (int s = 0; s < ns; s++) dst[s * HW + q + i] = lane[s];
                }
            }
        }
        _mm256_storeu_pd(a1, s1);
        _mm256_storeu_pd(a2, s2);
    }
}

typedef void (*sl_block_fn)(int k, const float *wp, int Cin, long cstride, long rowstride,
                            const float *const in[SL_V], float *out, long jstride);

// The micro-kernel for any k: out[j·jstride + r·8 …] = Σ_ci,ky,kx wp[ci][ky·k+kx][r]·in[j][tap].
static AVX2_FN void sl_block_any_k(int k, const float *wp, int Cin, long cstride, long rowstride,
                                   const float *const in[SL_V], float *out, long jstride) {
    __m256 acc[SL_R][SL_V];
    for (int r = 0; r < SL_R; r++)
        for (int j = 0; j < SL_V; j++) acc[r][j] = _mm256_setzero_ps();
    const float *p[SL_V];
    for (int j = 0; j < SL_V; j++) p[j] = in[j];
    for (int ci = 0; ci < Cin; ci++) {
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                const long off = ky * rowstride + kx * SL_LANES;
                __m256 xv[SL_V];
                for (int j = 0; j < SL_V; j++) xv[j] = _mm256_load_ps(p[j] + off);
                for (int r = 0; r < SL_R; r++) {
                    const __m256 wv = _mm256_broadcast_ss(wp + (ky * k + kx) * SL_R + r);
                    for (int j = 0; j < SL_V; j++) acc[r][j] = _mm256_fmadd_ps(wv, xv[j], acc[r][j]);
                }
            }
        wp += k * k * SL_R;
        for (int j = 0; j < SL_V; j++) p[j] += cstride;
    }
    for (int r = 0; r < SL_R; r++)
        for (int j = 0; j < SL_V; j++) _mm256_store_ps(out + j * jstride + r * SL_LANES, acc[r][j]);
}

// k = 3 in inline assembly (why: conv_direct.c): the same loop with the kx step of one pixel.
// acc[r][j] = ymm(3r + j) goes to out + j·jstride + 8r.
#define SL_STORE(R, J, REG) "vmovaps %%ymm" #REG ", 32*" #R "(%[o]" J ")\n\t"
#define SL_J0 ""
#define SL_J1 ",%[js],1"
#define SL_J2 ",%[js],2"
static AVX2_FN void sl_block_k3_asm(int k, const float *wp, int Cin, long cstride, long rowstride,
                                    const float *const in[SL_V], float *out, long jstride) {
    (void)k;
    const float *i0 = in[0], *i1 = in[1], *i2 = in[2];
    const float *w = wp;
    long count = Cin;
    const long ws = rowstride * (long)sizeof(float), cs = cstride * (long)sizeof(float),
               js = jstride * (long)sizeof(float);
    __asm__ volatile(
        DK_ZERO_ACC DK_CI_LOOP(32, 64)
        SL_STORE(0, SL_J0, 0) SL_STORE(0, SL_J1, 1) SL_STORE(0, SL_J2, 2)
        SL_STORE(1, SL_J0, 3) SL_STORE(1, SL_J1, 4) SL_STORE(1, SL_J2, 5)
        SL_STORE(2, SL_J0, 6) SL_STORE(2, SL_J1, 7) SL_STORE(2, SL_J2, 8)
        SL_STORE(3, SL_J0, 9) SL_STORE(3, SL_J1, 10) SL_STORE(3, SL_J2, 11)
        : [i0] "+r"(i0), [i1] "+r"(i1), [i2] "+r"(i2), [w] "+r"(w), [n] "+r"(count)
        : [ws] "r"(ws), [cs] "r"(cs), [o] "r"(out), [js] "r"(js)
        : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
          "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static AVX2_FN void sample_lanes_avx2(const float *x, const float *w, int Cin, int Cout, int n,
                                      int H, int W, int k, float *y, double *sum, double *sumsq,
                                      float *scratch) {
    const sl_geometry g = sl_geom(Cin, Cout, H, W, k);
    const long P = (long)n * g.HW;
    const int kk = k * k;
    const int stats = (sum != NULL) || (sumsq != NULL);
    const sl_block_fn block = k == 3 ? sl_block_k3_asm : sl_block_any_k;

    float *wp = scratch;  // wp[block][ci][t][r], zero past Cout
    sample_lanes_pack_weights(w, Cin, Cout, g.Coutr, kk, SL_R, wp);
    float *xt = wp + (long)g.Coutr * Cin * kk;
    xt += (16 - ((uintptr_t)xt / sizeof(float)) % 16) % 16;  // 64-byte aligned
    float *yt = xt + (long)Cin * g.cstride;                  // yt[HWr][Coutr][8]
    double *acc = (double *)(yt + SL_LANES * g.HWr * g.Coutr);  // [2][Coutr][4]
    memset(xt, 0, sizeof(float) * (size_t)(Cin * g.cstride));
    memset(acc, 0, sizeof(double) * 8 * (size_t)g.Coutr);
    const long jstride = (long)g.Coutr * SL_LANES, rowstride = (long)g.Wp * SL_LANES;

    for (int s0 = 0; s0 < n; s0 += SL_LANES) {
        const int ns = n - s0 < SL_LANES ? n - s0 : SL_LANES;
        sl_load_octet(x, Cin, n, W, s0, ns, &g, xt);
        sample_lanes_prefetch next =
            sample_lanes_prefetch_group(x, Cin, n, g.HW, s0 + SL_LANES, SL_LANES, g.HWr / SL_V);
        long oy = 0, ox = 0;  // the pixel q0
        for (long q0 = 0; q0 < g.HWr; q0 += SL_V) {
            sample_lanes_prefetch_some(&next);
            const float *in[SL_V];
            for (int j = 0; j < SL_V; j++) {
                in[j] = q0 + j < g.HW ? xt + (oy * g.Wp + ox) * SL_LANES : xt;  // tap (0, 0)
                if (++ox == W) { ox = 0; oy++; }
            }
            float *out = yt + q0 * jstride;
            for (int co0 = 0; co0 < Cout; co0 += SL_R)
                block(k, wp + (long)co0 * Cin * kk, Cin, g.cstride, rowstride, in,
                      out + co0 * SL_LANES, jstride);
        }
        sl_store_octet(yt, Cout, P, s0, ns, &g, y, stats, acc);
    }
    if (stats) sample_lanes_finish_stats(acc, Cout, g.Coutr, sum, sumsq);
}

#endif

// MARK: - Entry point

void cs_conv2d_cnhw_f32__sample_lanes_avx2(const float *x, const float *w, int Cin, int Cout, int n,
                                           int H, int W, int k, float *y, double *sum,
                                           double *sumsq, float *scratch) {
    conv_dispatch(CONV_AVX2_BODY(sample_lanes_avx2), x, w, Cin, Cout, n, H, W, k, y, sum, sumsq, scratch);
}
