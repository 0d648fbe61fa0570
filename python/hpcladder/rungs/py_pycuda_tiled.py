"""py-pycuda-tiled: py-pycuda's diffusion with temporal blocking - each block
loads its points and a halo of TILE_STEPS points either side into shared
memory and advances TILE_STEPS steps there per launch (diffusion_tiled of
_cuda_src.py), so Python makes steps / TILE_STEPS launches instead of one per
step and the field crosses global memory once per launch.  Same arithmetic,
same field to the bit.  Device, timing and record as py-pycuda (see there).
"""
import sys

from . import _protocol

RUNG = "py-pycuda-tiled"

try:
    from . import py_pycuda
except _protocol.ToolMissing as e:
    if __name__ == "__main__":
        _protocol.skip(e.reason, e.install, RUNG)
    raise


def main(argv=None):
    return py_pycuda.main(argv, rung=RUNG, tiled=True)


if __name__ == "__main__":
    sys.exit(main())
