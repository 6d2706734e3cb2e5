// Machine ceilings for the roofline: an FMA throughput loop and STREAM-style bandwidth loops.
//
// Shapes: FMA loop — registers only (no memory traffic); stream kernels — float arrays,
// elements [begin, end) (the caller gives each worker its own range of arrays ≫ last-level cache).
//
// Intent:
//   * FMA peak: Zen 3 issues 2 × 256-bit FMAs per cycle with 4 cycles latency, so at least 8
//     independent chains are needed to keep both pipes busy; 12 chains (12 of the 16 ymm
//     registers, plus 2 for the constants) leave margin without spilling. Each iteration is 12
//     vfmadd231ps = 12 · 8 · 2 = 192 FLOPs. acc·m + a with m < 1 converges to a/(1 − m): no
//     overflow, no denormals, whatever the iteration count.
//   * The kernel carries __attribute__((target("avx2,fma"))) so it is AVX2 even in debug builds
//     (which have no -mavx2); callers check cs_peak_fma_available() at run time.
//   * Triad / sum: the compulsory traffic of a streaming loop. Sum uses 4 ymm accumulators (AVX2
//     under the same target attribute) so it is bound by loads, not by the add latency. Release
//     builds vectorise the triad (-O3 -mavx2); debug numbers mean nothing (measure release only).
#include "csupport_peaks.h"
#include "csupport_conv_sample_lanes.h"  // cs_cpu_has_avx512f

#include <immintrin.h>

int cs_peak_fma_available(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) static double fma_loop(long iters, float *sink) {
    const __m256 m = _mm256_set1_ps(0.999999f);
    const __m256 a = _mm256_set1_ps(1e-6f);
    __m256 r0 = _mm256_set1_ps(0.0f), r1 = _mm256_set1_ps(0.1f), r2 = _mm256_set1_ps(0.2f);
    __m256 r3 = _mm256_set1_ps(0.3f), r4 = _mm256_set1_ps(0.4f), r5 = _mm256_set1_ps(0.5f);
    __m256 r6 = _mm256_set1_ps(0.6f), r7 = _mm256_set1_ps(0.7f), r8 = _mm256_set1_ps(0.8f);
    __m256 r9 = _mm256_set1_ps(0.9f), r10 = _mm256_set1_ps(1.0f), r11 = _mm256_set1_ps(1.1f);
    for (long i = 0; i < iters; i++) {
        r0 = _mm256_fmadd_ps(r0, m, a);
        r1 = _mm256_fmadd_ps(r1, m, a);
        r2 = _mm256_fmadd_ps(r2, m, a);
        r3 = _mm256_fmadd_ps(r3, m, a);
        r4 = _mm256_fmadd_ps(r4, m, a);
        r5 = _mm256_fmadd_ps(r5, m, a);
        r6 = _mm256_fmadd_ps(r6, m, a);
        r7 = _mm256_fmadd_ps(r7, m, a);
        r8 = _mm256_fmadd_ps(r8, m, a);
        r9 = _mm256_fmadd_ps(r9, m, a);
        r10 = _mm256_fmadd_ps(r10, m, a);
        r11 = _mm256_fmadd_ps(r11, m, a);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(r0, r1), _mm256_add_ps(r2, r3)),
                             _mm256_add_ps(_mm256_add_ps(r4, r5), _mm256_add_ps(r6, r7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(r8, r9), _mm256_add_ps(r10, r11)));
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    float total = 0.0f;
    for (int j = 0; j < 8; j++) total += lanes[j];
    if (sink) *sink = total;
    return 2.0 * 8.0 * CS_PEAK_FMA_CHAINS * (double)iters;
}
#endif

#if defined(__x86_64__)
// The AVX-512 roof: 16 chains of 16-wide FMAs (the engine's 16-lane kernels keep up to 24
// accumulators; 16 of the 32 zmm registers cover 2 FMA pipes × 4 cycles of latency twice).
__attribute__((target("avx512f"))) static double fma_loop512(long iters, float *sink) {
    const __m512 m = _mm512_set1_ps(0.999999f);
    const __m512 a = _mm512_set1_ps(1e-6f);
    __m512 r[CS_PEAK_FMA512_CHAINS];
    for (int j = 0; j < CS_PEAK_FMA512_CHAINS; j++) r[j] = _mm512_set1_ps(0.1f * (float)j);
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < CS_PEAK_FMA512_CHAINS; j++) r[j] = _mm512_fmadd_ps(r[j], m, a);
    __m512 s = r[0];
    for (int j = 1; j < CS_PEAK_FMA512_CHAINS; j++) s = _mm512_add_ps(s, r[j]);
    float lanes[16];
    _mm512_storeu_ps(lanes, s);
    float total = 0.0f;
    for (int j = 0; j < 16; j++) total += lanes[j];
    if (sink) *sink = total;
    return 2.0 * 16.0 * CS_PEAK_FMA512_CHAINS * (double)iters;
}
#endif

double cs_peak_fma_f32__avx512(long iters, float *sink) {
#if defined(__x86_64__)
    if (iters <= 0 || !cs_cpu_has_avx512f()) return 0.0;
    return fma_loop512(iters, sink);
#else
    (void)iters;
    (void)sink;
    return 0.0;
#endif
}

double cs_peak_fma_f32__avx2(long iters, float *sink) {
#if defined(__x86_64__) || defined(__i386__)
    if (iters <= 0 || !cs_peak_fma_available()) return 0.0;
    return fma_loop(iters, sink);
#else
    (void)iters;
    (void)sink;
    return 0.0;
#endif
}

void cs_stream_triad_f32(float *a, const float *b, const float *c, float s, long begin, long end) {
#pragma omp simd
    for (long i = begin; i < end; i++) a[i] = b[i] + s * c[i];
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static double sum_avx2(const float *a, long begin, long end) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    long i = begin;
    for (; i + 32 <= end; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(a + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(a + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(a + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(a + i + 24));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    double total = 0.0;
    for (int j = 0; j < 8; j++) total += lanes[j];
    for (; i < end; i++) total += a[i];
    return total;
}
#endif

double cs_stream_sum_f32(const float *a, long begin, long end) {
#if defined(__x86_64__) || defined(__i386__)
    if (cs_peak_fma_available()) return sum_avx2(a, begin, end);
#endif
    double total = 0.0;
    for (long i = begin; i < end; i++) total += a[i];
    return total;
}

void cs_stream_fill_f32(float *a, float v, long begin, long end) {
#pragma omp simd
    for (long i = begin; i < end; i++) a[i] = v;
}
