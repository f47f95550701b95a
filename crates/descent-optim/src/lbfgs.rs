//! L-BFGS with a strong-Wolfe line search (Nocedal & Wright, *Numerical Optimization*,
//! Algorithms 7.4 (two-loop recursion), 3.5 and 3.6 (line search and zoom with safeguarded cubic
//! interpolation)), the quasi-Newton baseline PINN users know (P8).
//!
//! On a stochastic problem every step resamples, evaluates the gradient on the new batch, and the
//! curvature pair (s, y) uses two gradients of the SAME batch (the line search's last point and
//! the step's start), so pairs never mix batches. On a deterministic problem the gradient at the
//! new point is reused.

use descent_core::{Caps, Error, Gradient, Layout, Problem, Requires, Result, RngStreams};

use crate::optimizer::{Extras, Optimizer, OptimizerState, StepInfo};

/// Hyperparameters of [`Lbfgs`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsConfig {
    /// Number of stored curvature pairs m.
    pub history: usize,
    /// Initial trial step (scaled by min(1, 1/‖g‖₁) on the first step, as torch does).
    pub lr: f64,
    /// Sufficient-decrease constant c₁.
    pub c1: f64,
    /// Curvature constant c₂ (strong Wolfe |φ'(α)| ≤ c₂|φ'(0)|).
    pub c2: f64,
    /// Function/gradient evaluations allowed per line search.
    pub max_evals: usize,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        LbfgsConfig {
            history: 10,
            lr: 1.0,
            c1: 1e-4,
            c2: 0.9,
            max_evals: 25,
        }
    }
}

/// L-BFGS (see the module docs).
pub struct Lbfgs {
    cfg: LbfgsConfig,
    name: String,
    dim: usize,
    s: Vec<f64>,
    y: Vec<f64>,
    rho: Vec<f64>,
    alpha: Vec<f64>,
    len: usize,
    head: usize,
    step: u64,
    g: Vec<f64>,
    g_new: Vec<f64>,
    d: Vec<f64>,
    x_new: Vec<f64>,
    f: f64,
    have_grad: bool,
}

impl Lbfgs {
    /// An L-BFGS optimizer reporting `name`; errors name the bad field.
    pub fn new(cfg: LbfgsConfig, name: impl Into<String>) -> Result<Self> {
        if cfg.history == 0 {
            return Err(Error::invalid(
                "lbfgs.history",
                cfg.history,
                "at least 1 pair",
            ));
        }
        if !(cfg.lr > 0.0 && cfg.lr.is_finite()) {
            return Err(Error::invalid("lbfgs.lr", cfg.lr, "a finite number > 0"));
        }
        if !(0.0 < cfg.c1 && cfg.c1 < cfg.c2 && cfg.c2 < 1.0) {
            return Err(Error::invalid(
                "lbfgs.c1, lbfgs.c2",
                format!("{}, {}", cfg.c1, cfg.c2),
                "0 < c1 < c2 < 1",
            ));
        }
        if cfg.max_evals == 0 {
            return Err(Error::invalid("lbfgs.max_evals", 0, "at least 1"));
        }
        Ok(Lbfgs {
            cfg,
            name: name.into(),
            dim: 0,
            s: Vec::new(),
            y: Vec::new(),
            rho: Vec::new(),
            alpha: Vec::new(),
            len: 0,
            head: 0,
            step: 0,
            g: Vec::new(),
            g_new: Vec::new(),
            d: Vec::new(),
            x_new: Vec::new(),
            f: 0.0,
            have_grad: false,
        })
    }

    /// d ← −H g by the two-loop recursion.
    fn direction(&mut self) {
        let (p, m) = (self.dim, self.cfg.history);
        self.d.iter_mut().zip(&self.g).for_each(|(d, g)| *d = -g);
        for k in 0..self.len {
            let idx = (self.head + m - 1 - k) % m;
            let s = &self.s[idx * p..(idx + 1) * p];
            let a = self.rho[idx] * dot(s, &self.d);
            self.alpha[idx] = a;
            let y = &self.y[idx * p..(idx + 1) * p];
            self.d.iter_mut().zip(y).for_each(|(d, yv)| *d -= a * yv);
        }
        if self.len > 0 {
            let idx = (self.head + m - 1) % m;
            let y = &self.y[idx * p..(idx + 1) * p];
            let gamma = 1.0 / (self.rho[idx] * dot(y, y));
            self.d.iter_mut().for_each(|d| *d *= gamma);
        }
        for k in (0..self.len).rev() {
            let idx = (self.head + m - 1 - k) % m;
            let y = &self.y[idx * p..(idx + 1) * p];
            let b = self.rho[idx] * dot(y, &self.d);
            let s = &self.s[idx * p..(idx + 1) * p];
            let a = self.alpha[idx];
            self.d
                .iter_mut()
                .zip(s)
                .for_each(|(d, sv)| *d += (a - b) * sv);
        }
    }

