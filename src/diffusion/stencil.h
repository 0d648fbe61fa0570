/* stencil.h - kernel code shared by simd.c, tiled.c and tiled_openmp.c (internal).
 *
 * 1. Run-time choice of the instruction set (hpl_stencil_isa): AVX-512F,
 *    AVX2+FMA or portable C, from __builtin_cpu_supports.  The environment
 *    variable HPCLADDER_SIMD=portable|avx2|avx512 may force a LOWER path
 *    (tests run every path on one machine); asking for a path the CPU lacks,
 *    or any other value, leaves the best path.
 *
 * 2. One time step over the whole field (hpl_stencil_steps): the naive
 *    arithmetic u + r*((ur + ul) - 2u) in every lane, so every path is
 *    bit-identical to naive.
 *
 * 3. Temporal blocking by lane folding with a register wavefront (hpl_fold_*),
 *    used by tiled.c (tiles one after the other) and tiled_openmp.c (tiles over
 *    threads):
 *    - Fold: the N = n-2 interior points are cut into W segments of m rows
 *      (W = lanes of a vector); row j holds point j of every segment, so a
 *      point's neighbours sit in the same lane of rows j-1 and j+1 and no
 *      shuffles are needed.  The N - W*m (< W) points left over live after
 *      the rows and are advanced in the halo of lane W-1.
 *    - Period: the rows are split into tiles; a tile plus T + W halo rows on
 *      the left and 2T + W on the right is copied into a private buffer (halo
 *      rows beyond the fold come from the neighbouring lane), advanced T
 *      steps there and its centre written back to the other copy of the
 *      field (ghost zones: the valid part of the buffer shrinks each step by
 *      one row on the left, two on the right).
 *    - Sweep: K steps in one pass over the buffer; level s+1 of row x is
 *      computed as soon as level s of row x+2 is, all levels in registers
 *      (a register wavefront, skewed so that the K updates of one pass are
 *      independent), so memory sees one load and one store per row for K
 *      steps.
 *    - Fixed ends: u[0] is row 0 of lane 0 and u[n-1] a halo row of lane W-1;
 *      both are reset to their fixed values after every level.
 *    - Arithmetic: with FMA the "scaled" form.  With w = u * g^s (s = level
 *      within the period, g = k + 2, k ~ (1-2r)/r a double) the update
 *      u' = (1-2r)u + r(ul+ur) becomes w' = fma(k, w, wl + wr): one add and
 *      one FMA per point and step instead of naive's three adds and two
 *      multiplies (Zen 3: 0.5 instead of 1.5 cycles per 4 points).  At the
 *      end of a period the field is multiplied by g^-T (long double, its
 *      rounding carried into the next period); T is capped so that w cannot
 *      overflow.  Exactly, this is the scheme with r' = 1/g = r(1 + ~1e-16):
 *      the same answer to far below 1e-12.  In rounding it is not naive's
 *      bits; on the talk's run (n=1e5, 50000 steps, r=0.1) it is ~2e-15 of
 *      max|u| from a long-double reference, naive 5.7e-15.  Without FMA
 *      (portable), or when r is so small that g^K could overflow, the sweeps
 *      use naive's expression and are bit-identical to naive.
 *    - Every point gets the same arithmetic whatever tile or thread computes
 *      it: for a given period T the result does not depend on the tiling or
 *      the thread count (T itself follows the tile size, see create).
 *
 * Everything here is static inline: each kernel file gets its own copy. */
#ifndef HPL_STENCIL_TEMPLATE /* ---------------- the header proper -------- */
#ifndef HPCLADDER_DIFFUSION_STENCIL_H
#define HPCLADDER_DIFFUSION_STENCIL_H

#include "backend.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define HPL_STENCIL_X86 1
#include <immintrin.h>
#else
#define HPL_STENCIL_X86 0
#endif

/* ---- 1. instruction set --------------------------------------------------- */

enum { HPL_ISA_PORTABLE = 0, HPL_ISA_AVX2 = 1, HPL_ISA_AVX512 = 2 };

