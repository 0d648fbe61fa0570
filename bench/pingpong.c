/* pingpong.c - the standard MPI ping-pong between ranks 0 and 1: latency of
 * small messages, bandwidth of large ones.
 *
 * For each message size (powers of two from MIN to MAX bytes, default
 * 8 B .. 8 MiB), rank 0 sends the message to rank 1 with MPI_Send and waits
 * for it back with MPI_Recv; rank 1 echoes.  After a few warm-up round
 * trips, BATCHES batches of ITERS round trips are timed with MPI_Wtime; a
 * batch gives the one-way time as (batch time) / (2 ITERS).  Reported per
 * size: the best batch (least disturbed by other processes on a shared
 * machine) and the mean over all batches; bandwidth = bytes / one-way time.
 * ITERS shrinks with the size so that each batch moves about 64 MiB (at least
 * 4 and at most 1000 round trips).  Ranks other than 0 and 1 only wait.
 *
 * Output (rank 0, stdout): one JSON object
 *   {"ranks": P, "host0": ..., "host1": ..., "batches": B,
 *    "sizes": [...], "iters": [...], "oneway_us_min": [...], "oneway_us_mean": [...],
 *    "mbytes_per_s_max": [...]}      (MB = 1e6 bytes)
 * and with --table a human-readable table on stderr.
 *
 * Usage: mpirun -np 2 pingpong [--min BYTES] [--max BYTES] [--batches B] [--table]
 * Build: mpicc -O2 -o pingpong pingpong.c   (bench/bench_mpi.py does this) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long parse_long(const char *s, const char *what)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1) {
        fprintf(stderr, "pingpong: %s must be a positive integer, got '%s'\n", what, s);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    return v;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long min = 8, max = 8L << 20, batches = 5;
    int table = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--table"))
            table = 1;
        else if (i + 1 < argc && !strcmp(argv[i], "--min"))
            min = parse_long(argv[++i], "--min");
        else if (i + 1 < argc && !strcmp(argv[i], "--max"))
            max = parse_long(argv[++i], "--max");
        else if (i + 1 < argc && !strcmp(argv[i], "--batches"))
            batches = parse_long(argv[++i], "--batches");
        else {
            if (rank == 0)
                fprintf(stderr, "usage: mpirun -np 2 pingpong [--min BYTES] [--max BYTES] [--batches B] [--table]\n");
            MPI_Finalize();
            return 2;
        }
    }
    if (size < 2) {
        if (rank == 0)
            fprintf(stderr, "pingpong: needs at least 2 ranks, got %d\n", size);
        MPI_Finalize();
        return 2;
    }
    if (min > max) {
        if (rank == 0)
            fprintf(stderr, "pingpong: --min %ld is above --max %ld\n", min, max);
        MPI_Finalize();
        return 2;
    }
    char *buf = malloc((size_t)max);
    if (buf == NULL) {
        fprintf(stderr, "pingpong: rank %d: out of memory for %ld bytes\n", rank, max);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    memset(buf, rank + 1, (size_t)max);

    char names[2][MPI_MAX_PROCESSOR_NAME];
    int len;
    MPI_Get_processor_name(names[0], &len);
    if (rank == 1)
        MPI_Send(names[0], MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, 9, MPI_COMM_WORLD);
    else if (rank == 0)
        MPI_Recv(names[1], MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 1, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE);

    int nsizes = 0;
    for (long s = min; s <= max; s *= 2)
        nsizes++;
    double *best = malloc(sizeof(double) * (size_t)nsizes), *mean = malloc(sizeof(double) * (size_t)nsizes);
    long *iters_of = malloc(sizeof(long) * (size_t)nsizes);
    if (best == NULL || mean == NULL || iters_of == NULL)
        MPI_Abort(MPI_COMM_WORLD, 1);

    int k = 0;
    for (long s = min; s <= max; s *= 2, k++) {
        long iters = (64L << 20) / s;
        iters = iters < 4 ? 4 : iters > 1000 ? 1000 : iters;
        iters_of[k] = iters;
        double sum = 0.0, b = 1e300;
        for (long batch = -1; batch < batches; batch++) { /* batch -1: warm-up */
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            for (long i = 0; i < iters; i++) {
                if (rank == 0) {
                    MPI_Send(buf, (int)s, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
                    MPI_Recv(buf, (int)s, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                } else if (rank == 1) {
                    MPI_Recv(buf, (int)s, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                    MPI_Send(buf, (int)s, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
                }
            }
            double oneway = (MPI_Wtime() - t0) / (2.0 * (double)iters);
            if (batch >= 0) {
                sum += oneway;
                b = oneway < b ? oneway : b;
            }
        }
        best[k] = b;
        mean[k] = sum / (double)batches;
    }

    if (rank == 0) {
        printf("{\"ranks\": %d, \"host0\": \"%s\", \"host1\": \"%s\", \"batches\": %ld, \"sizes\": [", size, names[0],
               names[1], batches);
        for (int j = 0; j < nsizes; j++)
            printf("%s%ld", j ? ", " : "", min << j);
        printf("], \"iters\": [");
        for (int j = 0; j < nsizes; j++)
            printf("%s%ld", j ? ", " : "", iters_of[j]);
        printf("], \"oneway_us_min\": [");
        for (int j = 0; j < nsizes; j++)
            printf("%s%.4f", j ? ", " : "", best[j] * 1e6);
        printf("], \"oneway_us_mean\": [");
        for (int j = 0; j < nsizes; j++)
            printf("%s%.4f", j ? ", " : "", mean[j] * 1e6);
        printf("], \"mbytes_per_s_max\": [");
        for (int j = 0; j < nsizes; j++)
            printf("%s%.2f", j ? ", " : "", (double)(min << j) / best[j] / 1e6);
        printf("]}\n");
        if (table) {
            fprintf(stderr, "%12s %8s %14s %14s %12s\n", "bytes", "iters", "one-way min", "one-way mean", "MB/s");
            for (int j = 0; j < nsizes; j++)
                fprintf(stderr, "%12ld %8ld %11.2f us %11.2f us %12.1f\n", min << j, iters_of[j], best[j] * 1e6,
                        mean[j] * 1e6, (double)(min << j) / best[j] / 1e6);
        }
    }
    free(best);
    free(mean);
    free(iters_of);
    free(buf);
    MPI_Finalize();
    return 0;
}
