/* cuda.cu - the CUDA device shared by the CUDA backends (cuda.h): the probe
 * of device 0, the runtime's start-up, checked calls, the device-memory
 * check and event timers.
 *
 * The library links the CUDA runtime statically, so it loads on machines
 * without CUDA; there cudaGetDeviceCount fails (35, no driver) and the probe
 * says so, once, instead of any kernel running. */
#include "cuda.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The probe's findings, written once under probe_once and read-only after. */
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static char probe_why[400];
static char probe_detail[256];
static int probe_sms = 1;

/* The runtime is started once per process; the lock makes the first start
 * (and so the one report of its cost) happen in exactly one call. */
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static int started;

/* The file name from "src/" on (nvcc gets absolute paths), so that messages
 * stay short and do not depend on where the tree was built. */
static const char *short_file(const char *file)
{
    const char *s = strstr(file, "src/");
    return s ? s : file;
}

hpl_status hpl_cuda_check(cudaError_t e, const char *file, int line, const char *call)
{
    if (e == cudaSuccess)
        return HPL_OK;
    /* clear the runtime's last error, so that a later cudaGetLastError()
     * after a launch reports that launch and not this */
    (void)cudaGetLastError();
    return hpl_fail(e == cudaErrorMemoryAllocation ? HPL_ENOMEM : HPL_EINTERNAL, "%s:%d: %s: %s (%d)",
                    short_file(file), line, call, cudaGetErrorString(e), (int)e);
}

/* The lowest architecture this build has code for (nvcc's
 * __CUDA_ARCH_LIST__, e.g. 900 for sm_90), 0 if unknown: a device below it
 * cannot run the kernels (compute_XX PTX runs on XX and later). */
static int lowest_arch(void)
{
#ifdef __CUDA_ARCH_LIST__
    static const int archs[] = {__CUDA_ARCH_LIST__};
    int low = archs[0];
    for (size_t i = 1; i < sizeof archs / sizeof archs[0]; i++)
        if (archs[i] < low)
            low = archs[i];
    return low;
#else
    return 0;
#endif
}

/* seconds the probe took: cudaGetDeviceCount loads the driver, part of the
 * runtime's start-up, so it is added to the context time of the first
 * start (the probe runs before the drivers' clocks, in the registry) */
static double probe_seconds;

static void probe_devices(void);
static void probe(void)
{
    double t0 = hpl_wtime();
    probe_devices();
    probe_seconds = hpl_wtime() - t0;
}

static void probe_devices(void)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        snprintf(probe_why, sizeof probe_why, "no CUDA device: cudaGetDeviceCount: %s (%d)", cudaGetErrorString(e),
                 (int)e);
        return;
    }
    if (count < 1) {
        snprintf(probe_why, sizeof probe_why, "no CUDA device: cudaGetDeviceCount found none");
        return;
    }
    cudaDeviceProp prop;
    e = cudaGetDeviceProperties(&prop, 0);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        snprintf(probe_why, sizeof probe_why, "no usable CUDA device: cudaGetDeviceProperties(0): %s (%d)",
                 cudaGetErrorString(e), (int)e);
        return;
    }
    const int arch = prop.major * 100 + prop.minor * 10, low = lowest_arch();
    if (arch < low) {
        snprintf(probe_why, sizeof probe_why,
                 "no usable CUDA device: %.160s is sm_%d%d, this library has code for sm_%d and later only "
                 "(reconfigure with -DCMAKE_CUDA_ARCHITECTURES=%d%d)",
                 prop.name, prop.major, prop.minor, low / 10, prop.major, prop.minor);
        return;
    }
    probe_sms = prop.multiProcessorCount > 0 ? prop.multiProcessorCount : 1;
    snprintf(probe_detail, sizeof probe_detail, "%.160s, sm_%d%d, %d SMs, %.0f GB", prop.name, prop.major, prop.minor,
             prop.multiProcessorCount, (double)prop.totalGlobalMem / 1e9);
}

const char *hpl_cuda_probe(void)
{
    pthread_once(&probe_once, probe);
    return probe_why;
}

const char *hpl_cuda_detail(void)
{
    pthread_once(&probe_once, probe);
    return probe_detail;
}

