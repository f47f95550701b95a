//! Oracles: what a problem can answer. Each method asks for what it needs (DESIGN §3).
//!
//! All methods take `&mut self`: problems own their minibatch stream and scratch buffers, so an
//! evaluation never allocates.

use std::fmt;

use crate::{Error, Layout, Result};

/// A scalar function of a flat parameter vector. Zeroth-order methods need only this.
pub trait Function {
    /// Number of parameters.
    fn dim(&self) -> usize;
    /// f(x) on the current minibatch.
    fn value(&mut self, x: &[f64]) -> f64;
}

/// A function with an exact gradient.
pub trait Gradient: Function {
    /// Writes ∇f(x) into `g` (length `dim()`) and returns f(x).
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64;
}

/// A problem whose evaluations depend on a minibatch. Every evaluation until the next
/// [`Stochastic::resample`] sees the same batch (SAM's two gradients, zeroth-order's two points,
/// RBO's inner loop and ENGD's line search rely on this). The problem owns its `"batches"` RNG
/// stream; the optimizer decides when to resample.
pub trait Stochastic {
    /// Draws the next minibatch.
    fn resample(&mut self);
}

/// Per-sample gradients of a minibatch loss `f = (1/B) Σᵢ ℓᵢ`, without materialising them.
pub trait PerSampleGradients: Gradient {
    /// Number of samples in the current minibatch (B). (`&mut` so adapters can forward it
    /// through [`Problem::as_per_sample`].)
    fn batch_len(&mut self) -> usize;
    /// Writes ‖∇ℓᵢ(x)‖ for each sample of the current minibatch into `norms` (length B).
    fn per_sample_grad_norms(&mut self, x: &[f64], norms: &mut [f64]);
    /// Writes Σᵢ wᵢ ∇ℓᵢ(x) into `g` and returns Σᵢ wᵢ ℓᵢ(x). With wᵢ = 1/B this is the batch
    /// gradient; with wᵢ = min(1, C/‖∇ℓᵢ‖)/B it is the per-sample-clipped mean ("ghost clipping").
    fn weighted_grad(&mut self, x: &[f64], weights: &[f64], g: &mut [f64]) -> f64;

    /// Writes ‖∇ℓᵢ(x)‖ for the samples at `positions` of the current minibatch only (one norm
    /// per position, in order; each position < B). A Poisson sample of b out of a local dataset
    /// of m (DP-SGD) needs only these. The provided body evaluates the whole batch (cost B,
    /// and it allocates); problems that can evaluate a subset directly override it so the cost
    /// is b (`descent_nn::Objective` does).
    fn subset_grad_norms(&mut self, x: &[f64], positions: &[usize], norms: &mut [f64]) {
        let mut all = vec![0.0; self.batch_len()];
        self.per_sample_grad_norms(x, &mut all);
        for (n, &p) in norms.iter_mut().zip(positions) {
            *n = all[p];
        }
    }

    /// Writes Σⱼ wⱼ ∇ℓ_{positions\[j\]}(x) into `g` and returns Σⱼ wⱼ ℓ_{positions\[j\]}(x): the
    /// weighted gradient over a subset of the current minibatch (`weights` has one entry per
    /// position; positions distinct and < B). The provided body scatters the weights into a
    /// whole-batch weight vector (cost B, and it allocates); see
    /// [`PerSampleGradients::subset_grad_norms`].
    fn subset_weighted_grad(
        &mut self,
        x: &[f64],
        positions: &[usize],
        weights: &[f64],
        g: &mut [f64],
    ) -> f64 {
        let mut all = vec![0.0; self.batch_len()];
        for (&p, &w) in positions.iter().zip(weights) {
            all[p] = w;
        }
        self.weighted_grad(x, &all, g)
    }
}

/// Exact Hessian-vector products.
pub trait HessianVector: Gradient {
    /// Writes ∇²f(x)·v into `out`.
    fn hvp(&mut self, x: &[f64], v: &[f64], out: &mut [f64]);
}

