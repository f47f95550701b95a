//! [`EvalCounter`]: the oracle adapter that counts every evaluation. It is the source of truth for
//! every "per gradient evaluation" axis (SAM costs 2 gradients a step, RBO 1+K, ZO 2q values).

use serde::{Deserialize, Serialize};

use crate::Layout;
use crate::oracle::*;

/// Evaluation counts by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalCounts {
    /// Function values (without gradient).
    pub values: u64,
    /// Gradients (each also yields the value).
    pub gradients: u64,
    /// Hessian-vector products.
    pub hvps: u64,
    /// Per-sample passes: per-sample norm computations and weighted gradients.
    pub per_sample: u64,
    /// Residual vectors (without Jacobian).
    pub residuals: u64,
    /// Residual Jacobians and reduction-map Jacobians DΨ (P5).
    pub jacobians: u64,
    /// Update-field evaluations.
    pub fields: u64,
    /// Minimax / bilevel gradient evaluations.
    pub pair_grads: u64,
    /// Minibatches drawn.
    pub resamples: u64,
}

impl EvalCounts {
    /// Gradient-like evaluations: gradients, weighted gradients, fields, pair gradients and
    /// Jacobians. The x-axis of a "per gradient evaluation" comparison.
    pub fn gradient_like(&self) -> u64 {
        self.gradients + self.per_sample + self.fields + self.pair_grads + self.jacobians
    }

    /// Every evaluation of any kind (resamples excluded).
    pub fn total(&self) -> u64 {
        self.values + self.hvps + self.residuals + self.gradient_like()
    }
}

impl std::ops::Sub for EvalCounts {
    type Output = EvalCounts;
    fn sub(self, o: EvalCounts) -> EvalCounts {
        EvalCounts {
            values: self.values - o.values,
            gradients: self.gradients - o.gradients,
            hvps: self.hvps - o.hvps,
            per_sample: self.per_sample - o.per_sample,
            residuals: self.residuals - o.residuals,
            jacobians: self.jacobians - o.jacobians,
            fields: self.fields - o.fields,
            pair_grads: self.pair_grads - o.pair_grads,
            resamples: self.resamples - o.resamples,
        }
    }
}

impl std::ops::Add for EvalCounts {
    type Output = EvalCounts;
    fn add(self, o: EvalCounts) -> EvalCounts {
        EvalCounts {
            values: self.values + o.values,
            gradients: self.gradients + o.gradients,
            hvps: self.hvps + o.hvps,
            per_sample: self.per_sample + o.per_sample,
            residuals: self.residuals + o.residuals,
            jacobians: self.jacobians + o.jacobians,
            fields: self.fields + o.fields,
            pair_grads: self.pair_grads + o.pair_grads,
            resamples: self.resamples + o.resamples,
        }
    }
}

/// Wraps a problem, offers exactly its capabilities, and counts each evaluation.
///
/// Through [`Problem`] it hands out exactly the views of the wrapped problem (`as_hvp()` is
/// `None` when the inner problem has no Hessian-vector products), which is how optimizers use
/// it. It also implements every oracle trait directly, so it can be passed where, say,
/// `&mut impl Gradient` is expected.
///
/// # Panics
///
/// A direct oracle call for a capability the wrapped problem does not offer (e.g.
/// [`HessianVector::hvp`] over a gradient-only problem) panics with a message naming the
/// capability; check [`Problem::caps`] first or use the `as_*` views, which return `None`.
///
/// ```
/// use descent_core::{EvalCounter, Gradient, testfns::Rosenbrock};
///
/// let mut counted = EvalCounter::new(Rosenbrock::new(2)?);
/// let mut g = [0.0; 2];
/// counted.value_grad(&[1.0, 1.0], &mut g);
/// assert_eq!((g, counted.counts().gradients), ([0.0, 0.0], 1));
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct EvalCounter<P: Problem> {
    inner: P,
    counts: EvalCounts,
    /// (dim x, dim y) of a minimax or bilevel inner problem, fixed at construction.
    pair_dims: (usize, usize),
}

