/* main.c - hpcladder-c: solve a workload with any libhpcladder kernel, time
 * it, verify it and print one result (a readable summary, or with --json
 * exactly one JSON object on stdout).  The driver is written once here;
 * kernels live in the library. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void progress(const cli_options *o, int i, double sec)
{
    if (!o->quiet && isatty(STDERR_FILENO))
        fprintf(stderr, "  repeat %d/%d: %.6f s\n", i + 1, o->repeats, sec);
}

/* Refuse, before allocating, a run whose arrays would not fit in this
 * machine's memory: better exit 3 with the numbers than be killed by the
 * OOM killer half-way.  bytes is an estimate of the peak. */
static int enough_memory(double bytes, const char *what)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0)
        return 1; /* unknown: let the allocations decide */
    double have = (double)pages * (double)page;
    if (bytes <= have)
        return 1;
    fprintf(stderr, "hpcladder-c: %s needs about %.1f GiB of memory (fields, workspace, verification); this machine "
                    "has %.1f GiB\n",
            what, bytes / 1073741824.0, have / 1073741824.0);
    return 0;
}

/* Map a library failure to the CLI's exit code: bad input is a usage error. */
static int fail_status(const char *what, hpl_status s)
{
    fprintf(stderr, "hpcladder-c: %s: %s\n", what, hpl_last_error());
    return (s == HPL_EINVAL || s == HPL_EUNAVAILABLE || s == HPL_EOVERFLOW) ? EXIT_USAGE : EXIT_RUNTIME;
}

/* Usage checks that need no allocation: the output path and the kernel. */
static int check_diffusion_args(const cli_options *o)
{
    char err[ERRLEN] = "";
    if (o->output && npy_check_writable(o->output, err, sizeof err) != 0) {
        fprintf(stderr, "hpcladder-c: invalid value for --output: %s\n", err);
        return EXIT_USAGE;
    }
    const char *why;
    if (!hpl_diffusion_kernel_available(o->dkernel, &why)) {
        fprintf(stderr, "hpcladder-c: invalid value for --kernel: '%s' is not available: %s\n",
                hpl_diffusion_kernel_name(o->dkernel), why);
        return EXIT_USAGE;
    }
    return 0;
}

/* --init file:PATH: read the field into *u0 (malloc'ed), set o->n, and
 * refuse a field that contradicts --n or is not finite.  0 or EXIT_USAGE. */
