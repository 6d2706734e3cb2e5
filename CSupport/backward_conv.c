// Convolution backward on chunked CNHW tensors: to the input (transposed convolution) and to the
// weights (the reduction over every pixel of the chunk). Shapes and semantics: csupport_backward.h.
//
// Input gradient. For a stride-1 "same" conv (k odd, pad p = k/2),
//   dx[ci][s][y][x] = Σ_co Σ_ky,kx w[co][ci][ky][kx]·dy[co][s][y − ky + p][x − kx + p]
// is itself a same conv of dy with the flipped, transposed kernel w'[ci][co][ky][kx] =
// w[co][ci][k−1−ky][k−1−kx]. __opt writes w' into scratch (Cin·Cout·k² floats, negligible) and
// runs the forward direct kernel (conv_direct.c) on it: the backward pass gets the forward's speed.
// Accuracy: a float sum of Cout·k² products per output, |Δ| ≤ γ_{Cout·k²}·Σ|w·dy|.
//
// Weight gradient. dW[Cout][K] = dY[Cout][P] · colᵀ[P][K], K = Cin·k², P = n·H·W, col = im2col
// of x (im2col.c). __sgemm cuts P into tiles of `tile` pixels: im2col of the tile into scratch
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

void cs_conv2d_backward_input_cnhw_f32__opt(const float *dy, const float *w, int Cin, int Cout,
                                            int n, int H, int W, int k, float *dx, float *scratch) {
    if (Cin <= 0 || n <= 0 || H <= 0 || W <= 0) return;
    const long kk = (long)k * k;
    float *wt = scratch;
    for (int co = 0; co < Cout; co++)
        for (int ci = 0; ci < Cin; ci++)
            for (long t = 0; t < kk; t++)
                wt[((long)ci * Cout + co) * kk + (kk - 1 - t)] = w[((long)co * Cin + ci) * kk + t];
    cs_conv2d_cnhw_f32__direct(dy, wt, Cout, Cin, n, H, W, k, dx, NULL, NULL,
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

void cs_conv2d_backward_weight_cnhw_f32__sgemm(const float *x, const float *dy, int Cin, int Cout,
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
            cs_im2col_cnhw_f32__opt(x, Cin, n, H, W, k, p0, p0 + len, scratch);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Cout, K, (int)len, 1.0f, dy + p0,
                        (int)P, scratch, (int)len, beta, dw, K);
        }
    }
}
