/* naive.c - the talk's C loop, exactly: a second array udt and a copy loop
 * every step.  The yardstick for "what the talk's C does".
 *
 * One deviation, in set-up only: the talk zeroes udt, so its ends become 0
 * after the first step; here udt's ends are copied from u, so the ends stay
 * at their initial values as the contract says (for the talk's Gaussian they
 * are 0 either way). */
#include "backend.h"


static hpl_status naive_create(hpl_diffusion_plan *plan)
{
    plan->work = hpl_alloc_zeroed((size_t)plan->p.n, sizeof(double));
    if (plan->work == NULL)
        return hpl_fail(HPL_ENOMEM, "out of memory: naive needs a second array of n = %lld doubles",
                        (long long)plan->p.n);
    return HPL_OK;
}

static hpl_status naive_execute(hpl_diffusion_plan *plan, double *u)
{
    const int64_t n = plan->p.n, niter = plan->p.steps;
    const double kappa = plan->p.r;
    double *udt = plan->work;
    udt[0] = u[0];
    udt[n - 1] = u[n - 1];
    for (int64_t iter = 0; iter < niter; iter++) {
        for (int64_t i = 1; i < n - 1; i++) {
            udt[i] = u[i] + kappa * (u[i + 1] + u[i - 1] - 2 * u[i]);
        }
        for (int64_t i = 0; i < n; i++) {
            u[i] = udt[i];
        }
    }
    return HPL_OK;
}

static void naive_destroy(hpl_diffusion_plan *plan) { hpl_free(plan->work); }

const hpl_diffusion_backend hpl_diffusion_naive = {
    .create = naive_create,
    .execute = naive_execute,
    .destroy = naive_destroy,
    .detail = NULL,
};
