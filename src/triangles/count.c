/* count.c - the triangles driver: kernel registry, validation, the best
 * perimeter and the checksum.  Backends hold only the counting loops. */
#include "backend.h"

#include <string.h>

/* The registry: the table of triangles.h, with what this build has
 * (hpl_backends.h, written by CMake). */
#define HPL_TRIANGLES_ROW_(...) HPL_REGISTRY_ROW(triangles, __VA_ARGS__)
static const hpl_kernel_row rows[] = {HPL_TRIANGLES_KERNELS(HPL_TRIANGLES_ROW_)};
#undef HPL_TRIANGLES_ROW_
const hpl_registry hpl_triangles_registry = {"triangles", HPL_TRIANGLES_KERNEL_COUNT, rows, NULL};

HPL_REGISTRY_API(triangles, hpl_triangles_registry)

hpl_status hpl_triangles_count(hpl_triangles_kernel k, int64_t N, int threads, uint32_t *counts,
                               int64_t *best_p, uint32_t *best_count)
{
    const void *backend;
    hpl_status s = hpl_registry_backend(&hpl_triangles_registry, (int)k, &backend);
    if (s != HPL_OK)
        return s;
    if (N < HPL_TRIANGLES_N_MIN || N > HPL_TRIANGLES_N_MAX)
        return hpl_fail(HPL_EINVAL, "N = %lld is out of range: N must be in [%d, %lld] (perimeters p < N)",
                        (long long)N, HPL_TRIANGLES_N_MIN, (long long)HPL_TRIANGLES_N_MAX);
    if ((uint64_t)N > SIZE_MAX / sizeof(uint32_t))
        return hpl_fail(HPL_EOVERFLOW, "N = %lld is too large for this address space", (long long)N);
    if (threads < 1 || threads > HPL_THREADS_MAX)
        return hpl_fail(HPL_EINVAL, "threads = %d is out of range: threads must be in [1, %d]", threads,
                        HPL_THREADS_MAX);
    if (counts == NULL)
        return hpl_fail(HPL_EINVAL, "counts must not be NULL (it must hold N = %lld values)", (long long)N);

    s = ((const hpl_triangles_backend *)backend)->count(N, threads, counts);
    if (s != HPL_OK)
        return s;

    /* The talk's selection: strictly greater wins, so the smallest p on ties
     * and p = 0 when there is no triangle at all. */
    int64_t bp = 0;
    uint32_t bc = 0;
    for (int64_t p = 0; p < N; p++) {
        if (counts[p] > bc) {
            bc = counts[p];
            bp = p;
        }
    }
    if (best_p)
        *best_p = bp;
    if (best_count)
        *best_count = bc;
    hpl_clear_error();
    return HPL_OK;
}

uint64_t hpl_triangles_checksum(const uint32_t *counts, int64_t N)
{
    uint64_t sum = 0;
    if (counts == NULL)
        return 0;
    for (int64_t p = 0; p < N; p++)
        sum += (uint64_t)(p + 1) * counts[p]; /* wraps modulo 2^64 by design */
    return sum;
}
