//! The Rolling Ball Optimizer (Belgoumri et al., arXiv 2505.19527, "Rolling Ball Optimizer:
//! learning by ironing out loss landscape wrinkles") and its geometry (P6 spec §2).
//!
//! A ball of radius ρ rests on the graph Γ = {(θ, f(θ))} ⊂ ℝ^{n+1}. At the contact point
//! p = (θ, f(θ)) with g = ∇f(θ):
//! - the upward unit normal is ν = (−g, 1)/√(1+‖g‖²) ([`upward_normal`]);
//! - the descent tangent is τ = (g, ‖g‖²), the image of g under the graph map's differential,
//!   **not normalised** ([`descent_tangent`]);
//! - the centre is c = p + ρν ([`centre`]).
//!
//! One step (spec §2.2): move the centre c̃ = c − η τ, then the next contact point is the foot of
//! c̃ on Γ, θ' = argmin ½‖θ − x̃‖² + ½(f(θ) − ỹ)² ([`step_target`], then [`project_iterative`]
//! or, in 1-D, the exact [`project_exact_1d`]). The practical solver is the authors' plain
//! gradient descent on the projection objective, warm-started at θ_t, on the same minibatch
//! (spec §2.3): z ← z − γ[(z − x̃) + (f(z) − ỹ)∇f(z)].
//!
//! [`Rbo`] is the optimizer; one step costs 1 + K gradient evaluations. The authors' 1-D demo
//! uses (1, −g) as its "normal"; that vector is not normal to Γ and is not used here (spec §6.7).

use descent_core::{
    Args, Caps, Error, Gradient, Layout, Problem, Requires, Result, RngStreams, Spec,
};
use serde::{Deserialize, Serialize};

use crate::config::{AT_LEAST_ONE, Config, KeyDoc, NON_NEGATIVE, POSITIVE, Param, fmt_f64};
use crate::optimizer::{Optimizer, StepCount, StepInfo};
use crate::registry::FromConfig;

/// The upward unit normal ν = (−g, 1)/√(1+‖g‖²) of the graph at a point with gradient g,
/// written into `out` (length n + 1, the height last).
pub fn upward_normal(g: &[f64], out: &mut [f64]) {
    assert_eq!(
        out.len(),
        g.len() + 1,
        "upward_normal: out has length n + 1"
    );
    let s = (1.0 + dot(g, g)).sqrt();
    for (o, gi) in out.iter_mut().zip(g) {
        *o = -gi / s;
    }
    out[g.len()] = 1.0 / s;
}

/// The descent tangent τ = (g, ‖g‖²) (not normalised), written into `out` (length n + 1).
pub fn descent_tangent(g: &[f64], out: &mut [f64]) {
    assert_eq!(
        out.len(),
        g.len() + 1,
        "descent_tangent: out has length n + 1"
    );
    out[..g.len()].copy_from_slice(g);
    out[g.len()] = dot(g, g);
}

/// The centre c = (θ − ρg/s, y + ρ/s), s = √(1+‖g‖²), of the ball of radius ρ touching the
/// graph at (θ, y) with gradient g; writes its θ-part into `cx` and returns its height.
pub fn centre(theta: &[f64], y: f64, g: &[f64], rho: f64, cx: &mut [f64]) -> f64 {
    let s = (1.0 + dot(g, g)).sqrt();
    for ((c, t), gi) in cx.iter_mut().zip(theta).zip(g) {
        *c = t - rho * gi / s;
    }
    y + rho / s
}

/// The moved centre c̃ = c − η(g, ‖g‖²) of one RBO step (spec §2.2); writes x̃ into `target_x`
/// and returns ỹ.
pub fn step_target(
    theta: &[f64],
    y: f64,
    g: &[f64],
    lr: f64,
    rho: f64,
    target_x: &mut [f64],
) -> f64 {
    let g2 = dot(g, g);
    let s = (1.0 + g2).sqrt();
    for ((c, t), gi) in target_x.iter_mut().zip(theta).zip(g) {
        *c = t - rho * gi / s - lr * gi;
    }
    y + rho / s - lr * g2
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// What [`project_iterative`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProjectionInfo {
    /// Gradient evaluations made.
    pub evals: usize,
    /// Norm of the stationarity residual (z − x̃) + (f(z) − ỹ)∇f(z) at the last evaluation.
    pub residual: f64,
    /// Squared distance from (z, f(z)) to (x̃, ỹ) at the last evaluation (before its update).
    pub distance: f64,
}

