// Large activation buffers backed by transparent huge pages where the kernel allows them.
//
// Why: a trial gathers thousands of random rows from caches of several GB and streams channel
// planes of batch-wide tensors; with 4 KB pages nearly every row and plane costs TLB misses.
// Where THP is in "madvise" mode (the default on Debian), pages are huge only on request.
// The request is advice: where it is refused the buffer is an ordinary one, with the same bytes.
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>

#include "csupport.h"

#define HUGE_PAGE_BYTES (2L << 20)

float *cs_alloc_floats_huge(long count) {
    if (count <= 0) count = 1;
    const size_t bytes = (size_t)count * sizeof(float);
    void *p = NULL;
    if (bytes < (size_t)HUGE_PAGE_BYTES) return malloc(bytes);  // small: not worth a huge page
    const size_t rounded = (bytes + HUGE_PAGE_BYTES - 1) / HUGE_PAGE_BYTES * HUGE_PAGE_BYTES;
    if (posix_memalign(&p, HUGE_PAGE_BYTES, rounded) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, rounded, MADV_HUGEPAGE);  // advice only: ignored where THP is off
#endif
    return p;
}

void cs_free_floats_huge(float *p) { free(p); }
