/* opencl.c - the OpenCL triangles kernels, on any OpenCL device (a GPU, or
 * the CPU through PoCL).  The counts live in one device buffer of N uint32,
 * zero-filled on the device, incremented atomically, read back once.
 *
 *   opencl-brute   the talk's double loop: one work-item per (p, a), which
 *                  loops over b (a <= b < p/2, c = p - a - b) and adds its
 *                  hits to counts[p] (at most one: b follows from p and a).
 *                  In int while c*c fits (p <= 46340, as brute.c), in
 *                  64-bit unsigned beyond.  O(N^3): a GPU's kernel, hopeless past N ~ 1e4
 *                  on a CPU.
 *   opencl-euclid  Euclid's formula: one work-item per pair m > n >= 1 (or K
 *                  work-items per pair on a GPU, each taking every K-th
 *                  multiple, so that the pairs with many multiples do not
 *                  keep one work-item busy while its neighbours idle); a
 *                  coprime pair of opposite parity is a primitive
 *                  perimeter p0 = 2m(m + n), and every multiple k p0 < N
 *                  gets an atomic_inc.  p0 and k p0 are formed in 64-bit
 *                  (2m(m + n) reaches 8e9 for N = 4e9).
 *
 * Both give brute.c's and euclid.c's counts exactly (integers throughout).
 * The launches are split so that each has at most 2^26 work-items and at
 * most 65535 rows in dimension 1 (some GPU drivers map it to a grid's y
 * extent); the kernel time is the sum of the profiled fill and launches.
 *
 * For tests, so that small N reach the paths that large N take:
 * HPCLADDER_OPENCL_LAUNCH_ITEMS=K lowers the work-items per launch (many
 * launches), HPCLADDER_OPENCL_BRUTE_INT_P_MAX=P takes the 64-bit loop above
 * p = P (0..46340) instead of above 46340. */
#include "backend.h"
#include "../common/opencl.h"

#include <stdlib.h>

/* The kernels, OpenCL C. */
static const char source[] =
    /* work-item (a - 1, p - p0) */
    "__kernel void brute(__global uint *counts, long p0, long N, long int_p_max)\n"
    "{\n"
    "    const long a = (long)get_global_id(0) + 1, p = (long)get_global_id(1) + p0;\n"
    "    if (p >= N || a >= p / 2)\n"
    "        return;\n"
    "    uint hit = 0;\n"
    "    if (p <= int_p_max) { /* the talk's int loop: c*c < 2^31 for p <= 46340 */\n"
    "        const int ai = (int)a, pi = (int)p, h = pi / 2;\n"
    "        for (int b = ai; b < h; b++) {\n"
    "            int c = pi - ai - b;\n"
    "            hit += ai * ai + b * b == c * c;\n"
    "        }\n"
    "    } else { /* unsigned: a, b < 2^31 and c < p < 2^32, so no square wraps */\n"
    "        const ulong au = a, pu = p, h = pu / 2;\n"
    "        for (ulong b = au; b < h; b++) {\n"
    "            ulong c = pu - au - b;\n"
    "            hit += au * au + b * b == c * c;\n"
    "        }\n"
    "    }\n"
    "    if (hit)\n"
    "        atomic_add(&counts[p], hit);\n"
    "}\n"
    /* work-item ((n - 1) K + lane, m - m0): multiples k = lane + 1, lane +
     * 1 + K, ... of the primitive perimeter of (m, n) */
    "__kernel void euclid(__global uint *counts, ulong N, uint m0, uint K)\n"
    "{\n"
    "    const uint lane = get_global_id(0) % K, n = get_global_id(0) / K + 1, m = get_global_id(1) + m0;\n"
    "    if (n >= m || ((m ^ n) & 1) == 0)\n"
    "        return;\n"
    "    const ulong p0 = 2ul * m * (m + n);\n"
    "    if (p0 >= N)\n"
    "        return;\n"
    "    uint x = m, y = n; /* coprime: gcd(m, n) = 1 */\n"
    "    while (y != 0) {\n"
    "        uint t = x % y;\n"
    "        x = y;\n"
    "        y = t;\n"
    "    }\n"
    "    if (x != 1)\n"
    "        return;\n"
    "    for (ulong q = (lane + 1) * p0; q < N; q += K * p0)\n"
    "        atomic_inc(&counts[q]);\n"
    "}\n";

#define MAX_ROWS 65535 /* dimension 1 per launch */
#define TALK_INT_P_MAX 46340

