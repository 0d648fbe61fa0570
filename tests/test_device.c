/* test_device.c - every DEVICE kernel of both tables (CUDA, OpenCL: the
 * data column says DEVICE), read from the tables, never from a list here.
 *
 * A kernel that is not available (not built, or built without its device)
 * is skipped with one "SKIP: ..." line giving the reason, and its refusal
 * is checked: plan_create and count_timed say HPL_EUNAVAILABLE with that
 * reason, leave their outputs alone and do not crash.  An available one is
 * checked against the host kernels: the diffusion field against serial to
 * 1e-12 of max|u| (the contract; CUDA kernels also to the bit, as they do
 * serial's arithmetic), on sizes and step counts around the tiles' edges,
 * three initial fields, the resident life cycle (upload, advance, download
 * repeated; advance and download before an upload refused), and the
 * triangles counts identical to euclid's.
 *
 * Usage: test_device [quick]   ("quick" trims the largest cases). */
#include "check.h"
#include "hpcladder/hpcladder.h"

#include <stdlib.h>
#include <string.h>

static int quick;

/* CUDA kernels compute serial's arithmetic on the device: bit-identical. */
static int is_cuda(const char *name)
{
    return strncmp(name, "cuda-", 5) == 0;
}

/* The first call of a CUDA kernel in this process pays the context start-up
 * and reports it; every later one reports 0. */
static int cuda_started;
static void check_context(const char *name, double context)
{
    if (!is_cuda(name))
        return;
    if (!cuda_started)
        CHECK(context > 0.0, "%s: the first CUDA call of the process reports no start-up (%g s)", name, context);
    else
        CHECK(context == 0.0, "%s: start-up reported again (%g s) after an earlier CUDA call paid it", name, context);
    cuda_started = 1;
}

/* ---- diffusion ------------------------------------------------------------- */

enum { GAUSSIAN, SINE, ROUGH, MODES };
static const char *mode_name[MODES] = {"gaussian", "sine", "rough"};

/* Initial field of the given mode; ROUGH has unequal non-zero ends and
 * structure at every scale. */
static void init_field(int mode, double *u, int64_t n, unsigned seed)
{
    if (mode == GAUSSIAN) {
        hpl_diffusion_init_gaussian(n, u);
    } else if (mode == SINE) {
        hpl_diffusion_init_sine(n, 1 + (int64_t)seed % (n - 2), u);
    } else {
        srand(seed);
        for (int64_t i = 0; i < n; i++)
            u[i] = (double)rand() / RAND_MAX - 0.25 + 0.5 * sin(0.01 * (double)i);
        u[0] = 1.5;
        u[n - 1] = -0.75;
    }
}

/* serial's field from u0 after `steps` steps, into out. */
static void serial_reference(const double *u0, double *out, int64_t n, int64_t steps, double r)
{
    hpl_diffusion_params p = {.n = n, .r = r, .steps = steps, .threads = 1};
    memcpy(out, u0, (size_t)n * sizeof(double));
    hpl_status s = hpl_diffusion_solve(HPL_DIFFUSION_SERIAL, &p, out);
    CHECK(s == HPL_OK, "serial n=%lld steps=%lld: %s", (long long)n, (long long)steps, hpl_last_error());
}

/* got against serial's want: 1e-12 of max|u|, ends exact, and for CUDA the
 * whole field to the bit. */
static void same_field(const char *name, const char *what, const double *got, const double *want, int64_t n,
                       int64_t steps)
{
    double d = field_rel_diff(got, want, n);
    CHECK(d <= 1e-12, "%s %s n=%lld steps=%lld: rel diff %.3e from serial > 1e-12", name, what, (long long)n,
          (long long)steps, d);
    CHECK(got[0] == want[0] && got[n - 1] == want[n - 1], "%s %s n=%lld: an end moved", name, what, (long long)n);
    if (is_cuda(name))
        CHECK(memcmp(got, want, (size_t)n * sizeof(double)) == 0,
              "%s %s n=%lld steps=%lld: not bit-identical to serial (rel diff %.3e)", name, what, (long long)n,
              (long long)steps, d);
}