/// The settings of [`project_iterative`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProjectionSolver {
    /// Step γ.
    pub gamma: f64,
    /// Iterations K (the maximum when `tol > 0`).
    pub max_steps: usize,
    /// Stop once the stationarity residual norm is at most `tol`; 0 runs all K.
    pub tol: f64,
}

/// The authors' projection solver (spec §2.3): from the warm start in `z`, up to `max_steps`
/// iterations of z ← z − γ[(z − x̃) + (f(z) − ỹ)∇f(z)], each one gradient evaluation of `f` (on
/// the current minibatch). With `tol > 0` it stops, without updating, as soon as the residual
/// norm is at most `tol` (that evaluation is counted). `gz` is scratch of length n.
pub fn project_iterative(
    f: &mut dyn Gradient,
    target_x: &[f64],
    target_y: f64,
    solver: ProjectionSolver,
    z: &mut [f64],
    gz: &mut [f64],
) -> ProjectionInfo {
    let ProjectionSolver {
        gamma,
        max_steps,
        tol,
    } = solver;
    let mut info = ProjectionInfo {
        evals: 0,
        residual: f64::NAN,
        distance: f64::NAN,
    };
    for _ in 0..max_steps {
        let fz = f.value_grad(z, gz);
        info.evals += 1;
        let h = fz - target_y;
        let mut r2 = 0.0;
        let mut d2 = h * h;
        for ((gi, zi), xi) in gz.iter_mut().zip(z.iter()).zip(target_x) {
            let dz = zi - xi;
            d2 += dz * dz;
            *gi = dz + h * *gi; // the residual, stored in place of the gradient
            r2 += *gi * *gi;
        }
        info.residual = r2.sqrt();
        info.distance = d2;
        if tol > 0.0 && info.residual <= tol {
            break;
        }
        for (zi, ri) in z.iter_mut().zip(gz.iter()) {
            *zi -= gamma * ri;
        }
    }
    info
}

/// The inner step γ of the projection solver.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InnerStep {
    /// A fixed γ.
    Fixed(f64),
    /// γ = c/(1 + ‖g‖²) with g the step's outer gradient: the projection objective's curvature
    /// along g is about 1 + ‖g‖², so c ≤ 0.5 is stable where a fixed γ blows up (spec §6.2).
    Scaled(f64),
}

impl InnerStep {
    /// γ for an outer gradient with squared norm `g2`.
    pub fn gamma(self, g2: f64) -> f64 {
        match self {
            InnerStep::Fixed(g) => g,
            InnerStep::Scaled(c) => c / (1.0 + g2),
        }
    }
}

/// The spec keys `inner_lr` (a fixed γ) and `inner_c` (γ = c/(1 + ‖g‖²)), one of them.
impl Param for InnerStep {
    fn expected(&self) -> String {
        "one of inner_lr (fixed step) or inner_c (step c/(1+|g|^2))".into()
    }
    fn read(&mut self, args: &Args<'_>, _key: &'static str) -> Result<bool> {
        let step = match (args.f64_opt("inner_lr")?, args.f64_opt("inner_c")?) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    args.field("inner_c"),
                    "both inner_lr and inner_c",
                    self.expected(),
                ));
            }
            (Some(g), None) => {
                POSITIVE.apply_in_spec(|| args.field("inner_lr"), g)?;
                InnerStep::Fixed(g)
            }
            (None, Some(c)) => {
                POSITIVE.apply_in_spec(|| args.field("inner_c"), c)?;
                InnerStep::Scaled(c)
            }
            (None, None) => return Ok(false),
        };
        *self = step;
        Ok(true)
    }
    fn text(&self) -> Option<String> {
        None
    }
    fn keys(&self, _key: &'static str, out: &mut Vec<&'static str>) {
        out.extend(["inner_lr", "inner_c"]);
    }
    fn describe(&self, _key: &'static str, _doc: &str, out: &mut Vec<KeyDoc>) {
        let (fixed, scaled) = match *self {
            InnerStep::Fixed(g) => (Some(fmt_f64(g)), None),
            InnerStep::Scaled(c) => (None, Some(fmt_f64(c))),
        };
        out.push(KeyDoc::new(
            "inner_lr",
            fixed,
            "fixed step γ of the projection's gradient steps",
        ));
        out.push(KeyDoc::new(
            "inner_c",
            scaled,
            "instead of inner_lr: γ = c/(1 + |g|²), stable for c <= 0.5",
        ));
    }
    fn write_spec(&self, _key: &'static str, out: &mut Vec<String>) {
        out.push(match *self {
            InnerStep::Fixed(g) => format!("inner_lr={}", fmt_f64(g)),
            InnerStep::Scaled(c) => format!("inner_c={}", fmt_f64(c)),
        });
    }
    fn tunable(&self, _field: &'static str, out: &mut Vec<&'static str>) {
        out.extend(["inner_lr", "inner_c"]);
    }
    fn accepts(&self, _field: &'static str, name: &str) -> bool {
        name == "inner_lr" || name == "inner_c"
    }
    /// The value of the active form (`inner_lr` of a fixed step, `inner_c` of a scaled one).
    fn get(&self, _field: &'static str, name: &str) -> Option<f64> {
        match (*self, name) {
            (InnerStep::Fixed(g), "inner_lr") => Some(g),
            (InnerStep::Scaled(c), "inner_c") => Some(c),
            _ => None,
        }
    }
    /// Setting `inner_lr` makes the step fixed, `inner_c` scaled.
    fn set(&mut self, _owner: &str, _field: &'static str, name: &str, value: f64) -> Result<()> {
        *self = if name == "inner_c" {
            InnerStep::Scaled(value)
        } else {
            InnerStep::Fixed(value)
        };
        Ok(())
    }
}

