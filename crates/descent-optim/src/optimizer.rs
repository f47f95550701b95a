//! Level 3 of DESIGN §3: the [`Optimizer`] (one step of a method that may choose where to
//! evaluate: RBO, Entropy-SGD, ENGD with a line search, L-BFGS) and [`TransformOptimizer`], the
//! one adapter that makes any [`Transform`] an optimizer.

use descent_core::{Caps, Error, EvalCounts, Layout, Problem, Requires, Result, RngStreams};
use serde::{Deserialize, Serialize};

use crate::Transform;
use crate::transform::TransformState;

/// The plain-data state of an optimizer; the same type as a transform's.
pub type OptimizerState = TransformState;

/// How many named figures a step can report without allocating.
pub const EXTRAS_CAPACITY: usize = 8;

/// A small fixed-capacity list of named figures a step reports (a line-search step size, an
/// inner-loop loss, a sharpness estimate); it lives on the stack, so steps never allocate for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extras {
    items: [(&'static str, f64); EXTRAS_CAPACITY],
    len: usize,
}

impl Default for Extras {
    fn default() -> Self {
        Extras {
            items: [("", 0.0); EXTRAS_CAPACITY],
            len: 0,
        }
    }
}

impl Extras {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value` (replacing an earlier value of the same name). Returns false, and
    /// drops the figure, when the list is full.
    pub fn push(&mut self, name: &'static str, value: f64) -> bool {
        if let Some(item) = self.items[..self.len].iter_mut().find(|(n, _)| *n == name) {
            item.1 = value;
            return true;
        }
        if self.len == EXTRAS_CAPACITY {
            return false;
        }
        self.items[self.len] = (name, value);
        self.len += 1;
        true
    }

    /// The value of `name`, if reported.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The figures in the order they were first pushed.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        self.items[..self.len].iter().copied()
    }

    /// Number of figures.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// What one optimizer step reports.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepInfo {
    /// The (minibatch) loss the step saw, at the point it started from, if it evaluated one.
    pub loss: Option<f64>,
    /// Evaluations the step made; optimizers may leave it default, the driver fills it by
    /// counting through [`descent_core::EvalCounter`].
    pub evals: EvalCounts,
    /// Named figures (step sizes, inner losses).
    pub extras: Extras,
}

/// One step of an optimization method over any [`Problem`] that offers what it
/// [`Optimizer::requires`].
///
/// A custom optimizer writes [`Optimizer::requires`], [`Optimizer::name`] and
/// [`Optimizer::step`] (and [`Optimizer::init`] when it keeps state); the hyperparameter and
/// state methods have defaults for a method without either.
///
/// ```
/// use descent_core::{Caps, Problem, Requires, Result, testfns::Rosenbrock};
/// use descent_optim::{Optimizer, StepInfo, run};
///
/// /// Gradient descent with a fixed step, written from scratch.
/// struct Gd(f64);
/// impl Optimizer for Gd {
///     fn requires(&self) -> Requires { Requires::all(Caps::GRADIENT) }
///     fn name(&self) -> String { format!("gd({})", self.0) }
///     fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
///         let grad = problem.as_gradient().expect("requires() checked by the driver");
///         let mut g = vec![0.0; x.len()];
///         let loss = grad.value_grad(x, &mut g);
///         x.iter_mut().zip(&g).for_each(|(xi, gi)| *xi -= self.0 * gi);
///         Ok(StepInfo { loss: Some(loss), ..StepInfo::default() })
///     }
/// }
///
/// let mut problem = Rosenbrock::new(2)?;
/// let mut x = vec![-1.0, 1.0];
/// let end = run(&mut Gd(1e-3), &mut x, &mut problem, 20_000, |_| std::ops::ControlFlow::Continue(()))?;
/// assert!(end.final_loss().unwrap() < 1e-2);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub trait Optimizer: Send {
    /// The capabilities the method needs from a problem.
    fn requires(&self) -> Requires;
    /// The method as its user wrote it (e.g. the spec text `adam(lr=1e-3)`).
    fn name(&self) -> String;
    /// Allocates state for parameters with this layout; call before the first step and again to
    /// reset. The default does nothing (a method without state).
    ///
    /// # Errors
    ///
    /// When the layout does not suit the method.
    fn init(&mut self, _layout: &Layout, _streams: &RngStreams) -> Result<()> {
        Ok(())
    }
    /// Moves `x` one step. The problem is resampled by the optimizer (once per step, or more for
    /// methods with inner loops).
    ///
    /// # Errors
    ///
    /// A problem lacking what [`Optimizer::requires`] names, parameters of another length than
    /// the layout of [`Optimizer::init`], or a numerical failure of the method.
    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo>;
    /// The hyperparameter names [`Optimizer::set_hyper`] accepts (its own and those of a
    /// transform it runs).
    fn hyper_names(&self) -> Vec<&'static str> {
        Vec::new()
    }
    /// The current value of a hyperparameter, `None` for a name it does not have.
    fn hyper(&self, _name: &str) -> Option<f64> {
        None
    }
    /// Changes a hyperparameter between steps (see [`Transform::set_hyper`]).
    ///
    /// # Errors
    ///
    /// Unknown names (the default knows none) and out-of-range values.
    fn set_hyper(&mut self, name: &str, _value: f64) -> Result<()> {
        Err(crate::config::unknown_hyper(
            &self.name(),
            name,
            &self.hyper_names(),
        ))
    }
    /// The state as plain data (a checkpoint of the method, not of `x`). The default records
    /// only the kind (the type's name), right for a method without state.
    fn state(&self) -> OptimizerState {
        OptimizerState::new(std::any::type_name::<Self>())
    }
    /// Restores a state produced by [`Optimizer::state`] of an equal optimizer after
    /// [`Optimizer::init`] on an equal layout.
    ///
    /// # Errors
    ///
    /// Other kinds and shapes. The default accepts exactly the state of the default
    /// [`Optimizer::state`].
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        state.expect_stateless(
            std::any::type_name::<Self>(),
            "optimizer state",
            &self.name(),
        )
    }
}