/// A least-squares structure f(x) = ½ Σₖ rₖ(x)² (Gauss–Newton, ENGD).
pub trait Residuals: Function {
    /// Number of residuals N on the current batch.
    fn n_residuals(&mut self) -> usize;
    /// Writes r(x) (length N).
    fn residuals(&mut self, x: &[f64], r: &mut [f64]);
    /// Writes r(x) and the row-major N × dim Jacobian ∂r/∂x.
    fn residual_jacobian(&mut self, x: &[f64], r: &mut [f64], jac: &mut [f64]);
    /// Writes f(x + αₖ d) for every step size αₖ of `alphas` into `values` (same length), on the
    /// current batch, each trial point formed as `xᵢ + αₖ·dᵢ`: the grid line search of the ENGD
    /// family. The default calls [`Function::value`] once per step size (and allocates one trial
    /// vector); a problem with a batched forward pass overrides it, with values equal to those
    /// of `value` at the same trial points up to rounding.
    fn values_along(&mut self, x: &[f64], d: &[f64], alphas: &[f64], values: &mut [f64]) {
        assert_eq!(
            alphas.len(),
            values.len(),
            "values_along: one value per step size"
        );
        let mut trial = vec![0.0; x.len()];
        for (v, &a) in values.iter_mut().zip(alphas) {
            for ((t, xi), di) in trial.iter_mut().zip(x).zip(d) {
                *t = xi + a * di;
            }
            *v = self.value(&trial);
        }
    }
}

/// A reduced problem F(x₁) = f(x₁, Ψ(x₁)) (P5, reduction mappings) that also answers the
/// Jacobian DΨ of its reduction map Ψ: ℝ^{n₁} → ℝ^{n₂}. A method that preconditions with the
/// pullback metric R(x₁) = I + DΨᵀDΨ of the graph x₁ ↦ (x₁, Ψ(x₁)) (GeoPrecGD) asks for it;
/// every other method sees an ordinary [`Gradient`] problem in x₁.
pub trait ReductionJacobian: Gradient {
    /// n₂, the number of parameters the map eliminates (rows of DΨ).
    fn eliminated_dim(&mut self) -> usize;
    /// Writes DΨ(x₁), row-major n₂ × n₁ with n₁ = `dim()`.
    fn map_jacobian(&mut self, x1: &[f64], jac: &mut [f64]);
}

/// A direction field d(x) that is not the gradient of any loss (Oja's rule, similarity
/// matching). It is used exactly like a gradient, x ← x − η·d, so a Hebbian increment Δx is
/// exposed as d = −Δx.
pub trait UpdateField {
    /// Number of parameters.
    fn dim(&self) -> usize;
    /// Writes d(x) into `d`.
    fn field(&mut self, x: &[f64], d: &mut [f64]);
}

