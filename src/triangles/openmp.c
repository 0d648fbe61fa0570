/* openmp.c - the euclid kernel over OpenMP threads.
 *
 * Both phases of euclid.c cut the half-perimeter axis into disjoint
 * ranges, so no thread ever writes where another does and no atomics are
 * needed:
 *  1. each thread generates the sorted primitives of its slice of [0, F)
 *     into its own stretch of P (sized by an upper bound); one thread then
 *     closes the gaps, so P is the same sorted array as in euclid;
 *  2. the threads count pieces of [0, H) (half-perimeters lo..hi-1, i.e.
 *     perimeters 2lo..2hi-1), reading the shared P, each writing only its
 *     piece of counts.  The cost per half-perimeter grows along the axis
 *     (at N = 1e8 the upper half took 1.6x the lower half: it also tallies
 *     the primitives above F), so there are 4 pieces per thread, handed
 *     out dynamically.
 * No result depends on how the ranges are cut, so every thread count gives
 * euclid's counts exactly.
 *
 * Threads: `threads`, but no more than there are ranges of at least
 * max(256, 8 sqrt(H)) half-perimeters, as a range costs ~sqrt(H) set-up.
 * The team may be smaller than asked (OMP_THREAD_LIMIT, nesting): a thread
 * then takes several slices in turn.  The global OpenMP settings are never
 * changed. */
#include "euclid.h"

#include <omp.h>
#include <string.h>

/* Fewest half-perimeters per range (512 perimeters). */
#define OPENMP_MIN_CHUNK ((uint64_t)256)
/* Phase 2 pieces per thread. */
#define OPENMP_PIECES 4

/* Slice w of [0, len) cut in W: [len*w/W, len*(w+1)/W).  len <= 2e9 and
 * W <= 4 * 4096, so the product fits. */
static uint64_t slice(uint64_t len, uint64_t w, uint64_t W)
{
    return len * w / W;
}

/* All scratch (P, table, per-worker work, bookkeeping) is allocated before
 * the parallel region, which cannot fail; ENOMEM leaves counts untouched. */
static hpl_status openmp_count(int64_t N, int threads, uint32_t *counts)
{
    uint64_t H, F;
    hpl_euclid_limits(N, &H, &F);
    uint64_t min_range = 8 * hpl_euclid_isqrt(H);
    if (min_range < OPENMP_MIN_CHUNK)
        min_range = OPENMP_MIN_CHUNK;
    const uint64_t most = H / min_range > 0 ? H / min_range : 1; /* ranges worth their set-up */
    const uint64_t W = (uint64_t)threads < most ? (uint64_t)threads : most; /* threads, phase 1 slices */
    const uint64_t Q = OPENMP_PIECES * W < most ? OPENMP_PIECES * W : most;  /* phase 2 pieces */
    const uint64_t chunk = (H + W - 1) / W; /* >= every slice of [0, H) or [0, F) */
    const uint64_t room = hpl_euclid_room(0, F) + W; /* sum of the slices' rooms */
    const size_t wbytes = hpl_euclid_work_bytes(N, chunk);

    uint32_t *P = hpl_alloc(room + 1, sizeof(uint32_t)); /* + the sentinel */
    void *table = hpl_alloc(hpl_euclid_table_bytes(N), 1);
    char *work = hpl_alloc(W, wbytes); /* wbytes is a multiple of 64 */
    uint64_t *at = hpl_alloc(W, sizeof(uint64_t));   /* slice w's stretch of P */
    uint64_t *got = hpl_alloc(W, sizeof(uint64_t));  /* primitives it found */
    if (P == NULL || table == NULL || work == NULL || at == NULL || got == NULL) {
        hpl_free(P);
        hpl_free(table);
        hpl_free(work);
        hpl_free(at);
        hpl_free(got);
        return hpl_fail(HPL_ENOMEM, "openmp: cannot allocate scratch for %llu workers (N = %lld)",
                        (unsigned long long)W, (long long)N);
    }
    hpl_euclid_build_table(N, table);
    for (uint64_t w = 0; w < W; w++) /* stretch starts: the rooms before it */
        at[w] = hpl_euclid_room(0, slice(F, w, W)) - 1 + w;
    uint64_t nP = 0;

#pragma omp parallel num_threads((int)W) default(none) shared(N, H, F, W, Q, P, table, work, wbytes, at, got, nP, counts)
    {
        const uint64_t tid = (uint64_t)omp_get_thread_num();
        const uint64_t nt = (uint64_t)omp_get_num_threads();
        void *mine = work + tid * wbytes;

        for (uint64_t w = tid; w < W; w += nt)
            got[w] = hpl_euclid_generate(N, table, slice(F, w, W), slice(F, w + 1, W), mine, P + at[w]);
#pragma omp barrier
#pragma omp single
        {
            /* Close the gaps, in order; stretches only move down. */
            uint64_t n = got[0];
            for (uint64_t w = 1; w < W; w++) {
                memmove(P + n, P + at[w], got[w] * sizeof(uint32_t));
                n += got[w];
            }
            P[n] = UINT32_MAX;
            nP = n;
        } /* implicit barrier: P and nP are final */
#pragma omp for schedule(dynamic, 1)
        for (uint64_t q = 0; q < Q; q++) /* pieces are no longer than slices */
            hpl_euclid_count_range(N, table, P, nP, slice(H, q, Q), slice(H, q + 1, Q), mine, counts);
    }

    hpl_free(got);
    hpl_free(at);
    hpl_free(work);
    hpl_free(table);
    hpl_free(P);
    return HPL_OK;
}

const hpl_triangles_backend hpl_triangles_openmp = {
    .count = openmp_count,
};
