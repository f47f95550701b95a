//! Energy natural gradient for least-squares problems (P8, Guzmán-Cordero, Dangel, Goldshlager
//! & Zeinhofer 2025; spec §2): ENGD, ENGD-W (Woodbury / push-through), SPRING (momentum with bias
//! correction), randomized Nyström and sketch-and-project kernel solvers, and the 31-point grid
//! line search, over any problem offering [`Residuals`](descent_core::Residuals) (f = ½‖r‖², J = ∂r/∂x).
//!
//! One step on a freshly resampled batch (spec §2.2–2.6):
//!
//! ```text
//! ζ   = −r − μ J φ                             (μ = 0: ζ = ε = −r)
//! inc = (JᵀJ + λI)⁻¹ Jᵀζ                       parameter space (ENGD), Cholesky of P × P
//!     = Jᵀ (JJᵀ + λI)⁻¹ ζ                      sample space (ENGD-W, SPRING), N × N
//!     ≈ Jᵀ (BBᵀ + λI)⁻¹ ζ, K ≈ BBᵀ            Nyström sketch of rank ℓ
//! φ   = μ φ + inc,   d = φ / √(1 − μ^{2(k+1)})
//! x  ← x + α d,   α = argmin over {2⁻³⁰, …, 2⁰} of f(x + α d) on the same batch (0 if none
//!                 improves), or α = min(η, √C/‖φ‖) with a fixed learning rate η
//! ```
//!
//! Gram matrices are symmetric rank-k updates of their lower triangle
//! (`descent_core::linalg::syrk_lower`), which is all the Cholesky reads. The line search asks the
//! problem for all 31 trial values at once ([`Residuals::values_along`](descent_core::Residuals::values_along)),
//! so a PINN evaluates them as batched forward passes. `threads=N` lends the step N threads
//! (`descent_core::par`). Every Cholesky escalates a diagonal
//! jitter when the damped Gramian is not numerically positive definite (spec pitfall 6) and falls
//! back to an SVD pseudo-inverse when even that fails; both events are counted in
//! [`SolveLog`] and reported per step in the extras `jitter` and `fallback`, never a panic.

use std::time::Instant;

use descent_core::linalg::{Cholesky, Trans, gemm, svd, sym_eigen, syrk_lower};
use descent_core::par::Threads;
use descent_core::{Args, Caps, Error, Layout, Problem, Requires, Result, RngStreams, Spec};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::config::{
    AT_LEAST_ONE, Config, FRACTION, KeyDoc, NON_NEGATIVE, POSITIVE, Param, fmt_f64,
};
use crate::optimizer::{Extras, Optimizer, StepInfo};
use crate::registry::FromConfig;

mod solve;

use solve::{SketchWork, nystrom_factor_in, nystrom_solve_in};
pub use solve::{nystrom_factor, nystrom_solve, solve_psd};

/// Where the damped least-squares system is solved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Solver {
    /// (JᵀJ + λI) x = Jᵀζ, a P × P Cholesky (the original ENGD, spec §2.2).
    Parameter,
    /// Jᵀ(JJᵀ + λI)⁻¹ζ, an N × N Cholesky (ENGD-W / SPRING, spec §2.3–2.4).
    Sample,
    /// The GPU-efficient randomized Nyström approximation K ≈ BBᵀ of rank `rank` with the
    /// absolute shift ν = `shift` (spec §2.5, the paper's Algorithm 2), fresh sketch each step.
    Nystrom {
        /// Sketch size ℓ (at most the residuals N of a batch).
        rank: usize,
        /// The shift ν ≥ 0 of K + νI ≈ BBᵀ (Algorithm 2).
        shift: f64,
    },
    /// Sketch-and-project: y = Ω(ΩᵀKΩ + λI)⁻¹Ωᵀζ with a Gaussian N × `rank` sketch Ω.
    SketchProject {
        /// Sketch size ℓ: the columns of Ω (at most the residuals N of a batch).
        rank: usize,
    },
}

