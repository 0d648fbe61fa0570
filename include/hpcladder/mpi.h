/* hpcladder/mpi.h - distributed kernels over an MPI communicator
 * (libhpcladder_mpi; the only public header that includes <mpi.h>).
 *
 * Diffusion: the field of n points (the contract of diffusion.h: fixed ends
 * u[0], u[n-1] at the global boundaries only) is cut into one contiguous
 * block per rank, in rank order; the first n % size ranks hold one point
 * more.  Each rank keeps its block plus ghost zones of depth `halo` (D) on
 * the sides that have a neighbour.  Ranks exchange ghosts once every D steps
 * (communication-avoiding) and then take up to D plain steps of an existing
 * host kernel of libhpcladder on block + ghosts, whose valid region shrinks
 * by one point per side and step.  The arithmetic per point is that of the
 * kernel chosen, so with serial (or any kernel bit-identical to it) the
 * gathered field is bit-identical to hpl_diffusion_solve(serial, ...) for
 * every rank count.  Every rank must hold at least D points.
 *
 * Use: create (collective, untimed set-up: decomposition, buffers, inner
 * plans); put the initial field in with init_gaussian / init_sine (each rank
 * computes its own block, nothing is moved) or scatter (from one rank);
 * execute (timed); gather (to one rank, for output and verification).
 * Initialisation, scatter and gather are separate calls, timed apart.
 *
 * Errors: every function here is collective over the plan's communicator
 * and returns an hpl_status; none prints or exits.  A failure on any rank
 * (bad input, failed allocation, an MPI error) is agreed on by all ranks
 * before anything is changed (an MPI_Allreduce of the status), so every rank
 * returns the same status and hpl_mpi_last_error() gives every rank the same
 * message, that of the lowest failing rank, prefixed "rank R: ".
 */
#ifndef HPCLADDER_MPI_H
#define HPCLADDER_MPI_H

#include <mpi.h>

#include "hpcladder.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Message of the last failed call of libhpcladder_mpi made by this thread
 * ("" if none). */
HPL_API const char *hpl_mpi_last_error(void);

typedef struct hpl_mpi_diffusion_plan hpl_mpi_diffusion_plan;

/* Collective.  Validates params (as hpl_diffusion_plan_create does), the
 * inner kernel k (a host kernel that steps: not spectral) and the halo
 * 1 <= halo, and that every rank holds at least halo points (with more than
 * one rank; hpl_mpi_diffusion_default_halo gives a depth that fits);
 * duplicates comm (MPI_COMM_NULL is refused).  On failure *plan is NULL on
 * every rank. */
HPL_API hpl_status hpl_mpi_diffusion_plan_create(MPI_Comm comm, hpl_diffusion_kernel k,
                                                 const hpl_diffusion_params *params, int64_t halo,
                                                 hpl_mpi_diffusion_plan **plan);

/* The default ghost depth.  A round costs one message latency per side
 * and, with the overlapped exchange, 3D^2 redundant point updates per
 * side; per step that is latency/D + 3D updates: under 2 % of a block of
 * the talk's sizes (5 * 10^3 - 5 * 10^4 points) at D = 256, while D = 1
 * pays a latency every step.  The tiled kernel inside a rank also wants D
 * large: it reuses a tile in cache for up to D steps per call.  Measured
 * (n = 1e5 and 1e4, 50000 steps, 2 ranks, tiled; bench/bench_mpi.py):
 * D = 256 was fastest (0.25 s against 0.44 s at D = 64 for n = 1e5);
 * with serial inside, D from 64 to 512 made no difference beyond noise. */
#define HPL_MPI_HALO_DEFAULT 256

/* The ghost depth to use when none is given: HPL_MPI_HALO_DEFAULT, or the
 * smallest block of n points over size ranks (n / size) when that is
 * smaller; at least 1.  Always valid for plan_create when n >= size. */
HPL_API int64_t hpl_mpi_diffusion_default_halo(int64_t n, int size);

/* hpl_mpi_diffusion_plan_create for a communicator given as a Fortran
 * handle, converted with the standard MPI_Comm_f2c: for bindings that
 * cannot spell MPI_Comm, whose C type differs between MPI libraries (a
 * pointer in Open MPI, an int in MPICH), while MPI_Fint is an int in both.
 * mpi4py gives the handle as comm.py2f().  A handle that converts to
 * MPI_COMM_NULL is refused (HPL_EINVAL) on the ranks that passed it, with
 * no agreement: there is no communicator to agree over. */
HPL_API hpl_status hpl_mpi_diffusion_plan_create_f(MPI_Fint comm, hpl_diffusion_kernel k,
                                                   const hpl_diffusion_params *params, int64_t halo,
                                                   hpl_mpi_diffusion_plan **plan);