/* A tuning variable in [lo, hi], or def when it is unset or not a number. */
static uint64_t env_or(const char *name, uint64_t def, uint64_t lo, uint64_t hi)
{
    const char *v = getenv(name);
    char *end;
    unsigned long long x = v != NULL ? strtoull(v, &end, 10) : 0;
    if (v == NULL || v[0] == '\0' || *end != '\0')
        return def;
    return x < lo ? lo : x > hi ? hi : x;
}

/* Work-items per launch: 2^26 (HPCLADDER_OPENCL_LAUNCH_ITEMS for tests). */
static uint64_t max_items(void)
{
    return env_or("HPCLADDER_OPENCL_LAUNCH_ITEMS", (uint64_t)1 << 26, 1, (uint64_t)1 << 40);
}

/* floor(sqrt(x)) for x < 2^62. */
static uint64_t isqrt(uint64_t x)
{
    uint64_t r = 0;
    for (uint64_t bit = (uint64_t)1 << 30; bit != 0; bit >>= 1)
        if ((r | bit) * (r | bit) <= x)
            r |= bit;
    return r;
}

/* One launch of a kernel whose arguments are set, timed by its event. */
static hpl_status launch(const hpl_cl_device *dev, cl_kernel k, size_t g0, size_t g1, size_t l0, double *sum)
{
    const size_t global[2] = {(g0 + l0 - 1) / l0 * l0, g1}, local[2] = {l0, 1};
    cl_event ev;
    hpl_status s = HPL_CL_CHECK(clEnqueueNDRangeKernel(dev->queue, k, 2, NULL, global, local, 0, NULL, &ev));
    if (s != HPL_OK)
        return s;
    /* one launch in flight at a time: the launches are few and long where
     * the time goes (large N), and a failure stops at once */
    s = HPL_CL_CHECK(clWaitForEvents(1, &ev));
    if (s == HPL_OK)
        s = hpl_cl_event_add(ev, sum);
    clReleaseEvent(ev);
    return s;
}

/* Work-group width: a GPU's warp multiple; PoCL runs a group as a loop on
 * one core, and each brute item's b loop is long, so a modest group
 * balances the two cores' work. */
static size_t group_width(const hpl_cl_device *dev, cl_kernel k)
{
    size_t max = 1, L = dev->type & CL_DEVICE_TYPE_CPU ? 64 : 256;
    if (clGetKernelWorkGroupInfo(k, dev->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof max, &max, NULL) != CL_SUCCESS)
        max = 1;
    while (L > max)
        L /= 2;
    return L ? L : 1;
}

/* counts[p] for N perimeters by the brute force: rows of perimeters
 * [p0, p1), each with work-items a = 1 .. (p1 - 1) / 2. */
static hpl_status brute_run(const hpl_cl_device *dev, cl_kernel k, int64_t N, double *sum)
{
    const size_t L = group_width(dev, k);
    const uint64_t items = max_items();
    cl_long n = N, int_p_max = (cl_long)env_or("HPCLADDER_OPENCL_BRUTE_INT_P_MAX", TALK_INT_P_MAX, 0, TALK_INT_P_MAX);
    hpl_status s = HPL_CL_CHECK(clSetKernelArg(k, 2, sizeof n, &n));
    if (s == HPL_OK)
        s = HPL_CL_CHECK(clSetKernelArg(k, 3, sizeof int_p_max, &int_p_max));
    for (int64_t p0 = 0; p0 < N && s == HPL_OK;) {
        /* as many rows as the budget allows at the width of the last */
        int64_t rows = N - p0 < MAX_ROWS ? N - p0 : MAX_ROWS;
        while (rows > 1 && (uint64_t)((p0 + rows - 1) / 2 + 1) * (uint64_t)rows > items)
            rows /= 2;
        const int64_t width = (p0 + rows - 1) / 2 + 1; /* every a < p / 2 of the last row, and more */
        cl_long first = p0;
        s = HPL_CL_CHECK(clSetKernelArg(k, 1, sizeof first, &first));
        if (s == HPL_OK)
            s = launch(dev, k, (size_t)width, (size_t)rows, L, sum);
        p0 += rows;
    }
    return s;
}

/* counts[p] for N perimeters by Euclid's formula: rows of m in [m0, m1),
 * each with K work-items per n = 1 .. m1 - 2. */
