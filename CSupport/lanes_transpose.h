// The 8×8 register transpose shared by the kernels that keep samples in vector lanes
// (conv_sample_lanes.c, backward_weight_lanes.c). x86-64 only; include inside `#if __x86_64__`.
#ifndef LANES_TRANSPOSE_H
#define LANES_TRANSPOSE_H

#include <immintrin.h>

// r[i][j] ← r[j][i].
static inline __attribute__((always_inline, target("avx2,fma"))) void transpose8x8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int h = 0; h < 8; h += 4)
        for (int i = 0; i < 2; i++) {
            u[h + 2 * i] = _mm256_shuffle_ps(t[h + i], t[h + i + 2], _MM_SHUFFLE(1, 0, 1, 0));
            u[h + 2 * i + 1] = _mm256_shuffle_ps(t[h + i], t[h + i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}
#endif
