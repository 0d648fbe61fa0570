"""OpenCL C sources of the py-pyopencl rungs (py-pyopencl, py-pyopencl-tiled,
py-pyopencl-euclid), compiled at run time by the OpenCL driver.

The kernels are the CUDA ones of _cuda_src.py written in OpenCL C
(get_global_id for blockIdx * blockDim + threadIdx, __local for __shared__,
barrier for __syncthreads, atomic_add / atomic_inc for atomicAdd); the two
files are kept side by side so that a diff shows only the dialect.

Diffusion computes u[i] + r*((u[i+1] + u[i-1]) - 2*u[i]) in that order and
`#pragma OPENCL FP_CONTRACT OFF` forbids fusing a*b+c into an fma, so an
IEEE double device gives the C serial kernel's field to the bit.

Standard library only (the strings are plain text).
"""

# Work-items per work-group of the diffusion kernels (capped by the device's
# and the kernel's limits at run time), and steps per launch of the tiled one.
LOCAL_SIZE = 256
TILE_STEPS = 32

_PROLOGUE = r"""
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#pragma OPENCL FP_CONTRACT OFF
"""

# One explicit step: u -> unew on the interior (the ends are never written:
# both buffers hold the initial field's ends).  One work-item per point.
DIFFUSION_NAIVE = _PROLOGUE + r"""
__kernel void diffusion_step(__global const double *u, __global double *unew, const double r, const int n)
{
    const int i = get_global_id(0);
    if (i > 0 && i < n - 1)
        unew[i] = u[i] + r * ((u[i + 1] + u[i - 1]) - 2.0 * u[i]);
}
"""

# Temporal blocking: a work-group of LOCAL_SIZE work-items owns LOCAL_SIZE
# points and loads them with HALO points either side into local memory,
# advances `steps` <= HALO steps there (after s steps the points within s of
# the tile's edges are stale, so the owned middle is exact after HALO), and
# writes its points back: one launch and one trip to global memory per HALO
# steps instead of per step.  Points outside the field are never updated;
# the ends (0 and n-1) are copied unchanged.  Compiled with -DLOCAL_SIZE=..
# -DHALO=.. (the defaults below).
DIFFUSION_TILED = _PROLOGUE + r"""
#ifndef LOCAL_SIZE
#define LOCAL_SIZE 256
#endif
#ifndef HALO
#define HALO 32
#endif
#define WIDTH (LOCAL_SIZE + 2 * HALO)

__kernel __attribute__((reqd_work_group_size(LOCAL_SIZE, 1, 1)))
void diffusion_tiled(__global const double *u, __global double *unew, const double r, const int n,
                     const int steps)
{
    __local double buf0[WIDTH], buf1[WIDTH];
    __local double *src = buf0, *dst = buf1, *t;
    const int lid = get_local_id(0);
    const long base = (long)get_group_id(0) * LOCAL_SIZE - HALO;   /* field index of buf[0] */

    for (int j = lid; j < WIDTH; j += LOCAL_SIZE) {
        const long g = base + j;
        src[j] = (g >= 0 && g < n) ? u[g] : 0.0;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = 0; s < steps; s++) {
        for (int j = lid; j < WIDTH; j += LOCAL_SIZE) {
            if (j > s && j < WIDTH - 1 - s) {
                const long g = base + j;
                if (g > 0 && g < n - 1)
                    dst[j] = src[j] + r * ((src[j + 1] + src[j - 1]) - 2.0 * src[j]);
                else
                    dst[j] = src[j];
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        t = src; src = dst; dst = t;
    }
    const long g = base + HALO + lid;
    if (g < n)
        unew[g] = src[HALO + lid];
}
"""

# The talk's brute force, one work-item per (a, p): b from a while b < p/2,
# c = p - a - b (its C findnumsolutions' bounds), the hits of the row added
# to counts[p] atomically.  WIDE=0 computes in 32-bit ints as the talk's C
# does, exact while a^2 + b^2 < 2^31, i.e. for p <= P_MAX_32 (5x faster on
# PoCL than 64-bit); WIDE=1 in 64-bit, for a run whose N needs it.
# Global size (ceil(N/2), N).
TRIANGLES_BRUTE = r"""
#if WIDE
typedef long word;
#else
typedef int word;
#endif
__kernel void triangles_brute(__global uint *counts, const long N)
{
    const word a = (word)get_global_id(0) + 1;
    const word p = (word)get_global_id(1);
    const word h = p / 2;
    if (p >= N || a >= h)
        return;
    uint found = 0;
    for (word b = a; b < h; b++) {
        const word c = p - a - b;
        if (a * a + b * b == c * c)
            found++;
    }
    if (found)
        atomic_add(&counts[p], found);
}
"""

# The largest perimeter the 32-bit brute force (WIDE=0) counts exactly.
P_MAX_32 = 46340

# Euclid's formula, one work-item per (m, k), 1 <= k < m: if m and k are
# coprime and of opposite parity, (m^2 - k^2, 2mk, m^2 + k^2) is a primitive
# right triangle of perimeter p0 = 2m(m + k), and every right triangle is
# exactly one multiple of one primitive: +1 at every multiple of p0 below N.
# Global size (M - 1, M - 1) for m = 2 .. M, M the largest m with
# 2m(m + 1) < N.
TRIANGLES_EUCLID = r"""
__kernel void triangles_euclid(__global uint *counts, const ulong N, const uint M)
{
    const uint m = get_global_id(0) + 2;
    const uint k = get_global_id(1) + 1;
    if (m > M || k >= m || ((m - k) & 1u) == 0)
        return;
    uint x = m, y = k;
    while (y != 0) {
        const uint t = x % y;
        x = y;
        y = t;
    }
    if (x != 1)
        return;
    const ulong p0 = 2ul * m * (m + k);
    for (ulong p = p0; p < N; p += p0)
        atomic_inc(&counts[p]);
}
"""
