/* test_diffusion.c - every built diffusion kernel against naive (the talk's
 * loop) and against the exact decay of discrete sine modes, over sizes and
 * step counts chosen to hit vector, tile and thread edges.
 *
 * Usage: test_diffusion [quick]   ("quick" trims the largest sizes, for
 * sanitizer builds). */
#include "check.h"
#include "hpcladder/hpcladder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


/* A field with non-zero, unequal ends and structure at every scale. */
static void init_rough(double *u, int64_t n, unsigned seed)
{
    srand(seed);
    for (int64_t i = 0; i < n; i++)
        u[i] = (double)rand() / RAND_MAX - 0.25 + 0.5 * sin(0.01 * (double)i);
    u[0] = 1.5;
    u[n - 1] = -0.75;
}

static void run(hpl_diffusion_kernel k, int64_t n, int64_t steps, double r, int threads, double *u)
{
    hpl_diffusion_params p = {.n = n, .r = r, .steps = steps, .threads = threads};
    hpl_status s = hpl_diffusion_solve(k, &p, u);
    CHECK(s == HPL_OK, "%s n=%lld steps=%lld r=%g threads=%d: %s (%s)", hpl_diffusion_kernel_name(k),
          (long long)n, (long long)steps, r, threads, hpl_status_name(s), hpl_last_error());
}

/* Kernel k from a rough field vs naive, at tolerance 1e-12 of max|u|; same
 * ends exactly. */
static void against_naive(hpl_diffusion_kernel k, int64_t n, int64_t steps, double r, int threads)
{
    double *u0 = malloc(sizeof(double) * n), *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n);
    init_rough(u0, n, (unsigned)(n * 31 + steps));
    memcpy(a, u0, sizeof(double) * n);
    memcpy(b, u0, sizeof(double) * n);
    run(HPL_DIFFUSION_NAIVE, n, steps, r, 1, a);
    run(k, n, steps, r, threads, b);
    double d = field_rel_diff(b, a, n);
    CHECK(d <= 1e-12, "%s vs naive: n=%lld steps=%lld r=%g threads=%d: rel diff %.3e > 1e-12",
          hpl_diffusion_kernel_name(k), (long long)n, (long long)steps, r, threads, d);
    CHECK(b[0] == u0[0] && b[n - 1] == u0[n - 1], "%s moved a fixed end (n=%lld)", hpl_diffusion_kernel_name(k),
          (long long)n);
    free(u0);
    free(a);
    free(b);
}

/* Kernel k on sine mode m must decay by exactly lambda^steps. */
static void against_sine(hpl_diffusion_kernel k, int64_t n, int64_t m, int64_t steps, double r, int threads)
{
    double *u = malloc(sizeof(double) * n), *e = malloc(sizeof(double) * n);
    CHECK(hpl_diffusion_init_sine(n, m, u) == HPL_OK, "init_sine n=%lld m=%lld", (long long)n, (long long)m);
    double lam = hpl_diffusion_sine_decay(n, m, r, steps);
    for (int64_t i = 0; i < n; i++)
        e[i] = lam * u[i];
    run(k, n, steps, r, threads, u);
    double d = 0.0;
    for (int64_t i = 0; i < n; i++)
        d = worst(d, fabs(u[i] - e[i]));
    /* rounding grows at most linearly in the steps; relative to the initial
     * amplitude 1 */
    double tol = 1e-14 * (double)(steps + 10);
    CHECK(d <= tol, "%s sine mode: n=%lld k=%lld steps=%lld r=%g threads=%d: error %.3e > %.3e",
          hpl_diffusion_kernel_name(k), (long long)n, (long long)m, (long long)steps, r, threads, d, tol);
    free(u);
    free(e);
}

/* Kernels whose contract is naive's arithmetic (serial, simd, openmp) must
 * give naive's field to the bit, for any thread count. */
static void bit_identical(hpl_diffusion_kernel k, int64_t n, int64_t steps, double r, int threads)
{
    if (!hpl_diffusion_kernel_available(k, NULL))
        return;
    double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n);
    init_rough(a, n, (unsigned)(n + steps));
    memcpy(b, a, sizeof(double) * n);
    run(HPL_DIFFUSION_NAIVE, n, steps, r, 1, a);
    run(k, n, steps, r, threads, b);
    CHECK(memcmp(a, b, sizeof(double) * n) == 0, "%s is not bit-identical to naive: n=%lld steps=%lld threads=%d",
          hpl_diffusion_kernel_name(k), (long long)n, (long long)steps, threads);
    free(a);
    free(b);
}