/* One solve (plan create, execute = upload + advance + download, destroy). */
static void against_serial(hpl_diffusion_kernel k, int64_t n, int64_t steps, double r, int mode)
{
    const char *name = hpl_diffusion_kernel_name(k);
    double *u0 = malloc((size_t)n * sizeof(double)), *want = malloc((size_t)n * sizeof(double)),
           *got = malloc((size_t)n * sizeof(double));
    init_field(mode, u0, n, (unsigned)(n * 7 + steps));
    serial_reference(u0, want, n, steps, r);
    memcpy(got, u0, (size_t)n * sizeof(double));
    hpl_diffusion_params p = {.n = n, .r = r, .steps = steps, .threads = 1};
    hpl_diffusion_plan *plan = NULL;
    hpl_status s = hpl_diffusion_plan_create(k, &p, &plan);
    CHECK(s == HPL_OK, "%s create n=%lld: %s", name, (long long)n, hpl_last_error());
    if (s == HPL_OK) {
        hpl_times t;
        hpl_diffusion_plan_times(plan, &t);
        check_context(name, t.context);
        s = hpl_diffusion_plan_execute(plan, got);
        CHECK(s == HPL_OK, "%s execute n=%lld steps=%lld: %s", name, (long long)n, (long long)steps,
              hpl_last_error());
        if (s == HPL_OK) {
            char what[64];
            snprintf(what, sizeof what, "%s r=%g", mode_name[mode], r);
            same_field(name, what, got, want, n, steps);
        }
    }
    hpl_diffusion_plan_destroy(plan);
    free(u0);
    free(want);
    free(got);
}

/* The resident field: refusals before an upload, upload + three advances
 * + download, a second download, a new upload (other ends), execute. */
static void resident(hpl_diffusion_kernel k, int64_t n, int64_t steps, double r)
{
    const char *name = hpl_diffusion_kernel_name(k);
    const size_t bytes = (size_t)n * sizeof(double);
    double *u0 = malloc(bytes), *u1 = malloc(bytes), *want = malloc(bytes), *got = malloc(bytes),
           *again = malloc(bytes);
    hpl_diffusion_params p = {.n = n, .r = r, .steps = steps, .threads = 1};
    hpl_diffusion_plan *plan = NULL;
    hpl_status s = hpl_diffusion_plan_create(k, &p, &plan);
    CHECK(s == HPL_OK, "%s create n=%lld: %s", name, (long long)n, hpl_last_error());
    if (s != HPL_OK)
        goto done;
    hpl_times t;
    hpl_diffusion_plan_times(plan, &t);
    check_context(name, t.context);
    CHECK(hpl_diffusion_plan_advance(plan) == HPL_EINVAL && strstr(hpl_last_error(), "before upload"),
          "%s: advance before upload not refused (%s)", name, hpl_last_error());
    CHECK(hpl_diffusion_plan_download(plan, got) == HPL_EINVAL, "%s: download before upload not refused", name);

    init_field(ROUGH, u0, n, 11u);
    CHECK(hpl_diffusion_plan_upload(plan, u0) == HPL_OK, "%s upload: %s", name, hpl_last_error());
    for (int i = 0; i < 3; i++)
        CHECK(hpl_diffusion_plan_advance(plan) == HPL_OK, "%s advance %d: %s", name, i, hpl_last_error());
    CHECK(hpl_diffusion_plan_download(plan, got) == HPL_OK, "%s download: %s", name, hpl_last_error());
    serial_reference(u0, want, n, 3 * steps, r);
    same_field(name, "3 advances", got, want, n, 3 * steps);
    CHECK(hpl_diffusion_plan_download(plan, again) == HPL_OK && memcmp(got, again, bytes) == 0,
          "%s: a second download differs from the first", name);
    CHECK(hpl_diffusion_plan_times(plan, &t) == HPL_OK && t.kernel >= 0.0 && t.compute >= 0.0 &&
              t.upload >= 0.0 && t.download >= 0.0 && t.setup >= 0.0,
          "%s: negative times (kernel %g, compute %g, upload %g, download %g, setup %g)", name, t.kernel, t.compute,
          t.upload, t.download, t.setup);

    init_field(GAUSSIAN, u1, n, 0u);
    u1[0] = -2.0; /* other ends than u0's: they must travel with the upload */
    u1[n - 1] = 3.0;
    CHECK(hpl_diffusion_plan_upload(plan, u1) == HPL_OK && hpl_diffusion_plan_advance(plan) == HPL_OK &&
              hpl_diffusion_plan_download(plan, got) == HPL_OK,
          "%s second upload: %s", name, hpl_last_error());
    serial_reference(u1, want, n, steps, r);
    same_field(name, "second upload", got, want, n, steps);

    memcpy(got, u0, bytes);
    CHECK(hpl_diffusion_plan_execute(plan, got) == HPL_OK, "%s execute after advances: %s", name, hpl_last_error());
    serial_reference(u0, want, n, steps, r);
    same_field(name, "execute after advances", got, want, n, steps);
done:
    hpl_diffusion_plan_destroy(plan);
    free(u0);
    free(u1);
    free(want);
    free(got);
    free(again);
}

