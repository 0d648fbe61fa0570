/* opencl.h - the OpenCL device shared by the OpenCL backends (internal):
 * one platform, device, context and in-order profiling queue per process,
 * program builds cached per process, checked calls that record where and
 * why a call failed, and the device-memory check made before allocating.
 *
 * Life cycle: hpl_cl_probe() discovers the platform and device once (the
 * registry calls it for availability, before every create and count);
 * hpl_cl_acquire() creates the context and queue once; hpl_cl_program()
 * builds a program once.  Both report the seconds that this call paid
 * (0 when an earlier call did), which the backends put in times.context.
 * Nothing is released: the context lives until the process ends (see
 * opencl.c).  All functions are thread-safe. */
#ifndef HPCLADDER_OPENCL_H
#define HPCLADDER_OPENCL_H

#define CL_TARGET_OPENCL_VERSION 120 /* the OpenCL 1.2 API: what every driver still has */
#include <CL/cl.h>

#include "internal.h"

/* The device the OpenCL backends run on, and what they size work by. */
typedef struct hpl_cl_device {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;     /* NULL until hpl_cl_acquire() */
    cl_command_queue queue; /* in-order, CL_QUEUE_PROFILING_ENABLE */
    cl_device_type type;    /* CL_DEVICE_TYPE_GPU, _CPU, ... */
    cl_uint compute_units;
    cl_ulong global_mem;    /* CL_DEVICE_GLOBAL_MEM_SIZE */
    cl_ulong max_alloc;     /* CL_DEVICE_MAX_MEM_ALLOC_SIZE: the largest one buffer */
    cl_ulong local_mem;     /* CL_DEVICE_LOCAL_MEM_SIZE per work-group */
    size_t max_work_group;  /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    int fp64;               /* double precision (cl_khr_fp64 or OpenCL 1.2+ double config) */
    char name[128];
    char platform_name[128];
} hpl_cl_device;

/* Check an OpenCL status: HPL_OK for CL_SUCCESS, else record
 * "FILE:LINE: CALL: CL_NAME (code)" and return HPL_EINTERNAL (HPL_ENOMEM
 * for the out-of-memory codes).  Use as s = HPL_CL_CHECK(clFoo(...)), or for
 * the creators HPL_CL_CHECK((x = clCreateFoo(..., &err), err)). */
#define HPL_CL_CHECK(call) hpl_cl_check((call), __FILE__, __LINE__, #call)
HPL_INTERNAL hpl_status hpl_cl_check(cl_int err, const char *file, int line, const char *call);

/* "CL_OUT_OF_RESOURCES" for -5 and so on; "CL_UNKNOWN_ERROR" for codes it
 * does not know. */
HPL_INTERNAL const char *hpl_cl_error_name(cl_int err);

/* "" when an OpenCL device is usable here, else why not (no ICD, no
 * platform, no device, a bad HPCLADDER_OPENCL_DEVICE).  Discovers once per
 * process; never crashes without an ICD. */
HPL_INTERNAL const char *hpl_cl_probe(void);

/* hpl_cl_probe(), and for kernels in double precision also whether the
 * device has it (cl_khr_fp64): "" or the reason. */
HPL_INTERNAL const char *hpl_cl_probe_fp64(void);

/* "device name (platform), CPU|GPU|accelerator, N compute units, X GiB
 * global memory"; "" without a device (the probe's reason says why). */
HPL_INTERNAL const char *hpl_cl_detail(void);

/* The device with its context and queue, created at the first call of the
 * process; *seconds (may be NULL) is what this call paid for them (0 after).
 * HPL_EUNAVAILABLE with the probe's reason without a device. */
HPL_INTERNAL hpl_status hpl_cl_acquire(const hpl_cl_device **dev, double *seconds);

/* The program built from source (a static string: its address is the cache
 * key), with the options fixed in opencl.c; *seconds (may be NULL) is the
 * build time this call paid (0 when cached).  On a failed build the message
 * carries the start of the build log.  Needs hpl_cl_acquire() first. */
HPL_INTERNAL hpl_status hpl_cl_program(const char *source, cl_program *program, double *seconds);

/* HPL_OK if `buffers` buffers of `bytes` each fit the device (each within
 * CL_DEVICE_MAX_MEM_ALLOC_SIZE, all within CL_DEVICE_GLOBAL_MEM_SIZE), else
 * HPL_ENOMEM naming `what` and the sizes. */
HPL_INTERNAL hpl_status hpl_cl_fits(const hpl_cl_device *dev, const char *what, uint64_t bytes, int buffers);

/* Seconds from CL_PROFILING_COMMAND_START to _END of a finished event,
 * added to *sum. */
HPL_INTERNAL hpl_status hpl_cl_event_add(cl_event ev, double *sum);

#endif