/// min over x, max over y of f(x, y), f strongly concave in y (P4's NC-SC setting).
///
/// As a [`Problem`] a minimax problem's parameters are the concatenation z = (x, y): the first
/// `dims().0` entries are x, the rest y, and its [`Layout`] names the blocks of both. On a
/// stochastic problem both gradients of one call see the same sample ξ (Ada-Minimax's g_y uses
/// the sample of g_x, P4 §2.4); a second independent sample needs a [`Stochastic::resample`].
pub trait MinimaxProblem {
    /// (dim x, dim y).
    fn dims(&self) -> (usize, usize);
    /// f(x, y).
    fn value_xy(&mut self, x: &[f64], y: &[f64]) -> f64;
    /// Writes ∇ₓf and ∇ᵧf, returns f.
    fn grads_xy(&mut self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64;
    /// Writes ∇Φ(x) of the primal function Φ(x) = max_y f(x, y) and returns true when the
    /// problem knows it exactly (test functions with a closed-form y*(x)); false otherwise.
    /// A diagnostic, not an oracle call: adapters pass it through noise-free and uncounted, so
    /// an experiment can record ‖∇Φ(x_t)‖, the quantity P4's theorems bound.
    fn exact_primal_grad(&mut self, _x: &[f64], _out: &mut [f64]) -> bool {
        false
    }
}

/// min over x of Φ(x) = f(x, y*(x)) with y*(x) = argmin over y of g(x, y), g strongly convex
/// in y. The hypergradient is ∇Φ = ∇ₓf − ∇²ₓᵧg [∇²ᵧᵧg]⁻¹ ∇ᵧf at y*(x).
///
/// As a [`Problem`] its parameters are z = (x, y) (x first, `dims().0` entries), like
/// [`MinimaxProblem`]. On a stochastic problem every call until the next
/// [`Stochastic::resample`] sees the same sample, so a Neumann series with independent Hessian
/// samples resamples between its products.
pub trait BilevelProblem {
    /// (dim x, dim y).
    fn dims(&self) -> (usize, usize);
    /// Upper objective f(x, y).
    fn upper_value(&mut self, x: &[f64], y: &[f64]) -> f64;
    /// Writes ∇ₓf and ∇ᵧf of the upper objective, returns f.
    fn upper_grads(&mut self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64;
    /// Writes ∇ᵧg of the lower objective, returns g.
    fn lower_grad_y(&mut self, x: &[f64], y: &[f64], gy: &mut [f64]) -> f64;
    /// Writes ∇²ᵧᵧg · v (length dim y).
    fn lower_hvp_yy(&mut self, x: &[f64], y: &[f64], v: &[f64], out: &mut [f64]);
    /// Writes ∇²ₓᵧg · v, the mixed second derivative applied to v ∈ ℝ^{dim y} (length dim x):
    /// the gradient in x of ⟨∇ᵧg(x, y), v⟩, a d_x × d_y matrix times v (P4 pitfall P5).
    fn lower_jvp_xy(&mut self, x: &[f64], y: &[f64], v: &[f64], out: &mut [f64]);
    /// Writes the exact hypergradient ∇Φ(x) and returns true when the problem knows y*(x) in
    /// closed form (test functions); false otherwise. A diagnostic like
    /// [`MinimaxProblem::exact_primal_grad`]: uncounted and noise-free through adapters.
    fn exact_hypergradient(&mut self, _x: &[f64], _out: &mut [f64]) -> bool {
        false
    }
}

/// A set of oracle capabilities (a bit set).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Caps(u16);

impl Caps {
    /// No capability.
    pub const NONE: Caps = Caps(0);
    /// [`Function`]: values.
    pub const FUNCTION: Caps = Caps(1);
    /// [`Gradient`]: exact gradients.
    pub const GRADIENT: Caps = Caps(1 << 1);
    /// [`Stochastic`]: minibatches drawn by `resample`.
    pub const STOCHASTIC: Caps = Caps(1 << 2);
    /// [`PerSampleGradients`]: per-sample norms and weighted gradients.
    pub const PER_SAMPLE: Caps = Caps(1 << 3);
    /// [`HessianVector`]: exact Hessian-vector products.
    pub const HVP: Caps = Caps(1 << 4);
    /// [`Residuals`]: residuals and their Jacobian.
    pub const RESIDUALS: Caps = Caps(1 << 5);
    /// [`UpdateField`]: a direction field that is not a gradient.
    pub const UPDATE_FIELD: Caps = Caps(1 << 6);
    /// [`MinimaxProblem`]: gradients in x and y of a saddle problem.
    pub const MINIMAX: Caps = Caps(1 << 7);
    /// [`BilevelProblem`]: upper and lower derivatives of a bilevel problem.
    pub const BILEVEL: Caps = Caps(1 << 8);
    /// [`ReductionJacobian`]: the Jacobian of a reduction map (P5).
    pub const REDUCTION_JACOBIAN: Caps = Caps(1 << 9);

