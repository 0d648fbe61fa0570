/* diffusion.c - the distributed diffusion plan (hpcladder/mpi.h): a 1D
 * block decomposition with ghost zones of depth D, exchanged once every D
 * steps, and D steps of a host kernel of libhpcladder on block + ghosts.
 *
 * Why it is exact: the host kernel keeps both ends of its array fixed.  On
 * block + ghosts those ends are either the global boundary (truly fixed) or
 * a ghost D points away from the block; after s <= D steps the error of the
 * wrongly fixed ghost end has travelled s points inwards, so every point of
 * the block is what the serial kernel computes on the whole field.  The
 * same argument covers the overlapped round (overlapped_round): the block
 * stepped alone is exact at least halo points from a neighbour's side, and
 * an edge of 3 halo points is exact in its middle halo points. */
#include "mpi_internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hpl_mpi_diffusion_plan {
    MPI_Comm comm;
    int rank, size;
    hpl_diffusion_params p;
    int64_t halo;
    int64_t first, count; /* this rank's block of global indices */
    int64_t gl, gr;       /* ghost points on the left and right (0 or halo) */
    int64_t m;            /* gl + count + gr */
    double *ext;          /* m values: left ghosts, block, right ghosts */
    int64_t chunk;        /* steps between exchanges: halo, or steps on one rank */
    /* inner plans, each for chunk steps (full) and steps % chunk (rest): on
     * block + ghosts (the plain path), or, when the exchange overlaps work,
     * on the block alone and on an edge of 3 halo points */
    hpl_diffusion_plan *full, *rest, *bfull, *brest, *efull, *erest;
    double *edge[2]; /* overlap: [ghosts | first 2 halo of the block], [last 2 halo | ghosts] */
    double plan_seconds;
};

static void block_of(int64_t n, int size, int rank, int64_t *first, int64_t *count)
{
    int64_t base = n / size, rem = n % size;
    *count = base + (rank < rem);
    *first = rank * base + (rank < rem ? rank : rem);
}

/* The checks every rank can make alone; a message for the first failure. */
static hpl_status check_local(const hpl_mpi_diffusion_plan *pl, hpl_diffusion_kernel k)
{
    const char *why = NULL;
    if (pl->p.n < HPL_DIFFUSION_N_MIN)
        return hpl_mpi_fail(HPL_EINVAL, "n = %lld is too small: n must be >= %d", (long long)pl->p.n,
                            HPL_DIFFUSION_N_MIN);
    if (hpl_diffusion_kernel_name(k) == NULL)
        return hpl_mpi_fail(HPL_EINVAL, "kernel id %d is not a diffusion kernel", (int)k);
    if (k == HPL_DIFFUSION_SPECTRAL || hpl_diffusion_kernel_data(k) != HPL_DATA_HOST)
        return hpl_mpi_fail(HPL_EINVAL, "kernel '%s' cannot run inside ranks: it must be a host kernel that steps "
                                        "(not spectral)",
                            hpl_diffusion_kernel_name(k));
    if (!hpl_diffusion_kernel_available(k, &why))
        return hpl_mpi_fail(HPL_EUNAVAILABLE, "kernel '%s' is not built into this library: %s",
                            hpl_diffusion_kernel_name(k), why);
    if (pl->halo < 1 || pl->halo > INT_MAX)
        return hpl_mpi_fail(HPL_EINVAL, "halo = %lld is out of range: the ghost depth must be in [1, %d]",
                            (long long)pl->halo, INT_MAX);
    if (pl->size > 1 && pl->count < pl->halo)
        return hpl_mpi_fail(HPL_EINVAL,
                            "holds %lld points (n = %lld over %d ranks), fewer than the ghost depth halo = %lld: "
                            "use fewer ranks, a smaller halo or a larger n",
                            (long long)pl->count, (long long)pl->p.n, pl->size, (long long)pl->halo);
    if (pl->p.n > INT_MAX)
        return hpl_mpi_fail(HPL_EOVERFLOW, "n = %lld is too large for MPI's int counts: n must be <= %d",
                            (long long)pl->p.n, INT_MAX);
    return HPL_OK;
}

/* Whether the exchange overlaps work: a rank with a neighbour and a block of
 * at least 2 halo points (and 3, the host kernels' minimum). */
