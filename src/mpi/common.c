/* common.c - error messages and collective error agreement of
 * libhpcladder_mpi. */
#include "mpi_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[512];

const char *hpl_mpi_last_error(void) { return last_error; }

hpl_status hpl_mpi_fail(hpl_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

hpl_status hpl_mpi_call_failed(int err, const char *expr, const char *file, int line)
{
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    if (MPI_Error_string(err, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "MPI error %d", err);
    return hpl_mpi_fail(HPL_EINTERNAL, "%s:%d: %s failed: %s", file, line, expr, msg);
}

hpl_status hpl_mpi_agree(MPI_Comm comm, hpl_status s)
{
    int rank = 0, size = 1;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS || MPI_Comm_size(comm, &size) != MPI_SUCCESS)
        return hpl_mpi_fail(HPL_EINTERNAL, "MPI_Comm_rank/MPI_Comm_size failed on the communicator");
    int mine = s == HPL_OK ? size : rank, first = size;
    HPL_MPI_CHECK(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm));
    if (first == size)
        return HPL_OK;
    /* the lowest failing rank tells everyone its status and message */
    char msg[sizeof last_error + 32];
    int status = (int)s;
    if (rank == first)
        snprintf(msg, sizeof msg, "rank %d: %s", rank, last_error);
    HPL_MPI_CHECK(MPI_Bcast(&status, 1, MPI_INT, first, comm));
    HPL_MPI_CHECK(MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first, comm));
    memcpy(last_error, msg, sizeof last_error - 1);
    last_error[sizeof last_error - 1] = '\0';
    return (hpl_status)status;
}
