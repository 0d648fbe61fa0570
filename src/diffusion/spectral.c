/* spectral.c - the exact discrete answer of the explicit scheme in
 * O(n log n), whatever the number of steps, with FFTW.
 *
 * With fixed ends the scheme is u(t+1) = A u(t).  The straight line through
 * u[0] and u[n-1] is a fixed point (its second difference is zero), and on
 * v = u - line (zero at both ends) A is diagonalised by the discrete sine
 * transform DST-I: mode k = 1..n-2, sin(pi*k*j/(n-1)), is multiplied by
 *     lambda_k = 1 - 4 r sin^2(pi*k / (2(n-1)))
 * at every step.  So
 *     u(T) = line + DST^-1( lambda^T * DST(u0 - line) )
 * which is the time-stepped answer up to rounding (docs/spectral.md derives
 * it).
 *
 * How the DST-I is computed.  FFTW's own DST-I (FFTW_RODFT00) pads even
 * sizes into a real-to-halfcomplex transform of 2(n-1) that has no SIMD
 * codelets.  The same DST-I is the imaginary part of the DFT of the odd
 * extension
 *     x = [0, v_1 .. v_{n-2}, 0, -v_{n-2} .. -v_1]     (length 2m, m = n-1),
 * and FFTW's r2c/c2r pair of length 2m runs on its SIMD complex codelets,
 * several times faster (docs/spectral.md, section 7, has the figures).
 * Multiplying the half spectrum by the real, even factors f_k and
 * transforming back with c2r is exactly RODFT00(f .* RODFT00(v)), so the
 * kernel does: line subtraction and odd extension, r2c, multiply, c2r, add
 * the line back.  u[0], u[n-1] are never written.  The cost is two real
 * FFTs of length 2(n-1): it depends on the prime factors of n-1 (FFTW uses
 * Rader's algorithm for large primes), not on the number of steps.
 *
 * Factors.  f_k = lambda_k^T / (2m) (the r2c/c2r pair is unnormalised by
 * 2m) is computed in create as sign * exp(T * log|lambda_k|) / (2m), with
 * log|lambda_k| from log1p of an argument formed without cancellation
 * (see mode_factor()), and sin from a two-level table (angle addition), so a
 * factor costs one log1p and one exp.  Modes whose factor is certainly 0
 * (|lambda_k|^T / (2m) below half the smallest subnormal) are found from the
 * closed form of the cut-off and skipped: they are exactly the modes whose
 * factor would round to 0.  Nothing is flushed: subnormal factors are kept.
 *
 * Options, read from the environment when a plan is created:
 *   HPCLADDER_FFTW_PLANNER = estimate (default) | measure | patient |
 *       exhaustive: FFTW's planner rigour.  estimate plans from FFTW's
 *       cost model without running anything; measure and beyond time
 *       candidate algorithms, which can take far longer than a solve
 *       (docs/spectral.md), and may find a faster plan.  Any other value is
 *       EINVAL.
 *   HPCLADDER_FFTW_WISDOM = path: import FFTW wisdom from this file before
 *       planning (a missing or unreadable file is ignored) and export the
 *       accumulated wisdom to it after planning (a failed write is ignored:
 *       the plan itself is good).  With wisdom a measured plan is not
 *       measured again.
 * FFTW's planner is not thread-safe: creating and destroying FFTW plans is
 * serialised by a mutex here (other FFTW users in the same process are not
 * covered).  Executing different plans concurrently is safe; one
 * hpl_diffusion_plan must not be executed by two threads at once (it owns
 * its buffers), as for every kernel.  FFTW aborts the process if its own
 * internal allocations fail; the large buffers are allocated here first and
 * reported as ENOMEM.
 */
#include "backend.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct spectral_work {
    int64_t m;          /* n - 1: half the period of the odd extension */
    double *x;          /* 2m reals: the odd extension, then the result */
    fftw_complex *c;    /* m+1 complex: its half spectrum */
    double *f;          /* m+1: lambda_k^T / (2m) on the kept modes */
    int64_t lo_end;     /* modes 1..lo_end are kept (low, lambda > 0 side) */
    int64_t hi_begin;   /* modes hi_begin..m-1 are kept (lambda near -1) */
    fftw_plan fwd, inv; /* r2c x -> c, c2r c -> x */
} spectral_work;

/* FFTW's planner (and fftw_destroy_plan, wisdom) is not thread-safe. */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- mode factors ------------------------------------------------------- */

/* sin(pi*k/(2m)) for 0 <= k <= m, accurate to a few ulps in relative terms
 * (angles lie in [0, pi/2], so both products below are >= 0 and the sum
 * does not cancel), at the cost of two products: k = a*B + b and
 * sin(x + y) = sin x cos y + cos x sin y with x, y from two tables of
 * about sqrt(m) entries each. */