/// The keys `rank` (sketched solvers) and `shift` (Nyström); the solver itself is the
/// registry name (`engd`, `engd_w`/`spring`, `nystrom`, `sap`).
impl Param for Solver {
    fn expected(&self) -> String {
        "a sketch size and shift".into()
    }
    fn read(&mut self, args: &Args<'_>, _key: &'static str) -> Result<bool> {
        let mut given = false;
        match self {
            Solver::Nystrom { rank, shift } => {
                given |= rank.read(args, "rank")?;
                if shift.read(args, "shift")? {
                    NON_NEGATIVE.apply_in_spec(|| args.field("shift"), *shift)?;
                    given = true;
                }
            }
            Solver::SketchProject { rank } => given |= rank.read(args, "rank")?,
            Solver::Parameter | Solver::Sample => {}
        }
        Ok(given)
    }
    fn text(&self) -> Option<String> {
        None
    }
    fn keys(&self, _key: &'static str, out: &mut Vec<&'static str>) {
        match self {
            Solver::Nystrom { .. } => out.extend(["rank", "shift"]),
            Solver::SketchProject { .. } => out.push("rank"),
            Solver::Parameter | Solver::Sample => {}
        }
    }
    fn describe(&self, _key: &'static str, _doc: &str, out: &mut Vec<KeyDoc>) {
        if let Solver::Nystrom { rank, .. } | Solver::SketchProject { rank } = self {
            out.push(KeyDoc::new(
                "rank",
                Some(rank.to_string()),
                "sketch size ℓ (at most the residuals N of a batch)",
            ));
        }
        if let Solver::Nystrom { shift, .. } = self {
            out.push(KeyDoc::new(
                "shift",
                Some(fmt_f64(*shift)),
                "Nyström shift ν (K + νI ≈ BBᵀ)",
            ));
        }
    }
    fn write_spec(&self, _key: &'static str, out: &mut Vec<String>) {
        if let Solver::Nystrom { rank, .. } | Solver::SketchProject { rank } = self {
            out.push(format!("rank={rank}"));
        }
        if let Solver::Nystrom { shift, .. } = self {
            out.push(format!("shift={}", fmt_f64(*shift)));
        }
    }
}

/// How far to move along the direction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepRule {
    /// The 31-point grid {2⁻³⁰, …, 1} on the same batch, no step when nothing improves.
    LineSearch,
    /// α = min(lr, √C/‖φ‖) (the SPRING norm constraint C when given, else α = lr).
    Fixed {
        /// The step α when the norm constraint does not bind, > 0.
        lr: f64,
        /// SPRING's C: the step is capped so that α‖φ‖ ≤ √C (`None`: no cap).
        norm_constraint: Option<f64>,
    },
}

/// The keys `lr` (a fixed step instead of the line search) and `norm_constraint` (with `lr`).
impl Param for StepRule {
    fn expected(&self) -> String {
        "lr=.. (and norm_constraint=..)".into()
    }
    fn read(&mut self, args: &Args<'_>, _key: &'static str) -> Result<bool> {
        match args.f64_opt("lr")? {
            Some(lr) => {
                *self = StepRule::Fixed {
                    lr,
                    norm_constraint: args.f64_opt("norm_constraint")?,
                };
                Ok(true)
            }
            None if args.has("norm_constraint") => Err(Error::invalid(
                args.field("norm_constraint"),
                args.f64("norm_constraint", 0.0)?,
                "a fixed lr=.. as well (the line search has no norm constraint)",
            )),
            None => Ok(false),
        }
    }
    fn text(&self) -> Option<String> {
        None
    }
    fn keys(&self, _key: &'static str, out: &mut Vec<&'static str>) {
        out.extend(["lr", "norm_constraint"]);
    }
    fn describe(&self, _key: &'static str, _doc: &str, out: &mut Vec<KeyDoc>) {
        let (lr, nc) = match *self {
            StepRule::LineSearch => (None, None),
            StepRule::Fixed {
                lr,
                norm_constraint,
            } => (Some(fmt_f64(lr)), norm_constraint.map(fmt_f64)),
        };
        out.push(KeyDoc::new(
            "lr",
            lr,
            "a fixed step size instead of the 31-point grid line search",
        ));
        out.push(KeyDoc::new(
            "norm_constraint",
            nc,
            "with lr: SPRING's step α = min(lr, √C/‖φ‖)",
        ));
    }
    fn write_spec(&self, _key: &'static str, out: &mut Vec<String>) {
        if let StepRule::Fixed {
            lr,
            norm_constraint,
        } = *self
        {
            out.push(format!("lr={}", fmt_f64(lr)));
            if let Some(c) = norm_constraint {
                out.push(format!("norm_constraint={}", fmt_f64(c)));
            }
        }
    }
    fn tunable(&self, _field: &'static str, out: &mut Vec<&'static str>) {
        out.push("lr");
    }
    fn accepts(&self, _field: &'static str, name: &str) -> bool {
        name == "lr"
    }
    fn get(&self, _field: &'static str, name: &str) -> Option<f64> {
        match *self {
            StepRule::Fixed { lr, .. } if name == "lr" => Some(lr),
            _ => None,
        }
    }
    fn set(&mut self, owner: &str, _field: &'static str, _name: &str, value: f64) -> Result<()> {
        match self {
            StepRule::Fixed { lr, .. } => {
                *lr = value;
                Ok(())
            }
            StepRule::LineSearch => Err(Error::invalid(
                format!("{owner}.lr"),
                value,
                "no lr: this optimizer uses the grid line search (give lr=.. in the spec)",
            )),
        }
    }
}

