"""Independent reference trajectories for descent-optim's hierarchical methods (P4).

Implements the update equations as the P4 spec writes them (Ada-Minimax Alg. 1 and Ada-BiO
Alg. 2 in the template of spec section 2.3, the practical variant of 2.5, SGDA/PDSM and TiAda of
2.7, the Neumann series of 2.4 and a StocBiO-style baseline) in plain Python (no numpy), on

- minimax: f(x, y) = sum_j cos x_j + x_j y_j - y_j^2/2, x, y in R^2;
- bilevel: g = 1/2 (y - x)^T A (y - x), A = diag(0.5, 1.25, 2); f = sum_j 2 cos x_j + |y|^2/2;

with scripted "noise": the problem counts resamples k (k = 0 before the first) and adds
s * sin(1.3 k + 0.7 j + 2.1 o) to entry j of oracle o (0: grad_x, 1: grad_y of f, 2: grad_y
of g), s = 0.3; second-order products are exact. Writes hierarchical.json: for each method the
spec text and z after every step (T = 40).

Run: python3 hierarchical.py > hierarchical.json
"""

import json
import math

S = 0.3
T = 40


def noise(k, o, n):
    return [S * math.sin(1.3 * k + 0.7 * j + 2.1 * o) for j in range(n)]


class Minimax:
    def __init__(self):
        self.k = 0

    def resample(self):
        self.k += 1

    def grads(self, x, y):
        ex, ey = noise(self.k, 0, len(x)), noise(self.k, 1, len(y))
        gx = [-math.sin(a) + b + e for a, b, e in zip(x, y, ex)]
        gy = [a - b + e for a, b, e in zip(x, y, ey)]
        return gx, gy


A = [0.5, 1.25, 2.0]


class Bilevel:
    def __init__(self):
        self.k = 0

    def resample(self):
        self.k += 1

    def upper(self, x, y):
        ex, ey = noise(self.k, 0, len(x)), noise(self.k, 1, len(y))
        upper = sum(2 * math.cos(a) for a in x) + 0.5 * sum(b * b for b in y)
        return upper, [-2 * math.sin(a) + e for a, e in zip(x, ex)], [b + e for b, e in zip(y, ey)]

    def lower(self, x, y):
        e = noise(self.k, 2, len(y))
        return [a * (b - c) + ee for a, b, c, ee in zip(A, y, x, e)]

    def hvp(self, v):
        return [a * b for a, b in zip(A, v)]

    def jvp(self, v):
        return [-a * b for a, b in zip(A, v)]


def norm(v):
    return math.sqrt(sum(a * a for a in v))


def sgda(eta_x, eta_y, theta):
    p, x, y = Minimax(), [1.0, -0.5], [0.0, 0.2]
    mx, my, out = None, None, []
    for t in range(1, T + 1):
        p.resample()
        gx, gy = p.grads(x, y)
        th = 1.0 if t == 1 else theta
        mx = gx if mx is None else [(1 - th) * m + th * g for m, g in zip(mx, gx)]
        my = gy if my is None else [(1 - th) * m + th * g for m, g in zip(my, gy)]
        x = [a - eta_x * m for a, m in zip(x, mx)]
        y = [a + eta_y * m for a, m in zip(y, my)]
        out.append(x + y)
    return out


def tiada(eta_x, eta_y, alpha, beta, eps=1e-10):
    p, x, y = Minimax(), [1.0, -0.5], [0.0, 0.2]
    vx = vy = 0.0
    out = []
    for _ in range(T):
        p.resample()
        gx, gy = p.grads(x, y)
        vx += sum(g * g for g in gx)
        vy += sum(g * g for g in gy)
        ex = eta_x / (max(vx, vy) ** alpha + eps)
        ey = eta_y / (vy ** beta + eps)
        x = [a - ex * g for a, g in zip(x, gx)]
        y = [a + ey * g for a, g in zip(y, gy)]
        out.append(x + y)
    return out