typedef struct sin_table {
    int64_t m, B;
    double *s1, *c1; /* sin, cos of a*B*h, a = 0..m/B */
    double *s2, *c2; /* sin, cos of b*h,   b = 0..B-1 */
} sin_table;

static int sin_table_init(sin_table *t, int64_t m)
{
    const double pi = 3.14159265358979323846;
    int64_t B = (int64_t)ceil(sqrt((double)(m + 1)));
    int64_t na = m / B + 1;
    t->m = m;
    t->B = B;
    t->s1 = malloc(sizeof(double) * (size_t)(2 * na + 2 * B));
    if (t->s1 == NULL)
        return 0;
    t->c1 = t->s1 + na;
    t->s2 = t->c1 + na;
    t->c2 = t->s2 + B;
    /* the angle is formed as pi*k/(2m) with k exact: two roundings, so the
     * table entries are within a few ulps, relatively, also for tiny angles */
    for (int64_t a = 0; a < na; a++) {
        double x = pi * (double)(a * B) / (2.0 * (double)m);
        t->s1[a] = sin(x);
        t->c1[a] = cos(x);
    }
    for (int64_t b = 0; b < B; b++) {
        double y = pi * (double)b / (2.0 * (double)m);
        t->s2[b] = sin(y);
        t->c2[b] = cos(y);
    }
    return 1;
}

static double table_sin(const sin_table *t, int64_t k)
{
    int64_t a = k / t->B, b = k - a * t->B;
    return t->s1[a] * t->c2[b] + t->c1[a] * t->s2[b];
}

static void sin_table_free(sin_table *t) { free(t->s1); }

/* f_k = lambda_k^T / (2m) for mode k, 1 <= k <= m-1.
 *
 * lambda_k = 1 - 4r s^2 with s = sin(pi*k/(2m)).  Where lambda_k >= 0,
 * log(lambda_k) = log1p(-4r s^2), accurate because s^2 is.  Where
 * lambda_k < 0 (only if r > 1/4), |lambda_k| can be close to 1 (r = 1/2, k
 * near m: the mode flips sign but barely decays), and 1 - 4r s^2 would lose
 * the small distance to -1 to cancellation; with c = cos(pi*k/(2m)) =
 * sin(pi*(m-k)/(2m)),
 *     |lambda_k| = 4r s^2 - 1 = 1 + ((4r - 2) - 4r c^2),
 * where 4r - 2 is exact (Sterbenz, 1 < 4r <= 2) and c^2 is accurate, so the
 * log1p argument is accurate.  exp(T * log|lambda|) then has relative error
 * of order eps * T*|log|lambda||, which is small wherever the factor is not
 * negligible.  The sign is (-1)^T for negative lambda. */
static double mode_factor(const sin_table *t, int64_t k, double r, int64_t steps, double two_m)
{
    double s = table_sin(t, k);
    double s2 = s * s;
    double fourr = 4.0 * r;
    double lg, sign = 1.0;
    if (fourr * s2 <= 1.0) {
        lg = log1p(-fourr * s2);
    } else {
        double c = table_sin(t, t->m - k);
        /* |lambda| - 1 >= -1 exactly; rounding can take it just below when
         * lambda ~ 0 (r = 1/2, middle mode), where log1p would give NaN */
        lg = log1p(fmax(-1.0, (fourr - 2.0) - fourr * (c * c)));
        if (steps & 1)
            sign = -1.0;
    }
    /* lg == -inf (lambda exactly 0) gives exp(-inf) = 0: the mode is gone
     * after one step, as it should be. */
    return sign * (exp((double)steps * lg) / two_m);
}

/* The kept modes: [1, lo_end] and [hi_begin, m-1].  A mode outside both has
 * |lambda_k|^T < exp(-C) with C = 746.5 + log(2m), so lambda^T / (2m) is
 * below half the smallest subnormal (4.9e-324 = exp(-744.4)) and its factor
 * would round to exactly 0: skipping it changes nothing.  |lambda_k|
 * decreases in k while lambda_k > 0 and increases after the zero crossing,
 * so the kept set is a prefix and a suffix.  With e = 1 - exp(-C/T)
 * (from expm1: accurate also when C/T is tiny):
 *   prefix: lambda = 1 - 4r s^2 >= 1 - e       <=>  s^2 <= e / (4r),
 *   suffix: -lambda = (4r-1) - 4r c^2 >= 1 - e <=>  c^2 <= ((4r-2) + e) / (4r),
 * with c = cos(pi*k/(2m)) = sin(pi*(m-k)/(2m)), so both bounds are small
 * angles computed without cancellation.  Each is widened by 2 modes against
 * the rounding of asin and of the threshold. */
