"""py-cython-untyped: the talk's find_num_solutions.pyx compiled by Cython
without any type declarations (_cy_triangles_untyped), called from the
talk's Python loop over p.  Shows that compiling alone buys little.
"""
import sys

from . import _protocol

_INSTALL = "pip install cython, then reinstall hpcladder (pip install .)"
with _protocol.requires(__name__, "py-cython-untyped", "the Cython-compiled rung module", _INSTALL):
    from . import _cy_triangles_untyped

RUNG = "py-cython-untyped"


def count(N):
    """counts[p] for p = 0..N-1: the talk's loop calling the untyped function."""
    find_num_solutions = _cy_triangles_untyped.find_num_solutions
    counts = [0] * N
    for i in range(1, N):
        counts[i] = find_num_solutions(i)
    return counts


def main(argv=None):
    return _protocol.main(RUNG, argv, triangles=lambda a: _protocol.run_triangles(RUNG, a, count))


if __name__ == "__main__":
    sys.exit(main())
