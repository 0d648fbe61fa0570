/* test_opencl.c - what is particular to the OpenCL kernels (the generic
 * tests sweep them with every other kernel):
 *
 *   test_opencl [quick]          opencl-naive and opencl-tiled bit-identical
 *                                to serial, also with many small tiles and
 *                                odd shapes (HPCLADDER_OPENCL_TILE); the
 *                                field too large for the device refused with
 *                                HPL_ENOMEM; opencl-euclid's whole counts
 *                                array equal to euclid's, and opencl-brute's
 *                                to brute's, also split into many launches
 *                                and on its 64-bit loop.  Passes with a
 *                                SKIP line where OpenCL has no device.
 *   test_opencl unavailable WHY  every OpenCL kernel is unavailable, its
 *                                reason contains WHY, and create / count
 *                                fail with HPL_EUNAVAILABLE and that
 *                                reason (run under OCL_ICD_VENDORS=
 *                                /nonexistent: no driver, no crash).
 *   test_opencl device WHY       the same for a bad HPCLADDER_OPENCL_DEVICE,
 *                                where the machine has an OpenCL platform
 *                                at all (else a SKIP line).
 *   test_opencl available        HPCLADDER_OPENCL_DEVICE=0:0 picks a device:
 *                                the kernels are available, with a detail. */
#include "check.h"
#include "hpcladder/hpcladder.h"

#include <stdlib.h>
#include <string.h>

static const hpl_diffusion_kernel dk[] = {HPL_DIFFUSION_OPENCL_NAIVE, HPL_DIFFUSION_OPENCL_TILED};
static const hpl_triangles_kernel tk[] = {HPL_TRIANGLES_OPENCL_BRUTE, HPL_TRIANGLES_OPENCL_EUCLID};

/* A field with unequal ends (one a negative zero: copied, never computed)
 * and structure at every scale. */
static void init_rough(double *u, int64_t n, unsigned seed)
{
    srand(seed);
    for (int64_t i = 0; i < n; i++)
        u[i] = (double)rand() / RAND_MAX - 0.3 + 0.5 * sin(0.013 * (double)i);
    u[0] = -0.0;
    u[n - 1] = 0.625;
}

/* Kernel k on (n, steps, r) equals serial to the bit (tile: the shape in
 * HPCLADDER_OPENCL_TILE, for the message). */
static void same_as_serial(hpl_diffusion_kernel k, int64_t n, int64_t steps, double r, const char *tile)
{
    double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n);
    init_rough(a, n, (unsigned)(n * 7 + steps));
    memcpy(b, a, sizeof(double) * n);
    hpl_diffusion_params p = {.n = n, .r = r, .steps = steps, .threads = 1};
    CHECK(hpl_diffusion_solve(HPL_DIFFUSION_SERIAL, &p, a) == HPL_OK, "serial: %s", hpl_last_error());
    hpl_status s = hpl_diffusion_solve(k, &p, b);
    CHECK(s == HPL_OK, "%s n=%lld steps=%lld tile %s: %s (%s)", hpl_diffusion_kernel_name(k), (long long)n,
          (long long)steps, tile, hpl_status_name(s), hpl_last_error());
    int64_t bad = -1;
    for (int64_t i = 0; i < n && bad < 0; i++)
        if (memcmp(&a[i], &b[i], sizeof(double)) != 0)
            bad = i;
    CHECK(bad < 0, "%s n=%lld steps=%lld r=%g tile %s: u[%lld] = %.17g, serial %.17g", hpl_diffusion_kernel_name(k),
          (long long)n, (long long)steps, r, tile, (long long)bad, bad >= 0 ? b[bad] : 0.0, bad >= 0 ? a[bad] : 0.0);
    free(a);
    free(b);
}

/* Every OpenCL kernel is unavailable with a reason containing why, and
 * refuses to run with it. */