impl<P: Problem> EvalCounter<P> {
    /// Wraps `inner` with zero counts.
    pub fn new(mut inner: P) -> Self {
        let pair_dims = if let Some(m) = inner.as_minimax() {
            m.dims()
        } else if let Some(b) = inner.as_bilevel() {
            b.dims()
        } else {
            (0, 0)
        };
        EvalCounter {
            inner,
            counts: EvalCounts::default(),
            pair_dims,
        }
    }
    /// The counts so far.
    pub fn counts(&self) -> EvalCounts {
        self.counts
    }
    /// Sets the counts to zero.
    pub fn reset(&mut self) {
        self.counts = EvalCounts::default();
    }
    /// The wrapped problem.
    pub fn inner(&self) -> &P {
        &self.inner
    }
    /// The wrapped problem, mutably (evaluations through it are not counted).
    pub fn inner_mut(&mut self) -> &mut P {
        &mut self.inner
    }
    /// Unwraps the problem.
    pub fn into_inner(self) -> P {
        self.inner
    }
}

/// The panic of a typed oracle call on an [`EvalCounter`] whose inner problem lacks the view.
#[cold]
#[track_caller]
fn missing(capability: &str) -> ! {
    panic!(
        "EvalCounter: the wrapped problem does not offer {capability}; call it only for \
         capabilities in caps(), or go through Problem::as_* (None when absent)"
    )
}

impl<P: Problem> Function for EvalCounter<P> {
    fn dim(&self) -> usize {
        self.inner.layout().len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.counts.values += 1;
        self.inner
            .as_function()
            .unwrap_or_else(|| missing("Function"))
            .value(x)
    }
}

impl<P: Problem> Gradient for EvalCounter<P> {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        self.counts.gradients += 1;
        self.inner
            .as_gradient()
            .unwrap_or_else(|| missing("Gradient"))
            .value_grad(x, g)
    }
}

impl<P: Problem> Stochastic for EvalCounter<P> {
    fn resample(&mut self) {
        self.counts.resamples += 1;
        self.inner
            .as_stochastic()
            .unwrap_or_else(|| missing("Stochastic"))
            .resample()
    }
}

impl<P: Problem> PerSampleGradients for EvalCounter<P> {
    fn batch_len(&mut self) -> usize {
        self.inner
            .as_per_sample()
            .unwrap_or_else(|| missing("PerSampleGradients"))
            .batch_len()
    }
    fn per_sample_grad_norms(&mut self, x: &[f64], norms: &mut [f64]) {
        self.counts.per_sample += 1;
        self.inner
            .as_per_sample()
            .unwrap_or_else(|| missing("PerSampleGradients"))
            .per_sample_grad_norms(x, norms)
    }
    fn weighted_grad(&mut self, x: &[f64], weights: &[f64], g: &mut [f64]) -> f64 {
        self.counts.per_sample += 1;
        self.inner
            .as_per_sample()
            .unwrap_or_else(|| missing("PerSampleGradients"))
            .weighted_grad(x, weights, g)
    }
    fn subset_grad_norms(&mut self, x: &[f64], positions: &[usize], norms: &mut [f64]) {
        self.counts.per_sample += 1;
        self.inner
            .as_per_sample()
            .unwrap_or_else(|| missing("PerSampleGradients"))
            .subset_grad_norms(x, positions, norms)
    }
    fn subset_weighted_grad(
        &mut self,
        x: &[f64],
        positions: &[usize],
        weights: &[f64],
        g: &mut [f64],
    ) -> f64 {
        self.counts.per_sample += 1;
        self.inner
            .as_per_sample()
            .unwrap_or_else(|| missing("PerSampleGradients"))
            .subset_weighted_grad(x, positions, weights, g)
    }
}

impl<P: Problem> HessianVector for EvalCounter<P> {
    fn hvp(&mut self, x: &[f64], v: &[f64], out: &mut [f64]) {
        self.counts.hvps += 1;
        self.inner
            .as_hvp()
            .unwrap_or_else(|| missing("HessianVector"))
            .hvp(x, v, out)
    }
}

