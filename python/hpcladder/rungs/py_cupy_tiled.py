"""py-cupy-tiled: py-pycuda-tiled's kernel (diffusion_tiled of _cuda_src.py,
TILE_STEPS steps per launch in shared memory) driven by CuPy.  Same
arithmetic, same field to the bit.  Device, timing and record as py-cupy
(see there).
"""
import sys

from . import _protocol

RUNG = "py-cupy-tiled"

try:
    from . import py_cupy
except _protocol.ToolMissing as e:
    if __name__ == "__main__":
        _protocol.skip(e.reason, e.install, RUNG)
    raise


def main(argv=None):
    return py_cupy.main(argv, rung=RUNG, tiled=True)


if __name__ == "__main__":
    sys.exit(main())
