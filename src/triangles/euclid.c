/* euclid.c - Euclid's formula: every primitive right triangle is
 * (m^2 - n^2, 2mn, m^2 + n^2) for exactly one pair of coprime m > n >= 1 of
 * opposite parity, with perimeter p0 = 2m(m + n), and every right triangle
 * is exactly one multiple k * (a primitive one).  So counts[p] is the number
 * of primitive perimeters p0 that divide p.
 *
 * All perimeters are even, so the kernel works on half-perimeters
 * s = p / 2 < H = (N + 1) / 2 with primitive half-perimeters s0 = m(m + n),
 * and writes counts[2s] = hits at s, counts[2s + 1] = 0.  A plain loop
 * "+1 at every multiple of every primitive" is correct but its scattered
 * writes miss cache and TLB once 4N bytes outgrow the cache (1.5 s at
 * N = 1e8 here).  Instead, two phases that keep every write in L2:
 *
 *  1. generate: the primitive s0 < F, sorted, into an array P (4 bytes
 *     each, ~0.035 N of them), F ~ H / 2 being all that multiples k >= 2
 *     need.  Pairs (m, n) are tallied block by block into an L2-sized
 *     buffer, coprimality by a sieve (no gcd per pair), and the buffer is
 *     read back in order, so P comes out sorted without a sort.
 *  2. count: block by block of half-perimeters [b, e), into the buffer:
 *       - small primitives (s0 < S) keep their next multiple between
 *         blocks and step through each block;
 *       - large primitives (s0 >= S) have few multiples each, so they are
 *         taken by multiplier k: k * s0 increases along the sorted P, so
 *         the hits of k in a block are one run of P, resumed from a per-k
 *         cursor (S ~ 2.7 sqrt(H) balances 0.14 S small primitives against
 *         H / S cursors per block);
 *       - primitives s0 >= F have only k = 1: the block is tallied afresh,
 *         as in phase 1;
 *     then the block goes to counts, once, in order.
 *
 * The building blocks (HPL_INTERNAL) are shared with openmp.c, which runs
 * both phases over disjoint half-perimeter ranges.
 *
 * counts are uint32_t: a triangle with perimeter p is fixed by its shortest
 * side a < p / 3 (b follows from p and a), so counts[p] < p / 3 < 1.4e9 <
 * 2^32 for every p < N <= 4e9; the same bound covers the block tallies.
 * Sizes: H <= 2e9, so s0 and every half-perimeter fit in uint32_t, m <
 * sqrt(H) < 2^16, and products such as k * s0 are formed in uint64_t. */
#include "euclid.h"

#include <string.h>

/* Half-perimeters per block: 64 Ki uint32 = 256 KiB, half the L2 of a Zen 3
 * core (the rest holds P's read streams and the cursors). */
#define EUCLID_BLOCK ((uint64_t)1 << 16)

/* The distinct odd primes of m (at most 5, as 3*5*7*11*13*17 > 44722 > m
 * for N <= 4e9), for the coprimality sieve. */
typedef struct odd_primes {
    uint16_t n;
    uint16_t q[5];
} odd_primes;

/* One worker's scratch, byte offsets 64-aligned: the block buffer, the small
 * primitives' next multiples, the per-k cursors. */
typedef struct work_layout {
    uint64_t buf_len;   /* uint32 entries of the buffer (block length) */
    uint64_t next_at;   /* byte offset of next[] */
    uint64_t cursor_at; /* byte offset of cursor[] */
    uint64_t bytes;
} work_layout;

/* floor(sqrt(x)) for x < 2^62, in integers. */
static uint64_t isqrt(uint64_t x)
{
    uint64_t r = 0;
    for (uint64_t bit = (uint64_t)1 << 30; bit != 0; bit >>= 1) {
        uint64_t t = r | bit;
        if (t * t <= x)
            r = t;
    }
    return r;
}

