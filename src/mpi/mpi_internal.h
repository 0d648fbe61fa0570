/* mpi_internal.h - helpers of libhpcladder_mpi (not installed). */
#ifndef HPCLADDER_MPI_INTERNAL_H
#define HPCLADDER_MPI_INTERNAL_H

#include "hpcladder/mpi.h"

#define HPL_MPI_INTERNAL __attribute__((visibility("hidden")))

/* Record a message for hpl_mpi_last_error() and return s. */
HPL_MPI_INTERNAL hpl_status hpl_mpi_fail(hpl_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

HPL_MPI_INTERNAL hpl_status hpl_mpi_call_failed(int err, const char *expr, const char *file, int line);

/* Checked MPI call: on an error, record file, line, the call and MPI's
 * error string, and return HPL_EINTERNAL from the enclosing function.  The
 * communicators are duplicated with MPI_ERRORS_RETURN, so errors come back. */
#define HPL_MPI_CHECK(call)                                                                                \
    do {                                                                                                   \
        int err_ = (call);                                                                                 \
        if (err_ != MPI_SUCCESS)                                                                           \
            return hpl_mpi_call_failed(err_, #call, __FILE__, __LINE__);                                   \
    } while (0)

/* Collective error agreement: every rank passes its own status s (its
 * message, if s != HPL_OK, in hpl_mpi_last_error()).  Returns HPL_OK on all
 * ranks if all passed s == HPL_OK; otherwise the status of the lowest
 * failing rank on every rank, with that rank's message, "rank R: ...". */
HPL_MPI_INTERNAL hpl_status hpl_mpi_agree(MPI_Comm comm, hpl_status s);

#endif
