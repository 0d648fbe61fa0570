/* count.c - the triangles driver: kernel registry, validation, the best
 * perimeter and the checksum.  Backends hold only the counting loops. */
#include "backend.h"

#include <string.h>

/* The registry: the table of triangles.h, with what this build has
 * (hpl_backends.h, written by CMake). */
#define HPL_TRIANGLES_ROW_(...) HPL_REGISTRY_ROW(triangles, __VA_ARGS__)
static const hpl_kernel_row rows[] = {HPL_TRIANGLES_KERNELS(HPL_TRIANGLES_ROW_)};
#undef HPL_TRIANGLES_ROW_
/* how kernel k runs here (its backend's detail hook) */
static const char *detail_of(int k)
{
    const hpl_triangles_backend *b = rows[k].backend;
    return b != NULL && b->detail != NULL ? b->detail() : "";
}
/* why kernel k cannot run here (its backend's probe hook: a device kernel
 * without its device), "" if it can */
static const char *probe_of(int k)
{
    const hpl_triangles_backend *b = rows[k].backend;
    const char *why = b != NULL && b->probe != NULL ? b->probe() : "";
    return why ? why : "";
}
const hpl_registry hpl_triangles_registry = {"triangles", HPL_TRIANGLES_KERNEL_COUNT, rows, detail_of, probe_of};

HPL_REGISTRY_API(triangles, hpl_triangles_registry)

hpl_status hpl_triangles_count(hpl_triangles_kernel k, int64_t N, int threads, uint32_t *counts,
                               int64_t *best_p, uint32_t *best_count)
{
    return hpl_triangles_count_timed(k, N, threads, counts, best_p, best_count, NULL);
}

hpl_status hpl_triangles_count_timed(hpl_triangles_kernel k, int64_t N, int threads, uint32_t *counts,
                                     int64_t *best_p, uint32_t *best_count, hpl_times *times)
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

    const hpl_triangles_backend *b = backend;
    hpl_times t = {0};
    if (b->count_timed) {
        s = b->count_timed(N, counts, &t);
    } else {
        double t0 = hpl_wtime();
        s = b->count(N, threads, counts);
        t.kernel = t.compute = hpl_wtime() - t0;
    }
    if (s != HPL_OK)
        return s;
    if (times)
        *times = t;

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