crate::spec_enum! {
    /// Where the projection solver starts.
    pub enum WarmStart {
        /// At the old contact point θ_t (the authors' n-D code).
        Contact = "contact",
        /// At the moved centre's θ-part x̃ (escapes some basins a contact warm start stays in,
        /// spec §6.1).
        Target = "target",
    }
}

crate::config! {
    /// The hyperparameters of [`Rbo`]; the defaults are the authors' n-D `ball_trajectory`
    /// defaults: η = 0.1, ρ = 0.5, γ = 0.01, K = 10.
    #[derive(Copy)]
    pub struct RboConfig("rbo") {
        /// Learning rate η of the centre's step along τ.
        lr: f64 = 0.1 => POSITIVE;
        /// Ball radius ρ (in the joint units of parameters and loss; spec §6.4).
        radius: f64 = 0.5 => NON_NEGATIVE;
        /// The projection solver's step γ.
        inner_step: InnerStep = InnerStep::Fixed(0.01);
        /// Projection iterations K (the maximum when tol > 0).
        inner_steps: usize = 10 => AT_LEAST_ONE;
        /// Stop the projection once its residual norm is at most tol; 0 always runs K iterations.
        tol: f64 = 0.0 => NON_NEGATIVE;
        /// The projection's starting point: the contact point or the moved centre.
        warm_start: WarmStart = WarmStart::Contact;
    }
    validate(c) {
        match c.inner_step {
            InnerStep::Fixed(g) => POSITIVE.apply(|| "rbo.inner_lr".into(), g),
            InnerStep::Scaled(s) => POSITIVE.apply(|| "rbo.inner_c".into(), s),
        }
    }
}

/// The Rolling Ball Optimizer (spec §2.2–2.3). Stateless between steps apart from its
/// hyperparameters: the centre is recomputed from θ_t at each step, as in the authors' code.
/// Each step resamples once and evaluates 1 + K gradients on that minibatch (fewer with a
/// tolerance). Reports the extras `gamma`, `inner_evals`, `residual` (the projection's final
/// stationarity residual) and `height_gap` (ỹ − f(θ_t)).
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Problem, RngStreams, testfns::Quadratic};
/// use descent_optim::{Optimizer, Rbo, RboConfig, run};
///
/// let mut bowl = Quadratic::diagonal(&[1.0, 2.0], &[0.0, 0.0])?;
/// let mut x = vec![1.0, 1.0]; // f = 1.5
/// let mut rbo = Rbo::new(RboConfig { lr: 0.05, radius: 0.1, ..Default::default() }, "rbo")?;
/// rbo.init(bowl.layout(), &RngStreams::new(0))?;
/// let end = run(&mut rbo, &mut x, &mut bowl, 200, |_| Continue(()))?;
/// assert!(end.final_loss().unwrap() < 0.05); // 0.029 after 200 steps
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct Rbo {
    config: RboConfig,
    st: StepCount,
    name: String,
    g: Vec<f64>,
    target: Vec<f64>,
    scratch: Vec<f64>,
}