/// A boxed optimizer is an optimizer, so `Box<dyn Optimizer>` from
/// [`crate::parse_optimizer`] goes wherever a typed one does.
impl<O: Optimizer + ?Sized> Optimizer for Box<O> {
    fn requires(&self) -> Requires {
        (**self).requires()
    }
    fn name(&self) -> String {
        (**self).name()
    }
    fn init(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        (**self).init(layout, streams)
    }
    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        (**self).step(x, problem)
    }
    fn hyper_names(&self) -> Vec<&'static str> {
        (**self).hyper_names()
    }
    fn hyper(&self, name: &str) -> Option<f64> {
        (**self).hyper(name)
    }
    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        (**self).set_hyper(name, value)
    }
    fn state(&self) -> OptimizerState {
        (**self).state()
    }
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        (**self).load_state(state)
    }
}

/// Any [`Transform`] as an [`Optimizer`]: each step resamples the problem, takes the gradient
/// (or the [`descent_core::UpdateField`] direction of a problem without one), lets the transform
/// rewrite it into an update `u`, and sets `x ← x + u`. The step counter it passes to the
/// transform starts at 1 and is part of its state.
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Problem, RngStreams, testfns::Quadratic};
/// use descent_optim::{Optimizer, Sgd, SgdConfig, TransformOptimizer, run};
///
/// let mut bowl = Quadratic::diagonal(&[1.0, 2.0], &[0.0, 0.0])?;
/// let mut x = vec![1.0, 1.0];
/// let sgd = Sgd::new(SgdConfig { lr: 0.25, ..Default::default() })?;
/// let mut opt = TransformOptimizer::new(Box::new(sgd), "sgd(lr=0.25)");
/// opt.init(bowl.layout(), &RngStreams::new(0))?;
/// run(&mut opt, &mut x, &mut bowl, 10, |_| Continue(()))?;
/// // each step multiplies xᵢ by 1 − 0.25·λᵢ
/// assert!((x[0] - 0.75f64.powi(10)).abs() < 1e-12 && (x[1] - 0.5f64.powi(10)).abs() < 1e-12);
/// assert_eq!(opt.steps_taken(), 10);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct TransformOptimizer {
    transform: Box<dyn Transform>,
    name: String,
    st: StepCount,
    grad: Vec<f64>,
}

/// The state of an optimizer whose only own state is its step counter: steps taken since
/// `init` and the parameter count it was initialised for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StepCount {
    /// Steps taken since `init`.
    pub step: u64,
    /// The parameter count it was initialised for.
    pub dim: usize,
}

impl TransformOptimizer {
    /// Adapts `transform`, reporting `name` (the spec text it was built from).
    pub fn new(transform: Box<dyn Transform>, name: impl Into<String>) -> Self {
        TransformOptimizer {
            transform,
            name: name.into(),
            st: StepCount::default(),
            grad: Vec::new(),
        }
    }

    /// Adapts `transform` under its own name.
    pub fn from_transform(transform: Box<dyn Transform>) -> Self {
        let name = transform.name();
        Self::new(transform, name)
    }

    /// The wrapped transform.
    pub fn transform(&self) -> &dyn Transform {
        self.transform.as_ref()
    }

    /// Steps taken since `init`.
    pub fn steps_taken(&self) -> u64 {
        self.st.step
    }
}

impl Optimizer for TransformOptimizer {
    crate::plumbing! { kind: "transform_optimizer", state: st, child: transform, }

    fn requires(&self) -> Requires {
        Requires::one_of(Caps::GRADIENT | Caps::UPDATE_FIELD)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn init(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.transform.build(layout, streams)?;
        self.grad = vec![0.0; layout.len()];
        self.st = StepCount {
            step: 0,
            dim: layout.len(),
        };
        Ok(())
    }

    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        if x.len() != self.grad.len() {
            return Err(Error::shape(
                format!(
                    "parameters of '{}' (was init called with this layout?)",
                    self.name
                ),
                self.grad.len(),
                x.len(),
            ));
        }
        problem.resample();
        let loss = if let Some(g) = problem.as_gradient() {
            Some(g.value_grad(x, &mut self.grad))
        } else if let Some(f) = problem.as_update_field() {
            f.field(x, &mut self.grad);
            None
        } else {
            self.requires().check(&self.name, problem)?;
            return Err(Error::invalid(
                format!("problem '{}'", problem.name()),
                "no gradient or update-field view",
                "as_gradient() or as_update_field() to match caps()",
            ));
        };
        self.st.step += 1;
        self.transform.apply(self.st.step, &mut self.grad, x);
        Ok(StepInfo {
            loss,
            ..StepInfo::default()
        })
    }
}
