// CSupport: kernels of the output cache (layer d's pre-BN output for the whole training set, see
// docs/design.md "Output caching"). Cached rows are per sample, [C][H][W] each; the plane of
// channel c of sample s starts at rows + s·stride + c·H·W. Sums are ADDED to, in double.
#ifndef CSUPPORT_OUTPUT_CACHE_H
#define CSUPPORT_OUTPUT_CACHE_H

#ifdef __cplusplus
extern "C" {
#endif

// In place, for s in 0..<n: y_s = y_s + delta · shift(x_s, ky, kx), y_s = y + s·ystride and
// x_s = x + s·xstride single [H][W] planes (zero padding k/2). The arithmetic of
// cs_shift_axpy_cnhw_f32 (same twin, same rounding), so a patched plane is bit for bit the plane
// the accepted trial evaluated. y and x must not overlap.
void cs_shift_axpy_rows_f32__ref(float *y, long ystride, const float *x, long xstride, int n, int H,
                                 int W, int k, int ky, int kx, float delta);
void cs_shift_axpy_rows_f32__tap_range(float *y, long ystride, const float *x, long xstride, int n,
                                       int H, int W, int k, int ky, int kx, float delta);

// Per-channel sum and sum of squares of z[C][L], ADDED to sum[C] and sumsq[C] (BN statistics of
// a chunk gathered from the cache).
void cs_channel_sums_f32__ref(const float *z, int C, long L, double *sum, double *sumsq);
void cs_channel_sums_f32__simd(const float *z, int C, long L, double *sum, double *sumsq);

#ifdef __cplusplus
}
#endif

#endif
