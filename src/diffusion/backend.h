/* backend.h - what a diffusion backend implements (internal).
 *
 * Each backend lives in a file of its own (naive.c, serial.c, simd.c,
 * tiled.c, tiled_openmp.c, spectral.c, later mpi.c and cuda.cu) and defines, in
 * this order:
 *
 *   static hpl_status NAME_create(hpl_diffusion_plan *plan);
 *       Allocate plan->work for plan->p (already validated).  Nothing is
 *       allocated on failure.
 *   static hpl_status NAME_execute(hpl_diffusion_plan *plan, double *u);
 *       Advance u[0..n-1] by plan->p.steps steps in place; u[0], u[n-1] stay.
 *       May only fail before writing to u.
 *   static void NAME_destroy(hpl_diffusion_plan *plan);
 *       Free plan->work.
 *   const hpl_diffusion_backend hpl_diffusion_NAME = {...};
 *
 * and is registered by one row of HPL_DIFFUSION_KERNELS (diffusion.h: name,
 * threaded, data) and one hpl_add_backend line in CMakeLists.txt.
 *
 * plan.c (the driver) validates parameters and inputs, dispatches, and
 * handles steps == 0, so a backend sees n >= 3, 0 < r <= 0.5, steps >= 1,
 * 1 <= threads, finite u.
 */
#ifndef HPCLADDER_DIFFUSION_BACKEND_H
#define HPCLADDER_DIFFUSION_BACKEND_H

#include "hpcladder/diffusion.h"
#include "../common/registry.h"

struct hpl_diffusion_plan {
    hpl_diffusion_kernel kernel;
    hpl_diffusion_params p;
    const struct hpl_diffusion_backend *backend;
    void *work;          /* owned by the backend */
    double plan_seconds; /* time spent in create */
};

typedef struct hpl_diffusion_backend {
    hpl_status (*create)(hpl_diffusion_plan *plan);
    hpl_status (*execute)(hpl_diffusion_plan *plan, double *u);
    void (*destroy)(hpl_diffusion_plan *plan);
    /* Optional: how the kernel runs on this machine (e.g. chosen ISA). */
    const char *(*detail)(void);
} hpl_diffusion_backend;

/* hpl_diffusion_FILE for every row of the table (only built ones are used) */
#define HPL_DIFFUSION_DECLARE_(ID, NAME, FILE, ...) extern HPL_INTERNAL const hpl_diffusion_backend hpl_diffusion_##FILE;
HPL_DIFFUSION_KERNELS(HPL_DIFFUSION_DECLARE_)
#undef HPL_DIFFUSION_DECLARE_

#endif
