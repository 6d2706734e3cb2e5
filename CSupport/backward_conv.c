// Convolution backward on chunked CNHW tensors: to the input (transposed convolution) and to the
// weights (the reduction over every pixel of the chunk). Shapes and semantics: csupport_backward.h.
//
// Input gradient. For a stride-1 "same" conv (k odd, pad p = k/2),
//   dx[ci][s][y][x] = Σ_co Σ_ky,kx w[co][ci][ky][kx]·dy[co][s][y − ky + p][x − kx + p]
// is itself a same conv of dy with the flipped, transposed kernel w'[ci][co][ky][kx] =
// w[co][ci][k−1−ky][k−1−kx]. optimised twin writes w' into scratch (Cin·Cout·k² floats, negligible) and
// runs the forward direct kernel (conv_direct.c) on it: the backward pass gets the forward's speed.
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
    return (long)Cin * Cout * k * k + cs_conv2d_cnhw_f32__direct_scratch_floats(Cout, Cin, n, H, W, k);
}

void cs_conv2d_backward_input_cnhw_f32__direct_avx2(const float *dy, const float *w, int Cin, int Cout,
                                            int n, int H, int W, int k, float *dx, float *scratch) {
    if (Cin <= 0 || n <= 0 || H <= 0 || W <= 0) return;
    const long kk = (long)k * k;
    float *wt = scratch;
    for (int co = 0; co < Cout; co++)
        for (int ci = 0; ci < Cin; ci++)
            for (long t = 0; t < kk; t++)
                wt[((long)ci * Cout + co) * kk + (kk - 1 - t)] = w[((long)co * Cin + ci) * kk + t];
    cs_conv2d_cnhw_f32__direct_avx2(dy, wt, Cout, Cin, n, H, W, k, dx, NULL, NULL,
                                    scratch + (long)Cin * Cout * kk);
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

// MARK: - Direct weight gradient (no BLAS)
//
// Why: the weight gradient is a skinny product (Cout × Cin·k² outputs, each a sum over all P
// pixels of the chunk), and OpenBLAS picks a generic SSE kernel on CPUs it does not recognise;
// this loop nest needs no BLAS and reaches a good fraction of the FMA peak on any AVX2 machine.
// Layout: per call, dy is copied to dyp[co][s][H][Wv] and x to a zero-padded xp[ci][s][H + 2p][Wx]
// (Wv = 8·⌈W/8⌉, Wx = Wv + 2p: every tap of every 8-pixel vector is an in-bounds load, the pad
// lanes of dyp are 0 so they add nothing). Then for each pair of output channels, input channel
// and kernel row ky: 2 × (up to 3) vector accumulators (one per kx) run over every (s, y, vector)
// of the chunk: 2 + 3 loads per 6 FMAs, all in registers (GCC/clang vector extensions, portable
// C). Each accumulator is reduced lane 0…7 at the end. Deterministic: the order depends only on
// the shape. Accuracy: each entry is a float sum of ≤ P products, |Δ| ≤ γ_P·Σ|dy·x|.
typedef float v8f __attribute__((vector_size(32)));
typedef float v8f_u __attribute__((vector_size(32), aligned(4)));  // unaligned loads

static inline v8f load8(const float *p) { return *(const v8f_u *)p; }
static inline float hsum8(v8f v) {
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

long cs_conv2d_backward_weight_direct_scratch_floats(int Cin, int Cout, int n, int H, int W, int k) {
    if (Cin <= 0 || Cout <= 0 || n <= 0 || H <= 0 || W <= 0 || k <= 0) return 0;
    const long Wv = (W + 7) / 8 * 8, Wx = Wv + 2 * (k / 2), Hx = H + 2 * (k / 2);
    return (long)Cout * n * H * Wv + (long)Cin * n * Hx * Wx;
}

// Accumulates taps (ky, kx0 … kx0 + nk − 1) of output channels co … co + nco − 1 for input channel
// ci over the chunk; writes the sums into dw. nco ∈ {1, 2}, nk ∈ {1, 2, 3} (constants after inlining).
static inline __attribute__((always_inline)) void wgrad_block(
    const float *dyp, const float *xp, int nco, int nk, int co, int ci, int ky, int kx0, int Cin, int n,
    int H, int k, long Wv, long Wx, long Hx, float *dw) {
    v8f a0[3] = {{0}, {0}, {0}}, a1[3] = {{0}, {0}, {0}};
    const long dplane = (long)n * H * Wv;
    const int nv = (int)(Wv / 8);
    for (int s = 0; s < n; s++) {
        for (int y = 0; y < H; y++) {
            const float *d0 = dyp + (long)co * dplane + ((long)s * H + y) * Wv;
            const float *d1 = d0 + dplane;
            const float *r = xp + (((long)ci * n + s) * Hx + y + ky) * Wx + kx0;
            for (int v = 0; v < nv; v++) {
                const v8f g0 = load8(d0 + 8 * v);
                const v8f g1 = nco > 1 ? load8(d1 + 8 * v) : g0;
                for (int t = 0; t < nk; t++) {
                    const v8f xv = load8(r + 8 * v + t);
                    a0[t] += g0 * xv;
                    if (nco > 1) a1[t] += g1 * xv;
                }
            }
        }
    }
    for (int t = 0; t < nk; t++) {
        dw[(((long)co * Cin + ci) * k + ky) * k + kx0 + t] = hsum8(a0[t]);
        if (nco > 1) dw[(((long)(co + 1) * Cin + ci) * k + ky) * k + kx0 + t] = hsum8(a1[t]);
    }
}

void cs_conv2d_backward_weight_cnhw_f32__direct(const float *x, const float *dy, int Cin, int Cout,
                                                int n, int H, int W, int k, float *dw,
                                                float *scratch) {
    if (Cin <= 0 || Cout <= 0 || k <= 0) return;
    if (n <= 0 || H <= 0 || W <= 0) {
        for (long i = 0; i < (long)Cout * Cin * k * k; i++) dw[i] = 0.0f;
        return;
    }
    const int p = k / 2;
    const long Wv = (W + 7) / 8 * 8, Wx = Wv + 2 * p, Hx = H + 2 * p;
    float *dyp = scratch;
    float *xp = scratch + (long)Cout * n * H * Wv;
    for (long r = 0; r < (long)Cout * n * H; r++) {  // rows of dy, zero tail lanes
        const float *src = dy + r * W;
        float *dst = dyp + r * Wv;
        for (int i = 0; i < W; i++) dst[i] = src[i];
        for (long i = W; i < Wv; i++) dst[i] = 0.0f;
    }
    for (long i = 0; i < (long)Cin * n * Hx * Wx; i++) xp[i] = 0.0f;
    for (long cs = 0; cs < (long)Cin * n; cs++)
        for (int y = 0; y < H; y++) {
            const float *src = x + (cs * H + y) * W;
            float *dst = xp + (cs * Hx + y + p) * Wx + p;
            for (int i = 0; i < W; i++) dst[i] = src[i];
        }
    for (int co = 0; co < Cout; co += 2) {
        const int pair = co + 1 < Cout;
        for (int ci = 0; ci < Cin; ci++)
            for (int ky = 0; ky < k; ky++)
                for (int kx0 = 0; kx0 < k; kx0 += 3) {
                    const int nk = k - kx0 < 3 ? k - kx0 : 3;
                    // Constant (nco, nk) per call so each copy is fully unrolled in registers.
                    if (pair) {
                        if (nk == 3) wgrad_block(dyp, xp, 2, 3, co, ci, ky, kx0, Cin, n, H, k, Wv, Wx, Hx, dw);
                        else if (nk == 2) wgrad_block(dyp, xp, 2, 2, co, ci, ky, kx0, Cin, n, H, k, Wv, Wx, Hx, dw);
                        else wgrad_block(dyp, xp, 2, 1, co, ci, ky, kx0, Cin, n, H, k, Wv, Wx, Hx, dw);
                    } else {
                        if (nk == 3) wgrad_block(dyp, xp, 1, 3, co, ci, ky, kx0, Cin, n, H, k, Wv, Wx, Hx, dw);
                        else if (nk == 2) wgrad_block(dyp, xp, 1, 2, co, ci, ky, kx0, Cin, n, H, k, Wv, Wx, Hx, dw);
                        else wgrad_block(dyp, xp, 1, 1, co, ci, ky, kx0, Cin, n, H, k, Wv, Wx, Hx, dw);
                    }
                }
    }
}
