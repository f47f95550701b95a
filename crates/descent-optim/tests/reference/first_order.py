"""Independent reference trajectories for descent-optim's first-order transforms.

Implements the *published* update equations (the pseudo-code of the torch.optim docs for SGD,
Adam and AdamW; torch.optim.lr_scheduler's closed forms; optax's clip_by_global_norm) with numpy
only, runs them on a fixed 3-D quadratic f(x) = 1/2 (x - c)^T A (x - c) from a fixed start, and
writes every iterate to first_order.json next to this file. The Rust test
`tests/reference.rs` replays each case from its spec string and must match to 1e-12 relative.

Schedule convention (descent's): the update with 1-based index t uses lr = base * factor(t),
where factor is torch's closed form at k = t - 1 completed scheduler steps.

Run:  python3 crates/descent-optim/tests/reference/first_order.py   (CI does not run Python.)
"""

import json
import math
import os

import numpy as np

A = np.array([[3.0, 0.5, 0.0], [0.5, 1.0, -0.2], [0.0, -0.2, 0.5]])
C = np.array([1.0, -1.0, 2.0])
X0 = np.array([0.3, 0.7, -0.4])
STEPS = 8


def grad(x):
    return A @ (x - C)


# ---- schedules: factor(t), t >= 1 -------------------------------------------------------------

def cosine(k, total, eta_min):
    k = min(k, total)
    return eta_min + (1.0 - eta_min) * (1.0 + math.cos(math.pi * k / total)) / 2.0


def factor(sched, t):
    k = t - 1
    name = sched["name"]
    if name == "constant":
        return 1.0
    if name == "step":  # StepLR
        return sched["gamma"] ** (k // sched["step_size"])
    if name == "exponential":  # ExponentialLR
        return sched["gamma"] ** k
    if name == "cosine":  # CosineAnnealingLR, clamped after total
        return cosine(k, sched["total"], sched["min"])
    if name == "warmup_cosine":  # linear warmup t/warmup, then cosine over total - warmup
        w = sched["warmup"]
        if t <= w:
            return t / w
        return cosine(t - w, sched["total"] - w, sched["min"])
    if name == "linear":  # LinearLR(start_factor=1, end_factor=end, total_iters=total)
        return 1.0 + (sched["end"] - 1.0) * min(k, sched["total"]) / sched["total"]
    if name == "inv_sqrt":
        return 1.0 / math.sqrt(t)
    raise ValueError(name)


# ---- optimizers: torch.optim docs pseudo-code --------------------------------------------------

def clip(g, opt):
    if "clip_value" in opt:
        c = opt["clip_value"]
        g = np.clip(g, -c, c)
    if "clip_norm" in opt:
        c = opt["clip_norm"]
        n = math.sqrt(float(np.sum(g * g)))
        if n > c:
            g = g * (c / n)
    return g


def run_sgd(opt, sched):
    lr0, mu = opt.get("lr", 0.01), opt.get("momentum", 0.0)
    tau, nesterov, wd = opt.get("dampening", 0.0), opt.get("nesterov", False), opt.get("weight_decay", 0.0)
    x, b, traj = X0.copy(), None, [X0.tolist()]
    for t in range(1, STEPS + 1):
        lr = lr0 * factor(sched, t)
        g = clip(grad(x), opt)
        if wd != 0:
            g = g + wd * x
        if mu != 0:
            b = g.copy() if b is None else mu * b + (1 - tau) * g
            g = g + mu * b if nesterov else b
        x = x - lr * g
        traj.append(x.tolist())
    return traj


def run_adam(opt, sched, decoupled):
    lr0 = opt.get("lr", 1e-3)
    b1, b2, eps = opt.get("beta1", 0.9), opt.get("beta2", 0.999), opt.get("eps", 1e-8)
    wd = opt.get("weight_decay", 0.01 if decoupled else 0.0)
    x, m, v, traj = X0.copy(), np.zeros(3), np.zeros(3), [X0.tolist()]
    for t in range(1, STEPS + 1):
        lr = lr0 * factor(sched, t)
        g = clip(grad(x), opt)
        if decoupled:
            x_dec = x - lr * wd * x  # theta_t <- theta_{t-1} - gamma lambda theta_{t-1}
        else:
            if wd != 0:
                g = g + wd * x
            x_dec = x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1 ** t)
        vhat = v / (1 - b2 ** t)
        x = x_dec - lr * mhat / (np.sqrt(vhat) + eps)
        traj.append(x.tolist())
    return traj