crate::config! {
    /// Hyperparameters of [`Engd`]. The registry names fix the solver and the defaults:
    /// `engd` (parameter space), `engd_w` (sample space), `spring` (sample space, momentum 0.5),
    /// `nystrom` (rank 100, shift 1e-7) and `sap` (rank 100), the last two with damping 1e-4.
    #[derive(Copy)]
    pub struct EngdConfig("engd") {
        /// The solver of the damped least-squares system.
        solver: Solver = Solver::Sample;
        /// Damping λ ≥ 0 added to the Gramian (not scaled by N, spec pitfall 1).
        damping: f64 = 1e-8 => NON_NEGATIVE;
        /// The step size: the grid line search, or a fixed lr.
        step: StepRule = StepRule::LineSearch;
        /// SPRING momentum μ ∈ [0, 1); 0 is ENGD / ENGD-W.
        momentum: f64 = 0.0 => FRACTION;
        /// Cap of the Cholesky jitter escalation, relative to the mean diagonal.
        @internal max_jitter: f64 = 1e-3 => POSITIVE;
        /// Threads for this run's large products (Jacobian, Gramian, solve, line search),
        /// split by output so results are bit-identical run to run for a given count.
        threads: usize = 1 => AT_LEAST_ONE;
    }
    owner(c) {
        match c.solver {
            Solver::Parameter => "engd",
            Solver::Sample if c.momentum > 0.0 => "spring",
            Solver::Sample => "engd_w",
            Solver::Nystrom { .. } => "nystrom",
            Solver::SketchProject { .. } => "sap",
        }
    }
    validate(c) {
        c.check_solver_and_step()
    }
    preset(name) {
        let sketched = EngdConfig {
            damping: 1e-4,
            ..EngdConfig::default()
        };
        match name {
            "engd" => EngdConfig {
                solver: Solver::Parameter,
                ..EngdConfig::default()
            },
            "spring" => EngdConfig {
                momentum: 0.5,
                ..EngdConfig::default()
            },
            "nystrom" => EngdConfig {
                solver: Solver::Nystrom {
                    rank: 100,
                    shift: 1e-7,
                },
                ..sketched
            },
            "sap" => EngdConfig {
                solver: Solver::SketchProject { rank: 100 },
                ..sketched
            },
            _ => EngdConfig::default(),
        }
    }
}

