/* brute.c - the talk's double loop (its C findnumsolutions), bounded as in
 * its C code: a and b both below p/2, c = p - a - b.  O(p^2) per perimeter.
 *
 * The talk's code works in int; that is kept wherever it cannot overflow
 * (c*c < 2^31 needs p <= 46340), so the compiler vectorises it exactly as it
 * would the talk's program.  Larger p use the same loop in 64-bit. */
#include "backend.h"

#define TALK_INT_P_MAX 46340

/* The talk's function, verbatim but for the name. */
static int talk_findnumsolutions(int p)
{
    int a, b, c, n;
    n = 0;
    for (a = 1; a < p / 2; a++) {
        for (b = a; b < p / 2; b++) {
            c = p - a - b;
            if (a * a + b * b == c * c) {
                n = n + 1;
            }
        }
    }
    return n;
}

/* The same loop in 64-bit, for perimeters the talk never reached. */
static uint32_t wide_findnumsolutions(int64_t p)
{
    uint32_t n = 0;
    for (int64_t a = 1; a < p / 2; a++)
        for (int64_t b = a; b < p / 2; b++) {
            int64_t c = p - a - b;
            if (a * a + b * b == c * c)
                n = n + 1;
        }
    return n;
}

static hpl_status brute_count(int64_t N, int threads, uint32_t *counts)
{
    (void)threads;
    for (int64_t p = 0; p < N; p++)
        counts[p] = p <= TALK_INT_P_MAX ? (uint32_t)talk_findnumsolutions((int)p) : wide_findnumsolutions(p);
    return HPL_OK;
}

const hpl_triangles_backend hpl_triangles_brute = {
    .count = brute_count,
};

int findnumsolutions(int p)
{
    return p <= TALK_INT_P_MAX ? talk_findnumsolutions(p) : (int)wide_findnumsolutions(p);
}
