"""The RDP accountant of the Poisson-subsampled Gaussian mechanism (descent-dist's, the one
behind ``descent privacy`` and ``descent train --privacy``)."""

from __future__ import annotations

from typing import Any, Sequence

from . import _descent

__all__ = ["epsilon", "noise"]


def _list(v: Any) -> list:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def epsilon(
    noise_multiplier: float | Sequence[float],
    sampling_rate: float,
    steps: int | Sequence[int],
    delta: float,
    conversion: str = "improved",
) -> dict[str, Any]:
    """ε spent by ``steps`` steps at Poisson sampling rate ``sampling_rate`` with noise
    multiplier σ = noise std ÷ clipping norm; lists of steps are stages, with one multiplier
    each or one for all. ``conversion`` is ``improved`` (dp-accounting, Opacus) or ``classic``.

    Returns ``{"epsilon", "delta", "order", "conversion"}``, as ``descent privacy epsilon
    --json``.
    """
    return _descent.privacy_epsilon(
        _list(noise_multiplier), sampling_rate, _list(steps), delta, conversion
    )


def noise(
    epsilon: float,
    sampling_rate: float,
    steps: int | Sequence[int],
    delta: float,
    noise_decay: float = 1.0,
    conversion: str = "improved",
) -> dict[str, Any]:
    """The noise multiplier σ₀ that spends at most ``epsilon`` at ``delta`` (bisection on the
    accountant); with stages (a list of steps), stage s gets σ₀·noise_decay^s.

    Returns ``{"noise_multiplier", "noise_multipliers", "epsilon", "delta", "order",
    "conversion", "target_epsilon"}``, as ``descent privacy noise --json``.
    """
    return _descent.privacy_noise(
        epsilon, sampling_rate, _list(steps), delta, noise_decay, conversion
    )
