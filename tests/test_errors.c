/* test_errors.c - every error path of the library: the status code, a
 * message that names the parameter and its range, and nothing written. */
#include "check.h"
#include "hpcladder/hpcladder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int contains(const char *s, const char *what) { return strstr(s, what) != NULL; }

/* Create a plan with params p for every built kernel: expect status and a
 * message containing `word`. */
static void bad_params(hpl_diffusion_params p, hpl_status expect, const char *word)
{
    for (int k = 0; k < HPL_DIFFUSION_KERNEL_COUNT; k++) {
        if (!hpl_diffusion_kernel_available((hpl_diffusion_kernel)k, NULL))
            continue;
        hpl_diffusion_plan *plan = (hpl_diffusion_plan *)&plan; /* must be reset to NULL */
        hpl_status s = hpl_diffusion_plan_create((hpl_diffusion_kernel)k, &p, &plan);
        CHECK(s == expect && plan == NULL, "%s n=%lld r=%g steps=%lld threads=%d: got %s, plan %p",
              hpl_diffusion_kernel_name((hpl_diffusion_kernel)k), (long long)p.n, p.r, (long long)p.steps, p.threads,
              hpl_status_name(s), (void *)plan);
        CHECK(contains(hpl_last_error(), word), "message '%s' should mention '%s'", hpl_last_error(), word);
    }
}

