/* fuzz_args.c - libFuzzer target for hpcladder-c's option parser: the input
 * is split into arguments at NUL or newline bytes (a final separator ends
 * the last argument, an empty input is no argument; empty arguments are
 * kept) and given, after the
 * program name, to cli_parse_args, the parser the CLI runs.  Each argument
 * is its own allocation of its exact size, so that reading past one is an
 * ASan error.  Beyond the sanitizers it checks what the parser promises:
 * 0 or EXIT_USAGE; a usage error has a one-line message; options accepted
 * are within the ranges --help states. */
#include "cli.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static void fail(const char *why, const char *err)
{
    fprintf(stderr, "fuzz_args: %s (message: '%s')\n", why, err);
    abort();
}

/* The options of an accepted command line against the documented ranges. */
static void check_options(const cli_options *o, const char *err)
{
    if (o->command == CMD_HELP || o->command == CMD_VERSION || o->command == CMD_LIST)
        return;
    if (o->command != CMD_DIFFUSION && o->command != CMD_TRIANGLES)
        fail("accepted without a command", err);
    if (o->threads < 1 || o->threads > HPL_THREADS_MAX || o->repeats < 1 || o->repeats > 1000000)
        fail("--threads or --repeats out of range", err);
    if (o->command == CMD_TRIANGLES) {
        if (o->N < HPL_TRIANGLES_N_MIN || o->N > HPL_TRIANGLES_N_MAX || hpl_triangles_kernel_name(o->tkernel) == NULL)
            fail("--N or --kernel out of range", err);
        return;
    }
    if (o->n < HPL_DIFFUSION_N_MIN || o->n > (INT64_C(1) << 48) || o->steps < 0 || !(o->r > 0.0 && o->r <= 0.5) ||
        hpl_diffusion_kernel_name(o->dkernel) == NULL)
        fail("--n, --steps, --r or --kernel out of range", err);
    if (o->init == INIT_SINE && (o->sine_k < 1 || o->sine_k > o->n - 2))
        fail("--init sine:K out of [1, n-2]", err);
    if (o->init == INIT_FILE && (o->init_path == NULL || o->init_path[0] == '\0'))
        fail("--init file: without a path", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_ARGS + 2] = {"hpcladder-c"};
    int argc = 1;
    size_t start = 0;
    for (size_t i = 0; i <= size && argc <= MAX_ARGS; i++) {
        if (i < size && data[i] != '\0' && data[i] != '\n')
            continue;
        if (i == size && start == size)
            break; /* nothing after the last separator (or no input) */
        char *arg = malloc(i - start + 1);
        if (arg == NULL)
            abort();
        memcpy(arg, data + start, i - start);
        arg[i - start] = '\0';
        argv[argc++] = arg;
        start = i + 1;
    }
    argv[argc] = NULL;

    cli_options o;
    char err[4096];
    int rc = cli_parse_args(argc, argv, &o, err, sizeof err);
    if (rc != 0 && rc != EXIT_USAGE)
        fail("neither 0 nor EXIT_USAGE", err);
    if (rc == EXIT_USAGE && argc >= 2 && err[0] == '\0')
        fail("a usage error without a message", err);
    if (rc == EXIT_USAGE && strchr(err, '\n') != NULL)
        fail("a usage message of more than one line", err);
    if (rc == 0)
        check_options(&o, err);
    for (int i = 1; i < argc; i++)
        free(argv[i]);
    return 0;
}
