// The one OpenMP entry point of CSupport: the chunks of a parallel region on an OpenMP team
// (`--scheduler openmp`, Sources/RSOEngine/Execution/OpenMPScheduler.swift).
//
// cs_parallel_for(count, threads, body, ctx) runs body(ctx, i) for every i in [0, count) on an
// OpenMP team of `threads` threads (≤ 0: the runtime default, omp_get_max_threads()). The schedule
// is static, so the split of indices between threads depends only on (count, threads): a caller
// whose per-index work is deterministic gets the same result on every run.
//
// Only drive it from ONE thread (the Swift main/driver thread): every Swift worker that entered a
// parallel region would become its own OpenMP root with a full team (see docs/toolchain.md).
// Static schedule only: clang ≥ 19 emits __kmpc_dispatch_deinit after dynamic schedules, which
// Debian's libomp 14 does not provide.
#include <omp.h>

#include "csupport.h"

void cs_parallel_for(long count, int threads, cs_index_body body, void *ctx) {
    if (count <= 0 || body == NULL) return;
    int team = threads > 0 ? threads : omp_get_max_threads();
    if (team < 1) team = 1;
    if ((long)team > count) team = (int)count;  // no idle threads for tiny loops
    if (team == 1) {
        for (long i = 0; i < count; i++) body(ctx, i);
        return;
    }
#pragma omp parallel for schedule(static) num_threads(team)
    for (long i = 0; i < count; i++) {
        body(ctx, i);
    }
}

int cs_omp_max_threads(void) { return omp_get_max_threads(); }

int cs_omp_proc_bind(void) { return (int)omp_get_proc_bind(); }

int cs_omp_num_places(void) { return omp_get_num_places(); }
