/* opencl.c - the OpenCL device shared by the OpenCL backends (opencl.h):
 * discovery and choice of the device, the process's one context and
 * profiling queue, cached program builds, error names, the memory check.
 *
 * Timing: the registry probes availability before every create and count,
 * so platform and device discovery (hpl_cl_probe) is paid there, once; its
 * seconds are added to the context time of the call that creates the
 * context.  The context, the queue (hpl_cl_acquire) and each program build
 * (hpl_cl_program) are paid by the first create or count that needs them
 * and are reported in its times.context (hpl_times says the program build
 * belongs there), 0 after.
 *
 * Release: nothing is released.  The context, queue and programs live until
 * the process ends and the driver reclaims them: releasing them from an
 * atexit handler would race the ICD's and PoCL's own exit-time teardown
 * (whose order against ours is unspecified), and an error there could only
 * crash a process that has finished its work.  They stay reachable from
 * the statics below, so leak checkers list them as still reachable, beside
 * PoCL's own allocations. */
#include "opencl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* context and programs */
static hpl_cl_device device;      /* written once by discover(), the context under lock */
static char probe_why[400];       /* "" when device is usable */
static char fp64_why[400];        /* "" when the device also has doubles */
static char detail_text[400];

const char *hpl_cl_error_name(cl_int err)
{
    switch (err) {
#define NAME_(c) case c: return #c;
        NAME_(CL_SUCCESS)
        NAME_(CL_DEVICE_NOT_FOUND)
        NAME_(CL_DEVICE_NOT_AVAILABLE)
        NAME_(CL_COMPILER_NOT_AVAILABLE)
        NAME_(CL_MEM_OBJECT_ALLOCATION_FAILURE)
        NAME_(CL_OUT_OF_RESOURCES)
        NAME_(CL_OUT_OF_HOST_MEMORY)
        NAME_(CL_PROFILING_INFO_NOT_AVAILABLE)
        NAME_(CL_MEM_COPY_OVERLAP)
        NAME_(CL_IMAGE_FORMAT_MISMATCH)
        NAME_(CL_IMAGE_FORMAT_NOT_SUPPORTED)
        NAME_(CL_BUILD_PROGRAM_FAILURE)
        NAME_(CL_MAP_FAILURE)
        NAME_(CL_MISALIGNED_SUB_BUFFER_OFFSET)
        NAME_(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
        NAME_(CL_COMPILE_PROGRAM_FAILURE)
        NAME_(CL_LINKER_NOT_AVAILABLE)
        NAME_(CL_LINK_PROGRAM_FAILURE)
        NAME_(CL_DEVICE_PARTITION_FAILED)
        NAME_(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
        NAME_(CL_INVALID_VALUE)
        NAME_(CL_INVALID_DEVICE_TYPE)
        NAME_(CL_INVALID_PLATFORM)
        NAME_(CL_INVALID_DEVICE)
        NAME_(CL_INVALID_CONTEXT)
        NAME_(CL_INVALID_QUEUE_PROPERTIES)
        NAME_(CL_INVALID_COMMAND_QUEUE)
        NAME_(CL_INVALID_HOST_PTR)
        NAME_(CL_INVALID_MEM_OBJECT)
        NAME_(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
        NAME_(CL_INVALID_IMAGE_SIZE)
        NAME_(CL_INVALID_SAMPLER)
        NAME_(CL_INVALID_BINARY)
        NAME_(CL_INVALID_BUILD_OPTIONS)
        NAME_(CL_INVALID_PROGRAM)
        NAME_(CL_INVALID_PROGRAM_EXECUTABLE)
        NAME_(CL_INVALID_KERNEL_NAME)
        NAME_(CL_INVALID_KERNEL_DEFINITION)
        NAME_(CL_INVALID_KERNEL)
        NAME_(CL_INVALID_ARG_INDEX)
        NAME_(CL_INVALID_ARG_VALUE)
        NAME_(CL_INVALID_ARG_SIZE)
        NAME_(CL_INVALID_KERNEL_ARGS)
        NAME_(CL_INVALID_WORK_DIMENSION)
        NAME_(CL_INVALID_WORK_GROUP_SIZE)
        NAME_(CL_INVALID_WORK_ITEM_SIZE)
        NAME_(CL_INVALID_GLOBAL_OFFSET)
        NAME_(CL_INVALID_EVENT_WAIT_LIST)
        NAME_(CL_INVALID_EVENT)
        NAME_(CL_INVALID_OPERATION)
        NAME_(CL_INVALID_GL_OBJECT)
        NAME_(CL_INVALID_BUFFER_SIZE)
        NAME_(CL_INVALID_MIP_LEVEL)
        NAME_(CL_INVALID_GLOBAL_WORK_SIZE)
        NAME_(CL_INVALID_PROPERTY)
        NAME_(CL_INVALID_IMAGE_DESCRIPTOR)
        NAME_(CL_INVALID_COMPILER_OPTIONS)
        NAME_(CL_INVALID_LINKER_OPTIONS)
        NAME_(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef NAME_
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR"; /* cl_khr_icd: the loader found no driver */
    }
    return "CL_UNKNOWN_ERROR";
}

hpl_status hpl_cl_check(cl_int err, const char *file, int line, const char *call)
{
    if (err == CL_SUCCESS)
        return HPL_OK;
    /* the device ran out of memory: the caller's problem is its size, not a
     * fault of the runtime */
    hpl_status s = err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_HOST_MEMORY ? HPL_ENOMEM
                                                                                           : HPL_EINTERNAL;
    return hpl_fail(s, "%s:%d: %s: %s (%d)", file, line, call, hpl_cl_error_name(err), (int)err);
}

/* ---- discovery -------------------------------------------------------------- */

/* A string property of a device or platform into buf ("?" on failure). */
static void device_string(cl_device_id d, cl_device_info what, char *buf, size_t len)
{
    if (clGetDeviceInfo(d, what, len, buf, NULL) != CL_SUCCESS)
        snprintf(buf, len, "?");
    buf[len - 1] = '\0';
}

static void platform_string(cl_platform_id p, char *buf, size_t len)
{
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, len, buf, NULL) != CL_SUCCESS)
        snprintf(buf, len, "?");
    buf[len - 1] = '\0';
}

/* Read the properties the backends size their work by. */
static void describe(cl_platform_id p, cl_device_id d)
{
    device.platform = p;
    device.device = d;
    platform_string(p, device.platform_name, sizeof device.platform_name);
    device_string(d, CL_DEVICE_NAME, device.name, sizeof device.name);
    /* failed queries leave 0: the backends then size for the least */
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof device.type, &device.type, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof device.compute_units, &device.compute_units, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof device.global_mem, &device.global_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof device.max_alloc, &device.max_alloc, NULL);
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof device.local_mem, &device.local_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof device.max_work_group, &device.max_work_group, NULL);
    if (device.compute_units == 0)
        device.compute_units = 1;
    if (device.max_work_group == 0)
        device.max_work_group = 1;
    /* double precision: OpenCL 1.2 devices report a non-zero
     * CL_DEVICE_DOUBLE_FP_CONFIG; older ones only the extension */
    cl_device_fp_config fp = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp, &fp, NULL) != CL_SUCCESS)
        fp = 0;
    char ext[4096];
    device_string(d, CL_DEVICE_EXTENSIONS, ext, sizeof ext);
    device.fp64 = fp != 0 || strstr(ext, "cl_khr_fp64") != NULL;
}

