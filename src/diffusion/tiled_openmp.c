/* tiled_openmp.c - the tiled kernel over OpenMP threads: the same lane-folded
 * tiles with ghost zones (stencil.h), as many tiles per thread, one barrier
 * per period (T steps) instead of one per step.  plan->p.threads threads via
 * num_threads (the global setting is left alone); with more threads than
 * tiles the extra threads idle.  Path and arithmetic as in tiled.c. */
#include "stencil.h"

#include <omp.h>

/* Tunables (overridable for tuning): steps per period, rows (of W doubles)
 * per tile at most. */
#ifndef TILED_OPENMP_PERIOD
#define TILED_OPENMP_PERIOD 288
#endif
#ifndef TILED_OPENMP_TILE_ROWS
#define TILED_OPENMP_TILE_ROWS 16384
#endif

static hpl_status tiled_openmp_create(hpl_diffusion_plan *plan)
{
    hpl_status s =
        hpl_fold_create(plan, "tiled-openmp", TILED_OPENMP_PERIOD, TILED_OPENMP_TILE_ROWS, plan->p.threads);
    if (s != HPL_OK)
        return s;
    /* start the thread team now (set-up, untimed): the first timed execute
     * would otherwise pay for creating the threads */
#pragma omp parallel num_threads(plan->p.threads)
    {
    }
    return HPL_OK;
}

static hpl_status tiled_openmp_execute(hpl_diffusion_plan *plan, double *u)
{
    hpl_fold *f = plan->work;
    int64_t left = plan->p.steps;
    hpl_fold_run run;
    if (hpl_fold_begin(f, u, plan->p.r, left, &run)) {
        int last = 0;
#pragma omp parallel num_threads(plan->p.threads)
        {
            /* every thread walks the same periods; the barrier at the end of
             * each omp for makes F[cur^1] complete before it is read */
            int cur = 0;
            long double carry = 1.0L;
            double *buf = f->buf + (size_t)omp_get_thread_num() % (size_t)f->nbuf * (size_t)f->buf_len;
            int64_t mine = left;
            for (int64_t T; (T = hpl_fold_period(f, &run, mine)) > 0; mine -= T, cur ^= 1) {
                double unscale = hpl_fold_unscale(&run, T, &carry);
                /* static,1: tile t runs on thread t % threads, so only
                 * threads below min(threads, tiles) = nbuf touch a buffer */
#pragma omp for schedule(static, 1)
                for (int64_t t = 0; t < f->ntiles; t++)
                    hpl_fold_tile(f, &run, t, T, unscale, f->F[cur], f->F[cur ^ 1], buf);
            }
#pragma omp single
            {
                last = cur;
                left = mine;
            }
        }
        hpl_fold_end(f, f->F[last], u);
    }
    /* what the fold did not take: fewer than K steps, or all of them */
    hpl_stencil_steps(f->ops, u, f->F[0], f->n, plan->p.r, left);
    return HPL_OK;
}

static void tiled_openmp_destroy(hpl_diffusion_plan *plan) { hpl_fold_destroy(plan->work); }

const hpl_diffusion_backend hpl_diffusion_tiled_openmp = {
    .create = tiled_openmp_create,
    .execute = tiled_openmp_execute,
    .destroy = tiled_openmp_destroy,
    .detail = hpl_stencil_detail,
};