/* The best path this CPU runs, lowered by HPCLADDER_SIMD if set. */
static inline int hpl_stencil_isa(void)
{
    int best = HPL_ISA_PORTABLE;
#if HPL_STENCIL_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        best = HPL_ISA_AVX512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        best = HPL_ISA_AVX2;
#endif
    const char *env = getenv("HPCLADDER_SIMD");
    int want = best;
    if (env != NULL) {
        if (strcmp(env, "portable") == 0)
            want = HPL_ISA_PORTABLE;
        else if (strcmp(env, "avx2") == 0)
            want = HPL_ISA_AVX2;
        else if (strcmp(env, "avx512") == 0)
            want = HPL_ISA_AVX512;
    }
    return want < best ? want : best; /* only ever lower */
}

static inline const char *hpl_stencil_isa_name(int isa)
{
    return isa == HPL_ISA_AVX512 ? "avx512f" : isa == HPL_ISA_AVX2 ? "avx2+fma" : "portable";
}

/* ---- 2. one step at a time ------------------------------------------------ */

/* b[1..n-2] = one step of a[]; b[0], b[n-1] untouched.  The expression is
 * naive.c's, in its order, so the result is naive's to the bit. */
static inline void hpl_step_portable(const double *restrict a, double *restrict b, int64_t n, double r)
{
    for (int64_t i = 1; i < n - 1; i++)
        b[i] = a[i] + r * ((a[i + 1] + a[i - 1]) - 2.0 * a[i]);
}

#if HPL_STENCIL_X86
/* Same as hpl_step_portable, four lanes at a time (unaligned loads of the
 * three shifted windows: the field arrives at any alignment). */
static inline __attribute__((target("avx2,fma"))) void
hpl_step_avx2(const double *restrict a, double *restrict b, int64_t n, double r)
{
    const __m256d rv = _mm256_set1_pd(r), two = _mm256_set1_pd(2.0);
    int64_t i = 1;
    for (; i + 4 <= n - 1; i += 4) {
        __m256d l = _mm256_loadu_pd(a + i - 1), c = _mm256_loadu_pd(a + i), rr = _mm256_loadu_pd(a + i + 1);
        __m256d d = _mm256_sub_pd(_mm256_add_pd(rr, l), _mm256_mul_pd(two, c));
        _mm256_storeu_pd(b + i, _mm256_add_pd(c, _mm256_mul_pd(rv, d)));
    }
    for (; i < n - 1; i++)
        b[i] = a[i] + r * ((a[i + 1] + a[i - 1]) - 2.0 * a[i]);
}

/* Same, eight lanes at a time. */
static inline __attribute__((target("avx512f"))) void
hpl_step_avx512(const double *restrict a, double *restrict b, int64_t n, double r)
{
    const __m512d rv = _mm512_set1_pd(r), two = _mm512_set1_pd(2.0);
    int64_t i = 1;
    for (; i + 8 <= n - 1; i += 8) {
        __m512d l = _mm512_loadu_pd(a + i - 1), c = _mm512_loadu_pd(a + i), rr = _mm512_loadu_pd(a + i + 1);
        __m512d d = _mm512_sub_pd(_mm512_add_pd(rr, l), _mm512_mul_pd(two, c));
        _mm512_storeu_pd(b + i, _mm512_add_pd(c, _mm512_mul_pd(rv, d)));
    }
    for (; i < n - 1; i++)
        b[i] = a[i] + r * ((a[i + 1] + a[i - 1]) - 2.0 * a[i]);
}
#endif

/* Advance u by `steps` steps, one at a time, with path isa; `work` holds n
 * doubles.  Pointer swap, as serial.c; the result ends in u. */
static inline void hpl_stencil_steps(int isa, double *u, double *work, int64_t n, double r, int64_t steps)
{
    double *a = u, *b = work;
    b[0] = u[0]; /* the ends never change: set them once in both arrays */
    b[n - 1] = u[n - 1];
    for (int64_t t = 0; t < steps; t++) {
#if HPL_STENCIL_X86
        if (isa == HPL_ISA_AVX512)
            hpl_step_avx512(a, b, n, r);
        else if (isa == HPL_ISA_AVX2)
            hpl_step_avx2(a, b, n, r);
        else
#endif
            hpl_step_portable(a, b, n, r);
        double *tmp = a;
        a = b;
        b = tmp;
    }
    if (a != u) /* odd step count: the result is in the workspace */
        memcpy(u + 1, a + 1, (size_t)(n - 2) * sizeof(double));
}