static void diffusion_errors(void)
{
    const hpl_diffusion_params good = {.n = 100, .r = 0.1, .steps = 10, .threads = 1};
    hpl_diffusion_params p;

    p = good, p.n = 2, bad_params(p, HPL_EINVAL, "n = 2");
    p = good, p.n = -5, bad_params(p, HPL_EINVAL, "n >= 3");
    p = good, p.n = INT64_MAX, bad_params(p, HPL_EOVERFLOW, "too large");
    p = good, p.r = 0.0, bad_params(p, HPL_EINVAL, "(0, 0.5]");
    p = good, p.r = -0.1, bad_params(p, HPL_EINVAL, "r = -0.1");
    p = good, p.r = 0.5000001, bad_params(p, HPL_EINVAL, "unstable");
    p = good, p.r = NAN, bad_params(p, HPL_EINVAL, "(0, 0.5]");
    p = good, p.r = INFINITY, bad_params(p, HPL_EINVAL, "(0, 0.5]");
    p = good, p.steps = -1, bad_params(p, HPL_EINVAL, "steps >= 0");
    p = good, p.threads = 0, bad_params(p, HPL_EINVAL, "threads");
    p = good, p.threads = HPL_THREADS_MAX + 1, bad_params(p, HPL_EINVAL, "threads");

    /* NULL pointers */
    hpl_diffusion_plan *plan = NULL;
    CHECK(hpl_diffusion_plan_create(HPL_DIFFUSION_SERIAL, NULL, &plan) == HPL_EINVAL && plan == NULL, "NULL params");
    CHECK(contains(hpl_last_error(), "params"), "message names params: %s", hpl_last_error());
    CHECK(hpl_diffusion_plan_create(HPL_DIFFUSION_SERIAL, &good, NULL) == HPL_EINVAL, "NULL plan pointer");
    CHECK(hpl_diffusion_plan_execute(NULL, NULL) == HPL_EINVAL, "NULL plan");
    CHECK(hpl_diffusion_plan_create((hpl_diffusion_kernel)99, &good, &plan) == HPL_EINVAL && plan == NULL,
          "bad kernel id");
    CHECK(hpl_diffusion_plan_create((hpl_diffusion_kernel)-1, &good, &plan) == HPL_EINVAL, "negative kernel id");
    hpl_diffusion_plan_destroy(NULL); /* allowed */

    /* kernel names */
    hpl_diffusion_kernel k;
    CHECK(hpl_diffusion_kernel_from_name("tiled", &k) == HPL_OK && k == HPL_DIFFUSION_TILED, "name lookup");
    CHECK(hpl_diffusion_kernel_from_name("fast", &k) == HPL_EINVAL && contains(hpl_last_error(), "naive, serial"),
          "unknown name lists the allowed ones: %s", hpl_last_error());
    CHECK(hpl_diffusion_kernel_from_name(NULL, &k) == HPL_EINVAL, "NULL name");
    CHECK(hpl_diffusion_kernel_name((hpl_diffusion_kernel)42) == NULL, "name of a bad id");
    for (int i = 0; i < HPL_DIFFUSION_KERNEL_COUNT; i++) {
        const char *why = NULL;
        int ok = hpl_diffusion_kernel_available((hpl_diffusion_kernel)i, &why);
        CHECK(why != NULL && (ok ? why[0] == '\0' : why[0] != '\0'), "availability of %d says why", i);
    }

    /* non-finite input and NULL u, for every kernel: u is left as it was */
    for (int kk = 0; kk < HPL_DIFFUSION_KERNEL_COUNT; kk++) {
        if (!hpl_diffusion_kernel_available((hpl_diffusion_kernel)kk, NULL))
            continue;
        const double bad[] = {NAN, INFINITY, -INFINITY};
        const int64_t where[] = {0, 50, 99};
        for (int b = 0; b < 3; b++) {
            double u[100], copy[100];
            for (int i = 0; i < 100; i++)
                u[i] = sin(i);
            u[where[b]] = bad[b];
            memcpy(copy, u, sizeof u);
            CHECK(hpl_diffusion_plan_create((hpl_diffusion_kernel)kk, &good, &plan) == HPL_OK, "create");
            hpl_status s = hpl_diffusion_plan_execute(plan, u);
            CHECK(s == HPL_EINVAL && contains(hpl_last_error(), "not finite"), "%s non-finite u[%lld]: %s / %s",
                  hpl_diffusion_kernel_name((hpl_diffusion_kernel)kk), (long long)where[b], hpl_status_name(s),
                  hpl_last_error());
            CHECK(memcmp(copy, u, sizeof u) == 0, "u modified on error");
            CHECK(hpl_diffusion_plan_execute(plan, NULL) == HPL_EINVAL && contains(hpl_last_error(), "u must not"),
                  "NULL u");
            hpl_diffusion_plan_destroy(plan);
        }
    }

    /* allocation failure: a field of 2^47 doubles (1 PiB) cannot be had */
    p = good, p.n = INT64_C(1) << 47;
    plan = NULL;
    hpl_status s = hpl_diffusion_plan_create(HPL_DIFFUSION_SERIAL, &p, &plan);
    CHECK(s == HPL_ENOMEM && plan == NULL && contains(hpl_last_error(), "out of memory"), "ENOMEM: %s %s",
          hpl_status_name(s), hpl_last_error());

    /* success clears the message */
    double u[5] = {1, 2, 3, 4, 5};
    p = good, p.n = 5;
    CHECK(hpl_diffusion_solve(HPL_DIFFUSION_SERIAL, &p, u) == HPL_OK && hpl_last_error()[0] == '\0',
          "message cleared on success");

    /* init helpers */
    double v[10];
    CHECK(hpl_diffusion_init_sine(10, 0, v) == HPL_EINVAL && contains(hpl_last_error(), "[1, 8]"), "sine k=0");
    CHECK(hpl_diffusion_init_sine(10, 9, v) == HPL_EINVAL, "sine k=n-1");
    CHECK(hpl_diffusion_init_sine(2, 1, v) == HPL_EINVAL, "sine n=2");
    CHECK(hpl_diffusion_init_gaussian(2, v) == HPL_EINVAL, "gaussian n=2");
    CHECK(hpl_diffusion_init_gaussian(10, NULL) == HPL_EINVAL, "gaussian NULL");
}

