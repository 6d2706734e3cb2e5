// CSupport: backward (gradient) kernels for SGD training on chunked CNHW tensors.
// Layout and conventions: see csupport.h. Every kernel works on ONE chunk of n samples and is
// single-threaded; the Swift engine runs chunks in parallel and reduces per-chunk partial gradients
// of parameters in chunk order (so results never depend on the thread count).
// "Writes" means the output is overwritten; "adds" means it is accumulated into.
// Design and error bounds: backward_layers.c, backward_bn.c, backward_conv.c.
#ifndef CSUPPORT_BACKWARD_H
#define CSUPPORT_BACKWARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Loss
// Gradient of scale · Σ_s xent(logits[s], labels[s]) w.r.t. logits[n][K]: writes
// dlogits[s][j] = scale·(softmax(logits[s])_j − [j == label]). A label ≥ K gets a zero row
// (the forward skips such samples). dlogits may not alias logits.
void cs_softmax_xent_backward_f32__ref(const float *logits, const uint8_t *labels, int n, int K,
                                       float scale, float *dlogits);
void cs_softmax_xent_backward_f32__simd_f32(const float *logits, const uint8_t *labels, int n, int K,
                                       float scale, float *dlogits);

// MARK: - Fully connected
// Forward y[n][O] = x[n][I]·w[O][I]ᵀ + b. Writes dw[O][I] = Σ_s dy[s][o]·x[s][i] and
// db[O] = Σ_s dy[s][o] (this chunk's part), and dx[n][I] = dy·w when dx != NULL.
void cs_fc_backward_f32__ref(const float *x, const float *w, const float *dy, int n, int I, int O,
                             float *dw, float *db, float *dx);
void cs_fc_backward_f32__simd_f32(const float *x, const float *w, const float *dy, int n, int I, int O,
                             float *dw, float *db, float *dx);

// MARK: - Pooling
// Global average pool backward: dy[n][C] → writes dx[C][n][HW] = dy[s][c] / HW.
void cs_global_avgpool_backward_cnhw_f32__ref(const float *dy, int C, int n, long HW, float *dx);
void cs_global_avgpool_backward_cnhw_f32__simd_f32(const float *dy, int C, int n, long HW, float *dx);

// 2×2 average pool backward (stride 2, floor). H, W: the INPUT size. dy[C][n][H/2][W/2] → writes
// dx[C][n][H][W] = dy/4 in each window; an odd last row/column (dropped by the forward) gets 0.
void cs_avgpool2_backward_cnhw_f32__ref(const float *dy, int C, int n, int H, int W, float *dx);
void cs_avgpool2_backward_cnhw_f32__simd_f32(const float *dy, int C, int n, int H, int W, float *dx);

// MARK: - ReLU and residual
// ReLU mask from the forward OUTPUT y: writes dx[i] = y[i] > 0 ? dy[i] : 0 (dx may equal dy).
void cs_relu_backward_f32__ref(const float *y, const float *dy, long count, float *dx);
void cs_relu_backward_f32__simd_f32(const float *y, const float *dy, long count, float *dx);

// Zero-padded shortcut backward: the shortcut (Cskip ≤ Cy channels, L = n·H·W) received
// g[c] for c < Cskip; channels ≥ Cskip were padding and pass nothing back.
// Adds dskip[c][i] += g[c][i] for c < Cskip (g is the [Cy][L] gradient of the block output).
void cs_shortcut_backward_cnhw_f32__ref(const float *g, int Cy, int Cskip, long L, float *dskip);
void cs_shortcut_backward_cnhw_f32__simd_f32(const float *g, int Cy, int Cskip, long L, float *dskip);

// MARK: - Batch-norm (training mode, batch statistics of the forward)
// Pass 1 (per chunk). z[C][L]: the BN input; mean/var: the batch statistics the forward used.
// Writes g[C][L] = dy masked by the forward's ReLU when relu != 0 (the mask is recomputed from z
// exactly as the forward kernel of the same twin computed its output; g may equal dy), and this
// chunk's sum_g[c] = Σ g and sum_gxhat[c] = Σ g·x̂, x̂ = (z − mean)/√(var + eps) (double).
void cs_bn_relu_backward_sums_f32__ref(const float *z, const float *dy, int C, long L,
                                       const float *gamma, const float *beta, const double *mean,
                                       const double *var, float eps, int relu, float *g,
                                       double *sum_g, double *sum_gxhat);