static void all_unavailable(const char *why_part)
{
    for (int i = 0; i < 2; i++) {
        const char *why = "";
        CHECK(!hpl_diffusion_kernel_available(dk[i], &why) && strstr(why, why_part) != NULL,
              "%s: available or another reason: '%s' (expected '%s')", hpl_diffusion_kernel_name(dk[i]), why, why_part);
        CHECK(hpl_diffusion_kernel_detail(dk[i])[0] == '\0', "%s: detail '%s' without a device",
              hpl_diffusion_kernel_name(dk[i]), hpl_diffusion_kernel_detail(dk[i]));
        hpl_diffusion_params p = {.n = 100, .r = 0.25, .steps = 10, .threads = 1};
        hpl_diffusion_plan *plan = (hpl_diffusion_plan *)&p; /* must become NULL */
        CHECK(hpl_diffusion_plan_create(dk[i], &p, &plan) == HPL_EUNAVAILABLE && plan == NULL &&
                  strstr(hpl_last_error(), why_part) != NULL,
              "%s: create: %s", hpl_diffusion_kernel_name(dk[i]), hpl_last_error());

        why = "";
        CHECK(!hpl_triangles_kernel_available(tk[i], &why) && strstr(why, why_part) != NULL,
              "%s: available or another reason: '%s'", hpl_triangles_kernel_name(tk[i]), why);
        uint32_t c[100] = {7};
        hpl_times t;
        CHECK(hpl_triangles_count_timed(tk[i], 100, 1, c, NULL, NULL, &t) == HPL_EUNAVAILABLE &&
                  strstr(hpl_last_error(), why_part) != NULL && c[0] == 7,
              "%s: count: %s", hpl_triangles_kernel_name(tk[i]), hpl_last_error());
    }
}

/* counts of kernel k over N against ref (all N entries). */
static void same_counts(hpl_triangles_kernel k, const uint32_t *ref, int64_t N, const char *how)
{
    uint32_t *c = malloc(sizeof(uint32_t) * (size_t)N);
    memset(c, 0xAB, sizeof(uint32_t) * (size_t)N);
    hpl_times t;
    hpl_status s = hpl_triangles_count_timed(k, N, 1, c, NULL, NULL, &t);
    CHECK(s == HPL_OK, "%s N=%lld %s: %s (%s)", hpl_triangles_kernel_name(k), (long long)N, how, hpl_status_name(s),
          hpl_last_error());
    int64_t bad = -1;
    for (int64_t p = 0; s == HPL_OK && p < N && bad < 0; p++)
        if (c[p] != ref[p])
            bad = p;
    CHECK(bad < 0, "%s N=%lld %s: counts[%lld] = %u, expected %u", hpl_triangles_kernel_name(k), (long long)N, how,
          (long long)bad, bad >= 0 ? c[bad] : 0, bad >= 0 ? ref[bad] : 0);
    CHECK(s != HPL_OK || (t.kernel > 0 && t.compute > 0 && t.setup >= 0 && t.download >= 0 && t.context >= 0),
          "%s N=%lld: times kernel %g compute %g", hpl_triangles_kernel_name(k), (long long)N, t.kernel, t.compute);
    free(c);
}

static void diffusion_sweep(int quick)
{
    /* the default shape, then shapes that make many tiles of a small field:
     * one point per work-item, one work-item, ghosts deeper than the tile,
     * steps per enqueue that do not divide the steps */
    const char *tiles[] = {NULL, "1:3:1", "3:1:1", "2:3:2", "4:2:3", "1:7:3", "5:5:12", "16:8:17", "64:1:31"};
    const int64_t sizes[] = {3, 4, 5, 6, 7, 9, 17, 33, 100, 257, 1001, 4097};
    const int64_t stepss[] = {1, 2, 3, 5, 16, 17, 33, 130};
    const double rs[] = {0.5, 0.1, 0.25, 0.37};
    for (size_t ti = 0; ti < sizeof tiles / sizeof tiles[0]; ti++) {
        if (tiles[ti])
            setenv("HPCLADDER_OPENCL_TILE", tiles[ti], 1);
        else
            unsetenv("HPCLADDER_OPENCL_TILE");
        const char *tile = tiles[ti] ? tiles[ti] : "default";
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
            for (size_t st = 0; st < sizeof stepss / sizeof stepss[0]; st++) {
                if (quick && (si + st + ti) % 3 != 0)
                    continue;
                double r = rs[(si + st) % 4];
                same_as_serial(HPL_DIFFUSION_OPENCL_TILED, sizes[si], stepss[st], r, tile);
                if (ti == 0)
                    same_as_serial(HPL_DIFFUSION_OPENCL_NAIVE, sizes[si], stepss[st], r, tile);
            }
    }
    unsetenv("HPCLADDER_OPENCL_TILE");
    /* several default tiles, and more enqueues than events in flight */
    for (int i = 0; i < 2; i++) {
        same_as_serial(dk[i], 100003, quick ? 20 : 300, 0.5, "default");
        same_as_serial(dk[i], 20011, 777, 0.3, "default");
    }
    /* a field no device holds: refused before allocating, naming the limit */
    for (int i = 0; i < 2; i++) {
        hpl_diffusion_params p = {.n = INT64_C(1) << 46, .r = 0.25, .steps = 1, .threads = 1};
        hpl_diffusion_plan *plan = NULL;
        hpl_status s = hpl_diffusion_plan_create(dk[i], &p, &plan);
        CHECK(s == HPL_ENOMEM && plan == NULL && strstr(hpl_last_error(), "CL_DEVICE_MAX_MEM_ALLOC_SIZE") != NULL,
              "%s n=2^46: %s (%s)", hpl_diffusion_kernel_name(dk[i]), hpl_status_name(s), hpl_last_error());
    }
}

