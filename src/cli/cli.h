/* cli.h - internals of the hpcladder-c command-line program: options,
 * .npy files, self-verification.  Exit codes: 0 PASSED, 1 self-verification
 * FAILED, 2 usage error (nothing run, nothing written), 3 runtime error. */
#ifndef HPCLADDER_CLI_H
#define HPCLADDER_CLI_H

#include "hpcladder/hpcladder.h"

#include <stdio.h>

enum { EXIT_PASSED = 0, EXIT_VERIFY_FAILED = 1, EXIT_USAGE = 2, EXIT_RUNTIME = 3 };

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

/* Parse argv into *o.  On a usage error prints one message naming the
 * option and what it accepts to stderr and returns EXIT_USAGE; else 0. */
int cli_parse(int argc, char **argv, cli_options *o);
void cli_print_help(FILE *f, cli_command topic);

/* .npy files (format 1.0, little-endian, C order, 1-D).  The writers write
 * to a temporary file beside path and rename it, so a failure never leaves
 * a half-written file.  Return 0 on success, else -1 with a message in err. */
int npy_write_f64(const char *path, const double *a, int64_t n, char *err, size_t errlen);
int npy_write_u32(const char *path, const uint32_t *a, int64_t n, char *err, size_t errlen);
/* Read a 1-D float64 array; *out is malloc'ed.  -1 and a message on error. */
int npy_read_f64(const char *path, double **out, int64_t *n, char *err, size_t errlen);
/* Check that path can be created (its folder exists and is writable). */
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

#endif
