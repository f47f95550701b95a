//! Zeroth-order optimization (P10, Ma & Huang, ICLR 2025): two-point gradient estimators with
//! the perturbation laws the paper compares, including directionally aligned perturbations
//! (DAP), exposed as an oracle adapter so that any transform (SGD, Adam, ...) becomes a ZO method.
//!
//! - [`PerturbationLaw`]: Gaussian, uniform sphere of radius √d, random coordinate √d·e_J,
//!   Rademacher, and DAP v = s·u + w (s = ±1, w ⊥ u with E\[wwᵀ\] = I − uuᵀ) in the three
//!   constructions of the authors' code. Every law is scaled so that E\[vvᵀ\] = I (δ = 1, spec §2.2),
//!   so the estimator targets ∇f itself.
//! - [`ZoEstimator`]: the two-point estimator averaged over q directions,
//!   forward ĝ = (1/q) Σ_b [f(x+μv_b) − f(x)]/μ · v_b, central with [f(x+μv) − f(x−μv)]/(2μ),
//!   or the μ → 0 limit (∇f·v)·v for analysis. DAP takes its direction u either from the exact
//!   gradient (an oracle baseline) or from a pilot estimate with q uniform-sphere directions at
//!   the current point; the estimate is then the average of pilot and DAP estimates (spec §2.4).
//! - [`ZoGradient`]: the oracle adapter of DESIGN §3. It wraps a problem that offers `Function`
//!   and is a problem that offers `Gradient` (the estimate), so [`ZoOptimizer`] is just
//!   [`TransformOptimizer`] over it. Every query goes through the wrapped problem, so an
//!   [`descent_core::EvalCounter`] around it counts each (DAP's pilot queries included); it does
//!   not resample between the two points of a difference, so all queries of one estimate see the
//!   same minibatch (pitfall Z8).
//!
//! Bugs of the authors' code deliberately not copied (spec §6): the coordinate law carries the √d
//! factor (Z2), each law is what its name says (Z3: their `elif x == "uniform" or "optimal"`),
//! the sphere is taken on the flat parameter vector (Z4), DAP keeps its random sign (Z7), and the
//! degenerate-pilot threshold is relative (Z6).
//!
//! Query cost per estimate (function values unless noted): forward q + 1, central 2q + 1 (the
//! value f(x) is returned, as [`Gradient::value_grad`] promises), limit 1 gradient; DAP-estimated
//! doubles the directions (forward 2q + 1, central 4q + 1); DAP-exact trades the f(x) query for
//! 1 gradient.

use std::borrow::BorrowMut;

use descent_core::rng::Rng;
use descent_core::{
    Args, Caps, Error, Function, Gradient, Layout, Problem, Requires, Result, RngStreams, Spec,
    Stochastic,
};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::config::{AT_LEAST_ONE, Config, KeyDoc, NON_NEGATIVE, POSITIVE, Param};
use crate::optimizer::{Optimizer, StepInfo, TransformOptimizer};
use crate::registry::{FromConfig, base_transform};
use crate::transform::Transform;

crate::spec_enum! {
    /// How a DAP sample's complement w ⊥ u is drawn (spec §2.2; all give E\[vvᵀ\] = I).
    pub enum DapConstruction {
        /// (i) w = (I − uuᵀ)z, z ~ N(0, I) (the notebook's `grad` mode).
        GaussianComplement = "gaussian_complement",
        /// (ii) w = √(d−1)·Pz/‖Pz‖: ‖v‖² = d exactly, so the sample is constant-magnitude and
        /// aligned at once (the notebook's `get_optimal`).
        NormConstant = "norm_constant",
        /// (iii) z uniform on the sphere of radius √d, w = z − (zᵀu)u (the LLM and mesh code).
        SphereProject = "sphere_project",
    }
}

