// CSupport peaks: measurement kernels for the machine's compute and memory ceilings (roofline).
//
// Kept out of csupport.h on purpose: these kernels compute nothing the engine uses; `rso bench`
// runs them to normalise kernel throughput to what this machine can do.
//
// CONVENTIONS (as csupport.h): single-threaded, range-based; the Swift side runs one copy per
// worker to measure all cores. Nothing here allocates or spawns threads.
#ifndef CSUPPORT_PEAKS_H
#define CSUPPORT_PEAKS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Compute peak
// Runs `iters` iterations of CS_PEAK_FMA_CHAINS independent 8-wide float FMA chains
// (acc = acc·m + a) and returns the FLOPs done: 2 · 8 · CS_PEAK_FMA_CHAINS · iters (0 when the
// CPU lacks AVX2/FMA: check cs_peak_fma_available first). *sink receives a value derived from
// every accumulator so the loop cannot be removed.
#define CS_PEAK_FMA_CHAINS 12
double cs_peak_fma_f32__avx2(long iters, float *sink);
// 1 when this CPU executes AVX2 + FMA (runtime check; the kernel is compiled for AVX2 whatever the
// build flags, so debug builds have it too).
int cs_peak_fma_available(void);

// The same with CS_PEAK_FMA512_CHAINS 16-wide chains: 2 · 16 · CS_PEAK_FMA512_CHAINS · iters
// FLOPs (0 without AVX-512F: check cs_cpu_has_avx512f). On CPUs that have it this is the
// roof of the engine's 16-lane kernels (conv_sample_lanes16.c, backward_weight_lanes.c).
#define CS_PEAK_FMA512_CHAINS 16
double cs_peak_fma_f32__avx512(long iters, float *sink);

// MARK: - Memory bandwidth (STREAM-style), elements [begin, end)
// Triad a[i] = b[i] + s·c[i]. Bytes counted as STREAM does: 3 · 4 per element (two reads and
// one write; the write-allocate read of a is not counted).
void cs_stream_triad_f32(float *a, const float *b, const float *c, float s, long begin, long end);
// Read-only sum of a[begin, end) (4 bytes per element); the value is returned so the reads stay.
double cs_stream_sum_f32(const float *a, long begin, long end);
// a[i] = v: first touch of the arrays by the thread that will stream them.
void cs_stream_fill_f32(float *a, float v, long begin, long end);

#ifdef __cplusplus
}
#endif
#endif
