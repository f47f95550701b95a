//! The optimizer conformance suite (DESIGN §9, after optax's `_common_test.py`), written once
//! and run over every optimizer of the toolkit: any crate's optimizer joins with one line,
//!
//! ```no_run
//! descent_optim::conformance_test!(adam, descent_optim::conformance::spec("adam(lr=0.05)"),
//!     descent_optim::conformance::Budget::uniform(4000, 1e-8));
//! ```
//!
//! On each test problem whose capabilities satisfy the optimizer's `requires()` (a rotated
//! ill-conditioned quadratic, Rosenbrock with a flat and with a 2-D layout, the matrix parabola,
//! Rosenbrock as residuals, the quadratic reduced by the argmin over half its coordinates; for
//! minimax and bilevel methods P4's [`CosineMinimax`] and [`CosineBilevel`] with c = 0, whose
//! unique solution is z = (x, y) = 0) it asserts that
//! 1. the loss reaches the stated tolerance within the step budget (all minima are 0; on the
//!    hierarchical problems the "loss" is ‖z − z*‖², as they have no objective to minimise);
//! 2. two runs with the same seed are bit-identical;
//! 3. `state()` → JSON → `load_state()` into a fresh optimizer continues bit-identically, and a
//!    state of another shape or kind is rejected.
//!
//! Failures panic with the optimizer, problem and numbers (it is a test helper).

use std::ops::ControlFlow;

use descent_core::testfns::{CosineBilevel, CosineMinimax, MatrixParabola, Quadratic, Rosenbrock};
use descent_core::{Layout, Problem, RngStreams};

use crate::driver::{Outcome, no_observer, run};
use crate::optimizer::{Optimizer, OptimizerState};
use crate::reduction::{AffineMap, Reduction, ReductionConfig, Split};
use crate::registry::parse_optimizer;

/// The seed of every conformance run.
pub const SEED: u64 = 20;

/// Steps and loss tolerance on one problem.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// Steps to run.
    pub steps: u64,
    /// The final loss must be at most this (the minimum is 0).
    pub tol: f64,
}

/// The step budget and tolerance per problem an optimizer states when it joins.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// On the ill-conditioned quadratic.
    pub quadratic: Target,
    /// On Rosenbrock.
    pub rosenbrock: Target,
    /// On the matrix parabola.
    pub matrix_parabola: Target,
    /// The minimax and bilevel problems (squared distance to the solution).
    pub hierarchical: Target,
}

impl Budget {
    /// The same steps and tolerance on every problem.
    pub fn uniform(steps: u64, tol: f64) -> Self {
        let t = Target { steps, tol };
        Budget {
            quadratic: t,
            rosenbrock: t,
            matrix_parabola: t,
            hierarchical: t,
        }
    }

    /// Overrides the Rosenbrock target (the valley is slow for first-order methods).
    pub fn rosenbrock(mut self, steps: u64, tol: f64) -> Self {
        self.rosenbrock = Target { steps, tol };
        self
    }
}

/// A factory that builds the optimizer from spec text (panics on a bad spec).
pub fn spec(text: &'static str) -> impl Fn() -> Box<dyn Optimizer> {
    move || parse_optimizer(text).unwrap_or_else(|e| panic!("conformance spec '{text}': {e}"))
}

/// One problem of the suite: where runs start, the target, and for problems without a
/// `Function` view the solution z* whose squared distance is the loss.
pub struct Case {
    /// The problem.
    pub problem: Box<dyn Problem>,
    /// The starting point.
    pub start: Vec<f64>,
    /// What a run must reach.
    pub target: Target,
    /// z*, for problems measured by the squared distance to it.
    pub solution: Option<Vec<f64>>,
}