impl<P: Problem> Residuals for EvalCounter<P> {
    fn n_residuals(&mut self) -> usize {
        self.inner
            .as_residuals()
            .unwrap_or_else(|| missing("Residuals"))
            .n_residuals()
    }
    fn residuals(&mut self, x: &[f64], r: &mut [f64]) {
        self.counts.residuals += 1;
        self.inner
            .as_residuals()
            .unwrap_or_else(|| missing("Residuals"))
            .residuals(x, r)
    }
    fn residual_jacobian(&mut self, x: &[f64], r: &mut [f64], jac: &mut [f64]) {
        self.counts.jacobians += 1;
        self.inner
            .as_residuals()
            .unwrap_or_else(|| missing("Residuals"))
            .residual_jacobian(x, r, jac)
    }
    fn values_along(&mut self, x: &[f64], d: &[f64], alphas: &[f64], values: &mut [f64]) {
        self.counts.values += alphas.len() as u64;
        self.inner
            .as_residuals()
            .unwrap_or_else(|| missing("Residuals"))
            .values_along(x, d, alphas, values)
    }
}

impl<P: Problem> UpdateField for EvalCounter<P> {
    fn dim(&self) -> usize {
        self.inner.layout().len()
    }
    fn field(&mut self, x: &[f64], d: &mut [f64]) {
        self.counts.fields += 1;
        self.inner
            .as_update_field()
            .unwrap_or_else(|| missing("UpdateField"))
            .field(x, d)
    }
}

impl<P: Problem> ReductionJacobian for EvalCounter<P> {
    fn eliminated_dim(&mut self) -> usize {
        self.inner
            .as_reduction_jacobian()
            .unwrap_or_else(|| missing("ReductionJacobian"))
            .eliminated_dim()
    }
    fn map_jacobian(&mut self, x1: &[f64], jac: &mut [f64]) {
        self.counts.jacobians += 1;
        self.inner
            .as_reduction_jacobian()
            .unwrap_or_else(|| missing("ReductionJacobian"))
            .map_jacobian(x1, jac)
    }
}

impl<P: Problem> MinimaxProblem for EvalCounter<P> {
    fn dims(&self) -> (usize, usize) {
        self.pair_dims
    }
    fn value_xy(&mut self, x: &[f64], y: &[f64]) -> f64 {
        self.counts.values += 1;
        self.inner
            .as_minimax()
            .unwrap_or_else(|| missing("MinimaxProblem"))
            .value_xy(x, y)
    }
    fn grads_xy(&mut self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        self.counts.pair_grads += 1;
        self.inner
            .as_minimax()
            .unwrap_or_else(|| missing("MinimaxProblem"))
            .grads_xy(x, y, gx, gy)
    }
    /// Not an oracle call: not counted.
    fn exact_primal_grad(&mut self, x: &[f64], out: &mut [f64]) -> bool {
        self.inner
            .as_minimax()
            .unwrap_or_else(|| missing("MinimaxProblem"))
            .exact_primal_grad(x, out)
    }
}

impl<P: Problem> BilevelProblem for EvalCounter<P> {
    fn dims(&self) -> (usize, usize) {
        self.pair_dims
    }
    fn upper_value(&mut self, x: &[f64], y: &[f64]) -> f64 {
        self.counts.values += 1;
        self.inner
            .as_bilevel()
            .unwrap_or_else(|| missing("BilevelProblem"))
            .upper_value(x, y)
    }
    fn upper_grads(&mut self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        self.counts.pair_grads += 1;
        self.inner
            .as_bilevel()
            .unwrap_or_else(|| missing("BilevelProblem"))
            .upper_grads(x, y, gx, gy)
    }
    fn lower_grad_y(&mut self, x: &[f64], y: &[f64], gy: &mut [f64]) -> f64 {
        self.counts.pair_grads += 1;
        self.inner
            .as_bilevel()
            .unwrap_or_else(|| missing("BilevelProblem"))
            .lower_grad_y(x, y, gy)
    }
    fn lower_hvp_yy(&mut self, x: &[f64], y: &[f64], v: &[f64], out: &mut [f64]) {
        self.counts.hvps += 1;
        self.inner
            .as_bilevel()
            .unwrap_or_else(|| missing("BilevelProblem"))
            .lower_hvp_yy(x, y, v, out)
    }
    fn lower_jvp_xy(&mut self, x: &[f64], y: &[f64], v: &[f64], out: &mut [f64]) {
        self.counts.hvps += 1;
        self.inner
            .as_bilevel()
            .unwrap_or_else(|| missing("BilevelProblem"))
            .lower_jvp_xy(x, y, v, out)
    }
    /// Not an oracle call: not counted.
    fn exact_hypergradient(&mut self, x: &[f64], out: &mut [f64]) -> bool {
        self.inner
            .as_bilevel()
            .unwrap_or_else(|| missing("BilevelProblem"))
            .exact_hypergradient(x, out)
    }
}

