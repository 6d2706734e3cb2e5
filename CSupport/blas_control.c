// OpenBLAS control: configuration string and the (process-wide) BLAS thread count.
//
// The engine owns its threads and calls BLAS from inside its workers, so it sets OpenBLAS to one
// thread once at start-up (cs_blas_set_threads(1)); a multi-threaded pthread OpenBLAS called from
// two workers at once serialises them (docs/toolchain.md).
//
// The three OpenBLAS extensions are declared here rather than through cblas.h, whose include path
// differs between the Debian variants (openblas-pthread / -openmp / -serial).
#include "csupport.h"

extern char *openblas_get_config(void);
extern int openblas_get_num_threads(void);
extern void openblas_set_num_threads(int num_threads);

const char *cs_blas_config(void) {
    const char *config = openblas_get_config();
    return config != NULL ? config : "unknown";
}

int cs_blas_get_threads(void) { return openblas_get_num_threads(); }

// threads ≤ 0 is clamped to 1: OpenBLAS's own handling of < 1 differs between builds.
void cs_blas_set_threads(int threads) { openblas_set_num_threads(threads > 0 ? threads : 1); }
