"""py-pyopencl-euclid: py-pyopencl's triangles by Euclid's formula - one
work-item per (m, k) with m > k >= 1 coprime and of opposite parity makes
the primitive perimeter p0 = 2m(m + k) and adds 1 (atomic_inc) at every
multiple of p0 below N (kernel triangles_euclid of _opencl_src.py): about
N log N / 2 increments instead of the brute force's N^3 / 24 tests.  Device,
timing and record as py-pyopencl (see there).
"""
import sys

from . import _protocol

RUNG = "py-pyopencl-euclid"

try:
    from . import py_pyopencl
except _protocol.ToolMissing as e:
    if __name__ == "__main__":
        _protocol.skip(e.reason, e.install, RUNG)
    raise


def main(argv=None):
    return py_pyopencl.main(argv, rung=RUNG, diffusion=None, triangles="euclid")


if __name__ == "__main__":
    sys.exit(main())
