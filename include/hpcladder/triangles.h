/* hpcladder/triangles.h - the triangles kernel contract (Project Euler 39).
 *
 * counts[p], for every perimeter 0 <= p < N, is the number of right triangles
 * with integer sides a <= b < c and a + b + c = p (counts[0] = 0).  The best
 * perimeter is the p with the largest count, the smallest such p on ties, and
 * 0 when no p < N has a triangle (N <= 12), as in the talk's loop.
 * Every kernel returns the identical counts array.
 */
#ifndef HPCLADDER_TRIANGLES_H
#define HPCLADDER_TRIANGLES_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The kernel table: every triangles kernel, one row each, in id order (a new
 * kernel is appended).  Columns as in diffusion.h's HPL_DIFFUSION_KERNELS:
 * X(ID, "name", file, threaded, data, "summary"); the backend is
 * src/triangles/<file>.c, built as its hpl_add_backend line says. */
#define HPL_TRIANGLES_KERNELS(X)                                                                              \
    X(BRUTE, "brute", brute, 0, HOST, "the talk's double loop over a, b < p/2 for every p")                  \
    X(DIRECT, "direct", direct, 0, HOST, "solve for b given p and a: O(p) per p")                            \
    X(EUCLID, "euclid", euclid, 0, HOST, "Euclid's primitive triples and all their multiples")               \
    X(OPENMP, "openmp", openmp, 1, HOST, "the euclid kernel over OpenMP threads") \
    X(CUDA_BRUTE, "cuda-brute", cuda_brute, 0, DEVICE, "CUDA: the talk's brute force, one thread per (p, a)") \
    X(CUDA_EUCLID, "cuda-euclid", cuda_euclid, 0, DEVICE,                                                    \
      "CUDA: Euclid's primitive triples, one thread per (m, n), atomic increments of every multiple")        \
    X(OPENCL_BRUTE, "opencl-brute", opencl_brute, 0, DEVICE, "OpenCL: the brute force, one work-item per (p, a)") \
    X(OPENCL_EUCLID, "opencl-euclid", opencl_euclid, 0, DEVICE,                                              \
      "OpenCL: Euclid's primitive triples, one work-item per (m, n), atomic increments")                     \
    /* new kernels are appended above this line */

typedef enum hpl_triangles_kernel {
#define HPL_TRIANGLES_ENUM_(ID, ...) HPL_TRIANGLES_##ID,
    HPL_TRIANGLES_KERNELS(HPL_TRIANGLES_ENUM_)
#undef HPL_TRIANGLES_ENUM_
    HPL_TRIANGLES_KERNEL_COUNT
} hpl_triangles_kernel;

#define HPL_TRIANGLES_N_MIN 1
#define HPL_TRIANGLES_N_MAX 4000000000LL

/* Number of kernel ids (built or not), as in the library actually loaded. */
HPL_API int hpl_triangles_kernel_count(void);

/* Canonical name of kernel k, or NULL if k is not a kernel id. */
HPL_API const char *hpl_triangles_kernel_name(hpl_triangles_kernel k);

/* Look a kernel up by canonical name.  HPL_EINVAL for an unknown name, with
 * a message that lists every name. */
HPL_API hpl_status hpl_triangles_kernel_from_name(const char *name,
                                                  hpl_triangles_kernel *k);

/* One line saying what kernel k does ("" if k is not a kernel id). */
HPL_API const char *hpl_triangles_kernel_summary(hpl_triangles_kernel k);

/* 1 if kernel k is built into this library and can run here (a DEVICE
 * kernel needs its device), else 0 and *why (if non-NULL) says what is
 * missing. */
HPL_API int hpl_triangles_kernel_available(hpl_triangles_kernel k,
                                           const char **why);

/* 1 if kernel k uses the threads argument, else 0 (also for a bad id). */
HPL_API int hpl_triangles_kernel_threaded(hpl_triangles_kernel k);

/* Where kernel k keeps the counts while it runs (HPL_DATA_HOST for a bad id). */
HPL_API hpl_data hpl_triangles_kernel_data(hpl_triangles_kernel k);

/* Fill counts[0..N-1] with kernel k; 1 <= N <= HPL_TRIANGLES_N_MAX,
 * 1 <= threads <= HPL_THREADS_MAX (ignored by single-threaded kernels).
 * best_p / best_count may be NULL.  On failure nothing is written. */
HPL_API hpl_status hpl_triangles_count(hpl_triangles_kernel k, int64_t N,
                                       int threads, uint32_t *counts,
                                       int64_t *best_p, uint32_t *best_count);

/* hpl_triangles_count, and where its time went (times may be NULL): for a
 * DEVICE kernel, setup is the device allocation, kernel the device time
 * (events), compute the wall time of the launches, download the copy of
 * the counts to the host, context the device runtime's start-up when this
 * call paid it; for a host kernel kernel = compute = the wall time. */
HPL_API hpl_status hpl_triangles_count_timed(hpl_triangles_kernel k, int64_t N, int threads, uint32_t *counts,
                                             int64_t *best_p, uint32_t *best_count, hpl_times *times);

/* The count for one perimeter p, 0 <= p < HPL_TRIANGLES_N_MAX, by the
 * direct method (O(p), independent of Euclid's formula): for spot checks of
 * any entry of a large counts array. */
HPL_API hpl_status hpl_triangles_count_one(int64_t p, uint32_t *count);

/* The talk's C function findnumsolutions(p), exactly its loops (computed in
 * 64-bit so that large p cannot overflow): the count for one perimeter.
 * Exported for the ctypes rung of the Python ladder. */
HPL_API int findnumsolutions(int p);

/* Order-sensitive checksum of a counts array: sum of (p+1)*counts[p],
 * modulo 2^64 (NumPy: (arange(1, N+1, dtype=uint64) * counts).sum()). */
HPL_API uint64_t hpl_triangles_checksum(const uint32_t *counts, int64_t N);

#ifdef __cplusplus
}
#endif
#endif
