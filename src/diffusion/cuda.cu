/* cuda.cu - the CUDA diffusion kernels: the field lives in device memory
 * between upload and download, as two arrays used in turn (ping-pong).
 *
 *   cuda-naive  the serial loop on the GPU: one launch per time step, one
 *               thread per interior point.  Each step reads and writes the
 *               whole field in device memory, and at n = 1e5 a step is too
 *               short to hide the launch: the straight port, for contrast.
 *   cuda-tiled  temporal blocking: each block loads a tile of TILE_WIDTH
 *               points (its TILE_OUT outputs and TILE_STEPS ghost points
 *               on each side) into registers, TILE_POINTS consecutive
 *               points per thread, advances up to TILE_STEPS steps there,
 *               and writes its outputs to the other array; the valid part
 *               of the tile shrinks by one point per side per step, so the
 *               outputs are exact after TILE_STEPS steps.  Neighbouring
 *               threads swap their edge values through shared memory (one
 *               barrier per step).  Launches: ceil(steps / TILE_STEPS).
 *
 * Both compute every point exactly as serial.c does, b[i] = a[i] + r *
 * (a[i + 1] + a[i - 1] - 2 * a[i]), and the build compiles CUDA with
 * -fmad=false (no contraction into fma), so their fields are bit-identical
 * to serial's.  The ends u[0], u[n-1] are never written by a step.
 *
 * Geometry of cuda-tiled, for the H200 target (n = 1e5, 50000 steps): a
 * tile of 1024 points (256 threads x 4) with 128 ghost points per side
 * gives 768 outputs per block, so n = 1e5 is 131 blocks: one per SM of the
 * 132, all four schedulers of each busy with two warps.  At n = 1e5 the
 * time per step is then that of one block on its SM whatever the
 * redundancy (1024 computed per 768 kept), and 128 steps per launch keep
 * the launches to 391.  Register tiles need no shared-memory traffic but
 * the edges, and the per-thread functions below (__host__ __device__) are
 * the ones the host test tests/test_cuda_tiled_host.cu runs block by block
 * on the CPU against serial, since no GPU is at hand where it is built.
 *
 * With HPL_CUDA_TILE_ONLY defined (by that test) only the geometry and the
 * per-thread functions are compiled. */
#include <stdint.h>

/* ---- cuda-tiled: geometry and the work of one thread -------------------- */

#define TILE_THREADS 256                              /* threads per block */
#define TILE_POINTS 4                                 /* consecutive points per thread, in registers */
#define TILE_WIDTH (TILE_THREADS * TILE_POINTS)       /* points per tile */
#define TILE_STEPS 128                                /* ghost points per side = steps per launch */
#define TILE_OUT (TILE_WIDTH - 2 * TILE_STEPS)        /* outputs per block */

/* nvcc unrolls the loops over a thread's points, so that its points stay
 * in registers; the host compiler (the host test) needs no pragma. */
#ifdef __CUDA_ARCH__
#define TILE_UNROLL _Pragma("unroll")
#else
#define TILE_UNROLL
#endif

static_assert(TILE_POINTS >= 2, "a thread's first and last points must differ");
static_assert(TILE_OUT > 0, "the ghost zones must leave outputs");

/* One point's step, serial.c's expression term for term. */
__host__ __device__ static inline double heat_point(double left, double centre, double right, double r)
{
    return centre + r * (right + left - 2 * centre);
}

/* One thread's points: tile positions t*P .. t*P+P-1, global g0 .. g0+P-1. */
typedef struct tile_thread {
    double v[TILE_POINTS];
    bool step[TILE_POINTS]; /* 1 <= g <= n-2: an interior point; the ends and
                               points outside the field keep their value */
} tile_thread;

/* Global index of tile position 0 of block `block`: its outputs start
 * TILE_STEPS further on, at block * TILE_OUT. */
__host__ __device__ static inline int64_t tile_origin(int64_t block)
{
    return block * TILE_OUT - TILE_STEPS;
}

