/* plan.c - the diffusion driver: kernel registry, parameter and input
 * validation, plan life cycle, initial fields.  Backends hold only kernels;
 * everything they can rely on is checked here once. */
#include "backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The registry: the table of diffusion.h, with what this build has
 * (hpl_backends.h, written by CMake). */
#define HPL_DIFFUSION_ROW_(...) HPL_REGISTRY_ROW(diffusion, __VA_ARGS__)
static const hpl_kernel_row rows[] = {HPL_DIFFUSION_KERNELS(HPL_DIFFUSION_ROW_)};
#undef HPL_DIFFUSION_ROW_
/* how kernel k runs here (its backend's detail hook) */
static const char *detail_of(int k)
{
    const hpl_diffusion_backend *b = rows[k].backend;
    return b != NULL && b->detail != NULL ? b->detail() : "";
}
/* why kernel k cannot run here (its backend's probe hook: a device kernel
 * without its device), "" if it can */
static const char *probe_of(int k)
{
    const hpl_diffusion_backend *b = rows[k].backend;
    const char *why = b != NULL && b->probe != NULL ? b->probe() : "";
    return why ? why : "";
}
const hpl_registry hpl_diffusion_registry = {"diffusion", HPL_DIFFUSION_KERNEL_COUNT, rows, detail_of, probe_of};

HPL_REGISTRY_API(diffusion, hpl_diffusion_registry)

const char *hpl_diffusion_kernel_detail(hpl_diffusion_kernel k)
{
    return hpl_registry_detail(&hpl_diffusion_registry, (int)k);
}

static hpl_status validate_params(const hpl_diffusion_params *p)
{
    if (p == NULL)
        return hpl_fail(HPL_EINVAL, "params must not be NULL");
    if (p->n < HPL_DIFFUSION_N_MIN)
        return hpl_fail(HPL_EINVAL, "n = %lld is too small: need n >= %d (two fixed ends and one interior point)",
                        (long long)p->n, HPL_DIFFUSION_N_MIN);
    /* Kernels hold up to a few arrays of n doubles: keep 4*n*8 bytes and the
     * int64 index arithmetic far from overflow. */
    if ((uint64_t)p->n > (uint64_t)(SIZE_MAX / (4 * sizeof(double))) ||
        p->n > (INT64_C(1) << 48))
        return hpl_fail(HPL_EOVERFLOW, "n = %lld is too large: the field would not fit in memory (n <= %lld)",
                        (long long)p->n, (long long)(INT64_C(1) << 48));
    if (!(p->r > 0.0 && p->r <= HPL_DIFFUSION_R_MAX))
        return hpl_fail(HPL_EINVAL,
                        "r = %g is unstable or invalid: r = kappa*dt/dx^2 must be in (0, 0.5]",
                        p->r);
    if (p->steps < 0)
        return hpl_fail(HPL_EINVAL, "steps = %lld is negative: need steps >= 0", (long long)p->steps);
    if (p->threads < 1 || p->threads > HPL_THREADS_MAX)
        return hpl_fail(HPL_EINVAL, "threads = %d is out of range: threads must be in [1, %d]",
                        p->threads, HPL_THREADS_MAX);
    return HPL_OK;
}

hpl_status hpl_diffusion_plan_create(hpl_diffusion_kernel k, const hpl_diffusion_params *params,
                                     hpl_diffusion_plan **plan)
{
    if (plan == NULL)
        return hpl_fail(HPL_EINVAL, "plan pointer must not be NULL");
    *plan = NULL;
    /* from the start: the registry's lookup probes a device kernel's device
     * (once per process), which the backend reports as context time */
    double t0 = hpl_wtime();
    const void *backend;
    hpl_status s = hpl_registry_backend(&hpl_diffusion_registry, (int)k, &backend);
    if (s != HPL_OK)
        return s;
    s = validate_params(params);
    if (s != HPL_OK)
        return s;

    hpl_diffusion_plan *pl = calloc(1, sizeof *pl);
    if (pl == NULL)
        return hpl_fail(HPL_ENOMEM, "out of memory allocating a diffusion plan");
    pl->kernel = k;
    pl->p = *params;
    pl->backend = backend;
    s = pl->backend->create(pl);
    if (s != HPL_OK) {
        free(pl);
        return s;
    }
    pl->plan_seconds = hpl_wtime() - t0;
    /* context includes the device probe, which an earlier call (a
     * kernel_available before create) may have paid outside this clock */
    pl->times.setup = pl->plan_seconds > pl->times.context ? pl->plan_seconds - pl->times.context : 0.0;
    *plan = pl;
    hpl_clear_error();
    return HPL_OK;
}