static uint64_t half_limit(int64_t N)
{
    return ((uint64_t)N + 1) / 2; /* s < H  <=>  2s < N */
}

/* Small/large threshold S (see the header). */
static uint64_t small_limit(uint64_t H)
{
    return 8 * isqrt(H) / 3 + 1;
}

/* Largest m of a pair: m(m + 1) <= s0 < H. */
static uint64_t m_limit(uint64_t H)
{
    return isqrt(H) + 1;
}

/* F: P holds the primitives s0 < F.  F >= (H + 1) / 2 covers every s0 with
 * a multiple k >= 2 below H; F >= S keeps the small primitives in P. */
static uint64_t stored_limit(uint64_t H)
{
    uint64_t F = (H + 1) / 2;
    uint64_t S = small_limit(H);
    if (F < S)
        F = S;
    return F < H ? F : H;
}

static uint64_t round64(uint64_t bytes)
{
    return (bytes + 63) & ~(uint64_t)63;
}

/* Number of pairs m > n >= 1 of opposite parity with m(m + n) < x, coprime
 * or not: an upper bound on the primitives below x (about 8/pi^2 of it is
 * coprime).  Every m with m(2m - 1) < x has all its floor(m/2) values of n,
 * and those sum to floor(K^2/4) for m <= K; the rest are counted one m at a
 * time: O(0.3 sqrt(x)). */
static uint64_t pairs_below(uint64_t x)
{
    uint64_t K = isqrt(x / 2); /* K(2K - 1) < x; the loop finds the largest */
    while ((K + 1) * (2 * K + 1) < x)
        K++;
    uint64_t total = K * K / 4;
    for (uint64_t m = K + 1 > 2 ? K + 1 : 2; m * (m + 1) < x; m++) {
        uint64_t nmax = (x - 1) / m - m; /* largest n with m(m+n) < x */
        if (nmax > m - 1)
            nmax = m - 1;
        total += (m & 1) ? nmax / 2 : (nmax + 1) / 2;
    }
    return total;
}

/* Block length: EUCLID_BLOCK, widened to 8 sqrt(H) for N > 1.3e8 so that
 * each m keeps several n per block (the per-m set-up costs divisions), and
 * never wider than the worker's range. */
static work_layout layout(uint64_t H, uint64_t chunk)
{
    const uint64_t S = small_limit(H);
    uint64_t len = 8 * isqrt(H);
    work_layout w;
    if (len < EUCLID_BLOCK)
        len = EUCLID_BLOCK;
    w.buf_len = len < chunk ? len : chunk;
    if (w.buf_len == 0)
        w.buf_len = 1;
    w.next_at = round64(w.buf_len * sizeof(uint32_t));
    w.cursor_at = w.next_at + round64(pairs_below(S) * sizeof(uint64_t));
    w.bytes = w.cursor_at + round64(((H - 1) / S + 2) * sizeof(uint64_t)); /* k <= (H-1)/S */
    return w;
}

/* Add 1 at tally[s0 - gl] for every primitive half-perimeter gl <= s0 < gh.
 * *m0: no m below it reaches gl; start with 2, call with increasing gl.
 *
 * Coprimality is sieved (a binary gcd per pair made phase 1 take 0.45 s
 * of 0.52 s at N = 1e8 here; sieved it takes 0.14 s):
 * every opposite-parity n gets +1, then for every squarefree odd divisor
 * d > 1 of m, mu(d) is added at the n divisible by d, so that n is left
 * with sum of mu(d) over d | gcd(m, n): 1 if coprime, else 0.  (Even d
 * never divides both, m and n having opposite parity.)  The -1 are added
 * modulo 2^32: the final tally is >= 0 and unsigned wrap-around exact. */
