/* cuda.h - the CUDA device shared by the CUDA backends (internal): device 0
 * probed once per process, the runtime started once (and what that cost
 * reported to the call that paid it), checked calls that record where and
 * why a call failed, the device-memory check made before allocating, and
 * device timing by events.  Included only by CUDA sources (.cu).
 *
 * The library is C and these sources are CUDA C++: the C headers are
 * included inside extern "C" here, and everything declared here has C
 * linkage and hidden visibility like the rest of the library's internals.
 * All functions are thread-safe; none prints or exits. */
#ifndef HPCLADDER_COMMON_CUDA_H
#define HPCLADDER_COMMON_CUDA_H

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include "internal.h"

/* Check a CUDA runtime status: HPL_OK for cudaSuccess, else record
 * "FILE:LINE: CALL: message (code)" and return HPL_EINTERNAL (HPL_ENOMEM for
 * cudaErrorMemoryAllocation).  The runtime's error state is cleared, so a
 * failure that is not sticky does not leak into later calls.  Use as
 * `if ((s = HPL_CUDA_CHECK(cudaFoo(...))) != HPL_OK) goto fail;`. */
#define HPL_CUDA_CHECK(call) hpl_cuda_check((call), __FILE__, __LINE__, #call)
HPL_INTERNAL hpl_status hpl_cuda_check(cudaError_t e, const char *file, int line, const char *call);

/* "" when device 0 can run this build's kernels, else why not, e.g. "no CUDA
 * device: cudaGetDeviceCount: CUDA driver version is insufficient for CUDA
 * runtime version (35)".  Probes once per process; never crashes without a
 * driver. */
HPL_INTERNAL const char *hpl_cuda_probe(void);

/* "NVIDIA H200, sm_90, 132 SMs, 141 GB" for device 0, "" without one. */
HPL_INTERNAL const char *hpl_cuda_detail(void);

/* Multiprocessors of device 0 (1 without a device): for sizing grids. */
HPL_INTERNAL int hpl_cuda_sm_count(void);

/* Make device 0 current for this thread and start the runtime (the primary
 * context) if this process has not yet.  *context_seconds is what this call
 * paid for the start-up: its wall time the first time, 0 afterwards.
 * HPL_EUNAVAILABLE with the probe's reason without a usable device. */
HPL_INTERNAL hpl_status hpl_cuda_start(double *context_seconds);

/* HPL_OK if `total` bytes fit in the device's free memory (cudaMemGetInfo),
 * else HPL_ENOMEM naming `what`, the bytes needed and the bytes free.  Call
 * it with everything a call will allocate, before the first allocation. */
HPL_INTERNAL hpl_status hpl_cuda_fits(size_t total, const char *what);

/* cudaMalloc of `bytes` into *ptr (NULL on failure): HPL_ENOMEM naming
 * `what` and the size when the device refuses, HPL_EINTERNAL for any other
 * error.  No managed memory anywhere: plain device allocations only. */
HPL_INTERNAL hpl_status hpl_cuda_malloc(void **ptr, size_t bytes, const char *what);

/* A pair of events that time work on the legacy default stream. */
typedef struct hpl_cuda_timer {
    cudaEvent_t start, stop;
} hpl_cuda_timer;

/* Create / destroy the pair (destroy accepts a pair whose create failed). */
HPL_INTERNAL hpl_status hpl_cuda_timer_create(hpl_cuda_timer *t);
HPL_INTERNAL void hpl_cuda_timer_destroy(hpl_cuda_timer *t);
/* Record the start or the stop event on the default stream. */
HPL_INTERNAL hpl_status hpl_cuda_timer_start(hpl_cuda_timer *t);
HPL_INTERNAL hpl_status hpl_cuda_timer_stop(hpl_cuda_timer *t);
/* Wait for the stop event (a kernel's fault surfaces here) and put the
 * device seconds between the two events in *seconds. */
HPL_INTERNAL hpl_status hpl_cuda_timer_seconds(hpl_cuda_timer *t, double *seconds);
}

#endif