static int overlaps(const hpl_mpi_diffusion_plan *pl)
{
    return pl->size > 1 && pl->count >= 2 * pl->halo && pl->count >= HPL_DIFFUSION_N_MIN;
}

/* Inner plans on m points for chunk and steps % chunk steps. */
static hpl_status plans_for(const hpl_mpi_diffusion_plan *pl, hpl_diffusion_kernel k, int64_t m,
                            hpl_diffusion_plan **full, hpl_diffusion_plan **rest)
{
    hpl_diffusion_params q = pl->p;
    q.n = m;
    hpl_status s = HPL_OK;
    if (pl->p.steps >= pl->chunk) {
        q.steps = pl->chunk;
        s = hpl_diffusion_plan_create(k, &q, full);
    }
    if (s == HPL_OK && pl->p.steps % pl->chunk) {
        q.steps = pl->p.steps % pl->chunk;
        s = hpl_diffusion_plan_create(k, &q, rest);
    }
    return s == HPL_OK ? HPL_OK : hpl_mpi_fail(s, "%s", hpl_last_error());
}

/* Buffers and inner plans; the host library's message on failure. */
static hpl_status setup_local(hpl_mpi_diffusion_plan *pl, hpl_diffusion_kernel k)
{
    pl->ext = calloc((size_t)pl->m, sizeof(double));
    if (pl->ext == NULL)
        return hpl_mpi_fail(HPL_ENOMEM, "out of memory for a block of %lld doubles", (long long)pl->m);
    pl->chunk = pl->size > 1 ? pl->halo : pl->p.steps;
    if (pl->m < HPL_DIFFUSION_N_MIN || pl->p.steps == 0)
        return HPL_OK; /* no point of the array ever changes here */
    hpl_status s = plans_for(pl, k, pl->m, &pl->full, &pl->rest);
    if (s == HPL_OK && overlaps(pl)) {
        for (int e = 0; e < 2; e++)
            if ((pl->edge[e] = calloc((size_t)(3 * pl->halo), sizeof(double))) == NULL)
                return hpl_mpi_fail(HPL_ENOMEM, "out of memory for two edges of %lld doubles",
                                    (long long)(3 * pl->halo));
        s = plans_for(pl, k, pl->count, &pl->bfull, &pl->brest);
        if (s == HPL_OK)
            s = plans_for(pl, k, 3 * pl->halo, &pl->efull, &pl->erest);
    }
    return s;
}

static void free_plan(hpl_mpi_diffusion_plan *pl)
{
    hpl_diffusion_plan_destroy(pl->full);
    hpl_diffusion_plan_destroy(pl->rest);
    hpl_diffusion_plan_destroy(pl->bfull);
    hpl_diffusion_plan_destroy(pl->brest);
    hpl_diffusion_plan_destroy(pl->efull);
    hpl_diffusion_plan_destroy(pl->erest);
    free(pl->edge[0]);
    free(pl->edge[1]);
    free(pl->ext);
    if (pl->comm != MPI_COMM_NULL)
        MPI_Comm_free(&pl->comm);
    free(pl);
}

int64_t hpl_mpi_diffusion_default_halo(int64_t n, int size)
{
    int64_t smallest = size > 0 ? n / size : n;
    int64_t d = smallest < HPL_MPI_HALO_DEFAULT ? smallest : HPL_MPI_HALO_DEFAULT;
    return d < 1 ? 1 : d;
}

