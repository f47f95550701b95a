//! Additive Gaussian gradient noise around any gradient problem: the stochastic-gradient model of
//! P7's experiments (Z1, Z2), g̃(x) = ∇f(x) + ε with ε ~ N(0, σ²I) redrawn at every resample.

use rand_distr::{Distribution, StandardNormal};

use crate::oracle::{Function, Gradient, Problem, Stochastic};
use crate::rng::Rng;
use crate::{Caps, Error, Layout, Result, RngStreams};

/// `inner` with additive Gaussian gradient noise ε ~ N(0, σ²I): values are exact, gradients are
/// ∇f(x) + ε, and ε is redrawn at every [`Stochastic::resample`] from the run's `"noise"` stream
/// (so two runs with one seed, say a full-precision and a quantized one, see the same noise).
/// Until the first resample ε = 0. A stochastic `inner` is resampled with it.
#[derive(Clone)]
pub struct GaussianGradientNoise<P> {
    inner: P,
    sigma: f64,
    eps: Vec<f64>,
    rng: Rng,
}

impl<P: Problem> GaussianGradientNoise<P> {
    /// Noise of standard deviation `sigma` per entry, drawn from `streams`' `"noise"` stream.
    /// `inner` must offer gradients and `sigma` be finite and ≥ 0; errors name what is wrong.
    pub fn new(inner: P, sigma: f64, streams: &RngStreams) -> Result<Self> {
        if !inner.caps().contains(Caps::GRADIENT) {
            return Err(Error::Capability {
                method: "gaussian gradient noise".into(),
                needs: "Gradient".into(),
                problem: inner.name(),
                offers: inner.caps().to_string(),
            });
        }
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(Error::invalid("noise sigma", sigma, "a finite number >= 0"));
        }
        let dim = inner.dim();
        Ok(GaussianGradientNoise {
            inner,
            sigma,
            eps: vec![0.0; dim],
            rng: streams.stream("noise"),
        })
    }

    /// The noise-free problem.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// The noise-free problem, mutably (for exact evaluations that must not see ε).
    pub fn inner_mut(&mut self) -> &mut P {
        &mut self.inner
    }

    /// The noise standard deviation σ.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }
}

impl<P: Problem> Function for GaussianGradientNoise<P> {
    fn dim(&self) -> usize {
        self.eps.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.inner
            .as_function()
            .expect("checked in GaussianGradientNoise::new")
            .value(x)
    }
}

impl<P: Problem> Gradient for GaussianGradientNoise<P> {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let f = self
            .inner
            .as_gradient()
            .expect("checked in GaussianGradientNoise::new")
            .value_grad(x, g);
        for (gi, e) in g.iter_mut().zip(&self.eps) {
            *gi += e;
        }
        f
    }
}

impl<P: Problem> Stochastic for GaussianGradientNoise<P> {
    fn resample(&mut self) {
        self.inner.resample();
        for e in self.eps.iter_mut() {
            let z: f64 = StandardNormal.sample(&mut self.rng);
            *e = self.sigma * z;
        }
    }
}

impl<P: Problem> Problem for GaussianGradientNoise<P> {
    fn name(&self) -> String {
        format!(
            "{} + N(0, {}²) gradient noise",
            self.inner.name(),
            self.sigma
        )
    }
    fn layout(&self) -> &Layout {
        self.inner.layout()
    }
    crate::problem_views!(function, gradient, stochastic);
}
