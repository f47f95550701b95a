"""descent's transforms as a ``torch.optim.Optimizer`` (needs torch; ``import descent.torch``).

``descent.torch.Optimizer(model.parameters(), "muon(lr=0.02)")`` trains a torch model with
descent's update rule: each parameter group gets a :class:`descent.Optimizer` over its
parameters' shapes (a group's ``"spec"`` overrides the constructor's), and ``step()`` hands it
the parameters and gradients as float64 numpy arrays. Float64 CPU parameters are updated in
their own memory; other dtypes and devices go through a float64 CPU copy and back. A parameter
without a gradient counts as a zero gradient (descent's layout is fixed). ``group["lr"]`` is
descent's ``lr`` hyperparameter, so torch's lr schedulers drive it.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from ._descent import Optimizer as _Core

__all__ = ["Optimizer"]


class Optimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` whose update is descent's transform ``spec``."""

    def __init__(self, params: Iterable[Any], spec: str, seed: int = 0) -> None:
        self._cores: dict[int, _Core] = {}
        self._seed = seed
        super().__init__(params, {"spec": spec})
        for i in range(len(self.param_groups)):
            self._core(i)

    def _core(self, i: int) -> _Core:
        """The descent optimizer of group ``i``, built on first use."""
        core = self._cores.get(i)
        if core is None:
            group = self.param_groups[i]
            shapes = [tuple(p.shape) for p in group["params"]]
            core = _Core(group["spec"], shapes=shapes, seed=self._seed)
            if "lr" not in group:
                try:
                    group["lr"] = core.hyper("lr")
                except ValueError:
                    pass
            self._cores[i] = core
        return core

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter group; ``closure`` re-evaluates the loss (torch's
        convention) and its value is returned."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for i, group in enumerate(self.param_groups):
            core = self._core(i)
            if "lr" in group and group["lr"] != core.hyper("lr"):
                core.set_hyper("lr", float(group["lr"]))
            params, grads, back = [], [], []
            for p in group["params"]:
                shared = p.dtype == torch.float64 and p.device.type == "cpu" and p.is_contiguous()
                a = p.detach().numpy() if shared else p.detach().to("cpu", torch.float64).numpy()
                g = (
                    p.grad.detach().to("cpu", torch.float64).contiguous().numpy()
                    if p.grad is not None
                    else torch.zeros(p.shape, dtype=torch.float64).numpy()
                )
                params.append(a)
                grads.append(g)
                back.append(None if shared else (p, a))
            core.step(params, grads)
            for item in back:
                if item is not None:
                    p, a = item
                    p.copy_(torch.from_numpy(a))
        return loss

    def state_dict(self) -> dict[str, Any]:
        """torch's state dict plus ``"descent"``: each group's :meth:`descent.Optimizer.state_dict`."""
        sd = super().state_dict()
        sd["descent"] = [self._core(i).state_dict() for i in range(len(self.param_groups))]
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores a :meth:`state_dict` of an optimizer over parameters of the same shapes."""
        sd = dict(state_dict)
        cores = sd.pop("descent", [])
        super().load_state_dict(sd)
        for i, s in enumerate(cores):
            self._core(i).load_state_dict(s)