/// Where DAP gets its direction u.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DapDirection {
    /// u = ∇f/‖∇f‖ from the problem's exact gradient: the oracle upper bound of the paper's
    /// "DAP (exact gradient)" curves. Needs `Gradient` (one gradient evaluation per estimate).
    Exact,
    /// u from a pilot forward/central estimate with q uniform-sphere directions at the current
    /// point ("DAP (estimated gradient)"); the returned estimate is (pilot + DAP)/2.
    Estimated,
}

/// A perturbation law V with E\[vvᵀ\] = I (δ = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PerturbationLaw {
    /// v ~ N(0, I_d).
    Gaussian,
    /// v = √d·z/‖z‖, z ~ N(0, I): uniform on the sphere of radius √d.
    Sphere,
    /// v = √d·e_J, J uniform on {1..d}.
    Coordinate,
    /// vᵢ = ±1 independently.
    Rademacher,
    /// Directionally aligned: v = s·u + w, s = ±1, w ⊥ u (so |aᵀv| = ‖a‖ when u = a/‖a‖).
    Dap {
        /// How the perpendicular part w is built.
        construction: DapConstruction,
        /// Which direction u the perturbation aligns with.
        direction: DapDirection,
    },
}

impl PerturbationLaw {
    /// The laws by spec name: `gaussian`, `sphere`, `coordinate`, `rademacher`, `dap`
    /// (estimated direction) and `dap_exact`.
    pub const NAMES: [&'static str; 6] = [
        "gaussian",
        "sphere",
        "coordinate",
        "rademacher",
        "dap",
        "dap_exact",
    ];

    /// DAP with the construction of the authors' LLM/mesh code and an estimated direction.
    pub const DAP: PerturbationLaw = PerturbationLaw::Dap {
        construction: DapConstruction::SphereProject,
        direction: DapDirection::Estimated,
    };

    /// DAP aligned with the exact gradient (construction (iii)).
    pub const DAP_EXACT: PerturbationLaw = PerturbationLaw::Dap {
        construction: DapConstruction::SphereProject,
        direction: DapDirection::Exact,
    };

    /// Parses a law name (see [`PerturbationLaw::NAMES`]); DAP uses construction (iii).
    ///
    /// # Errors
    ///
    /// A name that is not a law, naming `field` and listing the laws.
    pub fn parse(field: &str, s: &str) -> Result<Self> {
        Ok(match s {
            "gaussian" => PerturbationLaw::Gaussian,
            "sphere" => PerturbationLaw::Sphere,
            "coordinate" => PerturbationLaw::Coordinate,
            "rademacher" => PerturbationLaw::Rademacher,
            "dap" => Self::DAP,
            "dap_exact" => Self::DAP_EXACT,
            other => {
                return Err(Error::invalid(
                    field,
                    other,
                    format!("one of {}", Self::NAMES.join(", ")),
                ));
            }
        })
    }

