/* stencil.c - the kernels behind simd.c, tiled.c and tiled_openmp.c: one
 * table of kernels per instruction set (stencil_template.h makes all three),
 * the choice among them, and the lane-folded tiles.  The design is described
 * in stencil.h. */
#include "stencil.h"

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

#define HPL_CAT_(a, b) a##b
#define HPL_CAT(a, b) HPL_CAT_(a, b)

/* naive.c's update of x from its neighbours l and rr, in naive's order, for
 * doubles and vectors alike: every path computes this and nothing else
 * (-ffp-contract=off keeps it from becoming an FMA). */
#define HPL_NAIVE(l, x, rr, r, two) ((x) + (r) * (((rr) + (l)) - (two) * (x)))

/* ---- 1. the paths --------------------------------------------------------- */

/* Levels per sweep: as many as the registers hold (3 vectors per level
 * besides level 0, see T_COLUMN; 16 ymm for AVX2, 32 zmm for AVX-512).
 * Overridable for tuning (docs/diffusion-kernels.md). */
#ifndef HPL_K_AVX2
#define HPL_K_AVX2 4
#endif
#ifndef HPL_K_AVX512
#define HPL_K_AVX512 8
#endif
#define HPL_K_PORTABLE 4

#define T_SFX portable
#define T_SIMD "portable"
#define T_NAME "portable"
#define T_RUNS 1
#define T_TARGET
#define T_W 4
#define T_K HPL_K_PORTABLE
#define T_FMA(a, b, c) ((a) * (b) + (c)) /* never run: portable sweeps use the naive form */
#define T_HAS_FMA 0
#include "stencil_template.h"

#if HPL_STENCIL_X86
#define T_SFX avx2
#define T_SIMD "avx2"
#define T_NAME "avx2+fma"
#define T_RUNS (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
#define T_TARGET __attribute__((target("avx2,fma")))
#define T_W 4
#define T_K HPL_K_AVX2
#define T_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define T_HAS_FMA 1
#include "stencil_template.h"

#define T_SFX avx512
#define T_SIMD "avx512"
#define T_NAME "avx512f"
#define T_RUNS __builtin_cpu_supports("avx512f")
#define T_TARGET __attribute__((target("avx512f")))
#define T_W 8
#define T_K HPL_K_AVX512
#define T_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define T_HAS_FMA 1
#include "stencil_template.h"
#endif

/* Every path, the most portable first: each later one is preferred. */
static const hpl_stencil_ops *const hpl_paths[] = {
    &hpl_stencil_portable,
#if HPL_STENCIL_X86
    &hpl_stencil_avx2,
    &hpl_stencil_avx512,
#endif
};
enum { HPL_NPATHS = sizeof hpl_paths / sizeof hpl_paths[0] };

const hpl_stencil_ops *hpl_stencil_pick(void)
{
#if HPL_STENCIL_X86
    __builtin_cpu_init();
#endif
    int best = 0;
    for (int i = 1; i < HPL_NPATHS; i++)
        if (hpl_paths[i]->runs())
            best = i;
    const char *env = getenv("HPCLADDER_SIMD");
    for (int i = 0; env != NULL && i < best; i++) /* only ever lower */
        if (strcmp(env, hpl_paths[i]->simd) == 0)
            return hpl_paths[i];
    return hpl_paths[best];
}

const char *hpl_stencil_detail(void) { return hpl_stencil_pick()->name; }

/* ---- 2. one step at a time ------------------------------------------------ */

void hpl_stencil_steps(const hpl_stencil_ops *ops, double *u, double *work, int64_t n, double r, int64_t steps)
{
    double *a = u, *b = work;
    b[0] = u[0]; /* the ends never change: set them once in both arrays */
    b[n - 1] = u[n - 1];
    for (int64_t t = 0; t < steps; t++) {
        ops->step(a, b, n, r);
        double *tmp = a;
        a = b;
        b = tmp;
    }
    if (a != u) /* odd step count: the result is in the workspace */
        memcpy(u + 1, a + 1, (size_t)(n - 2) * sizeof(double));
}

/* ---- 3. lane folding, register wavefront, ghost-zone tiles ---------------- */

/* First row of tile t (t = ntiles gives m + 1): rows split evenly. */
static int64_t fold_tile_lo(const hpl_fold *f, int64_t t)
{
    return 1 + (int64_t)((__int128)t * f->m / f->ntiles);
}

/* Fill f (zeroed by the caller) for an n-point field on the path ops. */
static hpl_status fold_init(hpl_fold *f, int64_t n, const hpl_stencil_ops *ops, int64_t period, int64_t tile_rows,
                            int workers)
{
    f->ops = ops;
    f->n = n;
    f->W = ops->W;
    f->K = ops->K;
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
        return HPL_ENOMEM;
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
    return f->buf == NULL || f->fix == NULL ? HPL_ENOMEM : HPL_OK;
}