/* The input checks of execute and upload: u holds n finite values. */
static hpl_status check_field(const hpl_diffusion_plan *plan, const double *u)
{
    if (u == NULL)
        return hpl_fail(HPL_EINVAL, "u must not be NULL (it must hold n = %lld values)", (long long)plan->p.n);
    for (int64_t i = 0; i < plan->p.n; i++)
        if (!isfinite(u[i]))
            return hpl_fail(HPL_EINVAL, "u[%lld] = %g is not finite: the initial field must be finite",
                            (long long)i, u[i]);
    return HPL_OK;
}

/* The three parts, without the driver's checks. */
static hpl_status do_upload(hpl_diffusion_plan *plan, const double *u)
{
    double t0 = hpl_wtime();
    hpl_status s;
    if (plan->backend->upload) {
        s = plan->backend->upload(plan, u);
    } else {
        /* a host kernel's resident field: a copy the plan owns, made at
         * the first upload so that plain execute never pays for it */
        if (plan->resident == NULL && (plan->resident = hpl_alloc((size_t)plan->p.n, sizeof(double))) == NULL)
            return hpl_fail(HPL_ENOMEM, "out of memory: the plan's copy of the field needs n = %lld doubles",
                            (long long)plan->p.n);
        memcpy(plan->resident, u, (size_t)plan->p.n * sizeof(double));
        s = HPL_OK;
    }
    plan->times.upload = hpl_wtime() - t0;
    if (s == HPL_OK)
        plan->uploaded = 1;
    return s;
}

static hpl_status do_advance(hpl_diffusion_plan *plan)
{
    double kernel = 0.0, t0 = hpl_wtime();
    hpl_status s = HPL_OK;
    if (plan->p.steps > 0)
        s = plan->backend->advance ? plan->backend->advance(plan, &kernel)
                                   : plan->backend->execute(plan, plan->resident);
    plan->times.compute = hpl_wtime() - t0;
    plan->times.kernel = plan->backend->advance ? kernel : plan->times.compute;
    return s;
}

static hpl_status do_download(hpl_diffusion_plan *plan, double *u)
{
    double t0 = hpl_wtime();
    hpl_status s = HPL_OK;
    if (plan->backend->download)
        s = plan->backend->download(plan, u);
    else
        memcpy(u, plan->resident, (size_t)plan->p.n * sizeof(double));
    plan->times.download = hpl_wtime() - t0;
    return s;
}

hpl_status hpl_diffusion_plan_execute(hpl_diffusion_plan *plan, double *u)
{
    if (plan == NULL)
        return hpl_fail(HPL_EINVAL, "plan must not be NULL");
    hpl_status s = check_field(plan, u);
    if (s != HPL_OK)
        return s;
    if (plan->backend->execute) {
        /* a host kernel works on u in place: nothing to move */
        plan->times.upload = plan->times.download = 0.0;
        double t0 = hpl_wtime();
        if (plan->p.steps > 0)
            s = plan->backend->execute(plan, u);
        plan->times.kernel = plan->times.compute = hpl_wtime() - t0;
    } else {
        /* a device kernel: the field goes there and back, each part timed */
        if ((s = do_upload(plan, u)) == HPL_OK && (s = do_advance(plan)) == HPL_OK)
            s = do_download(plan, u);
    }
    if (s == HPL_OK)
        hpl_clear_error();
    return s;
}

hpl_status hpl_diffusion_plan_upload(hpl_diffusion_plan *plan, const double *u)
{
    if (plan == NULL)
        return hpl_fail(HPL_EINVAL, "plan must not be NULL");
    hpl_status s = check_field(plan, u);
    if (s == HPL_OK && (s = do_upload(plan, u)) == HPL_OK)
        hpl_clear_error();
    return s;
}

hpl_status hpl_diffusion_plan_advance(hpl_diffusion_plan *plan)
{
    if (plan == NULL)
        return hpl_fail(HPL_EINVAL, "plan must not be NULL");
    if (!plan->uploaded)
        return hpl_fail(HPL_EINVAL, "advance before upload: hpl_diffusion_plan_upload() gives the plan its field");
    hpl_status s = do_advance(plan);
    if (s == HPL_OK)
        hpl_clear_error();
    return s;
}

hpl_status hpl_diffusion_plan_download(hpl_diffusion_plan *plan, double *u)
{
    if (plan == NULL)
        return hpl_fail(HPL_EINVAL, "plan must not be NULL");
    if (u == NULL)
        return hpl_fail(HPL_EINVAL, "u must not be NULL (it must hold n = %lld values)", (long long)plan->p.n);
    if (!plan->uploaded)
        return hpl_fail(HPL_EINVAL, "download before upload: the plan has no field yet");
    hpl_status s = do_download(plan, u);
    if (s == HPL_OK)
        hpl_clear_error();
    return s;
}

hpl_status hpl_diffusion_plan_times(const hpl_diffusion_plan *plan, hpl_times *times)
{
    if (plan == NULL || times == NULL)
        return hpl_fail(HPL_EINVAL, "plan and times must not be NULL");
    *times = plan->times;
    hpl_clear_error();
    return HPL_OK;
}