def fmt_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v)


def spec_text(name, opt, sched):
    args = [f"{k}={fmt_value(v)}" for k, v in opt.items()]
    if sched["name"] != "constant":
        s = {k: v for k, v in sched.items() if k != "name"}
        inner = ", ".join(f"{k}={fmt_value(v)}" for k, v in s.items())
        args.append(f"schedule={sched['name']}({inner})" if inner else f"schedule={sched['name']}")
    return f"{name}({', '.join(args)})"


CONST = {"name": "constant"}
CASES = [
    ("sgd", {"lr": 0.1}, CONST),
    ("sgd", {"lr": 0.1, "momentum": 0.9}, CONST),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}, CONST),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}, CONST),
    ("adam", {"lr": 0.1}, CONST),
    ("adam", {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1}, CONST),
    ("adamw", {"lr": 0.1, "weight_decay": 0.1}, CONST),
    ("adamw", {"lr": 0.05}, CONST),
    ("sgd", {"lr": 0.1, "clip_norm": 0.5}, CONST),
    ("sgd", {"lr": 0.1, "momentum": 0.5, "clip_value": 0.3}, CONST),
    ("sgd", {"lr": 0.1, "momentum": 0.9}, {"name": "step", "step_size": 3, "gamma": 0.5}),
    ("sgd", {"lr": 0.1}, {"name": "exponential", "gamma": 0.9}),
    ("adam", {"lr": 0.1}, {"name": "cosine", "total": 6, "min": 0.1}),
    ("adamw", {"lr": 0.1, "weight_decay": 0.05}, {"name": "warmup_cosine", "warmup": 3, "total": 8, "min": 0.0}),
    ("sgd", {"lr": 0.2}, {"name": "linear", "total": 5, "end": 0.2}),
    ("sgd", {"lr": 0.2, "momentum": 0.5, "nesterov": True}, {"name": "inv_sqrt"}),
]

SCHEDULES = [
    {"name": "constant"},
    {"name": "step", "step_size": 4, "gamma": 0.3},
    {"name": "exponential", "gamma": 0.95},
    {"name": "cosine", "total": 12, "min": 0.05},
    {"name": "warmup_cosine", "warmup": 5, "total": 15, "min": 0.1},
    {"name": "linear", "total": 10, "end": 0.25},
    {"name": "inv_sqrt"},
]


def sched_text(s):
    rest = {k: v for k, v in s.items() if k != "name"}
    if not rest:
        return s["name"]
    return f"{s['name']}({', '.join(f'{k}={fmt_value(v)}' for k, v in rest.items())})"


def main():
    cases = []
    for name, opt, sched in CASES:
        if name == "sgd":
            traj = run_sgd(opt, sched)
        else:
            traj = run_adam(opt, sched, decoupled=(name == "adamw"))
        cases.append({"spec": spec_text(name, opt, sched), "trajectory": traj})
    schedules = [
        {"spec": sched_text(s), "factors": [factor(s, t) for t in range(1, 21)]} for s in SCHEDULES
    ]
    out = {
        "generator": "tests/reference/first_order.py (numpy " + np.__version__ + ")",
        "problem": "f(x) = 1/2 (x - c)^T A (x - c), gradient A (x - c)",
        "a": A.tolist(),
        "c": C.tolist(),
        "x0": X0.tolist(),
        "steps": STEPS,
        "cases": cases,
        "schedules": schedules,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "first_order.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases and {len(schedules)} schedules to {path}")


if __name__ == "__main__":
    main()
