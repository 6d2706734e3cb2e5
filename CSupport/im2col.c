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
//   __flat_copy  per patch row (c, ky, kx) and sample: the shift (dy, dx) is a constant offset dy·W + dx
//          in the flattened H·W plane, so the sample's part of the row is one contiguous copy, with
//          zero fills for output rows whose source row is outside the image, then the |dx| border
//          columns of each row (which the flat copy filled with wrapped-around neighbours) zeroed.
//          One long run per sample instead of one short run per image row (for 28×28 images the
//          plain per-image-row variant was measured ~1.2–1.5× slower at tiles of 256–512 pixels).
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

static inline long clampl(long v, long lo, long hi) { return v < lo ? lo : (v > hi ? hi : v); }

// One patch row of col: the input channel plane `xc` ([n][H][W]) shifted by (dy, dx), for output
// pixels [p0, p1). Within one sample the shift is a constant offset dy·W + dx in the flattened
// H·W plane, so each sample's part is ONE contiguous copy (rows whose source row is outside the
// image are zero-filled instead), followed by zeroing the |dx| wrapped-around border columns of
// every row: long memcpy/memset runs instead of one short run per image row.
static void im2col_row(const float *xc, int H, int W, int dy, int dx, long p0, long p1,
                       float *restrict out) {
    const long HW = (long)H * W;
    const long off = (long)dy * W + dx;
    // Output rows oy with 0 ≤ oy + dy < H: local pixels [ra, rb) of a sample.
    const long ra = clampl(-(long)dy, 0, H) * W;
    const long rb = clampl((long)H - dy, 0, H) * W;
    // Output columns with ox + dx outside [0, W): [0, zl) and [zr, W).
    const long zl = clampl(-(long)dx, 0, W);
    const long zr = clampl((long)W - dx, 0, W);
    long p = p0;
    while (p < p1) {
        const long s = p / HW;
        const long q0 = p - s * HW;                         // local pixel range [q0, q1) of sample s
        const long q1 = (p1 - p < HW - q0) ? q0 + (p1 - p) : HW;
        const float *xs = xc + s * HW;
        const long base = (p - p0) - q0;                    // out[base + q]: slot of local pixel q
        const long a = clampl(ra, q0, q1);
        const long b = clampl(rb, a, q1);
        // [q0, a) and [b, q1): source row outside the image.
        for (long q = q0; q < a; q++) out[base + q] = 0.0f;
        for (long q = b; q < q1; q++) out[base + q] = 0.0f;
        if (a < b) {
            // Copy where the shifted index stays inside this sample's plane; the few pixels of
            // [a, b) it leaves out are border columns, zeroed below.
            const long ca = clampl(-off, a, b);
            const long cb = clampl(HW - off, ca, b);
            for (long q = a; q < ca; q++) out[base + q] = 0.0f;
#pragma omp simd
            for (long q = ca; q < cb; q++) out[base + q] = xs[q + off];
            for (long q = cb; q < b; q++) out[base + q] = 0.0f;
            if (zl > 0 || zr < W) {
                for (long r = a / W; r * W < b; r++) {
                    const long row = base + r * W;  // out[row + j]: column j of image row r
                    const long lo = clampl(a - r * W, 0, W), hi = clampl(b - r * W, 0, W);
                    for (long j = lo; j < hi && j < zl; j++) out[row + j] = 0.0f;
                    for (long j = (zr > lo ? zr : lo); j < hi; j++) out[row + j] = 0.0f;
                }
            }
        }
        p += q1 - q0;
    }
}

void cs_im2col_cnhw_f32__flat_copy(const float *x, int C, int n, int H, int W, int k,
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
