/* check.h - a minimal assertion kit for the C tests: every CHECK counts, a
 * failure prints where and why, and main returns non-zero if any failed. */
#ifndef HPCLADDER_TEST_CHECK_H
#define HPCLADDER_TEST_CHECK_H
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

/* Print the tally; use as `return check_report("name");` in main. */
static inline int check_report(const char *name)
{
    printf("%s: %ld checks, %d failed\n", name, check_count, check_failures);
    return check_failures == 0 && check_count > 0 ? 0 : 1;
}
#endif