    /// The spec name.
    pub fn name(&self) -> &'static str {
        match self {
            PerturbationLaw::Gaussian => "gaussian",
            PerturbationLaw::Sphere => "sphere",
            PerturbationLaw::Coordinate => "coordinate",
            PerturbationLaw::Rademacher => "rademacher",
            PerturbationLaw::Dap {
                direction: DapDirection::Estimated,
                ..
            } => "dap",
            PerturbationLaw::Dap {
                direction: DapDirection::Exact,
                ..
            } => "dap_exact",
        }
    }

    /// True for DAP with the exact-gradient direction (the problem must offer `Gradient`).
    pub fn needs_gradient(&self) -> bool {
        matches!(
            self,
            PerturbationLaw::Dap {
                direction: DapDirection::Exact,
                ..
            }
        )
    }

    /// Draws one v into `v`. DAP needs the unit direction `u` (same length as `v`); the other
    /// laws ignore it. Errors, naming what was expected, when DAP gets no `u`, a `u` whose length
    /// differs from `v`'s, or a `u` that is not a unit vector (‖u‖ within 1e-6 of 1): the
    /// construction v = s·u + w with E\[vvᵀ\] = I (spec §2.2) holds only for unit u. Never
    /// allocates.
    ///
    /// # Errors
    ///
    /// See above.
    pub fn sample(&self, rng: &mut Rng, u: Option<&[f64]>, v: &mut [f64]) -> Result<()> {
        if let PerturbationLaw::Dap { .. } = self {
            let Some(u) = u else {
                return Err(Error::invalid(
                    "perturbation direction u",
                    "none",
                    format!(
                        "a unit vector of length {} (law '{}' aligns its samples with u)",
                        v.len(),
                        self.name()
                    ),
                ));
            };
            if u.len() != v.len() {
                return Err(Error::shape(
                    format!("direction u of the '{}' perturbation law", self.name()),
                    format!("length {} (the length of v)", v.len()),
                    format!("length {}", u.len()),
                ));
            }
            let n = norm(u);
            let unit = (n - 1.0).abs() <= 1e-6;
            if !unit {
                return Err(Error::invalid(
                    "perturbation direction u",
                    format!("a vector of norm {n}"),
                    "a unit vector (norm within 1e-6 of 1)",
                ));
            }
            self.draw(rng, u, v);
        } else {
            self.draw(rng, &[], v);
        }
        Ok(())
    }

    /// [`PerturbationLaw::sample`] without the checks: for DAP `u` must be a unit vector of
    /// `v`'s length (the estimator's own scratch `u`, sized once, always is).
    fn draw(&self, rng: &mut Rng, u: &[f64], v: &mut [f64]) {
        let d = v.len();
        match self {
            PerturbationLaw::Gaussian => gaussian(rng, v),
            PerturbationLaw::Sphere => sphere(rng, v),
            PerturbationLaw::Coordinate => {
                v.fill(0.0);
                if d > 0 {
                    v[rng.random_range(0..d)] = (d as f64).sqrt();
                }
            }
            PerturbationLaw::Rademacher => {
                for vi in v.iter_mut() {
                    *vi = if rng.random::<bool>() { 1.0 } else { -1.0 };
                }
            }
            PerturbationLaw::Dap { construction, .. } => dap(*construction, rng, u, v),
        }
    }
}