/* This rank's block: global indices first .. first+count-1 (not collective). */
HPL_API void hpl_mpi_diffusion_block(const hpl_mpi_diffusion_plan *plan, int64_t *first, int64_t *count);

/* This rank's block of the field (count values, owned by the plan; ghosts
 * not included).  Valid until destroy. */
HPL_API double *hpl_mpi_diffusion_local(hpl_mpi_diffusion_plan *plan);

/* Each rank sets its own block to the talk's Gaussian (or sine mode k) by
 * the formula of hpl_diffusion_init_gaussian (init_sine); nothing moves. */
HPL_API hpl_status hpl_mpi_diffusion_init_gaussian(hpl_mpi_diffusion_plan *plan);
HPL_API hpl_status hpl_mpi_diffusion_init_sine(hpl_mpi_diffusion_plan *plan, int64_t k);

/* Collective.  Rank root's u (n finite values; ignored elsewhere) becomes
 * the distributed field. */
HPL_API hpl_status hpl_mpi_diffusion_scatter(hpl_mpi_diffusion_plan *plan, const double *u, int root);

/* Collective.  Advance the distributed field by params.steps steps.  What
 * it does, and so what a timer around it measures: one MPI_Allreduce of the
 * status (after a finiteness scan of the block), then ceil(steps/halo)
 * rounds (one round of all steps on a single rank) of: non-blocking sends
 * and receives of halo values per side with the neighbours; while they are
 * in flight, up to halo steps of the inner kernel on the block alone; then
 * the same steps on each edge of 3*halo points (ghosts + 2*halo of the
 * block), whose middle halo points replace the block's invalid edge.  A
 * rank whose block is shorter than 2*halo waits for its ghosts and then
 * steps block + ghosts instead.  It never moves the whole field: no
 * scatter, no gather.  Plan creation, initialisation, scatter and gather
 * are outside it. */
HPL_API hpl_status hpl_mpi_diffusion_plan_execute(hpl_mpi_diffusion_plan *plan);

/* Collective.  The whole field into rank root's u (n values; ignored on
 * other ranks). */
HPL_API hpl_status hpl_mpi_diffusion_gather(hpl_mpi_diffusion_plan *plan, double *u, int root);

/* Seconds spent in hpl_mpi_diffusion_plan_create on this rank. */
HPL_API double hpl_mpi_diffusion_plan_seconds(const hpl_mpi_diffusion_plan *plan);

/* Collective (frees the duplicated communicator); NULL allowed on all ranks. */
HPL_API void hpl_mpi_diffusion_plan_destroy(hpl_mpi_diffusion_plan *plan);

/* How the perimeters 0..N-1 of the triangles workload are dealt to ranks:
 * CYCLIC is the talk's p = rank, rank + size, ...; BALANCED gives each rank
 * one contiguous range of about equal cost (the inner kernel's cost per p:
 * ~p^2 for brute, ~p for direct), since equal ranges are unbalanced. */
typedef enum hpl_mpi_split { HPL_MPI_SPLIT_CYCLIC = 0, HPL_MPI_SPLIT_BALANCED = 1 } hpl_mpi_split;

/* "cyclic", "balanced", or NULL. */
HPL_API const char *hpl_mpi_split_name(hpl_mpi_split s);

/* 1 if triangles kernel k can run inside ranks (a per-perimeter kernel:
 * brute, direct), else 0. */
HPL_API int hpl_mpi_triangles_kernel_supported(hpl_triangles_kernel k);

/* Collective.  counts[0..N-1] on rank root (ignored elsewhere; may be NULL
 * there), identical to hpl_triangles_count(k, N, ...).  Each rank counts its
 * perimeters with kernel k (brute: the talk's findnumsolutions; direct:
 * hpl_triangles_count_one), the counts are summed with MPI_Reduce, and the
 * best perimeter is found with a MAXLOC-style MPI_Reduce (largest count,
 * smallest p on ties).  best_p / best_count (on root) may be NULL.  1 <= N
 * <= HPL_TRIANGLES_N_MAX; each rank allocates N counts. */
HPL_API hpl_status hpl_mpi_triangles_count(MPI_Comm comm, hpl_triangles_kernel k, int64_t N, hpl_mpi_split split,
                                           int root, uint32_t *counts, int64_t *best_p, uint32_t *best_count);

/* hpl_mpi_triangles_count for a communicator given as a Fortran handle
 * (see hpl_mpi_diffusion_plan_create_f). */
HPL_API hpl_status hpl_mpi_triangles_count_f(MPI_Fint comm, hpl_triangles_kernel k, int64_t N, hpl_mpi_split split,
                                             int root, uint32_t *counts, int64_t *best_p, uint32_t *best_count);

#ifdef __cplusplus
}
#endif
#endif
