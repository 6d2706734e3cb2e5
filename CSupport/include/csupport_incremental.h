// CSupport: kernels of exact incremental RSO trials (one weight changed), on chunked CNHW planes.
// Layout and conventions: see csupport.h. A "plane" is one channel of a CNHW chunk: [n][H][W],
// contiguous. Stride 1, zero padding k/2, k odd, weights [Cout][Cin][k][k]. Sums are ADDED to, in
// double. Design and error bounds: incremental.c; the math: docs/design.md "Incremental trials".
#ifndef CSUPPORT_INCREMENTAL_H
#define CSUPPORT_INCREMENTAL_H

#ifdef __cplusplus
extern "C" {
#endif

// S = shift(x, ky, kx): S[s][y][x] = x[s][y + ky − k/2][x + kx − k/2] (0 outside the image), the
// plane that tap (ky, kx) of a conv weight multiplies. Adds ΣS to out[0], Σ z·S to out[1] and
// ΣS² to out[2] (z: the conv's output plane of the changed output channel).
void cs_shift_stats_cnhw_f32__ref(const float *x, const float *z, int n, int H, int W, int k, int ky,
                                  int kx, double *out);
void cs_shift_stats_cnhw_f32__tap_range(const float *x, const float *z, int n, int H, int W, int k, int ky,
                                  int kx, double *out);

// y = z + delta · shift(x, ky, kx) over one plane [n][H][W] (one rounding per element).
void cs_shift_axpy_cnhw_f32__ref(const float *z, const float *x, int n, int H, int W, int k, int ky,
                                 int kx, float delta, float *y);
void cs_shift_axpy_cnhw_f32__tap_range(const float *z, const float *x, int n, int H, int W, int k, int ky,
                                 int kx, float delta, float *y);

// One-input-channel convolution added to a full conv output:
//   y[o][·] = z[o][·] + conv(d, w[o][ci][·][·])   for o in 0..<Cout,
// d: [n][H][W] (the change of input channel ci), z, y: [Cout][n·H·W] (y must not alias z or d).
// If sum/sumsq are non-NULL the per-channel sum and sum of squares of y are ADDED to them.
void cs_conv1ch_add_cnhw_f32__ref(const float *d, const float *w, int Cin, int ci, int Cout, int n,
                                  int H, int W, int k, const float *z, float *y, double *sum,
                                  double *sumsq);
void cs_conv1ch_add_cnhw_f32__tap_range(const float *d, const float *w, int Cin, int ci, int Cout, int n,
                                  int H, int W, int k, const float *z, float *y, double *sum,
                                  double *sumsq);
// Rows of ≤ 16 columns in one AVX-512 vector (conv1ch_rows16.c); bit-identical to __tap_range,
// which it runs without AVX-512F.
void cs_conv1ch_add_cnhw_f32__rows_avx512(const float *d, const float *w, int Cin, int ci, int Cout, int n,
                                          int H, int W, int k, const float *z, float *y, double *sum,
                                          double *sumsq);

// out[i] = a[i] − b[i] (the change of one plane). One correctly rounded float subtraction per
// element, the same in any implementation: no variants, so no twin.
void cs_sub_f32(const float *a, const float *b, long L, float *out);

// Classifier-side logit updates (fc_update.c). logits[n][K], x[n][I], w[K][I].
// column_add: logits[j][k] += delta·x[j][i] (x == NULL: += delta, a bias change).
void cs_fc_column_add_f32__ref(float *logits, int n, int K, int k, const float *x, int I, int i,
                               float delta);
void cs_fc_column_add_f32__unfused(float *logits, int n, int K, int k, const float *x, int I, int i,
                                   float delta);
// input_change: logits[j][o] += (xnew[j] − x[j][i])·w[o][i] for every o < K.
void cs_fc_input_change_f32__ref(float *logits, int n, int K, const float *xnew, const float *x, int I,
                                 int i, const float *w);
void cs_fc_input_change_f32__unfused(float *logits, int n, int K, const float *xnew, const float *x,
                                     int I, int i, const float *w);

#ifdef __cplusplus
}
#endif
#endif