    const NAMES: [(Caps, &'static str); 10] = [
        (Caps::FUNCTION, "Function"),
        (Caps::GRADIENT, "Gradient"),
        (Caps::STOCHASTIC, "Stochastic"),
        (Caps::PER_SAMPLE, "PerSampleGradients"),
        (Caps::HVP, "HessianVector"),
        (Caps::RESIDUALS, "Residuals"),
        (Caps::UPDATE_FIELD, "UpdateField"),
        (Caps::MINIMAX, "MinimaxProblem"),
        (Caps::BILEVEL, "BilevelProblem"),
        (Caps::REDUCTION_JACOBIAN, "ReductionJacobian"),
    ];

    /// True when every capability of `other` is in `self`.
    pub fn contains(self, other: Caps) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when `self` and `other` share a capability.
    pub fn intersects(self, other: Caps) -> bool {
        self.0 & other.0 != 0
    }

    /// True when the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names of the capabilities in the set.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(c, _)| self.contains(*c))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl std::ops::BitOr for Caps {
    type Output = Caps;
    fn bitor(self, rhs: Caps) -> Caps {
        Caps(self.0 | rhs.0)
    }
}

impl std::ops::BitAnd for Caps {
    type Output = Caps;
    fn bitand(self, rhs: Caps) -> Caps {
        Caps(self.0 & rhs.0)
    }
}

impl fmt::Display for Caps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.names();
        if names.is_empty() {
            f.write_str("nothing")
        } else {
            f.write_str(&names.join(", "))
        }
    }
}

impl fmt::Debug for Caps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Caps({self})")
    }
}

/// What a method needs from a problem: every capability in `all`, and at least one of
/// `one_of` when that set is not empty (a transform runs on a Gradient or an UpdateField).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Requires {
    /// Capabilities that must all be offered.
    pub all: Caps,
    /// Capabilities of which at least one must be offered (ignored when empty).
    pub one_of: Caps,
}

impl Requires {
    /// Needs every capability in `caps`.
    pub fn all(caps: Caps) -> Self {
        Requires {
            all: caps,
            one_of: Caps::NONE,
        }
    }

    /// Needs at least one capability of `caps`.
    pub fn one_of(caps: Caps) -> Self {
        Requires {
            all: Caps::NONE,
            one_of: caps,
        }
    }

    /// True when a problem offering `offered` satisfies the requirement.
    pub fn satisfied_by(&self, offered: Caps) -> bool {
        offered.contains(self.all) && (self.one_of.is_empty() || offered.intersects(self.one_of))
    }

    /// Ok when satisfied, else an [`Error::Capability`] naming both sides.
    ///
    /// # Errors
    ///
    /// An [`Error::Capability`] naming the method, what it needs and what the problem offers.
    pub fn check(&self, method: &str, problem: &dyn Problem) -> Result<()> {
        let offered = problem.caps();
        if self.satisfied_by(offered) {
            return Ok(());
        }
        Err(Error::Capability {
            method: method.to_string(),
            needs: self.to_string(),
            problem: problem.name(),
            offers: offered.to_string(),
        })
    }
}

impl fmt::Display for Requires {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.all.is_empty() {
            parts.push(self.all.to_string());
        }
        if !self.one_of.is_empty() {
            parts.push(format!("one of {}", self.one_of.names().join(" or ")));
        }
        if parts.is_empty() {
            f.write_str("nothing")
        } else {
            f.write_str(&parts.join(" and "))
        }
    }
}

