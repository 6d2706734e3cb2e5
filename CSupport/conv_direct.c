// Direct 2-D convolution on chunked CNHW tensors (no im2col, no BLAS), with the batch-norm
// statistics of the output taken from registers.
//
// Shapes: x[Cin][n][H][W], w[Cout][Cin][k][k]  →  y[Cout][P], P = n·H·W (stride 1, zero padding
// p = k/2, no bias). Optional sum[Cout], sumsq[Cout] (double) are ADDED to.
//
// Why: for 16–32 channels a 3×3 conv is a skinny product (Cout × Cin·9 by Cin·9 × P) on which
// im2col + OpenBLAS reaches ~⅓ of the FMA peak; here the patch matrix is never built.
//
// Loop nest (__direct_avx2), outermost first:
//   1. sample groups: G samples (padded input ≈ 64 KiB, see geometry) are copied into a
//      zero-padded buffer xp[Cin][G][H + 2p][Wp], Wp = 8·⌈W/8⌉ + 2p, so every tap of every 8-pixel
//      vector is an in-bounds unaligned load and no border test remains in the inner loop. The pad
//      zones are zeroed once per call; only the interiors are rewritten per group. Channel planes
//      are an odd number of cache lines apart (see geometry: 4 KiB aliasing).
//   2. output-channel blocks of R = 4, weights packed per call as wp[block][ci][ky][kx][r] so the
//      inner loop reads them sequentially; the channels past Cout in the last block get zero
//      weights (computed, never stored).
//   3. "slots": the group's output rows cut into 8-pixel vectors (the last one of a row partly
//      padding when 8 ∤ W: 28×28, 14×14 and 7×7 images use 7/8 of the lanes); V = 3 slots per
//      micro-kernel call, possibly from different rows or samples; past the last slot, dummy slots
//      (computed, never stored).
//   4. micro-kernel: R × V accumulators of 8 pixels (12 ymm), over ci and the k² taps: V
//      unaligned loads of x, R broadcasts of w, R·V FMAs. 7 loads per 12 FMAs, 12 independent
//      chains ≥ the 2 FMA/cycle × 4 cycles latency of Zen3. k = 3 runs a hand-scheduled inline-asm
//      copy (register pressure, see below); k = 1 and other k the intrinsics version.
//   5. epilogue: store, then per output channel the valid lanes are widened to double and added
//      to 4-lane double sums / sums of squares (FMA in double), reduced at the end of the block.
// Results are deterministic: the float order per output and the statistics order depend only on
// the shape. Accuracy: every output is a float sum of Cin·k² products in the order (ci, ky, kx)
// with FMA: |ŷ − y| ≤ γ_K·Σ|w·x|, K = Cin·k², like __im2col_blas.
//
// The AVX2 code is compiled with __attribute__((target("avx2,fma"))) and chosen at run time with
// __builtin_cpu_supports, so it is also used (and tested) in debug builds without -mavx2.
// Without AVX2+FMA the entry point calls the plain-loop reference __ref (scratch unused).
// Single-threaded; no OpenMP, no BLAS.
#include "csupport.h"
#include "csupport_conv_direct.h"

#include <stdint.h>
#include <string.h>

#include "conv_dispatch.h"

// Target size of the padded input group, floats (64 KiB; read once per block of output channels,
// from L1/L2). Reordering the loops so that one band of rows stays in L1 across all blocks
// measured no faster.
#define DIRECT_GROUP_FLOATS 16384L
// Register block; other values (-D) select the intrinsics micro-kernel for k = 3 as well. Micro-
// kernel alone, L1-resident, Cin = 16 and 32: asm 4 × 3 ~80 GFLOP/s, intrinsics 4 × 2 (8
// accumulators, no spills) ~70, intrinsics 4 × 3 (spills) ~61; for Cin ≤ 3 the three are within
// ~10% (per-call overhead dominates).
#ifndef DIRECT_R
#define DIRECT_R 4  // output channels per register block
#endif
#ifndef DIRECT_V
#define DIRECT_V 3  // 8-pixel vectors per register block
#endif

typedef struct {
    int pad, Hp, Wp, nv;  // padding, padded height/width, 8-pixel vectors per row
    long plane;           // Hp·Wp
    int G;                // samples per group
    long cstride;         // floats from one channel of xp to the next (see geometry)
} direct_geometry;