impl EngdConfig {
    /// The checks that span fields: the sketch sizes, the Nyström damping, a fixed step.
    fn check_solver_and_step(&self) -> Result<()> {
        let owner = self.owner();
        match self.solver {
            Solver::Nystrom { rank, shift } => {
                if rank == 0 {
                    return Err(Error::invalid(
                        format!("{owner}.rank"),
                        rank,
                        "a sketch size >= 1",
                    ));
                }
                if !(shift >= 0.0 && shift.is_finite()) {
                    return Err(Error::invalid(
                        format!("{owner}.shift"),
                        shift,
                        "a finite number >= 0",
                    ));
                }
                if self.damping == 0.0 {
                    return Err(Error::invalid(
                        format!("{owner}.damping"),
                        0,
                        "a number > 0 (the Nyström inverse divides by λ)",
                    ));
                }
            }
            Solver::SketchProject { rank } if rank == 0 => {
                return Err(Error::invalid(
                    format!("{owner}.rank"),
                    rank,
                    "a sketch size >= 1",
                ));
            }
            _ => {}
        }
        if let StepRule::Fixed {
            lr,
            norm_constraint,
        } = self.step
        {
            POSITIVE.apply(|| format!("{owner}.lr"), lr)?;
            if let Some(c) = norm_constraint {
                POSITIVE.apply(|| format!("{owner}.norm_constraint"), c)?;
            }
        }
        Ok(())
    }
}

/// Counts of the linear-algebra safety nets (spec pitfall 6: "log whenever the fallback fires").
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SolveLog {
    /// Solves whose Cholesky needed a diagonal jitter.
    pub jittered: u64,
    /// Solves that fell back to the SVD pseudo-inverse.
    pub fallbacks: u64,
    /// The largest jitter used so far.
    pub max_jitter: f64,
}

/// Cumulative wall-clock seconds by phase.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepTimes {
    /// Residuals and Jacobian.
    pub jacobian: f64,
    /// Gramian (JJᵀ or JᵀJ) or the sketch products.
    pub gram: f64,
    /// Factorisation, solves and the Jᵀ· product.
    pub solve: f64,
    /// The line search (31 loss evaluations).
    pub line_search: f64,
}

impl StepTimes {
    /// Sum of the phases.
    pub fn total(&self) -> f64 {
        self.jacobian + self.gram + self.solve + self.line_search
    }
}

/// ENGD and its relatives as one [`Optimizer`] over [`Residuals`](descent_core::Residuals) problems (see the module docs).
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Problem, RngStreams};
/// use descent_optim::conformance::RosenbrockResiduals;
/// use descent_optim::{Engd, EngdConfig, Optimizer, Solver, run};
///
/// // Rosenbrock as ½‖r(x)‖²: ENGD (parameter space), ENGD-W (sample space, Woodbury),
/// // SPRING (momentum), Nyström and sketch-and-project, each with the grid line search.
/// let sketched = EngdConfig { damping: 1e-4, ..Default::default() };
/// let family = [
///     ("engd", EngdConfig { solver: Solver::Parameter, ..Default::default() }),
///     ("engd_w", EngdConfig::default()),
///     ("spring", EngdConfig { momentum: 0.5, ..Default::default() }),
///     ("nystrom", EngdConfig { solver: Solver::Nystrom { rank: 2, shift: 1e-7 }, ..sketched }),
///     ("sap", EngdConfig { solver: Solver::SketchProject { rank: 2 }, ..sketched }),
/// ];
/// for (name, cfg) in family {
///     let mut problem = RosenbrockResiduals::new();
///     let mut x = vec![-1.2, 1.0]; // f = 24.2
///     let mut engd = Engd::new(cfg, name)?;
///     engd.init(problem.layout(), &RngStreams::new(0))?;
///     let end = run(&mut engd, &mut x, &mut problem, 100, |_| Continue(()))?;
///     assert!(end.final_loss().unwrap() < 1e-8, "{name}: {:?}", end.final_loss());
/// }
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct Engd {
    cfg: EngdConfig,
    name: String,
    st: EngdState,
    dim: usize,
    n: usize,
    seed: u64,
    r: Vec<f64>,
    jac: Vec<f64>,
    gram: Vec<f64>,
    rhs: Vec<f64>,
    inc: Vec<f64>,
    dir: Vec<f64>,
    grid: [f64; LINE_SEARCH_GRID],
    losses: [f64; LINE_SEARCH_GRID],
    threads: Threads,
    sketch: SketchWork,
    log: SolveLog,
    times: StepTimes,
}

