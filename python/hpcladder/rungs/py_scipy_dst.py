"""py-scipy-dst: diffusion at the top of the ladder, in a few lines of NumPy.

The explicit scheme with fixed ends is u(t+1) = A u(t).  Subtract the straight
line through the two ends (the scheme leaves it alone: its second difference
is zero); what remains is diagonalised by the discrete sine transform DST-I,
mode k = 1..n-2 being multiplied by lambda_k = 1 - 4 r sin^2(k pi / (2(n-1)))
each step.  So after T steps

    u(T) = line + IDST( lambda^T * DST(u0 - line) )

- two transforms, whatever T is.  It is the same discrete answer the loops
compute (not an approximation of the PDE); it differs from them by rounding
only.  The C kernel `spectral` does the same with FFTW; docs/spectral.md has
the derivation.
"""
import sys

from . import _protocol

with _protocol.requires(__name__, "py-scipy-dst", "SciPy", "pip install scipy"):
    import numpy as np
    from scipy import fft

RUNG = "py-scipy-dst"


def decay(n, r, steps):
    """lambda_k**steps for k = 1..n-2, accurate for any steps: exp(T log1p(.))
    keeps lambda ~ 1 - 1e-10 exact where lambda**T would lose T*1e-16, and
    the cosine form avoids cancelling 4 r s^2 - 1 for top modes at r ~ 1/2."""
    k = np.arange(1, n - 1)
    if steps == 0:
        return np.ones(n - 2)
    h = np.pi / (2 * (n - 1))
    s, c = np.sin(k * h), np.sin((n - 1 - k) * h)  # sin and cos of k*h
    x = 4 * r * s * s                               # lambda = 1 - x
    out = np.empty(n - 2)
    pos = x <= 1.0                                  # lambda >= 0
    with np.errstate(divide="ignore"):              # log1p(-1) = -inf -> factor 0
        out[pos] = np.exp(steps * np.log1p(-x[pos]))
    neg = ~pos                                      # |lambda| - 1 = (4r-2) - 4r c^2
    out[neg] = (-1.0) ** (steps % 2) * np.exp(steps * np.log1p((4 * r - 2) - 4 * r * c[neg] ** 2))
    return out


def diffuse(u, r, steps):
    """The field after `steps` steps from u (float64 array, ends fixed)."""
    n = len(u)
    line = u[0] + (u[-1] - u[0]) * np.arange(n) / (n - 1)
    v = fft.dst(u[1:-1] - line[1:-1], type=1)       # to the sine modes
    out = u.copy()
    out[1:-1] = line[1:-1] + fft.idst(v * decay(n, r, steps), type=1)
    return out


def main(argv=None):
    return _protocol.main(
        RUNG, argv,
        diffusion=lambda a: _protocol.run_diffusion(RUNG, a, diffuse, prepare=np.array))


if __name__ == "__main__":
    sys.exit(main())