/// The suite's problems with their starting points and targets.
pub fn problems(budget: &Budget) -> Vec<Case> {
    let eigs: Vec<f64> = (0..6)
        .map(|i| 10f64.powf(-1.0 + 2.0 * i as f64 / 5.0))
        .collect();
    let x_star = [1.0, -2.0, 0.5, 1.5, -1.0, 2.0];
    let quad = Quadratic::rotated(&eigs, &x_star, 7).expect("quadratic");
    let rosen = Rosenbrock::new(2).expect("rosenbrock");
    let rosen_start = rosen.start();
    let rosen_m = Rosenbrock::matrix(1, 2).expect("rosenbrock");
    let parabola = MatrixParabola::new(4, 3, 3).expect("matrix parabola");
    let plain = |problem: Box<dyn Problem>, start: Vec<f64>, target| Case {
        problem,
        start,
        target,
        solution: None,
    };
    let minimax = CosineMinimax::new(2, 0.0).expect("minimax");
    let bilevel = CosineBilevel::new(&[0.5, 1.0, 2.0], 0.0).expect("bilevel");
    let reduced = reduced_quadratic(&eigs, &x_star);
    vec![
        plain(Box::new(quad), vec![0.0; 6], budget.quadratic),
        plain(Box::new(rosen), rosen_start.clone(), budget.rosenbrock),
        plain(Box::new(rosen_m), rosen_start, budget.rosenbrock),
        plain(Box::new(parabola), vec![0.0; 12], budget.matrix_parabola),
        plain(
            Box::<RosenbrockResiduals>::default(),
            vec![-1.2, 1.0],
            budget.rosenbrock,
        ),
        Case {
            problem: Box::new(minimax),
            start: vec![1.0, -0.5, 0.0, 0.0],
            target: budget.hierarchical,
            solution: Some(vec![0.0; 4]),
        },
        Case {
            problem: Box::new(bilevel),
            start: vec![1.0, -1.0, 0.5, 0.0, 0.0, 0.0],
            target: budget.hierarchical,
            solution: Some(vec![0.0; 6]),
        },
        plain(Box::new(reduced), vec![0.0; 3], budget.quadratic),
    ]
}

/// The rotated quadratic of the suite with its last three coordinates eliminated by their exact
/// argmin (P5): a Gradient, HessianVector and ReductionJacobian problem in three parameters, so
/// GeoPrecGD joins the suite and every gradient method also runs on a reduced problem.
fn reduced_quadratic(eigs: &[f64], x_star: &[f64]) -> impl Problem + use<> {
    let mut layout = Layout::new();
    layout.push("x1", &[3]);
    layout.push("x2", &[3]);
    let quad = Quadratic::rotated(eigs, x_star, 7)
        .and_then(|q| q.with_layout(layout))
        .expect("quadratic");
    let cfg = ReductionConfig::eliminate(&["x2"]);
    let split = Split::from_globs(quad.layout(), &cfg.eliminate).expect("split");
    let map = AffineMap::quadratic_argmin(&quad.a, x_star, &split).expect("argmin map");
    Reduction::new(quad, map, cfg).expect("reduction")
}

/// Rosenbrock in 2-D as a least-squares problem f = ½‖r‖², r = (√(2a)(x₂ − x₁²), √2(1 − x₁)),
/// a = 100 (the same f as [`Rosenbrock`]); it offers only `Function` and `Residuals`, so the
/// Gauss–Newton family (ENGD, ENGD-W, SPRING, Nyström) joins the suite and first-order methods
/// skip it.
pub struct RosenbrockResiduals {
    layout: Layout,
}

impl RosenbrockResiduals {
    /// The 2-D problem.
    pub fn new() -> Self {
        RosenbrockResiduals {
            layout: Layout::flat(2),
        }
    }
}

impl Default for RosenbrockResiduals {
    fn default() -> Self {
        Self::new()
    }
}

impl descent_core::Function for RosenbrockResiduals {
    fn dim(&self) -> usize {
        2
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2)
    }
}

impl descent_core::Residuals for RosenbrockResiduals {
    fn n_residuals(&mut self) -> usize {
        2
    }
    fn residuals(&mut self, x: &[f64], r: &mut [f64]) {
        let (c1, c2) = (200f64.sqrt(), 2f64.sqrt());
        r[0] = c1 * (x[1] - x[0] * x[0]);
        r[1] = c2 * (1.0 - x[0]);
    }
    fn residual_jacobian(&mut self, x: &[f64], r: &mut [f64], jac: &mut [f64]) {
        self.residuals(x, r);
        let (c1, c2) = (200f64.sqrt(), 2f64.sqrt());
        jac.copy_from_slice(&[-2.0 * c1 * x[0], c1, -c2, 0.0]);
    }
}