static void tally_block(const odd_primes *t, uint64_t gl, uint64_t gh, uint32_t *tally, uint64_t *m0)
{
    /* m reaches at most m(2m - 1) (n = m - 1): skip the m that cannot
     * reach this block, for this and every later block. */
    if (*m0 * (2 * *m0 - 1) < gl) {
        const uint64_t r = isqrt(gl / 2); /* r(2r - 1) < gl: a safe start */
        if (*m0 < r)
            *m0 = r;
        while (*m0 * (2 * *m0 - 1) < gl)
            (*m0)++;
    }
    for (uint64_t m = *m0; m * (m + 1) < gh; m++) {
        /* gl, gh <= 2e9 and m < 2^16: 32-bit divisions are exact and fast */
        uint64_t c = ((uint32_t)gl + (uint32_t)m - 1) / (uint32_t)m; /* n >= ceil(gl/m) - m */
        uint64_t n0 = c > m + 1 ? c - m : 1;
        uint64_t nmax = ((uint32_t)gh - 1) / (uint32_t)m - m; /* m(m+n) < gh; >= 1 here */
        if (nmax > m - 1)
            nmax = m - 1;
        if ((n0 & 1) == (m & 1))
            n0++; /* opposite parity */
        if (n0 > nmax)
            continue;
        for (uint64_t x = m * (m + n0) - gl, xe = m * (m + nmax) - gl; x <= xe; x += 2 * m)
            tally[x]++;

        uint32_t d[32], mu[32]; /* squarefree odd divisors of m, mu(d) mod 2^32 */
        unsigned nd = 1;
        d[0] = 1;
        mu[0] = 1;
        for (unsigned i = 0; i < t[m].n; i++) {
            for (unsigned j = 0; j < nd; j++) {
                d[nd + j] = d[j] * t[m].q[i];
                mu[nd + j] = 0u - mu[j];
            }
            nd *= 2;
        }
        for (unsigned j = 1; j < nd; j++) {
            uint64_t n = ((uint32_t)n0 + d[j] - 1) / d[j] * d[j]; /* first multiple >= n0 */
            if ((n ^ n0) & 1)
                n += d[j]; /* d odd: the next multiple has the other parity */
            for (uint64_t x = m * (m + n) - gl; n <= nmax; n += 2 * d[j], x += 2 * m * d[j])
                tally[x] += mu[j];
        }
    }
}

/* First index i in [first, last) with P[i] >= x (last if none). */
static uint64_t lower_bound(const uint32_t *P, uint64_t first, uint64_t last, uint64_t x)
{
    while (first < last) {
        uint64_t mid = first + (last - first) / 2;
        if (P[mid] < x)
            first = mid + 1;
        else
            last = mid;
    }
    return first;
}

/* First index i in [first, last) with P[i] >= x, where P[last] >= x (or
 * last is the end): searched back from last by doubling steps, then
 * bisected, so O(log(last - i)) and cache-friendly when i is near last. */
static uint64_t gallop_down(const uint32_t *P, uint64_t first, uint64_t last, uint64_t x)
{
    uint64_t hi = last, step = 1;
    while (hi - first > step && P[hi - step] >= x) {
        hi -= step; /* P[hi..] >= x still */
        step *= 2;
    }
    return lower_bound(P, hi - first > step ? hi - step : first, hi, x);
}

/* ---- building blocks shared with openmp.c ---------------------------------
 * Protocol: P = hpl_euclid_stored(N) ... ; build the table once; generate
 * [0, F) in ranges, concatenate them, append the sentinel UINT32_MAX; then
 * count [0, H) in ranges.  Nothing but count_range writes counts. */

/* floor(sqrt(x)), x < 2^62. */
HPL_INTERNAL uint64_t hpl_euclid_isqrt(uint64_t x)
{
    return isqrt(x);
}

/* The half-perimeter limits: *H (count ranges cover [0, H)) and *F
 * (generate ranges cover [0, F)). */
HPL_INTERNAL void hpl_euclid_limits(int64_t N, uint64_t *H, uint64_t *F)
{
    *H = half_limit(N);
    *F = stored_limit(*H);
}

