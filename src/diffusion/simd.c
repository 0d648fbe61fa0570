/* simd.c - the serial loop, vectorised: one step at a time over the whole
 * field, two arrays and a pointer swap (as serial.c), with AVX-512F, AVX2 or
 * portable C chosen at run time (stencil.h).  Every path computes naive's
 * expression u + r*((ur + ul) - 2u) in naive's order, without FMA, so the
 * result is naive's to the bit on every path.
 *
 * Environment: HPCLADDER_SIMD=portable|avx2|avx512 forces a lower path than
 * the CPU's best (read when a plan is created); a higher or unknown value is
 * ignored.  .detail reports the path a plan created now would use. */
#include "stencil.h"

#include <stdlib.h>

typedef struct simd_work {
    const hpl_stencil_ops *ops; /* path chosen at create */
    double *b;                  /* second array, n doubles */
} simd_work;

static hpl_status simd_create(hpl_diffusion_plan *plan)
{
    simd_work *w = calloc(1, sizeof *w);
    if (w == NULL)
        return hpl_fail(HPL_ENOMEM, "out of memory allocating the simd plan");
    w->b = hpl_alloc_zeroed((size_t)plan->p.n, sizeof(double));
    if (w->b == NULL) {
        free(w);
        return hpl_fail(HPL_ENOMEM, "out of memory: simd needs a second array of n = %lld doubles",
                        (long long)plan->p.n);
    }
    w->ops = hpl_stencil_pick();
    plan->work = w;
    return HPL_OK;
}

static hpl_status simd_execute(hpl_diffusion_plan *plan, double *u)
{
    simd_work *w = plan->work;
    hpl_stencil_steps(w->ops, u, w->b, plan->p.n, plan->p.r, plan->p.steps);
    return HPL_OK;
}

static void simd_destroy(hpl_diffusion_plan *plan)
{
    simd_work *w = plan->work;
    hpl_free(w->b);
    free(w);
}

const hpl_diffusion_backend hpl_diffusion_simd = {
    .create = simd_create,
    .execute = simd_execute,
    .destroy = simd_destroy,
    .detail = hpl_stencil_detail,
};
