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

/* Lower-case name of a data place ("host", "device", "distributed"), or
 * NULL for a value that is not one. */
HPL_API const char *hpl_data_name(hpl_data d);

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
