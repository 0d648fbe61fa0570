/* common.c - status names, per-thread error messages, aligned allocation,
 * timing and version of libhpcladder. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef HPCLADDER_VERSION
#define HPCLADDER_VERSION "0.0.0"
#endif

/* One message per thread, so that concurrent callers (Python threads, MPI
 * ranks with threads) never see each other's errors. */
static _Thread_local char last_error[512];

const char *hpl_status_name(hpl_status s)
{
    switch (s) {
    case HPL_OK: return "OK";
    case HPL_EINVAL: return "EINVAL";
    case HPL_ENOMEM: return "ENOMEM";
    case HPL_EOVERFLOW: return "EOVERFLOW";
    case HPL_EUNAVAILABLE: return "EUNAVAILABLE";
    case HPL_EINTERNAL: return "EINTERNAL";
    }
    return "UNKNOWN";
}

const char *hpl_last_error(void) { return last_error; }

const char *hpl_version(void) { return HPCLADDER_VERSION; }

hpl_status hpl_fail(hpl_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

void hpl_clear_error(void) { last_error[0] = '\0'; }

void *hpl_alloc(size_t count, size_t size)
{
    if (size != 0 && count > (SIZE_MAX - 64) / size)
        return NULL;
    size_t bytes = count * size;
    bytes = (bytes + 63) & ~(size_t)63; /* aligned_alloc wants a multiple */
    if (bytes == 0)
        bytes = 64;
    return aligned_alloc(64, bytes);
}

void hpl_free(void *p) { free(p); }

void *hpl_alloc_zeroed(size_t count, size_t size)
{
    void *p = hpl_alloc(count, size);
    if (p != NULL)
        memset(p, 0, count * size); /* hpl_alloc checked count*size */
    return p;
}

double hpl_wtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *hpl_data_name(hpl_data d)
{
    switch (d) {
    case HPL_DATA_HOST: return "host";
    case HPL_DATA_DEVICE: return "device";
    case HPL_DATA_DISTRIBUTED: return "distributed";
    }
    return NULL;
}
