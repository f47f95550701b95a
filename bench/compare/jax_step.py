"""One jitted training step (forward, backward, Adam) of the benchmarked tanh MLPs in JAX,
float64 on the CPU, single-threaded by default (XLA_FLAGS below; --threads N to change).

    python bench/compare/jax_step.py            # prints one JSON line per net
"""

import argparse
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=1)
args = parser.parse_args()
if args.threads == 1:
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

jax.config.update("jax_enable_x64", True)

sys.path.insert(0, os.path.dirname(__file__))
from common import NETS, data, measure, report, xavier  # noqa: E402

LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8


def forward(params, x):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w.T + b
        if i + 1 < len(params):
            h = jnp.tanh(h)
    return h


def loss_fn(params, x, y, classes):
    o = forward(params, x)
    if classes:
        logp = jax.nn.log_softmax(o)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))
    return jnp.mean(0.5 * jnp.sum((o - y) ** 2, axis=1))


def make_step(classes):
    def step(params, m, v, t, x, y):
        g = jax.grad(loss_fn)(params, x, y, classes)
        t = t + 1
        m = jax.tree_util.tree_map(lambda m, g: B1 * m + (1 - B1) * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: B2 * v + (1 - B2) * g * g, v, g)
        c1, c2 = 1 - B1**t, 1 - B2**t
        params = jax.tree_util.tree_map(
            lambda p, m, v: p - LR * (m / c1) / (jnp.sqrt(v / c2) + EPS), params, m, v
        )
        return params, m, v, t

    return jax.jit(step, donate_argnums=(0, 1, 2))


for name, sizes, batch in NETS:
    x, y = data(sizes, batch)
    classes = sizes[-1] > 1
    batches = [
        (jnp.asarray(x[i * batch:(i + 1) * batch]), jnp.asarray(y[i * batch:(i + 1) * batch]))
        for i in range(4)
    ]
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in xavier(sizes)]
    state = {
        "p": params,
        "m": jax.tree_util.tree_map(jnp.zeros_like, params),
        "v": jax.tree_util.tree_map(jnp.zeros_like, params),
        "t": jnp.asarray(0.0),
        "k": 0,
    }
    step = make_step(classes)

    def one():
        xb, yb = batches[state["k"] % 4]
        state["k"] += 1
        state["p"], state["m"], state["v"], state["t"] = step(
            state["p"], state["m"], state["v"], state["t"], xb, yb
        )
        jax.block_until_ready(state["p"])

    report("jax-jit", jax.__version__, name, measure(one))