static void triangles_errors(void)
{
    uint32_t c[16];
    for (int k = 0; k < HPL_TRIANGLES_KERNEL_COUNT; k++) {
        if (!hpl_triangles_kernel_available((hpl_triangles_kernel)k, NULL))
            continue;
        const char *name = hpl_triangles_kernel_name((hpl_triangles_kernel)k);
        for (int i = 0; i < 16; i++)
            c[i] = 777;
        int64_t bp = -7;
        uint32_t bc = 9;
        hpl_status s = hpl_triangles_count((hpl_triangles_kernel)k, 0, 1, c, &bp, &bc);
        CHECK(s == HPL_EINVAL && contains(hpl_last_error(), "N = 0") && contains(hpl_last_error(), "[1, "),
              "%s N=0: %s", name, hpl_last_error());
        s = hpl_triangles_count((hpl_triangles_kernel)k, -3, 1, c, &bp, &bc);
        CHECK(s == HPL_EINVAL, "%s N<0", name);
        s = hpl_triangles_count((hpl_triangles_kernel)k, HPL_TRIANGLES_N_MAX + 1, 1, c, &bp, &bc);
        CHECK(s == HPL_EINVAL, "%s N too large", name);
        s = hpl_triangles_count((hpl_triangles_kernel)k, 16, 0, c, &bp, &bc);
        CHECK(s == HPL_EINVAL && contains(hpl_last_error(), "threads"), "%s threads=0", name);
        s = hpl_triangles_count((hpl_triangles_kernel)k, 16, 1, NULL, &bp, &bc);
        CHECK(s == HPL_EINVAL && contains(hpl_last_error(), "counts"), "%s NULL counts", name);
        int untouched = bp == -7 && bc == 9;
        for (int i = 0; i < 16; i++)
            untouched = untouched && c[i] == 777;
        CHECK(untouched, "%s wrote on error", name);
        /* NULL best pointers are allowed */
        CHECK(hpl_triangles_count((hpl_triangles_kernel)k, 16, 1, c, NULL, NULL) == HPL_OK && c[12] == 1,
              "%s NULL best", name);
    }
    hpl_triangles_kernel k;
    CHECK(hpl_triangles_kernel_from_name("euclid", &k) == HPL_OK && k == HPL_TRIANGLES_EUCLID, "name lookup");
    CHECK(hpl_triangles_kernel_from_name("quick", &k) == HPL_EINVAL && contains(hpl_last_error(), "brute, direct"),
          "unknown name: %s", hpl_last_error());
    CHECK(hpl_triangles_count((hpl_triangles_kernel)9, 16, 1, c, NULL, NULL) == HPL_EINVAL, "bad kernel id");
    /* checksum: sum (p+1)*counts[p] */
    uint32_t small[4] = {1, 2, 3, 4};
    CHECK(hpl_triangles_checksum(small, 4) == 1 * 1 + 2 * 2 + 3 * 3 + 4 * 4, "checksum");
}

/* Per-workload lookups by int id, to check them against the generic view. */
static int lookup(hpl_workload w, const char *name, int *k)
{
    hpl_diffusion_kernel dk = (hpl_diffusion_kernel)-1;
    hpl_triangles_kernel tk = (hpl_triangles_kernel)-1;
    hpl_status s = w == HPL_WORKLOAD_DIFFUSION ? hpl_diffusion_kernel_from_name(name, &dk)
                                               : hpl_triangles_kernel_from_name(name, &tk);
    *k = w == HPL_WORKLOAD_DIFFUSION ? (int)dk : (int)tk;
    return s == HPL_OK;
}

/* The kernel tables: every id has a name that looks itself up, a summary, a
 * place for its data, a reason exactly when it is not built, and appears in
 * the "allowed" message; the generic view (hpl_kernel_info_get) and the
 * per-workload functions agree; bad ids and workloads are refused. */
