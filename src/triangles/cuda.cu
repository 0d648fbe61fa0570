/* cuda.cu - the CUDA triangles kernels: the counts live in device memory
 * for one call (allocated, counted, copied back, freed).
 *
 *   cuda-brute   the talk's brute force, the double loop of brute.c: one
 *                block per perimeter p (the largest first, so that the
 *                longest blocks start first), its threads taking the values
 *                of a in turn and looping over b; a block-wide sum writes
 *                counts[p].  O(N^3) work: for N up to about 1e5.
 *   cuda-euclid  Euclid's formula, as euclid.c: every right triangle is
 *                exactly one multiple k * p0 of exactly one primitive
 *                perimeter p0 = 2m(m + n), m > n >= 1 coprime and of
 *                opposite parity, so counts[p] is the number of primitive
 *                p0 dividing p.  One block per m, one thread per n; a
 *                thread adds 1 (atomically) at every multiple of its p0
 *                below N.  A primitive with more than EUCLID_SPLIT
 *                multiples would keep its thread busy long after the rest
 *                (p0 = 12 has N/12), so it is only listed, and a second
 *                kernel spreads the multiples of every listed primitive
 *                over the whole grid.
 *
 * counts are uint32_t, as for every kernel: counts[p] < p / 3 < 2^32 for
 * p < N <= 4e9 (triangles.h).  Perimeters and products such as k * p0 are
 * formed in 64 bits (N reaches 4e9); m < 44722 and n < m fit 32 bits. */
#include "../common/cuda.h"

#include <math.h>
#include <stdio.h>

extern "C" {
#include "backend.h"
}

#define BRUTE_THREADS 256
#define EUCLID_THREADS 256
/* brute.c's int loop is exact up to this perimeter (c*c < 2^31). */
#define TALK_INT_P_MAX 46340
/* A primitive with more multiples below N than this goes to the second
 * kernel: its thread would otherwise add them one by one (4096 atomics is
 * about as long as a thread of that kernel runs anyway); the list holds
 * about 0.07 N / 4096 primitives, each read by every thread of the second
 * kernel. */
#define EUCLID_SPLIT 4096

/* ---- the kernels ----------------------------------------------------------- */

/* Sum of x over the block, in thread 0 (others get 0).  Every thread of the
 * block must call it; it ends with a barrier, so it may be called again. */
__device__ static uint32_t block_sum(uint32_t x)
{
    __shared__ uint32_t part[BRUTE_THREADS / 32];
    for (int offset = 16; offset > 0; offset >>= 1)
        x += __shfl_down_sync(0xffffffffu, x, offset);
    if ((threadIdx.x & 31) == 0)
        part[threadIdx.x >> 5] = x;
    __syncthreads();
    uint32_t total = 0;
    if (threadIdx.x == 0)
        for (int w = 0; w < BRUTE_THREADS / 32; w++)
            total += part[w];
    __syncthreads(); /* part is free for the next call */
    return total;
}

/* This thread's share of the talk's findnumsolutions(p): the values
 * a = 1 + threadIdx.x, + BRUTE_THREADS, ... below p / 2, each with the
 * whole loop over b.  In int where brute.c's int loop is exact; beyond, in
 * unsigned 64 bits, where a^2 + b^2 < 8e18 and c^2 < 1.6e19 are exact for
 * p < 4e9 (signed 64 bits would overflow at c > 3.03e9). */
__device__ static uint32_t brute_share(int64_t p)
{
    uint32_t found = 0;
    if (p <= TALK_INT_P_MAX) {
        const int pp = (int)p, half = pp / 2;
        for (int a = 1 + (int)threadIdx.x; a < half; a += BRUTE_THREADS) {
            const int aa = a * a;
            for (int b = a; b < half; b++) {
                const int c = pp - a - b;
                if (aa + b * b == c * c)
                    found++;
            }
        }
    } else {
        const uint64_t pp = (uint64_t)p, half = pp / 2;
        for (uint64_t a = 1 + threadIdx.x; a < half; a += BRUTE_THREADS) {
            const uint64_t aa = a * a;
            for (uint64_t b = a; b < half; b++) {
                const uint64_t c = pp - a - b;
                if (aa + b * b == c * c)
                    found++;
            }
        }
    }
    return found;
}

/* counts[p] for every p < N: block q takes p = N - 1 - q, then every
 * gridDim.x-th perimeter below (the grid is capped for huge N). */
__global__ static void __launch_bounds__(BRUTE_THREADS) brute_counts(uint32_t *__restrict__ counts, int64_t N)
{
    for (int64_t q = blockIdx.x; q < N; q += gridDim.x) {
        const int64_t p = N - 1 - q;
        const uint32_t total = block_sum(brute_share(p));
        if (threadIdx.x == 0)
            counts[p] = total;
    }
}

/* gcd of two 32-bit numbers (Euclid's algorithm: m, n < 2^16, a dozen
 * divisions at most). */
