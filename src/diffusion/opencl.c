/* opencl.c - the OpenCL diffusion kernels, on any OpenCL device (a GPU, or
 * the CPU through PoCL): the field lives in two device buffers that take
 * turns (ping-pong), uploaded once and stepped in place.
 *
 *   opencl-naive  the serial loop: one kernel enqueue per step, one
 *                 work-item per point.
 *   opencl-tiled  temporal blocking: each work-group copies a window of
 *                 W points (its tile of T and S ghosts a side) into local
 *                 memory, advances it S steps there (the exact part
 *                 shrinks by one point a side per step), and writes its T
 *                 points to the other buffer; ceil(steps / S) enqueues in
 *                 all.  One point per work-item on a GPU, a run of points
 *                 per work-item on a CPU (tile_shape says why).
 *
 * Both compute serial.c's b[i] = a[i] + r * (a[i + 1] + a[i - 1] - 2 * a[i])
 * with each operation rounded (FP_CONTRACT OFF, no fast-math options), so
 * the field is bit-identical to the serial kernel's; the ends are copied.
 * Double precision needs cl_khr_fp64: without it the kernels are
 * unavailable with that reason.  The kernel time of an advance is the sum of
 * its enqueues' profiled durations (CL_PROFILING_COMMAND_START to _END). */
#include "backend.h"
#include "../common/opencl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kernels, OpenCL C.  A device buffer holds point i at [i + 1], with
 * padding before and after, so that every work-item loads its neighbours
 * unconditionally from consecutive addresses and only the store chooses
 * (a select, not a branch): PoCL then vectorises its loop over the
 * work-items; a guarded or clamped load kept it scalar. */
static const char source[] =
    "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    "#pragma OPENCL FP_CONTRACT OFF\n"
    /* one step, one point per work-item; the ends (and the work-items past
     * the end, over the padding) keep their value */
    "__kernel void naive_step(__global const double *a, __global double *b, long n, double r)\n"
    "{\n"
    "    const long i = get_global_id(0);\n"
    "    const double c = a[i + 1], next = c + r * (a[i + 2] + a[i] - 2 * c);\n"
    "    b[i + 1] = i == 0 || i >= n - 1 ? c : next;\n"
    "}\n"
    /* `steps` (<= S) steps of the tile [x0, x0 + T), x0 = group * T, from
     * the window [x0 - S, x0 + T + S) of W = L C = T + 2S points in local
     * memory; work-item k owns the C window points [k C, k C + C) (a GPU
     * takes C = 1, one point per work-item; a CPU a long run that its
     * compiler vectorises).  The window's two copies u and v (a pad at
     * each end; restrict: they never overlap) take turns, two steps a
     * round.  Each step updates the window's points [lo, hi) of a
     * work-item's own, those that are not a window edge or a field end (or
     * beyond one); the others never change and are loaded into both
     * copies.  The window's edges go stale by one point a step, so after
     * steps <= S steps the tile's points are exact.  An odd last step is
     * computed at the store, from u after the last barrier. */
    "#define STEP(x, j) (x[j + 1] + r * (x[j + 2] + x[j] - 2 * x[j + 1]))\n"
    "__kernel void tiled_sweep(__global const double *a, __global double *b, long n, double r, int steps,\n"
    "                          int S, int C, __local double *restrict u, __local double *restrict v)\n"
    "{\n"
    "    const int L = get_local_size(0), W = L * C, T = W - 2 * S;\n"
    "    const int j0 = get_local_id(0) * C, j1 = j0 + C;\n"
    "    const long g0 = (long)get_group_id(0) * T - S; /* global index of window point 0 */\n"
    "    const int lo = max(max(j0, 1), (int)clamp(1 - g0, 0L, (long)W));\n"
    "    const int hi = min(min(j1, W - 1), (int)clamp(n - 1 - g0, 0L, (long)W));\n"
    "    for (int j = j0; j < j1; j++) {\n"
    "        const long g = g0 + j;\n"
    "        u[j + 1] = v[j + 1] = g >= 0 && g < n ? a[g + 1] : 0.0;\n"
    "    }\n"
    "    if (j0 == 0)\n"
    "        u[0] = v[0] = u[W + 1] = v[W + 1] = 0.0;\n"
    "    barrier(CLK_LOCAL_MEM_FENCE);\n"
    "    for (int s = 0; s + 1 < steps; s += 2) {\n"
    "        for (int j = lo; j < hi; j++)\n"
    "            v[j + 1] = STEP(u, j);\n"
    "        barrier(CLK_LOCAL_MEM_FENCE);\n"
    "        for (int j = lo; j < hi; j++)\n"
    "            u[j + 1] = STEP(v, j);\n"
    "        barrier(CLK_LOCAL_MEM_FENCE);\n"
    "    }\n"
    "    for (int j = max(j0, S); j < min(j1, S + T); j++) {\n"
    "        const long g = g0 + j;\n"
    "        if (g < n)\n"
    "            b[g + 1] = (steps & 1) && j >= lo && j < hi ? STEP(u, j) : u[j + 1];\n"
    "    }\n"
    "}\n";

