/* cli.h - internals of the hpcladder-c command-line program: options,
 * .npy files, self-verification.  Exit codes: 0 PASSED, 1 self-verification
 * FAILED, 2 usage error (nothing run, nothing written), 3 runtime error. */
#ifndef HPCLADDER_CLI_H
#define HPCLADDER_CLI_H

#include "hpcladder/hpcladder.h"

#include <stdio.h>

enum { EXIT_PASSED = 0, EXIT_VERIFY_FAILED = 1, EXIT_USAGE = 2, EXIT_RUNTIME = 3 };

/* Size of the message buffers the drivers pass as err. */
#define ERRLEN 512

typedef enum { CMD_NONE, CMD_DIFFUSION, CMD_TRIANGLES, CMD_HELP, CMD_VERSION, CMD_LIST } cli_command;
typedef enum { INIT_GAUSSIAN, INIT_SINE, INIT_FILE } cli_init;

typedef struct cli_options {
    cli_command command;
    cli_command help_topic; /* for `hpcladder-c diffusion --help` */
    /* diffusion */
    hpl_diffusion_kernel dkernel;
    int64_t n, steps;
    int n_set; /* --n given explicitly */
    double r;
    cli_init init;
    int64_t sine_k;
    const char *init_path;
    const char *output;
    /* triangles */
    hpl_triangles_kernel tkernel;
    int64_t N;
    const char *counts_path;
    /* both */
    int threads;
    int repeats;
    int json;
    int quiet;
} cli_options;

/* Parse argv into *o, printing nothing.  Returns 0, or EXIT_USAGE with one
 * message in err naming the option and what it accepts (err is "" when
 * argv has no command at all, for which the CLI prints its help).  The
 * options set on 0 are within the ranges --help states. */
int cli_parse_args(int argc, char **argv, cli_options *o, char *err, size_t errlen);
/* cli_parse_args, then on a usage error "hpcladder-c: <message>" and a
 * hint (or the help) on stderr: what the CLI does. */
int cli_parse(int argc, char **argv, cli_options *o);
void cli_print_help(FILE *f, cli_command topic);

/* .npy files (format 1.0, little-endian, C order, 1-D).  The writers write
 * to a short hidden temporary file beside path (.hpcladder-XXXXXX, created
 * with O_EXCL) and rename it, so a failure never leaves a half-written file
 * and any name the folder accepts can be written.  Return 0 on success,
 * else -1 with a message in err. */
int npy_write_f64(const char *path, const double *a, int64_t n, char *err, size_t errlen);
int npy_write_u32(const char *path, const uint32_t *a, int64_t n, char *err, size_t errlen);
/* Read a 1-D float64 array of 3 <= n <= 2^48 values from a regular file;
 * *out is malloc'ed.  The header must be exactly what the format says (the
 * keys descr '<f8', fortran_order and shape, each once) and the file exactly
 * as long as the header promises, which is checked before allocating.  -1
 * and a message naming the file and the fault on error. */
int npy_read_f64(const char *path, double **out, int64_t *n, char *err, size_t errlen);
/* The same from an open descriptor (read with pread, so its offset is not
 * used); name is what messages call it.  The fuzz target enters here. */
int npy_read_f64_fd(int fd, const char *name, double **out, int64_t *n, char *err, size_t errlen);
/* Check, before a run, that path can be written at its end: a file name the
 * file system accepts, in a folder where the temporary file can be created,
 * and not an existing read-only file or non-file.  Leaves nothing behind. */
int npy_check_writable(const char *path, char *err, size_t errlen);

/* One self-verification check. */
typedef struct check_result {
    char name[32];
    char detail[160]; /* what was compared, e.g. "naive, 2000 steps" */
    int ok;
    double error, tolerance;
} check_result;

#define MAX_CHECKS 8

/* Diffusion: checks the final field u (from u0 by kernel k) against the
 * exact sine-mode decay, an independent kernel and the fixed ends.
 * Returns the number of checks written to out, or -1 on a runtime error
 * (message in err). */
int verify_diffusion(const cli_options *o, const double *u0, const double *u, check_result *out, char *err,
                     size_t errlen);
/* Triangles: checks counts against brute on a prefix, another kernel on the
 * whole array, and the known answers. */
int verify_triangles(const cli_options *o, const uint32_t *counts, check_result *out, char *err, size_t errlen);

/* Timings of the repeats and their summary (record.c). */
typedef struct cli_timing {
    double *seconds; /* one per repeat */
    double min, median;
} cli_timing;

/* Set t->min and t->median from t->seconds[0..repeats-1].  0, or -1 if
 * out of memory (t unchanged). */
int cli_summarise(cli_timing *t, int repeats);

/* 1 if every one of nc >= 1 checks passed. */
int cli_all_ok(const check_result *c, int nc);

/* Test hook: HPCLADDER_CLI_INJECT_FAULT=1 corrupts the result after timing,
 * so that tests can see a wrong result come out FAILED with exit code 1. */
int cli_fault_injected(void);

/* What a driver adds to hpcladder-c's record (hpcladder-c-mpi: ranks, halo,
 * split, init and gather times); NULL or zeros for nothing. */
typedef struct cli_record_extra {
    const char *label;           /* readable, after the kernel: "inside 2 ranks, halo 64" */
    const char *json;            /* JSON members after "threads": "\"ranks\": 2, \"halo\": 64" */
    int nseconds;                /* timings after plan_seconds (triangles: after the repeats) */
    const char *seconds_keys[4]; /* their JSON keys: "init_seconds" */
    const char *seconds_names[4]; /* their readable names: "init/scatter" */
    double seconds[4];
} cli_record_extra;

/* Print a diffusion run's result (the final field u of o->n values, its
 * timings, checks and verdict): one JSON object with o->json, else the
 * readable summary ending in "VERDICT: PASSED|FAILED". */
void cli_print_diffusion(const cli_options *o, double plan_seconds, const cli_timing *t, const double *u,
                         const check_result *checks, int nc, int passed, const cli_record_extra *x);
/* The same for triangles (counts[0..o->N-1] and the best perimeter). */
void cli_print_triangles(const cli_options *o, const cli_timing *t, const uint32_t *counts, int64_t best_p,
                         uint32_t best_count, const check_result *checks, int nc, int passed,
                         const cli_record_extra *x);

/* The end of a run, shared by hpcladder-c and hpcladder-c-mpi (rank 0):
 * summarise t, verify (with the test hook's fault injected first), write
 * --output / --counts, print the record (with x, which may be NULL).
 * Returns the exit code: EXIT_PASSED, EXIT_VERIFY_FAILED, or EXIT_RUNTIME
 * after a message "PROG: ..." on stderr. */
int cli_finish_diffusion(const char *prog, const cli_options *o, double plan_seconds, cli_timing *t,
                         const double *u0, double *u, const cli_record_extra *x);
int cli_finish_triangles(const char *prog, const cli_options *o, cli_timing *t, uint32_t *counts, int64_t best_p,
                         uint32_t best_count, const cli_record_extra *x);

/* JSON output (json.c): s as a JSON string (quotes, backslashes and control
 * characters escaped); x as %.17g, which round-trips, or null if it is not
 * finite (JSON has no NaN or Infinity). */
void cli_json_string(FILE *f, const char *s);
void cli_json_double(FILE *f, double x);

#endif