/* A field far beyond any device's memory: refused before allocating,
 * with the sizes (CUDA: HPL_ENOMEM naming the bytes). */
static void too_large(hpl_diffusion_kernel k)
{
    const char *name = hpl_diffusion_kernel_name(k);
    hpl_diffusion_params p = {.n = INT64_C(1) << 46, .r = 0.25, .steps = 1, .threads = 1};
    hpl_diffusion_plan *plan = NULL;
    hpl_status s = hpl_diffusion_plan_create(k, &p, &plan);
    CHECK((s == HPL_ENOMEM || s == HPL_EOVERFLOW) && plan == NULL && hpl_last_error()[0],
          "%s: n = 2^46 gave %s (%s)", name, hpl_status_name(s), hpl_last_error());
    if (is_cuda(name))
        CHECK(s == HPL_ENOMEM && strstr(hpl_last_error(), "bytes") && strstr(hpl_last_error(), "free"),
              "%s: n = 2^46: %s", name, hpl_last_error());
    hpl_diffusion_plan_destroy(plan);
}

static void diffusion_available(hpl_diffusion_kernel k)
{
    const char *name = hpl_diffusion_kernel_name(k);
    /* around the CUDA tile (768 outputs, 128 steps a launch) and small
     * fields; n * steps bounded so that serial stays quick */
    const int64_t sizes[] = {3, 4, 5, 100, 767, 768, 769, 1000, 1001, 1537, 4097, 100003};
    const int64_t stepss[] = {0, 1, 2, 7, 127, 128, 129, 257, 300};
    const double rs[] = {0.1, 0.25, 0.5, 0.03};
    const char *detail = hpl_diffusion_kernel_detail(k);
    printf("diffusion %s: %s\n", name, detail);
    if (is_cuda(name))
        CHECK(detail[0] != '\0', "%s: no detail (the GPU's name) while available", name);
    int cases = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (size_t ti = 0; ti < sizeof stepss / sizeof stepss[0]; ti++)
            for (int mode = 0; mode < MODES; mode++) {
                if ((double)sizes[si] * (double)stepss[ti] > (quick ? 3e6 : 3e7))
                    continue;
                against_serial(k, sizes[si], stepss[ti], rs[(si + ti + (size_t)mode) % 4], mode);
                cases++;
            }
    if (quick)
        printf("SKIP: diffusion %s: n = 100003 x 5000 steps (quick mode)\n", name);
    else
        against_serial(k, 100003, 5000, 0.5, ROUGH); /* 40 launches of cuda-tiled, rounding accumulating */
    const int64_t rn[] = {5, 1001, 100003};
    for (int i = 0; i < 3; i++) {
        resident(k, rn[i], 1, 0.3);
        resident(k, rn[i], 129, 0.1);
    }
    too_large(k);
    printf("diffusion %s: %d solves against serial\n", name, cases);
}