static hpl_status euclid_run(const hpl_cl_device *dev, cl_kernel k, int64_t N, double *sum)
{
    const size_t L = group_width(dev, k);
    const uint64_t items = max_items();
    /* a CPU core runs a pair's multiples fastest in one loop; a GPU spreads
     * them over a warp's lanes */
    const cl_uint K = dev->type & CL_DEVICE_TYPE_CPU ? 1 : 32;
    const uint64_t mmax = isqrt((uint64_t)N / 2) + 1; /* 2 m (m + 1) < N  =>  m < sqrt(N / 2) */
    cl_ulong n = (cl_ulong)N;
    hpl_status s = HPL_CL_CHECK(clSetKernelArg(k, 1, sizeof n, &n));
    if (s == HPL_OK)
        s = HPL_CL_CHECK(clSetKernelArg(k, 3, sizeof K, &K));
    for (uint64_t m0 = 2; m0 <= mmax && s == HPL_OK;) {
        /* as many rows as the budget allows at the width of the last:
         * n <= m - 1 <= m0 + rows - 2 */
        uint64_t rows = mmax + 1 - m0 < MAX_ROWS ? mmax + 1 - m0 : MAX_ROWS;
        while (rows > 1 && (m0 + rows - 2) * K * rows > items)
            rows /= 2;
        const uint64_t width = (m0 + rows - 2) * K;
        cl_uint first = (cl_uint)m0;
        s = HPL_CL_CHECK(clSetKernelArg(k, 2, sizeof first, &first));
        if (s == HPL_OK)
            s = launch(dev, k, (size_t)width, (size_t)rows, L, sum);
        m0 += rows;
    }
    return s;
}

/* The device counts of kernel `name` into counts, each part timed into *t
 * (see backend.h); counts is written only by the final read. */
static hpl_status cl_count(int64_t N, uint32_t *counts, hpl_times *t, int euclid)
{
    const hpl_cl_device *dev;
    double context = 0.0, build = 0.0;
    hpl_status s = hpl_cl_acquire(&dev, &context);
    t->context = context;
    if (s != HPL_OK)
        return s;
    cl_program program;
    s = hpl_cl_program(source, &program, &build);
    t->context += build; /* the build belongs to the start-up (hpl_times) */
    if (s != HPL_OK)
        return s;
    const uint64_t bytes = (uint64_t)N * sizeof(uint32_t);
    if ((s = hpl_cl_fits(dev, euclid ? "opencl-euclid's counts" : "opencl-brute's counts", bytes, 1)) != HPL_OK)
        return s;

    double t0 = hpl_wtime();
    cl_int err;
    cl_mem buf = NULL;
    cl_kernel k = NULL;
    s = HPL_CL_CHECK((buf = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, (size_t)bytes, NULL, &err), err));
    if (s == HPL_OK)
        s = HPL_CL_CHECK((k = clCreateKernel(program, euclid ? "euclid" : "brute", &err), err));
    if (s == HPL_OK)
        s = HPL_CL_CHECK(clSetKernelArg(k, 0, sizeof buf, &buf));
    double t1 = hpl_wtime();
    t->setup = t1 - t0;

    double sum = 0.0;
    if (s == HPL_OK) {
        /* every count starts at 0 (odd p and p < 12 stay so) */
        const cl_uint zero = 0;
        cl_event ev;
        s = HPL_CL_CHECK(clEnqueueFillBuffer(dev->queue, buf, &zero, sizeof zero, 0, (size_t)bytes, 0, NULL, &ev));
        if (s == HPL_OK) {
            s = HPL_CL_CHECK(clWaitForEvents(1, &ev));
            if (s == HPL_OK)
                s = hpl_cl_event_add(ev, &sum);
            clReleaseEvent(ev);
        }
    }
    if (s == HPL_OK)
        s = euclid ? euclid_run(dev, k, N, &sum) : brute_run(dev, k, N, &sum);
    double t2 = hpl_wtime();
    t->compute = t2 - t1;
    t->kernel = sum;
    if (s == HPL_OK) {
        s = HPL_CL_CHECK(clEnqueueReadBuffer(dev->queue, buf, CL_TRUE, 0, (size_t)bytes, counts, 0, NULL, NULL));
        t->download = hpl_wtime() - t2;
    }
    if (k != NULL)
        clReleaseKernel(k);
    if (buf != NULL)
        clReleaseMemObject(buf);
    return s;
}

static hpl_status brute_count_timed(int64_t N, uint32_t *counts, hpl_times *t) { return cl_count(N, counts, t, 0); }
static hpl_status euclid_count_timed(int64_t N, uint32_t *counts, hpl_times *t) { return cl_count(N, counts, t, 1); }

static const char *cl_detail(void) { return hpl_cl_detail(); }
static const char *cl_probe(void) { return hpl_cl_probe(); }

const hpl_triangles_backend hpl_triangles_opencl_brute = {
    .count = NULL,
    .count_timed = brute_count_timed,
    .detail = cl_detail,
    .probe = cl_probe,
};

const hpl_triangles_backend hpl_triangles_opencl_euclid = {
    .count = NULL,
    .count_timed = euclid_count_timed,
    .detail = cl_detail,
    .probe = cl_probe,
};