/* A plan's device state.  kernel[i] reads buf[i] and writes buf[1 - i]; the
 * field is in buf[cur]. */
typedef struct cl_plan {
    const hpl_cl_device *dev;
    cl_mem buf[2];
    cl_kernel kernel[2];
    int cur;
    int tiled;
    size_t local, global; /* the NDRange of one enqueue */
    int C, S;             /* tiled: points per work-item, ghost depth = steps per enqueue;
                             the tile is local * C - 2 S points */
    uint64_t len;         /* doubles per buffer: point i at [i + 1], padding around */
} cl_plan;

/* Events in flight before the oldest is waited for and timed: enough to
 * keep the queue full, few enough for any number of steps. */
#define RING 64

/* Work-group size of the naive kernel: a multiple of every GPU's warp or
 * wavefront; on a CPU, PoCL runs a work-group as one loop over its items,
 * so a larger group costs less scheduling per point. */
static size_t naive_local(const hpl_cl_device *dev, size_t kernel_max)
{
    size_t L = dev->type & CL_DEVICE_TYPE_CPU ? 1024 : 256;
    while (L > kernel_max)
        L /= 2;
    return L ? L : 1;
}

/* The tiled kernel's shape: work-groups of L work-items with C points each
 * step a window of W = L C points S steps per enqueue and keep its middle
 * T = W - 2S; the redundant work is 2S / T.  A GPU: L = 1024 (the usual
 * work-group limit), C = 1, S = 32: 16 KiB of local memory, coalesced.
 * PoCL on a CPU runs a work-group on one core, its work-items one after
 * the other between barriers, and vectorises a work-item's loop over its
 * points: L = 16, C = 512, S = 128, W = 8192 (128 KiB, in the core's L2);
 * C halves (down to 16) while there are fewer than two tiles per compute
 * unit.  Then L halves to fit the kernel's work-group limit and the
 * local memory, and S <= W / 8.  HPCLADDER_OPENCL_TILE=L:C:S overrides the
 * choice (for tuning, and for tests of many small tiles). */
