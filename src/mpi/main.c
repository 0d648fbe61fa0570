/* main.c - hpcladder-c-mpi: hpcladder-c's workloads over MPI ranks, launched
 * as `mpirun -np K hpcladder-c-mpi ...`.  Takes hpcladder-c's options (parsed
 * by the same hpcladder_cli code) plus --halo D (diffusion's ghost depth)
 * and --split cyclic|balanced (triangles).  Rank 0 prints the same record as
 * hpcladder-c, with "ranks" added, writes --output/--counts and verifies;
 * every rank exits with rank 0's exit code. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "hpcladder/mpi.h"

#include <stdlib.h>
#include <string.h>

#define PROG "hpcladder-c-mpi"

typedef struct mpi_options {
    int64_t halo; /* 0: hpl_mpi_diffusion_default_halo for n and the rank count */
    hpl_mpi_split split;
    int kernel_set; /* --kernel given */
    int rank, size;
} mpi_options;

/* Remove --halo D and --split S from argv (they are ours), so that the rest
 * is hpcladder-c's command line.  0 or EXIT_USAGE (message printed by rank 0). */
static int take_mpi_options(int *argc, char **argv, mpi_options *m)
{
    int out = 1;
    m->halo = 0;
    m->split = HPL_MPI_SPLIT_BALANCED;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--kernel") == 0)
            m->kernel_set = 1;
        if (strcmp(argv[i], "--halo") == 0 || strcmp(argv[i], "--split") == 0) {
            if (i + 1 >= *argc) {
                if (m->rank == 0)
                    fprintf(stderr, PROG ": option %s needs a value\n", argv[i]);
                return EXIT_USAGE;
            }
            const char *v = argv[i + 1];
            if (argv[i][2] == 'h') {
                char *end = NULL;
                long long d = strtoll(v, &end, 10);
                if (end == v || *end != '\0' || d < 1 || d > 1000000000LL) {
                    if (m->rank == 0)
                        fprintf(stderr, PROG ": invalid value for --halo: '%s' (an integer in [1, 1000000000])\n", v);
                    return EXIT_USAGE;
                }
                m->halo = d;
            } else if (strcmp(v, "cyclic") == 0 || strcmp(v, "balanced") == 0) {
                m->split = v[0] == 'c' ? HPL_MPI_SPLIT_CYCLIC : HPL_MPI_SPLIT_BALANCED;
            } else {
                if (m->rank == 0)
                    fprintf(stderr, PROG ": invalid value for --split: '%s' (allowed: cyclic, balanced)\n", v);
                return EXIT_USAGE;
            }
            i++;
            continue;
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

/* rank 0's exit code to every rank. */
static int share_rc(int rc)
{
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return rc;
}

static int mpi_fail(const mpi_options *m, const char *what, hpl_status s)
{
    if (m->rank == 0)
        fprintf(stderr, PROG ": %s: %s\n", what, hpl_mpi_last_error());
    return (s == HPL_EINVAL || s == HPL_EUNAVAILABLE || s == HPL_EOVERFLOW) ? EXIT_USAGE : EXIT_RUNTIME;
}

/* Time f over all ranks: a barrier, then the slowest rank's seconds. */
#define TIMED(secs, call)                                                                                  \
    do {                                                                                                   \
        MPI_Barrier(MPI_COMM_WORLD);                                                                       \
        double t0_ = MPI_Wtime();                                                                          \
        s = (call);                                                                                        \
        double dt_ = MPI_Wtime() - t0_;                                                                    \
        MPI_Allreduce(&dt_, &(secs), 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);                              \
    } while (0)

/* Rank 0: what this program adds to the record, then cli_finish_diffusion. */
static int finish_diffusion(const cli_options *o, const mpi_options *m, const hpl_mpi_diffusion_plan *plan,
                            const double *u0, double *u, cli_timing *t, double init_s, double gather_s)
{
    char label[96], json[96];
    snprintf(label, sizeof label, "inside %d ranks, halo %lld", m->size, (long long)m->halo);
    snprintf(json, sizeof json, "\"ranks\": %d, \"halo\": %lld", m->size, (long long)m->halo);
    cli_record_extra x = {.label = label,
                          .json = json,
                          .nseconds = 2,
                          .seconds_keys = {"init_seconds", "gather_seconds"},
                          .seconds_names = {"init/scatter", "gather"},
                          .seconds = {init_s, gather_s}};
    return cli_finish_diffusion(PROG, o, hpl_mpi_diffusion_plan_seconds(plan), t, u0, u, &x);
}

/* Rank 0: the whole initial field (for --init file: read it; n to all). */
static int initial_field(cli_options *o, const mpi_options *m, double **u0)
{
    char err[ERRLEN] = "";
    int rc = 0;
    int64_t n = o->n;
    if (m->rank == 0) {
        if (o->output && npy_check_writable(o->output, err, sizeof err) != 0) {
            fprintf(stderr, PROG ": invalid value for --output: %s\n", err);
            rc = EXIT_USAGE;
        } else if (o->init == INIT_FILE) {
            if (npy_read_f64(o->init_path, u0, &n, err, sizeof err) != 0) {
                fprintf(stderr, PROG ": invalid value for --init: %s\n", err);
                rc = EXIT_USAGE;
            } else if (o->n_set && n != o->n) {
                fprintf(stderr, PROG ": --n %lld contradicts --init file:%s, which holds %lld values\n",
                        (long long)o->n, o->init_path, (long long)n);
                rc = EXIT_USAGE;
            }
        } else if ((*u0 = malloc((size_t)o->n * sizeof(double))) == NULL) {
            fprintf(stderr, PROG ": out of memory for a field of n = %lld doubles\n", (long long)o->n);
            rc = EXIT_RUNTIME;
        } else {
            hpl_status s = o->init == INIT_SINE ? hpl_diffusion_init_sine(o->n, o->sine_k, *u0)
                                                : hpl_diffusion_init_gaussian(o->n, *u0);
            if (s != HPL_OK) {
                fprintf(stderr, PROG ": invalid value for --init: %s\n", hpl_last_error());
                rc = EXIT_USAGE;
            }
        }
    }
    rc = share_rc(rc);
    MPI_Bcast(&n, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
    o->n = n;
    return rc;
}

static int run_diffusion(cli_options *o, mpi_options *m)
{
    double *u0 = NULL, *u = NULL;
    hpl_mpi_diffusion_plan *plan = NULL;
    cli_timing t = {.seconds = calloc((size_t)o->repeats, sizeof(double))};
    double init_s = 0.0, gather_s = 0.0;
    hpl_status s;
    int rc = initial_field(o, m, &u0);
    if (rc != 0)
        goto done;
    if (m->halo == 0) /* n is known only now (--init file) */
        m->halo = hpl_mpi_diffusion_default_halo(o->n, m->size);
    hpl_diffusion_params p = {.n = o->n, .r = o->r, .steps = o->steps, .threads = o->threads};
    if ((s = hpl_mpi_diffusion_plan_create(MPI_COMM_WORLD, o->dkernel, &p, m->halo, &plan)) != HPL_OK) {
        rc = mpi_fail(m, "cannot set up the problem", s);
        goto done;
    }
    if (m->rank == 0 && (u = malloc((size_t)o->n * sizeof(double))) == NULL)
        rc = EXIT_RUNTIME;
    if (t.seconds == NULL)
        rc = EXIT_RUNTIME;
    if ((rc = share_rc(rc)) != 0) {
        if (m->rank == 0)
            fprintf(stderr, PROG ": out of memory for a field of n = %lld doubles\n", (long long)o->n);
        goto done;
    }
    for (int i = 0; i < o->repeats; i++) {
        /* set-up, timed apart: each rank its own block, or a scatter */
        if (o->init == INIT_FILE)
            TIMED(init_s, hpl_mpi_diffusion_scatter(plan, u0, 0));
        else if (o->init == INIT_SINE)
            TIMED(init_s, hpl_mpi_diffusion_init_sine(plan, o->sine_k));
        else
            TIMED(init_s, hpl_mpi_diffusion_init_gaussian(plan));
        if (s != HPL_OK) {
            rc = mpi_fail(m, "invalid value for --init", s);
            goto done;
        }
        TIMED(t.seconds[i], hpl_mpi_diffusion_plan_execute(plan));
        if (s != HPL_OK) {
            rc = mpi_fail(m, "the solve failed", s);
            goto done;
        }
    }
    TIMED(gather_s, hpl_mpi_diffusion_gather(plan, u, 0));
    if (s != HPL_OK) {
        rc = mpi_fail(m, "the gather failed", s);
        goto done;
    }
    if (m->rank == 0)
        rc = finish_diffusion(o, m, plan, u0, u, &t, init_s, gather_s);
    rc = share_rc(rc);
done:
    hpl_mpi_diffusion_plan_destroy(plan);
    free(u0);
    free(u);
    free(t.seconds);
    return rc;
}

static int finish_triangles(const cli_options *o, const mpi_options *m, uint32_t *counts, cli_timing *t,
                            int64_t best_p, uint32_t best_count)
{
    const char *split = hpl_mpi_split_name(m->split);
    char label[96], json[96];
    snprintf(label, sizeof label, "inside %d ranks, %s split", m->size, split);
    snprintf(json, sizeof json, "\"ranks\": %d, \"split\": \"%s\"", m->size, split);
    cli_record_extra x = {.label = label, .json = json};
    return cli_finish_triangles(PROG, o, t, counts, best_p, best_count, &x);
}

static int run_triangles(cli_options *o, const mpi_options *m)
{
    char err[ERRLEN] = "";
    uint32_t *counts = NULL;
    cli_timing t = {.seconds = calloc((size_t)o->repeats, sizeof(double))};
    int rc = 0;
    if (!m->kernel_set)
        o->tkernel = HPL_TRIANGLES_DIRECT; /* hpcladder-c's default, euclid, does not split by perimeter */
    if (m->rank == 0) {
        if (o->counts_path && npy_check_writable(o->counts_path, err, sizeof err) != 0) {
            fprintf(stderr, PROG ": invalid value for --counts: %s\n", err);
            rc = EXIT_USAGE;
        } else if ((counts = malloc((size_t)o->N * sizeof(uint32_t))) == NULL) {
            fprintf(stderr, PROG ": out of memory for N = %lld counts\n", (long long)o->N);
            rc = EXIT_RUNTIME;
        }
    }
    if (t.seconds == NULL)
        rc = EXIT_RUNTIME;
    if ((rc = share_rc(rc)) != 0)
        goto done;
    int64_t best_p = 0;
    uint32_t best_count = 0;
    hpl_status s;
    for (int i = 0; i < o->repeats; i++) {
        TIMED(t.seconds[i],
              hpl_mpi_triangles_count(MPI_COMM_WORLD, o->tkernel, o->N, m->split, 0, counts, &best_p, &best_count));
        if (s != HPL_OK) {
            rc = mpi_fail(m, "the count failed", s);
            goto done;
        }
    }
    if (m->rank == 0)
        rc = finish_triangles(o, m, counts, &t, best_p, best_count);
    rc = share_rc(rc);
done:
    free(counts);
    free(t.seconds);
    return rc;
}

/* --list: which kernels of this library run inside ranks. */
static void list_kernels(void)
{
    printf("diffusion kernels inside ranks (1D blocks, ghost zones of depth --halo, exchanged every halo steps):\n");
    for (int k = 0; k < hpl_diffusion_kernel_count(); k++) {
        const char *why = "";
        int built = hpl_diffusion_kernel_available((hpl_diffusion_kernel)k, &why);
        int fits = k != HPL_DIFFUSION_SPECTRAL && hpl_diffusion_kernel_data((hpl_diffusion_kernel)k) == HPL_DATA_HOST;
        printf("  %-13s %s%s\n", hpl_diffusion_kernel_name((hpl_diffusion_kernel)k),
               !fits ? "not inside ranks: it does not step" : built ? "built" : "not built: ", fits && !built ? why : "");
    }
    printf("triangles kernels inside ranks (perimeters split cyclic or balanced, counts summed by MPI_Reduce):\n");
    for (int k = 0; k < hpl_triangles_kernel_count(); k++) {
        int fits = hpl_mpi_triangles_kernel_supported((hpl_triangles_kernel)k);
        printf("  %-13s %s\n", hpl_triangles_kernel_name((hpl_triangles_kernel)k),
               fits ? "built" : "not inside ranks: it does not count one perimeter at a time");
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    mpi_options m = {0};
    MPI_Comm_rank(MPI_COMM_WORLD, &m.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &m.size);
    cli_options o;
    char err[ERRLEN] = "";
    int rc = take_mpi_options(&argc, argv, &m);
    if (rc == 0 && (rc = cli_parse_args(argc, argv, &o, err, sizeof err)) != 0 && m.rank == 0) {
        if (*err)
            fprintf(stderr, PROG ": %s\n", err);
        else
            cli_print_help(stderr, CMD_NONE);
    }
    if (rc == 0) {
        switch (o.command) {
        case CMD_HELP:
            if (m.rank == 0) {
                cli_print_help(stdout, o.help_topic);
                printf("\nhpcladder-c-mpi adds: --halo D (diffusion: ghost depth, ranks talk every D steps; every "
                       "rank must hold at least D points; default %d, or the smallest block n/ranks when that is "
                       "smaller) and --split cyclic|balanced (triangles; default balanced).\n",
                       HPL_MPI_HALO_DEFAULT);
            }
            break;
        case CMD_VERSION:
            if (m.rank == 0)
                printf(PROG " %s (libhpcladder %s)\n", HPCLADDER_VERSION, hpl_version());
            break;
        case CMD_LIST:
            if (m.rank == 0)
                list_kernels();
            break;
        case CMD_DIFFUSION: rc = run_diffusion(&o, &m); break;
        case CMD_TRIANGLES: rc = run_triangles(&o, &m); break;
        default: rc = EXIT_USAGE;
        }
    }
    if (m.rank == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, PROG ": cannot write the result to standard output\n");
        rc = EXIT_RUNTIME;
    }
    MPI_Finalize();
    return rc;
}