    /// f and g_new at x + a·d; returns (f, φ'(a)).
    fn eval(&mut self, g: &mut dyn Gradient, x: &[f64], a: f64) -> (f64, f64) {
        for ((xn, xi), di) in self.x_new.iter_mut().zip(x).zip(&self.d) {
            *xn = xi + a * di;
        }
        let f = g.value_grad(&self.x_new, &mut self.g_new);
        (f, dot(&self.g_new, &self.d))
    }

    /// Strong-Wolfe line search; returns the accepted step (0 when none decreased f). On return
    /// `g_new` holds the gradient at x + α d when α > 0, and the value is returned too.
    fn line_search(&mut self, g: &mut dyn Gradient, x: &[f64], a0: f64) -> (f64, f64) {
        let (f0, dphi0) = (self.f, dot(&self.g, &self.d));
        let (c1, c2) = (self.cfg.c1, self.cfg.c2);
        let mut evals = 0;
        let (mut a_prev, mut f_prev, mut dp_prev) = (0.0, f0, dphi0);
        let mut a = a0;
        let mut best = (0.0, f0);
        let bracket;
        loop {
            let (fa, dpa) = self.eval(g, x, a);
            evals += 1;
            if fa.is_finite() && fa < best.1 {
                best = (a, fa);
            }
            if !fa.is_finite() || fa > f0 + c1 * a * dphi0 || (evals > 1 && fa >= f_prev) {
                bracket = ((a_prev, f_prev, dp_prev), (a, fa, dpa));
                break;
            }
            if dpa.abs() <= -c2 * dphi0 {
                return (a, fa);
            }
            if dpa >= 0.0 {
                bracket = ((a, fa, dpa), (a_prev, f_prev, dp_prev));
                break;
            }
            if evals >= self.cfg.max_evals {
                return self.settle(g, x, best);
            }
            (a_prev, f_prev, dp_prev) = (a, fa, dpa);
            a *= 2.0;
        }
        // zoom (Algorithm 3.6)
        let (mut lo, mut hi) = bracket;
        while evals < self.cfg.max_evals {
            let mut a = cubic_min(lo, hi);
            let (l, h) = (lo.0.min(hi.0), lo.0.max(hi.0));
            let w = h - l;
            if !a.is_finite() || a < l + 0.1 * w || a > h - 0.1 * w {
                a = 0.5 * (l + h);
            }
            if w < 1e-16 * h.max(1.0) {
                break;
            }
            let (fa, dpa) = self.eval(g, x, a);
            evals += 1;
            if fa.is_finite() && fa < best.1 {
                best = (a, fa);
            }
            if !fa.is_finite() || fa > f0 + c1 * a * dphi0 || fa >= lo.1 {
                hi = (a, fa, dpa);
            } else {
                if dpa.abs() <= -c2 * dphi0 {
                    return (a, fa);
                }
                if dpa * (hi.0 - lo.0) >= 0.0 {
                    hi = lo;
                }
                lo = (a, fa, dpa);
            }
        }
        self.settle(g, x, best)
    }

    /// Falls back to the best decreasing point seen (re-evaluating its gradient).
    fn settle(&mut self, g: &mut dyn Gradient, x: &[f64], best: (f64, f64)) -> (f64, f64) {
        if best.0 > 0.0 {
            let (f, _) = self.eval(g, x, best.0);
            (best.0, f)
        } else {
            (0.0, self.f)
        }
    }

    fn reset_memory(&mut self) {
        self.len = 0;
        self.head = 0;
    }
}

