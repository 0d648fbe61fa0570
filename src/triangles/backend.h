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
 * and is registered by one row of HPL_TRIANGLES_KERNELS (triangles.h) and
 * one hpl_add_backend line in CMakeLists.txt.
 *
 * count.c (the driver) validates N, threads and pointers, and computes the
 * best perimeter, so a backend sees 1 <= N <= HPL_TRIANGLES_N_MAX.
 */
#ifndef HPCLADDER_TRIANGLES_BACKEND_H
#define HPCLADDER_TRIANGLES_BACKEND_H

#include "hpcladder/triangles.h"
#include "../common/registry.h"

typedef struct hpl_triangles_backend {
    hpl_status (*count)(int64_t N, int threads, uint32_t *counts);
} hpl_triangles_backend;

/* hpl_triangles_FILE for every row of the table (only built ones are used) */
#define HPL_TRIANGLES_DECLARE_(ID, NAME, FILE, ...) extern HPL_INTERNAL const hpl_triangles_backend hpl_triangles_##FILE;
HPL_TRIANGLES_KERNELS(HPL_TRIANGLES_DECLARE_)
#undef HPL_TRIANGLES_DECLARE_

#endif
