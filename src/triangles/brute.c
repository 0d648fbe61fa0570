/* brute.c - the talk's double loop (its C findnumsolutions), bounded as in
 * its C code: a and b both below p/2, c = p - a - b.  O(p^2) per perimeter. */
#include "backend.h"

/* Count for one perimeter.  64-bit products: a*a overflows int for
 * p > 92681, which the talk never reached. */
static uint32_t brute_one(int64_t p)
{
    uint32_t n = 0;
    for (int64_t a = 1; a < p / 2; a++) {
        for (int64_t b = a; b < p / 2; b++) {
            int64_t c = p - a - b;
            if (a * a + b * b == c * c)
                n = n + 1;
        }
    }
    return n;
}

static hpl_status brute_count(int64_t N, int threads, uint32_t *counts)
{
    (void)threads;
    for (int64_t p = 0; p < N; p++)
        counts[p] = brute_one(p);
    return HPL_OK;
}

const hpl_triangles_backend hpl_triangles_brute = {
    .name = "brute",
    .threaded = 0,
    .count = brute_count,
};

int findnumsolutions(int p)
{
    return (int)brute_one(p);
}
