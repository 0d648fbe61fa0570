/* backend.h - what a triangles backend implements (internal).
 *
 * Each backend lives in a file of its own (brute.c, direct.c, euclid.c,
 * openmp.c, later mpi.c and cuda.cu) and defines, in this order:
 *
 *   static hpl_status NAME_count(int64_t N, int threads, uint32_t *counts);
 *       Write counts[p] for every 0 <= p < N (all N entries, zeros too).
 *       Any allocation happens before the first write, so a failure leaves
 *       counts untouched.
 *   const hpl_triangles_backend hpl_triangles_NAME = {...};
 *
 * count.c (the driver) validates N, threads and pointers, and computes the
 * best perimeter, so a backend sees 1 <= N <= HPL_TRIANGLES_N_MAX.
 */
#ifndef HPCLADDER_TRIANGLES_BACKEND_H
#define HPCLADDER_TRIANGLES_BACKEND_H

#include "hpcladder/triangles.h"
#include "../common/internal.h"

typedef struct hpl_triangles_backend {
    const char *name;
    int threaded;
    hpl_status (*count)(int64_t N, int threads, uint32_t *counts);
} hpl_triangles_backend;

extern HPL_INTERNAL const hpl_triangles_backend hpl_triangles_brute;
extern HPL_INTERNAL const hpl_triangles_backend hpl_triangles_direct;
extern HPL_INTERNAL const hpl_triangles_backend hpl_triangles_euclid;
extern HPL_INTERNAL const hpl_triangles_backend hpl_triangles_openmp;

#endif