/* ---- 3. lane folding, register wavefront, ghost-zone tiles ---------------- */

/* No such row (the warm-up of a sweep visits rows down to -K, so -1 won't do). */
#define HPL_NO_ROW INT64_MIN

/* What one sweep needs besides the buffer. */
typedef struct hpl_sweep {
    int scaled;           /* 1: w' = fma(k, w, wl + wr); 0: naive expression */
    double r, k;          /* r for the naive form, k for the scaled one */
    int64_t fix_lo;       /* buffer row holding u[0] in lane 0, or HPL_NO_ROW */
    int64_t fix_hi;       /* buffer row holding u[n-1] in lane W-1, or HPL_NO_ROW */
    const double *lo_val; /* value of u[0] at level s of this sweep: lo_val[s] */
    const double *hi_val; /* value of u[n-1] likewise */
} hpl_sweep;

/* Levels per sweep: as many as the registers hold (3 vectors per level
 * besides level 0, see T_COLUMN; 16 ymm for AVX2, 32 zmm for AVX-512).
 * Overridable for tuning: on Zen 3, K = 4 and 5 ran alike, 6 spilled. */
#ifndef HPL_K_AVX2
#define HPL_K_AVX2 4
#endif
#ifndef HPL_K_AVX512
#define HPL_K_AVX512 8
#endif
#define HPL_K_PORTABLE 4

#define HPL_CAT_(a, b) a##b
#define HPL_CAT(a, b) HPL_CAT_(a, b)

/* Instantiate the vector code once per path (the template is the #else part
 * of this file): T_W lanes, T_K levels per sweep. */
#define HPL_STENCIL_TEMPLATE 1
#define T_SFX portable
#define T_TARGET
#define T_W 4
#define T_K HPL_K_PORTABLE
#define T_FMA(a, b, c) ((a) * (b) + (c)) /* never run: portable sweeps use the naive form */
#define T_HAS_FMA 0
#include "stencil.h"
#if HPL_STENCIL_X86
#define T_SFX avx2
#define T_TARGET __attribute__((target("avx2,fma")))
#define T_W 4
#define T_K HPL_K_AVX2
#define T_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define T_HAS_FMA 1
#include "stencil.h"
#define T_SFX avx512
#define T_TARGET __attribute__((target("avx512f")))
#define T_W 8
#define T_K HPL_K_AVX512
#define T_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define T_HAS_FMA 1
#include "stencil.h"
#endif
#undef HPL_STENCIL_TEMPLATE

/* The folded field and the tiling of its rows; all memory is allocated by
 * hpl_fold_create, none by the run functions. */
typedef struct hpl_fold {
    int isa, W, K;
    int64_t n, m, rem; /* m rows of W lanes; rem = N - W*m points left over */
    int64_t T;         /* longest period (steps, a multiple of K) */
    int64_t H, HR;     /* halo rows left (T + W) and right (2T + W, see T_COLUMN) */
    int64_t ntiles;    /* tile t holds rows [tile_lo(t), tile_lo(t+1)) */
    int64_t rows_max;  /* rows of the largest tile */
    int nbuf;          /* private buffers, one per worker */
    double *F[2];      /* two copies of the folded field, n doubles each */
    double *buf;       /* nbuf buffers of buf_len doubles */
    int64_t buf_len;
    double *fix; /* 2*(T+1): per-level values of u[0] and u[n-1] */
} hpl_fold;

/* What one execute decided: form, constants, period. */
typedef struct hpl_fold_run {
    int scaled;
    double r, k;
    long double g; /* k + 2 = 1/r' exactly; level s is scaled by g^s */
    int64_t T;     /* steps per period this run (multiple of K, <= fold T) */
} hpl_fold_run;

