"""f(x) = ½ (x − c)ᵀ A (x − c), with the gradient summed in the order of descent-optim's
reference test (row by row, left to right, from 0.0), so Python and Rust see the same bits."""

import numpy as np


def grad_and_loss(a, c, x):
    """(∇f(x), f(x)) in descent-optim's summation order, as Python floats."""
    d = [float(xi) - ci for xi, ci in zip(x, c)]
    g = [sum(aij * dj for aij, dj in zip(row, d)) for row in a]
    return np.array(g), 0.5 * sum(di * gi for di, gi in zip(d, g))


def fun(a, c):
    """fun(x) -> (loss, grad) for descent.minimize."""

    def f(x):
        g, loss = grad_and_loss(a, c, x)
        return loss, g

    return f
