//! L-BFGS with a strong-Wolfe line search (Nocedal & Wright, *Numerical Optimization*,
//! Algorithms 7.4 (two-loop recursion), 3.5 and 3.6 (line search and zoom with safeguarded cubic
//! interpolation)), the quasi-Newton baseline PINN users know (P8).
//!
//! On a stochastic problem every step resamples, evaluates the gradient on the new batch, and the
//! curvature pair (s, y) uses two gradients of the SAME batch (the line search's last point and
//! the step's start), so pairs never mix batches. On a deterministic problem the gradient at the
//! new point is reused.

use descent_core::{Caps, Error, Gradient, Layout, Problem, Requires, Result, RngStreams, Spec};
use serde::{Deserialize, Serialize};

use crate::config::{Check, Config, POSITIVE};
use crate::optimizer::{Extras, Optimizer, StepInfo};
use crate::registry::FromConfig;

crate::config! {
    /// Hyperparameters of [`Lbfgs`].
    #[derive(Copy)]
    pub struct LbfgsConfig("lbfgs") {
        /// Stored curvature pairs m.
        history: usize = 10 => Check::new(|x| x >= 1.0, "at least 1 pair");
        /// Initial trial step (scaled by min(1, 1/‖g‖₁) on the first step, as torch does).
        lr: f64 = 1.0 => POSITIVE;
        /// Sufficient-decrease constant c₁ of the strong Wolfe conditions.
        c1: f64 = 1e-4;
        /// Curvature constant c₂ (strong Wolfe |φ'(α)| ≤ c₂|φ'(0)|).
        c2: f64 = 0.9;
        /// Function/gradient evaluations allowed per line search.
        max_evals: usize = 25 => Check::new(|x| x >= 1.0, "at least 1");
    }
    validate(c) {
        if !(0.0 < c.c1 && c.c1 < c.c2 && c.c2 < 1.0) {
            return Err(Error::invalid(
                "lbfgs.c1, lbfgs.c2",
                format!("{}, {}", c.c1, c.c2),
                "0 < c1 < c2 < 1",
            ));
        }
        Ok(())
    }
}

/// The state of [`Lbfgs`]: the curvature pairs (a ring of `history` slots), the point's value
/// and gradient, and the step count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LbfgsState {
    /// Steps taken.
    pub step: u64,
    /// The parameter count.
    pub dim: usize,
    /// Stored pairs (at most `history`) and the slot the next one goes to.
    pub len: usize,
    /// The slot the next pair goes to.
    pub head: usize,
    /// `history` × `dim` each, slot-major.
    pub s: Vec<f64>,
    /// The gradient differences yₖ = gₖ₊₁ − gₖ.
    pub y: Vec<f64>,
    /// 1/(sᵀy) of each slot.
    pub rho: Vec<f64>,
    /// f and ∇f at the current point, valid when `have_grad` (deterministic problems reuse them).
    pub f: f64,
    /// ∇f at the current point.
    pub g: Vec<f64>,
    /// Whether `f` and `g` are valid.
    pub have_grad: bool,
}

/// L-BFGS (see the module docs).
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Problem, RngStreams, testfns::Rosenbrock};
/// use descent_optim::{Lbfgs, LbfgsConfig, Optimizer, run};
///
/// let mut problem = Rosenbrock::new(2)?;
/// let mut x = problem.start();
/// let mut lbfgs = Lbfgs::new(LbfgsConfig::default(), "lbfgs")?;
/// lbfgs.init(problem.layout(), &RngStreams::new(0))?;
/// let end = run(&mut lbfgs, &mut x, &mut problem, 100, |_| Continue(()))?;
/// assert!(end.final_loss().unwrap() < 1e-10);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct Lbfgs {
    cfg: LbfgsConfig,
    name: String,
    st: LbfgsState,
    alpha: Vec<f64>,
    g_new: Vec<f64>,
    d: Vec<f64>,
    x_new: Vec<f64>,
}