/* First row of tile t (t = ntiles gives m + 1): rows split evenly. */
static inline int64_t hpl_fold_tile_lo(const hpl_fold *f, int64_t t)
{
    return 1 + (int64_t)((__int128)t * f->m / f->ntiles);
}

/* Plan the fold of an n-point field for path isa: tiles of about
 * `tile_rows` rows, their count a multiple of `workers` where the rows allow,
 * and min(workers, tiles) buffers.  Sets f->T = 0 if n is too small to fold
 * (the kernel then steps one at a time).  HPL_ENOMEM if allocation fails. */
static inline hpl_status hpl_fold_create(hpl_fold *f, int64_t n, int isa, int64_t period, int64_t tile_rows,
                                         int workers)
{
    memset(f, 0, sizeof *f);
    f->isa = isa;
    f->n = n;
    f->W = isa == HPL_ISA_AVX512 ? 8 : 4;
    f->K = isa == HPL_ISA_AVX512 ? HPL_K_AVX512 : isa == HPL_ISA_AVX2 ? HPL_K_AVX2 : HPL_K_PORTABLE;
    f->m = (n - 2) / f->W;
    f->rem = (n - 2) - f->W * f->m;
    /* Halo rows beyond the fold are the neighbouring lane's rows, so the
     * halos (up to 2T + W rows) must not exceed m. */
    int64_t T = period / f->K * f->K;
    if (T > (f->m - f->W) / 2)
        T = (f->m - f->W) / 2 / f->K * f->K;
    f->T = T < f->K ? 0 : T;
    f->F[0] = hpl_alloc_zeroed((size_t)n, sizeof(double));
    f->F[1] = hpl_alloc_zeroed((size_t)n, sizeof(double));
    if (f->F[0] == NULL || f->F[1] == NULL)
        goto nomem;
    if (f->T == 0)
        return HPL_OK;
    f->H = f->T + f->W;
    f->HR = 2 * f->T + f->W;
    int64_t per = (f->m + tile_rows - 1) / tile_rows;
    per = (per + workers - 1) / workers; /* tiles per worker */
    f->ntiles = per * workers;
    /* tiles much thinner than their halo waste work: fewer tiles, idle
     * workers instead */
    int64_t most = f->m / f->H > 1 ? f->m / f->H : 1;
    if (f->ntiles > most)
        f->ntiles = most;
    f->rows_max = (f->m + f->ntiles - 1) / f->ntiles;
    /* each sweep also computes about 1.5T halo rows: keep T <= rows/16 so
     * that this stays under ~10% (thin tiles get short periods) */
    if (f->T > f->rows_max / 16)
        f->T = f->rows_max / 16 / f->K * f->K > f->K ? f->rows_max / 16 / f->K * f->K : f->K;
    f->H = f->T + f->W;
    f->HR = 2 * f->T + f->W;
    f->nbuf = workers < f->ntiles ? workers : (int)f->ntiles;
    f->buf_len = (f->rows_max + f->H + f->HR) * f->W;
    f->buf = hpl_alloc_zeroed((size_t)f->nbuf * (size_t)f->buf_len, sizeof(double));
    f->fix = hpl_alloc_zeroed((size_t)(2 * (f->T + 1)), sizeof(double));
    if (f->buf == NULL || f->fix == NULL)
        goto nomem;
    return HPL_OK;
nomem:
    hpl_free(f->F[0]);
    hpl_free(f->F[1]);
    hpl_free(f->buf);
    hpl_free(f->fix);
    memset(f, 0, sizeof *f);
    return HPL_ENOMEM;
}

static inline void hpl_fold_destroy(hpl_fold *f)
{
    hpl_free(f->F[0]);
    hpl_free(f->F[1]);
    hpl_free(f->buf);
    hpl_free(f->fix);
}

/* k = (1-2r)/r as a double, but of the doubles within 2 ulp of it the one
 * with the shortest mantissa: k*w then has few bits below w's, and the
 * rounding of fma(k, w, wl + wr) stays unbiased.  A full-mantissa k (the
 * nearest double to 7.99999999999999956 for r = 0.1) drifts the whole field
 * by ~5e-18 per step; 8 does not.  2 ulp change r' = 1/(k+2) by < 3e-16
 * relative, i.e. the diffusion time by as much: invisible at 1e-12. */