static void kept_modes(int64_t m, double r, int64_t steps, int64_t *lo_end, int64_t *hi_begin)
{
    const double pi = 3.14159265358979323846;
    const double C = 746.5 + log(2.0 * (double)m);
    const double e = -expm1(-C / (double)steps);
    const double a_lo = e / (4.0 * r);                  /* s^2 <= a_lo is kept */
    const double b_hi = ((4.0 * r - 2.0) + e) / (4.0 * r); /* c^2 <= b_hi is kept */
    const double scale = 2.0 * (double)m / pi;          /* k = theta * 2m/pi */

    int64_t lo = m - 1, hi = m;
    if (a_lo < 1.0) {
        double kf = floor(asin(sqrt(a_lo)) * scale) + 2.0; /* >= 2 */
        lo = kf < (double)(m - 1) ? (int64_t)kf : m - 1;
    }
    if (b_hi > 0.0) {
        double jf = floor(asin(sqrt(fmin(b_hi, 1.0))) * scale) + 2.0; /* modes m-jf..m-1 */
        hi = jf < (double)(m - 1) ? m - (int64_t)jf : 1;
    }
    if (hi <= lo + 1) { /* the two ranges touch: every mode is kept */
        lo = m - 1;
        hi = m;
    }
    *lo_end = lo;
    *hi_begin = hi;
}

/* ---- planner options ---------------------------------------------------- */

static hpl_status planner_flags(unsigned *flags)
{
    const char *v = getenv("HPCLADDER_FFTW_PLANNER");
    if (v == NULL || *v == '\0' || strcmp(v, "estimate") == 0)
        *flags = FFTW_ESTIMATE;
    else if (strcmp(v, "measure") == 0)
        *flags = FFTW_MEASURE;
    else if (strcmp(v, "patient") == 0)
        *flags = FFTW_PATIENT;
    else if (strcmp(v, "exhaustive") == 0)
        *flags = FFTW_EXHAUSTIVE;
    else
        return hpl_fail(HPL_EINVAL,
                        "HPCLADDER_FFTW_PLANNER = '%.64s' is not a planner: allowed are estimate (default), "
                        "measure, patient, exhaustive",
                        v);
    /* our buffers are scratch: let FFTW overwrite the input if it likes */
    *flags |= FFTW_DESTROY_INPUT;
    return HPL_OK;
}

/* ---- the backend -------------------------------------------------------- */

static void free_work(spectral_work *w)
{
    if (w == NULL)
        return;
    if (w->fwd != NULL || w->inv != NULL) {
        pthread_mutex_lock(&planner_lock);
        if (w->fwd != NULL)
            fftw_destroy_plan(w->fwd);
        if (w->inv != NULL)
            fftw_destroy_plan(w->inv);
        pthread_mutex_unlock(&planner_lock);
    }
    fftw_free(w->x);
    fftw_free(w->c);
    fftw_free(w->f);
    free(w);
}

static hpl_status spectral_create(hpl_diffusion_plan *plan)
{
    const int64_t n = plan->p.n, m = n - 1, steps = plan->p.steps;
    const double r = plan->p.r;
    unsigned flags = FFTW_ESTIMATE;
    hpl_status s = planner_flags(&flags);
    if (s != HPL_OK)
        return s;
    /* n <= 2^48 (driver), so these sizes and byte counts cannot overflow */
    spectral_work *w = calloc(1, sizeof *w);
    if (w == NULL)
        return hpl_fail(HPL_ENOMEM, "out of memory allocating the spectral plan");
    w->m = m;
    w->x = fftw_alloc_real((size_t)(2 * m));
    w->c = fftw_alloc_complex((size_t)(m + 1));
    w->f = fftw_alloc_real((size_t)(m + 1));
    if (w->x == NULL || w->c == NULL || w->f == NULL) {
        free_work(w);
        return hpl_fail(HPL_ENOMEM,
                        "out of memory: spectral needs about %lld MB of FFT buffers for n = %lld",
                        (long long)((5 * m + 3) * 8 / 1000000), (long long)n);
    }

    /* The factors depend only on (n, r, steps).  steps == 0 never reaches
     * the backend's execute, but a plan for it may still be created: then
     * every factor is 1/(2m) and the cut-off is not needed. */
    memset(w->f, 0, sizeof(double) * (size_t)(m + 1));
    if (steps > 0) {
        kept_modes(m, r, steps, &w->lo_end, &w->hi_begin);
    } else {
        w->lo_end = m - 1;
        w->hi_begin = m;
    }
    sin_table tab;
    if (!sin_table_init(&tab, m)) {
        free_work(w);
        return hpl_fail(HPL_ENOMEM, "out of memory for the spectral sine table (n = %lld)", (long long)n);
    }
    const double two_m = 2.0 * (double)m;
    for (int64_t k = 1; k <= w->lo_end; k++)
        w->f[k] = mode_factor(&tab, k, r, steps, two_m);
    for (int64_t k = w->hi_begin; k <= m - 1; k++)
        w->f[k] = mode_factor(&tab, k, r, steps, two_m);
    sin_table_free(&tab);

    /* Plans.  The guru64 interface takes 64-bit sizes. */
    fftw_iodim64 dim_r2c = {.n = 2 * m, .is = 1, .os = 1};
    fftw_iodim64 dim_c2r = {.n = 2 * m, .is = 1, .os = 1};
    const char *wisdom = getenv("HPCLADDER_FFTW_WISDOM");
    pthread_mutex_lock(&planner_lock);
    if (wisdom != NULL && *wisdom != '\0')
        (void)fftw_import_wisdom_from_filename(wisdom); /* none yet is fine */
    w->fwd = fftw_plan_guru64_dft_r2c(1, &dim_r2c, 0, NULL, w->x, w->c, flags);
    w->inv = fftw_plan_guru64_dft_c2r(1, &dim_c2r, 0, NULL, w->c, w->x, flags);
    if (wisdom != NULL && *wisdom != '\0' && w->fwd != NULL && w->inv != NULL)
        (void)fftw_export_wisdom_to_filename(wisdom); /* best effort */
    pthread_mutex_unlock(&planner_lock);
    if (w->fwd == NULL || w->inv == NULL) {
        free_work(w);
        return hpl_fail(HPL_EINTERNAL, "FFTW could not plan a real transform of length %lld (n = %lld)",
                        (long long)(2 * m), (long long)n);
    }
    plan->work = w;
    return HPL_OK;
}

