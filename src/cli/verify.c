/* verify.c - self-verification of every hpcladder-c run (PRK/BabelStream
 * style).  Nothing here trusts the kernel under test: each check compares
 * with an exact answer or with a different algorithm. */
#include "cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Updates a reference run may cost: naive does ~1-3e9 updates/s, so this
 * keeps a check under about a quarter of a second. */
#define REFERENCE_BUDGET 3e8

/* max |a-b| over the field's scale, the larger of max |b| and max |u0|: a
 * field that has decayed to rounding level is judged against where it
 * started, not against its own remains.  NaN/inf propagate so that a broken
 * field can never pass. */
static double rel_error(const double *a, const double *b, const double *u0, int64_t n)
{
    double d = 0.0, m = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double x = fabs(a[i] - b[i]);
        if (!(x <= d))
            d = x;
        m = fmax(m, fmax(fabs(b[i]), fabs(u0[i])));
    }
    return m > 0 ? d / m : d;
}

static void set_check(check_result *c, const char *name, double error, double tol, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void set_check(check_result *c, const char *name, double error, double tol, const char *fmt, ...)
{
    snprintf(c->name, sizeof c->name, "%s", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
    c->error = error;
    c->tolerance = tol;
    c->ok = error <= tol; /* false for NaN */
}

/* Run kernel k on a copy of src for `steps` steps into dst. */
static int run_kernel(hpl_diffusion_kernel k, const cli_options *o, int64_t steps, const double *src, double *dst,
                      char *err, size_t errlen)
{
    hpl_diffusion_params p = {.n = o->n, .r = o->r, .steps = steps, .threads = o->threads};
    memcpy(dst, src, (size_t)o->n * sizeof(double));
    hpl_status s = hpl_diffusion_solve(k, &p, dst);
    if (s != HPL_OK) {
        snprintf(err, errlen, "verification run of %s failed: %s", hpl_diffusion_kernel_name(k), hpl_last_error());
        return -1;
    }
    return 0;
}

/* Rounding of a time-stepped run grows at most linearly with the steps (the
 * scheme is a contraction); spectral's does not grow at all. */
static double stepped_tolerance(hpl_diffusion_kernel k, int64_t steps)
{
    return k == HPL_DIFFUSION_SPECTRAL ? 1e-11 : 1e-14 * ((double)steps + 10.0);
}

int verify_diffusion(const cli_options *o, const double *u0, const double *u, check_result *out, char *err,
                     size_t errlen)
{
    const int64_t n = o->n, steps = o->steps;
    const hpl_diffusion_kernel k = o->dkernel;
    const int have_spectral = hpl_diffusion_kernel_available(HPL_DIFFUSION_SPECTRAL, NULL);
    int nc = 0, rc = -1;
    double *a = malloc((size_t)n * sizeof(double)), *b = malloc((size_t)n * sizeof(double));
    if (a == NULL || b == NULL) {
        snprintf(err, errlen, "out of memory for verification (2 x %lld doubles)", (long long)n);
        goto done;
    }

    /* 1. the fixed ends must not move, to the bit */
    set_check(&out[nc++], "fixed_ends", (u[0] == u0[0] && u[n - 1] == u0[n - 1]) ? 0.0 : 1.0, 0.0,
              "u[0] and u[n-1] unchanged");

    /* 2. exact decay of a discrete sine mode: lambda^S per step */
    {
        int64_t mode = 1, s2 = steps;
        const double *field;
        if (o->init == INIT_SINE) {
            mode = o->sine_k; /* the run itself is the check */
            field = u;
            if (hpl_diffusion_init_sine(n, mode, a) != HPL_OK)
                goto setup_error;
        } else {
            if (k != HPL_DIFFUSION_SPECTRAL && (double)n * (double)steps > REFERENCE_BUDGET)
                s2 = (int64_t)(REFERENCE_BUDGET / (double)n) + 1; /* affordable prefix of the run */
            if (hpl_diffusion_init_sine(n, mode, a) != HPL_OK)
                goto setup_error;
            if (run_kernel(k, o, s2, a, b, err, errlen) != 0)
                goto done;
            field = b;
        }
        double lam = hpl_diffusion_sine_decay(n, mode, o->r, s2);
        double e = 0.0;
        for (int64_t i = 0; i < n; i++) {
            double x = fabs(field[i] - lam * a[i]);
            if (!(x <= e))
                e = x;
        }
        set_check(&out[nc++], "sine_mode", e, stepped_tolerance(k, s2), "%s on sine mode %lld, %lld steps vs exact decay",
                  hpl_diffusion_kernel_name(k), (long long)mode, (long long)s2);
    }

    /* 3. the same initial field through an independent kernel */
    {
        double cost = (double)n * (double)steps;
        if (k != HPL_DIFFUSION_NAIVE && cost <= REFERENCE_BUDGET) {
            if (run_kernel(HPL_DIFFUSION_NAIVE, o, steps, u0, a, err, errlen) != 0)
                goto done;
            set_check(&out[nc++], "reference", rel_error(u, a, u0, n), k == HPL_DIFFUSION_SPECTRAL ? 1e-10 : 1e-12,
                      "naive, %lld steps", (long long)steps);
        } else if (have_spectral && k != HPL_DIFFUSION_SPECTRAL) {
            if (run_kernel(HPL_DIFFUSION_SPECTRAL, o, steps, u0, a, err, errlen) != 0)
                goto done;
            set_check(&out[nc++], "reference", rel_error(u, a, u0, n), 1e-10, "spectral (FFTW), %lld steps",
                      (long long)steps);
        } else if (k == HPL_DIFFUSION_NAIVE) {
            if (run_kernel(HPL_DIFFUSION_SERIAL, o, steps, u0, a, err, errlen) != 0)
                goto done;
            set_check(&out[nc++], "reference", rel_error(u, a, u0, n), 1e-12, "serial, %lld steps", (long long)steps);
        } else if (k == HPL_DIFFUSION_SPECTRAL) {
            /* too long for naive: naive for an affordable prefix of the
             * steps, spectral for the rest from there; the run's own field
             * is compared with that */
            int64_t s2 = (int64_t)(REFERENCE_BUDGET / (double)n) + 1;
            if (run_kernel(HPL_DIFFUSION_NAIVE, o, s2, u0, b, err, errlen) != 0 ||
                run_kernel(HPL_DIFFUSION_SPECTRAL, o, steps - s2, b, a, err, errlen) != 0)
                goto done;
            set_check(&out[nc++], "reference", rel_error(u, a, u0, n), 1e-10,
                      "naive for %lld steps, then spectral for the other %lld", (long long)s2,
                      (long long)(steps - s2));
        } else {
            /* too long for naive and no spectral: compare an affordable
             * prefix of the run, kernel against naive from the same field */
            int64_t s2 = (int64_t)(REFERENCE_BUDGET / (double)n) + 1;
            if (run_kernel(k, o, s2, u0, b, err, errlen) != 0 ||
                run_kernel(HPL_DIFFUSION_NAIVE, o, s2, u0, a, err, errlen) != 0)
                goto done;
            set_check(&out[nc++], "reference", rel_error(b, a, u0, n), 1e-12, "naive, first %lld of %lld steps",
                      (long long)s2, (long long)steps);
        }
    }
    rc = nc;
    goto done;

setup_error:
    snprintf(err, errlen, "verification set-up failed: %s", hpl_last_error());
done:
    free(a);
    free(b);
    return rc;
}

/* Known answers of Project Euler 39 for perimeters below N0. */
static const struct {
    int64_t N0, p;
    uint32_t count;
} known[] = {
    {1000, 840, 8},          {5000, 4620, 13},         {100000, 55440, 40},
    {1000000, 720720, 104}, {10000000, 6126120, 210}, {100000000, 77597520, 450},
};

/* Compare counts with kernel k's counts for p < M; first difference in
 * *where (or -1). Returns -1 on a runtime error. */
static int compare_with(hpl_triangles_kernel k, const uint32_t *counts, int64_t M, int threads, int64_t *where,
                        char *err, size_t errlen)
{
    uint32_t *ref = malloc((size_t)M * sizeof(uint32_t));
    if (ref == NULL) {
        snprintf(err, errlen, "out of memory for verification (%lld counts)", (long long)M);
        return -1;
    }
    if (hpl_triangles_count(k, M, threads, ref, NULL, NULL) != HPL_OK) {
        snprintf(err, errlen, "verification run of %s failed: %s", hpl_triangles_kernel_name(k), hpl_last_error());
        free(ref);
        return -1;
    }
    *where = -1;
    for (int64_t p = 0; p < M; p++)
        if (ref[p] != counts[p]) {
            *where = p;
            break;
        }
    free(ref);
    return 0;
}

int verify_triangles(const cli_options *o, const uint32_t *counts, check_result *out, char *err, size_t errlen)
{
    const int64_t N = o->N;
    const hpl_triangles_kernel k = o->tkernel;
    int nc = 0;
    int64_t where;

    /* 1. known answers on every prefix that the run covers */
    {
        int64_t bp = 0, checked = 0, bad = -1;
        uint32_t bc = 0;
        size_t next = 0, nk = sizeof known / sizeof known[0];
        for (int64_t p = 0; p < N && next < nk; p++) {
            if (counts[p] > bc) {
                bc = counts[p];
                bp = p;
            }
            if (p + 1 == known[next].N0) {
                if (bp != known[next].p || bc != known[next].count)
                    bad = known[next].N0;
                checked++;
                next++;
            }
        }
        set_check(&out[nc++], "known_answers", bad < 0 ? 0.0 : 1.0, 0.0,
                  bad < 0 ? "%lld known best perimeters match" : "wrong best perimeter below %lld",
                  (long long)(bad < 0 ? checked : bad));
    }

    /* 2. the talk's brute force on a prefix (or direct, when brute is the
     * kernel under test) */
    {
        hpl_triangles_kernel ref = k == HPL_TRIANGLES_BRUTE ? HPL_TRIANGLES_DIRECT : HPL_TRIANGLES_BRUTE;
        int64_t M = N < 2001 ? N : 2001;
        if (ref == HPL_TRIANGLES_DIRECT && N > 20001)
            M = 20001;
        if (compare_with(ref, counts, M, 1, &where, err, errlen) != 0)
            return -1;
        set_check(&out[nc++], "prefix", where < 0 ? 0.0 : 1.0, 0.0,
                  where < 0 ? "%s agrees on p < %lld" : "%s differs, first at p = %lld", hpl_triangles_kernel_name(ref),
                  (long long)(where < 0 ? M : where));
    }

    /* 3. a different kernel on the whole array (Euclid's formula is cheap);
     * euclid itself is checked by direct on a longer prefix and, beyond it,
     * by direct counts of single perimeters spread over the whole range */
    if (k != HPL_TRIANGLES_EUCLID) {
        if (N <= 1000000000) {
            if (compare_with(HPL_TRIANGLES_EUCLID, counts, N, 1, &where, err, errlen) != 0)
                return -1;
            set_check(&out[nc++], "full", where < 0 ? 0.0 : 1.0, 0.0,
                      where < 0 ? "euclid agrees on p < %lld" : "euclid differs, first at p = %lld",
                      (long long)(where < 0 ? N : where));
        }
    } else {
        int64_t M = N < 30001 ? N : 30001;
        if (compare_with(HPL_TRIANGLES_DIRECT, counts, M, 1, &where, err, errlen) != 0)
            return -1;
        set_check(&out[nc++], "direct_prefix", where < 0 ? 0.0 : 1.0, 0.0,
                  where < 0 ? "direct agrees on p < %lld" : "direct differs, first at p = %lld",
                  (long long)(where < 0 ? M : where));
    }
    if (N > 30001) {
        /* spot checks, each O(p) by direct: the top 4 perimeters, 16
         * spread over [N/17, N), then more at the top, within about 3e8
         * loop steps in all (the first is always checked) */
        int64_t bad = -1, checked = 0;
        double budget = 3e8;
        for (int i = 0; i < 48 && bad < 0; i++) {
            int64_t p = i < 4 ? N - 1 - i : i < 20 ? (i - 3) * (N / 17) : N - 1 - (i - 16);
            if (checked > 0 && (double)p > budget)
                continue;
            uint32_t c;
            if (hpl_triangles_count_one(p, &c) != HPL_OK) {
                snprintf(err, errlen, "verification failed: %s", hpl_last_error());
                return -1;
            }
            budget -= (double)p;
            checked++;
            if (c != counts[p])
                bad = p;
        }
        set_check(&out[nc++], "spot", bad < 0 ? 0.0 : 1.0, 0.0,
                  bad < 0 ? "direct agrees on %lld perimeters spread up to N-1" : "direct differs at p = %lld",
                  (long long)(bad < 0 ? checked : bad));
    }
    return nc;
}