__device__ static uint32_t gcd32(uint32_t a, uint32_t b)
{
    while (b != 0) {
        const uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* First pass: block b takes m = 2 + b (the grid covers every m with
 * 2m(m + 1) <= N - 1), its threads the n of opposite parity, 1 <= n < m,
 * 2m(m + n) <= N - 1.  A coprime pair's p0 with p0 <= big_limit (more
 * than EUCLID_SPLIT multiples below N) is appended to big[]; any other
 * adds its multiples p0, 2 p0, ... < N itself. */
__global__ static void __launch_bounds__(EUCLID_THREADS)
    euclid_primitives(uint32_t *__restrict__ counts, uint64_t N, uint64_t big_limit, uint64_t *__restrict__ big,
                      uint32_t big_cap, uint32_t *__restrict__ nbig)
{
    const uint64_t m = 2 + blockIdx.x;
    uint64_t nmax = (N - 1) / (2 * m) - m; /* >= 1: the grid's bound */
    if (nmax > m - 1)
        nmax = m - 1;
    for (uint64_t n = (m & 1) + 1 + 2 * (uint64_t)threadIdx.x; n <= nmax; n += 2 * EUCLID_THREADS) {
        if (gcd32((uint32_t)m, (uint32_t)n) != 1)
            continue;
        const uint64_t p0 = 2 * m * (m + n);
        if (p0 <= big_limit) {
            const uint32_t i = atomicAdd(nbig, 1u);
            if (i < big_cap) /* always (big_cap bounds every pair); the host checks */
                big[i] = p0;
        } else {
            for (uint64_t p = p0; p < N; p += p0)
                atomicAdd(counts + p, 1u);
        }
    }
}

/* Second pass: the multiples of every listed primitive, k = 1, 2, ...
 * spread over all the grid's threads (consecutive threads take consecutive
 * multiples, so small p0 write nearby counts together). */
__global__ static void __launch_bounds__(EUCLID_THREADS)
    euclid_multiples(uint32_t *__restrict__ counts, uint64_t N, const uint64_t *__restrict__ big,
                     const uint32_t *__restrict__ nbig, uint32_t big_cap)
{
    const uint32_t listed = *nbig < big_cap ? *nbig : big_cap;
    const uint64_t k0 = 1 + (uint64_t)blockIdx.x * EUCLID_THREADS + threadIdx.x;
    const uint64_t stride = (uint64_t)gridDim.x * EUCLID_THREADS;
    for (uint32_t i = 0; i < listed; i++) {
        const uint64_t p0 = big[i];
        for (uint64_t p = k0 * p0; p < N; p += stride * p0)
            atomicAdd(counts + p, 1u);
    }
}

/* ---- the backend ------------------------------------------------------------- */

/* What one call holds on the device. */
typedef struct device_counts {
    uint32_t *counts;   /* N counts */
    uint64_t *big;      /* cuda-euclid: the listed primitives (big_cap) */
    uint32_t *nbig;     /* cuda-euclid: how many were listed */
    uint32_t big_cap;   /* 0: no list (cuda-brute) */
    uint64_t big_limit; /* cuda-euclid: p0 <= big_limit are listed */
} device_counts;

/* Number of pairs m > n >= 1 (coprime or not, any parity) with
 * 2m(m + n) <= x: at least the primitives with p0 <= x. */
static uint64_t pairs_upto(uint64_t x)
{
    uint64_t total = 0;
    for (uint64_t m = 2; 2 * m * (m + 1) <= x; m++) {
        uint64_t nmax = x / (2 * m) - m;
        total += nmax < m - 1 ? nmax : m - 1;
    }
    return total;
}

/* Largest m with 2m(m + 1) <= x (1 if none: m starts at 2). */
static uint64_t m_last(uint64_t x)
{
    uint64_t m = (uint64_t)sqrt((double)x / 2.0);
    while (m > 1 && 2 * m * (m + 1) > x)
        m--;
    while (2 * (m + 1) * (m + 2) <= x)
        m++;
    return m < 1 ? 1 : m;
}

/* cuda-brute's launch: every count written by its block, nothing to clear. */
static hpl_status brute_launch(device_counts *d, int64_t N)
{
    const int blocks = N < (1 << 24) ? (int)N : (1 << 24);
    brute_counts<<<blocks, BRUTE_THREADS>>>(d->counts, N);
    return HPL_CUDA_CHECK(cudaGetLastError());
}

/* cuda-euclid's launches: clear the counts and the list, the first pass
 * (one block per m), the second (a few blocks per SM). */
static hpl_status euclid_launch(device_counts *d, int64_t N)
{
    hpl_status s;
    if ((s = HPL_CUDA_CHECK(cudaMemsetAsync(d->counts, 0, (size_t)N * sizeof(uint32_t), 0))) != HPL_OK ||
        (s = HPL_CUDA_CHECK(cudaMemsetAsync(d->nbig, 0, sizeof(uint32_t), 0))) != HPL_OK)
        return s;
    const uint64_t last = m_last((uint64_t)N - 1);
    if (last < 2)
        return HPL_OK; /* N <= 12: no triangle */
    euclid_primitives<<<(unsigned)(last - 1), EUCLID_THREADS>>>(d->counts, (uint64_t)N, d->big_limit, d->big,
                                                                d->big_cap, d->nbig);
    if ((s = HPL_CUDA_CHECK(cudaGetLastError())) != HPL_OK)
        return s;
    euclid_multiples<<<4 * hpl_cuda_sm_count(), EUCLID_THREADS>>>(d->counts, (uint64_t)N, d->big, d->nbig,
                                                                  d->big_cap);
    return HPL_CUDA_CHECK(cudaGetLastError());
}

static void free_counts(device_counts *d)
{
    if (d->counts)
        (void)cudaFree(d->counts);
    if (d->big)
        (void)cudaFree(d->big);
    if (d->nbig)
        (void)cudaFree(d->nbig);
    (void)cudaGetLastError(); /* a failed free must not surface in a later launch check */
}

/* The device call shared by both kernels (backend.h: count_timed): start,
 * check and allocate (t->setup), launch and time (t->kernel by events,
 * t->compute by the wall clock), check the list, copy back (t->download),
 * free.  counts is written only by the final copy. */
static hpl_status count_on_device(int64_t N, uint32_t *counts, hpl_times *t, const char *name, int listed,
                                  hpl_status (*launch)(device_counts *, int64_t))
{
    double context = 0.0;
    hpl_status s = hpl_cuda_start(&context);
    if (s != HPL_OK)
        return s;
    t->context = context;

    double t0 = hpl_wtime();
    device_counts d = {NULL, NULL, NULL, 0, 0};
    const size_t counts_bytes = (size_t)N * sizeof(uint32_t); /* count.c: fits size_t */
    size_t big_bytes = 0;
    if (listed) {
        d.big_limit = ((uint64_t)N - 1) / (EUCLID_SPLIT + 1);
        const uint64_t cap = pairs_upto(d.big_limit) + 1; /* + 1: never a zero-byte allocation */
        if (cap > UINT32_MAX)
            return hpl_fail(HPL_EINTERNAL, "%s: %llu listed primitives overflow the list's counter", name,
                            (unsigned long long)cap);
        d.big_cap = (uint32_t)cap;
        big_bytes = (size_t)cap * sizeof(uint64_t);
    }
    char what[160];
    snprintf(what, sizeof what, "%s: N = %lld counts (%llu bytes)%s", name, (long long)N,
             (unsigned long long)counts_bytes, listed ? " and the list of small primitives" : "");
    hpl_cuda_timer timer = {NULL, NULL};
    if ((s = hpl_cuda_fits(counts_bytes + big_bytes + sizeof(uint32_t), what)) != HPL_OK ||
        (s = hpl_cuda_malloc((void **)&d.counts, counts_bytes, what)) != HPL_OK ||
        (listed && (s = hpl_cuda_malloc((void **)&d.big, big_bytes, what)) != HPL_OK) ||
        (listed && (s = hpl_cuda_malloc((void **)&d.nbig, sizeof(uint32_t), what)) != HPL_OK) ||
        (s = hpl_cuda_timer_create(&timer)) != HPL_OK)
        goto done;
    t->setup = hpl_wtime() - t0;

    t0 = hpl_wtime();
    if ((s = hpl_cuda_timer_start(&timer)) != HPL_OK || (s = launch(&d, N)) != HPL_OK ||
        (s = hpl_cuda_timer_stop(&timer)) != HPL_OK || (s = hpl_cuda_timer_seconds(&timer, &t->kernel)) != HPL_OK)
        goto done;
    t->compute = hpl_wtime() - t0;
    if (listed) {
        uint32_t nbig = 0;
        if ((s = HPL_CUDA_CHECK(cudaMemcpy(&nbig, d.nbig, sizeof nbig, cudaMemcpyDeviceToHost))) != HPL_OK)
            goto done;
        if (nbig > d.big_cap) {
            s = hpl_fail(HPL_EINTERNAL, "%s: %u primitives listed, room for %u: counts would be short", name, nbig,
                         d.big_cap);
            goto done;
        }
    }

    t0 = hpl_wtime();
    if ((s = HPL_CUDA_CHECK(cudaMemcpy(counts, d.counts, counts_bytes, cudaMemcpyDeviceToHost))) != HPL_OK)
        goto done;
    t->download = hpl_wtime() - t0;
done:
    hpl_cuda_timer_destroy(&timer);
    free_counts(&d);
    return s;
}

static hpl_status brute_count_timed(int64_t N, uint32_t *counts, hpl_times *t)
{
    return count_on_device(N, counts, t, "cuda-brute", 0, brute_launch);
}

static hpl_status euclid_count_timed(int64_t N, uint32_t *counts, hpl_times *t)
{
    return count_on_device(N, counts, t, "cuda-euclid", 1, euclid_launch);
}

/* Positional initialisers (designated ones are C++20): count, count_timed,
 * detail, probe. */
extern "C" const hpl_triangles_backend hpl_triangles_cuda_brute = {
    NULL, brute_count_timed, hpl_cuda_detail, hpl_cuda_probe,
};

extern "C" const hpl_triangles_backend hpl_triangles_cuda_euclid = {
    NULL, euclid_count_timed, hpl_cuda_detail, hpl_cuda_probe,
};