impl Problem for RosenbrockResiduals {
    fn name(&self) -> String {
        "rosenbrock least squares (dim=2)".into()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(function, residuals);
}

fn fresh(make: &dyn Fn() -> Box<dyn Optimizer>, layout: &Layout) -> Box<dyn Optimizer> {
    let mut opt = make();
    opt.init(layout, &RngStreams::new(SEED))
        .unwrap_or_else(|e| panic!("init of '{}': {e}", opt.name()));
    opt
}

fn run_steps(
    opt: &mut dyn Optimizer,
    x: &mut [f64],
    problem: &mut dyn Problem,
    steps: u64,
) -> Outcome {
    run(opt, x, problem, steps, no_observer)
        .unwrap_or_else(|e| panic!("run of '{}' on {}: {e}", opt.name(), problem.name()))
}

fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// Runs the whole suite for the optimizer `make` builds; `name` labels the messages.
pub fn conformance(name: &str, make: impl Fn() -> Box<dyn Optimizer>, budget: Budget) {
    let mut ran = 0;
    for Case {
        mut problem,
        start,
        target,
        solution,
    } in problems(&budget)
    {
        let p = problem.as_mut();
        let layout = p.layout().clone();
        let requires = make().requires();
        if !requires.satisfied_by(p.caps()) {
            continue;
        }
        ran += 1;
        let pname = p.name();

        // 1. Reaches the tolerance within the budget.
        let mut opt = fresh(&make, &layout);
        let mut x = start.clone();
        let outcome = run_steps(opt.as_mut(), &mut x, p, target.steps);
        let loss = match (&outcome, &solution) {
            (Outcome::Completed { .. }, Some(z)) => {
                Some(x.iter().zip(z).map(|(a, b)| (a - b) * (a - b)).sum::<f64>())
            }
            (Outcome::Completed { final_loss, .. }, None) => *final_loss,
            _ => None,
        };
        match loss {
            Some(l) => assert!(
                l <= target.tol,
                "{name}: loss {l:e} on {pname} after {} steps exceeds the tolerance {:e}",
                target.steps,
                target.tol
            ),
            None => panic!("{name}: on {pname} the run ended {outcome:?}"),
        }

        // 2. Determinism under a seed.
        let mut opt2 = fresh(&make, &layout);
        let mut x2 = start.clone();
        let outcome2 = run_steps(opt2.as_mut(), &mut x2, p, target.steps);
        assert_eq!(bits(&x), bits(&x2), "{name}: two runs on {pname} differ");
        assert_eq!(outcome, outcome2, "{name}: two runs on {pname} differ");

        // 3. State round-trip through JSON.
        let k = (target.steps / 3).clamp(1, 200);
        let n = 50;
        let mut a = fresh(&make, &layout);
        let mut xa = start.clone();
        run_steps(a.as_mut(), &mut xa, p, k);
        let json = serde_json::to_string(&a.state()).expect("state serializes");
        let mut xb = xa.clone();
        run_steps(a.as_mut(), &mut xa, p, n);
        let state: OptimizerState = serde_json::from_str(&json).expect("state deserializes");
        let mut b = fresh(&make, &layout);
        b.load_state(&state)
            .unwrap_or_else(|e| panic!("{name}: load_state on {pname}: {e}"));
        run_steps(b.as_mut(), &mut xb, p, n);
        assert_eq!(
            bits(&xa),
            bits(&xb),
            "{name}: continuing after a state round-trip on {pname} differs"
        );

        // Wrong shape and wrong kind are errors.
        let mut wrong = fresh(&make, &Layout::flat(layout.len() + 1));
        assert!(
            wrong.load_state(&state).is_err(),
            "{name}: a state for {} parameters loaded into {}",
            layout.len(),
            layout.len() + 1
        );
        let mut other = fresh(&make, &layout);
        assert!(
            other.load_state(&OptimizerState::new("bogus")).is_err(),
            "{name}: a state of kind 'bogus' loaded"
        );
    }
    assert!(
        ran > 0,
        "{name}: no conformance problem offers what it requires"
    );
}

/// Stops a run once the loss is at most `tol` (for callers that want a step count to a target).
pub fn stop_below(tol: f64) -> impl FnMut(&crate::driver::StepRecord<'_>) -> ControlFlow<()> {
    move |r| match r.info.loss {
        Some(l) if l <= tol => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    }
}

/// Declares a `#[test]` that runs the conformance suite: `conformance_test!(name, make, budget)`
/// with `make: impl Fn() -> Box<dyn Optimizer>` (e.g. [`spec`]`("sgd(lr=0.1)")`).
#[macro_export]
macro_rules! conformance_test {
    ($test:ident, $make:expr, $budget:expr $(,)?) => {
        #[test]
        fn $test() {
            $crate::conformance::conformance(stringify!($test), $make, $budget);
        }
    };
}