/// A problem as a capability object: it names itself, reports its capabilities and hands out each
/// oracle view. Optimizers are built from text at run time, so they take `&mut dyn Problem` and
/// check [`Requires`] against [`Problem::caps`].
pub trait Problem: Send {
    /// A short human-readable description ("mlp:64-128-10 + softmax-ce on digits").
    fn name(&self) -> String;
    /// Names the parameter blocks; its length is the problem's dimension.
    fn layout(&self) -> &Layout;
    /// What this problem can answer; `as_*` returns `Some` exactly for these.
    fn caps(&self) -> Caps;
    /// The [`Function`] view, `Some` exactly when [`Problem::caps`] has [`Caps::FUNCTION`] (likewise for every view below).
    fn as_function(&mut self) -> Option<&mut dyn Function> {
        None
    }
    /// The [`Gradient`] view.
    fn as_gradient(&mut self) -> Option<&mut dyn Gradient> {
        None
    }
    /// The [`Stochastic`] view.
    fn as_stochastic(&mut self) -> Option<&mut dyn Stochastic> {
        None
    }
    /// The [`PerSampleGradients`] view.
    fn as_per_sample(&mut self) -> Option<&mut dyn PerSampleGradients> {
        None
    }
    /// The [`HessianVector`] view.
    fn as_hvp(&mut self) -> Option<&mut dyn HessianVector> {
        None
    }
    /// The [`Residuals`] view.
    fn as_residuals(&mut self) -> Option<&mut dyn Residuals> {
        None
    }
    /// The [`UpdateField`] view.
    fn as_update_field(&mut self) -> Option<&mut dyn UpdateField> {
        None
    }
    /// The [`MinimaxProblem`] view.
    fn as_minimax(&mut self) -> Option<&mut dyn MinimaxProblem> {
        None
    }
    /// The [`BilevelProblem`] view.
    fn as_bilevel(&mut self) -> Option<&mut dyn BilevelProblem> {
        None
    }
    /// The [`ReductionJacobian`] view.
    fn as_reduction_jacobian(&mut self) -> Option<&mut dyn ReductionJacobian> {
        None
    }
}

/// The number of parameters and the resampling of a problem seen only as a capability object.
///
/// These are inherent methods of `dyn Problem` rather than trait methods, so a type that
/// implements both [`Problem`] and [`Function`] (or [`Stochastic`]) has one `dim` and one
/// `resample`, with no ambiguity to resolve at every call. Generic code over `P: Problem` uses
/// `p.layout().len()` and [`resample_if_stochastic`].
impl dyn Problem + '_ {
    /// Number of parameters (the length of [`Problem::layout`]).
    pub fn dim(&self) -> usize {
        self.layout().len()
    }

    /// Draws the next minibatch if the problem is stochastic; a no-op otherwise.
    pub fn resample(&mut self) {
        resample_if_stochastic(self);
    }
}

/// Draws the next minibatch of `problem` if it offers [`Stochastic`]; a no-op otherwise.
pub fn resample_if_stochastic<P: Problem + ?Sized>(problem: &mut P) {
    if let Some(s) = problem.as_stochastic() {
        s.resample();
    }
}

