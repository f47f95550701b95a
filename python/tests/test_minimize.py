"""descent.minimize: every optimizer over a scalar function on a problem with a known answer,
scipy's result fields, Python exceptions, errors."""

import numpy as np
import pytest
from quadratic import fun

import descent

A = [[3.0, 0.5, 0.0], [0.5, 1.0, -0.2], [0.0, -0.2, 0.5]]
C = [1.0, -1.0, 2.0]
X0 = [0.3, 0.7, -0.4]

# (spec, steps, tolerance on |x − c|): every method that runs on a value and a gradient
METHODS = [
    ("sgd(lr=0.3)", 300, 1e-6),
    ("sgd(lr=0.1, momentum=0.9)", 300, 1e-6),
    ("sgd(lr=0.1, momentum=0.8, nesterov=true)", 300, 1e-6),
    ("adam(lr=0.05)", 1500, 1e-4),
    ("adamw(lr=0.05, weight_decay=0)", 1500, 1e-4),
    ("lbfgs", 20, 1e-8),
    ("sam(rho=1e-4, base=sgd(lr=0.3))", 300, 2e-4),
    ("rbo(lr=0.1)", 2000, 1e-3),
    ("entropy_sgd(lr=1, inner_steps=5, inner_lr=0.1, noise=0, gamma=0.03)", 800, 1e-2),
    ("zo(law=sphere, q=6, mu=1e-6, diff=central, base=sgd(lr=0.1))", 600, 1e-4),
    ("chain(of=[scale_by_adam, scale_by_lr(lr=0.05)])", 1500, 1e-4),
]


@pytest.mark.parametrize(("spec", "steps", "tol"), METHODS)
def test_every_method_finds_the_minimum(spec, steps, tol):
    res = descent.minimize(fun(A, C), X0, method=spec, steps=steps, seed=1)
    assert res.success, res.message
    assert np.linalg.norm(res.x - C) < tol, (spec, res.x)
    assert res.nit == steps
    assert res.fun < 0.5 * 3.5 * tol**2 + 1e-15
    assert res.nfev >= steps + 1 and res.njev <= res.nfev


def test_zeroth_order_needs_only_the_loss():
    calls = []

    def loss_only(x):
        calls.append(1)
        return 0.5 * float((x - C) @ np.array(A) @ (x - C))

    res = descent.minimize(
        loss_only, X0, method="zo(law=gaussian, q=4, mu=1e-6, base=adam(lr=0.05))", steps=800
    )
    assert np.linalg.norm(res.x - C) < 1e-2
    assert res.njev == 0 and res.nfev == len(calls)
    # forward differences: q + 1 values per step, plus the final value
    assert res.nfev == 800 * 5 + 1


def test_several_evaluations_per_step_are_counted():
    # RBO: 1 + inner_steps gradients per step; SAM: 2 per step
    rbo = descent.minimize(fun(A, C), X0, method="rbo(lr=0.1, inner_steps=4)", steps=10)
    assert rbo.njev == 10 * 5
    sam = descent.minimize(fun(A, C), X0, method="sam(base=sgd(lr=0.1))", steps=10)
    assert sam.njev == 20 and sam.nfev == 21


def test_muon_on_a_matrix():
    target = np.array([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.0]])

    def f(x):
        d = x - target
        return 0.5 * float(np.sum(d * d)), d

    res = descent.minimize(f, np.zeros((3, 2)), method="muon(lr=0.05)", steps=400)
    assert res.x.shape == (3, 2)
    assert np.abs(res.x - target).max() < 0.06


def test_result_is_scipy_like_and_seeded():
    res = descent.minimize(fun(A, C), X0, method="entropy_sgd", steps=5, seed=3)
    again = descent.minimize(fun(A, C), X0, method="entropy_sgd", steps=5, seed=3)
    other = descent.minimize(fun(A, C), X0, method="entropy_sgd", steps=5, seed=4)
    assert np.array_equal(res.x, again.x) and not np.array_equal(res.x, other.x)
    assert set(res) == {"x", "fun", "nit", "nfev", "njev", "success", "message"}
    assert res["nit"] == res.nit == 5
    with pytest.raises(AttributeError):
        res.jac


def test_callback_stops_the_run():
    seen = []

    def cb(x):
        seen.append(x)
        return len(seen) == 3

    res = descent.minimize(fun(A, C), X0, method="sgd(lr=0.1)", steps=50, callback=cb)
    assert res.nit == 3 and len(seen) == 3 and res.success
    assert res.message == "the callback stopped the run"
    assert np.array_equal(seen[-1], res.x)


def test_exceptions_in_fun_propagate_with_their_traceback():
    class Boom(RuntimeError):
        pass

    def f(x):
        if f.calls == 4:
            raise Boom("at the fifth evaluation")
        f.calls += 1
        return fun(A, C)(x)

    f.calls = 0
    with pytest.raises(Boom, match="fifth") as info:
        descent.minimize(f, X0, method="rbo(lr=0.1)", steps=10)
    assert f.calls == 4
    assert any(t.name == "f" for t in info.traceback)


def test_exceptions_in_the_callback_propagate():
    def cb(x):
        raise KeyError("stop")

    with pytest.raises(KeyError):
        descent.minimize(fun(A, C), X0, method="sgd", steps=5, callback=cb)


def test_divergence_is_a_result():
    res = descent.minimize(fun(A, C), X0, method="sgd(lr=10)", steps=500)
    assert not res.success and "diverged" in res.message
    assert res.nit < 500


@pytest.mark.parametrize(
    ("f", "method", "error", "message"),
    [
        (lambda x: 1.0, "adam", ValueError, r"adam needs the gradient: fun\(x\) must return \(loss, grad\)"),
        (lambda x: (1.0, np.zeros(2)), "adam", ValueError, r"gradient of shape \[2\] \(expected \[3\]\)"),
        (lambda x: (1.0, 2.0, 3.0), "sgd", ValueError, "a tuple of 3 items"),
        (lambda x: "a", "zo", ValueError, "a loss of type"),
        (lambda x: (1.0, np.zeros(3)), "engd", ValueError, "engd"),
        (lambda x: (1.0, np.zeros(3)), "adam(beta1=2)", ValueError, "adam.beta1"),
    ],
)
def test_errors(f, method, error, message):
    with pytest.raises(error, match=message):
        descent.minimize(f, X0, method=method, steps=3)


def test_non_finite_start_is_a_value_error():
    with pytest.raises(ValueError, match="starting point"):
        descent.minimize(fun(A, C), [np.nan, 0.0, 0.0], method="sgd", steps=3)
