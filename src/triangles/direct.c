/* direct.c - placeholder: the direct kernel is being written; it reports
 * EUNAVAILABLE until then. */
#include "backend.h"

static hpl_status direct_count(int64_t N, int threads, uint32_t *counts)
{
    (void)N; (void)threads; (void)counts;
    return hpl_fail(HPL_EUNAVAILABLE, "triangles kernel 'direct' is not implemented yet");
}

const hpl_triangles_backend hpl_triangles_direct = {
    .name = "direct",
    .threaded = 0,
    .count = direct_count,
};