static direct_geometry geometry(int Cin, int n, int H, int W, int k) {
    direct_geometry g;
    g.pad = k / 2;
    g.Hp = H + 2 * g.pad;
    g.nv = (W + 7) / 8;
    g.Wp = 8 * g.nv + 2 * g.pad;
    g.plane = (long)g.Hp * g.Wp;
    long G = DIRECT_GROUP_FLOATS / ((long)Cin * g.plane);
    if (G < 1) G = 1;
    if (G > n) G = n;
    g.G = (int)G;
    // An odd number of 64-byte lines, so the Cin channel planes of xp (read together by the
    // micro-kernel) fall into different L1 sets. A stride near 4 KiB (28×28: 16·30·34 floats =
    // 4080 B) put every channel's rows in the same sets: measured ~25% slower.
    g.cstride = (G * g.plane + 15) / 16 * 16;
    if ((g.cstride / 16) % 2 == 0) g.cstride += 16;
    return g;
}

long cs_conv2d_cnhw_f32__direct_scratch_floats(int Cin, int Cout, int n, int H, int W, int k) {
    if (Cin <= 0 || Cout <= 0 || n <= 0 || H <= 0 || W <= 0 || k <= 0) return 0;
    const direct_geometry g = geometry(Cin, n, H, W, k);
    const long Coutr = (Cout + DIRECT_R - 1) / DIRECT_R * DIRECT_R;
    return Coutr * Cin * k * k + 15 + (long)Cin * g.cstride;  // + 15: xp aligned to 64 B
}

// MARK: - AVX2 + FMA path

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2_FN __attribute__((target("avx2,fma")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

// One 8-pixel output vector: where its taps start in xp (channel 0, tap (0, 0)) and where it goes
// in y (output channel co0 of the block), and how many of its lanes are real pixels (1…8).
// `masked`: store only the valid lanes. Otherwise all 8 lanes are stored even when valid < 8: the
// extra lanes land on the next pixels of the same channel plane (the next row or sample), which a
// later slot overwrites (slots are stored in pixel order). Only a vector that would cross the end
// of the plane is masked (vmaskmovps stores are slow on Zen: ~10% on 7×7 images, all masked).
typedef struct {
    const float *in;
    float *out;
    int valid;
    int masked;
} direct_slot;

// lanes_mask[8 − valid …] = valid lanes of −1, then zeros.
static const int lanes_mask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

// Stores the R × V accumulators of a block (masked on row tails, rows r ≥ Rv skipped) and adds
// their valid lanes, widened to double, to acc1/acc2 ([R][4] double lanes of the block's running
// sums / sums of squares).
AVX2_INLINE void direct_epilogue(const int R, const int V, __m256 acc[DIRECT_R][DIRECT_V],
                                 const direct_slot *sl, int Rv, long P, int stats, double *acc1,
                                 double *acc2) {
    __m256 mask[DIRECT_V];
    for (int j = 0; j < V; j++)
        mask[j] = _mm256_loadu_ps((const float *)(lanes_mask + 8 - sl[j].valid));
    for (int r = 0; r < R; r++) {
        if (r >= Rv) break;
        // Loaded once, added V times, stored once: the stores to y (may_alias) would otherwise
        // force a reload of acc1/acc2 after each of them.
        __m256d s1 = _mm256_loadu_pd(acc1 + 4 * r), s2 = _mm256_loadu_pd(acc2 + 4 * r);
        for (int j = 0; j < V; j++) {
            float *o = sl[j].out + r * P;
            __m256 v = acc[r][j];
            if (sl[j].masked)
                _mm256_maskstore_ps(o, _mm256_castps_si256(mask[j]), v);
            else
                _mm256_storeu_ps(o, v);
            if (sl[j].valid != 8) v = _mm256_and_ps(v, mask[j]);  // padding lanes out of the stats
            if (stats) {
                const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
                const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
                s1 = _mm256_add_pd(s1, _mm256_add_pd(lo, hi));
                s2 = _mm256_fmadd_pd(lo, lo, s2);
                s2 = _mm256_fmadd_pd(hi, hi, s2);
            }
        }
        if (stats) {
            _mm256_storeu_pd(acc1 + 4 * r, s1);
            _mm256_storeu_pd(acc2 + 4 * r, s2);
        }
    }
}

// The micro-kernel: R output channels × V slots, over all Cin and k² taps. R, V, KS are
// compile-time constants in every instantiation (KS = 0: k is the run-time `krt`).
AVX2_INLINE void direct_block(const int R, const int V, const int KS, int krt,
                              const float *restrict wp, int Cin, long cstride, long Wp,
                              const direct_slot *sl, int Rv, long P, int stats,
                              double *acc1, double *acc2) {
    const int k = KS ? KS : krt;
    __m256 acc[DIRECT_R][DIRECT_V];
    for (int r = 0; r < R; r++)
        for (int j = 0; j < V; j++) acc[r][j] = _mm256_setzero_ps();
    const float *in[DIRECT_V];
    for (int j = 0; j < V; j++) in[j] = sl[j].in;
    for (int ci = 0; ci < Cin; ci++) {
        for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
                const long off = ky * Wp + kx;
                __m256 xv[DIRECT_V];
                for (int j = 0; j < V; j++) xv[j] = _mm256_loadu_ps(in[j] + off);
                for (int r = 0; r < R; r++) {
                    const __m256 wv = _mm256_broadcast_ss(wp + (ky * k + kx) * R + r);
                    for (int j = 0; j < V; j++) acc[r][j] = _mm256_fmadd_ps(wv, xv[j], acc[r][j]);
                }
            }
        }
        wp += k * k * R;
        for (int j = 0; j < V; j++) in[j] += cstride;
    }
    direct_epilogue(R, V, acc, sl, Rv, P, stats, acc1, acc2);
}