static hpl_status tile_shape(const hpl_cl_device *dev, size_t kernel_max, cl_ulong kernel_local, int64_t n,
                             size_t *L, int *C, int *S)
{
    const int cpu = (dev->type & CL_DEVICE_TYPE_CPU) != 0;
    size_t l = cpu ? 16 : 1024;
    uint64_t c = cpu ? 512 : 1, s = cpu ? 128 : 32;
    while (cpu && c > 16 && (uint64_t)n < 2 * dev->compute_units * (l * c - 2 * (s < l * c / 8 ? s : l * c / 8)))
        c /= 2;
    const char *env = getenv("HPCLADDER_OPENCL_TILE");
    unsigned el, ec, es;
    char tail;
    const int forced = env != NULL && sscanf(env, "%u:%u:%u%c", &el, &ec, &es, &tail) == 3 && el >= 1 && ec >= 1 &&
                       es >= 1 && (uint64_t)el * ec <= (1u << 20) && 2 * (uint64_t)es < (uint64_t)el * ec;
    if (forced) {
        l = el;
        c = ec;
        s = es;
    }
    /* two windows of W + 2 doubles beside what the kernel itself keeps */
    const cl_ulong room = dev->local_mem > kernel_local ? dev->local_mem - kernel_local : 0;
    while (l > 1 && (l > kernel_max || 2 * sizeof(cl_double) * (l * c + 2) > room))
        l /= 2;
    while (c > 1 && 2 * sizeof(cl_double) * (l * c + 2) > room)
        c /= 2;
    if (!forced && s > l * c / 8)
        s = l * c / 8;
    if (2 * s >= l * c)
        s = (l * c - 1) / 2;
    if (l * c < 3 || s < 1 || l > kernel_max || 2 * sizeof(cl_double) * (l * c + 2) > room)
        return hpl_fail(HPL_EUNAVAILABLE,
                        "opencl-tiled: the OpenCL device '%s' allows work-groups of %zu and %llu bytes of local "
                        "memory: too little for a window of 3 points",
                        dev->name, kernel_max, (unsigned long long)room);
    *L = l;
    *C = (int)c;
    *S = (int)s;
    return HPL_OK;
}

/* Set the arguments of kernel[i] for this plan (all but tiled's steps). */
static hpl_status set_args(cl_plan *w, int i, const hpl_diffusion_params *p)
{
    cl_long n = p->n;
    cl_double r = p->r;
    hpl_status s = HPL_CL_CHECK(clSetKernelArg(w->kernel[i], 0, sizeof(cl_mem), &w->buf[i]));
    if (s == HPL_OK)
        s = HPL_CL_CHECK(clSetKernelArg(w->kernel[i], 1, sizeof(cl_mem), &w->buf[1 - i]));
    if (s == HPL_OK)
        s = HPL_CL_CHECK(clSetKernelArg(w->kernel[i], 2, sizeof n, &n));
    if (s == HPL_OK)
        s = HPL_CL_CHECK(clSetKernelArg(w->kernel[i], 3, sizeof r, &r));
    if (s != HPL_OK || !w->tiled)
        return s;
    cl_int S = w->S, C = w->C;
    s = HPL_CL_CHECK(clSetKernelArg(w->kernel[i], 5, sizeof S, &S));
    if (s == HPL_OK)
        s = HPL_CL_CHECK(clSetKernelArg(w->kernel[i], 6, sizeof C, &C));
    for (cl_uint arg = 7; arg <= 8 && s == HPL_OK; arg++) /* the window's two copies */
        s = HPL_CL_CHECK(clSetKernelArg(w->kernel[i], arg, sizeof(cl_double) * (w->local * w->C + 2), NULL));
    return s;
}

static void release(cl_plan *w)
{
    for (int i = 0; i < 2; i++) {
        if (w->kernel[i])
            clReleaseKernel(w->kernel[i]);
        if (w->buf[i])
            clReleaseMemObject(w->buf[i]);
    }
    free(w);
}

/* The two kernels and buffers of opencl-naive (tiled 0) or opencl-tiled
 * (1); the context and the build, when this plan paid them, go to
 * plan->times.context.  The buffers are checked against the device before
 * they are allocated. */