class Template:
    """Spec 2.3: S_t, G_t, alpha_t, alpha'_t (with_lower_grad), eta_x,t, eta_y,t, m_t."""

    def __init__(self, alpha, eta_x, eta_y, gamma, practical):
        self.alpha, self.eta_x, self.eta_y, self.gamma = alpha, eta_x, eta_y, gamma
        self.practical = practical
        self.s = self.g = 0.0
        self.m = self.prev = None
        self.t = 0

    def step(self, x, y, gx, g2, gy, ascent):
        self.t += 1
        if not self.practical:
            self.s += sum((a - b) ** 2 for a, b in zip(gx, g2))
        elif self.prev is not None:
            self.s += sum((a - b) ** 2 for a, b in zip(gx, self.prev))
        self.prev = gx
        self.g += sum(v * v for v in gy)
        a = self.alpha
        alpha_t = a / math.sqrt(a * a + self.s)
        alpha_p = a / math.sqrt(a * a + self.s + self.g)
        time = 1.0 if self.practical else self.t
        eta_x = self.eta_x * math.sqrt(alpha_p) / math.sqrt(time)
        eta_y = self.eta_y / math.sqrt(self.gamma ** 2 + self.g)
        if self.m is None:
            self.m = list(gx)
        else:
            self.m = [(1 - alpha_t) * m + alpha_t * g for m, g in zip(self.m, gx)]
        mn = norm(self.m)
        x = [v - eta_x * m / mn for v, m in zip(x, self.m)] if mn > 0 else x
        sign = 1.0 if ascent else -1.0
        y = [v + sign * eta_y * g for v, g in zip(y, gy)]
        return x, y


def ada_minimax(practical):
    p, x, y = Minimax(), [1.0, -0.5], [0.0, 0.2]
    tpl = Template(2.0, 1.0, 1.0, 1.0, practical)
    out = []
    for _ in range(T):
        p.resample()
        gx, gy = p.grads(x, y)
        g2 = None
        if not practical:
            p.resample()
            g2, _ = p.grads(x, y)
        x, y = tpl.step(x, y, gx, g2, gy, True)
        out.append(x + y)
    return out


def neumann(p, x, y, l, terms):
    p.resample()
    upper, gx, gy = p.upper(x, y)
    u, v = list(gy), list(gy)
    for _ in range(terms - 1):
        p.resample()
        hu = p.hvp(u)
        u = [a - b / l for a, b in zip(u, hu)]
        v = [a + b for a, b in zip(v, u)]
    v = [a / l for a in v]
    p.resample()
    jv = p.jvp(v)
    return [a - b for a, b in zip(gx, jv)]


def stocbio(eta_x, eta_y, inner, l, terms):
    p, x, y = Bilevel(), [0.5, 0.6, -0.4], [0.0, 0.1, 0.0]
    out = []
    for _ in range(T):
        for _ in range(inner):
            p.resample()
            gy = p.lower(x, y)
            y = [a - eta_y * g for a, g in zip(y, gy)]
        h = neumann(p, x, y, l, terms)
        x = [a - eta_x * g for a, g in zip(x, h)]
        out.append(x + y)
    return out


def ada_bio(l, terms):
    p, x, y = Bilevel(), [0.5, 0.6, -0.4], [0.0, 0.1, 0.0]
    tpl = Template(1.0, 1.0, 1.0, 1.0, False)
    out = []
    for _ in range(T):
        gx = neumann(p, x, y, l, terms)
        g2 = neumann(p, x, y, l, terms)
        p.resample()
        gy = p.lower(x, y)
        x, y = tpl.step(x, y, gx, g2, gy, False)
        out.append(x + y)
    return out


runs = {
    "sgda(eta_x=0.2, eta_y=0.5)": sgda(0.2, 0.5, 1.0),
    "pdsm(eta_x=0.1, eta_y=0.3, theta=0.3)": sgda(0.1, 0.3, 0.3),
    "tiada(eta_x=1, eta_y=1)": tiada(1.0, 1.0, 0.6, 0.4),
    "ada_minimax(alpha=2, eta_x=1, eta_y=1, gamma=1)": ada_minimax(False),
    "ada_minimax(variant=practical)": ada_minimax(True),
    "stocbio(eta_x=0.2, eta_y=0.5, inner_steps=2, l=2, terms=7)": stocbio(0.2, 0.5, 2, 2.0, 7),
    "ada_bio(l=2, terms=7)": ada_bio(2.0, 7),
}
print(json.dumps({"steps": T, "noise": S, "runs": runs}, indent=1))
