/* test_spectral.c - the spectral (FFTW DST-I) diffusion kernel: against the
 * naive loop, against the exact decay of sine modes (also for step counts no
 * loop could run), tiny sizes in closed form, subnormal factors, bad input,
 * planner options and concurrent plan creation.
 *
 * Usage: test_spectral [quick]   ("quick" trims the largest naive runs, for
 * sanitizer builds).  Prints the largest relative differences it saw. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "hpcladder/hpcladder.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPECTRAL HPL_DIFFUSION_SPECTRAL


/* Rough field with structure at every scale; ends as given. */
static void init_field(double *u, int64_t n, unsigned seed, double left, double right)
{
    srand(seed);
    for (int64_t i = 0; i < n; i++)
        u[i] = (double)rand() / RAND_MAX - 0.3 + 0.5 * sin(0.013 * (double)i);
    u[0] = left;
    u[n - 1] = right;
}

static hpl_status solve(hpl_diffusion_kernel k, int64_t n, int64_t steps, double r, double *u)
{
    hpl_diffusion_params p = {.n = n, .r = r, .steps = steps, .threads = 1};
    return hpl_diffusion_solve(k, &p, u);
}

static double worst_vs_naive = 0.0;

/* spectral vs naive to 1e-10 of max|u|, ends bitwise. */
static void against_naive(int64_t n, int64_t steps, double r, double left, double right)
{
    double *u0 = malloc(sizeof(double) * n), *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n);
    init_field(u0, n, (unsigned)(n * 7 + steps), left, right);
    memcpy(a, u0, sizeof(double) * n);
    memcpy(b, u0, sizeof(double) * n);
    hpl_status sa = solve(HPL_DIFFUSION_NAIVE, n, steps, r, a);
    hpl_status sb = solve(SPECTRAL, n, steps, r, b);
    CHECK(sa == HPL_OK && sb == HPL_OK, "n=%lld steps=%lld r=%g: %s", (long long)n, (long long)steps, r,
          hpl_last_error());
    double d = field_rel_diff(b, a, n);
    worst_vs_naive = worst(worst_vs_naive, d);
    CHECK(d <= 1e-10, "spectral vs naive: n=%lld steps=%lld r=%g ends (%g, %g): rel diff %.3e > 1e-10",
          (long long)n, (long long)steps, r, left, right, d);
    CHECK(memcmp(&b[0], &u0[0], sizeof(double)) == 0 && memcmp(&b[n - 1], &u0[n - 1], sizeof(double)) == 0,
          "spectral changed an end (n=%lld steps=%lld)", (long long)n, (long long)steps);
    if (steps == 0)
        CHECK(memcmp(b, u0, sizeof(double) * n) == 0, "steps = 0 is not the identity (n=%lld)", (long long)n);
    free(u0);
    free(a);
    free(b);
}

static double worst_sine = 0.0;

/* Sine mode k (amplitude 1) after `steps` steps must be lambda^steps times
 * itself.  lambda^steps comes from exp(steps*log1p(...)) here, in long double
 * where available, independent of the kernel's table.  The spectral answer
 * carries rounding of the transforms only (not growing with the steps), so
 * the tolerance is absolute, a few hundred ulps of the initial amplitude. */
static void against_sine(int64_t n, int64_t k, int64_t steps, double r)
{
    double *u = malloc(sizeof(double) * n);
    CHECK(hpl_diffusion_init_sine(n, k, u) == HPL_OK, "init_sine n=%lld k=%lld", (long long)n, (long long)k);
    /* log|lambda| without cancellation, as in docs/spectral.md: near +1
     * from s^2, near -1 from c^2 = cos^2 = sin^2 of the complementary angle */
    const long double pi = 3.141592653589793238462643383279502884L;
    const long double m = (long double)(n - 1), fr = 4.0L * (long double)r;
    long double s = sinl(pi * (long double)k / (2.0L * m));
    long double c = sinl(pi * (long double)(n - 1 - k) / (2.0L * m));
    long double lamT;
    if (fr * s * s <= 1.0L) {
        lamT = expl((long double)steps * log1pl(-fr * s * s));
    } else {
        lamT = expl((long double)steps * log1pl((fr - 2.0L) - fr * c * c));
        if (steps & 1)
            lamT = -lamT;
    }
    double *e = malloc(sizeof(double) * n);
    for (int64_t i = 0; i < n; i++)
        e[i] = (double)(lamT * (long double)u[i]);
    hpl_status st = solve(SPECTRAL, n, steps, r, u);
    CHECK(st == HPL_OK, "%s", hpl_last_error());
    double d = 0.0;
    for (int64_t i = 0; i < n; i++)
        d = worst(d, fabs(u[i] - e[i]));
    worst_sine = worst(worst_sine, d);
    CHECK(d <= 1e-13, "sine mode n=%lld k=%lld steps=%lld r=%g (lambda^T = %.6Le): error %.3e > 1e-13",
          (long long)n, (long long)k, (long long)steps, r, lamT, d);
    free(u);
    free(e);
}