/* Room hpl_euclid_generate needs for the primitives in [lo, hi): one more
 * than the pairs there. */
HPL_INTERNAL uint64_t hpl_euclid_room(uint64_t lo, uint64_t hi)
{
    return pairs_below(hi) - pairs_below(lo) + 1;
}

/* Bytes of the shared odd-prime table for N. */
HPL_INTERNAL size_t hpl_euclid_table_bytes(int64_t N)
{
    return (size_t)(m_limit(half_limit(N)) + 1) * sizeof(odd_primes);
}

/* Fill the odd-prime table for N: a sieve, O(M log log M), M ~ sqrt(N/2). */
HPL_INTERNAL void hpl_euclid_build_table(int64_t N, void *table)
{
    odd_primes *t = table;
    const uint64_t M = m_limit(half_limit(N));
    memset(t, 0, (size_t)(M + 1) * sizeof(odd_primes));
    for (uint64_t q = 3; q <= M; q += 2) {
        if (t[q].n != 0)
            continue; /* odd composite: a smaller odd prime got there first */
        for (uint64_t j = q; j <= M; j += q)
            t[j].q[t[j].n++] = (uint16_t)q;
    }
}

/* Scratch bytes (64-aligned) one worker needs for generate and count_range
 * on ranges of at most `chunk` half-perimeters. */
HPL_INTERNAL size_t hpl_euclid_work_bytes(int64_t N, uint64_t chunk)
{
    return (size_t)layout(half_limit(N), chunk).bytes;
}

/* Phase 1 over [lo, hi), hi <= F: write every primitive s0 in [lo, hi) to
 * out, ascending (repeated when primitives share s0), and return how many.
 * out: hpl_euclid_room(lo, hi) entries.  work: hpl_euclid_work_bytes(N,
 * chunk >= hi - lo), 64-aligned. */
HPL_INTERNAL uint64_t hpl_euclid_generate(int64_t N, const void *table, uint64_t lo, uint64_t hi, void *work,
                                          uint32_t *out)
{
    const work_layout w = layout(half_limit(N), hi - lo);
    uint32_t *tally = work;
    uint64_t count = 0;
    uint64_t m0 = 2;
    memset(tally, 0, w.buf_len * sizeof(uint32_t));
    for (uint64_t gl = lo; gl < hi; gl += w.buf_len) {
        const uint64_t gh = hi - gl < w.buf_len ? hi : gl + w.buf_len;
        tally_block(table, gl, gh, tally, &m0);
        /* Read back in order.  86% of entries are empty and repeats are
         * rare, so write unconditionally (hence room's +1) and advance by
         * the tally: no unpredictable branch. */
        for (uint64_t i = 0; i < gh - gl; i++) {
            const uint32_t k = tally[i];
            const uint32_t s0 = (uint32_t)(gl + i);
            out[count] = s0;
            for (uint32_t r = 1; r < k; r++)
                out[count + r] = s0;
            count += k;
            tally[i] = 0;
        }
    }
    return count;
}

/* Phase 2 over [lo, hi) (within [0, H)): write counts[2s] and, when
 * 2s + 1 < N, counts[2s + 1] for every lo <= s < hi.  P: all nP primitive
 * s0 < F, sorted, then P[nP] = UINT32_MAX.  table, work: as for generate. */
