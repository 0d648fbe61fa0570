/* spectral.c - placeholder: the spectral kernel is being written; it reports
 * EUNAVAILABLE until then. */
#include "backend.h"

static hpl_status spectral_create(hpl_diffusion_plan *plan)
{
    (void)plan;
    return hpl_fail(HPL_EUNAVAILABLE, "diffusion kernel 'spectral' is not implemented yet");
}

static hpl_status spectral_execute(hpl_diffusion_plan *plan, double *u)
{
    (void)plan; (void)u;
    return HPL_EUNAVAILABLE;
}

static void spectral_destroy(hpl_diffusion_plan *plan) { (void)plan; }

const hpl_diffusion_backend hpl_diffusion_spectral = {
    .name = "spectral",
    .threaded = 0,
    .create = spectral_create,
    .execute = spectral_execute,
    .destroy = spectral_destroy,
    .detail = NULL,
};
