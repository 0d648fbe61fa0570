/* openmp.c - the serial loop over OpenMP threads: what a reader of the talk
 * writes first.  Each thread updates its share of the points every step; the
 * barrier at the end of every `omp for` makes the step complete before the
 * next reads it, so the threads meet once per step (n/threads points of work
 * between barriers: too little to pay for the barrier at the talk's n = 1e5,
 * which is why tiled_openmp.c advances many steps between barriers).  Same
 * arithmetic as serial, so bit-identical to it and to naive. */
#include "backend.h"

#include <string.h>

static hpl_status openmp_create(hpl_diffusion_plan *plan)
{
    plan->work = hpl_alloc_zeroed((size_t)plan->p.n, sizeof(double));
    if (plan->work == NULL)
        return hpl_fail(HPL_ENOMEM, "out of memory: openmp needs a second array of n = %lld doubles",
                        (long long)plan->p.n);
    /* start the thread team now (set-up, untimed) */
#pragma omp parallel num_threads(plan->p.threads)
    {
    }
    return HPL_OK;
}

static hpl_status openmp_execute(hpl_diffusion_plan *plan, double *u)
{
    const int64_t n = plan->p.n, steps = plan->p.steps;
    const double r = plan->p.r;
    double *a = u, *b = plan->work;
    b[0] = u[0]; /* the ends never change: set them once in both arrays */
    b[n - 1] = u[n - 1];
    /* every thread walks all the steps and swaps its own copies of a and b */
#pragma omp parallel num_threads(plan->p.threads) firstprivate(a, b)
    for (int64_t t = 0; t < steps; t++) {
#pragma omp for schedule(static)
        for (int64_t i = 1; i < n - 1; i++)
            b[i] = a[i] + r * (a[i + 1] + a[i - 1] - 2 * a[i]);
        double *tmp = a;
        a = b;
        b = tmp;
    }
    if (steps % 2) /* odd step count: the result is in the workspace */
        memcpy(u + 1, (double *)plan->work + 1, (size_t)(n - 2) * sizeof(double));
    return HPL_OK;
}

static void openmp_destroy(hpl_diffusion_plan *plan) { hpl_free(plan->work); }

const hpl_diffusion_backend hpl_diffusion_openmp = {
    .create = openmp_create,
    .execute = openmp_execute,
    .destroy = openmp_destroy,
    .detail = NULL,
};