/* Load the thread's points from a (0 outside the field: never read by a
 * point that steps, since the ends do not step). */
__host__ __device__ static inline void tile_load(tile_thread *th, const double *a, int64_t n, int64_t g0)
{
    TILE_UNROLL
    for (int j = 0; j < TILE_POINTS; j++) {
        const int64_t g = g0 + j;
        th->v[j] = g >= 0 && g < n ? a[g] : 0.0;
        th->step[j] = g >= 1 && g <= n - 2;
    }
}

/* New values of the points whose neighbours are the thread's own (all but
 * the first and the last), into nv. */
__host__ __device__ static inline void tile_interior(const tile_thread *th, double nv[TILE_POINTS], double r)
{
    TILE_UNROLL
    for (int j = 1; j < TILE_POINTS - 1; j++)
        nv[j] = th->step[j] ? heat_point(th->v[j - 1], th->v[j], th->v[j + 1], r) : th->v[j];
}

/* New values of the first and last points, given the neighbours' edge
 * values (left: the previous thread's last point, right: the next
 * thread's first), and the step completed: v = nv. */
__host__ __device__ static inline void tile_edges(tile_thread *th, double nv[TILE_POINTS], double left,
                                                  double right, double r)
{
    const int last = TILE_POINTS - 1;
    nv[0] = th->step[0] ? heat_point(left, th->v[0], th->v[1], r) : th->v[0];
    nv[last] = th->step[last] ? heat_point(th->v[last - 1], th->v[last], right, r) : th->v[last];
    TILE_UNROLL
    for (int j = 0; j < TILE_POINTS; j++)
        th->v[j] = nv[j];
}

/* Write the thread's points that are the block's outputs (tile positions
 * [TILE_STEPS, TILE_STEPS + TILE_OUT), global index < n) to b. */
__host__ __device__ static inline void tile_store(const tile_thread *th, double *b, int64_t n, int64_t g0, int t)
{
    TILE_UNROLL
    for (int j = 0; j < TILE_POINTS; j++) {
        const int i = t * TILE_POINTS + j;
        const int64_t g = g0 + j;
        if (i >= TILE_STEPS && i < TILE_STEPS + TILE_OUT && g < n)
            b[g] = th->v[j];
    }
}

#ifndef HPL_CUDA_TILE_ONLY

#include "../common/cuda.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

extern "C" {
#include "backend.h"
}

#define NAIVE_THREADS 256

/* ---- the kernels ----------------------------------------------------------- */

/* One step of the interior: b[i] from a[i-1..i+1], 1 <= i <= n-2. */
__global__ static void __launch_bounds__(NAIVE_THREADS)
    naive_step(const double *__restrict__ a, double *__restrict__ b, int64_t n, double r)
{
    const int64_t i = 1 + (int64_t)blockIdx.x * NAIVE_THREADS + threadIdx.x;
    if (i < n - 1)
        b[i] = heat_point(a[i - 1], a[i], a[i + 1], r);
}

/* `steps` (1..TILE_STEPS) steps of block blockIdx.x's tile, from a into b.
 * Each step: every thread posts its edge values to shared memory and
 * computes its interior points, then (after the barrier) its edge points
 * from the neighbours' posts.  The posts alternate between two buffers, so
 * one barrier per step is enough: a thread can only overwrite a buffer
 * after the next barrier, which every reader of that buffer has passed.
 * Thread 0's left and the last thread's right neighbours lie outside the
 * tile: they take their own value, and the error that makes moves inward
 * one point per step, never reaching the outputs. */