static inline double hpl_fold_short_k(double r)
{
    double k0 = (double)((1.0L - 2.0L * (long double)r) / (long double)r), best = k0;
    int best_zeros = -1;
    double c = nextafter(nextafter(k0, -1.0), -1.0);
    for (int i = 0; i < 5; i++, c = nextafter(c, INFINITY)) {
        if (c < 0.0)
            continue;
        int e;
        double f = frexp(c, &e); /* c = f * 2^e, f in [0.5, 1) */
        uint64_t mant = (uint64_t)ldexp(f, 53);
        int zeros = mant == 0 ? 64 : __builtin_ctzll(mant);
        if (zeros > best_zeros || (zeros == best_zeros && fabs(c - k0) < fabs(best - k0))) {
            best = c;
            best_zeros = zeros;
        }
    }
    return best;
}

/* Choose the arithmetic and the period for this run, fill the per-level
 * values of the ends and fold u into F[0].  Returns 0 (and touches nothing)
 * if the fold cannot be used: the caller steps one at a time instead. */
static inline int hpl_fold_begin(hpl_fold *f, const double *u, double r, int64_t steps, hpl_fold_run *run)
{
    if (f->T == 0 || steps < f->K)
        return 0;
    const int64_t n = f->n, W = f->W, m = f->m;
    run->r = r;
    run->T = f->T;
    run->scaled = 0;
    run->k = 0.0;
    run->g = 1.0L;
    if (f->isa != HPL_ISA_PORTABLE) {
        /* Scaled form: |w| grows by at most g per level (maximum principle),
         * so keep max|u| * g^T below 2^900, far from overflow. */
        double k = hpl_fold_short_k(r);
        long double g = (long double)k + 2.0L;
        double big = 0.0;
        for (int64_t i = 0; i < n; i++)
            big = fmax(big, fabs(u[i]));
        double room = 900.0 * log(2.0) - (big > 0.0 ? log(big) : -1e9);
        double levels = room / log((double)g);
        int64_t T = levels >= (double)f->T ? f->T : (int64_t)levels / f->K * f->K;
        if (T >= f->K) {
            run->scaled = 1;
            run->k = k;
            run->g = g;
            run->T = T;
        }
    }
    /* u[0] and u[n-1] in the units of level s: u * g^s */
    long double p = 1.0L;
    for (int64_t s = 0; s <= run->T; s++, p *= run->g) {
        f->fix[s] = (double)((long double)u[0] * p);
        f->fix[f->T + 1 + s] = (double)((long double)u[n - 1] * p);
    }
    /* fold: row j (1..m), lane l holds u[1 + l*m + j-1]; then the rest */
    double *F = f->F[0];
    for (int64_t l = 0; l < W; l++)
        for (int64_t j = 0; j < m; j++)
            F[j * W + l] = u[1 + l * m + j];
    for (int64_t q = 0; q < f->rem; q++)
        F[m * W + q] = u[1 + W * m + q];
    return 1;
}

/* Unfold F into u[1..n-2]. */
static inline void hpl_fold_end(const hpl_fold *f, const double *F, double *u)
{
    const int64_t W = f->W, m = f->m;
    for (int64_t l = 0; l < W; l++)
        for (int64_t j = 0; j < m; j++)
            u[1 + l * m + j] = F[j * W + l];
    for (int64_t q = 0; q < f->rem; q++)
        u[1 + W * m + q] = F[m * W + q];
}

/* Steps in the next period: a multiple of K, 0 when fewer than K are left. */
static inline int64_t hpl_fold_period(const hpl_fold *f, const hpl_fold_run *run, int64_t left)
{
    int64_t T = left / f->K * f->K;
    return T < run->T ? T : run->T;
}

/* Factor that takes level T back to u: g^-T rounded to a double, 1 for the
 * naive form.  *carry (start at 1) keeps what the roundings of earlier
 * periods left over, so that they do not add up over many periods (they
 * would: the same rounding each period, ~1e-16 times 500 periods). */