/* The resident field (upload, advance, download) against execute on the
 * same kernel: the same arithmetic, so bit-identical; two advances are two
 * executes; the refusals leave the plan's field as it was. */
static void resident(hpl_diffusion_kernel k, int64_t n, int64_t steps, double r)
{
    const char *name = hpl_diffusion_kernel_name(k);
    hpl_diffusion_params p = {.n = n, .r = r, .steps = steps, .threads = 2};
    hpl_diffusion_plan *plan = NULL;
    double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n), *u0 = malloc(sizeof(double) * n);
    init_rough(u0, n, (unsigned)(7 * n + steps));
    memcpy(a, u0, sizeof(double) * n);
    CHECK(hpl_diffusion_plan_create(k, &p, &plan) == HPL_OK, "%s: create: %s", name, hpl_last_error());
    if (plan == NULL)
        goto done;
    CHECK(hpl_diffusion_plan_advance(plan) == HPL_EINVAL, "%s: advance before upload must be refused", name);
    CHECK(hpl_diffusion_plan_download(plan, b) == HPL_EINVAL, "%s: download before upload must be refused", name);
    CHECK(hpl_diffusion_plan_execute(plan, a) == HPL_OK && hpl_diffusion_plan_execute(plan, a) == HPL_OK,
          "%s: execute: %s", name, hpl_last_error());
    CHECK(hpl_diffusion_plan_upload(plan, u0) == HPL_OK, "%s: upload: %s", name, hpl_last_error());
    b[n / 2] = NAN; /* an upload refused for a non-finite value keeps the plan's field */
    CHECK(hpl_diffusion_plan_upload(plan, b) == HPL_EINVAL, "%s: a NaN must be refused", name);
    CHECK(hpl_diffusion_plan_advance(plan) == HPL_OK && hpl_diffusion_plan_advance(plan) == HPL_OK,
          "%s: advance: %s", name, hpl_last_error());
    CHECK(hpl_diffusion_plan_download(plan, NULL) == HPL_EINVAL, "%s: download into NULL must be refused", name);
    CHECK(hpl_diffusion_plan_download(plan, b) == HPL_OK, "%s: download: %s", name, hpl_last_error());
    CHECK(memcmp(a, b, sizeof(double) * n) == 0, "%s: upload + 2 advances + download differs from 2 executes "
          "(n=%lld steps=%lld)", name, (long long)n, (long long)steps);
    hpl_times t;
    CHECK(hpl_diffusion_plan_times(plan, &t) == HPL_OK && t.kernel >= 0 && t.compute >= 0 && t.upload >= 0 &&
              t.download >= 0 && t.context >= 0 && t.setup >= 0 && t.setup <= hpl_diffusion_plan_seconds(plan),
          "%s: times", name);
    CHECK(hpl_diffusion_plan_times(plan, NULL) == HPL_EINVAL, "%s: times into NULL must be refused", name);
