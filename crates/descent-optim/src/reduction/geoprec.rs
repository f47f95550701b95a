//! GeoPrecGD (P5 §2.4, "Algorithm GeoPrecGD"): gradient descent on a reduced problem F in the
//! pullback metric of its reduction,
//!
//! ```text
//! x₁ ← x₁ − η R(x₁)⁻¹ ∇F(x₁),   R(x₁) = I + DΨ(x₁)ᵀDΨ(x₁),
//! ```
//!
//! with R solved by Woodbury when DΨ is low rank (n₂ < n₁) and by Cholesky otherwise
//! ([`super::metric`]). It needs a problem that answers DΨ ([`descent_core::ReductionJacobian`],
//! offered by [`super::Reduction`]); on any other problem building the run is an error naming
//! both sides. Each step costs one gradient and one map Jacobian. η = 1/β_F in the pullback
//! metric is the step of the theory; the paper's "GeoPrecGD = Newton" holds only for special
//! problems (spec pitfall 8).

use descent_core::{Caps, Error, Layout, Problem, Requires, Result, RngStreams, Spec};

use crate::config::{Config, LEARNING_RATE};
use crate::optimizer::{Optimizer, StepCount, StepInfo};
use crate::registry::FromConfig;

use super::metric::{MetricSolve, PullbackSolver};

crate::config! {
    /// Hyperparameters of [`GeoPrecGd`].
    #[derive(Copy)]
    pub struct GeoPrecConfig("geoprec") {
        /// Step size η (the theory's 1/β of F in the pullback metric).
        lr: f64 = 0.1 => LEARNING_RATE;
        /// How R z = ∇F is solved: auto (Woodbury when n₂ < n₁, else Cholesky of R), woodbury
        /// or cholesky.
        solve: MetricSolve = MetricSolve::Auto;
    }
}

/// GeoPrecGD (see the module docs).
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Layout, Problem, RngStreams, testfns::Quadratic};
/// use descent_optim::{
///     AffineMap, GeoPrecConfig, GeoPrecGd, Optimizer, Reduction, ReductionConfig, Split, run,
/// };
///
/// // the quadratic with H = [[2, 1], [1, 2]], x* = (1, 1), x₂ eliminated by its argmin Ψ
/// let mut layout = Layout::new();
/// layout.push("x1", &[1]);
/// layout.push("x2", &[1]);
/// let h = vec![2.0, 1.0, 1.0, 2.0];
/// let quad = Quadratic::from_matrix(h.clone(), &[1.0, 1.0])?.with_layout(layout)?;
/// let cfg = ReductionConfig::eliminate(&["x2"]);
/// let split = Split::from_globs(quad.layout(), &cfg.eliminate)?;
/// let map = AffineMap::quadratic_argmin(&h, &[1.0, 1.0], &split)?;
/// let mut reduced = Reduction::new(quad, map, cfg)?;
/// let mut x1 = vec![0.0]; // F = 0.75
/// let mut opt = GeoPrecGd::new(GeoPrecConfig { lr: 0.5, ..Default::default() }, "geoprec")?;
/// opt.init(reduced.layout(), &RngStreams::new(0))?;
/// let end = run(&mut opt, &mut x1, &mut reduced, 50, |_| Continue(()))?;
/// assert!(end.final_loss().unwrap() < 1e-10 && (x1[0] - 1.0).abs() < 1e-5);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct GeoPrecGd {
    cfg: GeoPrecConfig,
    name: String,
    st: StepCount,
    grad: Vec<f64>,
    jac: Vec<f64>,
    solver: PullbackSolver,
}

impl GeoPrecGd {
    /// GeoPrecGD reporting `name`; errors name the bad field.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(cfg: GeoPrecConfig, name: impl Into<String>) -> Result<Self> {
        cfg.validate()?;
        Ok(GeoPrecGd {
            cfg,
            name: name.into(),
            st: StepCount::default(),
            grad: Vec::new(),
            jac: Vec::new(),
            solver: PullbackSolver::new(cfg.solve),
        })
    }
}

impl FromConfig for GeoPrecGd {
    type Config = GeoPrecConfig;
    fn from_config(cfg: GeoPrecConfig, spec: &Spec) -> Result<Self> {
        GeoPrecGd::new(cfg, spec.to_string())
    }
}

/// The error for a problem whose caps() promise a view that its `as_*` does not hand out.
fn missing_view(problem: &dyn Problem) -> Error {
    Error::invalid(
        format!("problem '{}'", problem.name()),
        "no gradient or reduction-Jacobian view",
        "as_gradient() and as_reduction_jacobian() to match caps()",
    )
}

impl Optimizer for GeoPrecGd {
    crate::plumbing! { config: cfg, state: st, }

    fn requires(&self) -> Requires {
        Requires::all(Caps::GRADIENT | Caps::REDUCTION_JACOBIAN)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn init(&mut self, layout: &Layout, _streams: &RngStreams) -> Result<()> {
        self.grad = vec![0.0; layout.len()];
        self.st = StepCount {
            step: 0,
            dim: layout.len(),
        };
        self.solver = PullbackSolver::new(self.cfg.solve);
        Ok(())
    }

    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        let n1 = self.grad.len();
        if x.len() != n1 {
            return Err(Error::shape(
                format!(
                    "parameters of '{}' (was init called with this layout?)",
                    self.name
                ),
                n1,
                x.len(),
            ));
        }
        self.requires().check(&self.name, problem)?;
        problem.resample();
        let loss = match problem.as_gradient() {
            Some(g) => g.value_grad(x, &mut self.grad),
            None => return Err(missing_view(problem)),
        };
        if problem.as_reduction_jacobian().is_none() {
            return Err(missing_view(problem));
        }
        let rj = problem.as_reduction_jacobian().expect("checked just above");
        let n2 = rj.eliminated_dim();
        if self.jac.len() != n2 * n1 {
            // sized on the first step (the layout does not tell n₂)
            self.jac = vec![0.0; n2 * n1];
        }
        rj.map_jacobian(x, &mut self.jac);
        if self.jac.iter().any(|v| !v.is_finite()) {
            // a map undefined here: hand the driver a non-finite point (divergence is data)
            x.fill(f64::NAN);
            return Ok(StepInfo {
                loss: Some(loss),
                ..StepInfo::default()
            });
        }
        self.solver.solve(&self.jac, n2, n1, &mut self.grad)?;
        let lr = self.cfg.lr;
        x.iter_mut()
            .zip(&self.grad)
            .for_each(|(xi, z)| *xi -= lr * z);
        self.st.step += 1;
        Ok(StepInfo {
            loss: Some(loss),
            ..StepInfo::default()
        })
    }
}
