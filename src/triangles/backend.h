/* backend.h - what a triangles backend implements (internal).
 *
 * Each backend lives in a file of its own (brute.c, direct.c, euclid.c,
 * openmp.c, cuda.cu, opencl.c) and a host kernel defines, in this order:
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
 * A device kernel (data DEVICE) defines count_timed in place of count:
 *
 *   static hpl_status NAME_count_timed(int64_t N, uint32_t *counts, hpl_times *t);
 *       Start the device runtime if this process has not yet (t->context),
 *       allocate the device counts (t->setup; HPL_EUNAVAILABLE with the
 *       reason without a usable device, HPL_ENOMEM with the sizes when
 *       they do not fit), count on the device (t->kernel by device timers,
 *       t->compute the wall time of launches and synchronisation), copy
 *       the counts into counts (t->download), free.  counts is written only
 *       by that final copy.
 *
 * count.c (the driver) validates N, threads and pointers, times host
 * kernels, and computes the best perimeter, so a backend sees
 * 1 <= N <= HPL_TRIANGLES_N_MAX and a zeroed *t.
 */
#ifndef HPCLADDER_TRIANGLES_BACKEND_H
#define HPCLADDER_TRIANGLES_BACKEND_H

#include "hpcladder/triangles.h"
#include "../common/registry.h"

typedef struct hpl_triangles_backend {
    hpl_status (*count)(int64_t N, int threads, uint32_t *counts);
    /* Device kernels, in place of count (NULL for host kernels). */
    hpl_status (*count_timed)(int64_t N, uint32_t *counts, hpl_times *times);
    /* Optional: how the kernel runs here (the GPU found, or why none). */
    const char *(*detail)(void);
    /* Optional: why the kernel cannot run here ("" or NULL if it can): a
     * device kernel without its device.  Cheap after the first call. */
    const char *(*probe)(void);
} hpl_triangles_backend;

/* hpl_triangles_FILE for every row of the table (only built ones are used) */
#define HPL_TRIANGLES_DECLARE_(ID, NAME, FILE, ...) extern HPL_INTERNAL const hpl_triangles_backend hpl_triangles_##FILE;
HPL_TRIANGLES_KERNELS(HPL_TRIANGLES_DECLARE_)
#undef HPL_TRIANGLES_DECLARE_

#endif