/// Implements [`Problem`]'s `as_*` methods returning `self` for the listed capabilities, so a
/// problem type writes only `name`, `layout` and the trait impls.
///
/// ```
/// use descent_core::{Function, Gradient, Layout, Problem};
///
/// /// f(x) = ½‖x‖².
/// struct HalfSquare(Layout);
/// impl Function for HalfSquare {
///     fn dim(&self) -> usize { self.0.len() }
///     fn value(&mut self, x: &[f64]) -> f64 { 0.5 * x.iter().map(|v| v * v).sum::<f64>() }
/// }
/// impl Gradient for HalfSquare {
///     fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
///         g.copy_from_slice(x);
///         self.value(x)
///     }
/// }
/// impl Problem for HalfSquare {
///     fn name(&self) -> String { "half-square".into() }
///     fn layout(&self) -> &Layout { &self.0 }
///     descent_core::problem_views!(function, gradient);
/// }
///
/// let mut p = HalfSquare(Layout::flat(2));
/// assert_eq!(p.caps().to_string(), "Function, Gradient");
/// assert!(p.as_hvp().is_none());
/// assert_eq!(p.as_function().unwrap().value(&[3.0, 4.0]), 12.5);
/// ```
#[macro_export]
macro_rules! problem_views {
    ($($cap:ident),* $(,)?) => {
        fn caps(&self) -> $crate::Caps {
            $crate::Caps::NONE $(| $crate::problem_views!(@cap $cap))*
        }
        $($crate::problem_views!(@view $cap);)*
    };
    (@cap function) => { $crate::Caps::FUNCTION };
    (@cap gradient) => { $crate::Caps::GRADIENT };
    (@cap stochastic) => { $crate::Caps::STOCHASTIC };
    (@cap per_sample) => { $crate::Caps::PER_SAMPLE };
    (@cap hvp) => { $crate::Caps::HVP };
    (@cap residuals) => { $crate::Caps::RESIDUALS };
    (@cap update_field) => { $crate::Caps::UPDATE_FIELD };
    (@cap minimax) => { $crate::Caps::MINIMAX };
    (@cap bilevel) => { $crate::Caps::BILEVEL };
    (@cap reduction_jacobian) => { $crate::Caps::REDUCTION_JACOBIAN };
    (@view function) => { fn as_function(&mut self) -> Option<&mut dyn $crate::Function> { Some(self) } };
    (@view gradient) => { fn as_gradient(&mut self) -> Option<&mut dyn $crate::Gradient> { Some(self) } };
    (@view stochastic) => { fn as_stochastic(&mut self) -> Option<&mut dyn $crate::Stochastic> { Some(self) } };
    (@view per_sample) => { fn as_per_sample(&mut self) -> Option<&mut dyn $crate::PerSampleGradients> { Some(self) } };
    (@view hvp) => { fn as_hvp(&mut self) -> Option<&mut dyn $crate::HessianVector> { Some(self) } };
    (@view residuals) => { fn as_residuals(&mut self) -> Option<&mut dyn $crate::Residuals> { Some(self) } };
    (@view update_field) => { fn as_update_field(&mut self) -> Option<&mut dyn $crate::UpdateField> { Some(self) } };
    (@view minimax) => { fn as_minimax(&mut self) -> Option<&mut dyn $crate::MinimaxProblem> { Some(self) } };
    (@view bilevel) => { fn as_bilevel(&mut self) -> Option<&mut dyn $crate::BilevelProblem> { Some(self) } };
    (@view reduction_jacobian) => { fn as_reduction_jacobian(&mut self) -> Option<&mut dyn $crate::ReductionJacobian> { Some(self) } };
}

/// Forwards every [`Problem`] method through a pointer type, so `Box<dyn Problem>` and
/// `&mut dyn Problem` are problems too (and adapters such as [`crate::EvalCounter`] can wrap a
/// borrowed problem).
macro_rules! forward_problem {
    ($($ptr:ty),*) => {$(
        impl<T: Problem + ?Sized> Problem for $ptr {
            fn name(&self) -> String {
                (**self).name()
            }
            fn layout(&self) -> &Layout {
                (**self).layout()
            }
            fn caps(&self) -> Caps {
                (**self).caps()
            }
            fn as_function(&mut self) -> Option<&mut dyn Function> {
                (**self).as_function()
            }
            fn as_gradient(&mut self) -> Option<&mut dyn Gradient> {
                (**self).as_gradient()
            }
            fn as_stochastic(&mut self) -> Option<&mut dyn Stochastic> {
                (**self).as_stochastic()
            }
            fn as_per_sample(&mut self) -> Option<&mut dyn PerSampleGradients> {
                (**self).as_per_sample()
            }
            fn as_hvp(&mut self) -> Option<&mut dyn HessianVector> {
                (**self).as_hvp()
            }
            fn as_residuals(&mut self) -> Option<&mut dyn Residuals> {
                (**self).as_residuals()
            }
            fn as_update_field(&mut self) -> Option<&mut dyn UpdateField> {
                (**self).as_update_field()
            }
            fn as_minimax(&mut self) -> Option<&mut dyn MinimaxProblem> {
                (**self).as_minimax()
            }
            fn as_bilevel(&mut self) -> Option<&mut dyn BilevelProblem> {
                (**self).as_bilevel()
            }
            fn as_reduction_jacobian(&mut self) -> Option<&mut dyn ReductionJacobian> {
                (**self).as_reduction_jacobian()
            }
        }
    )*};
}

forward_problem!(Box<T>, &mut T);