__global__ static void __launch_bounds__(TILE_THREADS)
    tiled_steps(const double *__restrict__ a, double *__restrict__ b, int64_t n, double r, int steps)
{
    __shared__ double first[2][TILE_THREADS], last[2][TILE_THREADS];
    const int t = threadIdx.x;
    const int64_t g0 = tile_origin(blockIdx.x) + (int64_t)t * TILE_POINTS;
    tile_thread th;
    tile_load(&th, a, n, g0);
    for (int s = 0; s < steps; s++) {
        const int buf = s & 1;
        first[buf][t] = th.v[0];
        last[buf][t] = th.v[TILE_POINTS - 1];
        double nv[TILE_POINTS];
        tile_interior(&th, nv, r); /* overlaps the exchange */
        __syncthreads();
        const double left = t > 0 ? last[buf][t - 1] : th.v[0];
        const double right = t < TILE_THREADS - 1 ? first[buf][t + 1] : th.v[TILE_POINTS - 1];
        tile_edges(&th, nv, left, right, r);
    }
    tile_store(&th, b, n, g0, t);
}

/* ---- the backend ------------------------------------------------------------- */

/* The device field: two arrays of n doubles; field[cur] holds the field,
 * and both hold its ends (a step writes only the interior). */
typedef struct cuda_field {
    double *field[2];
    int cur;
    hpl_cuda_timer timer;
} cuda_field;

static void free_field(cuda_field *w)
{
    if (w == NULL)
        return;
    for (int i = 0; i < 2; i++)
        if (w->field[i])
            (void)cudaFree(w->field[i]);
    hpl_cuda_timer_destroy(&w->timer); /* also clears a failed free's error */
    free(w);
}

static hpl_status cuda_create(hpl_diffusion_plan *plan)
{
    const char *name = hpl_diffusion_kernel_name(plan->kernel);
    const int64_t n = plan->p.n;
    double context = 0.0;
    hpl_status s = hpl_cuda_start(&context);
    if (s != HPL_OK)
        return s;
    plan->times.context = context;
    const size_t bytes = (size_t)n * sizeof(double); /* plan.c: 4 n doubles fit in size_t */
    char what[128];
    snprintf(what, sizeof what, "%s: the field and its twin (2 x %lld doubles)", name, (long long)n);
    if ((s = hpl_cuda_fits(2 * bytes, what)) != HPL_OK)
        return s;
    /* grids are counted in int: n would need terabytes first, but say so
     * rather than wrap (n - 2 + 255 cannot overflow: n <= 2^48) */
    if ((n - 2 + NAIVE_THREADS - 1) / NAIVE_THREADS > INT_MAX || (n + TILE_OUT - 1) / TILE_OUT > INT_MAX)
        return hpl_fail(HPL_EOVERFLOW, "%s: n = %lld needs more thread blocks than a grid has", name, (long long)n);
    cuda_field *w = (cuda_field *)calloc(1, sizeof *w);
    if (w == NULL)
        return hpl_fail(HPL_ENOMEM, "%s: out of host memory for the plan", name);
    if ((s = hpl_cuda_malloc((void **)&w->field[0], bytes, what)) != HPL_OK ||
        (s = hpl_cuda_malloc((void **)&w->field[1], bytes, what)) != HPL_OK ||
        (s = hpl_cuda_timer_create(&w->timer)) != HPL_OK) {
        free_field(w);
        return s;
    }
    plan->work = w;
    return HPL_OK;
}

static hpl_status cuda_upload(hpl_diffusion_plan *plan, const double *u)
{
    cuda_field *w = (cuda_field *)plan->work;
    const int64_t n = plan->p.n;
    hpl_status s;
    /* the field into field[0], its two ends into field[1] too; the device
     * work is on the default stream, so a synchronisation makes the upload
     * complete (and timed) when this returns */
    if ((s = HPL_CUDA_CHECK(cudaMemcpy(w->field[0], u, (size_t)n * sizeof(double), cudaMemcpyHostToDevice))) !=
            HPL_OK ||
        (s = HPL_CUDA_CHECK(cudaMemcpy(w->field[1], u, sizeof(double), cudaMemcpyHostToDevice))) != HPL_OK ||
        (s = HPL_CUDA_CHECK(cudaMemcpy(w->field[1] + (n - 1), u + (n - 1), sizeof(double),
                                       cudaMemcpyHostToDevice))) != HPL_OK ||
        (s = HPL_CUDA_CHECK(cudaStreamSynchronize(0))) != HPL_OK)
        return s;
    w->cur = 0;
    return HPL_OK;
}

