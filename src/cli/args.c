/* args.c - option parsing and --help of hpcladder-c.  Every usage error
 * names the option and what it accepts, and happens before anything runs
 * or is written.  The parser itself prints nothing (cli_parse_args returns
 * the message), so that the fuzz target can call it as the CLI does. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Where a usage error's message goes: the caller's buffer. */
typedef struct msg {
    char *buf;
    size_t len;
} msg;

/* Write the message into m; returns EXIT_USAGE. */
static int usage_error(msg m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(msg m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m.buf, m.len, fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

/* Whole numbers: plain integers or exact scientific notation ("1e7"). */
static int parse_int64(msg m, const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    char range[96];
    snprintf(range, sizeof range, "a whole number in [%lld, %lld]", (long long)lo, (long long)hi);
    /* plain or exact scientific notation only: no hex, no spaces, no "inf" */
    if (*s == '\0' || strspn(s, "0123456789+-.eE") != strlen(s))
        goto bad;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end == '\0' && errno == 0) {
        if (v < lo || v > hi)
            goto bad;
        *out = v;
        return 0;
    }
    double d = strtod(s, &end);
    if (*end != '\0' || !isfinite(d) || d != floor(d) || d < (double)lo || d >= 9.2e18 || (int64_t)d > hi)
        goto bad;
    *out = (int64_t)d;
    return 0;
bad:
    return usage_error(m, "invalid value '%s' for %s: expected %s", s, opt, range);
}

static int parse_r(msg m, const char *s, double *out)
{
    char *end;
    double d = strtod(s, &end); /* a subnormal r sets ERANGE but is a valid r */
    if (*s == '\0' || *end != '\0' || !(d > 0.0 && d <= HPL_DIFFUSION_R_MAX))
        return usage_error(m, "invalid value '%s' for --r: expected a number in (0, 0.5]; r = kappa*dt/dx^2 above 0.5 is "
                           "unstable",
                           s);
    *out = d;
    return 0;
}

/* "  --kernel K     a|b|c (default d)" and one line per kernel, from the
 * library's kernel table, so that --help never lists a stale set. */
static void help_kernels(FILE *f, hpl_workload w, int dflt)
{
    hpl_kernel_info ki;
    fprintf(f, "  --kernel K     ");
    for (int k = 0; hpl_kernel_info_get(w, k, &ki) == HPL_OK; k++)
        fprintf(f, "%s%s", k ? "|" : "", ki.name);
    hpl_kernel_info_get(w, dflt, &ki);
    fprintf(f, " (default %s)\n", ki.name);
    for (int k = 0; hpl_kernel_info_get(w, k, &ki) == HPL_OK; k++)
        fprintf(f, "                   %-13s %s%s\n", ki.name, ki.summary, ki.built ? "" : " [not built]");
}

static void help_overview(FILE *f)
{
    fprintf(f, "hpcladder-c - solve an hpcladder workload with any kernel of libhpcladder, time it and verify it.\n\n"
               "Usage:\n"
               "  hpcladder-c diffusion [options]   1D heat equation, explicit, fixed ends\n"
               "  hpcladder-c triangles [options]   Project Euler 39: right triangles per perimeter\n"
               "  hpcladder-c --list [--json]       kernels built into this library (and why others are not);\n"
               "                                    --json: one JSON object, the kernel tables\n"
               "  hpcladder-c --version | --help | COMMAND --help\n\n");
}

static void help_diffusion(FILE *f)
{
    fprintf(f, "diffusion: u[i] += r*(u[i+1] - 2u[i] + u[i-1]) for 0 < i < n-1, `steps` times; u[0], u[n-1] fixed.\n");
    help_kernels(f, HPL_WORKLOAD_DIFFUSION, HPL_DIFFUSION_SERIAL);
    fprintf(f, "  --n N          points including both ends, N >= 3 (default 100000)\n"
               "  --steps S      time steps, S >= 0 (default 2000; the talk also used 50000)\n"
               "  --r R          kappa*dt/dx^2 in (0, 0.5] (default 0.1); above 0.5 the scheme is unstable\n"
               "  --init I       gaussian (default; the talk's exp(-(i-n/2)^2/100000)), sine:K (discrete sine mode\n"
               "                 1 <= K <= n-2, checked against its exact decay), or file:PATH.npy (1-D float64;\n"
               "                 sets n, ends are kept)\n"
               "  --output PATH  write the final field as a float64 .npy file\n\n");
}

static void help_triangles(FILE *f)
{
    fprintf(f, "triangles: counts[p] for every perimeter p < N of right triangles a <= b < c, a+b+c = p; best p.\n");
    help_kernels(f, HPL_WORKLOAD_TRIANGLES, HPL_TRIANGLES_EUCLID);
    fprintf(f, "  --N N          count perimeters p < N, 1 <= N <= 4e9 (default 1000; 1e7 style accepted)\n"
               "  --counts PATH  write counts[0..N-1] as a uint32 .npy file\n\n");
}

static void help_common(FILE *f)
{
    fprintf(f,
            "Common options:\n"
            "  --threads T    threads for the threaded (openmp) kernels, 1..%d (default 1; others ignore it)\n"
            "  --repeats K    timed repeats, 1..1000000 (default 3); the time reported excludes allocation and\n"
            "                 set-up; each repeat starts from the same initial data.  Device kernels (cuda-*,\n"
            "                 opencl-*): the time is the step loop on the device (diffusion: the field is\n"
            "                 uploaded before and downloaded after, untimed; triangles: the device's kernel\n"
            "                 time); the device-timed kernel, the transfers and the device's start-up are\n"
            "                 reported apart (kernel_seconds, upload_seconds, ... in --json)\n"
            "  --json         print exactly one JSON object on stdout (times, checksums, checks, verdict)\n"
            "  --quiet        no progress lines on stderr\n\n"
            "Every run verifies itself (diffusion: exact sine-mode decay and an independent kernel - naive where\n"
            "affordable, else spectral; triangles: brute on a prefix, a second kernel on the whole array, known\n"
            "answers) and prints one verdict line 'VERDICT: PASSED|FAILED'.\n"
            "Exit codes: 0 passed, 1 self-verification failed, 2 usage error (nothing run or written),\n"
            "3 runtime error (e.g. out of memory).\n\n"
            "Examples:\n"
            "  hpcladder-c diffusion --kernel tiled --steps 50000\n"
            "  hpcladder-c diffusion --kernel tiled-openmp --threads 2 --n 1e6 --steps 1000 --json\n"
            "  hpcladder-c triangles --kernel euclid --N 1e7 --counts counts.npy\n",
            HPL_THREADS_MAX);
}

void cli_print_help(FILE *f, cli_command topic)
{
    int all = topic != CMD_DIFFUSION && topic != CMD_TRIANGLES;
    if (all)
        help_overview(f);
    if (all || topic == CMD_DIFFUSION)
        help_diffusion(f);
    if (all || topic == CMD_TRIANGLES)
        help_triangles(f);
    help_common(f);
}

/* Option table: which command accepts which option. */
enum { FOR_D = 1, FOR_T = 2 };
static const struct {
    const char *name;
    int takes_value;
    int commands;
} options[] = {
    {"--kernel", 1, FOR_D | FOR_T}, {"--n", 1, FOR_D},       {"--steps", 1, FOR_D},
    {"--r", 1, FOR_D},              {"--init", 1, FOR_D},    {"--output", 1, FOR_D},
    {"--N", 1, FOR_T},              {"--counts", 1, FOR_T},  {"--threads", 1, FOR_D | FOR_T},
    {"--repeats", 1, FOR_D | FOR_T}, {"--json", 0, FOR_D | FOR_T}, {"--quiet", 0, FOR_D | FOR_T},
    {"--help", 0, FOR_D | FOR_T},
};

static void set_defaults(cli_options *o)
{
    memset(o, 0, sizeof *o);
    o->command = CMD_NONE;
    o->dkernel = HPL_DIFFUSION_SERIAL;
    o->n = 100000;
    o->steps = 2000;
    o->r = 0.1;
    o->init = INIT_GAUSSIAN;
    o->tkernel = HPL_TRIANGLES_EUCLID;
    o->N = 1000;
    o->threads = 1;
    o->repeats = 3;
}

/* The first argument: a command, or --help/--version/--list (which take no
 * options but --json after --list).  Returns 0, or EXIT_USAGE. */
static int parse_command(msg m, int argc, char **argv, cli_options *o)
{
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
        o->command = CMD_HELP;
    else if (strcmp(cmd, "--version") == 0)
        o->command = CMD_VERSION;
    else if (strcmp(cmd, "--list") == 0)
        o->command = CMD_LIST;
    else if (strcmp(cmd, "diffusion") == 0)
        o->command = CMD_DIFFUSION;
    else if (strcmp(cmd, "triangles") == 0)
        o->command = CMD_TRIANGLES;
    else
        return usage_error(m, "unknown command '%s': expected diffusion, triangles, --list, --version or --help", cmd);
    if (o->command == CMD_LIST) {
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--json") != 0)
                return usage_error(m, "unknown option '%s' for --list: it takes only --json", argv[i]);
            o->json = 1;
        }
    }
    return 0;
}

