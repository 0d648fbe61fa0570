/* hpcladder/common.h - status codes, error messages, timing and version of
 * libhpcladder.
 *
 * Every library call returns an hpl_status.  On failure the library never
 * prints and never exits: it stores a message naming the offending parameter
 * and its allowed range, readable with hpl_last_error() from the same thread.
 */
#ifndef HPCLADDER_COMMON_H
#define HPCLADDER_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define HPL_API __declspec(dllexport)
#else
#define HPL_API __attribute__((visibility("default")))
#endif

/* Largest thread count any kernel accepts. */
#define HPL_THREADS_MAX 4096

typedef enum hpl_status {
    HPL_OK = 0,
    HPL_EINVAL = 1,       /* a parameter is out of its allowed range */
    HPL_ENOMEM = 2,       /* an allocation failed */
    HPL_EOVERFLOW = 3,    /* a size would overflow the address space */
    HPL_EUNAVAILABLE = 4, /* the kernel was not built into this library */
    HPL_EINTERNAL = 5     /* a backend library (FFTW, MPI, CUDA) failed */
} hpl_status;

/* Where a kernel's field lives while it runs (a column of the kernel tables
 * in diffusion.h and triangles.h). */
typedef enum hpl_data {
    HPL_DATA_HOST = 0,       /* the caller's array in host memory */
    HPL_DATA_DEVICE = 1,     /* an accelerator's memory (upload/download apart) */
    HPL_DATA_DISTRIBUTED = 2 /* blocks spread over the ranks of a communicator */
} hpl_data;

/* Where the time of one kernel call went, for kernels whose data lives
 * elsewhere (HPL_DATA_DEVICE), and for the host kernels in the same shape
 * (their upload and download are copies, their kernel time is the wall time
 * of the call).  Read with hpl_diffusion_plan_times() or filled by
 * hpl_triangles_count_timed().  Seconds; 0 for what did not happen. */
typedef struct hpl_times {
    double context;  /* one-time start-up of the device runtime (CUDA context,
                        OpenCL platform, device and program build), paid by
                        the first plan of a process: reported, never hidden
                        in a kernel time */
    double setup;    /* creating the plan, context excluded: allocations,
                        FFT plans, device buffers */
    double upload;   /* the last upload: the host field to where the kernel
                        keeps it */
    double kernel;   /* the last run, kernel alone: device timers (CUDA
                        events, OpenCL profiling) on a device, the wall clock
                        on the host */
    double compute;  /* the last run, wall time of the call: launches and the
                        final synchronisation (>= kernel) */
    double download; /* the last download: back to the host */
} hpl_times;

/* Lower-case name of a data place ("host", "device", "distributed"), or
 * NULL for a value that is not one. */
HPL_API const char *hpl_data_name(hpl_data d);

/* The workloads, for the generic view of the kernel tables below. */
typedef enum hpl_workload {
    HPL_WORKLOAD_DIFFUSION = 0,
    HPL_WORKLOAD_TRIANGLES = 1,
    HPL_WORKLOAD_COUNT = 2
} hpl_workload;

/* One row of a workload's kernel table, as this build has it. */
typedef struct hpl_kernel_info {
    const char *name;    /* canonical name: CLI value, rung id suffix */
    const char *summary; /* one line: what the kernel does */
    int threaded;        /* 1 if it uses a threads parameter */
    hpl_data data;       /* where its data lives while it runs */
    int built;           /* 1 if this library has it */
    const char *why;     /* why it is not built, or built but not available ("" if available) */
    const char *detail;  /* how it runs on this machine, e.g. the SIMD path or the GPU ("" if nothing to say) */
    int available;       /* 1 if built and it can run here: a device kernel needs its device */
} hpl_kernel_info;

/* "diffusion", "triangles", or NULL for a value that is not a workload. */
HPL_API const char *hpl_workload_name(hpl_workload w);

/* Number of kernel ids of workload w (built or not); 0 for a bad w. */
HPL_API int hpl_kernel_count(hpl_workload w);

/* Row k of workload w's kernel table into *info (pointers into the library,
 * valid while it is loaded).  HPL_EINVAL for a bad w, k or NULL info.  The
 * per-workload functions (hpl_diffusion_kernel_name, ...) give the same. */
HPL_API hpl_status hpl_kernel_info_get(hpl_workload w, int k, hpl_kernel_info *info);

/* Short upper-case name of a status ("OK", "EINVAL", ...); never NULL. */
HPL_API const char *hpl_status_name(hpl_status s);

/* Message of the last failed call made by this thread ("" if none).  The
 * pointer stays valid until the next library call from this thread. */
HPL_API const char *hpl_last_error(void);

/* Library version, "MAJOR.MINOR.PATCH". */
HPL_API const char *hpl_version(void);

/* Monotonic wall clock in seconds, for timing kernels. */
HPL_API double hpl_wtime(void);

#ifdef __cplusplus
}
#endif
#endif