fn gaussian(rng: &mut Rng, v: &mut [f64]) {
    for vi in v.iter_mut() {
        *vi = StandardNormal.sample(rng);
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Uniform on the sphere of radius √d (redraws the measure-zero z = 0).
fn sphere(rng: &mut Rng, v: &mut [f64]) {
    let r = (v.len() as f64).sqrt();
    loop {
        gaussian(rng, v);
        let n = norm(v);
        if n > 0.0 {
            v.iter_mut().for_each(|x| *x *= r / n);
            return;
        }
    }
}

/// v = s·u + w with w ⊥ u drawn by `construction` (u must be a unit vector).
fn dap(construction: DapConstruction, rng: &mut Rng, u: &[f64], v: &mut [f64]) {
    let d = v.len();
    match construction {
        DapConstruction::GaussianComplement => gaussian(rng, v),
        DapConstruction::SphereProject => sphere(rng, v),
        DapConstruction::NormConstant => gaussian(rng, v),
    }
    // project out u (twice, so the along-u component is at rounding level even for large d)
    for _ in 0..2 {
        let c = dot(v, u);
        v.iter_mut().zip(u).for_each(|(vi, ui)| *vi -= c * ui);
    }
    if construction == DapConstruction::NormConstant {
        let n = norm(v);
        let target = (d.saturating_sub(1) as f64).sqrt();
        if n > 0.0 {
            v.iter_mut().for_each(|x| *x *= target / n);
        }
    }
    let s = if rng.random::<bool>() { 1.0 } else { -1.0 };
    v.iter_mut().zip(u).for_each(|(vi, ui)| *vi += s * ui);
}

crate::spec_enum! {
    /// Which two-point difference an estimate uses.
    pub enum Difference {
        /// [f(x+μv) − f(x)]/μ (the authors' code; one shared f(x) per estimate).
        Forward = "forward",
        /// [f(x+μv) − f(x−μv)]/(2μ): exact for quadratics.
        Central = "central",
        /// The μ → 0 limit ∇f(x)·v, from one exact gradient: for analysis (spec §2.3).
        Limit = "limit",
    }
}

/// The keys `law` (the law's name) and `dap` (the DAP construction, only with law=dap or
/// law=dap_exact).
impl Param for PerturbationLaw {
    fn expected(&self) -> String {
        format!("one of {}", Self::NAMES.join(", "))
    }
    fn read(&mut self, args: &Args<'_>, key: &'static str) -> Result<bool> {
        let mut given = false;
        if args.has(key) {
            let name = args.choice(key, self.name(), &Self::NAMES)?;
            *self = PerturbationLaw::parse(&args.field(key), &name)?;
            given = true;
        }
        if args.has("dap") {
            let c = args.choice("dap", "sphere_project", DapConstruction::NAMES)?;
            match self {
                PerturbationLaw::Dap { construction, .. } => {
                    *construction = DapConstruction::parse(&args.field("dap"), &c)?
                }
                _ => {
                    return Err(Error::invalid(
                        args.field("dap"),
                        c,
                        "no 'dap' key unless law is dap or dap_exact",
                    ));
                }
            }
            given = true;
        }
        Ok(given)
    }
    fn text(&self) -> Option<String> {
        Some(self.name().to_string())
    }
    fn keys(&self, key: &'static str, out: &mut Vec<&'static str>) {
        out.extend([key, "dap"]);
    }
    fn describe(&self, key: &'static str, doc: &str, out: &mut Vec<KeyDoc>) {
        out.push(KeyDoc::new(key, self.text(), doc));
        let construction = match self {
            PerturbationLaw::Dap { construction, .. } => Some(construction.name().to_string()),
            _ => None,
        };
        out.push(KeyDoc::new(
            "dap",
            construction,
            format!(
                "with law=dap or dap_exact: how the complement w ⊥ u is drawn ({})",
                DapConstruction::NAMES.join(", ")
            ),
        ));
    }
    fn write_spec(&self, key: &'static str, out: &mut Vec<String>) {
        out.push(format!("{key}={}", self.name()));
        if let PerturbationLaw::Dap { construction, .. } = self {
            out.push(format!("dap={}", construction.name()));
        }
    }
}

crate::config! {
    /// The settings of a two-point estimator.
    #[derive(Copy)]
    pub struct ZoConfig("zo") {
        /// The perturbation law: gaussian, sphere (radius √d), coordinate (√d·e_J), rademacher,
        /// dap (aligned with a pilot estimate, 2q directions) or dap_exact (aligned with the true
        /// gradient; needs a Gradient problem).
        law: PerturbationLaw = PerturbationLaw::Gaussian;
        /// Directions averaged per estimate (the paper's batch B).
        q: usize = 1 => AT_LEAST_ONE;
        /// Smoothing step μ.
        mu: f64 = 1e-3 => POSITIVE;
        /// The difference: forward (q+1 values), central (2q+1) or limit (the μ → 0 form from
        /// one exact gradient, for analysis).
        difference as diff: Difference = Difference::Forward;
        /// DAP-estimated falls back to uniform-sphere directions when the pilot is degenerate,
        /// ‖ĝ₀‖ ≤ pilot_threshold·(1 + |f(x)|) (relative, unlike the code's fixed 1e-3; pitfall Z6).
        pilot_threshold: f64 = 1e-8 => NON_NEGATIVE;
    }
}

impl ZoConfig {
    /// What a problem must offer: `Function`, plus `Gradient` for DAP-exact and the limit.
    pub fn requires(&self) -> Requires {
        if self.law.needs_gradient() || self.difference == Difference::Limit {
            Requires::all(Caps::FUNCTION | Caps::GRADIENT)
        } else {
            Requires::all(Caps::FUNCTION)
        }
    }

    /// Function values per estimate (the one gradient of the limit and of DAP-exact not included;
    /// DAP-exact gets f(x) with its gradient).
    pub fn queries_per_estimate(&self) -> usize {
        let dirs = match self.law {
            PerturbationLaw::Dap {
                direction: DapDirection::Estimated,
                ..
            } => 2 * self.q,
            _ => self.q,
        };
        // f(x) comes with the exact gradient when DAP-exact evaluates one
        let fx = usize::from(!self.law.needs_gradient());
        match self.difference {
            Difference::Forward => dirs + fx,
            Difference::Central => 2 * dirs + fx,
            Difference::Limit => 0,
        }
    }

    /// A short name such as `zo(law=dap, q=4, mu=0.001, diff=forward)`.
    pub fn label(&self) -> String {
        let mut s = format!(
            "zo(law={}, q={}, mu={}, diff={}",
            self.law.name(),
            self.q,
            self.mu,
            self.difference.name()
        );
        if let PerturbationLaw::Dap { construction, .. } = self.law
            && construction != DapConstruction::SphereProject
        {
            s.push_str(&format!(", dap={}", construction.name()));
        }
        s.push(')');
        s
    }
}

/// The two-point estimator with its perturbation stream and scratch space (sized once).
#[derive(Debug, Clone)]
pub struct ZoEstimator {
    cfg: ZoConfig,
    rng: Rng,
    v: Vec<f64>,
    xp: Vec<f64>,
    u: Vec<f64>,
    pilot: Vec<f64>,
    exact: Vec<f64>,
    last_queries: u64,
}

impl ZoEstimator {
    /// An estimator for dimension `dim` drawing perturbations from `rng`.
    ///
    /// # Errors
    ///
    /// A dimension of 0, or a hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(cfg: ZoConfig, dim: usize, rng: Rng) -> Result<Self> {
        cfg.validate()?;
        if dim == 0 {
            return Err(Error::invalid("zo dimension", 0, "at least 1 parameter"));
        }
        Ok(ZoEstimator {
            cfg,
            rng,
            v: vec![0.0; dim],
            xp: vec![0.0; dim],
            u: vec![0.0; dim],
            pilot: vec![0.0; dim],
            exact: vec![0.0; dim],
            last_queries: 0,
        })
    }

    /// The settings.
    pub fn config(&self) -> &ZoConfig {
        &self.cfg
    }

    /// The perturbation stream (its position is part of an optimizer's state).
    pub fn rng(&self) -> &Rng {
        &self.rng
    }

    /// Replaces the perturbation stream.
    pub fn set_rng(&mut self, rng: Rng) {
        self.rng = rng;
    }

    /// Function values the last estimate queried.
    pub fn last_queries(&self) -> u64 {
        self.last_queries
    }

    fn dim(&self) -> usize {
        self.v.len()
    }

    /// Writes the estimate of ∇f(x) into `g` and returns f(x). `problem` must offer what
    /// [`ZoConfig::requires`] says (checked by [`ZoGradient::new`] and the optimizer; a problem
    /// without the view panics here, a programming error). Never allocates.
    pub fn estimate(&mut self, problem: &mut dyn Problem, x: &[f64], g: &mut [f64]) -> f64 {
        assert_eq!(x.len(), self.dim(), "zo estimate: x has the wrong length");
        assert_eq!(g.len(), self.dim(), "zo estimate: g has the wrong length");
        self.last_queries = 0;
        let cfg = self.cfg;
        // The exact gradient, when the limit or DAP-exact needs it.
        let mut f0 = None;
        if cfg.difference == Difference::Limit || cfg.law.needs_gradient() {
            let grad = problem
                .as_gradient()
                .expect("zo: limit and dap_exact need a Gradient problem");
            f0 = Some(grad.value_grad(x, &mut self.exact));
        }
        match cfg.law {
            PerturbationLaw::Dap {
                direction: DapDirection::Exact,
                ..
            } => {
                let ok = unit_into(&self.exact, &mut self.u);
                let law = if ok { cfg.law } else { PerturbationLaw::Sphere };
                self.batch(problem, law, x, g, &mut f0)
            }
            PerturbationLaw::Dap {
                direction: DapDirection::Estimated,
                ..
            } => {
                // pilot with uniform-sphere directions, then DAP along its direction
                let mut pilot = std::mem::take(&mut self.pilot);
                let f = self.batch(problem, PerturbationLaw::Sphere, x, &mut pilot, &mut f0);
                let n = norm(&pilot);
                let law = if n > cfg.pilot_threshold * (1.0 + f.abs()) && n.is_finite() {
                    unit_into(&pilot, &mut self.u);
                    cfg.law
                } else {
                    PerturbationLaw::Sphere
                };
                self.batch(problem, law, x, g, &mut f0);
                g.iter_mut()
                    .zip(&pilot)
                    .for_each(|(gi, pi)| *gi = 0.5 * (*gi + pi));
                self.pilot = pilot;
                f
            }
            law => self.batch(problem, law, x, g, &mut f0),
        }
    }

    /// One batch of q directions of `law` (DAP uses `self.u`); `f0` caches f(x).
    fn batch(
        &mut self,
        problem: &mut dyn Problem,
        law: PerturbationLaw,
        x: &[f64],
        g: &mut [f64],
        f0: &mut Option<f64>,
    ) -> f64 {
        let cfg = self.cfg;
        let inv_q = 1.0 / cfg.q as f64;
        g.fill(0.0);
        if cfg.difference == Difference::Limit {
            for _ in 0..cfg.q {
                law.draw(&mut self.rng, &self.u, &mut self.v);
                let c = dot(&self.exact, &self.v) * inv_q;
                g.iter_mut().zip(&self.v).for_each(|(gi, vi)| *gi += c * vi);
            }
            return f0.expect("the limit evaluated the gradient");
        }
        let f = problem
            .as_function()
            .expect("zo: the problem must offer Function");
        let fx = match *f0 {
            Some(v) => v,
            None => {
                self.last_queries += 1;
                let v = f.value(x);
                *f0 = Some(v);
                v
            }
        };
        for _ in 0..cfg.q {
            law.draw(&mut self.rng, &self.u, &mut self.v);
            self.xp
                .iter_mut()
                .zip(x.iter().zip(&self.v))
                .for_each(|(p, (xi, vi))| *p = xi + cfg.mu * vi);
            let fp = f.value(&self.xp);
            let c = match cfg.difference {
                Difference::Forward => {
                    self.last_queries += 1;
                    (fp - fx) / cfg.mu
                }
                _ => {
                    self.xp
                        .iter_mut()
                        .zip(x.iter().zip(&self.v))
                        .for_each(|(p, (xi, vi))| *p = xi - cfg.mu * vi);
                    let fm = f.value(&self.xp);
                    self.last_queries += 2;
                    (fp - fm) / (2.0 * cfg.mu)
                }
            } * inv_q;
            g.iter_mut().zip(&self.v).for_each(|(gi, vi)| *gi += c * vi);
        }
        fx
    }
}

/// u = a/‖a‖; false (and u untouched) when a is zero or not finite.
fn unit_into(a: &[f64], u: &mut [f64]) -> bool {
    let n = norm(a);
    if !(n > 0.0 && n.is_finite()) {
        return false;
    }
    u.iter_mut().zip(a).for_each(|(ui, ai)| *ui = ai / n);
    true
}

/// The oracle adapter of DESIGN §3: wraps a problem offering `Function` and offers `Gradient`,
/// whose `value_grad` is the two-point estimate of [`ZoEstimator`] (and `Stochastic`, forwarded,
/// when the inner problem has it). `E` is the estimator, owned (`ZoEstimator`) or borrowed
/// (`&mut ZoEstimator`, as [`ZoOptimizer`] does to keep its perturbation stream across steps).
///
/// ```
/// use descent_core::{EvalCounter, Gradient, Problem, RngStreams};
/// use descent_core::testfns::Rosenbrock;
/// use descent_optim::zeroth_order::{PerturbationLaw, ZoConfig, ZoGradient};
///
/// let cfg = ZoConfig { law: PerturbationLaw::Sphere, q: 4, ..ZoConfig::default() };
/// let counted = EvalCounter::new(Rosenbrock::new(3).unwrap());
/// let mut zo = ZoGradient::new(counted, cfg, &RngStreams::new(0)).unwrap();
/// let mut g = [0.0; 3];
/// let f = zo.value_grad(&[0.0, 0.0, 0.0], &mut g);
/// assert_eq!(f, 2.0);
/// assert_eq!(zo.inner().counts().values, 5); // f(x) and 4 perturbed points
/// ```
pub struct ZoGradient<P: Problem, E: BorrowMut<ZoEstimator> = ZoEstimator> {
    inner: P,
    estimator: E,
}

impl<P: Problem> ZoGradient<P, ZoEstimator> {
    /// Wraps `inner` with a new estimator drawing from the `"perturbations"` stream.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range)., or a problem lacking what the estimator needs.
    pub fn new(inner: P, cfg: ZoConfig, streams: &RngStreams) -> Result<Self> {
        let est = ZoEstimator::new(cfg, inner.layout().len(), streams.stream("perturbations"))?;
        Self::with_estimator(inner, est)
    }
}

impl<P: Problem, E: BorrowMut<ZoEstimator>> ZoGradient<P, E> {
    /// Wraps `inner` with the given estimator; errors when the problem lacks what the estimator
    /// needs or the dimensions differ.
    ///
    /// # Errors
    ///
    /// See above.
    pub fn with_estimator(inner: P, estimator: E) -> Result<Self> {
        let cfg = *estimator.borrow().config();
        cfg.requires().check(&cfg.label(), &inner)?;
        if estimator.borrow().dim() != inner.layout().len() {
            return Err(Error::shape(
                format!("zo estimator for {}", inner.name()),
                inner.layout().len(),
                estimator.borrow().dim(),
            ));
        }
        Ok(ZoGradient { inner, estimator })
    }
    /// The wrapped problem.
    pub fn inner(&self) -> &P {
        &self.inner
    }
    /// The wrapped problem, mutably (e.g. for its true gradient in a probe).
    pub fn inner_mut(&mut self) -> &mut P {
        &mut self.inner
    }
    /// The estimator.
    pub fn estimator(&self) -> &ZoEstimator {
        self.estimator.borrow()
    }
    /// Unwraps the problem.
    pub fn into_inner(self) -> P {
        self.inner
    }
}

impl<P: Problem, E: BorrowMut<ZoEstimator>> Function for ZoGradient<P, E> {
    fn dim(&self) -> usize {
        self.inner.layout().len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.inner
            .as_function()
            .expect("ZoGradient wraps a Function problem")
            .value(x)
    }
}

impl<P: Problem, E: BorrowMut<ZoEstimator>> Gradient for ZoGradient<P, E> {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        self.estimator.borrow_mut().estimate(&mut self.inner, x, g)
    }
}