/* --init gaussian | sine:K | file:PATH; the last --init wins, so a
 * path from an earlier one is forgotten. */
static int parse_init(msg m, const char *v, cli_options *o)
{
    o->init_path = NULL;
    if (strcmp(v, "gaussian") == 0) {
        o->init = INIT_GAUSSIAN;
        return 0;
    }
    if (strncmp(v, "sine:", 5) == 0) {
        o->init = INIT_SINE;
        return parse_int64(m, "--init sine:K", v + 5, 1, INT64_C(1) << 48, &o->sine_k);
    }
    if (strncmp(v, "file:", 5) == 0 && v[5] != '\0') {
        o->init = INIT_FILE;
        o->init_path = v + 5;
        return 0;
    }
    return usage_error(m, "invalid value '%s' for --init: expected gaussian, sine:K or file:PATH.npy", v);
}

/* One option `a` with its value v (NULL for a flag) for command o->command.
 * Returns 0, or EXIT_USAGE after printing why. */
static int parse_option(msg m, const char *a, const char *v, cli_options *o)
{
    int64_t x = 0;
    int rc = 0;
    if (strcmp(a, "--kernel") == 0) {
        hpl_status s = o->command == CMD_DIFFUSION ? hpl_diffusion_kernel_from_name(v, &o->dkernel)
                                                   : hpl_triangles_kernel_from_name(v, &o->tkernel);
        if (s != HPL_OK)
            return usage_error(m, "invalid value for --kernel: %s", hpl_last_error());
    } else if (strcmp(a, "--n") == 0) {
        rc = parse_int64(m, a, v, HPL_DIFFUSION_N_MIN, INT64_C(1) << 48, &o->n);
        o->n_set = 1;
    } else if (strcmp(a, "--steps") == 0) {
        rc = parse_int64(m, a, v, 0, INT64_MAX / 2, &o->steps);
    } else if (strcmp(a, "--r") == 0) {
        rc = parse_r(m, v, &o->r);
    } else if (strcmp(a, "--init") == 0) {
        rc = parse_init(m, v, o);
    } else if (strcmp(a, "--output") == 0) {
        o->output = v;
    } else if (strcmp(a, "--N") == 0) {
        rc = parse_int64(m, a, v, HPL_TRIANGLES_N_MIN, HPL_TRIANGLES_N_MAX, &o->N);
    } else if (strcmp(a, "--counts") == 0) {
        o->counts_path = v;
    } else if (strcmp(a, "--threads") == 0) {
        rc = parse_int64(m, a, v, 1, HPL_THREADS_MAX, &x);
        o->threads = (int)x;
    } else if (strcmp(a, "--repeats") == 0) {
        rc = parse_int64(m, a, v, 1, 1000000, &x);
        o->repeats = (int)x;
    } else if (strcmp(a, "--json") == 0) {
        o->json = 1;
    } else if (strcmp(a, "--quiet") == 0) {
        o->quiet = 1;
    }
    return rc;
}

