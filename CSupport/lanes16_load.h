// Loading 16 samples of a CNHW tensor into the lanes of AVX-512 vectors, shared by the kernels
// that keep one pixel of 16 samples per vector (conv_sample_lanes16.c, backward_weight_lanes.c).
// The loader is compiled on x86-64 only.
#ifndef LANES16_LOAD_H
#define LANES16_LOAD_H

#define LANES16 16  // samples per vector

// Floats from one channel plane to the next for `pixels` pixels of 16 lanes: an odd number of
// 64-byte lines, so that the planes read together fall into different L1 sets.
static inline long lanes16_plane_stride(long pixels) { return (pixels % 2 == 0 ? pixels + 1 : pixels) * LANES16; }

#if defined(__x86_64__)
#include <immintrin.h>

#include "lanes_transpose.h"

#define AVX512_FN __attribute__((target("avx512f,avx2,fma")))
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx512f,avx2,fma")))

// dst[c][pixel (y, x)][s] = src[c][s][y][x] for s < ns, 0 for ns ≤ s < 16, with C channels
// `cstep` floats apart in src and `dstride` apart in dst (64-byte aligned); the pixel (y, x)
// lands at line (y + pad)·Wp + x + pad of its plane (interiors only: pad lines are left as they
// are). Two 8×8 register transposes per 8 pixels; a scalar tail when H·W is not a multiple of 8.
AVX512_INLINE void lanes16_load_group(
    const float *src, long cstep, int C, long HW, int W, int ns, int pad, int Wp, long dstride, float *dst) {
    for (int c = 0; c < C; c++) {
        const float *s0 = src + c * cstep;
        float *d = dst + c * dstride;
        long q = 0, y = 0, x = 0;
        for (; q + 8 <= HW; q += 8) {
            __m256 r[2][8];
            for (int h = 0; h < 2; h++) {
                for (int s = 0; s < 8; s++)
                    r[h][s] = 8 * h + s < ns ? _mm256_loadu_ps(s0 + (8 * h + s) * HW + q) : _mm256_setzero_ps();
                transpose8x8(r[h]);
            }
            for (int i = 0; i < 8; i++) {
                float *p = d + ((y + pad) * Wp + x + pad) * LANES16;
                _mm256_store_ps(p, r[0][i]);
                _mm256_store_ps(p + 8, r[1][i]);
                if (++x == W) { x = 0; y++; }
            }
        }
        for (; q < HW; q++) {
            float *p = d + ((y + pad) * Wp + x + pad) * LANES16;
            for (int s = 0; s < LANES16; s++) p[s] = s < ns ? s0[s * HW + q] : 0.0f;
            if (++x == W) { x = 0; y++; }
        }
    }
}
#endif
#endif