/// The state of [`Engd`]: SPRING's momentum φ and the step count (which also indexes the
/// sketches, so a resumed run draws the same ones).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EngdState {
    /// Steps taken (the index of the next step's sketch).
    pub step: u64,
    /// SPRING's momentum φ in parameter space (P values once built; with μ = 0 the last
    /// increment).
    pub phi: Vec<f64>,
}

impl FromConfig for Engd {
    type Config = EngdConfig;

    fn from_config(cfg: EngdConfig, spec: &Spec) -> Result<Self> {
        Engd::new(cfg, spec.to_string())
    }
}

impl Engd {
    /// An optimizer with this configuration, reporting `name` (its spec text).
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(cfg: EngdConfig, name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        cfg.validate()?;
        Ok(Engd {
            cfg,
            name,
            st: EngdState::default(),
            dim: 0,
            n: 0,
            seed: 0,
            r: Vec::new(),
            jac: Vec::new(),
            gram: Vec::new(),
            rhs: Vec::new(),
            inc: Vec::new(),
            dir: Vec::new(),
            grid: std::array::from_fn(|e| 0.5f64.powi(e as i32)),
            losses: [0.0; LINE_SEARCH_GRID],
            threads: Threads::default(),
            sketch: SketchWork::default(),
            log: SolveLog::default(),
            times: StepTimes::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EngdConfig {
        &self.cfg
    }

    /// Jitter and fallback counts so far.
    pub fn solve_log(&self) -> SolveLog {
        self.log
    }

    /// Cumulative seconds per phase since `init`.
    pub fn times(&self) -> StepTimes {
        self.times
    }

    /// The SPRING state φ.
    pub fn momentum_state(&self) -> &[f64] {
        &self.st.phi
    }

    /// The increment of one step without momentum for a given row-major N × P Jacobian `jac`
    /// and residual `r`: −(JᵀJ + λI)⁻¹Jᵀr by this optimizer's solver (parameter space,
    /// sample space, Nyström or sketch-and-project), the very solve [`Optimizer::step`] runs,
    /// exposed so that it can be checked and timed on its own (P8 checks 4 and 6). Needs
    /// [`Optimizer::init`] (P is the layout's length); does not advance the step or the momentum.
    ///
    /// # Errors
    ///
    /// A Jacobian or residual whose length does not fit N × P (after init), or a solve that fails on non-finite input.
    pub fn solve_direction(&mut self, jac: &[f64], r: &[f64]) -> Result<&[f64]> {
        let n = r.len();
        if self.inc.len() != self.dim || jac.len() != n * self.dim {
            return Err(Error::shape(
                format!("Jacobian for '{}' (N × P after init)", self.name),
                n * self.dim,
                jac.len(),
            ));
        }
        self.size_for(n);
        for (z, ri) in self.rhs.iter_mut().zip(r) {
            *z = -ri;
        }
        let threads = self.threads.clone();
        let (jitter, fallback, _, _) = threads.install(|| self.solve(jac))?;
        self.note((jitter, fallback));
        Ok(&self.inc)
    }

    fn size_for(&mut self, n: usize) {
        if n == self.n {
            return;
        }
        let p = self.dim;
        self.n = n;
        self.r = vec![0.0; n];
        self.jac = vec![0.0; n * p];
        self.gram = match self.cfg.solver {
            Solver::Parameter => vec![0.0; p * p],
            Solver::Sample => vec![0.0; n * n],
            _ => Vec::new(),
        };
        self.rhs = vec![0.0; n.max(p)];
    }

    fn note(&mut self, (jitter, fallback): (f64, bool)) {
        if jitter > 0.0 {
            self.log.jittered += 1;
            self.log.max_jitter = self.log.max_jitter.max(jitter);
        }
        if fallback {
            self.log.fallbacks += 1;
        }
    }

    /// inc ← the solver's approximation of Jᵀ(JJᵀ + λI)⁻¹ζ for ζ in `self.rhs[..n]` and the
    /// N × P Jacobian `jac`.
    fn solve(&mut self, jac: &[f64]) -> Result<(f64, bool, f64, f64)> {
        let (n, p, lam) = (self.n, self.dim, self.cfg.damping);
        let t0 = Instant::now();
        let info;
        let t_gram;
        match self.cfg.solver {
            Solver::Parameter => {
                syrk_lower(&mut self.gram, p, n, 1.0, jac, Trans::T, 0.0);
                add_to_diagonal(&mut self.gram, p, lam);
                t_gram = t0.elapsed().as_secs_f64();
                transpose_times(&mut self.inc, jac, &self.rhs[..n], p, n);
                info = solve_psd(&self.gram, p, &mut self.inc, 1, self.cfg.max_jitter)?;
            }
            Solver::Sample => {
                syrk_lower(&mut self.gram, n, p, 1.0, jac, Trans::N, 0.0);
                add_to_diagonal(&mut self.gram, n, lam);
                t_gram = t0.elapsed().as_secs_f64();
                info = solve_psd(&self.gram, n, &mut self.rhs[..n], 1, self.cfg.max_jitter)?;
                transpose_times(&mut self.inc, jac, &self.rhs[..n], p, n);
            }
            Solver::Nystrom { rank, shift } => {
                self.draw_sketch(n, rank);
                let work = &mut self.sketch;
                let (jit, factor_fallback) =
                    nystrom_factor_in(jac, n, p, rank, shift, self.cfg.max_jitter, work)?;
                t_gram = t0.elapsed().as_secs_f64();
                let inner = nystrom_solve_in(
                    &work.y,
                    n,
                    rank,
                    lam,
                    &mut self.rhs[..n],
                    self.cfg.max_jitter,
                    &mut work.m,
                    &mut work.w,
                )?;
                info = (jit.max(inner.0), factor_fallback || inner.1);
                transpose_times(&mut self.inc, jac, &self.rhs[..n], p, n);
            }
            Solver::SketchProject { rank } => {
                self.draw_sketch(n, rank);
                let SketchWork { omega, t, m, w, .. } = &mut self.sketch;
                gemm(t, p, rank, n, 1.0, jac, Trans::T, omega, Trans::N, 0.0);
                syrk_lower(m, rank, p, 1.0, t, Trans::T, 0.0);
                add_to_diagonal(m, rank, lam);
                t_gram = t0.elapsed().as_secs_f64();
                gemm(
                    w,
                    rank,
                    1,
                    n,
                    1.0,
                    omega,
                    Trans::T,
                    &self.rhs[..n],
                    Trans::N,
                    0.0,
                );
                info = solve_psd(m, rank, w, 1, self.cfg.max_jitter)?;
                // inc = Jᵀ Ω w = T w
                gemm(
                    &mut self.inc,
                    p,
                    1,
                    rank,
                    1.0,
                    t,
                    Trans::N,
                    w,
                    Trans::N,
                    0.0,
                );
            }
        }
        Ok((info.0, info.1, t_gram, t0.elapsed().as_secs_f64() - t_gram))
    }

    /// Draws the Gaussian sketch of this step into the sized sketch buffers: a counter-based
    /// stream ("sketch", step), so a resumed run draws the same sketches.
    fn draw_sketch(&mut self, n: usize, rank: usize) {
        self.sketch.size(n, self.dim, rank);
        let mut rng = RngStreams::new(self.seed).indexed("sketch", self.st.step);
        for v in &mut self.sketch.omega {
            *v = StandardNormal.sample(&mut rng);
        }
    }
}

/// The line-search grid 2⁻³⁰, …, 2⁰ (spec §2.6).
pub const LINE_SEARCH_GRID: usize = 31;

impl Optimizer for Engd {
    crate::plumbing! { config: cfg, state: st, }

    fn requires(&self) -> Requires {
        Requires::all(Caps::RESIDUALS)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn init(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.dim = layout.len();
        self.seed = streams.seed();
        self.n = usize::MAX;
        self.size_for(0);
        self.st = EngdState {
            step: 0,
            phi: vec![0.0; self.dim],
        };
        self.inc = vec![0.0; self.dim];
        self.dir = vec![0.0; self.dim];
        let field = format!("{}.threads", self.cfg.owner());
        self.threads = Threads::new(self.cfg.threads, &field)?;
        self.log = SolveLog::default();
        self.times = StepTimes::default();
        Ok(())
    }

    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        let threads = self.threads.clone();
        threads.install(|| self.step_on(x, problem))
    }
}

impl Engd {
    /// One step (see [`Optimizer::step`]), run inside the thread budget.
    fn step_on(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
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
        problem.resample();
        let pname = problem.name();
        let caps = problem.caps();
        let Some(res) = problem.as_residuals() else {
            return Err(Error::Capability {
                method: self.name.clone(),
                needs: "Residuals".into(),
                problem: pname,
                offers: caps.to_string(),
            });
        };
        let t0 = Instant::now();
        let n = res.n_residuals();
        self.size_for(n);
        res.residual_jacobian(x, &mut self.r, &mut self.jac);
        let t_jac = t0.elapsed().as_secs_f64();
        let f0 = 0.5 * self.r.iter().map(|v| v * v).sum::<f64>();
        let mu = self.cfg.momentum;
        // ζ = −r − μ J φ (the current J on the previous φ)
        for i in 0..n {
            self.rhs[i] = -self.r[i];
        }
        if mu > 0.0 {
            gemm(
                &mut self.rhs[..n],
                n,
                1,
                self.dim,
                -mu,
                &self.jac,
                Trans::N,
                &self.st.phi,
                Trans::N,
                1.0,
            );
        }
        let jac = std::mem::take(&mut self.jac);
        let solved = self.solve(&jac);
        self.jac = jac;
        let (jitter, fallback, t_gram, t_solve) = solved?;
        self.note((jitter, fallback));
        let k = self.st.step;
        let bias = if mu > 0.0 {
            (1.0 - mu.powi(2 * (k as i32 + 1))).sqrt()
        } else {
            1.0
        };
        for i in 0..self.dim {
            self.st.phi[i] = mu * self.st.phi[i] + self.inc[i];
            self.dir[i] = self.st.phi[i] / bias;
        }
        let t1 = Instant::now();
        let alpha = match self.cfg.step {
            StepRule::LineSearch => {
                res.values_along(x, &self.dir, &self.grid, &mut self.losses);
                let mut best = (0.0, f0);
                for (&a, &f) in self.grid.iter().zip(&self.losses) {
                    if f < best.1 {
                        best = (a, f);
                    }
                }
                best.0
            }
            StepRule::Fixed {
                lr,
                norm_constraint,
            } => match norm_constraint {
                Some(c) => {
                    let norm = self.st.phi.iter().map(|v| v * v).sum::<f64>().sqrt();
                    if norm > 0.0 {
                        lr.min(c.sqrt() / norm)
                    } else {
                        lr
                    }
                }
                None => lr,
            },
        };
        if alpha > 0.0 {
            for (xi, di) in x.iter_mut().zip(&self.dir) {
                *xi += alpha * di;
            }
        }
        let t_ls = t1.elapsed().as_secs_f64();
        self.times.jacobian += t_jac;
        self.times.gram += t_gram;
        self.times.solve += t_solve;
        self.times.line_search += t_ls;
        self.st.step += 1;
        let mut extras = Extras::new();
        extras.push("alpha", alpha);
        extras.push("jitter", jitter);
        extras.push("fallback", if fallback { 1.0 } else { 0.0 });
        extras.push("t_jacobian", t_jac);
        extras.push("t_gram", t_gram);
        extras.push("t_solve", t_solve);
        extras.push("t_line_search", t_ls);
        Ok(StepInfo {
            loss: Some(f0),
            extras,
            ..StepInfo::default()
        })
    }
}

/// `out = Jᵀ y` for the row-major n × p Jacobian `jac` (the parameter-space step of every
/// sample-space solve and the right-hand side of the parameter-space one).
fn transpose_times(out: &mut [f64], jac: &[f64], y: &[f64], p: usize, n: usize) {
    gemm(out, p, 1, n, 1.0, jac, Trans::T, y, Trans::N, 0.0);
}

/// Adds `lam` to the diagonal of the row-major `dim` × `dim` matrix `a` (the damping).
fn add_to_diagonal(a: &mut [f64], dim: usize, lam: f64) {
    for i in 0..dim {
        a[i * dim + i] += lam;
    }
}
