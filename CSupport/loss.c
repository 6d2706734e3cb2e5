// Softmax cross-entropy and accuracy over per-sample logits.
//
// Shapes: logits[n][K], labels[n] ∈ 0..<K  →  returns Σ_s (logsumexp(logits[s]) − logits[s][label])
// (double) and *correct = #{s : argmax(logits[s]) == label}, argmax = FIRST maximum on ties.
//
// Intent: the loss is what RSO compares between trials, so it is computed in double, stabilised
// with the row maximum m: lse = m + log Σ exp(l − m) (every exponent ≤ 0: no overflow for any
// finite float logit, and the Σ ≥ 1 so the log is finite). Each loss is formed as
// (m − l[label]) + log Σ: the difference of two floats is exact in double unless their magnitudes
// are > 2²⁹ apart, so a row of huge equal logits (−3e38, …) still gives log K instead of losing it
// to the rounding of m + log Σ. A label outside 0..<K is a contract violation; both twins then
// skip the sample (loss 0, not correct) rather than read out of bounds.
// Only __ref exists: one scalar pass for max/argmax, one for Σ exp. With K ≈ 10 nothing here is
// worth vectorising (clang will not vectorise the double exp loop without a vector math library),
// and an "optimised" copy measured no faster, so both kernel sets call __ref.
#include <math.h>

#include "csupport.h"

double cs_softmax_xent_f32__ref(const float *logits, const uint8_t *labels, int n, int K,
                                int *correct) {
    double total = 0.0;
    int right = 0;
    for (int s = 0; s < n; s++) {
        const float *l = logits + (long)s * K;
        const int label = labels[s];
        if (K <= 0 || label >= K) continue;
        int best = 0;
        for (int j = 1; j < K; j++)
            if (l[j] > l[best]) best = j;  // strict: the first maximum wins
        const double m = (double)l[best];
        double se = 0.0;
        for (int j = 0; j < K; j++) se += exp((double)l[j] - m);
        total += (m - (double)l[label]) + log(se);
        if (best == label) right++;
    }
    if (correct) *correct = right;
    return total;
}