void cs_bn_relu_backward_sums_f32__affine_fma(const float *z, const float *dy, int C, long L,
                                       const float *gamma, const float *beta, const double *mean,
                                       const double *var, float eps, int relu, float *g,
                                       double *sum_g, double *sum_gxhat);
// Pass 2 (per chunk), with sum_g, sum_gxhat reduced over the whole batch of `count` values per
// channel (count = batch·H·W): writes dz = γ/√(var+eps)·(g − sum_g/count − x̂·sum_gxhat/count).
// dβ = sum_g and dγ = sum_gxhat. dz may equal g.
void cs_bn_backward_dx_f32__ref(const float *z, const float *g, int C, long L, const float *gamma,
                                const double *mean, const double *var, float eps,
                                const double *sum_g, const double *sum_gxhat, double count,
                                float *dz);
void cs_bn_backward_dx_f32__affine_fma(const float *z, const float *g, int C, long L, const float *gamma,
                                const double *mean, const double *var, float eps,
                                const double *sum_g, const double *sum_gxhat, double count,
                                float *dz);

// MARK: - 3×3 (k×k) convolution
// Forward y[Cout][n·H·W] = conv(x[Cin][n][H][W], w[Cout][Cin][k][k]) (stride 1, zero pad k/2).
// Input gradient: writes dx[Cin][n][H][W] = Σ_co Σ_taps w·dy (the transposed convolution).
void cs_conv2d_backward_input_cnhw_f32__ref(const float *dy, const float *w, int Cin, int Cout,
                                            int n, int H, int W, int k, float *dx);
// Floats of scratch either optimised twin needs for this shape.
long cs_conv2d_backward_input_scratch_floats(int Cin, int Cout, int n, int H, int W, int k);
// The forward kernel of the same name on the flipped, transposed kernel: row vectors, or 8
// samples in the lanes (narrow planes).
void cs_conv2d_backward_input_cnhw_f32__direct_avx2(const float *dy, const float *w, int Cin, int Cout,
                                            int n, int H, int W, int k, float *dx, float *scratch);
void cs_conv2d_backward_input_cnhw_f32__sample_lanes_avx2(const float *dy, const float *w, int Cin,
                                                          int Cout, int n, int H, int W, int k,
                                                          float *dx, float *scratch);
// 16 samples per AVX-512 vector; bit-identical to __sample_lanes_avx2, which it runs without AVX-512F.
void cs_conv2d_backward_input_cnhw_f32__sample_lanes_avx512(const float *dy, const float *w, int Cin,
                                                            int Cout, int n, int H, int W, int k,
                                                            float *dx, float *scratch);

// Weight gradient of this chunk: writes dw[Cout][Cin][k][k] = Σ_pixels dy[co][p]·x[ci][p + tap].
void cs_conv2d_backward_weight_cnhw_f32__ref(const float *x, const float *dy, int Cin, int Cout,
                                             int n, int H, int W, int k, float *dw);
// im2col tiles of `tile` pixels into scratch (≥ Cin·k²·tile floats) and one sgemm per tile
// (dy tile · colᵀ, accumulated into dw in tile order): deterministic for a given shape and tile.
void cs_conv2d_backward_weight_cnhw_f32__im2col_blas(const float *x, const float *dy, int Cin, int Cout,
                                               int n, int H, int W, int k, float *dw,
                                               float *scratch, long tile);
// No BLAS: zero-padded copies of x and dy in scratch, then register-blocked vector sums
// (backward_conv.c). Deterministic for a given shape.
long cs_conv2d_backward_weight_direct_scratch_floats(int Cin, int Cout, int n, int H, int W, int k);
void cs_conv2d_backward_weight_cnhw_f32__direct(const float *x, const float *dy, int Cin, int Cout,
                                                int n, int H, int W, int k, float *dw,
                                                float *scratch);
// k = 3 on CPUs with AVX-512F: 16 samples in the lanes of every vector (backward_weight_lanes.c);
// otherwise __direct. Deterministic for a given shape and CPU (the two paths sum in different
// orders). The engine's weight gradient; scratch: the larger of the two paths' needs.
long cs_conv2d_backward_weight_sample_lanes_scratch_floats(int Cin, int Cout, int n, int H, int W, int k);
void cs_conv2d_backward_weight_cnhw_f32__sample_lanes_avx512(const float *x, const float *dy, int Cin,
                                                             int Cout, int n, int H, int W, int k,
                                                             float *dw, float *scratch);

#ifdef __cplusplus
}
#endif
#endif
