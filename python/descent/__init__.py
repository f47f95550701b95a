"""descent from Python: the Rust toolkit's optimizers, privacy accountant, float formats and
experiments, computed by the same Rust code as the ``descent`` command line.

- :class:`Optimizer` steps lists of float64 numpy arrays in place (torch.optim's ``step()``);
- :func:`minimize` runs any descent optimizer on a Python function (scipy.optimize's
  convention), including those that evaluate at several points per step;
- :mod:`descent.privacy` is the RDP accountant, :func:`quantize` the float formats,
  :func:`run` / :func:`reproduce` the paper experiments;
- :mod:`descent.torch` wraps :class:`Optimizer` as a ``torch.optim.Optimizer`` (needs torch).

descent's errors are ``ValueError`` with descent's message; exceptions raised in your
functions propagate unchanged.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from . import privacy
from ._descent import Optimizer, experiments, quantize, reproduce
from ._descent import minimize as _minimize
from ._descent import run as _run

__all__ = [
    "OptimizeResult",
    "Optimizer",
    "experiments",
    "minimize",
    "privacy",
    "quantize",
    "reproduce",
    "run",
]


class OptimizeResult(dict):
    """The result of :func:`minimize`, as ``scipy.optimize.OptimizeResult``: a dict whose keys
    are also attributes.

    ``x`` the final point (x0's shape), ``fun`` f at ``x`` (``None`` if the run diverged before
    a finite loss), ``nit`` steps taken, ``nfev`` calls of ``fun`` (the final evaluation
    included), ``njev`` calls that returned a gradient, ``success`` False when the loss or x
    became NaN or infinite, ``message`` why the run stopped.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(name) from e

    def __repr__(self) -> str:
        return "OptimizeResult(" + ", ".join(f"{k}={v!r}" for k, v in self.items()) + ")"


def minimize(
    fun: Callable[[np.ndarray], Any],
    x0: Any,
    method: str = "adam(lr=1e-3)",
    steps: int = 1000,
    callback: Callable[[np.ndarray], Any] | None = None,
    seed: int = 0,
) -> OptimizeResult:
    """Minimizes ``fun`` from ``x0`` with descent's optimizer ``method`` for ``steps`` steps.

    ``method`` is any spec of ``descent list`` over a scalar function: ``sgd(lr=0.1,
    momentum=0.9)``, ``adam(..)``, ``muon(..)`` (x0 a matrix), ``lbfgs``, ``rbo(lr=0.1,
    radius=0.5)``, ``sam(rho=0.05, base=sgd(lr=0.1))``, ``entropy_sgd(..)``, ``zo(law=sphere,
    base=adam(lr=1e-2))``, ... ``fun(x)`` gets a fresh float64 array of x0's shape and returns
    the loss, or ``(loss, grad)``; every method except the zeroth-order ones needs the gradient.
    ``callback(x)`` runs after each step; returning True stops. ``seed`` fixes every random
    choice of the method.
    """
    x = np.array(x0, dtype=np.float64)
    xr, f, nit, nfev, njev, success, message = _minimize(
        fun, x, method, steps, callback=callback, seed=seed
    )
    return OptimizeResult(
        x=xr, fun=f, nit=nit, nfev=nfev, njev=njev, success=success, message=message
    )


def run(
    experiment: str,
    preset: str = "quick",
    seed: int = 0,
    sets: Sequence[str] | dict[str, Any] = (),
    out: str | None = None,
) -> dict[str, Any]:
    """Runs a paper experiment (``descent.experiments()``) as ``descent run`` does and returns
    its report as a dict (``claims`` with measured values and verdicts, ``tables``,
    ``series``, the resolved ``config``).

    ``sets`` overrides config fields: ``["steps=200"]`` or ``{"steps": 200}`` (dotted keys for
    nested fields, values as in TOML); ``out`` also writes report.json, report.md and the
    figures to that directory.
    """
    if isinstance(sets, dict):
        sets = [f"{k}={_toml(v)}" for k, v in sets.items()]
    return _run(experiment, preset, seed, list(sets), out)


def _toml(v: Any) -> str:
    """A Python value as the TOML text of ``--set key=value``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return repr(v)