/// Minimiser of the cubic through (a, f, f') at both ends (torch's `_cubic_interpolate`).
fn cubic_min((x1, f1, g1): (f64, f64, f64), (x2, f2, g2): (f64, f64, f64)) -> f64 {
    let d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
    let d2sq = d1 * d1 - g1 * g2;
    if d2sq < 0.0 {
        return f64::NAN;
    }
    let d2 = d2sq.sqrt();
    if x1 <= x2 {
        x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
    } else {
        x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Optimizer for Lbfgs {
    fn requires(&self) -> Requires {
        Requires::all(Caps::GRADIENT)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn init(&mut self, layout: &Layout, _: &RngStreams) -> Result<()> {
        let (p, m) = (layout.len(), self.cfg.history);
        self.dim = p;
        self.s = vec![0.0; m * p];
        self.y = vec![0.0; m * p];
        self.rho = vec![0.0; m];
        self.alpha = vec![0.0; m];
        self.g = vec![0.0; p];
        self.g_new = vec![0.0; p];
        self.d = vec![0.0; p];
        self.x_new = vec![0.0; p];
        self.reset_memory();
        self.step = 0;
        self.have_grad = false;
        Ok(())
    }

    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        if x.len() != self.dim {
            return Err(Error::shape(
                format!(
                    "parameters of '{}' (was init called with this layout?)",
                    self.name
                ),
                self.dim,
                x.len(),
            ));
        }
        let stochastic = problem.caps().contains(Caps::STOCHASTIC);
        problem.resample();
        self.requires().check(&self.name, problem)?;
        let g = problem.as_gradient().expect("checked Gradient");
        if stochastic || !self.have_grad {
            self.f = g.value_grad(x, &mut self.g);
        }
        let f0 = self.f;
        self.direction();
        if dot(&self.g, &self.d) >= 0.0 {
            self.reset_memory();
            self.direction();
        }
        let a0 = if self.len == 0 {
            let g1: f64 = self.g.iter().map(|v| v.abs()).sum();
            self.cfg.lr * (1.0 / g1.max(f64::MIN_POSITIVE)).min(1.0)
        } else {
            self.cfg.lr
        };
        let (alpha, f_new) = self.line_search(g, x, a0);
        let mut extras = Extras::new();
        extras.push("alpha", alpha);
        if alpha > 0.0 {
            let (p, m) = (self.dim, self.cfg.history);
            let idx = self.head;
            let mut sy = 0.0;
            for i in 0..p {
                let s = alpha * self.d[i];
                let y = self.g_new[i] - self.g[i];
                self.s[idx * p + i] = s;
                self.y[idx * p + i] = y;
                sy += s * y;
            }
            if sy
                > 1e-10
                    * dot(
                        &self.y[idx * p..(idx + 1) * p],
                        &self.y[idx * p..(idx + 1) * p],
                    )
                    .sqrt()
                    * alpha
                    * dot(&self.d, &self.d).sqrt()
            {
                self.rho[idx] = 1.0 / sy;
                self.head = (self.head + 1) % m;
                self.len = (self.len + 1).min(m);
            }
            x[..p].copy_from_slice(&self.x_new[..p]);
            std::mem::swap(&mut self.g, &mut self.g_new);
            self.f = f_new;
            self.have_grad = true;
        } else {
            // no progress along this direction: start the memory afresh
            self.reset_memory();
        }
        self.step += 1;
        Ok(StepInfo {
            loss: Some(f0),
            extras,
            ..StepInfo::default()
        })
    }

    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        match name {
            "lr" if value > 0.0 && value.is_finite() => {
                self.cfg.lr = value;
                Ok(())
            }
            "lr" => Err(Error::invalid("lbfgs.lr", value, "a finite number > 0")),
            other => Err(crate::transform::unknown_hyper(&self.name, other, &["lr"])),
        }
    }

    fn state(&self) -> OptimizerState {
        OptimizerState::new("lbfgs")
            .with_scalar("step", self.step as f64)
            .with_scalar("len", self.len as f64)
            .with_scalar("head", self.head as f64)
            .with_scalar("dim", self.dim as f64)
            .with_vector("s", &self.s)
            .with_vector("y", &self.y)
            .with_vector("rho", &self.rho)
    }

    fn load_state(&mut self, st: &OptimizerState) -> Result<()> {
        st.expect_kind("lbfgs")?;
        if st.scalar("dim")? != self.dim as f64 {
            return Err(Error::shape(
                "lbfgs state (parameter count)",
                self.dim,
                st.scalar("dim")?,
            ));
        }
        st.vector_into("s", &mut self.s)?;
        st.vector_into("y", &mut self.y)?;
        st.vector_into("rho", &mut self.rho)?;
        let m = self.cfg.history as f64;
        let (len, head, step) = (st.scalar("len")?, st.scalar("head")?, st.scalar("step")?);
        for (k, v, hi) in [
            ("len", len, m),
            ("head", head, m - 1.0),
            ("step", step, f64::MAX),
        ] {
            if !(v >= 0.0 && v <= hi && v.fract() == 0.0) {
                return Err(Error::invalid(
                    format!("lbfgs state {k}"),
                    v,
                    format!("an integer in [0, {hi}]"),
                ));
            }
        }
        self.len = len as usize;
        self.head = head as usize;
        self.step = step as u64;
        self.have_grad = false;
        Ok(())
    }
}
