# The py-mojo rung's kernels: the talk's loops in Mojo, built into the Python
# extension module hpl_mojo by hpcladder.rungs.py_mojo
# (mojo build --emit shared-lib --fp-mode contract=off ... -o hpl_mojo.so).
#
# Written for and tested with Mojo 1.2.0 (hpcladder.tools.MOJO_VERSION).  The
# language changes from release to release; in 1.2.0:
#   - the standard library is imported as std.* (std.python, std.os);
#   - @export wants an explicit abi("C") effect (a warning without it);
#   - UnsafePointer is deprecated in favour of Pointer, and p[i] in favour of
#     p[unsafe_offset=i]: both spellings below are the 1.2.0 ones, which
#     compile without a warning;
#   - a function that may raise says `raises` (def no longer implies it).
#
# The arrays come from NumPy: the caller (py_mojo.py) checks their dtype,
# contiguity and length; these functions trust it and reach the memory
# through the address NumPy reports (arr.ctypes.data).

from std.os import abort
from std.python import Python, PythonObject
from std.python.bindings import PythonModuleBuilder


@export
def PyInit_hpl_mojo() abi("C") -> PythonObject:
    """The module's init function: Python's import looks up
    PyInit_<module name>, so the name must match the file the build makes."""
    try:
        var m = PythonModuleBuilder("hpl_mojo")
        m.def_function[diffuse](
            "diffuse",
            docstring="diffuse(u, v, r, steps): steps explicit steps over the float64 arrays u and v (both hold the "
            "initial field); returns the one that holds the final field (u for an even count, else v)",
        )
        m.def_function[count](
            "count",
            docstring="count(N, counts): counts[p] for p = 0..N-1 into the uint32 array counts (length N)",
        )
        return m.finalize()
    except e:
        # An init function cannot raise into Python here: stop with the reason.
        abort(String("hpl_mojo: cannot create the module: ", e))


def diffuse(
    u_obj: PythonObject, v_obj: PythonObject, r_obj: PythonObject, steps_obj: PythonObject
) raises -> PythonObject:
    """Contract: u and v are C-contiguous float64 arrays of the same length
    n, both holding the initial field (v's ends are u's: they are never
    written).  Advances `steps` steps of
        new[i] = u[i] + r*((u[i+1] + u[i-1]) - 2*u[i]),  0 < i < n-1
    alternating the roles of the two arrays (the C serial kernel's pointer
    swap, no copy), and returns the array object that holds the final field.
    """
    var n = Int(py=u_obj.size)
    var r = Float64(py=r_obj)
    var steps = Int(py=steps_obj)
    var u = Pointer[Float64, MutAnyOrigin](unsafe_from_address=Int(py=u_obj.ctypes.data))
    var v = Pointer[Float64, MutAnyOrigin](unsafe_from_address=Int(py=v_obj.ctypes.data))
    for _ in range(steps):
        # The reference's order of operations, term by term: with
        # --fp-mode contract=off no FMA is formed, so the field is
        # bit-identical to hpcladder.slow and to the C naive loop.
        for i in range(1, n - 1):
            v[unsafe_offset=i] = u[unsafe_offset=i] + r * (
                (u[unsafe_offset=i + 1] + u[unsafe_offset=i - 1]) - 2.0 * u[unsafe_offset=i]
            )
        var t = u
        u = v
        v = t
    if steps % 2 == 0:
        return u_obj
    return v_obj


def find_num_solutions(p: Int) -> Int:
    """The talk's find_num_solutions(p): the number of a <= b < c with
    a + b + c = p and a^2 + b^2 = c^2, by its brute-force loops (64-bit
    integers: a^2 + b^2 cannot overflow for any p a loop can reach)."""
    var n = 0
    for a in range(1, p // 2):
        for b in range(a, p):
            var c = p - a - b
            if c > 0:
                if a * a + b * b == c * c:
                    n += 1
    return n


def count(N_obj: PythonObject, counts_obj: PythonObject) raises -> PythonObject:
    """Contract: counts is a C-contiguous uint32 array of length N >= 1,
    zero at index 0.  Fills counts[p] = find_num_solutions(p) for
    p = 1..N-1, the talk's loop over p; returns None."""
    var N = Int(py=N_obj)
    var counts = Pointer[UInt32, MutAnyOrigin](unsafe_from_address=Int(py=counts_obj.ctypes.data))
    for p in range(1, N):
        counts[unsafe_offset=p] = UInt32(find_num_solutions(p))
    return PythonObject(None)
