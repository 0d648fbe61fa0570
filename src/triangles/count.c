/* count.c - the triangles driver: kernel registry, validation, the best
 * perimeter and the checksum.  Backends hold only the counting loops. */
#include "backend.h"

#include <string.h>

static const hpl_triangles_backend *const backends[HPL_TRIANGLES_KERNEL_COUNT] = {
    [HPL_TRIANGLES_BRUTE] = &hpl_triangles_brute,
    [HPL_TRIANGLES_DIRECT] = &hpl_triangles_direct,
    [HPL_TRIANGLES_EUCLID] = &hpl_triangles_euclid,
#ifdef HPL_HAVE_OPENMP
    [HPL_TRIANGLES_OPENMP] = &hpl_triangles_openmp,
#endif
};

static const char *const names[HPL_TRIANGLES_KERNEL_COUNT] = {
    "brute", "direct", "euclid", "openmp",
};

static const char *const unavailable_why[HPL_TRIANGLES_KERNEL_COUNT] = {
    [HPL_TRIANGLES_OPENMP] = "built without OpenMP (configure with -DHPCLADDER_OPENMP=ON and a compiler that supports it)",
};

static int valid_kernel(hpl_triangles_kernel k)
{
    return (int)k >= 0 && (int)k < HPL_TRIANGLES_KERNEL_COUNT;
}

const char *hpl_triangles_kernel_name(hpl_triangles_kernel k)
{
    return valid_kernel(k) ? names[k] : NULL;
}

hpl_status hpl_triangles_kernel_from_name(const char *name, hpl_triangles_kernel *k)
{
    if (name == NULL || k == NULL)
        return hpl_fail(HPL_EINVAL, "kernel name and result pointer must not be NULL");
    for (int i = 0; i < HPL_TRIANGLES_KERNEL_COUNT; i++) {
        if (strcmp(name, names[i]) == 0) {
            *k = (hpl_triangles_kernel)i;
            return HPL_OK;
        }
    }
    return hpl_fail(HPL_EINVAL, "unknown triangles kernel '%s' (allowed: brute, direct, euclid, openmp)", name);
}

int hpl_triangles_kernel_available(hpl_triangles_kernel k, const char **why)
{
    if (!valid_kernel(k)) {
        if (why)
            *why = "not a triangles kernel id";
        return 0;
    }
    if (backends[k] == NULL) {
        if (why)
            *why = unavailable_why[k] ? unavailable_why[k] : "not built";
        return 0;
    }
    if (why)
        *why = "";
    return 1;
}

int hpl_triangles_kernel_threaded(hpl_triangles_kernel k)
{
    return valid_kernel(k) && backends[k] != NULL && backends[k]->threaded;
}

hpl_status hpl_triangles_count(hpl_triangles_kernel k, int64_t N, int threads, uint32_t *counts,
                               int64_t *best_p, uint32_t *best_count)
{
    if (!valid_kernel(k))
        return hpl_fail(HPL_EINVAL, "kernel id %d is not a triangles kernel (0..%d)", (int)k,
                        HPL_TRIANGLES_KERNEL_COUNT - 1);
    const char *why;
    if (!hpl_triangles_kernel_available(k, &why))
        return hpl_fail(HPL_EUNAVAILABLE, "triangles kernel '%s' is not available: %s", names[k], why);
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

    hpl_status s = backends[k]->count(N, threads, counts);
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
