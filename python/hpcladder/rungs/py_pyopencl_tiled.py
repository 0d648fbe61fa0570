"""py-pyopencl-tiled: py-pyopencl's diffusion with temporal blocking - each
work-group loads its points and a halo of TILE_STEPS points either side into
local memory and advances TILE_STEPS steps there per launch (kernel
diffusion_tiled of _opencl_src.py), so the host enqueues steps / TILE_STEPS
launches instead of one per step and the field crosses global memory once
per launch.  Same arithmetic, same field to the bit.  Device, timing and
record as py-pyopencl (see there).
"""
import sys

from . import _protocol

RUNG = "py-pyopencl-tiled"

try:
    from . import py_pyopencl
except _protocol.ToolMissing as e:
    if __name__ == "__main__":
        _protocol.skip(e.reason, e.install, RUNG)
    raise


def main(argv=None):
    return py_pyopencl.main(argv, rung=RUNG, diffusion="tiled", triangles=None)


if __name__ == "__main__":
    sys.exit(main())
