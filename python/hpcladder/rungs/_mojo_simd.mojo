# The py-mojo-simd rung's kernel: the diffusion step vectorised by hand with
# SIMD loads and stores, built into the Python extension module
# hpl_mojo_simd by hpcladder.rungs.py_mojo_simd
# (mojo build --emit shared-lib --fp-mode contract=off ... -o hpl_mojo_simd.so).
#
# Written for and tested with Mojo 1.2.0 (hpcladder.tools.MOJO_VERSION); the
# 1.2.0 spellings (std.*, abi("C"), Pointer, unsafe_offset=, unsafe_load /
# unsafe_store) are explained in _mojo_kernels.mojo.
#
# Why by hand: Mojo compiled py-mojo's scalar loop to scalar instructions
# (vaddsd/vmulsd, no packed ones, in `mojo build --emit asm`): the compiler
# does not vectorise it for us.  Here each step is W lanes at a time, W being
# the host's float64 SIMD width (8 with AVX-512, 4 with AVX2), then a scalar
# tail for the last (n-2) mod W points.

from std.os import abort
from std.python import Python, PythonObject
from std.python.bindings import PythonModuleBuilder
from std.sys import simd_width_of

# float64 lanes per SIMD register of the CPU the module is built for (the
# build's target is the host CPU; the build cache keys it by CPU).
comptime W = simd_width_of[DType.float64]()


@export
def PyInit_hpl_mojo_simd() abi("C") -> PythonObject:
    """The module's init function (Python looks up PyInit_<module name>)."""
    try:
        var m = PythonModuleBuilder("hpl_mojo_simd")
        m.def_function[diffuse](
            "diffuse",
            docstring="diffuse(u, v, r, steps): steps explicit steps over the float64 arrays u and v (both hold the "
            "initial field), W lanes at a time; returns the one that holds the final field",
        )
        m.def_function[simd_width]("simd_width", docstring="the float64 SIMD width W the module was built with")
        return m.finalize()
    except e:
        abort(String("hpl_mojo_simd: cannot create the module: ", e))


def simd_width() raises -> PythonObject:
    """Contract: returns W (an int), for the rung's record."""
    return PythonObject(W)


def diffuse(
    u_obj: PythonObject, v_obj: PythonObject, r_obj: PythonObject, steps_obj: PythonObject
) raises -> PythonObject:
    """Contract: as _mojo_kernels.mojo's diffuse: u and v are C-contiguous
    float64 arrays of the same length n, both holding the initial field;
    advances `steps` steps alternating the two and returns the array object
    that holds the final field.  Each lane does the scalar kernel's
    arithmetic in the same order, so the field is the same to the bit."""
    var n = Int(py=u_obj.size)
    var r = Float64(py=r_obj)
    var steps = Int(py=steps_obj)
    var u = Pointer[Float64, MutAnyOrigin](unsafe_from_address=Int(py=u_obj.ctypes.data))
    var v = Pointer[Float64, MutAnyOrigin](unsafe_from_address=Int(py=v_obj.ctypes.data))
    var rw = SIMD[DType.float64, W](r)  # r in every lane, made once
    for _ in range(steps):
        var i = 1
        # Unaligned loads of u[i-1..], u[i..], u[i+1..]: three overlapping
        # windows of the same cache lines (cheaper than shuffling one load).
        while i + W <= n - 1:
            var c = u.unsafe_load[width=W](i)
            var left = u.unsafe_load[width=W](i - 1)
            var right = u.unsafe_load[width=W](i + 1)
            v.unsafe_store(i, c + rw * ((right + left) - 2.0 * c))
            i += W
        # The tail: fewer than W interior points left (all of them when n - 2 < W).
        while i < n - 1:
            v[unsafe_offset=i] = u[unsafe_offset=i] + r * (
                (u[unsafe_offset=i + 1] + u[unsafe_offset=i - 1]) - 2.0 * u[unsafe_offset=i]
            )
            i += 1
        var t = u
        u = v
        v = t
    if steps % 2 == 0:
        return u_obj
    return v_obj