/* Without the kernel: create and solve refuse with the reason, u stays. */
static void diffusion_refused(hpl_diffusion_kernel k, const char *why)
{
    const char *name = hpl_diffusion_kernel_name(k);
    printf("SKIP: diffusion %s: %s\n", name, why);
    CHECK(why != NULL && why[0] != '\0', "%s: not available, and no reason", name);
    hpl_diffusion_params p = {.n = 100, .r = 0.25, .steps = 10, .threads = 1};
    hpl_diffusion_plan *plan = (hpl_diffusion_plan *)&p; /* must come back NULL */
    hpl_status s = hpl_diffusion_plan_create(k, &p, &plan);
    CHECK(s == HPL_EUNAVAILABLE && plan == NULL && strstr(hpl_last_error(), why) != NULL,
          "%s: create gave %s (%s), plan %p", name, hpl_status_name(s), hpl_last_error(), (void *)plan);
    double u[100], u0[100];
    hpl_diffusion_init_gaussian(100, u0);
    memcpy(u, u0, sizeof u);
    s = hpl_diffusion_solve(k, &p, u);
    CHECK(s == HPL_EUNAVAILABLE && memcmp(u, u0, sizeof u) == 0, "%s: solve gave %s or wrote u", name,
          hpl_status_name(s));
    CHECK(hpl_diffusion_kernel_detail(k) != NULL, "%s: detail is NULL", name);
}

/* ---- triangles -------------------------------------------------------------- */

/* Kernel k's counts for N, identical to ref (euclid's), best p and count
 * too; counts poisoned first, so every entry must be written. */
static void counts_against(hpl_triangles_kernel k, int64_t N, const uint32_t *ref, int64_t ref_p, uint32_t ref_c)
{
    const char *name = hpl_triangles_kernel_name(k);
    uint32_t *counts = malloc((size_t)N * sizeof(uint32_t));
    memset(counts, 0xab, (size_t)N * sizeof(uint32_t));
    int64_t bp = -1;
    uint32_t bc = 0;
    hpl_times t = {0};
    hpl_status s = hpl_triangles_count_timed(k, N, 1, counts, &bp, &bc, &t);
    CHECK(s == HPL_OK, "%s N=%lld: %s", name, (long long)N, hpl_last_error());
    if (s == HPL_OK) {
        check_context(name, t.context);
        int64_t bad = -1;
        for (int64_t p = 0; p < N && bad < 0; p++)
            if (counts[p] != ref[p])
                bad = p;
        CHECK(bad < 0, "%s N=%lld: counts[%lld] = %u, euclid says %u", name, (long long)N, (long long)bad,
              bad < 0 ? 0 : counts[bad], bad < 0 ? 0 : ref[bad]);
        CHECK(bp == ref_p && bc == ref_c, "%s N=%lld: best p %lld (%u), euclid %lld (%u)", name, (long long)N,
              (long long)bp, bc, (long long)ref_p, ref_c);
        CHECK(t.kernel >= 0.0 && t.compute >= 0.0 && t.setup >= 0.0 && t.download >= 0.0,
              "%s N=%lld: negative times", name, (long long)N);
    }
    free(counts);
}

/* counts_against with euclid's counts as the reference. */
static void against_euclid(hpl_triangles_kernel k, int64_t N)
{
    uint32_t *ref = malloc((size_t)N * sizeof(uint32_t));
    int64_t bp = 0;
    uint32_t bc = 0;
    hpl_status s = hpl_triangles_count(HPL_TRIANGLES_EUCLID, N, 1, ref, &bp, &bc);
    CHECK(s == HPL_OK, "euclid N=%lld: %s", (long long)N, hpl_last_error());
    if (s == HPL_OK)
        counts_against(k, N, ref, bp, bc);
    free(ref);
}