int cli_parse_args(int argc, char **argv, cli_options *o, char *err, size_t errlen)
{
    msg m = {err, errlen};
    set_defaults(o);
    if (errlen > 0)
        err[0] = '\0';
    if (argc < 2)
        return EXIT_USAGE; /* no message: the caller prints the help */
    int rc = parse_command(m, argc, argv, o);
    if (rc != 0 || (o->command != CMD_DIFFUSION && o->command != CMD_TRIANGLES))
        return rc;
    const char *cmd = argv[1];
    int mask = o->command == CMD_DIFFUSION ? FOR_D : FOR_T;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        size_t k, nopt = sizeof options / sizeof options[0];
        for (k = 0; k < nopt; k++)
            if (strcmp(a, options[k].name) == 0)
                break;
        if (k == nopt)
            return usage_error(m, "unknown option '%s' for %s", a, cmd);
        if (!(options[k].commands & mask))
            return usage_error(m, "option %s does not apply to %s", a, cmd);
        if (strcmp(a, "--help") == 0) {
            o->help_topic = o->command;
            o->command = CMD_HELP;
            return 0;
        }
        const char *v = NULL;
        if (options[k].takes_value) {
            if (i + 1 >= argc)
                return usage_error(m, "option %s needs a value", a);
            v = argv[++i];
        }
        if ((rc = parse_option(m, a, v, o)) != 0)
            return rc;
    }
    if (o->command == CMD_DIFFUSION && o->init == INIT_SINE && o->sine_k > o->n - 2)
        return usage_error(m, "invalid sine mode for --init: K must be in [1, n-2] = [1, %lld]",
                           (long long)(o->n - 2));
    return 0;
}

int cli_parse(int argc, char **argv, cli_options *o)
{
    char err[4096];
    int rc = cli_parse_args(argc, argv, o, err, sizeof err);
    if (rc != 0 && err[0] == '\0')
        cli_print_help(stderr, CMD_NONE);
    else if (rc != 0)
        fprintf(stderr, "hpcladder-c: %s\nTry 'hpcladder-c --help'.\n", err);
    return rc;
}
