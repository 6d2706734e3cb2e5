// Logit updates of incremental trials on the classifier side: when one FC parameter, or one FC
// input feature, changes, only part of the logits move and the rest of the forward is not rerun.
//
// Shapes: logits[n][K], features x[n][I], FC weights w[K][I] (per-sample rows, as cs_fc_f32).
//   column_add    logits[j][k] += delta·x[j][i] for j < n (x == NULL: += delta, a bias change).
//   input_change  logits[j][o] += (xnew[j] − x[j][i])·w[o][i] for j < n, o < K: feature i of every
//                 sample became xnew[j] (a conv channel changed by a trial, after global pooling).
//
// Intent:
//   __ref      plain loops in double, one rounding per logit: the yardstick.
//   __unfused  float arithmetic, each product rounded to float before it is added (no FMA): the
//              operations the engine's trials have always performed, so their accept/reject
//              decisions and checkpoints are unchanged. The release build passes -ffp-contract=fast,
//              which fuses across statements and ignores `#pragma clang fp contract`; an empty asm
//              on the rounded product keeps it a separate float.
// Error of __unfused vs exact (u = 2⁻²⁴): column_add ≤ u·|δ·x| + u·|result|; input_change
// ≤ 2u·|(xnew − x)·w| + u·|result| per term added (the difference, the product, the sum).
#include "csupport.h"
#include "csupport_incremental.h"

// The float `v`, already rounded, opaque to the optimiser so it cannot fuse it into an add.
static inline float rounded(float v) {
#if defined(__x86_64__)
    __asm__("" : "+x"(v));
#elif defined(__aarch64__)
    __asm__("" : "+w"(v));
#else
    volatile float t = v;
    v = t;
#endif
    return v;
}

void cs_fc_column_add_f32__ref(float *logits, int n, int K, int k, const float *x, int I, int i,
                               float delta) {
    for (int j = 0; j < n; j++) {
        const double add = x ? (double)delta * (double)x[(long)j * I + i] : (double)delta;
        logits[(long)j * K + k] = (float)((double)logits[(long)j * K + k] + add);
    }
}

void cs_fc_column_add_f32__unfused(float *logits, int n, int K, int k, const float *x, int I, int i,
                                   float delta) {
    if (!x) {
        for (int j = 0; j < n; j++) logits[(long)j * K + k] += delta;
        return;
    }
    for (int j = 0; j < n; j++) logits[(long)j * K + k] += rounded(delta * x[(long)j * I + i]);
}

void cs_fc_input_change_f32__ref(float *logits, int n, int K, const float *xnew, const float *x, int I,
                                 int i, const float *w) {
    for (int j = 0; j < n; j++) {
        const double d = (double)xnew[j] - (double)x[(long)j * I + i];
        for (int o = 0; o < K; o++) {
            const long at = (long)j * K + o;
            logits[at] = (float)((double)logits[at] + d * (double)w[(long)o * I + i]);
        }
    }
}

void cs_fc_input_change_f32__unfused(float *logits, int n, int K, const float *xnew, const float *x,
                                     int I, int i, const float *w) {
    for (int j = 0; j < n; j++) {
        const float d = xnew[j] - x[(long)j * I + i];
        for (int o = 0; o < K; o++) logits[(long)j * K + o] += rounded(d * w[(long)o * I + i]);
    }
}