static int read_initial_field(cli_options *o, double **u0)
{
    char err[ERRLEN] = "";
    int64_t n;
    if (npy_read_f64(o->init_path, u0, &n, err, sizeof err) != 0) {
        fprintf(stderr, "hpcladder-c: invalid value for --init: %s\n", err);
        return EXIT_USAGE;
    }
    if (o->n_set && n != o->n) {
        fprintf(stderr, "hpcladder-c: --n %lld contradicts --init file:%s, which holds %lld values\n", (long long)o->n,
                o->init_path, (long long)n);
        return EXIT_USAGE;
    }
    o->n = n;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite((*u0)[i])) {
            fprintf(stderr, "hpcladder-c: invalid value for --init: %s holds a non-finite value at index %lld\n",
                    o->init_path, (long long)i);
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* The talk's Gaussian or a sine mode into u0 (n values). */
static int init_field(const cli_options *o, double *u0)
{
    hpl_status s = HPL_OK;
    if (o->init == INIT_GAUSSIAN)
        s = hpl_diffusion_init_gaussian(o->n, u0);
    else if (o->init == INIT_SINE)
        s = hpl_diffusion_init_sine(o->n, o->sine_k, u0);
    return s == HPL_OK ? 0 : fail_status("invalid value for --init", s);
}

/* A device kernel's times for the record: four (JSON key, readable name,
 * seconds) after the label. */
static void device_extra(cli_record_extra *x, const char *label, const char *const keys[4],
                         const char *const names[4], const double vals[4])
{
    x->label = label;
    x->nseconds = 4;
    for (int i = 0; i < 4; i++) {
        x->seconds_keys[i] = keys[i];
        x->seconds_names[i] = names[i];
        x->seconds[i] = vals[i];
    }
}

/* The timed loop.  A host kernel: each repeat copies u0 into u (untimed)
 * and executes the plan on it.  A device kernel: each repeat uploads u0
 * (untimed), advances the field where it lives (timed) and downloads it
 * into u (untimed); the transfers and the device's own kernel time go into
 * *x.  0, or the exit code of a failed call. */
static int time_diffusion(const cli_options *o, hpl_diffusion_plan *plan, const double *u0, double *u,
                          cli_timing *t, cli_record_extra *x)
{
    const int device = hpl_diffusion_kernel_data(o->dkernel) == HPL_DATA_DEVICE;
    double kernel_min = INFINITY;
    hpl_times times = {0};
    for (int i = 0; i < o->repeats; i++) {
        hpl_status s = HPL_OK;
        if (device)
            s = hpl_diffusion_plan_upload(plan, u0);
        else
            memcpy(u, u0, (size_t)o->n * sizeof(double)); /* not timed: set-up */
        if (s != HPL_OK)
            return fail_status("cannot upload the field", s);
        double t0 = hpl_wtime();
        s = device ? hpl_diffusion_plan_advance(plan) : hpl_diffusion_plan_execute(plan, u);
        t->seconds[i] = hpl_wtime() - t0;
        if (s == HPL_OK && device)
            s = hpl_diffusion_plan_download(plan, u);
        if (s != HPL_OK)
            return fail_status("the solve failed", s);
        hpl_diffusion_plan_times(plan, &times);
        kernel_min = fmin(kernel_min, times.kernel);
        progress(o, i, t->seconds[i]);
    }
    if (device) {
        /* kernel alone (device timers, the fastest repeat), transfers and
         * context start-up apart */
        static const char *const keys[] = {"kernel_seconds", "upload_seconds", "download_seconds", "context_seconds"};
        static const char *const names[] = {"kernel alone", "upload", "download", "device start-up"};
        const double vals[] = {kernel_min, times.upload, times.download, times.context};
        device_extra(x, "kernel timed on the device; transfers and start-up apart", keys, names, vals);
    }
    return 0;
}

static int run_diffusion(cli_options *o)
{
    double *u0 = NULL, *u = NULL;
    hpl_diffusion_plan *plan = NULL;
    cli_timing t = {0};
    cli_record_extra x = {0};
    int rc = check_diffusion_args(o);
    if (rc != 0)
        return rc;
    if (o->init == INIT_FILE && (rc = read_initial_field(o, &u0)) != 0)
        goto done;
    rc = EXIT_RUNTIME;
    /* the initial and final fields, two verification fields, and up to about
     * four fields of kernel workspace (folded copies, FFT buffers) */
    if (!enough_memory(8.0 * 8.0 * (double)o->n, "this diffusion run"))
        goto done;
    hpl_diffusion_params p = {.n = o->n, .r = o->r, .steps = o->steps, .threads = o->threads};
    hpl_status s = hpl_diffusion_plan_create(o->dkernel, &p, &plan);
    if (s != HPL_OK) {
        rc = fail_status("cannot set up the problem", s);
        goto done;
    }
    if (u0 == NULL)
        u0 = malloc((size_t)o->n * sizeof(double));
    u = malloc((size_t)o->n * sizeof(double));
    t.seconds = calloc((size_t)o->repeats, sizeof(double));
    if (u0 == NULL || u == NULL || t.seconds == NULL) {
        fprintf(stderr, "hpcladder-c: out of memory for a field of n = %lld doubles\n", (long long)o->n);
        goto done;
    }
    if ((o->init != INIT_FILE && (rc = init_field(o, u0)) != 0) || (rc = time_diffusion(o, plan, u0, u, &t, &x)) != 0)
        goto done;
    rc = cli_finish_diffusion("hpcladder-c", o, hpl_diffusion_plan_seconds(plan), &t, u0, u, &x);
done:
    hpl_diffusion_plan_destroy(plan);
    free(u0);
    free(u);
    free(t.seconds);
    return rc;
}

static int run_triangles(cli_options *o)
{
    char err[ERRLEN] = "";
    uint32_t *counts = NULL;
    cli_timing t = {0};
    int rc = EXIT_RUNTIME;
    const char *kname = hpl_triangles_kernel_name(o->tkernel);

    if (o->counts_path && npy_check_writable(o->counts_path, err, sizeof err) != 0) {
        fprintf(stderr, "hpcladder-c: invalid value for --counts: %s\n", err);
        return EXIT_USAGE;
    }
    const char *why;
    if (!hpl_triangles_kernel_available(o->tkernel, &why)) {
        fprintf(stderr, "hpcladder-c: invalid value for --kernel: '%s' is not available: %s\n", kname, why);
        return EXIT_USAGE;
    }
    /* counts, the verification's euclid array (up to N = 1e9) and the
     * kernels' scratch (under a third of the counts) */
    if (!enough_memory(4.0 * (double)o->N * (o->N <= 1000000000 ? 2.4 : 1.4), "this triangles run"))
        goto done;
    counts = malloc((size_t)o->N * sizeof(uint32_t));
    t.seconds = calloc((size_t)o->repeats, sizeof(double));
    if (counts == NULL || t.seconds == NULL) {
        fprintf(stderr, "hpcladder-c: out of memory for N = %lld counts\n", (long long)o->N);
        goto done;
    }
    int64_t best_p = 0;
    uint32_t best_count = 0;
    /* a device kernel's call also allocates, counts and copies back: the
     * timed seconds are the device's kernel time, the rest goes apart */
    const int device = hpl_triangles_kernel_data(o->tkernel) == HPL_DATA_DEVICE;
    hpl_times times = {0}, first = {0};
    double call_min = INFINITY;
    for (int i = 0; i < o->repeats; i++) {
        double t0 = hpl_wtime();
        hpl_status s = hpl_triangles_count_timed(o->tkernel, o->N, o->threads, counts, &best_p, &best_count, &times);
        double call = hpl_wtime() - t0;
        if (s != HPL_OK) {
            rc = fail_status("the count failed", s);
            goto done;
        }
        if (i == 0)
            first = times;
        t.seconds[i] = device ? times.kernel : call;
        call_min = fmin(call_min, call);
        progress(o, i, t.seconds[i]);
    }
    cli_record_extra x = {0};
    if (device) {
        static const char *const keys[] = {"call_seconds", "setup_seconds", "download_seconds", "context_seconds"};
        static const char *const names[] = {"whole call", "device allocation", "download", "device start-up"};
        const double vals[] = {call_min, times.setup, times.download, first.context};
        device_extra(&x, "kernel timed on the device; allocation, copy and start-up apart", keys, names, vals);
    }
    rc = cli_finish_triangles("hpcladder-c", o, &t, counts, best_p, best_count, &x);
done:
    free(counts);
    free(t.seconds);
    return rc;
}

/* One workload's kernel table, for --list: readable, or as a JSON array of
 * {"id", "name", "summary", "threaded", "data", "built", "available", "why", "detail"}. */
static void list_workload(hpl_workload w, int json)
{
    hpl_kernel_info ki;
    printf(json ? "\"%s\": [" : "%s kernels:\n", hpl_workload_name(w));
    for (int k = 0; hpl_kernel_info_get(w, k, &ki) == HPL_OK; k++) {
        if (!json) {
            printf("  %-13s %s%s%s%s\n", ki.name,
                   ki.available ? "built" : ki.built ? "built, not available: " : "not built: ", ki.why,
                   *ki.detail ? ", " : "", ki.detail);
            continue;
        }
        printf("%s{\"id\": %d, \"name\": ", k ? ", " : "", k);
        cli_json_string(stdout, ki.name);
        printf(", \"summary\": ");
        cli_json_string(stdout, ki.summary);
        printf(", \"threaded\": %s, \"data\": \"%s\", \"built\": %s, \"available\": %s, \"why\": ",
               ki.threaded ? "true" : "false", hpl_data_name(ki.data), ki.built ? "true" : "false",
               ki.available ? "true" : "false");
        cli_json_string(stdout, ki.why);
        printf(", \"detail\": ");
        cli_json_string(stdout, ki.detail);
        printf("}");
    }
    if (json)
        fputs("]", stdout);
}

/* --list [--json]: every workload's kernel table. */
static void list_kernels(int json)
{
    if (json)
        fputs("{", stdout);
    for (int w = 0; w < HPL_WORKLOAD_COUNT; w++) {
        if (json && w)
            fputs(", ", stdout);
        list_workload((hpl_workload)w, json);
    }
    if (json)
        fputs("}\n", stdout);
}

static int dispatch(cli_options *o)
{
    switch (o->command) {
    case CMD_HELP:
        cli_print_help(stdout, o->help_topic);
        return 0;
    case CMD_VERSION:
        printf("hpcladder-c %s (libhpcladder %s)\n", HPCLADDER_VERSION, hpl_version());
        return 0;
    case CMD_LIST:
        list_kernels(o->json);
        return 0;
    case CMD_DIFFUSION:
        return run_diffusion(o);
    case CMD_TRIANGLES:
        return run_triangles(o);
    default:
        return EXIT_USAGE;
    }
}

int main(int argc, char **argv)
{
    cli_options o;
    int rc = cli_parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    rc = dispatch(&o);
    /* a result that could not be written (full disk, closed pipe) is a
     * runtime error, not a success */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "hpcladder-c: cannot write the result to standard output\n");
        return EXIT_RUNTIME;
    }
    return rc;
}