static hpl_status spectral_execute(hpl_diffusion_plan *plan, double *u)
{
    spectral_work *w = plan->work;
    const int64_t m = w->m, lo_end = w->lo_end, hi_begin = w->hi_begin;
    double *restrict x = w->x;
    const double *restrict f = w->f;
    fftw_complex *restrict c = w->c;
    const double a = u[0], b = u[m];
    /* The line a*(1-t) + b*t, t = j/m, evaluated the same way on the way in
     * and out (so the two cancel to rounding); the convex form cannot
     * overflow where b - a would. */
    const double inv_m = 1.0 / (double)m;

    /* odd extension of v = u - line: x[j] = v_j, x[2m-j] = -v_j, zeros at
     * j = 0 and j = m */
    x[0] = 0.0;
    x[m] = 0.0;
    for (int64_t j = 1; j < m; j++) {
        double t = (double)j * inv_m;
        double v = u[j] - (a * (1.0 - t) + b * t);
        x[j] = v;
        x[2 * m - j] = -v;
    }
    fftw_execute_dft_r2c(w->fwd, x, c);

    /* c_k = -i * DST(v)_k.  Scale the kept modes; the others, and k = 0 and
     * k = m (zero for odd data, up to rounding), become exactly 0. */
    c[0][0] = c[0][1] = 0.0;
    for (int64_t k = 1; k <= lo_end; k++) {
        c[k][0] *= f[k];
        c[k][1] *= f[k];
    }
    if (hi_begin > lo_end + 1)
        memset(c + lo_end + 1, 0, sizeof(fftw_complex) * (size_t)(hi_begin - lo_end - 1));
    for (int64_t k = hi_begin; k < m; k++) {
        c[k][0] *= f[k];
        c[k][1] *= f[k];
    }
    c[m][0] = c[m][1] = 0.0;
    fftw_execute_dft_c2r(w->inv, c, x);

    /* x[j] = (lambda^T v)_j for 1 <= j <= m-1; add the line back.  u[0] and
     * u[m] = u[n-1] are not written. */
    for (int64_t j = 1; j < m; j++) {
        double t = (double)j * inv_m;
        u[j] = (a * (1.0 - t) + b * t) + x[j];
    }
    return HPL_OK;
}

static void spectral_destroy(hpl_diffusion_plan *plan) { free_work(plan->work); }

/* "FFTW 3.3.10 r2c/c2r ..." built once; fftw_version is a run-time string. */
static char detail_text[160];
static pthread_once_t detail_once = PTHREAD_ONCE_INIT;

static void detail_init(void)
{
    snprintf(detail_text, sizeof detail_text, "DST-I as r2c/c2r of length 2(n-1), %s", fftw_version);
}

static const char *spectral_detail(void)
{
    pthread_once(&detail_once, detail_init);
    return detail_text;
}

const hpl_diffusion_backend hpl_diffusion_spectral = {
    .create = spectral_create,
    .execute = spectral_execute,
    .destroy = spectral_destroy,
    .detail = spectral_detail,
};