int hpl_cuda_sm_count(void)
{
    pthread_once(&probe_once, probe);
    return probe_sms;
}

hpl_status hpl_cuda_start(double *context_seconds)
{
    *context_seconds = 0.0;
    const char *why = hpl_cuda_probe();
    if (why[0] != '\0')
        return hpl_fail(HPL_EUNAVAILABLE, "%s", why);
    hpl_status s;
    pthread_mutex_lock(&start_lock);
    if (!started) {
        /* cudaSetDevice creates the primary context (CUDA 12 and later);
         * cudaFree(0) makes sure of it on any runtime */
        double t0 = hpl_wtime();
        if ((s = HPL_CUDA_CHECK(cudaSetDevice(0))) == HPL_OK && (s = HPL_CUDA_CHECK(cudaFree(0))) == HPL_OK) {
            started = 1;
            *context_seconds = hpl_wtime() - t0 + probe_seconds;
        }
    } else {
        /* the current device is per host thread: this thread's calls go to
         * device 0 too (cheap once the context exists) */
        s = HPL_CUDA_CHECK(cudaSetDevice(0));
    }
    pthread_mutex_unlock(&start_lock);
    return s;
}

hpl_status hpl_cuda_fits(size_t total, const char *what)
{
    size_t free_bytes = 0, total_bytes = 0;
    hpl_status s = HPL_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    if (s != HPL_OK)
        return s;
    if (total > free_bytes)
        return hpl_fail(HPL_ENOMEM,
                        "%s: needs %llu bytes (%.3g GB) of device memory, the GPU has %llu bytes (%.3g GB) free "
                        "of %llu",
                        what, (unsigned long long)total, (double)total / 1e9, (unsigned long long)free_bytes,
                        (double)free_bytes / 1e9, (unsigned long long)total_bytes);
    return HPL_OK;
}

hpl_status hpl_cuda_malloc(void **ptr, size_t bytes, const char *what)
{
    *ptr = NULL;
    cudaError_t e = cudaMalloc(ptr, bytes);
    if (e == cudaSuccess)
        return HPL_OK;
    *ptr = NULL;
    (void)cudaGetLastError();
    return hpl_fail(e == cudaErrorMemoryAllocation ? HPL_ENOMEM : HPL_EINTERNAL,
                    "%s: cudaMalloc of %llu bytes (%.3g GB) failed: %s (%d)", what, (unsigned long long)bytes,
                    (double)bytes / 1e9, cudaGetErrorString(e), (int)e);
}

hpl_status hpl_cuda_timer_create(hpl_cuda_timer *t)
{
    t->start = t->stop = NULL;
    hpl_status s = HPL_CUDA_CHECK(cudaEventCreate(&t->start));
    if (s == HPL_OK && (s = HPL_CUDA_CHECK(cudaEventCreate(&t->stop))) != HPL_OK) {
        (void)cudaEventDestroy(t->start);
        t->start = NULL;
    }
    if (s != HPL_OK)
        t->start = NULL;
    return s;
}

void hpl_cuda_timer_destroy(hpl_cuda_timer *t)
{
    if (t->start)
        (void)cudaEventDestroy(t->start);
    if (t->stop)
        (void)cudaEventDestroy(t->stop);
    t->start = t->stop = NULL;
    (void)cudaGetLastError(); /* a failed destroy must not surface in a later launch check */
}

hpl_status hpl_cuda_timer_start(hpl_cuda_timer *t)
{
    return HPL_CUDA_CHECK(cudaEventRecord(t->start, 0));
}

hpl_status hpl_cuda_timer_stop(hpl_cuda_timer *t)
{
    return HPL_CUDA_CHECK(cudaEventRecord(t->stop, 0));
}

hpl_status hpl_cuda_timer_seconds(hpl_cuda_timer *t, double *seconds)
{
    float ms = 0.0f;
    hpl_status s = HPL_CUDA_CHECK(cudaEventSynchronize(t->stop));
    if (s == HPL_OK && (s = HPL_CUDA_CHECK(cudaEventElapsedTime(&ms, t->start, t->stop))) == HPL_OK)
        *seconds = 1e-3 * (double)ms;
    return s;
}
