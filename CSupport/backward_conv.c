// Convolution backward on chunked CNHW tensors: to the input (transposed convolution) and to the
// weights (the reduction over every pixel of the chunk). Shapes and semantics: csupport_backward.h.
//
// Input gradient. For a stride-1 "same" conv (k odd, pad p = k/2),
//   dx[ci][s][y][x] = Σ_co Σ_ky,kx w[co][ci][ky][kx]·dy[co][s][y − ky + p][x − kx + p]
// is itself a same conv of dy with the flipped, transposed kernel w'[ci][co][ky][kx] =
// w[co][ci][k−1−ky][k−1−kx]. optimised twin writes w' into scratch (Cin·Cout·k² floats, negligible) and
// runs a forward direct kernel on it (__direct_avx2: conv_direct.c; __sample_lanes_avx2:
// conv_sample_lanes.c; __sample_lanes_avx512: conv_sample_lanes16.c): the backward pass gets the
// forward's speed.
// Accuracy: a float sum of Cout·k² products per output, |Δ| ≤ γ_{Cout·k²}·Σ|w·dy|.
//
// Weight gradient. dW[Cout][K] = dY[Cout][P] · colᵀ[P][K], K = Cin·k², P = n·H·W, col = im2col
// of x (im2col.c). __im2col_blas cuts P into tiles of `tile` pixels: im2col of the tile into scratch
// (K × tile, L2-sized), then one sgemm Cout × K × tile accumulating into dw (β = 0 for the first
// tile). Deterministic: the float order depends only on the shape and `tile` (BLAS single-
// threaded, as the engine runs it). Accuracy: each entry is a float sum of P products,
// |Δ| ≤ γ_P·Σ|dy·x| (worst case; sgemm's blocked sums are far tighter in practice).
//   __ref of both: plain loops in double, one rounding per output.
// csupport.h first: cblas.h pulls in <complex.h>, whose macro `I` breaks later prototypes.
#include "csupport.h"
#include "csupport_backward.h"
#include "csupport_conv_direct.h"
#include "csupport_conv_sample_lanes.h"

#include <cblas.h>

void cs_conv2d_backward_input_cnhw_f32__ref(const float *dy, const float *w, int Cin, int Cout,
                                            int n, int H, int W, int k, float *dx) {
    const int pad = k / 2;
    const long plane = (long)n * H * W;
    for (int ci = 0; ci < Cin; ci++)
        for (int s = 0; s < n; s++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    double acc = 0.0;
                    for (int co = 0; co < Cout; co++)
                        for (int ky = 0; ky < k; ky++) {
                            const int oy = y - ky + pad;
                            if (oy < 0 || oy >= H) continue;
                            for (int kx = 0; kx < k; kx++) {
                                const int ox = x - kx + pad;
                                if (ox < 0 || ox >= W) continue;
                                acc += (double)w[(((long)co * Cin + ci) * k + ky) * k + kx] *
                                       (double)dy[(long)co * plane + ((long)s * H + oy) * W + ox];
                            }
                        }
                    dx[(long)ci * plane + ((long)s * H + y) * W + x] = (float)acc;
                }
}

long cs_conv2d_backward_input_scratch_floats(int Cin, int Cout, int n, int H, int W, int k) {
    if (Cin <= 0 || Cout <= 0 || n <= 0 || H <= 0 || W <= 0 || k <= 0) return 0;
    const long direct = cs_conv2d_cnhw_f32__direct_scratch_floats(Cout, Cin, n, H, W, k);
    const long lanes = cs_conv2d_cnhw_f32__sample_lanes16_scratch_floats(Cout, Cin, n, H, W, k);
    return (long)Cin * Cout * k * k + (direct > lanes ? direct : lanes);
}

// wt[ci][co][k²−1−t] = w[co][ci][t] (the flipped, transposed kernel) into the scratch's head.
static float *flipped_kernel(const float *w, int Cin, int Cout, int k, float *scratch) {
    const long kk = (long)k * k;
    for (int co = 0; co < Cout; co++)
        for (int ci = 0; ci < Cin; ci++)
            for (long t = 0; t < kk; t++)
                scratch[((long)ci * Cout + co) * kk + (kk - 1 - t)] = w[((long)co * Cin + ci) * kk + t];
    return scratch;
}

