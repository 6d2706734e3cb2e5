// The statistics of cs_conv1ch_add's output channel in an order both of its optimised variants
// (incremental.c, conv1ch_rows16.c) follow exactly, so they agree bit for bit: a row's values in
// blocks of 8 columns (the last zero-filled), column c of a block into lane c mod 8 of 8 double
// sums (Σv, Σv² with one FMA), rows in order; the 8 lanes added in a fixed tree at the end. Each
// lane's sequence of operations is fixed, however a compiler vectorises the loops over lanes.
#ifndef CONV1CH_LANES_H
#define CONV1CH_LANES_H

#include <math.h>
#include <stddef.h>

#define CONV1CH_LANES 8

typedef struct {
    double s1[CONV1CH_LANES], s2[CONV1CH_LANES];
} conv1ch_lanes;

// Adds the block v[0 ..< min(count, 8)] (zeros past count).
static inline void conv1ch_lanes_add(conv1ch_lanes *a, const float *v, int count) {
    for (int l = 0; l < CONV1CH_LANES; l++) {
        const double x = l < count ? (double)v[l] : 0.0;
        a->s1[l] += x;
        a->s2[l] = fma(x, x, a->s2[l]);
    }
}

static inline double conv1ch_lanes_tree(const double *l) {
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

// ADDS the lane totals to *sum / *sumsq (each may be NULL).
static inline void conv1ch_lanes_finish(const conv1ch_lanes *a, double *sum, double *sumsq) {
    if (sum) *sum += conv1ch_lanes_tree(a->s1);
    if (sumsq) *sumsq += conv1ch_lanes_tree(a->s2);
}
#endif