static hpl_status cl_create(hpl_diffusion_plan *plan, int tiled)
{
    const hpl_cl_device *dev;
    double context = 0.0, build = 0.0;
    hpl_status s = hpl_cl_acquire(&dev, &context);
    if (s != HPL_OK)
        return s;
    if (!dev->fp64) /* the probe said so already; kept for a direct call */
        return hpl_fail(HPL_EUNAVAILABLE, "%s", hpl_cl_probe_fp64());
    cl_program program;
    s = hpl_cl_program(source, &program, &build);
    plan->times.context = context + build; /* paid even if the rest fails */
    if (s != HPL_OK)
        return s;
    cl_plan *w = calloc(1, sizeof *w);
    if (w == NULL)
        return hpl_fail(HPL_ENOMEM, "out of memory allocating an OpenCL plan");
    w->dev = dev;
    w->tiled = tiled;
    cl_int err;
    for (int i = 0; i < 2 && s == HPL_OK; i++)
        s = HPL_CL_CHECK((w->kernel[i] = clCreateKernel(program, tiled ? "tiled_sweep" : "naive_step", &err), err));
    /* the shape of an enqueue, by what the compiled kernel allows */
    size_t kernel_max = 0;
    cl_ulong kernel_local = 0;
    if (s == HPL_OK)
        s = HPL_CL_CHECK(clGetKernelWorkGroupInfo(w->kernel[0], dev->device, CL_KERNEL_WORK_GROUP_SIZE,
                                                  sizeof kernel_max, &kernel_max, NULL));
    if (s == HPL_OK)
        s = HPL_CL_CHECK(clGetKernelWorkGroupInfo(w->kernel[0], dev->device, CL_KERNEL_LOCAL_MEM_SIZE,
                                                  sizeof kernel_local, &kernel_local, NULL));
    if (s == HPL_OK && tiled &&
        (s = tile_shape(dev, kernel_max, kernel_local, plan->p.n, &w->local, &w->C, &w->S)) == HPL_OK) {
        const uint64_t T = (uint64_t)w->local * w->C - 2 * (uint64_t)w->S;
        w->global = (size_t)(((uint64_t)plan->p.n + T - 1) / T * w->local); /* one group per tile */
        w->len = (uint64_t)plan->p.n + 2;
    } else if (s == HPL_OK && !tiled) {
        w->local = naive_local(dev, kernel_max);
        w->global = ((size_t)plan->p.n + w->local - 1) / w->local * w->local;
        w->len = (uint64_t)w->global + 2; /* every work-item's neighbours are in the buffer */
    }
    /* the buffers, checked against the device first, then zero-filled
     * (the padding stays 0) */
    if (s == HPL_OK)
        s = hpl_cl_fits(dev, tiled ? "opencl-tiled's field" : "opencl-naive's field", w->len * sizeof(cl_double), 2);
    for (int i = 0; i < 2 && s == HPL_OK; i++) {
        const cl_double zero = 0.0;
        cl_event ev;
        s = HPL_CL_CHECK((w->buf[i] = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, w->len * sizeof(cl_double),
                                                     NULL, &err), err));
        if (s == HPL_OK)
            s = HPL_CL_CHECK(clEnqueueFillBuffer(dev->queue, w->buf[i], &zero, sizeof zero, 0,
                                                 w->len * sizeof(cl_double), 0, NULL, &ev));
        if (s == HPL_OK) { /* this fill, not the shared queue: other plans may be running */
            s = HPL_CL_CHECK(clWaitForEvents(1, &ev));
            clReleaseEvent(ev);
        }
    }
    for (int i = 0; i < 2 && s == HPL_OK; i++)
        s = set_args(w, i, &plan->p);
    if (s != HPL_OK) {
        release(w);
        return s;
    }
    plan->work = w;
    return HPL_OK;
}

static hpl_status naive_create(hpl_diffusion_plan *plan) { return cl_create(plan, 0); }
static hpl_status tiled_create(hpl_diffusion_plan *plan) { return cl_create(plan, 1); }

/* u into the buffer that does not hold the field, which then becomes the
 * field: a failed copy leaves the field as it was. */
