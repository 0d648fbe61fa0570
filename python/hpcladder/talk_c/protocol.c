/* protocol.c - the protocol layer around the talk's C programs (protocol.h).
 * Everything here is plumbing: the talk's code is in diffusion.c and
 * triangles.c. */
#define _POSIX_C_SOURCE 200809L
#include "protocol.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(const tp_options *o, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "talk_c %s: ", o->workload);
    fprintf(stderr, fmt, a, b);      /* fmt: one of the literal formats below, two %s at most */
    fprintf(stderr, "\nusage: %s %s\n", o->workload,
            strcmp(o->workload, "diffusion") == 0
                ? "--n N --steps S --r R --repeats K [--threads T] [--init gaussian] [--json] [--output PATH.npy] [--rung ID]"
                : "--N N --repeats K [--threads T] [--json] [--counts PATH.npy] [--rung ID]");
    exit(TP_EXIT_USAGE);
}

/* An integer that may be written 1e5 (the talk's way), in [lo, hi]. */
static int64_t size_value(const tp_options *o, const char *name, const char *text, int64_t lo, int64_t hi)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || v != floor(v) || v < (double)lo || v > (double)hi) {
        char what[160];
        snprintf(what, sizeof what, "%s %.60s: must be an integer in [%lld, %lld]", name, text, (long long)lo,
                 (long long)hi);
        usage(o, "bad value %s%s", what, "");
    }
    return (int64_t)v;
}

void tp_parse(int argc, char **argv, const char *workload, tp_options *o)
{
    memset(o, 0, sizeof *o);
    o->workload = workload;
    o->rung = "c-talk";
    o->n = 100000;
    o->steps = 2000;
    o->r = 0.1;
    o->N = 1000;
    o->repeats = 3;
    if (argc < 2 || strcmp(argv[1], workload) != 0)
        usage(o, "the first argument must be the workload %s%s", workload, "");
    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int diffusion = strcmp(workload, "diffusion") == 0;
        if (strcmp(opt, "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (strncmp(opt, "--", 2) != 0)
            usage(o, "unexpected argument %s%s", opt, "");
        if (val == NULL) {
            if (strcmp(opt, "--n") && strcmp(opt, "--steps") && strcmp(opt, "--r") && strcmp(opt, "--N") &&
                strcmp(opt, "--repeats") && strcmp(opt, "--output") && strcmp(opt, "--counts") &&
                strcmp(opt, "--rung") && strcmp(opt, "--threads") && strcmp(opt, "--init"))
                continue;                               /* an unknown flag at the end: ignored */
            usage(o, "%s needs a value%s", opt, "");
        }
        i++;
        if (diffusion && strcmp(opt, "--n") == 0) {
            o->n = size_value(o, "--n", val, 3, 2147483647);
        } else if (diffusion && strcmp(opt, "--steps") == 0) {
            o->steps = size_value(o, "--steps", val, 0, 2147483647);
        } else if (diffusion && strcmp(opt, "--r") == 0) {
            char *end = NULL;
            o->r = strtod(val, &end);
            if (end == val || *end != '\0' || !(o->r > 0.0 && o->r <= 0.5))
                usage(o, "--r %s is unstable or invalid: r must be in (0, 0.5]%s", val, "");
        } else if (diffusion && strcmp(opt, "--init") == 0) {
            if (strcmp(val, "gaussian") != 0)
                usage(o, "--init %s: the talk's program starts from its Gaussian only (--init gaussian)%s", val, "");
        } else if (diffusion && strcmp(opt, "--output") == 0) {
            o->output = val;
        } else if (!diffusion && strcmp(opt, "--N") == 0) {
            o->N = size_value(o, "--N", val, 1, 4000000000LL);
        } else if (!diffusion && strcmp(opt, "--counts") == 0) {
            o->output = val;
        } else if (strcmp(opt, "--repeats") == 0) {
            o->repeats = (int)size_value(o, "--repeats", val, 1, TP_MAX_REPEATS);
        } else if (strcmp(opt, "--threads") == 0) {
            (void)size_value(o, "--threads", val, 1, 1 << 20);     /* a serial program: accepted, ignored */
        } else if (strcmp(opt, "--rung") == 0) {
            o->rung = val;
        } else if (strncmp(val, "--", 2) == 0) {
            i--;                                        /* an unknown flag without a value */
        }                                               /* else: an unknown option and its value, ignored */
    }
}

/* A JSON string (the few characters that need it escaped). */
static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

void tp_skip(const tp_options *o, const char *why, const char *install)
{
    printf("{\"skipped\": ");
    json_string(why);
    printf(", \"install\": ");
    json_string(install);
    printf(", \"rung\": ");
    json_string(o->rung);
    printf(", \"workload\": ");
    json_string(o->workload);
    printf("}\n");
    fflush(stdout);
    exit(TP_EXIT_SKIPPED);
}

double tp_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void *tp_alloc(int64_t count, int64_t size)
{
    void *p = count > 0 && (uint64_t)count <= SIZE_MAX / (uint64_t)size ? calloc((size_t)count, (size_t)size) : NULL;
    if (p == NULL) {
        fprintf(stderr, "talk_c: out of memory for %lld values of %lld bytes\n", (long long)count, (long long)size);
        exit(1);
    }
    return p;
}

/* ---- .npy ------------------------------------------------------------------ */

static void write_npy(const char *path, const char *descr, const void *data, size_t elsize, int64_t n)
{
    char header[256];
    int hl = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%lld,), }", descr,
                      (long long)n);
    int pad = (64 - (10 + hl + 1) % 64) % 64;       /* the data starts on a 64-byte boundary, as numpy.save does */
    memset(header + hl, ' ', (size_t)pad);
    header[hl + pad] = '\n';
    int total = hl + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(total & 0xff),
                             (unsigned char)(total >> 8)};
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(pre, 1, sizeof pre, f) == sizeof pre &&
             fwrite(header, 1, (size_t)total, f) == (size_t)total &&
             fwrite(data, elsize, (size_t)n, f) == (size_t)n;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "talk_c: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

