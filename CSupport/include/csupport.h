// CSupport: the compute kernels under the RSO engine.
//
// TENSOR LAYOUT — "chunked CNHW".
// The engine cuts every batch into fixed-size chunks of n samples. Inside a chunk an activation
// tensor is stored channel-major: x[c][s][y][x] (C × n × H × W, row-major). A batch-wide buffer is
// the chunks one after another. Why CNHW and not NCHW/NHWC:
//   * a convolution over a whole chunk is ONE matrix product  Y[Cout][n·H·W] = Wt[Cout][Cin·k²] ·
//     col[Cin·k²][n·H·W], so sgemm sees a long N dimension instead of 784 columns per sample;
//   * batch-norm statistics and normalisation read one contiguous row per channel;
//   * an RSO trial that changes one output neuron touches one contiguous row (incremental trials).
// Per-sample data (datasets, FC inputs/outputs, logits) is row-major per sample: [n][features].
//
// CONVENTIONS.
//   * Kernels are single-threaded and work on the range they are given; the Swift engine decides
//     partitions and owns the threads. The only OpenMP entry point is cs_parallel_for (the chunks
//     of a parallel region on an OpenMP team, driven from one thread: `--scheduler openmp`).
//   * Each optimised kernel `name__how` (named by how it works: `__affine_fma`, `__im2col_blas`,
//     `__direct_avx2`, …) has a plain-loop twin `name__ref`: no OpenMP, no BLAS, no intrinsics.
//     Tests compare the two on swept shapes. The engine picks one set in one place (Swift's
//     KernelTable). A kernel with nothing worth optimising (the loss) has only its __ref.
//   * Convolutions: stride 1, zero padding k/2 ("same" size), k odd (1 or 3 in our networks), no
//     bias (batch-norm follows every conv). Weights are [Cout][Cin][k][k].
//   * Reductions that feed decisions (BN statistics, loss) are accumulated in double.
#ifndef CSUPPORT_H
#define CSUPPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - im2col
// x: [C][n][H][W]. Writes the patch matrix for output pixels p in [p0, p1) of the n·H·W pixels of
// the chunk: col[(c·k + ky)·k + kx][p − p0], row stride (p1 − p0). Out-of-image taps are 0.
void cs_im2col_cnhw_f32__ref(const float *x, int C, int n, int H, int W, int k,
                             long p0, long p1, float *col);
void cs_im2col_cnhw_f32__flat_copy(const float *x, int C, int n, int H, int W, int k,
                             long p0, long p1, float *col);

// MARK: - Convolution
// y[Cout][n·H·W] = conv(x[Cin][n][H][W], w[Cout][Cin][k][k]).
// If sum/sumsq are non-NULL, the per-output-channel sum and sum of squares of y over the chunk are
// ADDED to sum[Cout], sumsq[Cout] (double): the statistics come out of the same pass as the conv.
void cs_conv2d_cnhw_f32__ref(const float *x, const float *w, int Cin, int Cout, int n, int H, int W,
                             int k, float *y, double *sum, double *sumsq);
// im2col of `tile` output pixels at a time into `scratch` (≥ Cin·k²·tile floats), then sgemm of
// that tile (single-threaded BLAS expected), statistics of the tile while it is in cache.
// k == 1 skips im2col and multiplies x directly (scratch unused).
void cs_conv2d_cnhw_f32__im2col_blas(const float *x, const float *w, int Cin, int Cout, int n, int H,
                               int W, int k, float *y, double *sum, double *sumsq, float *scratch,
                               long tile);

// MARK: - Batch-norm (+ ReLU)
// mean = sum/count, var = sumsq/count − mean² (biased, as batch-norm uses), clamped at 0.
void cs_bn_finalize_stats(const double *sum, const double *sumsq, int C, double count,
                          double *mean, double *var);

// Inference form (fixed statistics): y = γ(z − mean)/√(var + eps) + β, then ReLU if relu != 0.
// z, y: [C][L]; y may equal z (in place).
void cs_bn_relu_infer_f32__ref(const float *z, int C, long L, const float *gamma, const float *beta,
                               const double *mean, const double *var, float eps, int relu, float *y);
void cs_bn_relu_infer_f32__affine_fma(const float *z, int C, long L, const float *gamma, const float *beta,
                               const double *mean, const double *var, float eps, int relu, float *y);

// Fused normalise + ReLU + 2×2 average pool (one read of z, one write of the pooled y).
// z: [C][n][H][W] → y: [C][n][H/2][W/2] (floor: an odd last row/column is dropped).
void cs_bn_relu_avgpool2_cnhw_f32__ref(const float *z, int C, int n, int H, int W,
                                       const float *gamma, const float *beta, const double *mean,
                                       const double *var, float eps, int relu, float *y);
void cs_bn_relu_avgpool2_cnhw_f32__affine_fma(const float *z, int C, int n, int H, int W,
                                       const float *gamma, const float *beta, const double *mean,
                                       const double *var, float eps, int relu, float *y);

// MARK: - Pooling
// 2×2 average pool, stride 2, floor. x: [C][n][H][W] → y: [C][n][H/2][W/2].
void cs_avgpool2_cnhw_f32__ref(const float *x, int C, int n, int H, int W, float *y);
void cs_avgpool2_cnhw_f32__simd_f32(const float *x, int C, int n, int H, int W, float *y);

// Global average pool. x: [C][n][HW] → y: [n][C] (per-sample rows, ready for the FC layer).
void cs_global_avgpool_cnhw_f32__ref(const float *x, int C, int n, long HW, float *y);
void cs_global_avgpool_cnhw_f32__simd_f32(const float *x, int C, int n, long HW, float *y);