double hpl_diffusion_plan_seconds(const hpl_diffusion_plan *plan)
{
    return plan ? plan->plan_seconds : 0.0;
}

void hpl_diffusion_plan_destroy(hpl_diffusion_plan *plan)
{
    if (plan == NULL)
        return;
    plan->backend->destroy(plan);
    hpl_free(plan->resident);
    free(plan);
}

hpl_status hpl_diffusion_solve(hpl_diffusion_kernel k, const hpl_diffusion_params *params, double *u)
{
    hpl_diffusion_plan *plan;
    hpl_status s = hpl_diffusion_plan_create(k, params, &plan);
    if (s != HPL_OK)
        return s;
    s = hpl_diffusion_plan_execute(plan, u);
    hpl_diffusion_plan_destroy(plan);
    return s;
}

hpl_status hpl_diffusion_init_gaussian(int64_t n, double *u)
{
    if (u == NULL)
        return hpl_fail(HPL_EINVAL, "u must not be NULL");
    if (n < HPL_DIFFUSION_N_MIN)
        return hpl_fail(HPL_EINVAL, "n = %lld is too small: n must be >= %d", (long long)n, HPL_DIFFUSION_N_MIN);
    /* The talk's C: exp(-pow(dx*(i-n/2.0), 2.0)/100000.0) with dx = 1. */
    for (int64_t i = 0; i < n; i++) {
        double x = (double)i - (double)n / 2.0;
        u[i] = exp(-(x * x) / 100000.0);
    }
    hpl_clear_error();
    return HPL_OK;
}

hpl_status hpl_diffusion_init_sine(int64_t n, int64_t k, double *u)
{
    if (u == NULL)
        return hpl_fail(HPL_EINVAL, "u must not be NULL");
    if (n < HPL_DIFFUSION_N_MIN)
        return hpl_fail(HPL_EINVAL, "n = %lld is too small: n must be >= %d", (long long)n, HPL_DIFFUSION_N_MIN);
    if (k < 1 || k > n - 2)
        return hpl_fail(HPL_EINVAL, "sine mode k = %lld is out of range: k must be in [1, n-2] = [1, %lld]",
                        (long long)k, (long long)(n - 2));
    const double pi = 3.14159265358979323846;
    /* Reduce k*j modulo 2(n-1) in integers first so that the argument of
     * sin stays in [0, 2pi) and keeps full accuracy for large n. */
    const int64_t period = 2 * (n - 1);
    for (int64_t j = 0; j < n; j++) {
        int64_t m = (int64_t)(((__int128)k * j) % period);
        u[j] = sin(pi * (double)m / (double)(n - 1));
    }
    u[0] = 0.0;
    u[n - 1] = 0.0;
    hpl_clear_error();
    return HPL_OK;
}

double hpl_diffusion_sine_factor(int64_t n, int64_t k, double r)
{
    const double pi = 3.14159265358979323846;
    const double h = pi / (2.0 * (double)(n - 1));
    double s = sin((double)k * h);
    double x = 4.0 * r * s * s;
    if (x <= 1.0)
        return 1.0 - x;
    /* top modes at r ~ 1/2: 1 - 4r s^2 = -((4r - 1) - 4r c^2) with
     * c = cos(k h) = sin((n-1-k) h), without the cancellation near -1 */
    double c = sin((double)(n - 1 - k) * h);
    return -((4.0 * r - 1.0) - 4.0 * r * c * c);
}

double hpl_diffusion_sine_decay(int64_t n, int64_t k, double r, int64_t steps)
{
    if (steps == 0)
        return 1.0;
    const double pi = 3.14159265358979323846;
    const double h = pi / (2.0 * (double)(n - 1));
    /* s = sin(k h) and c = cos(k h) = sin((n-1-k) h), each accurate to its
     * own last digit, also where the other is close to 1 */
    double s = sin((double)k * h), c = sin((double)(n - 1 - k) * h);
    double x = 4.0 * r * s * s; /* lambda = 1 - x, x in [0, 2] for r <= 1/2 */
    if (x <= 1.0)               /* lambda >= 0: log1p keeps lambda ~ 1 exact */
        return exp((double)steps * log1p(-x));
    /* lambda < 0: |lambda| - 1 = (4r - 2) - 4r c^2, free of the cancellation
     * in 4r s^2 - 1 when |lambda| ~ 1 (r ~ 1/2, top modes); sign alternates */
    /* |lambda| - 1 >= -1 exactly; rounding can take it just below when
     * lambda ~ 0 (r = 1/2, middle mode), where log1p would give NaN */
    double mag = exp((double)steps * log1p(fmax(-1.0, (4.0 * r - 2.0) - 4.0 * r * c * c)));
    return (steps % 2) ? -mag : mag;
}