static inline double hpl_fold_unscale(const hpl_fold_run *run, int64_t T, long double *carry)
{
    long double s = *carry;
    for (int64_t i = 0; i < T; i++)
        s /= run->g;
    double applied = (double)s;
    *carry = applied != 0.0 ? s / (long double)applied : 1.0L;
    return applied;
}

/* Copy folded row j (any j in [1-H, m+HR]) of src into buffer row b.  Rows
 * beyond the fold are the neighbouring lane's rows: the values of the points
 * just before/after each segment.  Lane 0 left of row 1 is u[0] (only row 0
 * matters), lane W-1 right of row m is the left-over points, then u[n-1]. */
static inline void hpl_fold_row_in(const hpl_fold *f, const double *src, int64_t j, double *b)
{
    const int64_t W = f->W, m = f->m;
    if (j >= 1 && j <= m) {
        memcpy(b, src + (j - 1) * W, (size_t)W * sizeof(double));
    } else if (j < 1) {
        b[0] = f->fix[0];
        for (int64_t l = 1; l < W; l++)
            b[l] = src[(m + j - 1) * W + l - 1];
    } else {
        for (int64_t l = 0; l + 1 < W; l++)
            b[l] = src[(j - m - 1) * W + l + 1];
        int64_t q = j - m - 1;
        b[W - 1] = q < f->rem ? src[m * W + q] : f->fix[f->T + 1];
    }
}

static inline void hpl_fold_sweep(int isa, double *buf, int64_t lo, int64_t hi, const hpl_sweep *sw)
{
#if HPL_STENCIL_X86
    if (isa == HPL_ISA_AVX512)
        hpl_sweep_avx512(buf, lo, hi, sw);
    else if (isa == HPL_ISA_AVX2)
        hpl_sweep_avx2(buf, lo, hi, sw);
    else
#endif
        hpl_sweep_portable(buf, lo, hi, sw);
}

static inline void hpl_fold_scale(int isa, double *dst, const double *src, int64_t count, double s)
{
#if HPL_STENCIL_X86
    if (isa == HPL_ISA_AVX512)
        hpl_scale_avx512(dst, src, count, s);
    else if (isa == HPL_ISA_AVX2)
        hpl_scale_avx2(dst, src, count, s);
    else
#endif
        hpl_scale_portable(dst, src, count, s);
}

/* Advance tile t by T steps (a multiple of K, T <= run->T): rows of src, in
 * buffer buf, results to the same rows of dst (scaled back by unscale).
 * Tiles read src only and write disjoint rows of dst, so they may run
 * concurrently. */
static inline void hpl_fold_tile(const hpl_fold *f, const hpl_fold_run *run, int64_t t, int64_t T, double unscale,
                                 const double *src, double *dst, double *buf)
{
    const int64_t W = f->W, m = f->m, H = f->H;
    const int64_t j0 = hpl_fold_tile_lo(f, t), j1 = hpl_fold_tile_lo(f, t + 1);
    const int64_t first = j0 - H, rows = (j1 - j0) + H + f->HR; /* buffer row x is row first + x */
    /* copy in: the centre and the in-fold halo in one piece, the rest by row */
    int64_t a = first < 1 ? 1 : first, b = first + rows > m + 1 ? m + 1 : first + rows;
    memcpy(buf + (a - first) * W, src + (a - 1) * W, (size_t)((b - a) * W) * sizeof(double));
    for (int64_t j = first; j < a; j++)
        hpl_fold_row_in(f, src, j, buf + (j - first) * W);
    for (int64_t j = b; j < first + rows; j++)
        hpl_fold_row_in(f, src, j, buf + (j - first) * W);

    hpl_sweep sw = {.scaled = run->scaled, .r = run->r, .k = run->k};
    sw.fix_lo = (0 >= first && 0 < first + rows) ? 0 - first : HPL_NO_ROW;
    sw.fix_hi = (m + f->rem + 1 < first + rows) ? m + f->rem + 1 - first : HPL_NO_ROW;
    for (int64_t s = 0; s < T; s += f->K) {
        sw.lo_val = f->fix + s;
        sw.hi_val = f->fix + f->T + 1 + s;
        /* the valid rows shrink per sweep by K on the left, 2K on the right */
        hpl_fold_sweep(f->isa, buf, s, rows - 2 * s, &sw);
    }
    /* copy out the centre; the last tile also owns the left-over points,
     * which are valid because u[n-1] cuts off the halo beyond them */
    hpl_fold_scale(f->isa, dst + (j0 - 1) * W, buf + H * W, (j1 - j0) * W, unscale);
    if (j1 == m + 1)
        for (int64_t q = 0; q < f->rem; q++)
            dst[m * W + q] = buf[(H + (j1 - j0) + q) * W + W - 1] * unscale;
}