static hpl_status cl_upload(hpl_diffusion_plan *plan, const double *u)
{
    cl_plan *w = plan->work;
    hpl_status s = HPL_CL_CHECK(clEnqueueWriteBuffer(w->dev->queue, w->buf[1 - w->cur], CL_TRUE, sizeof(double),
                                                     (size_t)plan->p.n * sizeof(double), u, 0, NULL, NULL));
    if (s == HPL_OK)
        w->cur = 1 - w->cur;
    return s;
}

/* Enqueue `launches` launches (steps of naive, sweeps of tiled), each timed
 * by its event; wait for them all.  A launch that cannot be enqueued ends
 * the advance with the field as far as it got (a device that refuses a
 * launch it took before has lost its state anyway). */
static hpl_status cl_advance(hpl_diffusion_plan *plan, double *kernel_seconds)
{
    cl_plan *w = plan->work;
    const int64_t steps = plan->p.steps;
    const int64_t launches = w->tiled ? (steps + w->S - 1) / w->S : steps;
    cl_event ring[RING];
    double sum = 0.0;
    hpl_status s = HPL_OK;
    int64_t i, done = 0; /* launches enqueued, and waited for */
    for (i = 0; i < launches && s == HPL_OK; i++) {
        if (i >= RING) { /* the oldest in flight: wait, time, release */
            s = HPL_CL_CHECK(clWaitForEvents(1, &ring[i % RING]));
            if (s == HPL_OK)
                s = hpl_cl_event_add(ring[i % RING], &sum);
            clReleaseEvent(ring[i % RING]);
            done++;
            if (s != HPL_OK)
                break;
        }
        cl_kernel k = w->kernel[w->cur];
        if (w->tiled) {
            cl_int now = (cl_int)(steps - i * w->S < w->S ? steps - i * w->S : w->S);
            s = HPL_CL_CHECK(clSetKernelArg(k, 4, sizeof now, &now));
            if (s != HPL_OK)
                break;
        }
        s = HPL_CL_CHECK(clEnqueueNDRangeKernel(w->dev->queue, k, 1, NULL, &w->global, &w->local, 0, NULL,
                                                &ring[i % RING]));
        if (s != HPL_OK)
            break;
        w->cur = 1 - w->cur;
    }
    /* the rest in order; on failure still wait, so that nothing runs on
     * after the call returns */
    for (; done < i; done++) {
        cl_event ev = ring[done % RING];
        hpl_status s2 = HPL_CL_CHECK(clWaitForEvents(1, &ev));
        if (s2 == HPL_OK)
            s2 = hpl_cl_event_add(ev, &sum);
        clReleaseEvent(ev);
        if (s == HPL_OK)
            s = s2;
    }
    *kernel_seconds = sum;
    return s;
}

static hpl_status cl_download(hpl_diffusion_plan *plan, double *u)
{
    cl_plan *w = plan->work;
    return HPL_CL_CHECK(clEnqueueReadBuffer(w->dev->queue, w->buf[w->cur], CL_TRUE, sizeof(double),
                                            (size_t)plan->p.n * sizeof(double), u, 0, NULL, NULL));
}

static void cl_destroy(hpl_diffusion_plan *plan)
{
    if (plan->work)
        release(plan->work);
}

/* Why the kernels cannot run here: no device, or one without doubles. */
static const char *cl_probe(void) { return hpl_cl_probe_fp64(); }

/* The device ("" without one). */
static const char *cl_detail(void) { return hpl_cl_detail(); }

const hpl_diffusion_backend hpl_diffusion_opencl_naive = {
    .create = naive_create,
    .execute = NULL,
    .destroy = cl_destroy,
    .detail = cl_detail,
    .probe = cl_probe,
    .upload = cl_upload,
    .advance = cl_advance,
    .download = cl_download,
};

const hpl_diffusion_backend hpl_diffusion_opencl_tiled = {
    .create = tiled_create,
    .execute = NULL,
    .destroy = cl_destroy,
    .detail = cl_detail,
    .probe = cl_probe,
    .upload = cl_upload,
    .advance = cl_advance,
    .download = cl_download,
};
