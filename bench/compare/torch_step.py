"""One eager training step (zero_grad, forward, backward, torch.optim.Adam) of the benchmarked
tanh MLPs in PyTorch, float64 on the CPU, one thread (torch.set_num_threads(1)).

    python bench/compare/torch_step.py          # prints one JSON line per net
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import NETS, data, measure, report, xavier  # noqa: E402

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

for name, sizes, batch in NETS:
    x, y = data(sizes, batch)
    classes = sizes[-1] > 1
    layers = []
    for i, (w, b) in enumerate(xavier(sizes)):
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i + 1 < len(sizes) - 1:
            layers.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs = [torch.from_numpy(x[i * batch:(i + 1) * batch]) for i in range(4)]
    ys = [torch.from_numpy(y[i * batch:(i + 1) * batch]) for i in range(4)]
    state = {"k": 0}

    def one():
        k = state["k"] % 4
        state["k"] += 1
        opt.zero_grad(set_to_none=True)
        o = model(xs[k])
        if classes:
            loss = torch.nn.functional.cross_entropy(o, ys[k])
        else:
            loss = 0.5 * ((o - ys[k]) ** 2).sum(dim=1).mean()
        loss.backward()
        opt.step()

    report("torch-eager", torch.__version__, name, measure(one))