#endif /* HPCLADDER_DIFFUSION_STENCIL_H */

#else /* ---------------- the template: one vector path ------------------- */
/* Expects T_SFX (name suffix), T_TARGET (function attribute), T_W (lanes),
 * T_K (levels per sweep), T_FMA(a, b, c) (a*b + c fused) and T_HAS_FMA. */

/* dst[i] = src[i] * s, i < count (count a multiple of T_W, both aligned). */
static inline T_TARGET void HPL_CAT(hpl_scale_, T_SFX)(double *restrict dst, const double *restrict src,
                                                      int64_t count, double s)
{
    typedef double V __attribute__((vector_size(8 * T_W), may_alias));
    const V sv = (V){0} + s;
    for (int64_t i = 0; i < count; i += T_W)
        *(V *)(dst + i) = *(const V *)(src + i) * sv;
}

/* One column of the wavefront, skewed by two rows per level: level s at row
 * c - 2(s-1), for s = K down to 1; level K is stored (if STORE).  With the
 * skew, level s needs level s-1 only at rows that earlier columns computed,
 * so the K updates of a column are independent (no chain of K latencies).
 * Level s (1 <= s < K) keeps three registers: X[s], Y[s], Z[s] hold its rows
 * x-1, x, x+1 where level s+1 computes row x; once that is done, level s's
 * new row x+2 replaces X[s].  The caller rotates the roles (X,Y,Z) ->
 * (Y,Z,X) from column to column, so the loop unrolled by three moves no
 * registers.  Level 0 is read from the buffer.  CHECK: reset the fixed
 * ends. */
#define T_UPDATE(l, x, rr)                                                \
    __extension__({                                                       \
        V u_;                                                             \
        if (SCALED)                                                       \
            u_ = (V)T_FMA(kv, (x), (l) + (rr));                           \
        else                                                              \
            u_ = (x) + rv * (((rr) + (l)) - two * (x));                   \
        u_;                                                               \
    })
#define T_FIX(v, row, s)                                      \
    do {                                                      \
        if ((row) == sw->fix_lo)                              \
            (v)[0] = sw->lo_val[s];                           \
        if ((row) == sw->fix_hi)                              \
            (v)[T_W - 1] = sw->hi_val[s];                     \
    } while (0)
#define T_COLUMN(c, X, Y, Z, CHECK, STORE)                                             \
    do {                                                                               \
        _Pragma("GCC unroll 16") for (int s_ = T_K; s_ >= 2; s_--)                     \
        {                                                                              \
            V v_ = T_UPDATE(X[s_ - 1], Y[s_ - 1], Z[s_ - 1]);                          \
            if (CHECK)                                                                 \
                T_FIX(v_, (c) - 2 * (s_ - 1), s_);                                     \
            if (s_ < T_K)                                                              \
                X[s_] = v_;                                                            \
            else if (STORE)                                                            \
                *(V *)(buf + ((c) - 2 * (T_K - 1)) * T_W) = v_;                        \
        }                                                                              \
        const V *p_ = (const V *)(buf + ((c) - 1) * T_W);                              \
        V n_ = T_UPDATE(p_[0], p_[1], p_[2]);                                          \
        if (CHECK)                                                                     \
            T_FIX(n_, (c), 1);                                                         \
        X[1] = n_;                                                                     \
    } while (0)
