/* serial.c - the clean scalar loop: two arrays and a pointer swap instead of
 * the copy loop.  Same arithmetic as naive, so bit-identical to it. */
#include "backend.h"

#include <string.h>

static hpl_status serial_create(hpl_diffusion_plan *plan)
{
    plan->work = hpl_alloc_zeroed((size_t)plan->p.n, sizeof(double));
    if (plan->work == NULL)
        return hpl_fail(HPL_ENOMEM, "out of memory: serial needs a second array of n = %lld doubles",
                        (long long)plan->p.n);
    return HPL_OK;
}

static hpl_status serial_execute(hpl_diffusion_plan *plan, double *u)
{
    const int64_t n = plan->p.n, steps = plan->p.steps;
    const double r = plan->p.r;
    double *a = u, *b = plan->work;
    b[0] = u[0]; /* the ends never change: set them once in both arrays */
    b[n - 1] = u[n - 1];
    for (int64_t t = 0; t < steps; t++) {
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

static void serial_destroy(hpl_diffusion_plan *plan) { hpl_free(plan->work); }

const hpl_diffusion_backend hpl_diffusion_serial = {
    .create = serial_create,
    .execute = serial_execute,
    .destroy = serial_destroy,
    .detail = NULL,
};
