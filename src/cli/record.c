/* record.c - what hpcladder-c and hpcladder-c-mpi print after a run, written
 * once: the timing summary, the JSON record or the readable summary, the
 * checks and the verdict.  hpcladder-c-mpi adds its fields (ranks, halo,
 * split, init and gather times) through cli_record_extra. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cli_summarise(cli_timing *t, int repeats)
{
    double *s = malloc(sizeof(double) * (size_t)repeats);
    if (s == NULL)
        return -1;
    memcpy(s, t->seconds, sizeof(double) * (size_t)repeats);
    qsort(s, (size_t)repeats, sizeof(double), cmp_double);
    t->min = s[0];
    t->median = repeats % 2 ? s[repeats / 2] : 0.5 * (s[repeats / 2 - 1] + s[repeats / 2]);
    free(s);
    return 0;
}

int cli_all_ok(const check_result *c, int nc)
{
    int ok = nc > 0;
    for (int i = 0; i < nc; i++)
        ok = ok && c[i].ok;
    return ok;
}

int cli_fault_injected(void)
{
    const char *e = getenv("HPCLADDER_CLI_INJECT_FAULT");
    return e != NULL && strcmp(e, "1") == 0;
}

static const cli_record_extra no_extra;

static void json_seconds(const cli_timing *t, int repeats)
{
    printf("\"repeats\": %d, \"seconds\": [", repeats);
    for (int i = 0; i < repeats; i++) {
        if (i)
            fputs(", ", stdout);
        cli_json_double(stdout, t->seconds[i]);
    }
    fputs("], \"seconds_min\": ", stdout);
    cli_json_double(stdout, t->min);
    fputs(", \"seconds_median\": ", stdout);
    cli_json_double(stdout, t->median);
}

/* The record's head up to the timings: `"threads": T, ` and the driver's own
 * members after it. */
static void json_threads(int threads, const cli_record_extra *x)
{
    printf(", \"threads\": %d, ", threads);
    if (x->json && *x->json)
        printf("%s, ", x->json);
}

/* The record's tail (checks, verdict, version) or the readable one (checks,
 * the file written, VERDICT). */
static void print_end(const cli_options *o, const check_result *c, int nc, int passed, const char *path)
{
    if (o->json) {
        fputs(", \"checks\": [", stdout);
        for (int i = 0; i < nc; i++) {
            printf("%s{\"name\": \"%s\", \"ok\": %s, \"detail\": ", i ? ", " : "", c[i].name,
                   c[i].ok ? "true" : "false");
            cli_json_string(stdout, c[i].detail);
            fputs(", \"error\": ", stdout);
            cli_json_double(stdout, c[i].error);
            fputs(", \"tolerance\": ", stdout);
            cli_json_double(stdout, c[i].tolerance);
            fputc('}', stdout);
        }
        printf("], \"verdict\": \"%s\", \"version\": \"%s\"}\n", passed ? "PASSED" : "FAILED", hpl_version());
        return;
    }
    for (int i = 0; i < nc; i++)
        printf("check %-13s %-4s error %.3e (tolerance %.1e): %s\n", c[i].name, c[i].ok ? "ok" : "FAIL", c[i].error,
               c[i].tolerance, c[i].detail);
    if (path)
        printf("wrote      %s\n", path);
    printf("VERDICT: %s\n", passed ? "PASSED" : "FAILED");
}

/* "kernel=NAME", then "(detail; label)" with whichever of the two is set. */
static void print_kernel(const char *kname, const char *detail, const char *label)
{
    int d = detail && *detail, l = label && *label;
    printf("kernel=%s%s%s%s%s%s", kname, d || l ? " (" : "", d ? detail : "", d && l ? "; " : "", l ? label : "",
           d || l ? ")" : "");
}

void cli_print_diffusion(const cli_options *o, double plan_seconds, const cli_timing *t, const double *u,
                         const check_result *checks, int nc, int passed, const cli_record_extra *x)
{
    if (x == NULL)
        x = &no_extra;
    double sum = 0.0, mx = -INFINITY, l2 = 0.0;
    for (int64_t i = 0; i < o->n; i++) {
        sum += u[i];
        mx = fmax(mx, u[i]);
        l2 += u[i] * u[i];
    }
    l2 = sqrt(l2);
    char init[64];
    if (o->init == INIT_SINE)
        snprintf(init, sizeof init, "sine:%lld", (long long)o->sine_k);
    else
        snprintf(init, sizeof init, "%s", o->init == INIT_GAUSSIAN ? "gaussian" : "file");
    const char *kname = hpl_diffusion_kernel_name(o->dkernel), *detail = hpl_diffusion_kernel_detail(o->dkernel);
    int threads = hpl_diffusion_kernel_threaded(o->dkernel) ? o->threads : 1;
    double ups = t->min > 0 ? (double)(o->n - 2) * (double)o->steps / t->min : 0.0;
    if (o->json) {
        printf("{\"workload\": \"diffusion\", \"kernel\": \"%s\", \"detail\": ", kname);
        cli_json_string(stdout, detail);
        printf(", \"n\": %lld, \"steps\": %lld, \"r\": %.17g, \"init\": ", (long long)o->n, (long long)o->steps, o->r);
        cli_json_string(stdout, o->init == INIT_FILE ? o->init_path : init);
        json_threads(threads, x);
        json_seconds(t, o->repeats);
        fputs(", \"plan_seconds\": ", stdout);
        cli_json_double(stdout, plan_seconds);
        for (int i = 0; i < x->nseconds; i++) {
            printf(", \"%s\": ", x->seconds_keys[i]);
            cli_json_double(stdout, x->seconds[i]);
        }
        const char *keys[] = {"updates_per_second", "sum", "max", "l2"};
        const double vals[] = {ups, sum, mx, l2};
        for (int i = 0; i < 4; i++) {
            printf(", \"%s\": ", keys[i]);
            cli_json_double(stdout, vals[i]);
        }
    } else {
        printf("diffusion  ");
        print_kernel(kname, detail, x->label);
        printf("  n=%lld steps=%lld r=%g init=%s threads=%d\n", (long long)o->n, (long long)o->steps, o->r,
               o->init == INIT_FILE ? o->init_path : init, threads);
        printf("time       min %.6f s  median %.6f s  over %d repeats  (%.3g point updates/s; plan %.6f s", t->min,
               t->median, o->repeats, ups, plan_seconds);
        for (int i = 0; i < x->nseconds; i++)
            printf(", %s %.6f s", x->seconds_names[i], x->seconds[i]);
        printf(")\nresult     sum %.17g  max %.17g  l2 %.17g\n", sum, mx, l2);
    }
    print_end(o, checks, nc, passed, o->output);
}