/* one column with the roles of its place in the rotation */
#define T_COLUMN1(c, CHECK, STORE)                                                     \
    do {                                                                               \
        switch (((c) - c0) % 3) {                                                      \
        case 0: T_COLUMN(c, P, Q, R, CHECK, STORE); break;                             \
        case 1: T_COLUMN(c, Q, R, P, CHECK, STORE); break;                             \
        default: T_COLUMN(c, R, P, Q, CHECK, STORE); break;                            \
        }                                                                              \
    } while (0)

/* K levels over buffer rows [lo, hi) (valid at level 0), in place: afterwards
 * rows [lo+K, hi-2K) hold level K (the skew costs K more rows on the right).  SCALED is a constant at each call, so each
 * form gets its own loop. */
static inline __attribute__((always_inline)) T_TARGET void
HPL_CAT(hpl_sweep_core_, T_SFX)(double *restrict buf, int64_t lo, int64_t hi, const hpl_sweep *sw, const int SCALED)
{
    typedef double V __attribute__((vector_size(8 * T_W), may_alias));
    const V rv = (V){0} + sw->r, two = (V){0} + 2.0;
    const V kv = (V){0} + sw->k;
    (void)kv;
    V P[T_K], Q[T_K], R[T_K];
    for (int s = 0; s < T_K; s++) /* any finite value: only feeds rows that are not valid */
        P[s] = Q[s] = R[s] = *(const V *)(buf + lo * T_W);
    const int64_t c0 = lo + 1, cend = hi - 1; /* columns: level 1 on rows [lo+1, hi-1) */
    const int64_t warm = c0 + 3 * T_K - 3 < cend ? c0 + 3 * T_K - 3 : cend; /* level K at row >= lo+K */
    int64_t c = c0;
    /* warm-up: the deeper levels are not valid yet, store nothing */
    for (; c < warm; c++)
        T_COLUMN1(c, 1, 0);
    /* the fixed ends need a reset in the 2K-1 columns where some level
     * passes their row; elsewhere the plain loop */
    int64_t f1 = sw->fix_lo != HPL_NO_ROW ? sw->fix_lo : cend, f2 = sw->fix_hi != HPL_NO_ROW ? sw->fix_hi : cend;
    if (f1 > f2) {
        int64_t t = f1;
        f1 = f2;
        f2 = t;
    }
    while (c < cend) {
        int64_t stop = cend;
        if (c < f1)
            stop = f1 < cend ? f1 : cend;
        else if (c < f1 + 2 * T_K - 1)
            stop = -1;
        else if (c < f2)
            stop = f2 < cend ? f2 : cend;
        else if (c < f2 + 2 * T_K - 1)
            stop = -1;
        if (stop < 0) {
            T_COLUMN1(c, 1, 1);
            c++;
        } else {
            for (; c < stop && (c - c0) % 3 != 0; c++)
                T_COLUMN1(c, 0, 1);
            for (; c + 3 <= stop; c += 3) {
                T_COLUMN(c, P, Q, R, 0, 1);
                T_COLUMN(c + 1, Q, R, P, 0, 1);
                T_COLUMN(c + 2, R, P, Q, 0, 1);
            }
            for (; c < stop; c++)
                T_COLUMN1(c, 0, 1);
        }
    }
}

static inline T_TARGET void HPL_CAT(hpl_sweep_, T_SFX)(double *restrict buf, int64_t lo, int64_t hi,
                                                      const hpl_sweep *sw)
{
    if (T_HAS_FMA && sw->scaled)
        HPL_CAT(hpl_sweep_core_, T_SFX)(buf, lo, hi, sw, 1);
    else
        HPL_CAT(hpl_sweep_core_, T_SFX)(buf, lo, hi, sw, 0);
}

#undef T_UPDATE
#undef T_FIX
#undef T_COLUMN
#undef T_COLUMN1
#undef T_SFX
#undef T_TARGET
#undef T_W
#undef T_K
#undef T_FMA
#undef T_HAS_FMA
#endif
