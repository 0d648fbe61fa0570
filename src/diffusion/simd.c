/* simd.c - placeholder: the simd kernel is being written; it reports
 * EUNAVAILABLE until then. */
#include "backend.h"

static hpl_status simd_create(hpl_diffusion_plan *plan)
{
    (void)plan;
    return hpl_fail(HPL_EUNAVAILABLE, "diffusion kernel 'simd' is not implemented yet");
}

static hpl_status simd_execute(hpl_diffusion_plan *plan, double *u)
{
    (void)plan; (void)u;
    return HPL_EUNAVAILABLE;
}

static void simd_destroy(hpl_diffusion_plan *plan) { (void)plan; }

const hpl_diffusion_backend hpl_diffusion_simd = {
    .name = "simd",
    .threaded = 0,
    .create = simd_create,
    .execute = simd_execute,
    .destroy = simd_destroy,
    .detail = NULL,
};
