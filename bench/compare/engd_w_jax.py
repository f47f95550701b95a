"""One ENGD-W step of P8 problem A in JAX (jit, float64, CPU), written the straightforward way the
authors' PyTorch code is described in the spec: per-sample Laplacian as the trace of jax.hessian,
the residual Jacobian by jacrev, K = J J^T, Cholesky solve, J^T y, and the 31-point grid line
search on the same batch (vmapped). Compare with
`cargo run --release -p descent-lab --example engd_step`.

    python3 bench/compare/engd_w_jax.py
"""
import time

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platform_name", "cpu")

SIZES = [2, 32, 32, 1]
N_INT, N_BND, LAM = 300, 100, 1e-8


def init(key):
    params = []
    for fi, fo in zip(SIZES[:-1], SIZES[1:]):
        key, k1, k2 = jax.random.split(key, 3)
        b = 1.0 / jnp.sqrt(fi)
        params.append((jax.random.uniform(k1, (fo, fi), minval=-b, maxval=b),
                       jax.random.uniform(k2, (fo,), minval=-b, maxval=b)))
    return params


def u(params, x):
    z = x
    for i, (w, b) in enumerate(params):
        z = w @ z + b
        if i + 1 < len(params):
            z = jnp.tanh(z)
    return z[0]


def f_src(x):
    return 2 * jnp.pi ** 2 * jnp.sin(jnp.pi * x[0]) * jnp.sin(jnp.pi * x[1])


def residuals(flat, unravel, xi, xb):
    params = unravel(flat)
    lap = jax.vmap(lambda x: jnp.trace(jax.hessian(u, argnums=1)(params, x)))(xi)
    ri = (lap + jax.vmap(f_src)(xi)) / jnp.sqrt(N_INT)
    rb = jax.vmap(lambda x: u(params, x))(xb) / jnp.sqrt(N_BND)
    return jnp.concatenate([ri, rb])


def make_step(unravel):
    def loss(flat, xi, xb):
        r = residuals(flat, unravel, xi, xb)
        return 0.5 * r @ r

    @jax.jit
    def step(flat, xi, xb):
        r = residuals(flat, unravel, xi, xb)
        J = jax.jacrev(residuals)(flat, unravel, xi, xb)
        K = J @ J.T + LAM * jnp.eye(J.shape[0])
        y = jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(K), -r)
        d = J.T @ y
        alphas = 2.0 ** -jnp.arange(31.0)
        losses = jax.vmap(lambda a: loss(flat + a * d, xi, xb))(alphas)
        best = jnp.argmin(losses)
        a = jnp.where(losses[best] < 0.5 * r @ r, alphas[best], 0.0)
        return flat + a * d

    return step


def batch(key):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    xi = jax.random.uniform(k1, (N_INT, 2))
    xb = jax.random.uniform(k2, (N_BND, 2))
    face = jax.random.randint(k3, (N_BND,), 0, 2)
    side = jax.random.bernoulli(k4, 0.5, (N_BND,)).astype(jnp.float64)
    xb = xb.at[jnp.arange(N_BND), face].set(side)
    return xi, xb


def main():
    from jax.flatten_util import ravel_pytree
    flat, unravel = ravel_pytree(init(jax.random.PRNGKey(1)))
    step = make_step(unravel)
    key = jax.random.PRNGKey(0)
    xi, xb = batch(key)
    flat = step(flat, xi, xb).block_until_ready()  # compile
    n = 10
    t0 = time.perf_counter()
    for _ in range(n):
        key, sub = jax.random.split(key)
        xi, xb = batch(sub)
        flat = step(flat, xi, xb)
    flat.block_until_ready()
    per = (time.perf_counter() - t0) / n
    print(f"JAX ENGD-W step (jit, float64, CPU): {per:.4f} s/step, P = {flat.size}, N = {N_INT + N_BND}")


if __name__ == "__main__":
    main()