/* The device HPCLADDER_OPENCL_DEVICE=P:D names, or the reason it cannot. */
static int choose_override(const char *env, cl_platform_id *plats, cl_uint np)
{
    unsigned pi, di;
    char tail;
    if (sscanf(env, "%u:%u%c", &pi, &di, &tail) != 2) {
        snprintf(probe_why, sizeof probe_why,
                 "HPCLADDER_OPENCL_DEVICE='%.40s' is not PLATFORM:DEVICE (two indices, e.g. 0:0; clinfo -l lists them)",
                 env);
        return 0;
    }
    if (pi >= np) {
        snprintf(probe_why, sizeof probe_why,
                 "HPCLADDER_OPENCL_DEVICE=%u:%u: there is no platform %u (this machine has %u; clinfo -l lists them)",
                 pi, di, pi, np);
        return 0;
    }
    cl_device_id devs[MAX_DEVICES];
    cl_uint nd = 0;
    cl_int err = clGetDeviceIDs(plats[pi], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devs, &nd);
    if (err != CL_SUCCESS)
        nd = 0;
    if (di >= nd) {
        char pname[128];
        platform_string(plats[pi], pname, sizeof pname);
        snprintf(probe_why, sizeof probe_why,
                 "HPCLADDER_OPENCL_DEVICE=%u:%u: platform %u (%.60s) has no device %u (it has %u; clinfo -l lists them)",
                 pi, di, pi, pname, di, nd);
        return 0;
    }
    describe(plats[pi], devs[di]);
    return 1;
}

