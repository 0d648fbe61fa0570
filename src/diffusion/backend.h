/* backend.h - what a diffusion backend implements (internal).
 *
 * Each backend lives in a file of its own (naive.c, serial.c, simd.c,
 * tiled.c, tiled_openmp.c, spectral.c, cuda.cu, opencl.c) and a host kernel
 * (data HOST) defines, in this order:
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
 * A device kernel (data DEVICE: cuda.cu, opencl.c) keeps the field in its
 * own memory and defines instead, in this order:
 *
 *   static hpl_status NAME_create(hpl_diffusion_plan *plan);
 *       Start the device runtime if this process has not yet (store the
 *       seconds it took in plan->times.context), allocate the device field
 *       and workspace.  HPL_EUNAVAILABLE with the reason when there is no
 *       usable device; nothing is allocated on failure.
 *   static hpl_status NAME_upload(hpl_diffusion_plan *plan, const double *u);
 *       u[0..n-1] into the device field (synchronous).
 *   static hpl_status NAME_advance(hpl_diffusion_plan *plan, double *kernel_seconds);
 *       Step the device field plan->p.steps times (steps >= 1); return when
 *       the device is done, with the device-timed kernel seconds.
 *   static hpl_status NAME_download(hpl_diffusion_plan *plan, double *u);
 *       The device field into u[0..n-1] (synchronous).
 *   static void NAME_destroy(hpl_diffusion_plan *plan);
 *   const hpl_diffusion_backend hpl_diffusion_NAME = {...};   (execute NULL)
 *
 * plan.c (the driver) validates parameters and inputs, dispatches, times
 * the calls, and handles steps == 0, so a backend sees n >= 3,
 * 0 < r <= 0.5, steps >= 1, 1 <= threads, finite u, and upload before
 * advance and download.  It gives host kernels the resident life cycle
 * (upload into a plan-owned copy, advance = execute on it) and device
 * kernels execute (upload + advance + download).
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
    hpl_times times;     /* what the calls cost; a device backend's create
                            sets times.context, the driver the rest */
    double *resident;    /* host kernels: the field between upload and
                            download (owned by the driver) */
    int uploaded;        /* a field has been uploaded */
};

typedef struct hpl_diffusion_backend {
    hpl_status (*create)(hpl_diffusion_plan *plan);
    hpl_status (*execute)(hpl_diffusion_plan *plan, double *u);
    void (*destroy)(hpl_diffusion_plan *plan);
    /* Optional: how the kernel runs on this machine (e.g. chosen ISA, the
     * GPU found, or why there is none). */
    const char *(*detail)(void);
    /* Optional: why the kernel cannot run here ("" or NULL if it can): a
     * device kernel without its device.  Cheap after the first call. */
    const char *(*probe)(void);
    /* Device kernels, in place of execute (NULL for host kernels). */
    hpl_status (*upload)(hpl_diffusion_plan *plan, const double *u);
    hpl_status (*advance)(hpl_diffusion_plan *plan, double *kernel_seconds);
    hpl_status (*download)(hpl_diffusion_plan *plan, double *u);
} hpl_diffusion_backend;

/* hpl_diffusion_FILE for every row of the table (only built ones are used) */
#define HPL_DIFFUSION_DECLARE_(ID, NAME, FILE, ...) extern HPL_INTERNAL const hpl_diffusion_backend hpl_diffusion_##FILE;
HPL_DIFFUSION_KERNELS(HPL_DIFFUSION_DECLARE_)
#undef HPL_DIFFUSION_DECLARE_

#endif