hpl_status hpl_fold_create(hpl_diffusion_plan *plan, const char *kernel, int64_t period, int64_t tile_rows,
                           int workers)
{
    hpl_fold *f = calloc(1, sizeof *f);
    if (f == NULL)
        return hpl_fail(HPL_ENOMEM, "out of memory allocating the %s plan", kernel);
    if (fold_init(f, plan->p.n, hpl_stencil_pick(), period, tile_rows, workers) != HPL_OK) {
        hpl_fold_destroy(f);
        return hpl_fail(HPL_ENOMEM, "out of memory: %s needs about 3 arrays of n = %lld doubles", kernel,
                        (long long)plan->p.n);
    }
    plan->work = f;
    return HPL_OK;
}

void hpl_fold_destroy(hpl_fold *f)
{
    hpl_free(f->F[0]);
    hpl_free(f->F[1]);
    hpl_free(f->buf);
    hpl_free(f->fix);
    free(f);
}

/* k = (1-2r)/r as a double, but of the doubles within 2 ulp of it the one
 * with the shortest mantissa: k*w then has few bits below w's, and the
 * rounding of fma(k, w, wl + wr) stays unbiased.  A full-mantissa k (the
 * nearest double to 7.99999999999999956 for r = 0.1) drifts the whole field
 * by ~5e-18 per step; 8 does not.  2 ulp change r' = 1/(k+2) by < 3e-16
 * relative, i.e. the diffusion time by as much: invisible at 1e-12. */
static double fold_short_k(double r)
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

int hpl_fold_begin(hpl_fold *f, const double *u, double r, int64_t steps, hpl_fold_run *run)
{
    if (f->T == 0 || steps < f->K)
        return 0;
    const int64_t n = f->n, W = f->W, m = f->m;
    run->r = r;
    run->T = f->T;
    run->scaled = 0;
    run->k = 0.0;
    run->g = 1.0L;
    if (f->ops->fma) {
        /* Scaled form: |w| grows by at most g per level (maximum principle),
         * so keep max|u| * g^T below 2^900, far from overflow. */
        double k = fold_short_k(r);
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

void hpl_fold_end(const hpl_fold *f, const double *F, double *u)
{
    const int64_t W = f->W, m = f->m;
    for (int64_t l = 0; l < W; l++)
        for (int64_t j = 0; j < m; j++)
            u[1 + l * m + j] = F[j * W + l];
    for (int64_t q = 0; q < f->rem; q++)
        u[1 + W * m + q] = F[m * W + q];
}

int64_t hpl_fold_period(const hpl_fold *f, const hpl_fold_run *run, int64_t left)
{
    int64_t T = left / f->K * f->K;
    return T < run->T ? T : run->T;
}

/* The carry matters: without it the same rounding would recur every period
 * (~1e-16 times 500 periods). */
double hpl_fold_unscale(const hpl_fold_run *run, int64_t T, long double *carry)
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
static void fold_row_in(const hpl_fold *f, const double *src, int64_t j, double *b)
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

void hpl_fold_tile(const hpl_fold *f, const hpl_fold_run *run, int64_t t, int64_t T, double unscale,
                   const double *src, double *dst, double *buf)
{
    const int64_t W = f->W, m = f->m, H = f->H;
    const int64_t j0 = fold_tile_lo(f, t), j1 = fold_tile_lo(f, t + 1);
    const int64_t first = j0 - H, rows = (j1 - j0) + H + f->HR; /* buffer row x is row first + x */
    /* copy in: the centre and the in-fold halo in one piece, the rest by row */
    int64_t a = first < 1 ? 1 : first, b = first + rows > m + 1 ? m + 1 : first + rows;
    memcpy(buf + (a - first) * W, src + (a - 1) * W, (size_t)((b - a) * W) * sizeof(double));
    for (int64_t j = first; j < a; j++)
        fold_row_in(f, src, j, buf + (j - first) * W);
    for (int64_t j = b; j < first + rows; j++)
        fold_row_in(f, src, j, buf + (j - first) * W);

    hpl_sweep sw = {.scaled = run->scaled, .r = run->r, .k = run->k};
    sw.fix_lo = (0 >= first && 0 < first + rows) ? 0 - first : HPL_NO_ROW;
    sw.fix_hi = (m + f->rem + 1 < first + rows) ? m + f->rem + 1 - first : HPL_NO_ROW;
    for (int64_t s = 0; s < T; s += f->K) {
        sw.lo_val = f->fix + s;
        sw.hi_val = f->fix + f->T + 1 + s;
        /* the valid rows shrink per sweep by K on the left, 2K on the right */
        f->ops->sweep(buf, s, rows - 2 * s, &sw);
    }
    /* copy out the centre; the last tile also owns the left-over points,
     * which are valid because u[n-1] cuts off the halo beyond them */
    f->ops->scale(dst + (j0 - 1) * W, buf + H * W, (j1 - j0) * W, unscale);
    if (j1 == m + 1)
        for (int64_t q = 0; q < f->rem; q++)
            dst[m * W + q] = buf[(H + (j1 - j0) + q) * W + W - 1] * unscale;
}
