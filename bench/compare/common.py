"""Shared set-up of the PyTorch/JAX counterparts of crates/descent-bench/benches/step.rs."""

import json
import statistics
import time

import numpy as np

# (name, sizes, batch) -- the same nets and batches as the Rust benchmarks
NETS = [
    ("784-256-10/128", [784, 256, 10], 128),
    ("2-64-64-1/16", [2, 64, 64, 1], 16),
    ("2-64-64-1/256", [2, 64, 64, 1], 256),
]


def data(sizes, batch, seed=0):
    """4 * batch float64 samples; class labels for a wide output, one real target otherwise."""
    rng = np.random.default_rng(seed)
    n = 4 * batch
    x = rng.standard_normal((n, sizes[0]))
    if sizes[-1] > 1:
        y = np.arange(n) % sizes[-1]
    else:
        y = rng.standard_normal((n, 1))
    return x, y


def xavier(sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for fi, fo in zip(sizes[:-1], sizes[1:]):
        lim = np.sqrt(6.0 / (fi + fo))
        params.append((rng.uniform(-lim, lim, (fo, fi)), np.zeros(fo)))
    return params


def measure(step, repeats=15, target_s=0.2, warmup=20):
    """Median over `repeats` of the mean time of one step (seconds); each repeat runs enough
    steps to last about `target_s`."""
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    k = 0
    while time.perf_counter() - t0 < 0.05:
        step()
        k += 1
    per = (time.perf_counter() - t0) / k
    n = max(5, int(target_s / per))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        times.append((time.perf_counter() - t0) / n)
    return statistics.median(times)


def report(framework, version, name, seconds):
    print(json.dumps({"framework": framework, "version": version, "net": name,
                      "median_step_us": seconds * 1e6}))