#if DIRECT_R == 4 && DIRECT_V == 3 && !defined(DIRECT_NO_ASM)
// The k = 3 micro-kernel in inline assembly: 4 × 3 accumulators need ymm0–11, the three x vectors
// ymm12–14 and the broadcast weight ymm15, all 16 registers; compiled from intrinsics, clang
// hoists the next tap's loads and spills (~20 spills per Cin step, measured ~25% slower).
#include "conv_direct_taps.h"

static AVX2_FN void direct_block_k3_asm(int krt, const float *wp, int Cin, long cstride, long Wp,
                                        const direct_slot *sl, int Rv, long P, int stats,
                                        double *acc1, double *acc2) {
    (void)krt;
    __attribute__((aligned(32))) float out[DIRECT_R * DIRECT_V * 8];
    const float *i0 = sl[0].in, *i1 = sl[1].in, *i2 = sl[2].in;
    const float *w = wp;
    long count = Cin;
    const long ws = Wp * (long)sizeof(float), cs = cstride * (long)sizeof(float);
    __asm__ volatile(
        DK_ZERO_ACC DK_CI_LOOP(4, 8)
        "vmovaps %%ymm0, 0(%[o])\n\t"
        "vmovaps %%ymm1, 32(%[o])\n\t"
        "vmovaps %%ymm2, 64(%[o])\n\t"
        "vmovaps %%ymm3, 96(%[o])\n\t"
        "vmovaps %%ymm4, 128(%[o])\n\t"
        "vmovaps %%ymm5, 160(%[o])\n\t"
        "vmovaps %%ymm6, 192(%[o])\n\t"
        "vmovaps %%ymm7, 224(%[o])\n\t"
        "vmovaps %%ymm8, 256(%[o])\n\t"
        "vmovaps %%ymm9, 288(%[o])\n\t"
        "vmovaps %%ymm10, 320(%[o])\n\t"
        "vmovaps %%ymm11, 352(%[o])\n\t"
        : [i0] "+r"(i0), [i1] "+r"(i1), [i2] "+r"(i2), [w] "+r"(w), [n] "+r"(count)
        : [ws] "r"(ws), [cs] "r"(cs), [o] "r"(out)
        : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
          "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    __m256 acc[DIRECT_R][DIRECT_V];
    for (int r = 0; r < DIRECT_R; r++)
        for (int j = 0; j < DIRECT_V; j++) acc[r][j] = _mm256_load_ps(out + (r * DIRECT_V + j) * 8);
    direct_epilogue(DIRECT_R, DIRECT_V, acc, sl, Rv, P, stats, acc1, acc2);
}
#define DIRECT_K3_ASM 1
#define DIRECT_K3 direct_block_k3_asm
#else
#define DIRECT_K3 direct_block_k3
#endif

typedef void (*direct_block_fn)(int krt, const float *wp, int Cin, long cstride, long Wp,
                                const direct_slot *sl, int Rv, long P, int stats, double *acc1,
                                double *acc2);

#define DIRECT_INSTANCE(KS)                                                                       \
    static AVX2_FN void direct_block_k##KS(int krt, const float *wp, int Cin, long cstride,       \
                                           long Wp, const direct_slot *sl, int Rv, long P,        \
                                           int stats, double *acc1, double *acc2) {               \
        direct_block(DIRECT_R, DIRECT_V, KS, krt, wp, Cin, cstride, Wp, sl, Rv, P, stats, acc1,   \
                     acc2);                                                                       \
    }
#ifndef DIRECT_K3_ASM
DIRECT_INSTANCE(3)
#endif
DIRECT_INSTANCE(1)
DIRECT_INSTANCE(0)