/* n = 3 and 4 in closed form.  n = 3: the one interior point relaxes to the
 * mean of the ends by (1-2r) per step.  n = 4: the interior pair splits into
 * the symmetric mode (factor 1-r) and the antisymmetric one (1-3r) around
 * the line. */
static void tiny_closed_form(void)
{
    const double rs[] = {0.05, 0.25, 0.4, 0.5};
    const int64_t stepss[] = {1, 2, 3, 10, 101};
    for (size_t ri = 0; ri < sizeof rs / sizeof rs[0]; ri++) {
        for (size_t ti = 0; ti < sizeof stepss / sizeof stepss[0]; ti++) {
            double r = rs[ri];
            int64_t T = stepss[ti];
            double u3[3] = {0.5, 2.0, -1.5};
            double mid = 0.5 * (u3[0] + u3[2]);
            double e3 = mid + pow(1.0 - 2.0 * r, (double)T) * (u3[1] - mid);
            CHECK(solve(SPECTRAL, 3, T, r, u3) == HPL_OK, "%s", hpl_last_error());
            CHECK(fabs(u3[1] - e3) <= 1e-14, "n=3 r=%g T=%lld: %.17g vs %.17g", r, (long long)T, u3[1], e3);
            CHECK(u3[0] == 0.5 && u3[2] == -1.5, "n=3 moved an end");

            double u4[4] = {1.0, -2.0, 3.0, 4.0};
            double l1 = 1.0 + 3.0 / 3.0, l2 = 1.0 + 3.0 * 2.0 / 3.0; /* line 1 + 3j/3 */
            double v1 = u4[1] - l1, v2 = u4[2] - l2;
            double sym = 0.5 * (v1 + v2) * pow(1.0 - r, (double)T);
            double anti = 0.5 * (v1 - v2) * pow(1.0 - 3.0 * r, (double)T);
            double e41 = l1 + sym + anti, e42 = l2 + sym - anti;
            CHECK(solve(SPECTRAL, 4, T, r, u4) == HPL_OK, "%s", hpl_last_error());
            CHECK(fabs(u4[1] - e41) <= 1e-13 && fabs(u4[2] - e42) <= 1e-13,
                  "n=4 r=%g T=%lld: (%.17g, %.17g) vs (%.17g, %.17g)", r, (long long)T, u4[1], u4[2], e41, e42);
            CHECK(u4[0] == 1.0 && u4[3] == 4.0, "n=4 moved an end");
        }
    }
}

/* After very many steps only the line is left. */
static void steady_state(void)
{
    const int64_t n = 1001;
    double *u = malloc(sizeof(double) * n);
    init_field(u, n, 5, 2.0, -3.0);
    CHECK(solve(SPECTRAL, n, INT64_C(1000000000000), 0.25, u) == HPL_OK, "%s", hpl_last_error());
    double d = 0.0;
    for (int64_t j = 0; j < n; j++)
        d = worst(d, fabs(u[j] - (2.0 + (-5.0) * (double)j / (double)(n - 1))));
    CHECK(d <= 1e-14, "1e12 steps: distance from the line %.3e > 1e-14", d);
    free(u);
}

/* A factor in the subnormal range is kept, not flushed: n = 3, lambda =
 * 1 - 2r = 0.9, 0.9^6900 is about 3e-316. */
