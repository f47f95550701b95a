"""Type stubs of the Rust extension ``descent._descent`` (PyO3); see the docstrings there."""

from typing import Any, Callable, Sequence

import numpy as np
import numpy.typing as npt

_F64 = npt.NDArray[np.float64]
_Shape = int | Sequence[int]

class Optimizer:
    """A descent transform stepping float64 numpy arrays of fixed shapes in place."""

    def __init__(
        self,
        spec: str,
        shapes: Sequence[_Shape],
        names: Sequence[str] | None = None,
        seed: int = 0,
    ) -> None: ...
    def step(self, params: Sequence[_F64] | _F64, grads: Sequence[_F64] | _F64) -> None: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...
    def hyper(self, name: str) -> float: ...
    def set_hyper(self, name: str, value: float) -> None: ...
    def reset(self) -> None: ...
    @property
    def spec(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def shapes(self) -> list[list[int]]: ...
    @property
    def steps(self) -> int: ...

def minimize(
    fun: Callable[[_F64], Any],
    x0: _F64,
    method: str,
    steps: int,
    callback: Callable[[_F64], Any] | None = None,
    seed: int = 0,
) -> tuple[_F64, float | None, int, int, int, bool, str]: ...
def privacy_epsilon(
    noise_multiplier: Sequence[float],
    sampling_rate: float,
    steps: Sequence[int],
    delta: float,
    conversion: str = "improved",
) -> dict[str, Any]: ...
def privacy_noise(
    epsilon: float,
    sampling_rate: float,
    steps: Sequence[int],
    delta: float,
    noise_decay: float = 1.0,
    conversion: str = "improved",
) -> dict[str, Any]: ...
def quantize(
    array: _F64,
    format: str,
    rounding: str | None = None,
    seed: int = 0,
    step: int = 0,
) -> _F64: ...
def run(
    experiment: str,
    preset: str = "quick",
    seed: int = 0,
    sets: Sequence[str] = (),
    out: str | None = None,
) -> dict[str, Any]: ...
def reproduce(
    preset: str = "quick",
    seed: int = 0,
    out: str | None = None,
    experiments: Sequence[str] | None = None,
) -> dict[str, Any]: ...
def experiments() -> list[str]: ...