impl<P: Problem, E: BorrowMut<ZoEstimator>> Stochastic for ZoGradient<P, E> {
    fn resample(&mut self) {
        descent_core::resample_if_stochastic(&mut self.inner)
    }
}

impl<P: Problem, E: BorrowMut<ZoEstimator> + Send> Problem for ZoGradient<P, E> {
    fn name(&self) -> String {
        format!(
            "{} on {}",
            self.estimator.borrow().cfg.label(),
            self.inner.name()
        )
    }
    fn layout(&self) -> &Layout {
        self.inner.layout()
    }
    fn caps(&self) -> Caps {
        Caps::FUNCTION | Caps::GRADIENT | (self.inner.caps() & Caps::STOCHASTIC)
    }
    fn as_function(&mut self) -> Option<&mut dyn Function> {
        Some(self)
    }
    fn as_gradient(&mut self) -> Option<&mut dyn Gradient> {
        Some(self)
    }
    fn as_stochastic(&mut self) -> Option<&mut dyn Stochastic> {
        self.inner
            .caps()
            .contains(Caps::STOCHASTIC)
            .then_some(self as _)
    }
}

/// ZO-SGD, ZO-Adam, ...: any transform over [`ZoGradient`]. Each step resamples the problem
/// once, so all queries of the step's estimate see one minibatch, and moves x by the transform
/// of the estimate. Built from text as `zo(law=.., q=.., mu=.., diff=.., base=sgd(lr=..))`
/// (see [`crate::registry`]). Its hyperparameters are the estimator's (`mu`, ...) and the base
/// transform's (`lr`, ...).
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Problem, RngStreams, testfns::Quadratic};
/// use descent_optim::{Optimizer, Sgd, SgdConfig, TransformExt, ZoConfig, ZoOptimizer, run};
///
/// let mut bowl = Quadratic::diagonal(&[1.0, 2.0], &[0.0, 0.0])?;
/// let mut x = vec![1.0, 1.0]; // f = 1.5
/// let base = Sgd::new(SgdConfig { lr: 0.05, ..Default::default() })?.boxed();
/// let mut zo = ZoOptimizer::new(ZoConfig { q: 4, ..Default::default() }, base, "zo")?;
/// zo.init(bowl.layout(), &RngStreams::new(0))?;
/// let end = run(&mut zo, &mut x, &mut bowl, 300, |_| Continue(()))?;
/// assert!(end.final_loss().unwrap() < 1.5e-2);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct ZoOptimizer {
    cfg: ZoConfig,
    base: TransformOptimizer,
    estimator: Option<ZoEstimator>,
    st: ZoState,
    name: String,
}