void cs_conv2d_backward_input_cnhw_f32__direct_avx2(const float *dy, const float *w, int Cin, int Cout,
                                            int n, int H, int W, int k, float *dx, float *scratch) {
    if (Cin <= 0 || n <= 0 || H <= 0 || W <= 0) return;
    cs_conv2d_cnhw_f32__direct_avx2(dy, flipped_kernel(w, Cin, Cout, k, scratch), Cout, Cin, n, H, W, k,
                                    dx, NULL, NULL, scratch + (long)Cin * Cout * k * k);
}

void cs_conv2d_backward_input_cnhw_f32__sample_lanes_avx2(const float *dy, const float *w, int Cin,
                                                          int Cout, int n, int H, int W, int k,
                                                          float *dx, float *scratch) {
    if (Cin <= 0 || n <= 0 || H <= 0 || W <= 0) return;
    cs_conv2d_cnhw_f32__sample_lanes_avx2(dy, flipped_kernel(w, Cin, Cout, k, scratch), Cout, Cin, n,
                                          H, W, k, dx, NULL, NULL, scratch + (long)Cin * Cout * k * k);
}

void cs_conv2d_backward_weight_cnhw_f32__ref(const float *x, const float *dy, int Cin, int Cout,
                                             int n, int H, int W, int k, float *dw) {
    const int pad = k / 2;
    const long plane = (long)n * H * W;
    for (int co = 0; co < Cout; co++)
        for (int ci = 0; ci < Cin; ci++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    double acc = 0.0;
                    for (int s = 0; s < n; s++)
                        for (int oy = 0; oy < H; oy++) {
                            const int iy = oy + ky - pad;
                            if (iy < 0 || iy >= H) continue;
                            for (int ox = 0; ox < W; ox++) {
                                const int ix = ox + kx - pad;
                                if (ix < 0 || ix >= W) continue;
                                acc += (double)dy[(long)co * plane + ((long)s * H + oy) * W + ox] *
                                       (double)x[(long)ci * plane + ((long)s * H + iy) * W + ix];
                            }
                        }
                    dw[(((long)co * Cin + ci) * k + ky) * k + kx] = (float)acc;
                }
}

void cs_conv2d_backward_weight_cnhw_f32__im2col_blas(const float *x, const float *dy, int Cin, int Cout,
                                               int n, int H, int W, int k, float *dw,
                                               float *scratch, long tile) {
    const long P = (long)n * H * W;
    const int K = Cin * k * k;
    if (Cout <= 0 || K <= 0) return;
    if (P <= 0) {
        for (long i = 0; i < (long)Cout * K; i++) dw[i] = 0.0f;
        return;
    }
    if (tile <= 0 || tile > P) tile = P;
    for (long p0 = 0; p0 < P; p0 += tile) {
        const long len = (P - p0 < tile) ? P - p0 : tile;
        const float beta = p0 == 0 ? 0.0f : 1.0f;
        if (k == 1) {
            // col = x[:, p0 ..< p0 + len] itself (K × len, leading dimension P).
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Cout, K, (int)len, 1.0f, dy + p0,
                        (int)P, x + p0, (int)P, beta, dw, K);
        } else {
            cs_im2col_cnhw_f32__flat_copy(x, Cin, n, H, W, k, p0, p0 + len, scratch);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Cout, K, (int)len, 1.0f, dy + p0,
                        (int)P, scratch, (int)len, beta, dw, K);
        }
    }
}

void cs_conv2d_backward_input_cnhw_f32__sample_lanes_avx512(const float *dy, const float *w, int Cin,
                                                            int Cout, int n, int H, int W, int k,
                                                            float *dx, float *scratch) {
    if (Cin <= 0 || n <= 0 || H <= 0 || W <= 0) return;
    cs_conv2d_cnhw_f32__sample_lanes_avx512(dy, flipped_kernel(w, Cin, Cout, k, scratch), Cout, Cin, n, H, W, k,
                                            dx, NULL, NULL, scratch + (long)Cin * Cout * k * k);
}