/// The counter offers exactly the inner problem's capabilities.
impl<P: Problem> Problem for EvalCounter<P> {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn layout(&self) -> &Layout {
        self.inner.layout()
    }
    fn caps(&self) -> Caps {
        self.inner.caps()
    }
    fn as_function(&mut self) -> Option<&mut dyn Function> {
        self.caps().contains(Caps::FUNCTION).then_some(self as _)
    }
    fn as_gradient(&mut self) -> Option<&mut dyn Gradient> {
        self.caps().contains(Caps::GRADIENT).then_some(self as _)
    }
    fn as_stochastic(&mut self) -> Option<&mut dyn Stochastic> {
        self.caps().contains(Caps::STOCHASTIC).then_some(self as _)
    }
    fn as_per_sample(&mut self) -> Option<&mut dyn PerSampleGradients> {
        self.caps().contains(Caps::PER_SAMPLE).then_some(self as _)
    }
    fn as_hvp(&mut self) -> Option<&mut dyn HessianVector> {
        self.caps().contains(Caps::HVP).then_some(self as _)
    }
    fn as_residuals(&mut self) -> Option<&mut dyn Residuals> {
        self.caps().contains(Caps::RESIDUALS).then_some(self as _)
    }
    fn as_update_field(&mut self) -> Option<&mut dyn UpdateField> {
        self.caps()
            .contains(Caps::UPDATE_FIELD)
            .then_some(self as _)
    }
    fn as_minimax(&mut self) -> Option<&mut dyn MinimaxProblem> {
        self.caps().contains(Caps::MINIMAX).then_some(self as _)
    }
    fn as_bilevel(&mut self) -> Option<&mut dyn BilevelProblem> {
        self.caps().contains(Caps::BILEVEL).then_some(self as _)
    }
    fn as_reduction_jacobian(&mut self) -> Option<&mut dyn ReductionJacobian> {
        self.caps()
            .contains(Caps::REDUCTION_JACOBIAN)
            .then_some(self as _)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testfns::Rosenbrock;

    #[test]
    fn counts_each_kind_and_offers_exactly_the_inner_views() {
        let mut c = EvalCounter::new(Rosenbrock::new(3).unwrap());
        let x = [0.5, 0.5, 0.5];
        let mut g = [0.0; 3];
        let f = c.as_function().unwrap().value(&x);
        let f2 = c.as_gradient().unwrap().value_grad(&x, &mut g);
        assert_eq!(f, f2);
        c.as_gradient().unwrap().value_grad(&x, &mut g);
        c.as_hvp().unwrap().hvp(&x, &[1.0, 0.0, 0.0], &mut g);
        assert!(c.as_per_sample().is_none());
        assert!(c.as_stochastic().is_none());
        crate::resample_if_stochastic(&mut c); // a no-op on a deterministic problem
        let n = c.counts();
        assert_eq!((n.values, n.gradients, n.hvps, n.resamples), (1, 2, 1, 0));
        assert_eq!(n.gradient_like(), 2);
        assert_eq!(n.total(), 4);
        // a borrowed problem can be wrapped too
        let mut inner = Rosenbrock::new(2).unwrap();
        let mut borrowed = EvalCounter::new(&mut inner as &mut dyn Problem);
        borrowed.as_function().unwrap().value(&[1.0, 1.0]);
        assert_eq!(borrowed.counts().values, 1);
    }

    #[test]
    fn capability_mismatch_names_both_sides() {
        let r = Rosenbrock::new(2).unwrap();
        let need = Requires::all(Caps::RESIDUALS);
        let e = need.check("engd", &r).unwrap_err().to_string();
        assert_eq!(
            e,
            "'engd' needs Residuals; rosenbrock(dim=2) offers Function, Gradient, HessianVector"
        );
        let either = Requires::one_of(Caps::GRADIENT | Caps::UPDATE_FIELD);
        assert!(either.check("sgd", &r).is_ok());
        let e = Requires::one_of(Caps::PER_SAMPLE | Caps::UPDATE_FIELD)
            .check("x", &r)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("needs one of PerSampleGradients or UpdateField"),
            "{e}"
        );
    }
}
