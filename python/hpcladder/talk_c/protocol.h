/* protocol.h - the small protocol layer around the talk's C programs
 * (hpcladder's rung protocol v1, docs/protocol.md): the options, the clock,
 * the .npy result file and the one-line JSON record.
 *
 * It is compiled apart from the talk's code, always at -O2, so that the
 * flags being measured (-O0 ... -Ofast) change the talk's loops only; the
 * program is linked with those flags, as the talk's one-file program was
 * (with gcc, -Ofast then also links crtfastmath.o: denormals flush to zero
 * for the whole process, which is part of what -Ofast does). */
#ifndef TALK_PROTOCOL_H
#define TALK_PROTOCOL_H

#include <stdint.h>

/* Exit codes of the protocol: 0 ran, 2 usage error, 3 SKIPPED. */
#define TP_EXIT_USAGE 2
#define TP_EXIT_SKIPPED 3
#define TP_MAX_REPEATS 1000

typedef struct {
    const char *workload;   /* "diffusion" or "triangles" */
    const char *rung;       /* --rung ID, for the record (default "c-talk") */
    int64_t n, steps, N;    /* sizes (n, steps: diffusion; N: triangles) */
    double r;               /* kappa*dt/dx^2 */
    int repeats;
    int json;
    const char *output;     /* --output / --counts: the .npy result file */
} tp_options;

/* Parse the protocol's options for `workload` (argv[1] must name it).
 * Unknown options are accepted and ignored (with their value, if the next
 * argument does not start with "--").  Returns 0, or exits with 2 and a
 * message on stderr for a bad value. */
void tp_parse(int argc, char **argv, const char *workload, tp_options *o);

/* Print {"skipped": why, "install": how} and exit with 3 (SKIPPED). */
void tp_skip(const tp_options *o, const char *why, const char *install);

/* Seconds on a monotonic clock. */
double tp_now(void);

/* Write a 1-D .npy file: float64 (descr "<f8") or uint32 ("<u4"); exits with
 * 1 and a message if it cannot. */
void tp_write_f8(const char *path, const double *v, int64_t n);
void tp_write_u4(const char *path, const uint32_t *v, int64_t n);

/* The JSON record (or a human line without --json): the timings, the
 * sizes and the result's summary, computed here. */
void tp_record_diffusion(const tp_options *o, const double *seconds, const double *u);
void tp_record_triangles(const tp_options *o, const double *seconds, const uint32_t *counts);

/* Allocation that exits with a message when out of memory. */
void *tp_alloc(int64_t count, int64_t size);

#endif