// MARK: - Direct weight gradient (no BLAS)
//
// Why: the weight gradient is a skinny product (Cout × Cin·k² outputs, each a sum over all P
// pixels of the chunk), and OpenBLAS picks a generic SSE kernel on CPUs it does not recognise;
// this loop nest needs no BLAS and reaches a good fraction of the FMA peak on any AVX2 machine.
// Layout: per call, dy is copied to dyp[co][s][H][Wv] and x to a zero-padded xp[ci][s][H + 2p][Wx]
// (Wv = 8·⌈W/8⌉, Wx = Wv + 2p: every tap of every 8-pixel vector is an in-bounds load, the pad
// lanes of dyp are 0 so they add nothing; only the pad of xp is zeroed, the interior is copied).
// Register block: a pair of output channels × a pair of kernel rows (ky, ky + 1) × up to 3 kernel
// columns = 12 vector accumulators over the rows of a tile of samples, with 2 dy loads and 2 × 3
// x loads per 12 FMAs (FMA-bound; 12 independent chains hide the FMA latency; 15 of the 16 ymm
// registers), written in GCC/clang vector extensions (portable C).
// Cache block: the samples are cut into tiles of ~16 KB of dy pair and x plane rows (one sample at
// 28×28, several on smaller planes), and every (output pair, input channel, tap block) runs over
// one tile before the next tile starts: a tile's dy rows stay in L1 across all input channels, and
// the 8-lane partial sums live in scratch between tiles (Cout·Cin·k² vectors). Each entry is reduced
// lane 0…7 at the end. Deterministic: the order (tiles in order, rows in order within a tile, then
// the lanes) depends only on the shape. Accuracy: each entry is a float sum of ≤ P products (P/8 per
// lane, then 8 lanes), |Δ| ≤ γ_P·Σ|dy·x|.
typedef float v8f __attribute__((vector_size(32)));
typedef float v8f_u __attribute__((vector_size(32), aligned(4)));  // unaligned loads