static void subnormal_factor(void)
{
    double u[3] = {0.0, 1.0, 0.0};
    CHECK(solve(SPECTRAL, 3, 6900, 0.05, u) == HPL_OK, "%s", hpl_last_error());
    double e = pow(0.9, 6900.0);
    CHECK(e > 0 && e < 2.2250738585072014e-308, "expected a subnormal reference, got %g", e);
    CHECK(u[1] > 0 && fabs(u[1] - e) <= 1e-6 * e, "subnormal mode: %g vs %g (flushed?)", u[1], e);
    /* and the naive loop agrees */
    double a[3] = {0.0, 1.0, 0.0};
    CHECK(solve(HPL_DIFFUSION_NAIVE, 3, 6900, 0.05, a) == HPL_OK, "%s", hpl_last_error());
    CHECK(fabs(u[1] - a[1]) <= 1e-6 * a[1], "subnormal mode vs naive: %g vs %g", u[1], a[1]);
}

/* Bad input: the driver's checks, identical to those of another kernel. */
static void bad_input(void)
{
    struct {
        int64_t n;
        double r;
        int64_t steps;
        int threads;
        hpl_status want;
    } cases[] = {
        {2, 0.1, 10, 1, HPL_EINVAL},    {0, 0.1, 10, 1, HPL_EINVAL},   {-5, 0.1, 10, 1, HPL_EINVAL},
        {10, 0.0, 10, 1, HPL_EINVAL},   {10, 0.51, 10, 1, HPL_EINVAL}, {10, -0.1, 10, 1, HPL_EINVAL},
        {10, NAN, 10, 1, HPL_EINVAL},   {10, 0.1, -1, 1, HPL_EINVAL},  {10, 0.1, 10, 0, HPL_EINVAL},
        {INT64_C(1) << 60, 0.1, 10, 1, HPL_EOVERFLOW},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hpl_diffusion_params p = {.n = cases[i].n, .r = cases[i].r, .steps = cases[i].steps,
                                  .threads = cases[i].threads};
        /* a non-NULL start value: a failed create must set *plan to NULL */
        hpl_diffusion_plan *plan = (hpl_diffusion_plan *)&p;
        hpl_status s = hpl_diffusion_plan_create(SPECTRAL, &p, &plan);
        char msg[512];
        snprintf(msg, sizeof msg, "%s", hpl_last_error());
        CHECK(s == cases[i].want && plan == NULL && msg[0] != '\0', "case %zu: status %s, message '%s'", i,
              hpl_status_name(s), msg);
        hpl_diffusion_plan *plan2;
        hpl_status s2 = hpl_diffusion_plan_create(HPL_DIFFUSION_SERIAL, &p, &plan2);
        CHECK(s2 == s && strcmp(hpl_last_error(), msg) == 0, "case %zu: spectral says '%s', serial '%s'", i, msg,
              hpl_last_error());
    }
    CHECK(hpl_diffusion_plan_create(SPECTRAL, NULL, NULL) == HPL_EINVAL, "NULL plan pointer accepted");

    /* non-finite field: EINVAL and u untouched */
    hpl_diffusion_params p = {.n = 9, .r = 0.2, .steps = 5, .threads = 1};
    hpl_diffusion_plan *plan;
    CHECK(hpl_diffusion_plan_create(SPECTRAL, &p, &plan) == HPL_OK, "%s", hpl_last_error());
    double u[9], keep[9];
    for (int i = 0; i < 9; i++)
        u[i] = keep[i] = i;
    u[4] = keep[4] = INFINITY;
    CHECK(hpl_diffusion_plan_execute(plan, u) == HPL_EINVAL && strstr(hpl_last_error(), "u[4]") != NULL,
          "infinite u[4]: '%s'", hpl_last_error());
    CHECK(memcmp(u, keep, sizeof u) == 0, "a failed execute changed u");
    CHECK(hpl_diffusion_plan_execute(plan, NULL) == HPL_EINVAL, "NULL u accepted");
    CHECK(hpl_diffusion_plan_seconds(plan) > 0.0, "plan_seconds not recorded");
    hpl_diffusion_plan_destroy(plan);
}

/* A plan can be executed again and gives the same bits; r near 1/2 with an
 * odd step count (alternating high modes) included. */
