/* triangles.c - the triangles workload over a communicator (hpcladder/mpi.h):
 * each rank counts its perimeters with a per-perimeter kernel, the counts
 * are summed with MPI_Reduce and the best perimeter found with a
 * MAXLOC-style reduction. */
#include "mpi_internal.h"

#include <math.h>
#include <stdlib.h>

const char *hpl_mpi_split_name(hpl_mpi_split s)
{
    switch (s) {
    case HPL_MPI_SPLIT_CYCLIC: return "cyclic";
    case HPL_MPI_SPLIT_BALANCED: return "balanced";
    }
    return NULL;
}

int hpl_mpi_triangles_kernel_supported(hpl_triangles_kernel k)
{
    return k == HPL_TRIANGLES_BRUTE || k == HPL_TRIANGLES_DIRECT;
}

/* Cost of the perimeters below p for kernel k, up to a constant factor:
 * brute's double loop is ~p^2/8 per p (sum ~p^3), direct's ~p (sum ~p^2). */
static double cost_below(hpl_triangles_kernel k, double p)
{
    return k == HPL_TRIANGLES_BRUTE ? p * p * p : p * p;
}

/* The first perimeter of rank q's range under the balanced split: the p at
 * which the cumulative cost reaches q/size of the total. */
static int64_t balanced_start(hpl_triangles_kernel k, int64_t N, int size, int q)
{
    if (q <= 0)
        return 0;
    if (q >= size)
        return N;
    double target = cost_below(k, (double)N) * q / size;
    double x = k == HPL_TRIANGLES_BRUTE ? cbrt(target) : sqrt(target);
    int64_t p = (int64_t)llround(x);
    return p < 0 ? 0 : p > N ? N : p;
}

static uint32_t count_one(hpl_triangles_kernel k, int64_t p)
{
    if (k == HPL_TRIANGLES_BRUTE)
        return (uint32_t)findnumsolutions((int)p);
    uint32_t c = 0;
    hpl_triangles_count_one(p, &c);
    return c;
}

/* Sum the local counts into root's counts, in pieces MPI's int count takes. */
static hpl_status reduce_counts(MPI_Comm comm, const uint32_t *local, uint32_t *counts, int64_t N, int root, int rank)
{
    const int64_t piece = 1 << 28;
    for (int64_t off = 0; off < N; off += piece) {
        int c = (int)(N - off < piece ? N - off : piece);
        HPL_MPI_CHECK(MPI_Reduce(local + off, rank == root ? counts + off : NULL, c, MPI_UINT32_T, MPI_SUM, root,
                                 comm));
    }
    return HPL_OK;
}

static hpl_status check_args(MPI_Comm comm, hpl_triangles_kernel k, int64_t N, hpl_mpi_split split, int root,
                             uint32_t *counts, int rank, int size)
{
    const char *why = NULL;
    if (hpl_triangles_kernel_name(k) == NULL)
        return hpl_mpi_fail(HPL_EINVAL, "kernel id %d is not a triangles kernel", (int)k);
    if (!hpl_mpi_triangles_kernel_supported(k))
        return hpl_mpi_fail(HPL_EINVAL, "kernel '%s' cannot run inside ranks: allowed: brute, direct (per-perimeter "
                                        "kernels)",
                            hpl_triangles_kernel_name(k));
    if (!hpl_triangles_kernel_available(k, &why))
        return hpl_mpi_fail(HPL_EUNAVAILABLE, "kernel '%s' is not built into this library: %s",
                            hpl_triangles_kernel_name(k), why);
    if (N < HPL_TRIANGLES_N_MIN || N > HPL_TRIANGLES_N_MAX)
        return hpl_mpi_fail(HPL_EINVAL, "N = %lld is out of range: N must be in [%d, %lld]", (long long)N,
                            HPL_TRIANGLES_N_MIN, (long long)HPL_TRIANGLES_N_MAX);
    if (k == HPL_TRIANGLES_BRUTE && N > 2147483647LL)
        return hpl_mpi_fail(HPL_EINVAL, "N = %lld is too large for brute (the talk's int p): N must be <= 2147483647",
                            (long long)N);
    if (hpl_mpi_split_name(split) == NULL)
        return hpl_mpi_fail(HPL_EINVAL, "split %d is not a split: allowed: cyclic, balanced", (int)split);
    if (root < 0 || root >= size)
        return hpl_mpi_fail(HPL_EINVAL, "root = %d is not a rank of the communicator (size %d)", root, size);
    if (rank == root && counts == NULL)
        return hpl_mpi_fail(HPL_EINVAL, "counts must not be NULL on the root rank");
    (void)comm;
    return HPL_OK;
}

hpl_status hpl_mpi_triangles_count(MPI_Comm comm, hpl_triangles_kernel k, int64_t N, hpl_mpi_split split, int root,
                                   uint32_t *counts, int64_t *best_p, uint32_t *best_count)
{
    int rank = 0, size = 1;
    if (comm == MPI_COMM_NULL) /* any MPI call on it would go to MPI_COMM_WORLD's handler: fatal by default */
        return hpl_mpi_fail(HPL_EINVAL, "comm is MPI_COMM_NULL: not a communicator");
    HPL_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    HPL_MPI_CHECK(MPI_Comm_size(comm, &size));
    hpl_status s = check_args(comm, k, N, split, root, counts, rank, size);
    uint32_t *local = NULL;
    if (s == HPL_OK && (local = calloc((size_t)N, sizeof(uint32_t))) == NULL)
        s = hpl_mpi_fail(HPL_ENOMEM, "out of memory for N = %lld counts", (long long)N);
    if ((s = hpl_mpi_agree(comm, s)) != HPL_OK) {
        free(local);
        return s;
    }
    int64_t lo = 0, hi = N, stride = 1;
    if (split == HPL_MPI_SPLIT_CYCLIC) {
        lo = rank;
        stride = size;
    } else {
        lo = balanced_start(k, N, size, rank);
        hi = balanced_start(k, N, size, rank + 1);
    }
    /* key = count * 2^32 + (2^32 - 1 - p): the largest key is the largest
     * count, and on ties the smallest p, as MPI_MAXLOC would choose */
    uint64_t key = UINT32_MAX; /* count 0 at p = 0 */
    for (int64_t p = lo; p < hi; p += stride) {
        uint32_t c = p == 0 ? 0 : count_one(k, p);
        local[p] = c;
        uint64_t kp = ((uint64_t)c << 32) | (uint64_t)(UINT32_MAX - (uint64_t)p);
        if (kp > key)
            key = kp;
    }
    uint64_t best = 0;
    int err = MPI_Reduce(&key, &best, 1, MPI_UINT64_T, MPI_MAX, root, comm);
    if (err != MPI_SUCCESS)
        s = hpl_mpi_call_failed(err, "MPI_Reduce(&key, &best, ...)", __FILE__, __LINE__);
    if (s == HPL_OK)
        s = reduce_counts(comm, local, counts, N, root, rank);
    free(local);
    if (s == HPL_OK && rank == root) {
        if (best_p)
            *best_p = (int64_t)(UINT32_MAX - (best & UINT32_MAX));
        if (best_count)
            *best_count = (uint32_t)(best >> 32);
    }
    return s;
}

hpl_status hpl_mpi_triangles_count_f(MPI_Fint comm, hpl_triangles_kernel k, int64_t N, hpl_mpi_split split, int root,
                                     uint32_t *counts, int64_t *best_p, uint32_t *best_count)
{
    return hpl_mpi_triangles_count(MPI_Comm_f2c(comm), k, N, split, root, counts, best_p, best_count);
}
