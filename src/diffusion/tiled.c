/* tiled.c - placeholder: the tiled kernel is being written; it reports
 * EUNAVAILABLE until then. */
#include "backend.h"

static hpl_status tiled_create(hpl_diffusion_plan *plan)
{
    (void)plan;
    return hpl_fail(HPL_EUNAVAILABLE, "diffusion kernel 'tiled' is not implemented yet");
}

static hpl_status tiled_execute(hpl_diffusion_plan *plan, double *u)
{
    (void)plan; (void)u;
    return HPL_EUNAVAILABLE;
}

static void tiled_destroy(hpl_diffusion_plan *plan) { (void)plan; }

const hpl_diffusion_backend hpl_diffusion_tiled = {
    .name = "tiled",
    .threaded = 0,
    .create = tiled_create,
    .execute = tiled_execute,
    .destroy = tiled_destroy,
    .detail = NULL,
};