static void plan_reuse(void)
{
    const int64_t n = 4097;
    hpl_diffusion_params p = {.n = n, .r = 0.5, .steps = 1001, .threads = 1};
    hpl_diffusion_plan *plan;
    CHECK(hpl_diffusion_plan_create(SPECTRAL, &p, &plan) == HPL_OK, "%s", hpl_last_error());
    double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n);
    init_field(a, n, 11, -1.0, 0.25);
    memcpy(b, a, sizeof(double) * n);
    CHECK(hpl_diffusion_plan_execute(plan, a) == HPL_OK, "%s", hpl_last_error());
    CHECK(hpl_diffusion_plan_execute(plan, b) == HPL_OK, "%s", hpl_last_error());
    CHECK(memcmp(a, b, sizeof(double) * n) == 0, "two executions of one plan differ");
    hpl_diffusion_plan_destroy(plan);
    free(a);
    free(b);
}

/* HPCLADDER_FFTW_PLANNER and HPCLADDER_FFTW_WISDOM. */
static void planner_options(void)
{
    const int64_t n = 1000;
    double *ref = malloc(sizeof(double) * n), *u = malloc(sizeof(double) * n);
    init_field(ref, n, 3, 0.5, 0.0);
    memcpy(u, ref, sizeof(double) * n);
    CHECK(solve(SPECTRAL, n, 300, 0.3, ref) == HPL_OK, "%s", hpl_last_error());

    setenv("HPCLADDER_FFTW_PLANNER", "fastest", 1);
    hpl_diffusion_params p = {.n = n, .r = 0.3, .steps = 300, .threads = 1};
    hpl_diffusion_plan *plan;
    CHECK(hpl_diffusion_plan_create(SPECTRAL, &p, &plan) == HPL_EINVAL && plan == NULL &&
              strstr(hpl_last_error(), "HPCLADDER_FFTW_PLANNER") != NULL,
          "bad planner accepted: '%s'", hpl_last_error());

    char path[] = "/tmp/hpl_wisdom_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    if (fd >= 0)
        close(fd);
    setenv("HPCLADDER_FFTW_PLANNER", "measure", 1);
    setenv("HPCLADDER_FFTW_WISDOM", path, 1);
    CHECK(solve(SPECTRAL, n, 300, 0.3, u) == HPL_OK, "%s", hpl_last_error());
    /* a measured plan may pick another algorithm: same answer to rounding */
    double d = field_rel_diff(u, ref, n);
    CHECK(d <= 1e-14, "measured plan differs by %.3e", d);
    FILE *f = fopen(path, "r");
    long size = 0;
    if (f) {
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fclose(f);
    }
    CHECK(size > 0, "no wisdom written to %s", path);
    /* second time: wisdom is imported, planning is cheap and still right */
    init_field(u, n, 3, 0.5, 0.0);
    CHECK(solve(SPECTRAL, n, 300, 0.3, u) == HPL_OK, "%s", hpl_last_error());
    CHECK(field_rel_diff(u, ref, n) <= 1e-14, "plan from wisdom differs");
    unsetenv("HPCLADDER_FFTW_PLANNER");
    unsetenv("HPCLADDER_FFTW_WISDOM");
    remove(path);
    free(ref);
    free(u);
}

/* Plans created, executed and destroyed from several threads at once (the
 * planner is serialised inside); every thread must get the single-threaded
 * answer bit for bit. */
typedef struct {
    int id, ok;
} thread_arg;

static const int64_t thread_sizes[] = {17, 1000, 4097, 9001};

static double *thread_fields[4], *thread_expect[4];

static void *thread_solve(void *p)
{
    thread_arg *a = p;
    a->ok = 1;
    for (int rep = 0; rep < 6; rep++) {
        int i = (a->id + rep) % 4;
        int64_t n = thread_sizes[i];
        double *u = malloc(sizeof(double) * n);
        memcpy(u, thread_fields[i], sizeof(double) * n);
        if (solve(SPECTRAL, n, 500, 0.2, u) != HPL_OK || memcmp(u, thread_expect[i], sizeof(double) * n) != 0)
            a->ok = 0;
        free(u);
    }
    return NULL;
}