static void triangles_available(hpl_triangles_kernel k)
{
    const char *name = hpl_triangles_kernel_name(k);
    hpl_kernel_info ki;
    hpl_kernel_info_get(HPL_WORKLOAD_TRIANGLES, (int)k, &ki);
    printf("triangles %s: %s\n", name, ki.detail);
    if (is_cuda(name))
        CHECK(ki.detail[0] != '\0', "%s: no detail (the GPU's name) while available", name);
    for (int64_t N = 1; N <= 200; N++)
        against_euclid(k, N);
    if (strstr(name, "brute")) {
        /* O(N^3): on a GPU N = 1e4 is a fraction of a second, on a CPU
         * device (PoCL) a few thousand is */
        against_euclid(k, 1001);
        against_euclid(k, 4001);
        if (is_cuda(name) && !quick)
            against_euclid(k, 10007);
        printf("SKIP: triangles %s: N = 1e5, 1e6: the brute force is checked up to N = %s\n", name,
               is_cuda(name) && !quick ? "10007" : "4001");
        return;
    }
    const int64_t Ns[] = {1001, 4097, 100000, 100001, 1000000, 1000001};
    for (size_t i = 0; i < sizeof Ns / sizeof Ns[0]; i++)
        if (!quick || Ns[i] <= 100001)
            against_euclid(k, Ns[i]);
    if (!quick && is_cuda(name))
        against_euclid(k, 20000003); /* many listed primitives, 80 MB of counts */
}

/* Without the kernel: count_timed refuses with the reason, counts stay. */
static void triangles_refused(hpl_triangles_kernel k, const char *why)
{
    const char *name = hpl_triangles_kernel_name(k);
    printf("SKIP: triangles %s: %s\n", name, why);
    CHECK(why != NULL && why[0] != '\0', "%s: not available, and no reason", name);
    uint32_t counts[100];
    memset(counts, 0xab, sizeof counts);
    int64_t bp = -7;
    hpl_times t = {0};
    hpl_status s = hpl_triangles_count_timed(k, 100, 1, counts, &bp, NULL, &t);
    CHECK(s == HPL_EUNAVAILABLE && strstr(hpl_last_error(), why) != NULL && bp == -7 && counts[12] == 0xabababab &&
              counts[99] == 0xabababab,
          "%s: count_timed gave %s (%s) or wrote", name, hpl_status_name(s), hpl_last_error());
}

int main(int argc, char **argv)
{
    quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    int device = 0, available = 0;
    for (int k = 0; k < HPL_DIFFUSION_KERNEL_COUNT; k++) {
        if (hpl_diffusion_kernel_data((hpl_diffusion_kernel)k) != HPL_DATA_DEVICE)
            continue;
        const char *why = NULL;
        device++;
        if (hpl_diffusion_kernel_available((hpl_diffusion_kernel)k, &why)) {
            available++;
            diffusion_available((hpl_diffusion_kernel)k);
        } else {
            diffusion_refused((hpl_diffusion_kernel)k, why);
        }
    }
    for (int k = 0; k < HPL_TRIANGLES_KERNEL_COUNT; k++) {
        if (hpl_triangles_kernel_data((hpl_triangles_kernel)k) != HPL_DATA_DEVICE)
            continue;
        const char *why = NULL;
        device++;
        if (hpl_triangles_kernel_available((hpl_triangles_kernel)k, &why)) {
            available++;
            triangles_available((hpl_triangles_kernel)k);
        } else {
            triangles_refused((hpl_triangles_kernel)k, why);
        }
    }
    CHECK(device > 0, "no DEVICE kernel in the tables");
    printf("test_device: %d device kernels, %d available here\n", device, available);
    return check_report("test_device");
}
