"""descent.torch: descent's transforms as a torch.optim.Optimizer (skipped without torch)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import descent  # noqa: E402
import descent.torch  # noqa: E402


def test_adam_equals_descent_optimizer_and_torch_adam():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(4, 3, dtype=torch.float64))
    b = torch.nn.Parameter(torch.randn(3, dtype=torch.float64))
    ref = [w.detach().clone().requires_grad_(), b.detach().clone().requires_grad_()]
    opt = descent.torch.Optimizer([w, b], "adam(lr=0.01)")
    tref = torch.optim.Adam(ref, lr=0.01)
    x = torch.randn(8, 4, dtype=torch.float64)
    for _ in range(5):
        for params, o in (([w, b], opt), (ref, tref)):
            o.zero_grad()
            ((x @ params[0] + params[1]) ** 2).sum().backward()
            o.step()
    torch.testing.assert_close(w, ref[0], rtol=1e-12, atol=0)
    torch.testing.assert_close(b, ref[1], rtol=1e-12, atol=0)


def test_float32_model_trains_and_lr_scheduler_drives_lr():
    torch.manual_seed(1)
    model = torch.nn.Linear(5, 1)
    opt = descent.torch.Optimizer(model.parameters(), "sgd(lr=0.1, momentum=0.9)")
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=50, gamma=0.1)
    x = torch.randn(64, 5)
    y = x @ torch.arange(1.0, 6.0).unsqueeze(1) + 0.5
    for _ in range(100):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
    assert loss.item() < 1e-3
    # the scheduler's lr reaches descent at the next step: the last step (the 100th) ran with
    # 0.1 * 0.1 ** (99 // 50) = 0.01, and the group now holds 0.001 for a step not yet taken
    assert opt._cores[0].hyper("lr") == pytest.approx(0.01)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.001)
    assert model.weight.dtype == torch.float32


def test_state_dict_round_trip():
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = descent.torch.Optimizer([p], "adam(lr=0.1)")
    for _ in range(2):
        p.grad = p.detach().clone()
        opt.step()
    q = torch.nn.Parameter(p.detach().clone())
    opt2 = descent.torch.Optimizer([q], "adam(lr=0.1)")
    opt2.load_state_dict(opt.state_dict())
    for o, t in ((opt, p), (opt2, q)):
        t.grad = t.detach().clone()
        o.step()
    assert torch.equal(p, q)
    assert np.isfinite(p.detach().numpy()).all()