/* The first GPU of any platform, else the first device of any type. */
static int choose_default(cl_platform_id *plats, cl_uint np)
{
    const cl_device_type order[] = {CL_DEVICE_TYPE_GPU, CL_DEVICE_TYPE_ALL};
    for (int o = 0; o < 2; o++)
        for (cl_uint i = 0; i < np; i++) {
            cl_device_id d;
            cl_uint nd = 0;
            if (clGetDeviceIDs(plats[i], order[o], 1, &d, &nd) == CL_SUCCESS && nd > 0) {
                describe(plats[i], d);
                return 1;
            }
        }
    snprintf(probe_why, sizeof probe_why,
             "no OpenCL device: %u platform(s) but no device on any (apt-get install pocl-opencl-icd for the CPU)", np);
    return 0;
}

/* Once per process: find the platforms and choose the device. */
static void discover(void)
{
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(MAX_PLATFORMS, plats, &np);
    if (err != CL_SUCCESS || np == 0) {
        /* ocl-icd says CL_PLATFORM_NOT_FOUND_KHR when no driver is listed
         * (/etc/OpenCL/vendors, or OCL_ICD_VENDORS) */
        if (err == CL_SUCCESS)
            err = -1001;
        snprintf(probe_why, sizeof probe_why,
                 "no OpenCL platform: clGetPlatformIDs: %s (%d) (apt-get install pocl-opencl-icd for the CPU)",
                 hpl_cl_error_name(err), (int)err);
        return;
    }
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;
    const char *env = getenv("HPCLADDER_OPENCL_DEVICE");
    int found = env != NULL && env[0] != '\0' ? choose_override(env, plats, np) : choose_default(plats, np);
    if (!found)
        return;
    cl_bool avail = CL_TRUE, compiler = CL_TRUE;
    clGetDeviceInfo(device.device, CL_DEVICE_AVAILABLE, sizeof avail, &avail, NULL);
    clGetDeviceInfo(device.device, CL_DEVICE_COMPILER_AVAILABLE, sizeof compiler, &compiler, NULL);
    if (!avail || !compiler) {
        snprintf(probe_why, sizeof probe_why, "the OpenCL device '%.60s' (%.60s) is %s", device.name,
                 device.platform_name, !avail ? "not available (CL_DEVICE_AVAILABLE is false)"
                                              : "without a compiler (CL_DEVICE_COMPILER_AVAILABLE is false)");
        return;
    }
    if (!device.fp64)
        snprintf(fp64_why, sizeof fp64_why,
                 "the OpenCL device '%.60s' (%.60s) has no double precision (cl_khr_fp64); "
                 "HPCLADDER_OPENCL_DEVICE=PLATFORM:DEVICE chooses another",
                 device.name, device.platform_name);
    const char *kind = device.type & CL_DEVICE_TYPE_GPU   ? "GPU"
                       : device.type & CL_DEVICE_TYPE_CPU ? "CPU"
                                                          : "accelerator";
    snprintf(detail_text, sizeof detail_text, "%.100s (%.80s), %s, %u compute units, %.1f GiB global memory",
             device.name, device.platform_name, kind, device.compute_units,
             (double)device.global_mem / (1024.0 * 1024.0 * 1024.0));
}

/* seconds discover() took (platform and device discovery) */
static double discover_seconds;

static void discover_timed(void)
{
    double t0 = hpl_wtime();
    discover();
    discover_seconds = hpl_wtime() - t0;
}

const char *hpl_cl_probe(void)
{
    pthread_once(&probe_once, discover_timed);
    return probe_why;
}

const char *hpl_cl_probe_fp64(void)
{
    const char *why = hpl_cl_probe();
    return why[0] ? why : fp64_why;
}

const char *hpl_cl_detail(void)
{
    hpl_cl_probe();
    return detail_text; /* "" without a device: the probe's reason says why */
}

/* ---- context, queue, programs ------------------------------------------------- */

hpl_status hpl_cl_acquire(const hpl_cl_device **dev, double *seconds)
{
    if (seconds)
        *seconds = 0.0;
    const char *why = hpl_cl_probe();
    if (why[0])
        return hpl_fail(HPL_EUNAVAILABLE, "%s", why);
    hpl_status s = HPL_OK;
    pthread_mutex_lock(&lock);
    if (device.queue == NULL) {
        double t0 = hpl_wtime();
        cl_int err;
        cl_context ctx = NULL;
        cl_command_queue q = NULL;
        s = HPL_CL_CHECK((ctx = clCreateContext(NULL, 1, &device.device, NULL, NULL, &err), err));
        if (s == HPL_OK)
            /* in order: a step reads what the previous one wrote; profiling:
             * kernel times come from the device's event timestamps */
            s = HPL_CL_CHECK((q = clCreateCommandQueue(ctx, device.device, CL_QUEUE_PROFILING_ENABLE, &err), err));
        if (s == HPL_OK) {
            device.context = ctx;
            device.queue = q;
            if (seconds)
                *seconds = hpl_wtime() - t0 + discover_seconds;
        } else if (ctx != NULL) {
            clReleaseContext(ctx);
        }
    }
    pthread_mutex_unlock(&lock);
    if (s == HPL_OK)
        *dev = &device;
    return s;
}