static void registry(void)
{
    CHECK(hpl_kernel_count(HPL_WORKLOAD_DIFFUSION) == HPL_DIFFUSION_KERNEL_COUNT &&
              hpl_diffusion_kernel_count() == HPL_DIFFUSION_KERNEL_COUNT,
          "diffusion count");
    CHECK(hpl_kernel_count(HPL_WORKLOAD_TRIANGLES) == HPL_TRIANGLES_KERNEL_COUNT &&
              hpl_triangles_kernel_count() == HPL_TRIANGLES_KERNEL_COUNT,
          "triangles count");
    for (int w = 0; w < HPL_WORKLOAD_COUNT; w++) {
        int k = 0;
        CHECK(!lookup((hpl_workload)w, "no-such-kernel", &k), "%s: unknown name accepted", hpl_workload_name(w));
        char allowed[512];
        snprintf(allowed, sizeof allowed, "%s", hpl_last_error());
        hpl_kernel_info ki;
        for (int i = 0; i < hpl_kernel_count((hpl_workload)w); i++) {
            CHECK(hpl_kernel_info_get((hpl_workload)w, i, &ki) == HPL_OK, "%s kernel %d: info", hpl_workload_name(w),
                  i);
            CHECK(lookup((hpl_workload)w, ki.name, &k) && k == i, "%s kernel %d (%s): name round trip",
                  hpl_workload_name(w), i, ki.name);
            CHECK(contains(allowed, ki.name), "%s kernel %s missing from '%s'", hpl_workload_name(w), ki.name,
                  allowed);
            /* a reason exactly when not available: not built, or built
             * without its device */
            CHECK(ki.summary[0] != '\0' && hpl_data_name(ki.data) != NULL &&
                      (ki.available ? !ki.why[0] : ki.why[0] != 0) && (ki.built || !ki.available),
                  "%s kernel %s: summary, data, why", hpl_workload_name(w), ki.name);
            const char *why = NULL;
            int same = w == HPL_WORKLOAD_DIFFUSION
                           ? ki.available == hpl_diffusion_kernel_available((hpl_diffusion_kernel)i, &why) &&
                                 ki.threaded == hpl_diffusion_kernel_threaded((hpl_diffusion_kernel)i) &&
                                 ki.data == hpl_diffusion_kernel_data((hpl_diffusion_kernel)i) &&
                                 !strcmp(ki.summary, hpl_diffusion_kernel_summary((hpl_diffusion_kernel)i)) &&
                                 !strcmp(ki.detail, hpl_diffusion_kernel_detail((hpl_diffusion_kernel)i))
                           : ki.available == hpl_triangles_kernel_available((hpl_triangles_kernel)i, &why) &&
                                 ki.threaded == hpl_triangles_kernel_threaded((hpl_triangles_kernel)i) &&
                                 ki.data == hpl_triangles_kernel_data((hpl_triangles_kernel)i) &&
                                 !strcmp(ki.summary, hpl_triangles_kernel_summary((hpl_triangles_kernel)i));
            CHECK(same && why != NULL && !strcmp(why, ki.why), "%s kernel %s: generic and per-workload views differ",
                  hpl_workload_name(w), ki.name);
        }
        const int n = hpl_kernel_count((hpl_workload)w), bad[] = {-1, n, 1000};
        for (int b = 0; b < 3; b++)
            CHECK(hpl_kernel_info_get((hpl_workload)w, bad[b], &ki) == HPL_EINVAL &&
                      contains(hpl_last_error(), "is not a"),
                  "%s: bad id %d", hpl_workload_name(w), bad[b]);
        CHECK(hpl_kernel_info_get((hpl_workload)w, 0, NULL) == HPL_EINVAL, "NULL info");
    }
    hpl_kernel_info ki;
    CHECK(hpl_kernel_info_get(HPL_WORKLOAD_COUNT, 0, &ki) == HPL_EINVAL && hpl_kernel_count(HPL_WORKLOAD_COUNT) == 0 &&
              hpl_workload_name(HPL_WORKLOAD_COUNT) == NULL,
          "bad workload");
    const char *why = NULL;
    CHECK(hpl_diffusion_kernel_name((hpl_diffusion_kernel)-1) == NULL &&
              hpl_diffusion_kernel_summary((hpl_diffusion_kernel)99)[0] == '\0' &&
              !hpl_diffusion_kernel_threaded((hpl_diffusion_kernel)99) &&
              hpl_diffusion_kernel_detail((hpl_diffusion_kernel)99)[0] == '\0' &&
              !hpl_diffusion_kernel_available((hpl_diffusion_kernel)99, &why) && why && why[0],
          "bad diffusion id");
    CHECK(hpl_triangles_kernel_name((hpl_triangles_kernel)99) == NULL &&
              !hpl_triangles_kernel_available((hpl_triangles_kernel)-1, NULL),
          "bad triangles id");
    CHECK(hpl_data_name((hpl_data)7) == NULL && strcmp(hpl_data_name(HPL_DATA_HOST), "host") == 0, "data names");
}

int main(void)
{
    CHECK(strcmp(hpl_status_name(HPL_EINVAL), "EINVAL") == 0, "status names");
    CHECK(hpl_version()[0] != '\0', "version");
    diffusion_errors();
    triangles_errors();
    registry();
    return check_report("test_errors");
}
