// The few MPI calls the engine makes, as plain functions Swift can import (Open MPI's handles such
// as MPI_COMM_WORLD are macros over global objects, which Swift cannot see). Only the thread that
// initialised MPI calls these (MPI_THREAD_FUNNELED): worker threads never communicate.
#ifndef RSO_CMPI_H
#define RSO_CMPI_H
#include <mpi.h>
#include <string.h>

/// Initialises MPI (funneled threading); errors are returned, not fatal, so the engine can name them.
static inline int rso_mpi_init(int *rank, int *size) {
    int provided = 0;
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return rc;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return MPI_SUCCESS;
}

static inline int rso_mpi_initialized(void) {
    int flag = 0;
    MPI_Initialized(&flag);
    return flag;
}

static inline int rso_mpi_finalize(void) { return MPI_Finalize(); }

static inline void rso_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

/// Every rank sends `count` doubles; `out` receives size·count doubles in rank order.
static inline int rso_mpi_allgather_f64(const double *in, int count, double *out) {
    return MPI_Allgather(in, count, MPI_DOUBLE, out, count, MPI_DOUBLE, MPI_COMM_WORLD);
}

/// Rank r sends counts[r] doubles from `in`; `out` receives every rank's doubles in rank order,
/// rank r's at displacements[r] (the distributed chunk reduction's gather).
static inline int rso_mpi_allgatherv_f64(const double *in, int count, double *out, const int *counts,
                                         const int *displacements) {
    return MPI_Allgatherv(in, count, MPI_DOUBLE, out, counts, displacements, MPI_DOUBLE, MPI_COMM_WORLD);
}

/// In place: rank r's counts[r] floats already sit in `buffer` at displacements[r]; afterwards
/// every rank's are there on every rank (rows of the activation cache built by sample range).
static inline int rso_mpi_allgatherv_in_place_f32(float *buffer, const int *counts, const int *displacements) {
    return MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buffer, counts, displacements, MPI_FLOAT,
                          MPI_COMM_WORLD);
}

/// Every rank sends `count` bytes; `out` receives size·count bytes in rank order.
static inline int rso_mpi_allgather_bytes(const void *in, int count, void *out) {
    return MPI_Allgather(in, count, MPI_BYTE, out, count, MPI_BYTE, MPI_COMM_WORLD);
}

/// The maximum of one int over all ranks (used to agree on a stop flag).
static inline int rso_mpi_allreduce_max_i32(int value, int *out) {
    return MPI_Allreduce(&value, out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
}

static inline int rso_mpi_bcast_bytes(void *buffer, int count, int root) {
    return MPI_Bcast(buffer, count, MPI_BYTE, root, MPI_COMM_WORLD);
}

static inline int rso_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

/// This rank's host name (NUL-terminated, truncated to `capacity`).
static inline int rso_mpi_processor_name(char *out, int capacity) {
    char name[MPI_MAX_PROCESSOR_NAME];
    int length = 0;
    int rc = MPI_Get_processor_name(name, &length);
    if (rc != MPI_SUCCESS || capacity < 1) return rc;
    if (length >= capacity) length = capacity - 1;
    memcpy(out, name, (size_t)length);
    out[length] = 0;
    return MPI_SUCCESS;
}

/// MPI's own text for an error code.
static inline void rso_mpi_error_string(int code, char *out, int capacity) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (capacity < 1) return;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
    if (length >= capacity) length = capacity - 1;
    memcpy(out, text, (size_t)length);
    out[length] = 0;
}

#endif