/* Built programs, by source address: a handful of static strings. */
static struct {
    const char *source;
    cl_program program;
} cache[8];

/* Build source for the device; the build log's start goes in the message. */
static hpl_status build(const char *source, cl_program *out)
{
    cl_int err;
    cl_program p = NULL;
    hpl_status s = HPL_CL_CHECK((p = clCreateProgramWithSource(device.context, 1, &source, NULL, &err), err));
    if (s != HPL_OK)
        return s;
    /* No options on purpose: no -cl-mad-enable, -cl-unsafe-math-optimizations
     * or -cl-fast-relaxed-math, so each operation rounds as the C kernels'
     * do (the sources also say #pragma OPENCL FP_CONTRACT OFF). */
    err = clBuildProgram(p, 1, &device.device, "", NULL, NULL);
    if (err != CL_SUCCESS) {
        char log[2048] = "";
        clGetProgramBuildInfo(p, device.device, CL_PROGRAM_BUILD_LOG, sizeof log, log, NULL);
        log[sizeof log - 1] = '\0';
        clReleaseProgram(p);
        return hpl_fail(HPL_EINTERNAL, "clBuildProgram for '%.60s': %s (%d); build log: %.300s", device.name,
                        hpl_cl_error_name(err), (int)err, log[0] ? log : "(empty)");
    }
    *out = p;
    return HPL_OK;
}

hpl_status hpl_cl_program(const char *source, cl_program *program, double *seconds)
{
    if (seconds)
        *seconds = 0.0;
    hpl_status s = HPL_OK;
    size_t i;
    pthread_mutex_lock(&lock);
    for (i = 0; i < sizeof cache / sizeof cache[0] && cache[i].source != NULL && cache[i].source != source; i++)
        ;
    if (i == sizeof cache / sizeof cache[0]) {
        s = hpl_fail(HPL_EINTERNAL, "OpenCL program cache is full (%zu programs)", i);
    } else if (cache[i].source == NULL) {
        /* the first build: PoCL compiles with LLVM here (its on-disk cache
         * makes later processes faster) */
        double t0 = hpl_wtime();
        s = build(source, &cache[i].program);
        if (s == HPL_OK) {
            cache[i].source = source;
            if (seconds)
                *seconds = hpl_wtime() - t0;
        }
    }
    if (s == HPL_OK)
        *program = cache[i].program;
    pthread_mutex_unlock(&lock);
    return s;
}

/* ---- memory and timers --------------------------------------------------------- */

hpl_status hpl_cl_fits(const hpl_cl_device *dev, const char *what, uint64_t bytes, int buffers)
{
    const double gib = 1024.0 * 1024.0 * 1024.0;
    if (bytes > dev->max_alloc)
        return hpl_fail(HPL_ENOMEM,
                        "%s needs a buffer of %llu bytes (%.2f GiB); the OpenCL device '%.60s' allows at most "
                        "%.2f GiB in one buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE)",
                        what, (unsigned long long)bytes, (double)bytes / gib, dev->name,
                        (double)dev->max_alloc / gib);
    /* bytes <= max_alloc <= 2^64 / buffers in practice; double avoids the overflow anyway */
    if ((double)bytes * buffers > (double)dev->global_mem)
        return hpl_fail(HPL_ENOMEM,
                        "%s needs %d buffers of %llu bytes (%.2f GiB in all); the OpenCL device '%.60s' has "
                        "%.2f GiB (CL_DEVICE_GLOBAL_MEM_SIZE)",
                        what, buffers, (unsigned long long)bytes, (double)bytes * buffers / gib, dev->name,
                        (double)dev->global_mem / gib);
    return HPL_OK;
}

hpl_status hpl_cl_event_add(cl_event ev, double *sum)
{
    cl_ulong start = 0, end = 0;
    hpl_status s = HPL_CL_CHECK(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL));
    if (s == HPL_OK)
        s = HPL_CL_CHECK(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL));
    if (s == HPL_OK && end > start)
        *sum += 1e-9 * (double)(end - start); /* nanoseconds by the spec */
    return s;
}