static void concurrent_plans(void)
{
    for (int i = 0; i < 4; i++) {
        int64_t n = thread_sizes[i];
        thread_fields[i] = malloc(sizeof(double) * n);
        thread_expect[i] = malloc(sizeof(double) * n);
        init_field(thread_fields[i], n, (unsigned)(100 + i), 1.0, -1.0);
        memcpy(thread_expect[i], thread_fields[i], sizeof(double) * n);
        CHECK(solve(SPECTRAL, n, 500, 0.2, thread_expect[i]) == HPL_OK, "%s", hpl_last_error());
    }
    pthread_t th[4];
    thread_arg args[4];
    for (int t = 0; t < 4; t++) {
        args[t].id = t;
        CHECK(pthread_create(&th[t], NULL, thread_solve, &args[t]) == 0, "pthread_create");
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        CHECK(args[t].ok, "thread %d got a different answer", t);
    }
    for (int i = 0; i < 4; i++) {
        free(thread_fields[i]);
        free(thread_expect[i]);
    }
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    const char *why;
    if (!hpl_diffusion_kernel_available(SPECTRAL, &why)) {
        /* Without FFTW the kernel must say so, and creating it must fail
         * with EUNAVAILABLE and the reason. */
        hpl_diffusion_params p = {.n = 10, .r = 0.1, .steps = 1, .threads = 1};
        hpl_diffusion_plan *plan;
        CHECK(hpl_diffusion_plan_create(SPECTRAL, &p, &plan) == HPL_EUNAVAILABLE && plan == NULL &&
                  strstr(hpl_last_error(), "FFTW") != NULL,
              "unavailable spectral: '%s'", hpl_last_error());
        printf("spectral not built: %s\n", why);
        return check_report("test_spectral");
    }

    const int64_t sizes[] = {3, 4, 5, 17, 1000, 4097, 77777};
    const int64_t stepss[] = {0, 1, 2, 1000};
    const double rs[] = {0.05, 0.25, 0.5};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (size_t ti = 0; ti < sizeof stepss / sizeof stepss[0]; ti++)
            for (size_t ri = 0; ri < sizeof rs / sizeof rs[0]; ri++) {
                /* the naive reference costs n*steps: trim it in quick mode */
                if (quick && sizes[si] * stepss[ti] > 10000000 && ri != 2)
                    continue;
                against_naive(sizes[si], stepss[ti], rs[ri], 0.0, 0.0);
                against_naive(sizes[si], stepss[ti], rs[ri], 1.25, -0.5);
            }
    /* long runs where naive's own rounding accumulates */
    against_naive(1001, 20000, 0.5, 3.0, 1.0);
    against_naive(2049, quick ? 5000 : 50000, 0.1, 0.0, 0.0);
    printf("spectral vs naive: largest relative difference %.3e\n", worst_vs_naive);

    /* exact mode decay, low and high modes, up to step counts no loop runs */
    against_sine(17, 1, 100, 0.1);
    against_sine(17, 15, 100, 0.5);  /* lambda near -1: slow, alternating */
    against_sine(17, 15, 101, 0.5);
    against_sine(1001, 3, 2000, 0.25);
    against_sine(1001, 999, 2001, 0.5);
    against_sine(1001, 999, 50000, 0.1); /* decays to exactly 0 */
    against_sine(4097, 4000, 500, 0.2);
    against_sine(100000, 1, 50000, 0.1);
    against_sine(100000, 7, 500000, 0.1);
    against_sine(100000, 2, 50000000, 0.1);
    against_sine(100000, 99998, 50000001, 0.5);
    against_sine(98305, 100, 50000, 0.1);
    /* 1e10 and 2e10 steps: both ends of the spectrum still matter */
    against_sine(100000, 1, INT64_C(10000000000), 0.1);
    against_sine(100000, 99998, INT64_C(20000000001), 0.5);
    against_sine(100000, 1, INT64_C(20000000001), 0.5);
    printf("spectral vs exact sine modes: largest absolute error %.3e\n", worst_sine);

    tiny_closed_form();
    steady_state();
    subnormal_factor();
    bad_input();
    plan_reuse();
    planner_options();
    concurrent_plans();
    return check_report("test_spectral");
}