static AVX2_FN void direct_avx2(const float *x, const float *w, int Cin, int Cout, int n, int H,
                                int W, int k, float *y, double *sum, double *sumsq,
                                float *scratch) {
    const direct_geometry g = geometry(Cin, n, H, W, k);
    const long HW = (long)H * W, P = (long)n * HW;
    const int kk = k * k;
    const int stats = (sum != NULL) || (sumsq != NULL);
    const direct_block_fn block =
        k == 3 ? DIRECT_K3 : (k == 1 ? direct_block_k1 : direct_block_k0);

    // Weights, per block of R output channels: wp[block][ci][ky·k + kx][r], zero rows for the
    // channels past Cout in the last block (computed, never stored).
    float *wp = scratch;
    const int Coutr = (Cout + DIRECT_R - 1) / DIRECT_R * DIRECT_R;
    for (int co0 = 0; co0 < Coutr; co0 += DIRECT_R) {
        float *dst = wp + (long)co0 * Cin * kk;
        for (int ci = 0; ci < Cin; ci++)
            for (int t = 0; t < kk; t++)
                for (int r = 0; r < DIRECT_R; r++)
                    dst[((long)ci * kk + t) * DIRECT_R + r] =
                        co0 + r < Cout ? w[((long)(co0 + r) * Cin + ci) * kk + t] : 0.0f;
    }

    // Zero-padded input of one sample group: xp[ci][g][Hp][Wp]; pad zones stay zero.
    float *xp = wp + (long)Coutr * Cin * kk;
    xp += (16 - ((uintptr_t)xp / sizeof(float)) % 16) % 16;  // 64-byte aligned (scratch is float-aligned)
    const long cstride = g.cstride;
    memset(xp, 0, sizeof(float) * (size_t)(Cin * cstride));

    for (int s0 = 0; s0 < n; s0 += g.G) {
        const int gn = n - s0 < g.G ? n - s0 : g.G;
        for (int ci = 0; ci < Cin; ci++)
            for (int gs = 0; gs < gn; gs++) {
                const float *src = x + ((long)ci * n + s0 + gs) * HW;
                float *dst = xp + ci * cstride + gs * g.plane + (long)g.pad * g.Wp + g.pad;
                for (int iy = 0; iy < H; iy++)
                    memcpy(dst + (long)iy * g.Wp, src + (long)iy * W, sizeof(float) * (size_t)W);
            }
        const long nslots = (long)gn * H * g.nv;

        for (int co0 = 0; co0 < Cout; co0 += DIRECT_R) {
            const int Rv = Cout - co0 < DIRECT_R ? Cout - co0 : DIRECT_R;
            const float *wblock = wp + (long)co0 * Cin * kk;
            double acc1[4 * DIRECT_R] = {0}, acc2[4 * DIRECT_R] = {0};
            int gs = 0, oy = 0, vx = 0;  // the next slot
            for (long t0 = 0; t0 < nslots; t0 += DIRECT_V) {
                direct_slot sl[DIRECT_V];
                for (int j = 0; j < DIRECT_V; j++) {
                    if (t0 + j >= nslots) {  // past the last slot: computed, never stored
                        sl[j] = sl[0];
                        sl[j].valid = 0;
                        sl[j].masked = 1;
                        continue;
                    }
                    const long pix = (long)(s0 + gs) * HW + (long)oy * W + 8 * vx;
                    sl[j].in = xp + gs * g.plane + (long)oy * g.Wp + 8 * vx;
                    sl[j].out = y + (long)co0 * P + pix;
                    sl[j].valid = W - 8 * vx < 8 ? W - 8 * vx : 8;
                    sl[j].masked = pix + 8 > P;
                    if (++vx == g.nv) {
                        vx = 0;
                        if (++oy == H) {
                            oy = 0;
                            gs++;
                        }
                    }
                }
                block(k, wblock, Cin, cstride, g.Wp, sl, Rv, P, stats, acc1, acc2);
            }
            if (stats) {
                for (int r = 0; r < Rv; r++) {
                    const double *a = acc1 + 4 * r, *b = acc2 + 4 * r;
                    if (sum) sum[co0 + r] += (a[0] + a[1]) + (a[2] + a[3]);
                    if (sumsq) sumsq[co0 + r] += (b[0] + b[1]) + (b[2] + b[3]);
                }
            }
        }
    }
}

#endif

// MARK: - Entry point

void cs_conv2d_cnhw_f32__direct_avx2(const float *x, const float *w, int Cin, int Cout, int n, int H,
                                int W, int k, float *y, double *sum, double *sumsq,
                                float *scratch) {
    conv_dispatch(CONV_AVX2_BODY(direct_avx2), x, w, Cin, Cout, n, H, W, k, y, sum, sumsq, scratch);
}
