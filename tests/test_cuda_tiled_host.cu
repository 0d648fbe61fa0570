/* test_cuda_tiled_host.cu - cuda-tiled's blocking on the CPU: the kernel's
 * own per-thread functions (src/diffusion/cuda.cu, compiled here for the
 * host) run block by block and thread by thread, with the kernel's
 * exchange of edge values done in plain arrays, launch after launch, and
 * the field must equal serial's to the bit.  This tests the tile geometry,
 * the ghost zones, the fixed ends, the partial last launch and the
 * ping-pong on any machine; what it cannot test is the GPU's side of the
 * kernel (shared memory, the barrier), which tests/test_device.c checks
 * where there is a GPU.
 *
 * Usage: test_cuda_tiled_host [quick] */
#define HPL_CUDA_TILE_ONLY
#include "../src/diffusion/cuda.cu"

#include "check.h"
#include "hpcladder/hpcladder.h"

#include <stdlib.h>
#include <string.h>

/* One launch of tiled_steps: `steps` steps from a into b, every block as
 * the kernel does it.  first/last are the kernel's shared arrays; one
 * buffer is enough when the threads run one after another (the barrier
 * is the end of the first loop over threads). */
static void emulate_launch(const double *a, double *b, int64_t n, double r, int steps)
{
    static tile_thread th[TILE_THREADS];
    static double nv[TILE_THREADS][TILE_POINTS], first[TILE_THREADS], last[TILE_THREADS];
    const int64_t blocks = (n + TILE_OUT - 1) / TILE_OUT;
    for (int64_t block = 0; block < blocks; block++) {
        for (int t = 0; t < TILE_THREADS; t++)
            tile_load(&th[t], a, n, tile_origin(block) + (int64_t)t * TILE_POINTS);
        for (int s = 0; s < steps; s++) {
            for (int t = 0; t < TILE_THREADS; t++) {
                first[t] = th[t].v[0];
                last[t] = th[t].v[TILE_POINTS - 1];
                tile_interior(&th[t], nv[t], r);
            }
            /* __syncthreads(); then the neighbours' values, but NaN where
             * the kernel takes a thread's own value beyond the tile's ends:
             * a NaN reaching an output would mean ghost zones too shallow
             * (an own value's error is too small to show at the front) */
            for (int t = 0; t < TILE_THREADS; t++) {
                const double left = t > 0 ? last[t - 1] : NAN;
                const double right = t < TILE_THREADS - 1 ? first[t + 1] : NAN;
                tile_edges(&th[t], nv[t], left, right, r);
            }
        }
        for (int t = 0; t < TILE_THREADS; t++)
            tile_store(&th[t], b, n, tile_origin(block) + (int64_t)t * TILE_POINTS, t);
    }
}

/* tiled_advance on the host: ceil(steps / TILE_STEPS) launches between two
 * arrays; the field ends in u. */
static void emulate_advance(double *u, int64_t n, double r, int64_t steps)
{
    double *other = (double *)malloc((size_t)n * sizeof(double));
    /* poison: every entry of the target must be written by each launch */
    for (int64_t i = 0; i < n; i++)
        other[i] = NAN;
    double *a = u, *b = other;
    for (int64_t done = 0; done < steps;) {
        const int k = steps - done < TILE_STEPS ? (int)(steps - done) : TILE_STEPS;
        emulate_launch(a, b, n, r, k);
        double *tmp = a;
        a = b;
        b = tmp;
        done += k;
    }
    if (a != u)
        memcpy(u, a, (size_t)n * sizeof(double));
    free(other);
}

static void against_serial(int64_t n, int64_t steps, double r, int rough)
{
    double *u0 = (double *)malloc((size_t)n * sizeof(double)), *want = (double *)malloc((size_t)n * sizeof(double)),
           *got = (double *)malloc((size_t)n * sizeof(double));
    if (rough) {
        srand((unsigned)(n + steps));
        for (int64_t i = 0; i < n; i++)
            u0[i] = (double)rand() / RAND_MAX - 0.25 + 0.5 * sin(0.01 * (double)i);
        u0[0] = 1.5;
        u0[n - 1] = -0.75;
    } else {
        hpl_diffusion_init_gaussian(n, u0);
    }
    memcpy(want, u0, (size_t)n * sizeof(double));
    memcpy(got, u0, (size_t)n * sizeof(double));
    hpl_diffusion_params p = {n, r, steps, 1};
    CHECK(hpl_diffusion_solve(HPL_DIFFUSION_SERIAL, &p, want) == HPL_OK, "serial: %s", hpl_last_error());
    emulate_advance(got, n, r, steps);
    int64_t bad = -1;
    for (int64_t i = 0; i < n && bad < 0; i++)
        if (memcmp(&got[i], &want[i], sizeof(double)) != 0)
            bad = i;
    CHECK(bad < 0, "tiled (host) n=%lld steps=%lld r=%g: u[%lld] = %.17g, serial %.17g", (long long)n,
          (long long)steps, r, (long long)bad, bad < 0 ? 0.0 : got[bad], bad < 0 ? 0.0 : want[bad]);
    free(u0);
    free(want);
    free(got);
}

int main(int argc, char **argv)
{
    const int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    /* sizes around one, two and several blocks' outputs and the tile; step
     * counts around one and several launches */
    const int64_t sizes[] = {3, 4, 5, 6, 100, TILE_OUT - 1, TILE_OUT, TILE_OUT + 1, TILE_WIDTH, 2 * TILE_OUT - 1,
                             2 * TILE_OUT + 1, 5 * TILE_OUT + 17, 10007};
    const int64_t stepss[] = {1, 2, 3, TILE_STEPS - 1, TILE_STEPS, TILE_STEPS + 1, 2 * TILE_STEPS, 3 * TILE_STEPS + 5};
    const double rs[] = {0.1, 0.25, 0.5, 0.03};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (size_t ti = 0; ti < sizeof stepss / sizeof stepss[0]; ti++) {
            if (quick && sizes[si] > 5000 && ti > 2)
                continue;
            against_serial(sizes[si], stepss[ti], rs[(si + ti) % 4], (int)((si + ti) % 2));
        }
    if (!quick)
        against_serial(100003, 300, 0.5, 1);
    return check_report("test_cuda_tiled_host");
}
