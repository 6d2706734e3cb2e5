// What the sample-lanes convs (conv_sample_lanes.c: 8 lanes; conv_sample_lanes16.c: 16) share:
// the weight packing and the statistics' per-pixel step and final reduction (which must be the
// same in both for their results to agree bit for bit), and the prefetch of the next group.
#ifndef SAMPLE_LANES_COMMON_H
#define SAMPLE_LANES_COMMON_H

// wp[block][ci][t][r] = w[block·R + r][ci][t] for blocks of R output channels, 0 past Cout
// (Coutr = R·⌈Cout/R⌉, kk = k² taps).
static inline void sample_lanes_pack_weights(const float *w, int Cin, int Cout, int Coutr, int kk, int R,
                                             float *wp) {
    for (int co0 = 0; co0 < Coutr; co0 += R)
        for (int ci = 0; ci < Cin; ci++)
            for (int t = 0; t < kk; t++)
                for (int r = 0; r < R; r++)
                    wp[(((long)co0 * Cin + (long)ci * R) * kk) + (long)t * R + r] =
                        co0 + r < Cout ? w[((long)(co0 + r) * Cin + ci) * kk + t] : 0.0f;
}

// ADDS the 4-lane sums acc[co] and sums of squares acc[Coutr + co] (4 doubles each) to sum[co] /
// sumsq[co] (either may be NULL).
static inline void sample_lanes_finish_stats(const double *acc, int Cout, int Coutr, double *sum,
                                             double *sumsq) {
    for (int co = 0; co < Cout; co++) {
        const double *a = acc + 4 * co, *b = acc + 4 * (Coutr + co);
        if (sum) sum[co] += (a[0] + a[1]) + (a[2] + a[3]);
        if (sumsq) sumsq[co] += (b[0] + b[1]) + (b[2] + b[3]);
    }
}

// Prefetches the next group's input (Cin runs of ns·H·W floats, n·H·W apart) into L2, a few lines
// per call (one call per pixel block), so that its transposition does not wait on memory:
// streaming a batch through, the transpositions stalled on cache misses (measured ~20% slower
// than on a cache-resident chunk).
typedef struct {
    const char *base;  // channel 0 of the next group
    long run, step;    // bytes per channel run, bytes from one channel to the next
    long lines, per;   // cache lines still to prefetch, lines per call
    long ci, off;      // the cursor
} sample_lanes_prefetch;

// The group of ≤ `lanes` samples from s0 (nothing when s0 ≥ n), spread over `calls` calls.
static inline sample_lanes_prefetch sample_lanes_prefetch_group(const float *x, int Cin, int n, long HW, int s0,
                                                                int lanes, long calls) {
    sample_lanes_prefetch p = {0};
    if (s0 >= n) return p;
    const int ns = n - s0 < lanes ? n - s0 : lanes;
    p.base = (const char *)(x + (long)s0 * HW);
    p.run = (long)ns * HW * (long)sizeof(float);
    p.step = (long)n * HW * (long)sizeof(float);
    p.lines = Cin * ((p.run + 63) / 64);
    p.per = (p.lines + calls - 1) / calls;
    return p;
}

static inline void sample_lanes_prefetch_some(sample_lanes_prefetch *p) {
    for (long i = 0; i < p->per && p->lines > 0; i++, p->lines--) {
        __builtin_prefetch(p->base + p->ci * p->step + p->off, 0, 2);  // prefetcht1: into L2
        p->off += 64;
        if (p->off >= p->run) { p->off = 0; p->ci++; }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

// Adds one pixel's 8 lanes r (invalid lanes already zeroed) to the 4-double-lane sum s1 and sum of
// squares s2: the two 4-sample halves widened, added, then accumulated; the sums of squares by FMA.
static inline __attribute__((always_inline, target("avx2,fma"))) void sample_lanes_stats_add(__m256 r, __m256d *s1,
                                                                                              __m256d *s2) {
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(r));
    const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(r, 1));
    *s1 = _mm256_add_pd(*s1, _mm256_add_pd(lo, hi));
    *s2 = _mm256_fmadd_pd(lo, lo, *s2);
    *s2 = _mm256_fmadd_pd(hi, hi, *s2);
}
#endif
#endif