static inline v8f load8(const float *p) { return *(const v8f_u *)p; }
static inline float hsum8(v8f v) {
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

long cs_conv2d_backward_weight_direct_scratch_floats(int Cin, int Cout, int n, int H, int W, int k) {
    if (Cin <= 0 || Cout <= 0 || n <= 0 || H <= 0 || W <= 0 || k <= 0) return 0;
    const long Wv = (W + 7) / 8 * 8, Wx = Wv + 2 * (k / 2), Hx = H + 2 * (k / 2);
    // dyp, xp, then the lane sums (+ 8 floats to align them to 32 bytes).
    return (long)Cout * n * H * Wv + (long)Cin * n * Hx * Wx + 8L * Cout * Cin * k * k + 8;
}

// Adds the products of samples s0 ..< s1 for taps (ky0 … ky0 + nky − 1, kx0 … kx0 + nk − 1) of
// output channels co … co + nco − 1 and input channel ci to their lane sums acc[co][ci][ky][kx].
// nco, nky ∈ {1, 2}, nk ∈ {1, 2, 3} (constants after inlining, so the loops unroll and the
// accumulators stay in registers).
static inline __attribute__((always_inline)) void wgrad_block(
    const float *dyp, const float *xp, int nco, int nky, int nk, int co, int ci, int ky0, int kx0, int s0,
    int s1, int Cin, int n, int H, int k, long Wv, long Wx, long Hx, v8f *acc) {
    v8f *b0 = acc + ((long)co * Cin + ci) * k * k + (long)ky0 * k + kx0;
    v8f *b1 = b0 + (long)Cin * k * k;
    v8f a0[2][3], a1[2][3];
    for (int ty = 0; ty < nky; ty++)
        for (int t = 0; t < nk; t++) {
            a0[ty][t] = b0[ty * k + t];
            if (nco > 1) a1[ty][t] = b1[ty * k + t];
        }
    const long dplane = (long)n * H * Wv;
    const int nv = (int)(Wv / 8);
    for (int s = s0; s < s1; s++) {
        for (int y = 0; y < H; y++) {
            const float *d0 = dyp + (long)co * dplane + ((long)s * H + y) * Wv;
            const float *d1 = d0 + dplane;
            const float *r0 = xp + (((long)ci * n + s) * Hx + y + ky0) * Wx + kx0;
            const float *r1 = r0 + Wx;
            for (int v = 0; v < nv; v++) {
                const v8f g0 = load8(d0 + 8 * v);
                const v8f g1 = nco > 1 ? load8(d1 + 8 * v) : g0;
                for (int ty = 0; ty < nky; ty++) {
                    const float *r = ty == 0 ? r0 : r1;
                    for (int t = 0; t < nk; t++) {
                        const v8f xv = load8(r + 8 * v + t);
                        a0[ty][t] += g0 * xv;
                        if (nco > 1) a1[ty][t] += g1 * xv;
                    }
                }
            }
        }
    }
    for (int ty = 0; ty < nky; ty++)
        for (int t = 0; t < nk; t++) {
            b0[ty * k + t] = a0[ty][t];
            if (nco > 1) b1[ty * k + t] = a1[ty][t];
        }
}

// One (nco, nky) combination with nk as a compile-time constant in each call.
#define WGRAD_COLUMNS(NCO, NKY)                                                                         \
    do {                                                                                                \
        if (nk == 3) wgrad_block(dyp, xp, NCO, NKY, 3, co, ci, ky0, kx0, s0, s1, Cin, n, H, k, Wv, Wx, Hx, acc); \
        else if (nk == 2) wgrad_block(dyp, xp, NCO, NKY, 2, co, ci, ky0, kx0, s0, s1, Cin, n, H, k, Wv, Wx, Hx, acc); \
        else wgrad_block(dyp, xp, NCO, NKY, 1, co, ci, ky0, kx0, s0, s1, Cin, n, H, k, Wv, Wx, Hx, acc); \
    } while (0)

void cs_conv2d_backward_weight_cnhw_f32__direct(const float *x, const float *dy, int Cin, int Cout,
                                                int n, int H, int W, int k, float *dw,
                                                float *scratch) {
    if (Cin <= 0 || Cout <= 0 || k <= 0) return;
    const long taps = (long)Cout * Cin * k * k;
    if (n <= 0 || H <= 0 || W <= 0) {
        for (long i = 0; i < taps; i++) dw[i] = 0.0f;
        return;
    }
    const int p = k / 2;
    const long Wv = (W + 7) / 8 * 8, Wx = Wv + 2 * p, Hx = H + 2 * p;
    float *dyp = scratch;
    float *xp = dyp + (long)Cout * n * H * Wv;
    float *lanes = xp + (long)Cin * n * Hx * Wx;
    v8f *acc = (v8f *)(lanes + ((8 - ((uintptr_t)lanes / sizeof(float)) % 8) % 8));
    for (long r = 0; r < (long)Cout * n * H; r++) {  // rows of dy, zero tail lanes
        const float *src = dy + r * W;
        float *dst = dyp + r * Wv;
        for (int i = 0; i < W; i++) dst[i] = src[i];
        for (long i = W; i < Wv; i++) dst[i] = 0.0f;
    }
    for (long cs = 0; cs < (long)Cin * n; cs++) {  // planes of x: zero pad rows and columns, copy the rest
        float *plane = xp + cs * Hx * Wx;
        for (long i = 0; i < (long)p * Wx; i++) plane[i] = 0.0f;
        for (long i = (long)(p + H) * Wx; i < Hx * Wx; i++) plane[i] = 0.0f;
        for (int y = 0; y < H; y++) {
            const float *src = x + (cs * H + y) * W;
            float *dst = plane + (long)(y + p) * Wx;
            for (int i = 0; i < p; i++) dst[i] = 0.0f;
            for (int i = 0; i < W; i++) dst[p + i] = src[i];
            for (long i = p + W; i < Wx; i++) dst[i] = 0.0f;
        }
    }
    for (long i = 0; i < taps; i++) acc[i] = (v8f){0};
    // Samples per tile: a dy pair and an x plane of the tile in ~16 KB (at least one sample).
    const long sampleBytes = 4 * (2 * H * Wv + Hx * Wx);
    const int tile = sampleBytes >= 16384 ? 1 : (int)(16384 / sampleBytes);
    for (int s0 = 0; s0 < n; s0 += tile) {
        const int s1 = n - s0 < tile ? n : s0 + tile;
        for (int co = 0; co < Cout; co += 2) {
            const int pair = co + 1 < Cout;
            for (int ci = 0; ci < Cin; ci++)
                for (int ky0 = 0; ky0 < k; ky0 += 2) {
                    const int rows = k - ky0 < 2 ? 1 : 2;
                    for (int kx0 = 0; kx0 < k; kx0 += 3) {
                        const int nk = k - kx0 < 3 ? k - kx0 : 3;
                        if (pair && rows == 2) WGRAD_COLUMNS(2, 2);
                        else if (pair) WGRAD_COLUMNS(2, 1);
                        else if (rows == 2) WGRAD_COLUMNS(1, 2);
                        else WGRAD_COLUMNS(1, 1);
                    }
                }
        }
    }
    for (long i = 0; i < taps; i++) dw[i] = hsum8(acc[i]);
}
#undef WGRAD_COLUMNS
