/* check.h - a minimal assertion kit for the C tests: every CHECK counts, a
 * failure prints where and why, and main returns non-zero if any failed. */
#ifndef HPCLADDER_TEST_CHECK_H
#define HPCLADDER_TEST_CHECK_H
#include <math.h>
#include <stdint.h>
#include <stdio.h>

static int check_failures = 0;
static long check_count = 0;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        check_count++;                                                           \
        if (!(cond)) {                                                           \
            check_failures++;                                                    \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
        }                                                                        \
    } while (0)

/* The larger of m and x, NaN winning (fmax would drop a NaN x). */
static inline double worst(double m, double x) { return x <= m ? m : x; }

/* max |u| over n values; NaN propagates. */
static inline double field_max_abs(const double *u, int64_t n)
{
    double m = 0.0;
    for (int64_t i = 0; i < n; i++)
        if (!(fabs(u[i]) <= m))
            m = fabs(u[i]);
    return m;
}

/* max |a-b| / max|b| (absolute when b is all zero).  NaN or inf anywhere
 * makes it NaN or inf, so that no comparison with a tolerance can pass. */
static inline double field_rel_diff(const double *a, const double *b, int64_t n)
{
    double d = 0.0;
    for (int64_t i = 0; i < n; i++)
        if (!(fabs(a[i] - b[i]) <= d))
            d = fabs(a[i] - b[i]);
    double s = field_max_abs(b, n);
    return s > 0 ? d / s : d;
}

/* Print the tally; use as `return check_report("name");` in main. */
static inline int check_report(const char *name)
{
    printf("%s: %ld checks, %d failed\n", name, check_count, check_failures);
    return check_failures == 0 && check_count > 0 ? 0 : 1;
}
#endif
