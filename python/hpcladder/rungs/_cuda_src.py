"""CUDA C sources of the Python CUDA rungs, compiled at run time: by nvcc
through pycuda.compiler.SourceModule (py-pycuda, py-pycuda-tiled) and by
NVRTC through cupy.RawKernel (py-cupy), the same strings, so that
py_pycuda.py and py_cupy.py differ only in the driver calls.

The kernels are declared extern "C" (CuPy finds them by their plain name;
PyCUDA is told no_extern_c=True).  The OpenCL C twins are in
_opencl_src.py.  Diffusion computes u[i] + r*((u[i+1] + u[i-1]) - 2*u[i]) in
that order, compiled with OPTIONS (--fmad=false: no a*b+c fused into an fma,
as libhpcladder's CUDA kernels are built), so the field is the C serial
kernel's to the bit.

Standard library only (the strings are plain text).
"""

# nvcc and NVRTC both take it.
OPTIONS = ("--fmad=false",)

# Threads per block, and steps per launch of the tiled kernel (its halo).
BLOCK = 256
TILE_STEPS = 32

# One explicit step: u -> unew on the interior (the ends are never written:
# both buffers hold the initial field's ends).  One thread per point; the
# host swaps the buffers between launches.
DIFFUSION_NAIVE = r"""
extern "C" __global__ void diffusion_step(const double *u, double *unew, const double r, const int n)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i > 0 && i < n - 1)
        unew[i] = u[i] + r * ((u[i + 1] + u[i - 1]) - 2.0 * u[i]);
}
"""

# Temporal blocking: a block of BLOCK threads owns BLOCK points and loads
# them with HALO points either side into shared memory, advances `steps` <=
# HALO steps there (after s steps the points within s of the tile's edges
# are stale, so the owned middle is exact after HALO), and writes its points
# back: one launch and one trip to global memory per HALO steps instead of
# per step.  Points outside the field are never updated; the ends (0 and
# n-1) are copied unchanged.  Launched with blockDim.x == BLOCK.
DIFFUSION_TILED = r"""
#ifndef BLOCK
#define BLOCK 256
#endif
#ifndef HALO
#define HALO 32
#endif
#define WIDTH (BLOCK + 2 * HALO)

extern "C" __global__ void __launch_bounds__(BLOCK)
diffusion_tiled(const double *u, double *unew, const double r, const int n, const int steps)
{
    __shared__ double buf[2][WIDTH];
    const int tid = threadIdx.x;
    const long long base = (long long)blockIdx.x * BLOCK - HALO;   /* field index of buf[.][0] */

    for (int j = tid; j < WIDTH; j += BLOCK) {
        const long long g = base + j;
        buf[0][j] = (g >= 0 && g < n) ? u[g] : 0.0;
    }
    __syncthreads();
    int src = 0;
    for (int s = 0; s < steps; s++) {
        const double *a = buf[src];
        double *b = buf[1 - src];
        for (int j = tid; j < WIDTH; j += BLOCK) {
            if (j > s && j < WIDTH - 1 - s) {
                const long long g = base + j;
                if (g > 0 && g < n - 1)
                    b[j] = a[j] + r * ((a[j + 1] + a[j - 1]) - 2.0 * a[j]);
                else
                    b[j] = a[j];
            }
        }
        __syncthreads();
        src = 1 - src;
    }
    const long long g = base + HALO + tid;
    if (g < n)
        unew[g] = buf[src][HALO + tid];
}
"""

# The talk's brute force, one thread per (a, p): b from a while b < p/2,
# c = p - a - b (its C findnumsolutions' bounds), the hits of the row added
# to counts[p] with atomicAdd.  WIDE=0 computes in 32-bit ints as the
# talk's C does, exact while a^2 + b^2 < 2^31, i.e. for p <= P_MAX_32 (a
# GPU's 64-bit integer multiply takes several instructions); WIDE=1 in
# 64-bit, for a run whose N needs it.  Grid: x over a (ceil(N/2) threads), y over p,
# striding by gridDim.y (at most 65535 rows).
TRIANGLES_BRUTE = r"""
#if WIDE
typedef long long word;
#else
typedef int word;
#endif
extern "C" __global__ void triangles_brute(unsigned int *counts, const long long N)
{
    const word a = (word)(blockIdx.x * blockDim.x + threadIdx.x) + 1;
    for (word p = blockIdx.y; p < N; p += gridDim.y) {
        const word h = p / 2;
        if (a >= h)
            continue;
        unsigned int found = 0;
        for (word b = a; b < h; b++) {
            const word c = p - a - b;
            if (a * a + b * b == c * c)
                found++;
        }
        if (found)
            atomicAdd(&counts[p], found);
    }
}
"""

# The largest perimeter the 32-bit brute force (WIDE=0) counts exactly.
P_MAX_32 = 46340

# The largest gridDim.y.
MAX_GRID_Y = 65535
