"""One ENGD-W step of P8 problem A in JAX written the way a strong JAX engineer would (jit end to
end, float64, CPU), beside the straightforward engd_w_jax.py (same problem, same initial
parameters, same collocation points):

- the Laplacian by forward-over-forward derivatives (jvp of jvp) summed over the input
  directions, vectorised over points;
- residuals and their Jacobian in one vectorised value-and-gradient pass over points;
- the Gram matrix J Jᵀ + λI and a Cholesky that reads only its lower triangle
  (symmetrize_input=False), two triangular solves, then Jᵀy;
- the 31-point grid line search as whole-batch matrix products through the network (a
  Taylor-mode forward pass of value, input gradient and Laplacian, by hand), mapped over the
  31 step sizes with vmap.

    python3 bench/compare/engd_w_jax_fast.py [--json]        # all cores XLA wants
    taskset -c 0 python3 bench/compare/engd_w_jax_fast.py    # one core (sets XLA to 1 thread)

Prints the median seconds per step over repeated blocks, wall clock and process CPU time, and
the same for the straightforward version with --both.
"""
import json
import os
import statistics
import sys
import time

if len(os.sched_getaffinity(0)) == 1:
    os.environ.setdefault(
        "XLA_FLAGS",
        "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    )

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platform_name", "cpu")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import engd_w_jax as plain  # noqa: E402

N_INT, N_BND, LAM = plain.N_INT, plain.N_BND, plain.LAM
D = 2


u_point = plain.u  # the network at one point, shared with the straightforward version


def lap_point(params, x):
    """Δu at one point: Σₖ ∂ₖ∂ₖu by forward-over-forward along each unit vector."""
    def second(e):
        g = lambda y: jax.jvp(lambda t: u_point(params, t), (y,), (e,))[1]
        return jax.jvp(g, (x,), (e,))[1]
    return jnp.sum(jax.vmap(second)(jnp.eye(D)))


def residual_int(flat, unravel, x):
    return (lap_point(unravel(flat), x) + plain.f_src(x)) / jnp.sqrt(N_INT)


def residual_bnd(flat, unravel, x):
    return u_point(unravel(flat), x) / jnp.sqrt(N_BND)


def batched_loss(params, xi, xb):
    """½‖r‖² by a Taylor-mode forward pass of whole-batch matrix products: value z, input
    derivatives zk (D × n × w) and Laplacian zl through each tanh layer."""
    n = xi.shape[0]
    (w1, b1) = params[0]
    h = xi @ w1.T + b1
    hk = jnp.broadcast_to(w1.T[:, None, :], (D, n, w1.shape[0]))
    hl = jnp.zeros_like(h)
    for w, b in params[1:]:
        a = jnp.tanh(h)
        s1 = 1.0 - a * a
        s2 = -2.0 * a * s1
        z, zk = a, s1[None] * hk
        zl = s1 * hl + s2 * jnp.sum(hk * hk, axis=0)
        h = z @ w.T + b
        hk = zk @ w.T
        hl = zl @ w.T
    ri = (hl[:, 0] + jax.vmap(plain.f_src)(xi)) / jnp.sqrt(N_INT)
    zb = xb
    for i, (w, b) in enumerate(params):
        zb = zb @ w.T + b
        if i + 1 < len(params):
            zb = jnp.tanh(zb)
    rb = zb[:, 0] / jnp.sqrt(N_BND)
    return 0.5 * (ri @ ri + rb @ rb)


def make_step(unravel):
    vg_int = jax.vmap(jax.value_and_grad(residual_int), in_axes=(None, None, 0))
    vg_bnd = jax.vmap(jax.value_and_grad(residual_bnd), in_axes=(None, None, 0))

    @jax.jit
    def step(flat, xi, xb):
        ri, ji = vg_int(flat, unravel, xi)
        rb, jb = vg_bnd(flat, unravel, xb)
        r = jnp.concatenate([ri, rb])
        J = jnp.concatenate([ji, jb])
        K = J @ J.T + LAM * jnp.eye(J.shape[0])
        L = jax.lax.linalg.cholesky(K, symmetrize_input=False)
        y = jax.lax.linalg.triangular_solve(L, -r[:, None], left_side=True, lower=True)
        y = jax.lax.linalg.triangular_solve(
            L, y, left_side=True, lower=True, transpose_a=True)
        d = J.T @ y[:, 0]
        alphas = 2.0 ** -jnp.arange(31.0)
        losses = jax.vmap(lambda a: batched_loss(unravel(flat + a * d), xi, xb))(alphas)
        best = jnp.argmin(losses)
        f0 = 0.5 * r @ r
        a = jnp.where(losses[best] < f0, alphas[best], 0.0)
        return flat + a * d

    return step


def timed(step, flat, blocks=7, per_block=10):
    """Median over blocks of (wall, process CPU) seconds per step; the batches are drawn
    before each block so only the step is timed."""
    key = jax.random.PRNGKey(0)
    xi, xb = plain.batch(key)
    flat = step(flat, xi, xb).block_until_ready()  # compile
    for _ in range(3):
        flat = step(flat, xi, xb)
    flat.block_until_ready()
    walls, cpus = [], []
    for _ in range(blocks):
        batches = []
        for _ in range(per_block):
            key, sub = jax.random.split(key)
            batches.append(plain.batch(sub))
        jax.block_until_ready(batches)
        w0, c0 = time.perf_counter(), time.process_time()
        for xi, xb in batches:
            flat = step(flat, xi, xb)
        flat.block_until_ready()
        walls.append((time.perf_counter() - w0) / per_block)
        cpus.append((time.process_time() - c0) / per_block)
    return statistics.median(walls), statistics.median(cpus), flat


def main():
    flat, unravel = ravel_pytree(plain.init(jax.random.PRNGKey(1)))
    cores = len(os.sched_getaffinity(0))
    rows = [("jax_engineered", make_step(unravel))]
    if "--both" in sys.argv:
        rows.append(("jax_straightforward", plain.make_step(unravel)))
    for name, step in rows:
        wall, cpu, _ = timed(step, flat, blocks=7 if name == "jax_engineered" else 3,
                             per_block=10 if name == "jax_engineered" else 3)
        if "--json" in sys.argv:
            print(json.dumps({"framework": name, "version": jax.__version__, "cores": cores,
                              "wall_s_per_step": wall, "cpu_s_per_step": cpu}))
        else:
            print(f"{name} ENGD-W step (jit, float64, {cores} core(s)): {wall:.4f} s/step wall, "
                  f"{cpu:.4f} s/step CPU, P = {flat.size}, N = {N_INT + N_BND}")


if __name__ == "__main__":
    main()