// MARK: - Fully connected
// y[n][O] = x[n][I] · w[O][I]ᵀ + b[O] (b may be NULL).
void cs_fc_f32__ref(const float *x, const float *w, const float *b, int n, int I, int O, float *y);
void cs_fc_f32__simd_f32(const float *x, const float *w, const float *b, int n, int I, int O, float *y);

// MARK: - Residual add
// Basic-block shortcut on CNHW chunks: y[c][·] += skip[c][·] for c < Cskip (channels c ≥ Cskip of
// the shortcut are zero: the parameter-free zero-padded shortcut), then ReLU over all Cy channels
// if relu != 0. L = n·H·W (both tensors share the spatial size). Requires Cskip ≤ Cy.
void cs_residual_add_cnhw_f32__ref(float *y, const float *skip, int Cy, int Cskip, long L, int relu);
void cs_residual_add_cnhw_f32__flat_simd(float *y, const float *skip, int Cy, int Cskip, long L, int relu);

// MARK: - Loss
// Softmax cross-entropy over logits[n][K] with labels[n] in 0..<K. Returns the SUM of the
// per-sample losses (double, log-sum-exp stabilised) and writes the number of samples whose
// argmax (first maximum on ties) equals the label to *correct.
double cs_softmax_xent_f32__ref(const float *logits, const uint8_t *labels, int n, int K,
                                int *correct);

// MARK: - OpenMP team (`--scheduler openmp`)
// Runs body(ctx, i) for i in [0, count) on `threads` OpenMP threads (≤ 0: the runtime default),
// static schedule. Only driven from ONE thread; never from a worker (no nested parallelism).
typedef void (*cs_index_body)(void *ctx, long i);
void cs_parallel_for(long count, int threads, cs_index_body body, void *ctx);
int cs_omp_max_threads(void);
// The runtime's binding policy for the next team (omp_get_proc_bind: 0 false, 1 true, 2 primary,
// 3 close, 4 spread) and its number of places (OMP_PLACES; 0 when unset).
int cs_omp_proc_bind(void);
int cs_omp_num_places(void);

// MARK: - BLAS control
// OpenBLAS configuration string, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".
const char *cs_blas_config(void);
int cs_blas_get_threads(void);
void cs_blas_set_threads(int threads);

// Buffers of `count` floats for batch-wide activations and caches: 2 MB aligned and advised as
// transparent huge pages when at least 2 MB (huge_pages.c). NULL when out of memory. Free with
// cs_free_floats_huge.
float *cs_alloc_floats_huge(long count);
void cs_free_floats_huge(float *p);

// MARK: - Topology (hwloc)
typedef struct {
    int packages;
    int numa_nodes;
    int cores;
    int pus;
    char cpu_model[128];
} cs_topology_summary;
// synthetic == NULL: this machine. Otherwise an hwloc synthetic description such as
// "pack:2 numa:2 core:8 pu:1". Returns 0 on success, −1 with a message in err.
int cs_topology_summarize(const char *synthetic, cs_topology_summary *out, char *err, size_t errlen);

// Every core (hwloc logical order; PUs when the machine exposes no cores): core_node[i] = logical
// index of its NUMA node, core_pu[i] = OS index of its first PU. Fills at most max_cores entries and
// returns the total core count, or −1 with a message in err.
int cs_topology_cores(const char *synthetic, int *core_node, int *core_pu, int max_cores, char *err,
                      size_t errlen);
// Binds the calling thread to the PU with this OS index on this machine. 0 on success.
int cs_bind_current_thread(int pu_os_index);
// The calling thread's current binding, to put back with cs_restore_thread_binding (which frees
// it). NULL when hwloc cannot read it; restoring NULL does nothing. Used so that a pinned pool
// (which binds its calling thread as worker 0) leaves the thread as it found it.
void *cs_save_thread_binding(void);
int cs_restore_thread_binding(void *saved);
// OS indices of the PUs the calling thread may run on now (before the engine pins it: the binding a
// launcher such as mpirun --bind-to gave the process). Fills at most max and returns the count, or
// −1 when hwloc cannot read the binding.
int cs_thread_allowed_pus(int *pus, int max);
// The calling thread's binding as an OS-index list ("0-1", "3"); 0 on success.
int cs_thread_binding_list(char *out, size_t len);
// Threads of this process now (/proc/self/status), −1 if unknown.
int cs_process_thread_count(void);

// MARK: - Files
// Reads the regular file `path` (symbolic links followed), gunzipping it when `gunzip` is non-zero
// and it starts with the gzip magic, producing at most `max_len` bytes: callers pass the size the
// header and the format allow, so a gzip bomb or a lying header cannot exhaust memory.
// On success returns 0, *data (free with cs_free; valid even when *len is 0), *len ≤ max_len, and
// *longer = 1 when the content goes on past max_len (the rest is then neither read nor checked).
// On failure returns −1 and a message starting with the path in err: not a regular file (saying
// what it is: directory, device, FIFO, socket, dangling symbolic link, symbolic link loop),
// missing, unreadable, truncated or corrupt gzip stream, trailing data.
int cs_read_file_bounded(const char *path, size_t max_len, int gunzip, uint8_t **data, size_t *len, int *longer,
                         char *err, size_t errlen);
void cs_free(void *p);

// MARK: - Stop signals
// Installs SIGINT/SIGTERM handlers: the first only records the signal, so a long run can stop at
// a safe point, checkpoint and exit cleanly; a second exits the process at once with 128 + signal.
// cs_stop_signal() returns the first signal (0: none).
void cs_install_stop_signals(void);
int cs_stop_signal(void);

#ifdef __cplusplus
}
#endif
#endif