static void triangles_sweep(int quick)
{
    const int64_t NB = 3001, NE = quick ? 1000003 : 10000001;
    uint32_t *b = malloc(sizeof(uint32_t) * NB), *e = malloc(sizeof(uint32_t) * NE);
    CHECK(hpl_triangles_count(HPL_TRIANGLES_BRUTE, NB, 1, b, NULL, NULL) == HPL_OK, "brute");
    CHECK(hpl_triangles_count(HPL_TRIANGLES_EUCLID, NE, 1, e, NULL, NULL) == HPL_OK, "euclid");
    const int64_t Ns[] = {1, 2, 12, 13, 24, 25, 1000, 1001, 3001};
    for (size_t i = 0; i < sizeof Ns / sizeof Ns[0]; i++) {
        same_counts(HPL_TRIANGLES_OPENCL_EUCLID, e, Ns[i], "");
        same_counts(HPL_TRIANGLES_OPENCL_BRUTE, b, Ns[i], "");
    }
    same_counts(HPL_TRIANGLES_OPENCL_EUCLID, e, NE, "");
    same_counts(HPL_TRIANGLES_OPENCL_EUCLID, e, 99999, "");
    /* many launches (each few work-items), and brute's 64-bit loop */
    setenv("HPCLADDER_OPENCL_LAUNCH_ITEMS", "1000", 1);
    same_counts(HPL_TRIANGLES_OPENCL_EUCLID, e, quick ? 200003 : 2000001, "in launches of 1000 work-items");
    same_counts(HPL_TRIANGLES_OPENCL_BRUTE, b, 1001, "in launches of 1000 work-items");
    unsetenv("HPCLADDER_OPENCL_LAUNCH_ITEMS");
    setenv("HPCLADDER_OPENCL_BRUTE_INT_P_MAX", "0", 1);
    same_counts(HPL_TRIANGLES_OPENCL_BRUTE, b, NB, "on the 64-bit loop");
    setenv("HPCLADDER_OPENCL_BRUTE_INT_P_MAX", "500", 1);
    same_counts(HPL_TRIANGLES_OPENCL_BRUTE, b, NB, "on both loops");
    unsetenv("HPCLADDER_OPENCL_BRUTE_INT_P_MAX");
    free(b);
    free(e);
}

/* The row of triangles kernel k (built, available, why, detail). */
static hpl_kernel_info info_of(hpl_triangles_kernel k)
{
    hpl_kernel_info info;
    memset(&info, 0, sizeof info);
    CHECK(hpl_kernel_info_get(HPL_WORKLOAD_TRIANGLES, (int)k, &info) == HPL_OK, "kernel info %d", (int)k);
    return info;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    const hpl_kernel_info euclid = info_of(HPL_TRIANGLES_OPENCL_EUCLID);
    if (!euclid.built) {
        printf("SKIP: %s\n", euclid.why);
        return check_report("test_opencl");
    }
    /* a machine without any OpenCL driver has no device to choose */
    const int platform = strstr(euclid.why, "no OpenCL platform") == NULL;
    if (strcmp(mode, "unavailable") == 0 && argc > 2) {
        all_unavailable(argv[2]);
    } else if (strcmp(mode, "device") == 0 && argc > 2) {
        if (platform)
            all_unavailable(argv[2]);
        else
            printf("SKIP: %s\n", euclid.why);
    } else if (strcmp(mode, "available") == 0) {
        if (platform) {
            for (int i = 0; i < 2; i++) {
                hpl_kernel_info in = info_of(tk[i]);
                CHECK(in.available && in.detail[0] != '\0', "%s: %s", in.name, in.why);
            }
        } else {
            printf("SKIP: %s\n", euclid.why);
        }
    } else if (!euclid.available) {
        printf("SKIP: %s\n", euclid.why);
    } else {
        int quick = strcmp(mode, "quick") == 0;
        const char *why;
        printf("device: %s\n", euclid.detail);
        if (hpl_diffusion_kernel_available(HPL_DIFFUSION_OPENCL_TILED, &why))
            diffusion_sweep(quick);
        else
            printf("SKIP diffusion: %s\n", why); /* a device without doubles */
        triangles_sweep(quick);
    }
    return check_report("test_opencl");
}