/* cuda-naive: one launch per step.  Launch errors are checked after each
 * launch (a bad configuration fails the first, before anything changed);
 * a fault while running surfaces at the final synchronisation. */
static hpl_status naive_advance(hpl_diffusion_plan *plan, double *kernel_seconds)
{
    cuda_field *w = (cuda_field *)plan->work;
    const int64_t n = plan->p.n, steps = plan->p.steps;
    const double r = plan->p.r;
    const int blocks = (int)((n - 2 + NAIVE_THREADS - 1) / NAIVE_THREADS);
    int cur = w->cur;
    hpl_status s = hpl_cuda_timer_start(&w->timer);
    for (int64_t t = 0; t < steps && s == HPL_OK; t++) {
        naive_step<<<blocks, NAIVE_THREADS>>>(w->field[cur], w->field[cur ^ 1], n, r);
        if ((s = HPL_CUDA_CHECK(cudaGetLastError())) == HPL_OK)
            cur ^= 1;
    }
    if (s == HPL_OK && (s = hpl_cuda_timer_stop(&w->timer)) == HPL_OK &&
        (s = hpl_cuda_timer_seconds(&w->timer, kernel_seconds)) == HPL_OK)
        w->cur = cur;
    return s;
}

/* cuda-tiled: ceil(steps / TILE_STEPS) launches, each of up to TILE_STEPS
 * steps from field[cur] into the other array. */
static hpl_status tiled_advance(hpl_diffusion_plan *plan, double *kernel_seconds)
{
    cuda_field *w = (cuda_field *)plan->work;
    const int64_t n = plan->p.n, steps = plan->p.steps;
    const double r = plan->p.r;
    const int blocks = (int)((n + TILE_OUT - 1) / TILE_OUT);
    int cur = w->cur;
    hpl_status s = hpl_cuda_timer_start(&w->timer);
    for (int64_t done = 0; done < steps && s == HPL_OK;) {
        const int k = steps - done < TILE_STEPS ? (int)(steps - done) : TILE_STEPS;
        tiled_steps<<<blocks, TILE_THREADS>>>(w->field[cur], w->field[cur ^ 1], n, r, k);
        if ((s = HPL_CUDA_CHECK(cudaGetLastError())) == HPL_OK) {
            cur ^= 1;
            done += k;
        }
    }
    if (s == HPL_OK && (s = hpl_cuda_timer_stop(&w->timer)) == HPL_OK &&
        (s = hpl_cuda_timer_seconds(&w->timer, kernel_seconds)) == HPL_OK)
        w->cur = cur;
    return s;
}

static hpl_status cuda_download(hpl_diffusion_plan *plan, double *u)
{
    const cuda_field *w = (const cuda_field *)plan->work;
    return HPL_CUDA_CHECK(
        cudaMemcpy(u, w->field[w->cur], (size_t)plan->p.n * sizeof(double), cudaMemcpyDeviceToHost));
}

static void cuda_destroy(hpl_diffusion_plan *plan)
{
    free_field((cuda_field *)plan->work);
    plan->work = NULL;
}

/* Positional initialisers (designated ones are C++20): create, execute,
 * destroy, detail, probe, upload, advance, download. */
extern "C" const hpl_diffusion_backend hpl_diffusion_cuda_naive = {
    cuda_create, NULL, cuda_destroy, hpl_cuda_detail, hpl_cuda_probe, cuda_upload, naive_advance, cuda_download,
};

extern "C" const hpl_diffusion_backend hpl_diffusion_cuda_tiled = {
    cuda_create, NULL, cuda_destroy, hpl_cuda_detail, hpl_cuda_probe, cuda_upload, tiled_advance, cuda_download,
};

#endif /* HPL_CUDA_TILE_ONLY */