/* (x86-64 and the other targets hpcladder runs on are little-endian: the
 * values are written as they lie in memory.) */
void tp_write_f8(const char *path, const double *v, int64_t n) { write_npy(path, "<f8", v, sizeof *v, n); }
void tp_write_u4(const char *path, const uint32_t *v, int64_t n) { write_npy(path, "<u4", v, sizeof *v, n); }

/* ---- the record ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void timing(const tp_options *o, const double *seconds, double *mn, double *med)
{
    double sorted[TP_MAX_REPEATS];
    memcpy(sorted, seconds, (size_t)o->repeats * sizeof *seconds);
    qsort(sorted, (size_t)o->repeats, sizeof *sorted, cmp_double);
    *mn = sorted[0];
    int k = o->repeats;
    *med = k % 2 ? sorted[k / 2] : 0.5 * (sorted[k / 2 - 1] + sorted[k / 2]);
}

static void record_head(const tp_options *o, const double *seconds, double mn, double med)
{
    printf("{\"workload\": \"%s\", \"rung\": ", o->workload);
    json_string(o->rung);
    printf(", \"seconds\": [");
    for (int i = 0; i < o->repeats; i++)
        printf("%s%.9g", i ? ", " : "", seconds[i] > 0 ? seconds[i] : 1e-9);   /* a clock tick is > 0 */
    printf("], \"seconds_min\": %.9g, \"seconds_median\": %.9g, \"warmup_seconds\": null, \"repeats\": %d",
           mn > 0 ? mn : 1e-9, med > 0 ? med : 1e-9, o->repeats);
}

void tp_record_diffusion(const tp_options *o, const double *seconds, const double *u)
{
    double mn, med, sum = 0.0, sq = 0.0, mx = u[0];
    timing(o, seconds, &mn, &med);
    for (int64_t i = 0; i < o->n; i++) {
        sum += u[i];
        sq += u[i] * u[i];
        if (u[i] > mx)
            mx = u[i];
    }
    if (o->output)
        tp_write_f8(o->output, u, o->n);
    if (!o->json) {
        printf("%s diffusion n=%lld steps=%lld: min %.6g s, median %.6g s over %d repeats; sum=%.17g max=%.17g\n",
               o->rung, (long long)o->n, (long long)o->steps, mn, med, o->repeats, sum, mx);
        return;
    }
    record_head(o, seconds, mn, med);
    printf(", \"n\": %lld, \"steps\": %lld, \"r\": %.17g, \"sum\": %.17g, \"max\": %.17g, \"l2\": %.17g}\n",
           (long long)o->n, (long long)o->steps, o->r, sum, mx, sqrt(sq));
    fflush(stdout);
}

void tp_record_triangles(const tp_options *o, const double *seconds, const uint32_t *counts)
{
    double mn, med;
    uint64_t checksum = 0, total = 0;
    int64_t best_p = 0;
    uint32_t best = 0;
    timing(o, seconds, &mn, &med);
    for (int64_t p = 0; p < o->N; p++) {
        checksum += (uint64_t)(p + 1) * counts[p];     /* mod 2^64 */
        total += counts[p];
        if (counts[p] > best) {                        /* the talk's rule: strictly greater wins */
            best = counts[p];
            best_p = p;
        }
    }
    if (o->output)
        tp_write_u4(o->output, counts, o->N);
    if (!o->json) {
        printf("%s triangles N=%lld: min %.6g s, median %.6g s over %d repeats; best p=%lld with %u\n", o->rung,
               (long long)o->N, mn, med, o->repeats, (long long)best_p, best);
        return;
    }
    record_head(o, seconds, mn, med);
    printf(", \"N\": %lld, \"best_p\": %lld, \"best_count\": %u, \"checksum\": %llu, \"total\": %llu}\n",
           (long long)o->N, (long long)best_p, best, (unsigned long long)checksum, (unsigned long long)total);
    fflush(stdout);
}