impl Rbo {
    /// An RBO with these hyperparameters, reporting `name`.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(config: RboConfig, name: impl Into<String>) -> Result<Self> {
        config.validate()?;
        Ok(Rbo {
            config,
            st: StepCount::default(),
            name: name.into(),
            g: Vec::new(),
            target: Vec::new(),
            scratch: Vec::new(),
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> RboConfig {
        self.config
    }
}

impl FromConfig for Rbo {
    type Config = RboConfig;

    fn from_config(cfg: RboConfig, spec: &Spec) -> Result<Self> {
        Rbo::new(cfg, spec.to_string())
    }
}

impl Optimizer for Rbo {
    crate::plumbing! { config: config, state: st, }

    fn requires(&self) -> Requires {
        Requires::all(Caps::GRADIENT)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn init(&mut self, layout: &Layout, _streams: &RngStreams) -> Result<()> {
        let n = layout.len();
        self.g = vec![0.0; n];
        self.target = vec![0.0; n];
        self.scratch = vec![0.0; n];
        self.st = StepCount { step: 0, dim: n };
        Ok(())
    }

    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        if x.len() != self.g.len() {
            return Err(Error::shape(
                format!(
                    "parameters of '{}' (was init called with this layout?)",
                    self.name
                ),
                self.g.len(),
                x.len(),
            ));
        }
        self.requires().check(&self.name, problem)?;
        problem.resample();
        let f = problem.as_gradient().expect("requires() checked Gradient");
        let c = self.config;
        let y = f.value_grad(x, &mut self.g);
        let g2 = dot(&self.g, &self.g);
        let ty = step_target(x, y, &self.g, c.lr, c.radius, &mut self.target);
        let gamma = c.inner_step.gamma(g2);
        if c.warm_start == WarmStart::Target {
            x.copy_from_slice(&self.target);
        }
        let info = project_iterative(
            f,
            &self.target,
            ty,
            ProjectionSolver {
                gamma,
                max_steps: c.inner_steps,
                tol: c.tol,
            },
            x,
            &mut self.scratch,
        );
        let mut out = StepInfo {
            loss: Some(y),
            ..StepInfo::default()
        };
        out.extras.push("gamma", gamma);
        out.extras.push("inner_evals", info.evals as f64);
        out.extras.push("residual", info.residual);
        out.extras.push("height_gap", ty - y);
        self.st.step += 1;
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Exact 1-D geometry (analysis and reference; spec R1, R4–R6)
// ---------------------------------------------------------------------------------------------

/// The exact nearest point on the graph of a 1-D function to (x̃, ỹ) (spec R4): the nearest
/// point lies within D = |ỹ − f(x̃)| of x̃, so a grid of `grid` points over [x̃ − D, x̃ + D] finds
/// its basin (ties: smallest |θ − x̃|, then smallest θ; spec §6.9), and at most `newton` Newton
/// steps on the stationarity equation h(θ) = (θ − x̃) + (f(θ) − ỹ)f'(θ) = 0 polish it (a step is
/// kept only if it stays within one grid cell and lowers the distance). `f` returns
/// (f, f', f'').
pub fn project_exact_1d(
    f: &impl Fn(f64) -> (f64, f64, f64),
    tx: f64,
    ty: f64,
    grid: usize,
    newton: usize,
) -> f64 {
    let d = (ty - f(tx).0).abs();
    if d == 0.0 {
        return tx;
    }
    let n = grid.max(3);
    let h = 2.0 * d / (n - 1) as f64;
    let dist2 = |t: f64| {
        let v = f(t).0 - ty;
        (t - tx) * (t - tx) + v * v
    };
    let mut best = tx;
    let mut best_d = dist2(tx);
    for i in 0..n {
        let t = tx - d + h * i as f64;
        let dd = dist2(t);
        let closer =
            (t - tx).abs() < (best - tx).abs() || ((t - tx).abs() == (best - tx).abs() && t < best);
        if dd < best_d || (dd == best_d && closer) {
            best = t;
            best_d = dd;
        }
    }
    let centre = best;
    for _ in 0..newton {
        let (fv, f1, f2) = f(best);
        let hval = (best - tx) + (fv - ty) * f1;
        let dh = 1.0 + f1 * f1 + (fv - ty) * f2;
        if dh <= 0.0 || hval == 0.0 {
            break;
        }
        let next = best - hval / dh;
        if (next - centre).abs() > h {
            break;
        }
        let nd = dist2(next);
        if nd > best_d {
            break;
        }
        best = next;
        best_d = nd;
    }
    best
}

/// One RBO step of a 1-D function with the exact projection: θ' = foot of c̃ on the graph.
pub fn rbo_step_exact_1d(
    f: &impl Fn(f64) -> (f64, f64, f64),
    theta: f64,
    lr: f64,
    rho: f64,
    grid: usize,
    newton: usize,
) -> f64 {
    let (y, g, _) = f(theta);
    let mut tx = [0.0];
    let ty = step_target(&[theta], y, &[g], lr, rho, &mut tx);
    project_exact_1d(f, tx[0], ty, grid, newton)
}

/// The distance from (cx, cy) to the graph of `f` over a uniform grid of `n` points on
/// [lo, hi] (a brute-force reference for tests and analysis).
pub fn grid_distance_1d(
    f: &impl Fn(f64) -> f64,
    cx: f64,
    cy: f64,
    lo: f64,
    hi: f64,
    n: usize,
) -> f64 {
    let h = (hi - lo) / (n - 1) as f64;
    (0..n)
        .map(|i| {
            let t = lo + h * i as f64;
            let v = f(t) - cy;
            (t - cx) * (t - cx) + v * v
        })
        .fold(f64::INFINITY, f64::min)
        .sqrt()
}

/// The height of the upper ρ-offset of the graph of φ (spec T3),
/// h_ρ(x) = max_{|x − x′| ≤ ρ} [φ(x′) + √(ρ² − (x − x′)²)], at the `n` uniform grid points of
/// [lo, hi]; φ is sampled on the same spacing over [lo − ρ, hi + ρ], so the ends are not
/// truncated. Cost O(n · ρ/h) with a precomputed cap profile.
pub fn offset_height_1d(
    phi: &impl Fn(f64) -> f64,
    lo: f64,
    hi: f64,
    n: usize,
    rho: f64,
) -> Vec<f64> {
    let h = (hi - lo) / (n - 1) as f64;
    let w = (rho / h).floor() as usize;
    let samples: Vec<f64> = (0..n + 2 * w)
        .map(|j| phi(lo + h * (j as f64 - w as f64)))
        .collect();
    let cap: Vec<f64> = (0..=2 * w)
        .map(|k| {
            let d = h * (k as f64 - w as f64);
            (rho * rho - d * d).max(0.0).sqrt()
        })
        .collect();
    (0..n)
        .map(|i| {
            samples[i..i + 2 * w + 1]
                .iter()
                .zip(&cap)
                .map(|(s, c)| s + c)
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tangent_is_orthogonal_to_the_unit_normal() {
        let g = [0.3, -1.7, 2.5];
        let mut nu = [0.0; 4];
        let mut tau = [0.0; 4];
        upward_normal(&g, &mut nu);
        descent_tangent(&g, &mut tau);
        assert!((dot(&nu, &nu) - 1.0).abs() < 1e-15);
        assert!(dot(&nu, &tau).abs() < 1e-14);
        assert!(nu[3] > 0.0);
    }

    #[test]
    fn exact_projection_of_a_parabola_satisfies_stationarity() {
        let f = |x: f64| (0.5 * x * x, x, 1.0);
        let (tx, ty) = (0.7, -0.4);
        let t = project_exact_1d(&f, tx, ty, 4001, 20);
        let h = (t - tx) + (0.5 * t * t - ty) * t;
        assert!(h.abs() < 1e-12, "{t} {h}");
        let d = grid_distance_1d(&|x| 0.5 * x * x, tx, ty, -3.0, 3.0, 600_001);
        let dt = ((t - tx).powi(2) + (0.5 * t * t - ty).powi(2)).sqrt();
        assert!((d - dt).abs() < 1e-9, "{d} {dt}");
    }

    #[test]
    fn offset_of_a_constant_is_constant_plus_radius() {
        let h = offset_height_1d(&|_| 0.25, -1.0, 1.0, 201, 0.3);
        assert!(h.iter().all(|v| (v - 0.55).abs() < 1e-12));
    }
}