impl Lbfgs {
    /// An L-BFGS optimizer reporting `name`; errors name the bad field.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(cfg: LbfgsConfig, name: impl Into<String>) -> Result<Self> {
        cfg.validate()?;
        Ok(Lbfgs {
            cfg,
            name: name.into(),
            st: LbfgsState::default(),
            alpha: Vec::new(),
            g_new: Vec::new(),
            d: Vec::new(),
            x_new: Vec::new(),
        })
    }

    /// A loaded state must fit the ring: at most `history` pairs, the head inside it.
    fn check_state(&self, s: &LbfgsState) -> Result<()> {
        let m = s.rho.len();
        if s.len > m || (m > 0 && s.head >= m) {
            return Err(Error::invalid(
                "lbfgs state",
                format!("len {} and head {}", s.len, s.head),
                format!("len <= {m} and head < {m} (the history)"),
            ));
        }
        Ok(())
    }

    /// d ← −H g by the two-loop recursion.
    fn direction(&mut self) {
        let (p, m) = (self.st.dim, self.cfg.history);
        self.d.iter_mut().zip(&self.st.g).for_each(|(d, g)| *d = -g);
        for k in 0..self.st.len {
            let idx = (self.st.head + m - 1 - k) % m;
            let s = &self.st.s[idx * p..(idx + 1) * p];
            let a = self.st.rho[idx] * dot(s, &self.d);
            self.alpha[idx] = a;
            let y = &self.st.y[idx * p..(idx + 1) * p];
            self.d.iter_mut().zip(y).for_each(|(d, yv)| *d -= a * yv);
        }
        if self.st.len > 0 {
            let idx = (self.st.head + m - 1) % m;
            let y = &self.st.y[idx * p..(idx + 1) * p];
            let gamma = 1.0 / (self.st.rho[idx] * dot(y, y));
            self.d.iter_mut().for_each(|d| *d *= gamma);
        }
        for k in (0..self.st.len).rev() {
            let idx = (self.st.head + m - 1 - k) % m;
            let y = &self.st.y[idx * p..(idx + 1) * p];
            let b = self.st.rho[idx] * dot(y, &self.d);
            let s = &self.st.s[idx * p..(idx + 1) * p];
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
        let (f0, dphi0) = (self.st.f, dot(&self.st.g, &self.d));
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
            (0.0, self.st.f)
        }
    }

    fn reset_memory(&mut self) {
        self.st.len = 0;
        self.st.head = 0;
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

impl FromConfig for Lbfgs {
    type Config = LbfgsConfig;

    fn from_config(cfg: LbfgsConfig, spec: &Spec) -> Result<Self> {
        Lbfgs::new(cfg, spec.to_string())
    }
}

impl Optimizer for Lbfgs {
    crate::plumbing! { config: cfg, state: st, check: Self::check_state, }

    fn requires(&self) -> Requires {
        Requires::all(Caps::GRADIENT)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn init(&mut self, layout: &Layout, _: &RngStreams) -> Result<()> {
        let (p, m) = (layout.len(), self.cfg.history);
        self.st.dim = p;
        self.st.s = vec![0.0; m * p];
        self.st.y = vec![0.0; m * p];
        self.st.rho = vec![0.0; m];
        self.alpha = vec![0.0; m];
        self.st.g = vec![0.0; p];
        self.g_new = vec![0.0; p];
        self.d = vec![0.0; p];
        self.x_new = vec![0.0; p];
        self.reset_memory();
        self.st.step = 0;
        self.st.have_grad = false;
        Ok(())
    }

    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        if x.len() != self.st.dim {
            return Err(Error::shape(
                format!(
                    "parameters of '{}' (was init called with this layout?)",
                    self.name
                ),
                self.st.dim,
                x.len(),
            ));
        }
        let stochastic = problem.caps().contains(Caps::STOCHASTIC);
        problem.resample();
        self.requires().check(&self.name, problem)?;
        let g = problem.as_gradient().expect("checked Gradient");
        if stochastic || !self.st.have_grad {
            self.st.f = g.value_grad(x, &mut self.st.g);
        }
        let f0 = self.st.f;
        self.direction();
        if dot(&self.st.g, &self.d) >= 0.0 {
            self.reset_memory();
            self.direction();
        }
        let a0 = if self.st.len == 0 {
            let g1: f64 = self.st.g.iter().map(|v| v.abs()).sum();
            self.cfg.lr * (1.0 / g1.max(f64::MIN_POSITIVE)).min(1.0)
        } else {
            self.cfg.lr
        };
        let (alpha, f_new) = self.line_search(g, x, a0);
        let mut extras = Extras::new();
        extras.push("alpha", alpha);
        if alpha > 0.0 {
            let (p, m) = (self.st.dim, self.cfg.history);
            let idx = self.st.head;
            let mut sy = 0.0;
            for i in 0..p {
                let s = alpha * self.d[i];
                let y = self.g_new[i] - self.st.g[i];
                self.st.s[idx * p + i] = s;
                self.st.y[idx * p + i] = y;
                sy += s * y;
            }
            if sy
                > 1e-10
                    * dot(
                        &self.st.y[idx * p..(idx + 1) * p],
                        &self.st.y[idx * p..(idx + 1) * p],
                    )
                    .sqrt()
                    * alpha
                    * dot(&self.d, &self.d).sqrt()
            {
                self.st.rho[idx] = 1.0 / sy;
                self.st.head = (self.st.head + 1) % m;
                self.st.len = (self.st.len + 1).min(m);
            }
            x[..p].copy_from_slice(&self.x_new[..p]);
            std::mem::swap(&mut self.st.g, &mut self.g_new);
            self.st.f = f_new;
            self.st.have_grad = true;
        } else {
            // no progress along this direction: start the memory afresh
            self.reset_memory();
        }
        self.st.step += 1;
        Ok(StepInfo {
            loss: Some(f0),
            extras,
            ..StepInfo::default()
        })
    }
}
