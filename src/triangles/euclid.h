/* euclid.h - the building blocks of Euclid's-formula counting, shared by
 * euclid.c (one thread) and openmp.c (ranges over threads); internal.
 *
 * Protocol (see euclid.c): build the odd-prime table once; generate the
 * primitive half-perimeters s0 in [0, F) in ranges, concatenate them in
 * order and append the sentinel UINT32_MAX; then count [0, H) in ranges.
 * Nothing but hpl_euclid_count_range writes counts. */
#ifndef HPCLADDER_TRIANGLES_EUCLID_H
#define HPCLADDER_TRIANGLES_EUCLID_H

#include "backend.h"

/* floor(sqrt(x)), x < 2^62. */
HPL_INTERNAL uint64_t hpl_euclid_isqrt(uint64_t x);
/* The half-perimeter limits: *H (count ranges cover [0, H)) and *F
 * (generate ranges cover [0, F)). */
HPL_INTERNAL void hpl_euclid_limits(int64_t N, uint64_t *H, uint64_t *F);
/* Entries hpl_euclid_generate writes for [lo, hi): one more than the pairs. */
HPL_INTERNAL uint64_t hpl_euclid_room(uint64_t lo, uint64_t hi);
/* Bytes of the odd-prime table for N. */
HPL_INTERNAL size_t hpl_euclid_table_bytes(int64_t N);
/* Fill the odd-prime table for N (a sieve up to m ~ sqrt(N/2)). */
HPL_INTERNAL void hpl_euclid_build_table(int64_t N, void *table);
/* Scratch bytes (64-aligned) one worker needs for ranges of at most `chunk`
 * half-perimeters. */
HPL_INTERNAL size_t hpl_euclid_work_bytes(int64_t N, uint64_t chunk);
/* Phase 1 over [lo, hi), hi <= F: write the primitive s0 in [lo, hi) to out,
 * ascending, and return how many. */
HPL_INTERNAL uint64_t hpl_euclid_generate(int64_t N, const void *table, uint64_t lo, uint64_t hi, void *work,
                                          uint32_t *out);
/* Phase 2 over [lo, hi) within [0, H): write counts[2s] and counts[2s+1]
 * (when < N) for lo <= s < hi, from all nP sorted primitives P. */
HPL_INTERNAL void hpl_euclid_count_range(int64_t N, const void *table, const uint32_t *P, uint64_t nP,
                                         uint64_t lo, uint64_t hi, void *work, uint32_t *counts);

#endif