done:
    hpl_diffusion_plan_destroy(plan);
    free(a);
    free(b);
    free(u0);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    /* sizes around vector widths (4, 8), small tiles and larger tiles */
    const int64_t sizes[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 17, 18, 31, 32, 33, 63, 64, 65,
                             127, 128, 129, 255, 256, 257, 1000, 1023, 1024, 1025, 4095, 4096, 4097,
                             8191, 8193, 16383, 16385, 40000, 100003};
    const int64_t stepss[] = {0, 1, 2, 3, 7, 8, 9, 64, 127, 128, 129, 300};
    const double rs[] = {0.1, 0.5, 0.25, 0.03};
    const int threadss[] = {1, 2, 3};
    int nsizes = (int)(sizeof sizes / sizeof sizes[0]);

    for (int k = 1; k < HPL_DIFFUSION_KERNEL_COUNT; k++) {
        const char *why;
        if (!hpl_diffusion_kernel_available((hpl_diffusion_kernel)k, &why)) {
            printf("SKIP %s: %s\n", hpl_diffusion_kernel_name((hpl_diffusion_kernel)k), why);
            continue;
        }
        int threaded = hpl_diffusion_kernel_threaded((hpl_diffusion_kernel)k);
        for (int si = 0; si < nsizes; si++) {
            int64_t n = sizes[si];
            if (quick && n > 20000)
                continue;
            for (size_t ti = 0; ti < sizeof stepss / sizeof stepss[0]; ti++) {
                int64_t steps = stepss[ti];
                /* keep the whole sweep to a few seconds: long runs only on
                 * modest sizes */
                if ((double)n * (double)steps > (quick ? 2e6 : 2e7))
                    continue;
                double r = rs[(si + ti) % 4];
                for (int th = 0; th < (threaded ? 3 : 1); th++)
                    against_naive((hpl_diffusion_kernel)k, n, steps, r, threadss[th]);
            }
        }
        /* several tiles even in quick mode (tiles hold ~8192 rows per lane) */
        against_naive((hpl_diffusion_kernel)k, 40003, 100, 0.1, 1);
        if (threaded)
            against_naive((hpl_diffusion_kernel)k, 40003, 300, 0.25, 2);
        /* long runs: where temporal blocking and rounding accumulate */
        against_naive((hpl_diffusion_kernel)k, 5001, 5000, 0.1, threaded ? 2 : 1);
        against_naive((hpl_diffusion_kernel)k, 777, 20000, 0.5, threaded ? 3 : 1);
        /* the resident field, odd and even steps, one tile and several */
        resident((hpl_diffusion_kernel)k, 1001, 37, 0.3);
        resident((hpl_diffusion_kernel)k, 5, 2, 0.5);
        resident((hpl_diffusion_kernel)k, 40003, 300, 0.1);
        /* exact sine-mode decay */
        against_sine((hpl_diffusion_kernel)k, 17, 1, 100, 0.1, 1);
        against_sine((hpl_diffusion_kernel)k, 17, 15, 100, 0.5, threaded ? 2 : 1);
        against_sine((hpl_diffusion_kernel)k, 1001, 3, 2000, 0.25, threaded ? 2 : 1);
        against_sine((hpl_diffusion_kernel)k, quick ? 3001 : 100000, 1, quick ? 200 : 1000, 0.1, threaded ? 2 : 1);
        against_sine((hpl_diffusion_kernel)k, 4097, 4000, 500, 0.2, threaded ? 3 : 1);
    }
    /* the decay itself: agrees with pow() where pow is accurate (small
     * steps), and with the same formula in long double where it is not */
    const double rr[] = {0.1, 0.3, 0.5};
    const int64_t kk[] = {1, 7, 99998};
    const int64_t ss[] = {0, 1, 2, 3, 17, 50000, 50000001};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 7; c++) {
                double f = hpl_diffusion_sine_factor(100000, kk[b], rr[a]);
                double d = hpl_diffusion_sine_decay(100000, kk[b], rr[a], ss[c]);
                long double pil = 3.141592653589793238462643383279503L;
                long double hl = pil / (2.0L * 99999.0L);
                long double sl = sinl((long double)kk[b] * hl), cl = sinl((long double)(99999 - kk[b]) * hl);
                long double xl = 4.0L * rr[a] * sl * sl, el;
                if (xl <= 1.0L)
                    el = expl((long double)ss[c] * log1pl(-xl));
                else
                    el = (ss[c] % 2 ? -1.0L : 1.0L) *
                         expl((long double)ss[c] * log1pl((4.0L * rr[a] - 2.0L) - 4.0L * rr[a] * cl * cl));
                double tol = 1e-13 * fabs((double)el) + 1e-300;
                CHECK(fabs(d - (double)el) <= tol, "decay n=1e5 k=%lld r=%g steps=%lld: %.17g vs %.17Lg",
                      (long long)kk[b], rr[a], (long long)ss[c], d, el);
                if (ss[c] <= 3)
                    /* exp and log1p round once each; the exponent carries steps * log|f| */
                    CHECK(fabs(d - pow(f, (double)ss[c])) <= 4e-16 * (2.0 + fabs((double)ss[c] * log(fabs(f)))) * fabs(d),
                          "decay vs pow, steps=%lld",
                          (long long)ss[c]);
            }
    const hpl_diffusion_kernel same[] = {HPL_DIFFUSION_SERIAL, HPL_DIFFUSION_SIMD, HPL_DIFFUSION_OPENMP};
    for (int i = 0; i < 3; i++)
        for (int threads = 1; threads <= 3; threads++) {
            bit_identical(same[i], 1001, 77, 0.3, threads);
            bit_identical(same[i], 40003, 50, 0.1, threads);
            bit_identical(same[i], 5, 4, 0.5, threads);
        }
    /* naive against the sine mode too: the reference must be right */
    against_sine(HPL_DIFFUSION_NAIVE, 17, 1, 100, 0.1, 1);
    against_sine(HPL_DIFFUSION_NAIVE, 1001, 3, 2000, 0.25, 1);
    return check_report("test_diffusion");
}
