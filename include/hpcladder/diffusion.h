/* hpcladder/diffusion.h - the diffusion kernel contract.
 *
 * 1D heat equation, explicit finite differences with fixed (Dirichlet) ends:
 *
 *     u[i] <- u[i] + r * ((u[i+1] + u[i-1]) - 2*u[i])     for 0 < i < n-1,
 *
 * applied `steps` times; u[0] and u[n-1] keep their initial values.  Every
 * kernel computes this same discrete answer: to 1e-12 of max|u| against
 * `naive`, bit-identical where a kernel performs the same arithmetic.
 *
 * Use: hpl_diffusion_plan_create() validates the problem and allocates what a
 * kernel needs (workspace, FFT plans, device memory, communicators);
 * hpl_diffusion_plan_execute() advances a field in place and may be called
 * many times (timing loops time only this); hpl_diffusion_plan_destroy()
 * frees.  hpl_diffusion_solve() does all three.
 *
 * A field that lives elsewhere (a kernel whose data column is DEVICE: GPU
 * memory) is not moved on every call: hpl_diffusion_plan_upload() puts it
 * where the kernel keeps it, hpl_diffusion_plan_advance() steps it there
 * (what a kernel timer measures), hpl_diffusion_plan_download() brings it
 * back, and hpl_diffusion_plan_times() says what each part cost.  This is
 * the shape of the distributed field of hpcladder/mpi.h (scatter, execute,
 * gather), and it works for every kernel: a host kernel's field is then a
 * copy owned by the plan.  hpl_diffusion_plan_execute(plan, u) on a device
 * kernel is upload + advance + download in one call.
 */
#ifndef HPCLADDER_DIFFUSION_H
#define HPCLADDER_DIFFUSION_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The kernel table: every diffusion kernel, one row each, in id order.  A new
 * kernel is appended (ids are never renumbered).  Columns:
 *   ID        the enum constant HPL_DIFFUSION_<ID>
 *   "name"    canonical name: the CLI's --kernel value, the rung id c-<name>,
 *             Python's kernel="<name>"
 *   file      the backend: src/diffusion/<file>.c defines hpl_diffusion_<file>;
 *             its hpl_add_backend line in CMakeLists.txt decides whether it
 *             is built, and the reason when it is not
 *   threaded  1 if the kernel uses params.threads
 *   data      where the field lives while execute runs (hpl_data)
 *   "summary" one line for --list, --help and the docs
 * Everything that lists kernels (messages, --help, --list, the Python
 * bindings, tests, bench) reads this table through the functions below. */
#define HPL_DIFFUSION_KERNELS(X)                                                                             \
    X(NAIVE, "naive", naive, 0, HOST, "the talk's C loop: a second array and a copy loop every step")       \
    X(SERIAL, "serial", serial, 0, HOST, "the clean scalar loop: a pointer swap instead of the copy")        \
    X(SIMD, "simd", simd, 0, HOST, "the serial loop vectorised (AVX-512 / AVX2 / portable, at run time)")  \
    X(TILED, "tiled", tiled, 0, HOST, "temporal blocking in cache: lane-folded tiles, many steps per sweep") \
    X(TILED_OPENMP, "tiled-openmp", tiled_openmp, 1, HOST, "the tiled kernel's tiles over OpenMP threads")  \
    X(SPECTRAL, "spectral", spectral, 0, HOST, "the exact solution of the discrete problem by FFTW, O(n log n)") \
    X(OPENMP, "openmp", openmp, 1, HOST, "the serial loop over OpenMP threads: one barrier every step") \
    X(CUDA_NAIVE, "cuda-naive", cuda_naive, 0, DEVICE, "CUDA: the serial loop on the GPU, one kernel launch per step") \
    X(CUDA_TILED, "cuda-tiled", cuda_tiled, 0, DEVICE,                                                       \
      "CUDA: temporal blocking, each block steps a tile and its ghosts many times in registers")         \
    X(OPENCL_NAIVE, "opencl-naive", opencl_naive, 0, DEVICE, "OpenCL: the serial loop, one kernel per step")   \
    X(OPENCL_TILED, "opencl-tiled", opencl_tiled, 0, DEVICE,                                                 \
      "OpenCL: temporal blocking, each work-group steps a tile many times in local memory")                  \
    /* new kernels are appended above this line */

typedef enum hpl_diffusion_kernel {
#define HPL_DIFFUSION_ENUM_(ID, ...) HPL_DIFFUSION_##ID,
    HPL_DIFFUSION_KERNELS(HPL_DIFFUSION_ENUM_)
#undef HPL_DIFFUSION_ENUM_
    HPL_DIFFUSION_KERNEL_COUNT
} hpl_diffusion_kernel;

/* Limits checked by the library. */
#define HPL_DIFFUSION_N_MIN 3
#define HPL_DIFFUSION_R_MAX 0.5

typedef struct hpl_diffusion_params {
    int64_t n;     /* points, including both fixed ends: n >= 3 */
    double r;      /* kappa*dt/dx^2, stable for 0 < r <= 0.5 */
    int64_t steps; /* time steps: steps >= 0 */
    int threads;   /* threads for threaded kernels: 1..HPL_THREADS_MAX
                      (single-threaded kernels ignore it) */
} hpl_diffusion_params;

