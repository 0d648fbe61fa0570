"""py-pyccel-c: the talk's loops as type-annotated Python, translated to C by
pyccel and compiled with gcc (not in the talk).

The kernels are _pyccel_kernels.py; the build, its cache
(~/.cache/hpcladder/pyccel/, $HPCLADDER_CACHE_DIR), the floating-point
contract (bit-identical to C with the default --fp-contract off) and the
pitfalls are in _pyccel.py, shared with py-pyccel-fortran.  gcc keeps the C
backend's diffusion loop scalar (pyccel's C arrays are strided spans); the
Fortran rung's is vectorised.
"""
import sys

from . import _protocol, _pyccel

LANGUAGE = "c"
RUNG = _pyccel.LANGUAGES[LANGUAGE]["rung"]
INSTALL = _pyccel.LANGUAGES[LANGUAGE]["install"]

# pyccel installed (looked up, not imported) and NumPy >= 2.1, else SKIPPED.
with _protocol.requires(__name__, RUNG, "pyccel", INSTALL):
    _pyccel.require()


def main(argv=None):
    return _pyccel.main(LANGUAGE, argv)


if __name__ == "__main__":
    sys.exit(main())