hpl_status hpl_mpi_diffusion_plan_create(MPI_Comm comm, hpl_diffusion_kernel k, const hpl_diffusion_params *params,
                                         int64_t halo, hpl_mpi_diffusion_plan **plan)
{
    double t0 = MPI_Wtime();
    if (plan == NULL)
        return hpl_mpi_fail(HPL_EINVAL, "plan must not be NULL");
    *plan = NULL;
    if (comm == MPI_COMM_NULL) /* any MPI call on it would go to MPI_COMM_WORLD's handler: fatal by default */
        return hpl_mpi_fail(HPL_EINVAL, "comm is MPI_COMM_NULL: not a communicator");
    hpl_mpi_diffusion_plan *pl = calloc(1, sizeof *pl);
    if (pl == NULL)
        return hpl_mpi_fail(HPL_ENOMEM, "out of memory for a plan");
    pl->comm = MPI_COMM_NULL;
    int err = MPI_Comm_dup(comm, &pl->comm);
    if (err != MPI_SUCCESS) {
        free(pl);
        return hpl_mpi_call_failed(err, "MPI_Comm_dup(comm, &pl->comm)", __FILE__, __LINE__);
    }
    MPI_Comm_set_errhandler(pl->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(pl->comm, &pl->rank);
    MPI_Comm_size(pl->comm, &pl->size);
    hpl_status s = HPL_OK;
    if (params == NULL)
        s = hpl_mpi_fail(HPL_EINVAL, "params must not be NULL");
    else {
        pl->p = *params;
        pl->halo = halo;
        block_of(pl->p.n, pl->size, pl->rank, &pl->first, &pl->count);
        s = check_local(pl, k);
    }
    if (s == HPL_OK) {
        pl->gl = pl->rank > 0 ? halo : 0;
        pl->gr = pl->rank < pl->size - 1 ? halo : 0;
        pl->m = pl->gl + pl->count + pl->gr;
        s = setup_local(pl, k);
    }
    s = hpl_mpi_agree(pl->comm, s);
    if (s != HPL_OK) {
        free_plan(pl);
        return s;
    }
    pl->plan_seconds = MPI_Wtime() - t0;
    *plan = pl;
    return HPL_OK;
}

hpl_status hpl_mpi_diffusion_plan_create_f(MPI_Fint comm, hpl_diffusion_kernel k, const hpl_diffusion_params *params,
                                           int64_t halo, hpl_mpi_diffusion_plan **plan)
{
    return hpl_mpi_diffusion_plan_create(MPI_Comm_f2c(comm), k, params, halo, plan);
}

void hpl_mpi_diffusion_block(const hpl_mpi_diffusion_plan *plan, int64_t *first, int64_t *count)
{
    if (first)
        *first = plan ? plan->first : 0;
    if (count)
        *count = plan ? plan->count : 0;
}

double *hpl_mpi_diffusion_local(hpl_mpi_diffusion_plan *plan) { return plan ? plan->ext + plan->gl : NULL; }

double hpl_mpi_diffusion_plan_seconds(const hpl_mpi_diffusion_plan *plan) { return plan ? plan->plan_seconds : 0.0; }

void hpl_mpi_diffusion_plan_destroy(hpl_mpi_diffusion_plan *plan)
{
    if (plan)
        free_plan(plan);
}

hpl_status hpl_mpi_diffusion_init_gaussian(hpl_mpi_diffusion_plan *plan)
{
    if (plan == NULL)
        return hpl_mpi_fail(HPL_EINVAL, "plan must not be NULL");
    double *u = plan->ext + plan->gl;
    const int64_t n = plan->p.n;
    /* the formula of hpl_diffusion_init_gaussian, point for point */
    for (int64_t j = 0; j < plan->count; j++) {
        double x = (double)(plan->first + j) - (double)n / 2.0;
        u[j] = exp(-(x * x) / 100000.0);
    }
    return HPL_OK;
}

hpl_status hpl_mpi_diffusion_init_sine(hpl_mpi_diffusion_plan *plan, int64_t k)
{
    if (plan == NULL)
        return hpl_mpi_fail(HPL_EINVAL, "plan must not be NULL");
    const int64_t n = plan->p.n;
    hpl_status s = HPL_OK;
    if (k < 1 || k > n - 2)
        s = hpl_mpi_fail(HPL_EINVAL, "sine mode k = %lld is out of range: k must be in [1, n-2] = [1, %lld]",
                         (long long)k, (long long)(n - 2));
    if ((s = hpl_mpi_agree(plan->comm, s)) != HPL_OK)
        return s;
    /* the formula of hpl_diffusion_init_sine, point for point */
    const double pi = 3.14159265358979323846;
    const int64_t period = 2 * (n - 1);
    double *u = plan->ext + plan->gl;
    for (int64_t j = 0; j < plan->count; j++) {
        int64_t g = plan->first + j;
        int64_t m = (int64_t)(((__int128)k * g) % period);
        u[j] = (g == 0 || g == n - 1) ? 0.0 : sin(pi * (double)m / (double)(n - 1));
    }
    return HPL_OK;
}

/* Counts and displacements of every rank's block, for Scatterv/Gatherv. */
static hpl_status blocks(const hpl_mpi_diffusion_plan *pl, int **counts, int **displs)
{
    *counts = malloc(sizeof(int) * (size_t)pl->size);
    *displs = malloc(sizeof(int) * (size_t)pl->size);
    if (*counts == NULL || *displs == NULL)
        return hpl_mpi_fail(HPL_ENOMEM, "out of memory for %d block sizes", pl->size);
    for (int q = 0; q < pl->size; q++) {
        int64_t f, c;
        block_of(pl->p.n, pl->size, q, &f, &c);
        (*counts)[q] = (int)c;
        (*displs)[q] = (int)f;
    }
    return HPL_OK;
}

static hpl_status check_root(const hpl_mpi_diffusion_plan *pl, int root)
{
    if (root < 0 || root >= pl->size)
        return hpl_mpi_fail(HPL_EINVAL, "root = %d is not a rank of the communicator (size %d)", root, pl->size);
    return HPL_OK;
}

hpl_status hpl_mpi_diffusion_scatter(hpl_mpi_diffusion_plan *plan, const double *u, int root)
{
    if (plan == NULL)
        return hpl_mpi_fail(HPL_EINVAL, "plan must not be NULL");
    int *counts = NULL, *displs = NULL;
    hpl_status s = check_root(plan, root);
    if (s == HPL_OK && plan->rank == root) {
        if (u == NULL)
            s = hpl_mpi_fail(HPL_EINVAL, "u must not be NULL on the root rank");
        for (int64_t i = 0; s == HPL_OK && i < plan->p.n; i++)
            if (!isfinite(u[i]))
                s = hpl_mpi_fail(HPL_EINVAL, "u[%lld] = %g is not finite", (long long)i, u[i]);
    }
    if (s == HPL_OK)
        s = blocks(plan, &counts, &displs);
    if ((s = hpl_mpi_agree(plan->comm, s)) == HPL_OK) {
        int err = MPI_Scatterv(u, counts, displs, MPI_DOUBLE, plan->ext + plan->gl, (int)plan->count, MPI_DOUBLE,
                               root, plan->comm);
        if (err != MPI_SUCCESS)
            s = hpl_mpi_call_failed(err, "MPI_Scatterv(...)", __FILE__, __LINE__);
    }
    free(counts);
    free(displs);
    return s;
}

hpl_status hpl_mpi_diffusion_gather(hpl_mpi_diffusion_plan *plan, double *u, int root)
{
    if (plan == NULL)
        return hpl_mpi_fail(HPL_EINVAL, "plan must not be NULL");
    int *counts = NULL, *displs = NULL;
    hpl_status s = check_root(plan, root);
    if (s == HPL_OK && plan->rank == root && u == NULL)
        s = hpl_mpi_fail(HPL_EINVAL, "u must not be NULL on the root rank");
    if (s == HPL_OK)
        s = blocks(plan, &counts, &displs);
    if ((s = hpl_mpi_agree(plan->comm, s)) == HPL_OK) {
        int err = MPI_Gatherv(plan->ext + plan->gl, (int)plan->count, MPI_DOUBLE, u, counts, displs, MPI_DOUBLE,
                              root, plan->comm);
        if (err != MPI_SUCCESS)
            s = hpl_mpi_call_failed(err, "MPI_Gatherv(...)", __FILE__, __LINE__);
    }
    free(counts);
    free(displs);
    return s;
}

/* Fill the ghosts from the neighbours: non-blocking receives and sends of
 * halo values per side, then wait for all four. */
static hpl_status exchange(hpl_mpi_diffusion_plan *pl)
{
    MPI_Request req[4];
    int nreq = 0;
    const int d = (int)pl->halo;
    double *block = pl->ext + pl->gl;
    if (pl->gl) {
        HPL_MPI_CHECK(MPI_Irecv(pl->ext, d, MPI_DOUBLE, pl->rank - 1, 0, pl->comm, &req[nreq++]));
        HPL_MPI_CHECK(MPI_Isend(block, d, MPI_DOUBLE, pl->rank - 1, 1, pl->comm, &req[nreq++]));
    }
    if (pl->gr) {
        HPL_MPI_CHECK(MPI_Irecv(block + pl->count, d, MPI_DOUBLE, pl->rank + 1, 1, pl->comm, &req[nreq++]));
        HPL_MPI_CHECK(MPI_Isend(block + pl->count - d, d, MPI_DOUBLE, pl->rank + 1, 0, pl->comm, &req[nreq++]));
    }
    HPL_MPI_CHECK(MPI_Waitall(nreq, req, MPI_STATUSES_IGNORE));
    return HPL_OK;
}

/* One round of s steps with the exchange in flight: the edges' own points
 * are copied out (they are also what is sent), the ghosts arrive into the
 * edges, the block advances alone (valid at least halo points from a
 * neighbour's side), then each edge of 3 halo points advances and its middle
 * halo points, valid, are copied into the block. */
static hpl_status overlapped_round(hpl_mpi_diffusion_plan *pl, int64_t s)
{
    MPI_Request req[4];
    int nreq = 0;
    const int64_t h = pl->halo, c = pl->count;
    const int d = (int)h;
    double *block = pl->ext + pl->gl, *L = pl->edge[0], *R = pl->edge[1];
    hpl_diffusion_plan *bp = s == pl->chunk ? pl->bfull : pl->brest, *ep = s == pl->chunk ? pl->efull : pl->erest;
    if (pl->gl) {
        memcpy(L + h, block, (size_t)(2 * h) * sizeof(double));
        HPL_MPI_CHECK(MPI_Irecv(L, d, MPI_DOUBLE, pl->rank - 1, 0, pl->comm, &req[nreq++]));
        HPL_MPI_CHECK(MPI_Isend(L + h, d, MPI_DOUBLE, pl->rank - 1, 1, pl->comm, &req[nreq++]));
    }
    if (pl->gr) {
        memcpy(R, block + c - 2 * h, (size_t)(2 * h) * sizeof(double));
        HPL_MPI_CHECK(MPI_Irecv(R + 2 * h, d, MPI_DOUBLE, pl->rank + 1, 1, pl->comm, &req[nreq++]));
        HPL_MPI_CHECK(MPI_Isend(R + h, d, MPI_DOUBLE, pl->rank + 1, 0, pl->comm, &req[nreq++]));
    }
    hpl_status st = hpl_diffusion_plan_execute(bp, block);
    HPL_MPI_CHECK(MPI_Waitall(nreq, req, MPI_STATUSES_IGNORE));
    if (st == HPL_OK && pl->gl && (st = hpl_diffusion_plan_execute(ep, L)) == HPL_OK)
        memcpy(block, L + h, (size_t)h * sizeof(double));
    if (st == HPL_OK && pl->gr && (st = hpl_diffusion_plan_execute(ep, R)) == HPL_OK)
        memcpy(block + c - h, R + h, (size_t)h * sizeof(double));
    return st == HPL_OK ? HPL_OK : hpl_mpi_fail(st, "%s", hpl_last_error());
}

hpl_status hpl_mpi_diffusion_plan_execute(hpl_mpi_diffusion_plan *plan)
{
    if (plan == NULL)
        return hpl_mpi_fail(HPL_EINVAL, "plan must not be NULL");
    /* the inner kernels refuse non-finite values: agree on that first, so
     * that no rank fails alone in the middle of the exchanges */
    hpl_status s = HPL_OK;
    const double *block = plan->ext + plan->gl;
    for (int64_t j = 0; s == HPL_OK && j < plan->count; j++)
        if (!isfinite(block[j]))
            s = hpl_mpi_fail(HPL_EINVAL, "u[%lld] = %g is not finite", (long long)(plan->first + j), block[j]);
    if ((s = hpl_mpi_agree(plan->comm, s)) != HPL_OK)
        return s;
    for (int64_t done = 0; done < plan->p.steps;) {
        int64_t steps = plan->p.steps - done >= plan->chunk ? plan->chunk : plan->p.steps - done;
        if (overlaps(plan)) {
            if ((s = overlapped_round(plan, steps)) != HPL_OK)
                return s;
        } else {
            hpl_diffusion_plan *inner = steps == plan->chunk ? plan->full : plan->rest;
            if ((s = exchange(plan)) != HPL_OK)
                return s;
            if (plan->m >= HPL_DIFFUSION_N_MIN && (s = hpl_diffusion_plan_execute(inner, plan->ext)) != HPL_OK)
                return hpl_mpi_fail(s, "%s", hpl_last_error());
        }
        done += steps;
    }
    return HPL_OK;
}
