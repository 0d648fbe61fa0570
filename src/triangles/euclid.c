/* euclid.c - placeholder: the euclid kernel is being written; it reports
 * EUNAVAILABLE until then. */
#include "backend.h"

static hpl_status euclid_count(int64_t N, int threads, uint32_t *counts)
{
    (void)N; (void)threads; (void)counts;
    return hpl_fail(HPL_EUNAVAILABLE, "triangles kernel 'euclid' is not implemented yet");
}

const hpl_triangles_backend hpl_triangles_euclid = {
    .name = "euclid",
    .threaded = 0,
    .count = euclid_count,
};
