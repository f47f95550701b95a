"""Overhead per step of descent.Optimizer("adam") on a 1e5-parameter float64 vector, side by side
with Adam in numpy written for speed (preallocated buffers, in-place ufuncs, torch.optim.Adam's
equations) and, when torch is installed, torch.optim.Adam (float64; default, fused=True and foreach=True).

Run: python python/bench/adam_step.py   (prints the median CPU time per step of each, in µs: CPU time, not wall time, so other load on the machine does not inflate it)
"""

import math
import time

import numpy as np

import descent

N, STEPS, REPEATS = 100_000, 200, 7


class NumpyAdam:
    """torch.optim.Adam's update in numpy, without temporaries: 8 passes over memory."""

    def __init__(self, n, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.buf = np.zeros(n), np.zeros(n), np.empty(n)
        self.t = 0

    def step(self, x, g):
        self.t += 1
        m, v, buf = self.m, self.v, self.buf
        m *= self.b1
        np.multiply(g, 1 - self.b1, out=buf)
        m += buf
        v *= self.b2
        np.multiply(g, g, out=buf)
        buf *= 1 - self.b2
        v += buf
        np.sqrt(v, out=buf)
        buf *= 1 / math.sqrt(1 - self.b2**self.t)
        buf += self.eps
        np.divide(m, buf, out=buf)
        buf *= self.lr / (1 - self.b1**self.t)
        x -= buf


def per_step_us(step, x, g):
    best = []
    for _ in range(REPEATS):
        t0 = time.process_time()
        for _ in range(STEPS):
            step(x, g)
        best.append((time.process_time() - t0) / STEPS * 1e6)
    return float(np.median(best))


def main():
    rng = np.random.default_rng(0)
    g = rng.standard_normal(N)
    rows = []
    opt = descent.Optimizer("adam(lr=1e-3)", shapes=[N])
    x = rng.standard_normal(N)
    rows.append(("descent.Optimizer adam", per_step_us(lambda x, g: opt.step([x], [g]), x, g)))
    tiny = descent.Optimizer("adam(lr=1e-3)", shapes=[1])
    x1, g1 = np.zeros(1), np.ones(1)
    rows.append(("  same, 1 parameter", per_step_us(lambda x, g: tiny.step([x], [g]), x1, g1)))
    npa = NumpyAdam(N)
    x = rng.standard_normal(N)
    rows.append(("numpy Adam (in place)", per_step_us(npa.step, x, g)))
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)
        p = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(N)))
        p.grad = torch.from_numpy(g.copy())
        for label, kw in (("", {}), (" fused", {"fused": True}), (" foreach", {"foreach": True})):
            topt = torch.optim.Adam([p], lr=1e-3, **kw)
            step = topt.step
            rows.append((f"torch.optim.Adam{label}", per_step_us(lambda x, g: step(), None, None)))
    for name, us in rows:
        print(f"{name:<26} {us:8.1f} µs/step")


if __name__ == "__main__":
    main()
