"""py-torch: PyTorch tensors on the CPU as a rung of your own ladder file
(examples/ladders/beyond.toml), run under the harness's interpreter.

    python torch_rung.py diffusion --n 100000 --steps 2000 --repeats 3 --json

diffusion: the talk's NumPy slice expression on tensors,
    v[1:-1] = u[1:-1] + r*(u[2:] - 2*u[1:-1] + u[:-2]);  u, v = v, u
over two float64 tensors made with torch.from_numpy (no copy) and swapped
after each step instead of copied back, inside torch.inference_mode() (no
autograd bookkeeping).  Both tensors start as the initial field, so v's
ends are the fixed ends.  The final tensor is turned back into NumPy
(Tensor.numpy(), no copy) after the timer stops.
Threads: torch.set_num_threads(--threads), 1 for a serial rung; torch's
default (one intra-op thread per core) was slower at n = 1e5 (1.37 s vs
0.86 s for 2000 steps on 2 cores).

triangles: not implemented.  The talk's loops (for a, for b < p, per p) have
trip counts that depend on the data, which no tensor operation expresses;
run element by element they would time Python's interpreter calling torch
scalar ops.  The tensor form is a different algorithm: an (a, b) grid with
c = round(sqrt(a^2 + b^2)), the exact squares masked in and histogrammed by
p (torch.bincount), O(N^2) like py-numpy's vectorised counting, so it
would measure that algorithm change again, not torch.
"""
import sys

try:
    from hpcladder.rungs import _protocol
except ImportError as exc:
    sys.stderr.write("torch_rung.py: cannot import hpcladder (%s); run it through `hpcladder run --ladder "
                     "beyond.toml`, or with hpcladder installed\n" % exc)
    sys.exit(1)

RUNG = "py-torch"
INSTALL = ("pip install torch --index-url https://download.pytorch.org/whl/cpu   "
           "(CPU-only; plain `pip install torch` is the 5.3 GB CUDA build)")

with _protocol.requires(__name__, RUNG, "PyTorch", INSTALL):
    import numpy as np
    import torch


def run_diffusion(args):
    torch.set_num_threads(args.threads)

    def prepare(u0):
        u = torch.from_numpy(np.array(u0, dtype=np.float64))
        return u, u.clone()

    def solve(state, r, steps):
        u, v = state
        with torch.inference_mode():
            for _ in range(steps):
                v[1:-1] = u[1:-1] + r * (u[2:] - 2.0 * u[1:-1] + u[:-2])
                u, v = v, u
        return u

    extra = {"torch": torch.__version__, "torch_threads": torch.get_num_threads(),
             "torch_cuda_build": torch.version.cuda, "numpy": np.__version__}
    return _protocol.run_diffusion(RUNG, args, solve, prepare=prepare, extra=extra,
                                   fetch=lambda u: u.numpy())


def main(argv=None):
    return _protocol.main(RUNG, argv, diffusion=run_diffusion)


if __name__ == "__main__":
    sys.exit(main())
