/* openmp.c - placeholder: the openmp kernel is being written; it reports
 * EUNAVAILABLE until then. */
#include "backend.h"

static hpl_status openmp_count(int64_t N, int threads, uint32_t *counts)
{
    (void)N; (void)threads; (void)counts;
    return hpl_fail(HPL_EUNAVAILABLE, "triangles kernel 'openmp' is not implemented yet");
}

const hpl_triangles_backend hpl_triangles_openmp = {
    .name = "openmp",
    .threaded = 1,
    .count = openmp_count,
};
