// im2col for chunked CNHW tensors.
//
// Shapes: x[C][n][H][W]  →  col[C·k·k][p1 − p0], row (c·k + ky)·k + kx, column p − p0, for the
// output pixels p ∈ [p0, p1) of the chunk's P = n·H·W pixels, p = (s·H + oy)·W + ox.
// col[(c,ky,kx)][p − p0] = x[c][s][oy + ky − k/2][ox + kx − k/2], 0 outside the image
// (stride 1, "same" zero padding, k odd).
//
// Intent: feed cblas_sgemm one tile of output pixels at a time (see conv.c), so the patch matrix of
// a tile (Cin·k²·tile floats) stays in L2 while the product and the BN statistics run over it.
//   __ref  decodes every (row, pixel) pair on its own: obviously correct, slow.
//   __opt  walks each patch row as runs of output-image rows: per run, a zero prefix, one contiguous
//          shifted copy of an input row, a zero suffix (or all zeros when the input row is outside
//          the image). The division p → (s, oy, ox) happens once per row of col, not per element.
// Both write every element of col (no pre-zeroing required of the caller).
#include "csupport.h"

void cs_im2col_cnhw_f32__ref(const float *x, int C, int n, int H, int W, int k,
                             long p0, long p1, float *col) {
    const int pad = k / 2;
    const long HW = (long)H * W;
    const long cols = p1 - p0;
    for (int c = 0; c < C; c++) {
        for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
                float *row = col + ((long)(c * k + ky) * k + kx) * cols;
                for (long p = p0; p < p1; p++) {
                    const long s = p / HW;
                    const long rem = p % HW;
                    const long oy = rem / W;
                    const long ox = rem % W;
                    const long iy = oy + ky - pad;
                    const long ix = ox + kx - pad;
                    float v = 0.0f;
                    if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
                        v = x[(((long)c * n + s) * H + iy) * W + ix];
                    }
                    row[p - p0] = v;
                }
            }
        }
    }
}

// One patch row of col: the values of input channel plane `xc` ([n][H][W]) shifted by (dy, dx),
// for output pixels [p0, p1).
static void im2col_row(const float *xc, int H, int W, int dy, int dx, long p0, long p1,
                       float *restrict out) {
    const long HW = (long)H * W;
    long s = p0 / HW;
    long oy = (p0 % HW) / W;
    long ox = p0 % W;
    // Columns ox with 0 ≤ ox + dx < W, i.e. [lo, hi), are copies; the rest are zero padding.
    const long lo = dx < 0 ? -dx : 0;
    const long hi = dx > 0 ? W - dx : W;
    long p = p0;
    while (p < p1) {
        long end = p1 - p + ox;  // last output column (exclusive) of this run
        if (end > W) end = W;
        const long iy = oy + dy;
        float *o = out + (p - p0) - ox;  // o[ox'] is the slot of output column ox' of this run
        if (iy < 0 || iy >= H || lo >= hi) {
#pragma omp simd
            for (long j = ox; j < end; j++) o[j] = 0.0f;
        } else {
            const float *src = xc + (s * H + iy) * W + dx;  // src[ox'] = x[.., iy, ox' + dx]
            const long a = ox > lo ? ox : lo;
            const long b = end < hi ? end : hi;
            for (long j = ox; j < a && j < end; j++) o[j] = 0.0f;
#pragma omp simd
            for (long j = a; j < b; j++) o[j] = src[j];
            for (long j = (b > ox ? b : ox); j < end; j++) o[j] = 0.0f;
        }
        p += end - ox;
        ox = 0;
        if (++oy == H) {
            oy = 0;
            s++;
        }
    }
}

void cs_im2col_cnhw_f32__opt(const float *x, int C, int n, int H, int W, int k,
                             long p0, long p1, float *col) {
    const int pad = k / 2;
    const long plane = (long)n * H * W;
    const long cols = p1 - p0;
    if (cols <= 0) return;
    for (int c = 0; c < C; c++) {
        const float *xc = x + (long)c * plane;
        for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
                float *row = col + ((long)(c * k + ky) * k + kx) * cols;
                im2col_row(xc, H, W, ky - pad, kx - pad, p0, p1, row);
            }
        }
    }
}
