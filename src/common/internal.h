/* internal.h - helpers shared by the library's sources, not installed. */
#ifndef HPCLADDER_INTERNAL_H
#define HPCLADDER_INTERNAL_H

#include "hpcladder/common.h"

#define HPL_INTERNAL __attribute__((visibility("hidden")))

/* Record a printf-style message for hpl_last_error() and return status s. */
HPL_INTERNAL hpl_status hpl_fail(hpl_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Clear the message of this thread (called on success paths). */
HPL_INTERNAL void hpl_clear_error(void);

/* malloc of count*size bytes aligned to 64, NULL on overflow or failure. */
HPL_INTERNAL void *hpl_alloc(size_t count, size_t size);
HPL_INTERNAL void hpl_free(void *p);
/* hpl_alloc, zero-filled: kernels allocate their workspace with it in
 * create, so its pages are faulted in during set-up (reported as plan time)
 * and not charged to the first timed execute. */
HPL_INTERNAL void *hpl_alloc_zeroed(size_t count, size_t size);

#endif
