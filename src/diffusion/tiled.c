/* tiled.c - temporal blocking on one thread: the field is lane-folded
 * (stencil.h), cut into tiles that fit in L2, and each tile advances T steps
 * at a time in a private buffer with ghost zones, K steps per sweep in a
 * register wavefront.  Path (AVX-512F / AVX2+FMA / portable) chosen at run
 * time; HPCLADDER_SIMD lowers it (see stencil.h).
 *
 * Arithmetic: on the AVX paths the scaled form w' = fma(k, w, wl + wr)
 * (stencil.h), algebraically the naive update but not bit-identical: on the
 * talk's full run it is ~6e-15 of max|u| from naive and ~2e-15 from a
 * long-double reference (naive itself: 5.7e-15).  On the portable path, and
 * when r is too small for the scaled form, naive's expression
 * (bit-identical).  Fields too small to fold (n below about 50) and the last
 * steps mod K go one step at a time as in simd.c (bit-identical). */
#include "stencil.h"

/* Tunables (overridable for tuning): steps per period, rows (of W doubles)
 * per tile. */
#ifndef TILED_PERIOD
#define TILED_PERIOD 192
#endif
#ifndef TILED_TILE_ROWS
#define TILED_TILE_ROWS 8192
#endif

static hpl_status tiled_create(hpl_diffusion_plan *plan)
{
    return hpl_fold_create(plan, "tiled", TILED_PERIOD, TILED_TILE_ROWS, 1);
}

static hpl_status tiled_execute(hpl_diffusion_plan *plan, double *u)
{
    hpl_fold *f = plan->work;
    int64_t left = plan->p.steps;
    hpl_fold_run run;
    if (hpl_fold_begin(f, u, plan->p.r, left, &run)) {
        int cur = 0;
        long double carry = 1.0L;
        for (int64_t T; (T = hpl_fold_period(f, &run, left)) > 0; left -= T, cur ^= 1) {
            double unscale = hpl_fold_unscale(&run, T, &carry);
            for (int64_t t = 0; t < f->ntiles; t++)
                hpl_fold_tile(f, &run, t, T, unscale, f->F[cur], f->F[cur ^ 1], f->buf);
        }
        hpl_fold_end(f, f->F[cur], u);
    }
    /* what the fold did not take: fewer than K steps, or all of them */
    hpl_stencil_steps(f->ops, u, f->F[0], f->n, plan->p.r, left);
    return HPL_OK;
}

static void tiled_destroy(hpl_diffusion_plan *plan) { hpl_fold_destroy(plan->work); }

const hpl_diffusion_backend hpl_diffusion_tiled = {
    .create = tiled_create,
    .execute = tiled_execute,
    .destroy = tiled_destroy,
    .detail = hpl_stencil_detail,
};