HPL_INTERNAL void hpl_euclid_count_range(int64_t N, const void *table, const uint32_t *P, uint64_t nP,
                                         uint64_t lo, uint64_t hi, void *work, uint32_t *counts)
{
    const uint64_t H = half_limit(N);
    const uint64_t S = small_limit(H);
    const uint64_t F = stored_limit(H);
    const work_layout w = layout(H, hi - lo);
    const uint64_t nsmall = lower_bound(P, 0, nP, S); /* P[0..nsmall) < S */
    uint32_t *buf = work;
    uint64_t *next = (uint64_t *)((char *)work + w.next_at);
    uint64_t *cursor = (uint64_t *)((char *)work + w.cursor_at);
    uint64_t kready = 0; /* cursor[1..kready] are set */
    uint64_t m0 = 2;

    for (uint64_t j = 0; j < nsmall; j++) {
        const uint64_t s0 = P[j];
        next[j] = lo <= s0 ? s0 : (lo + s0 - 1) / s0 * s0; /* first multiple >= lo, k >= 1 */
    }
    for (uint64_t b = lo; b < hi; b += w.buf_len) {
        const uint64_t e = hi - b < w.buf_len ? hi : b + w.buf_len;
        memset(buf, 0, (e - b) * sizeof(uint32_t));
        for (uint64_t j = 0; j < nsmall; j++) {
            const uint64_t s0 = P[j];
            uint64_t x = next[j];
            for (; x < e; x += s0)
                buf[x - b]++;
            next[j] = x;
        }
        /* Large stored primitives by multiplier k; k * S >= e: no hit. */
        for (uint64_t k = 1; k * S < e; k++) {
            if (k > kready) {
                /* First s0 >= S with k * s0 >= b.  Run k-1 has already
                 * passed s0 >= b/(k-1) >= b/k, so the answer lies just
                 * below cursor[k-1]: a short search back from there (a
                 * range starting high up has ~0.4 sqrt(H) runs to set). */
                const uint64_t from = (b + k - 1) / k;
                const uint64_t x = from > S ? from : S;
                cursor[k] = k == 1 ? lower_bound(P, nsmall, nP, x) : gallop_down(P, nsmall, cursor[k - 1], x);
                kready = k;
            }
            const uint64_t last = (e - 1) / k; /* k * s0 < e */
            uint64_t i = cursor[k];
            for (; P[i] <= last; i++) /* the sentinel stops it */
                buf[k * P[i] - b]++;
            cursor[k] = i;
        }
        /* Primitives s0 >= F, not stored, hit only at k = 1. */
        if (e > F) {
            const uint64_t g = b > F ? b : F;
            tally_block(table, g, e, buf + (g - b), &m0);
        }
        /* counts[2s + 1] exists unless 2s + 1 == N (N odd, s = H - 1). */
        const uint64_t e2 = 2 * (e - 1) + 1 < (uint64_t)N ? e : e - 1;
        for (uint64_t s = b; s < e2; s++) {
            counts[2 * s] = buf[s - b];
            counts[2 * s + 1] = 0;
        }
        if (e2 < e)
            counts[2 * e2] = buf[e2 - b];
    }
}

/* All scratch is allocated before counts is written; ENOMEM leaves counts
 * untouched. */
static hpl_status euclid_count(int64_t N, int threads, uint32_t *counts)
{
    (void)threads;
    uint64_t H, F;
    hpl_euclid_limits(N, &H, &F);
    const uint64_t room = hpl_euclid_room(0, F);
    uint32_t *P = hpl_alloc(room + 1, sizeof(uint32_t)); /* + the sentinel */
    void *table = hpl_alloc(hpl_euclid_table_bytes(N), 1);
    void *work = hpl_alloc(hpl_euclid_work_bytes(N, H), 1);
    if (P == NULL || table == NULL || work == NULL) {
        hpl_free(P);
        hpl_free(table);
        hpl_free(work);
        return hpl_fail(HPL_ENOMEM, "euclid: cannot allocate scratch for %llu primitive perimeters (N = %lld)",
                        (unsigned long long)room, (long long)N);
    }
    hpl_euclid_build_table(N, table);
    const uint64_t nP = hpl_euclid_generate(N, table, 0, F, work, P);
    P[nP] = UINT32_MAX;
    hpl_euclid_count_range(N, table, P, nP, 0, H, work, counts);
    hpl_free(work);
    hpl_free(table);
    hpl_free(P);
    return HPL_OK;
}

const hpl_triangles_backend hpl_triangles_euclid = {
    .count = euclid_count,
};
