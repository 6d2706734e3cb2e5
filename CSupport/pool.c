// Average pooling on chunked CNHW tensors.
//
// Shapes: avgpool2   x[C][n][H][W] → y[C][n][H/2][W/2], 2×2 windows, stride 2, floor (an odd last
//                    row / column is dropped, as in PyTorch's AvgPool2d(2)).
//         global     x[C][n][HW]   → y[n][C]: per-sample rows, the layout the FC layer reads.
//
// Intent:
//   __ref  plain loops, sums in double, one rounding per output.
//   __simd_f32  avgpool2: one `omp simd` loop per output row over the two input rows (stride-2 loads),
//          computing 0.25·((x00 + x01) + (x10 + x11)) in float: ≤ 3 roundings of partial sums.
//          global: one float `omp simd` sum per (channel, sample) row of HW values; the result is
//          written transposed into y[s][C] (C·n scattered stores, negligible next to C·n·HW loads).
#include "csupport.h"

void cs_avgpool2_cnhw_f32__ref(const float *x, int C, int n, int H, int W, float *y) {
    const int Ho = H / 2, Wo = W / 2;
    for (long cs = 0; cs < (long)C * n; cs++) {  // (channel, sample) planes, consecutive in CNHW
        const float *xp = x + cs * H * W;
        float *yp = y + cs * Ho * Wo;
        for (int oy = 0; oy < Ho; oy++) {
            for (int ox = 0; ox < Wo; ox++) {
                double acc = 0.0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++)
                        acc += (double)xp[(long)(2 * oy + dy) * W + 2 * ox + dx];
                yp[(long)oy * Wo + ox] = (float)(0.25 * acc);
            }
        }
    }
}

void cs_avgpool2_cnhw_f32__simd_f32(const float *x, int C, int n, int H, int W, float *y) {
    const int Ho = H / 2, Wo = W / 2;
    for (long cs = 0; cs < (long)C * n; cs++) {
        const float *xp = x + cs * H * W;
        float *yp = y + cs * Ho * Wo;
        for (int oy = 0; oy < Ho; oy++) {
            const float *r0 = xp + (long)(2 * oy) * W;
            const float *r1 = r0 + W;
            float *o = yp + (long)oy * Wo;
#pragma omp simd
            for (int ox = 0; ox < Wo; ox++) {
                o[ox] = 0.25f * ((r0[2 * ox] + r0[2 * ox + 1]) + (r1[2 * ox] + r1[2 * ox + 1]));
            }
        }
    }
}

void cs_global_avgpool_cnhw_f32__ref(const float *x, int C, int n, long HW, float *y) {
    for (int c = 0; c < C; c++) {
        for (int s = 0; s < n; s++) {
            const float *r = x + ((long)c * n + s) * HW;
            double acc = 0.0;
            for (long i = 0; i < HW; i++) acc += (double)r[i];
            y[(long)s * C + c] = HW > 0 ? (float)(acc / (double)HW) : 0.0f;
        }
    }
}

void cs_global_avgpool_cnhw_f32__simd_f32(const float *x, int C, int n, long HW, float *y) {
    const float inv = HW > 0 ? (float)(1.0 / (double)HW) : 0.0f;
    for (int c = 0; c < C; c++) {
        for (int s = 0; s < n; s++) {
            const float *r = x + ((long)c * n + s) * HW;
            float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
            for (long i = 0; i < HW; i++) acc += r[i];
            y[(long)s * C + c] = acc * inv;
        }
    }
}
