/* openmp.c - placeholder: the openmp kernel is being written; it reports
 * EUNAVAILABLE until then. */
#include "backend.h"

static hpl_status openmp_create(hpl_diffusion_plan *plan)
{
    (void)plan;
    return hpl_fail(HPL_EUNAVAILABLE, "diffusion kernel 'openmp' is not implemented yet");
}

static hpl_status openmp_execute(hpl_diffusion_plan *plan, double *u)
{
    (void)plan; (void)u;
    return HPL_EUNAVAILABLE;
}

static void openmp_destroy(hpl_diffusion_plan *plan) { (void)plan; }

const hpl_diffusion_backend hpl_diffusion_openmp = {
    .name = "openmp",
    .threaded = 1,
    .create = openmp_create,
    .execute = openmp_execute,
    .destroy = openmp_destroy,
    .detail = NULL,
};