void cli_print_triangles(const cli_options *o, const cli_timing *t, const uint32_t *counts, int64_t best_p,
                         uint32_t best_count, const check_result *checks, int nc, int passed,
                         const cli_record_extra *x)
{
    if (x == NULL)
        x = &no_extra;
    uint64_t checksum = hpl_triangles_checksum(counts, o->N), total = 0;
    for (int64_t p = 0; p < o->N; p++)
        total += counts[p];
    const char *kname = hpl_triangles_kernel_name(o->tkernel);
    /* how it runs here (the device found), from the generic table view */
    hpl_kernel_info info;
    const char *detail = hpl_kernel_info_get(HPL_WORKLOAD_TRIANGLES, (int)o->tkernel, &info) == HPL_OK ? info.detail : "";
    int threads = hpl_triangles_kernel_threaded(o->tkernel) ? o->threads : 1;
    if (o->json) {
        printf("{\"workload\": \"triangles\", \"kernel\": \"%s\", \"detail\": ", kname);
        cli_json_string(stdout, detail);
        printf(", \"N\": %lld", (long long)o->N);
        json_threads(threads, x);
        json_seconds(t, o->repeats);
        for (int i = 0; i < x->nseconds; i++) {
            printf(", \"%s\": ", x->seconds_keys[i]);
            cli_json_double(stdout, x->seconds[i]);
        }
        printf(", \"best_p\": %lld, \"best_count\": %u, \"checksum\": %llu, \"total\": %llu", (long long)best_p,
               best_count, (unsigned long long)checksum, (unsigned long long)total);
    } else {
        printf("triangles  ");
        print_kernel(kname, detail, x->label);
        printf("  N=%lld threads=%d\n", (long long)o->N, threads);
        printf("time       min %.6f s  median %.6f s  over %d repeats", t->min, t->median, o->repeats);
        for (int i = 0; i < x->nseconds; i++)
            printf("%s%s %.6f s", i ? ", " : "  (", x->seconds_names[i], x->seconds[i]);
        printf("%s\n", x->nseconds ? ")" : "");
        printf("result     best p %lld with %u triangles; %llu triangles in all; checksum %llu\n", (long long)best_p,
               best_count, (unsigned long long)total, (unsigned long long)checksum);
    }
    print_end(o, checks, nc, passed, o->counts_path);
}

/* The end of a run, the same for every driver: summarise the timings,
 * verify, write the result file, print.  prog prefixes the messages. */
int cli_finish_diffusion(const char *prog, const cli_options *o, double plan_seconds, cli_timing *t,
                         const double *u0, double *u, const cli_record_extra *x)
{
    char err[ERRLEN] = "";
    if (cli_summarise(t, o->repeats) != 0) {
        fprintf(stderr, "%s: out of memory summarising %d repeats\n", prog, o->repeats);
        return EXIT_RUNTIME;
    }
    if (cli_fault_injected())
        u[o->n / 2] += 1e-9 * (fabs(u[o->n / 2]) + 1.0);
    check_result checks[MAX_CHECKS];
    int nc = verify_diffusion(o, u0, u, checks, err, sizeof err);
    if (nc < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return EXIT_RUNTIME;
    }
    int passed = cli_all_ok(checks, nc);
    /* written before the verdict is printed, and even if it is FAILED: the
     * wrong field is what one wants to look at */
    if (o->output && npy_write_f64(o->output, u, o->n, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return EXIT_RUNTIME;
    }
    cli_print_diffusion(o, plan_seconds, t, u, checks, nc, passed, x);
    return passed ? EXIT_PASSED : EXIT_VERIFY_FAILED;
}

int cli_finish_triangles(const char *prog, const cli_options *o, cli_timing *t, uint32_t *counts, int64_t best_p,
                         uint32_t best_count, const cli_record_extra *x)
{
    char err[ERRLEN] = "";
    if (cli_summarise(t, o->repeats) != 0) {
        fprintf(stderr, "%s: out of memory summarising %d repeats\n", prog, o->repeats);
        return EXIT_RUNTIME;
    }
    if (cli_fault_injected())
        counts[o->N - 1] += 1;
    check_result checks[MAX_CHECKS];
    int nc = verify_triangles(o, counts, checks, err, sizeof err);
    if (nc < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return EXIT_RUNTIME;
    }
    int passed = cli_all_ok(checks, nc);
    if (o->counts_path && npy_write_u32(o->counts_path, counts, o->N, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return EXIT_RUNTIME;
    }
    cli_print_triangles(o, t, counts, best_p, best_count, checks, nc, passed, x);
    return passed ? EXIT_PASSED : EXIT_VERIFY_FAILED;
}
