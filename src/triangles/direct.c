/* direct.c - one loop per perimeter: for each p and each shortest side a,
 * solve a^2 + b^2 = (p - a - b)^2 for b exactly.  O(p) per perimeter, O(N^2)
 * in all, integer arithmetic only.
 *
 * Expanding the square gives b = p (p - 2a) / (2 (p - a)).  With q = p - a
 * this is b = p - p^2 / (2q), so a triangle exists for this a exactly when
 * 2q divides p^2.  a < b (a = b is impossible, sqrt(2) being irrational)
 * holds exactly when p^2 < 2 q^2, and c > b then follows from a > 0. */
#include "backend.h"

/* Count for one perimeter p < 4e9.  p^2 < 1.6e19 < 2^64, so all products
 * fit in uint64_t.  The count is at most the number of a < p / 3, below
 * 1.4e9, so uint32_t holds it. */
static uint32_t direct_one(uint64_t p)
{
    /* Odd p: p^2 is odd and never divisible by 2q.  (Equivalently, x^2 = x
     * mod 2 turns a^2 + b^2 = c^2 into a + b = c mod 2: p is even.) */
    if (p % 2 != 0 || p < 12)
        return 0;
    const uint64_t p2 = p * p;
    const uint64_t half = p2 / 2; /* p even: p^2 / 2 is exact */
    uint32_t n = 0;
    /* a = 1, 2, ... while a < b, i.e. q = p - a downwards while 2 q^2 > p^2. */
    for (uint64_t q = p - 1; q * q > half; q--) {
        if (p2 % (2 * q) == 0)
            n++;
    }
    return n;
}

/* Every entry is written (zeros for odd p and p < 12 too); no scratch. */
static hpl_status direct_count(int64_t N, int threads, uint32_t *counts)
{
    (void)threads;
    for (int64_t p = 0; p < N; p++)
        counts[p] = direct_one((uint64_t)p);
    return HPL_OK;
}

const hpl_triangles_backend hpl_triangles_direct = {
    .count = direct_count,
};

hpl_status hpl_triangles_count_one(int64_t p, uint32_t *count)
{
    if (count == NULL)
        return hpl_fail(HPL_EINVAL, "count must not be NULL");
    if (p < 0 || p >= HPL_TRIANGLES_N_MAX)
        return hpl_fail(HPL_EINVAL, "p = %lld is out of range: p must be in [0, %lld)", (long long)p,
                        (long long)HPL_TRIANGLES_N_MAX);
    *count = direct_one((uint64_t)p);
    hpl_clear_error();
    return HPL_OK;
}
