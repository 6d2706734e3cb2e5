// 2-D convolution on chunked CNHW tensors, with the batch-norm statistics of the output.
//
// Shapes: x[Cin][n][H][W], w[Cout][Cin][k][k]  →  y[Cout][P], P = n·H·W (same size: stride 1,
// zero padding k/2, k odd, no bias). Optional sum[Cout], sumsq[Cout] (double) are ADDED to.
//
// As a matrix product: Y[Cout][P] = Wt[Cout][K] · col[K][P], K = Cin·k², with col the im2col patch
// matrix (im2col.c) and Wt the weights read as a Cout × K row-major matrix (no repacking needed).
//
// Intent:
//   __ref    plain direct loops, accumulated in double and rounded once per output: the yardstick.
//   __im2col_blas  the P columns are cut into tiles of `tile` pixels. Per tile: im2col into `scratch`
//            (K × tile floats, sized to sit in L2), one cblas_sgemm Cout × tile × K writing straight
//            into y (ldc = P), then the per-channel sum / sum of squares of the tile's Cout × tile
//            outputs while they are still in cache. k == 1 needs no im2col: the tile of x itself is
//            the B operand (ldb = P). The BLAS is expected single-threaded (the engine owns the
//            threads); the kernel opens no OpenMP region.
// Statistics are accumulated in double, per tile, in a fixed order: the result depends on `tile`
// only through double rounding (~2⁻⁵³ relative), not on anything else.
// csupport.h first: cblas.h pulls in <complex.h>, whose macro `I` would break the parameter name
// `I` of cs_fc_f32 in the prototypes below it.
#include "csupport.h"

#include <cblas.h>

void cs_conv2d_cnhw_f32__ref(const float *x, const float *w, int Cin, int Cout, int n, int H, int W,
                             int k, float *y, double *sum, double *sumsq) {
    const int pad = k / 2;
    const long plane = (long)n * H * W;
    for (int co = 0; co < Cout; co++) {
        double s1 = 0.0, s2 = 0.0;
        for (int s = 0; s < n; s++) {
            for (int oy = 0; oy < H; oy++) {
                for (int ox = 0; ox < W; ox++) {
                    double acc = 0.0;
                    for (int ci = 0; ci < Cin; ci++) {
                        for (int ky = 0; ky < k; ky++) {
                            const int iy = oy + ky - pad;
                            if (iy < 0 || iy >= H) continue;
                            for (int kx = 0; kx < k; kx++) {
                                const int ix = ox + kx - pad;
                                if (ix < 0 || ix >= W) continue;
                                const float wv = w[(((long)co * Cin + ci) * k + ky) * k + kx];
                                const float xv = x[(((long)ci * n + s) * H + iy) * W + ix];
                                acc += (double)wv * (double)xv;
                            }
                        }
                    }
                    const float v = (float)acc;
                    y[(long)co * plane + ((long)s * H + oy) * W + ox] = v;
                    s1 += (double)v;
                    s2 += (double)v * (double)v;
                }
            }
        }
        if (sum) sum[co] += s1;
        if (sumsq) sumsq[co] += s2;
    }
}

// Adds the sum and sum of squares of y[co][p0 ..< p0 + len] (row stride ld) to sum/sumsq.
static void tile_stats(const float *y, long ld, int Cout, long p0, long len, double *sum,
                       double *sumsq) {
    for (int co = 0; co < Cout; co++) {
        const float *r = y + (long)co * ld + p0;
        double s1 = 0.0, s2 = 0.0;
#pragma omp simd reduction(+ : s1, s2)
        for (long j = 0; j < len; j++) {
            const double v = (double)r[j];
            s1 += v;
            s2 += v * v;
        }
        if (sum) sum[co] += s1;
        if (sumsq) sumsq[co] += s2;
    }
}

void cs_conv2d_cnhw_f32__im2col_blas(const float *x, const float *w, int Cin, int Cout, int n, int H,
                               int W, int k, float *y, double *sum, double *sumsq, float *scratch,
                               long tile) {
    const long P = (long)n * H * W;
    const int K = Cin * k * k;
    if (P <= 0 || Cout <= 0) return;
    if (tile <= 0 || tile > P) tile = P;
    const int stats = (sum != NULL) || (sumsq != NULL);
    for (long p0 = 0; p0 < P; p0 += tile) {
        const long len = (P - p0 < tile) ? P - p0 : tile;
        if (K == 0) {  // Cin == 0: the sum over no inputs
            for (int co = 0; co < Cout; co++)
                for (long j = 0; j < len; j++) y[(long)co * P + p0 + j] = 0.0f;
        } else if (k == 1) {
            // B = x[:, p0 ..< p0 + len], a K × len submatrix of x[Cin][P] with leading dim P.
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Cout, (int)len, K, 1.0f, w, K,
                        x + p0, (int)P, 0.0f, y + p0, (int)P);
        } else {
            cs_im2col_cnhw_f32__flat_copy(x, Cin, n, H, W, k, p0, p0 + len, scratch);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Cout, (int)len, K, 1.0f, w, K,
                        scratch, (int)len, 0.0f, y + p0, (int)P);
        }
        if (stats) tile_stats(y, P, Cout, p0, len, sum, sumsq);
    }
}
