/* test_triangles.c - every built triangles kernel returns brute's counts
 * array exactly, and the known answers of Project Euler 39.
 *
 * Usage: test_triangles [quick] */
#include "check.h"
#include "hpcladder/hpcladder.h"

#include <stdlib.h>
#include <string.h>

/* Kernel k's whole counts array must equal ref (brute's, or euclid's for
 * sizes brute cannot reach). */
static void against_brute(hpl_triangles_kernel k, const uint32_t *ref, int64_t N, int threads)
{
    uint32_t *c = malloc(sizeof(uint32_t) * (size_t)N);
    memset(c, 0xAB, sizeof(uint32_t) * (size_t)N); /* garbage: kernels must write every entry */
    int64_t bp = -1;
    uint32_t bc = 0;
    hpl_status s = hpl_triangles_count(k, N, threads, c, &bp, &bc);
    CHECK(s == HPL_OK, "%s N=%lld threads=%d: %s (%s)", hpl_triangles_kernel_name(k), (long long)N, threads,
          hpl_status_name(s), hpl_last_error());
    if (s == HPL_OK) {
        int64_t first_bad = -1;
        for (int64_t p = 0; p < N && first_bad < 0; p++)
            if (c[p] != ref[p])
                first_bad = p;
        CHECK(first_bad < 0, "%s N=%lld threads=%d: counts[%lld] = %u, brute says %u", hpl_triangles_kernel_name(k),
              (long long)N, threads, (long long)first_bad, first_bad >= 0 ? c[first_bad] : 0,
              first_bad >= 0 ? ref[first_bad] : 0);
    }
    free(c);
}

static void known(hpl_triangles_kernel k, int64_t N, int threads, int64_t p, uint32_t count)
{
    uint32_t *c = malloc(sizeof(uint32_t) * (size_t)N);
    int64_t bp = -1;
    uint32_t bc = 0;
    hpl_status s = hpl_triangles_count(k, N, threads, c, &bp, &bc);
    CHECK(s == HPL_OK && bp == p && bc == count, "%s N=%lld threads=%d: best p=%lld (%u), expected %lld (%u) [%s]",
          hpl_triangles_kernel_name(k), (long long)N, threads, (long long)bp, bc, (long long)p, count,
          hpl_last_error());
    free(c);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    const int64_t NMAX = quick ? 1200 : 3001;
    uint32_t *ref = malloc(sizeof(uint32_t) * NMAX);
    int64_t bp;
    uint32_t bc;
    CHECK(hpl_triangles_count(HPL_TRIANGLES_BRUTE, NMAX, 1, ref, &bp, &bc) == HPL_OK, "brute reference");

    /* brute itself against hand-checked values: p = 12 (3,4,5), 120 has 3 */
    CHECK(ref[12] == 1 && ref[11] == 0 && ref[120] == 3 && ref[0] == 0 && ref[1] == 0, "brute small values");
    CHECK(findnumsolutions(120) == 3 && findnumsolutions(840) == 8, "talk's findnumsolutions");
    known(HPL_TRIANGLES_BRUTE, 1000, 1, 840, 8);
    known(HPL_TRIANGLES_BRUTE, 1, 1, 0, 0);
    known(HPL_TRIANGLES_BRUTE, 12, 1, 0, 0);
    known(HPL_TRIANGLES_BRUTE, 13, 1, 12, 1);

    const int64_t Ns[] = {1, 2, 3, 11, 12, 13, 24, 25, 60, 61, 100, 120, 121, 1000, 1001, 2047, 3001};
    for (int k = 1; k < HPL_TRIANGLES_KERNEL_COUNT; k++) {
        const char *why;
        if (!hpl_triangles_kernel_available((hpl_triangles_kernel)k, &why)) {
            printf("SKIP %s: %s\n", hpl_triangles_kernel_name((hpl_triangles_kernel)k), why);
            continue;
        }
        int threaded = hpl_triangles_kernel_threaded((hpl_triangles_kernel)k);
        /* the brute force on a device (cuda-brute, opencl-brute) still
         * grows as N^3: the large sizes are for the fast methods */
        const char *name = hpl_triangles_kernel_name((hpl_triangles_kernel)k);
        int brute = strstr(name, "brute") != NULL;
        /* count_timed: the same counts, and where the time went */
        {
            uint32_t *c = malloc(sizeof(uint32_t) * 1000);
            hpl_times t = {-1, -1, -1, -1, -1, -1};
            int64_t p;
            uint32_t n;
            CHECK(hpl_triangles_count_timed((hpl_triangles_kernel)k, 1000, 2, c, &p, &n, &t) == HPL_OK &&
                      memcmp(c, ref, sizeof(uint32_t) * 1000) == 0 && p == 840 && n == 8,
                  "%s: count_timed N=1000: %s", name, hpl_last_error());
            CHECK(t.kernel >= 0 && t.compute >= t.kernel * 0.5 && t.setup >= 0 && t.download >= 0 && t.context >= 0 &&
                      t.upload >= 0,
                  "%s: count_timed times: kernel %g compute %g setup %g download %g", name, t.kernel, t.compute,
                  t.setup, t.download);
            if (hpl_triangles_kernel_data((hpl_triangles_kernel)k) == HPL_DATA_HOST)
                CHECK(t.kernel == t.compute && t.setup == 0 && t.download == 0, "%s: a host kernel's times", name);
            CHECK(hpl_triangles_count_timed((hpl_triangles_kernel)k, 1000, 2, c, NULL, NULL, NULL) == HPL_OK,
                  "%s: count_timed without times", name);
            free(c);
        }
        for (size_t i = 0; i < sizeof Ns / sizeof Ns[0]; i++) {
            if (Ns[i] > NMAX)
                continue;
            for (int th = 1; th <= (threaded ? 3 : 1); th++)
                against_brute((hpl_triangles_kernel)k, ref, Ns[i], th);
        }
        if (threaded)
            against_brute((hpl_triangles_kernel)k, ref, NMAX, 7);
        known((hpl_triangles_kernel)k, 1000, 2, 840, 8);
        known((hpl_triangles_kernel)k, 13, 2, 12, 1);
        known((hpl_triangles_kernel)k, 5000, 2, 4620, 13);
        if (!brute && (k != HPL_TRIANGLES_DIRECT || !quick)) {
            known((hpl_triangles_kernel)k, 100000, 2, 55440, 40);
        }
        if (k >= HPL_TRIANGLES_EUCLID && !brute) {
            known((hpl_triangles_kernel)k, 1000000, 3, 720720, 104);
            if (!quick)
                known((hpl_triangles_kernel)k, 10000000, 2, 6126120, 210);
        }
    }
    free(ref);

    /* Above N = 3001 only best p was checked: compare the whole array of the
     * threaded kernel with euclid at a size where it splits into many
     * ranges, for many team sizes. */
    if (hpl_triangles_kernel_available(HPL_TRIANGLES_OPENMP, NULL)) {
        const int64_t NB = quick ? 200003 : 1000003;
        uint32_t *e = malloc(sizeof(uint32_t) * (size_t)NB);
        CHECK(hpl_triangles_count(HPL_TRIANGLES_EUCLID, NB, 1, e, NULL, NULL) == HPL_OK, "euclid N=%lld",
              (long long)NB);
        const int teams[] = {1, 2, 3, 4, 5, 7, 8, 64, 4096};
        for (size_t i = 0; i < sizeof teams / sizeof teams[0]; i++)
            against_brute(HPL_TRIANGLES_OPENMP, e, NB, teams[i]);
        free(e);
    }
    return check_report("test_triangles");
}