typedef struct hpl_diffusion_plan hpl_diffusion_plan;

/* Number of kernel ids (built or not): HPL_DIFFUSION_KERNEL_COUNT of the
 * library actually loaded, for bindings that cannot read the header. */
HPL_API int hpl_diffusion_kernel_count(void);

/* Canonical name of kernel k, or NULL if k is not a kernel id. */
HPL_API const char *hpl_diffusion_kernel_name(hpl_diffusion_kernel k);

/* Look a kernel up by canonical name.  HPL_EINVAL for an unknown name, with
 * a message that lists every name. */
HPL_API hpl_status hpl_diffusion_kernel_from_name(const char *name,
                                                  hpl_diffusion_kernel *k);

/* One line saying what kernel k does ("" if k is not a kernel id). */
HPL_API const char *hpl_diffusion_kernel_summary(hpl_diffusion_kernel k);

/* 1 if kernel k is built into this library and can run here (a DEVICE
 * kernel needs its device: probed once per process), else 0 and, if
 * why != NULL, *why says what is missing (e.g. "built without FFTW", "no
 * CUDA device: ..."). */
HPL_API int hpl_diffusion_kernel_available(hpl_diffusion_kernel k,
                                           const char **why);

/* 1 if kernel k uses params.threads, else 0 (also for a bad id). */
HPL_API int hpl_diffusion_kernel_threaded(hpl_diffusion_kernel k);

/* Where kernel k keeps the field while it runs (HPL_DATA_HOST for a bad id). */
HPL_API hpl_data hpl_diffusion_kernel_data(hpl_diffusion_kernel k);

/* One line describing how kernel k works on this machine, e.g. which SIMD
 * instruction set the simd kernel dispatched to ("" if none). */
HPL_API const char *hpl_diffusion_kernel_detail(hpl_diffusion_kernel k);

/* Validate params and prepare kernel k.  On success *plan owns everything the
 * kernel needs; on failure *plan is NULL and nothing is allocated. */
HPL_API hpl_status hpl_diffusion_plan_create(hpl_diffusion_kernel k,
                                             const hpl_diffusion_params *params,
                                             hpl_diffusion_plan **plan);

/* Advance u (params.n values, all finite) by params.steps steps in place.
 * On failure u is left exactly as it was. */
HPL_API hpl_status hpl_diffusion_plan_execute(hpl_diffusion_plan *plan,
                                              double *u);

/* The resident field, for every kernel (see the top of this file).
 * upload: u (params.n values, all finite) becomes the plan's field, in the
 * kernel's memory (device memory for DEVICE kernels; a copy owned by the
 * plan for HOST kernels).  advance: step the plan's field by params.steps
 * steps where it is (HPL_EINVAL before an upload); nothing crosses to the
 * host, and for a device kernel the call returns when the device is done.
 * download: the plan's field into u (params.n values).  A failed call
 * leaves the plan's field and u as they were. */
HPL_API hpl_status hpl_diffusion_plan_upload(hpl_diffusion_plan *plan, const double *u);
HPL_API hpl_status hpl_diffusion_plan_advance(hpl_diffusion_plan *plan);
HPL_API hpl_status hpl_diffusion_plan_download(hpl_diffusion_plan *plan, double *u);

/* What the plan's calls cost (hpl_times in common.h): context and setup of
 * create, and the last upload, advance (kernel and compute) and download;
 * execute on a device kernel records all three parts. */
HPL_API hpl_status hpl_diffusion_plan_times(const hpl_diffusion_plan *plan, hpl_times *times);

/* Seconds spent in hpl_diffusion_plan_create (FFT planning, allocation). */
HPL_API double hpl_diffusion_plan_seconds(const hpl_diffusion_plan *plan);

/* Free a plan; NULL is allowed. */
HPL_API void hpl_diffusion_plan_destroy(hpl_diffusion_plan *plan);

/* create + execute + destroy. */
HPL_API hpl_status hpl_diffusion_solve(hpl_diffusion_kernel k,
                                       const hpl_diffusion_params *params,
                                       double *u);

/* The talk's initial field: u[i] = exp(-(i - n/2)^2 / 100000), i = 0..n-1. */
HPL_API hpl_status hpl_diffusion_init_gaussian(int64_t n, double *u);

/* Discrete sine mode k: u[j] = sin(k*pi*j/(n-1)), 1 <= k <= n-2; ends are 0. */
HPL_API hpl_status hpl_diffusion_init_sine(int64_t n, int64_t k, double *u);

/* Exact per-step factor of sine mode k: 1 - 4 r sin^2(k*pi/(2(n-1))). */
HPL_API double hpl_diffusion_sine_factor(int64_t n, int64_t k, double r);

/* The factor raised to the power steps, accurate to a few ulps for any
 * steps: pow(hpl_diffusion_sine_factor(...), steps) is not, since rounding
 * the factor (about 1 - 1e-10 for k = 1, n = 1e5) costs steps * 1e-16 of
 * relative accuracy.  Computed as exp(steps * log1p(-4 r sin^2(...))). */
HPL_API double hpl_diffusion_sine_decay(int64_t n, int64_t k, double r, int64_t steps);

#ifdef __cplusplus
}
#endif
#endif