/// The state of [`ZoOptimizer`]: its perturbation stream (the ChaCha seed, stream and word
/// position), exact in JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ZoState {
    /// The perturbation stream (set at init).
    pub rng: Option<Rng>,
}

impl ZoOptimizer {
    /// `base` rewrites each estimate into the update; `name` is the spec text.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(cfg: ZoConfig, base: Box<dyn Transform>, name: impl Into<String>) -> Result<Self> {
        cfg.validate()?;
        let name = name.into();
        Ok(ZoOptimizer {
            cfg,
            base: TransformOptimizer::new(base, name.clone()),
            estimator: None,
            st: ZoState::default(),
            name,
        })
    }

    /// The estimator settings.
    pub fn config(&self) -> &ZoConfig {
        &self.cfg
    }
}

impl FromConfig for ZoOptimizer {
    type Config = ZoConfig;

    fn extra_keys() -> Vec<KeyDoc> {
        vec![KeyDoc::new(
            "base",
            Some("sgd(lr=0.01)".into()),
            "the transform applied to the estimate (any transform spec; adam(..) gives ZO-Adam)",
        )]
    }

    fn from_config(cfg: ZoConfig, spec: &Spec) -> Result<Self> {
        ZoOptimizer::new(cfg, base_transform(spec)?, spec.to_string())
    }
}

fn not_initialised(name: &str) -> Error {
    Error::invalid(
        format!("optimizer '{name}'"),
        "a step before init",
        "init(layout, streams) first",
    )
}

impl Optimizer for ZoOptimizer {
    crate::plumbing! { config: cfg, state: st, child: base, }

    fn requires(&self) -> Requires {
        self.cfg.requires()
    }
    fn name(&self) -> String {
        self.name.clone()
    }
    fn init(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        let rng = streams.stream("perturbations");
        self.estimator = Some(ZoEstimator::new(self.cfg, layout.len(), rng.clone())?);
        self.st = ZoState { rng: Some(rng) };
        self.base.init(layout, streams)
    }
    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        let (Some(est), Some(rng)) = (self.estimator.as_mut(), self.st.rng.as_mut()) else {
            return Err(not_initialised(&self.name));
        };
        // the estimator draws from the stream this optimizer keeps in its state
        est.cfg = self.cfg;
        std::mem::swap(&mut est.rng, rng);
        let result = match ZoGradient::with_estimator(problem, &mut *est) {
            Ok(mut zo) => self.base.step(x, &mut zo),
            Err(e) => Err(e),
        };
        std::mem::swap(&mut est.rng, rng);
        result
    }
}
