//! Additive Gaussian oracle noise around any gradient, minimax or bilevel problem: the
//! stochastic-gradient model of P7's experiments (Z1, Z2), g̃(x) = ∇f(x) + ε with ε ~ N(0, σ²I)
//! redrawn at every resample, and of P4's synthetic runs (R1, R2), where every oracle of one
//! sample (∇ₓF, ∇ᵧF, ∇ᵧG, ∇²ᵧᵧG·v, ∇²ₓᵧG·v) carries its own independent noise.

use rand_distr::{Distribution, StandardNormal};

use crate::oracle::{BilevelProblem, Function, Gradient, MinimaxProblem, Problem, Stochastic};
use crate::rng::{Rng, SimRng};
use crate::{Caps, Error, Layout, Result, RngStreams};

/// `inner` with additive Gaussian noise of standard deviation σ on every gradient-like oracle it
/// offers; values are exact. Noise is redrawn at every [`Stochastic::resample`] (one sample ξ),
/// and until the first resample it is 0. A stochastic `inner` is resampled with it.
///
/// - `Gradient`: ∇f(x) + ε, ε ~ N(0, σ²I), drawn at the resample from the run's `"noise"`
///   stream (so two runs with one seed, say a full-precision and a quantized one, see the same
///   noise).
/// - `MinimaxProblem`: ∇ₓf + εₓ and ∇ᵧf + εᵧ, independent N(0, σ²I) per block; both gradients of
///   one sample share it, as Ada-Minimax's g_x and g_y share ξ (P4 §2.4).
/// - `BilevelProblem`: ∇ₓf, ∇ᵧf and ∇ᵧg get independent N(0, σ²I) noise; with
///   [`GaussianGradientNoise::with_second_order_noise`] (σ_H > 0) the Hessian sample is
///   ∇²ᵧᵧg + (E + Eᵀ)/2 with Eᵢⱼ ~ N(0, σ_H²/d_y) (P4 R2's model) and the mixed one
///   ∇²ₓᵧg + F with Fᵢⱼ ~ N(0, σ_H²/(2d_y)), the off-diagonal variance of the Hessian noise.
///   A Hessian sample costs d_y² normal draws.
///
/// Minimax and bilevel noise is drawn lazily, at the first call of each oracle after a resample,
/// from the `"noise"` simulation stream, so a sample pays only for the oracles it uses.
#[derive(Clone)]
pub struct GaussianGradientNoise<P> {
    inner: P,
    sigma: f64,
    eps: Vec<f64>,
    rng: Rng,
    pair: PairNoise,
}

/// The lazily drawn noise of the minimax and bilevel oracles of one sample.
#[derive(Clone)]
struct PairNoise {
    dx: usize,
    dy: usize,
    sigma_h: f64,
    rng: SimRng,
    /// Noise of ∇ₓf and ∇ᵧf (minimax gradients or the upper level's).
    ex: Vec<f64>,
    ey: Vec<f64>,
    /// Noise of the lower level's ∇ᵧg.
    ly: Vec<f64>,
    /// Symmetric d_y × d_y Hessian noise and d_x × d_y mixed-derivative noise (row-major).
    h: Vec<f64>,
    j: Vec<f64>,
    /// Which of (upper, lower, Hessian, mixed) are drawn for the current sample.
    drawn: [bool; 4],
}

const UPPER: usize = 0;
const LOWER: usize = 1;
const HESSIAN: usize = 2;
const MIXED: usize = 3;

impl PairNoise {
    fn fill(rng: &mut SimRng, out: &mut [f64], sd: f64) {
        for e in out.iter_mut() {
            let z: f64 = StandardNormal.sample(rng);
            *e = sd * z;
        }
    }

    /// Draws the noise of oracle `kind` if the current sample has none yet.
    fn ensure(&mut self, kind: usize, sigma: f64) {
        if self.drawn[kind] {
            return;
        }
        self.drawn[kind] = true;
        let dy = self.dy.max(1) as f64;
        match kind {
            UPPER if sigma > 0.0 => {
                Self::fill(&mut self.rng, &mut self.ex, sigma);
                Self::fill(&mut self.rng, &mut self.ey, sigma);
            }
            LOWER if sigma > 0.0 => Self::fill(&mut self.rng, &mut self.ly, sigma),
            HESSIAN if self.sigma_h > 0.0 => {
                Self::fill(&mut self.rng, &mut self.h, self.sigma_h / dy.sqrt());
                let n = self.dy;
                for i in 0..n {
                    for k in i..n {
                        let s = 0.5 * (self.h[i * n + k] + self.h[k * n + i]);
                        self.h[i * n + k] = s;
                        self.h[k * n + i] = s;
                    }
                }
            }
            MIXED if self.sigma_h > 0.0 => {
                Self::fill(&mut self.rng, &mut self.j, self.sigma_h / (2.0 * dy).sqrt());
            }
            _ => {}
        }
    }

    /// out += M v for a row-major `rows × v.len()` matrix M.
    fn add_matvec(m: &[f64], v: &[f64], out: &mut [f64]) {
        for (o, row) in out.iter_mut().zip(m.chunks_exact(v.len().max(1))) {
            *o += row.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
        }
    }
}

fn add(g: &mut [f64], e: &[f64]) {
    for (gi, ei) in g.iter_mut().zip(e) {
        *gi += ei;
    }
}

impl<P: Problem> GaussianGradientNoise<P> {
    /// Noise of standard deviation `sigma` per entry, drawn from `streams`' `"noise"` streams.
    /// `inner` must offer gradients, minimax or bilevel oracles and `sigma` be finite and ≥ 0;
    /// errors name what is wrong.
    ///
    /// # Errors
    ///
    /// An inner problem without the oracle to perturb, or σ not finite and ≥ 0.
    pub fn new(mut inner: P, sigma: f64, streams: &RngStreams) -> Result<Self> {
        let noisy = Caps::GRADIENT | Caps::MINIMAX | Caps::BILEVEL;
        if !inner.caps().intersects(noisy) {
            return Err(Error::Capability {
                method: "gaussian gradient noise".into(),
                needs: "one of Gradient or MinimaxProblem or BilevelProblem".into(),
                problem: inner.name(),
                offers: inner.caps().to_string(),
            });
        }
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(Error::invalid("noise sigma", sigma, "a finite number >= 0"));
        }
        let (dx, dy) = if let Some(m) = inner.as_minimax() {
            m.dims()
        } else if let Some(b) = inner.as_bilevel() {
            b.dims()
        } else {
            (0, 0)
        };
        let dim = if inner.caps().contains(Caps::GRADIENT) {
            inner.layout().len()
        } else {
            0
        };
        Ok(GaussianGradientNoise {
            inner,
            sigma,
            eps: vec![0.0; dim],
            rng: streams.stream("noise"),
            pair: PairNoise {
                dx,
                dy,
                sigma_h: 0.0,
                rng: streams.sim("noise", 1),
                ex: vec![0.0; dx],
                ey: vec![0.0; dy],
                ly: vec![0.0; dy],
                h: Vec::new(),
                j: Vec::new(),
                drawn: [true; 4],
            },
        })
    }

    /// Adds noise of level `sigma_h` to the bilevel second-order products (see the type's
    /// docs); errors unless `sigma_h` is finite and ≥ 0 and the problem is bilevel when > 0.
    ///
    /// # Errors
    ///
    /// σ_H not finite and ≥ 0, or σ_H > 0 over a problem without the bilevel view.
    pub fn with_second_order_noise(mut self, sigma_h: f64) -> Result<Self> {
        if !(sigma_h.is_finite() && sigma_h >= 0.0) {
            return Err(Error::invalid(
                "hessian noise sigma",
                sigma_h,
                "a finite number >= 0",
            ));
        }
        if sigma_h > 0.0 && !self.inner.caps().contains(Caps::BILEVEL) {
            return Err(Error::Capability {
                method: "second-order gradient noise".into(),
                needs: "BilevelProblem".into(),
                problem: self.inner.name(),
                offers: self.inner.caps().to_string(),
            });
        }
        let (dx, dy) = (self.pair.dx, self.pair.dy);
        self.pair.sigma_h = sigma_h;
        self.pair.h = vec![0.0; dy * dy];
        self.pair.j = vec![0.0; dx * dy];
        Ok(self)
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

    /// The second-order noise level σ_H (0 unless set).
    pub fn second_order_sigma(&self) -> f64 {
        self.pair.sigma_h
    }
}

const VIEW: &str = "GaussianGradientNoise offers a view only when the inner problem does";

impl<P: Problem> Function for GaussianGradientNoise<P> {
    fn dim(&self) -> usize {
        self.inner.layout().len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.inner.as_function().expect(VIEW).value(x)
    }
}

impl<P: Problem> Gradient for GaussianGradientNoise<P> {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let f = self.inner.as_gradient().expect(VIEW).value_grad(x, g);
        add(g, &self.eps);
        f
    }
}

impl<P: Problem> MinimaxProblem for GaussianGradientNoise<P> {
    fn dims(&self) -> (usize, usize) {
        (self.pair.dx, self.pair.dy)
    }
    fn value_xy(&mut self, x: &[f64], y: &[f64]) -> f64 {
        self.inner.as_minimax().expect(VIEW).value_xy(x, y)
    }
    fn grads_xy(&mut self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        let f = self.inner.as_minimax().expect(VIEW).grads_xy(x, y, gx, gy);
        self.pair.ensure(UPPER, self.sigma);
        add(gx, &self.pair.ex);
        add(gy, &self.pair.ey);
        f
    }
    fn exact_primal_grad(&mut self, x: &[f64], out: &mut [f64]) -> bool {
        self.inner
            .as_minimax()
            .expect(VIEW)
            .exact_primal_grad(x, out)
    }
}

impl<P: Problem> BilevelProblem for GaussianGradientNoise<P> {
    fn dims(&self) -> (usize, usize) {
        (self.pair.dx, self.pair.dy)
    }
    fn upper_value(&mut self, x: &[f64], y: &[f64]) -> f64 {
        self.inner.as_bilevel().expect(VIEW).upper_value(x, y)
    }
    fn upper_grads(&mut self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        let f = self
            .inner
            .as_bilevel()
            .expect(VIEW)
            .upper_grads(x, y, gx, gy);
        self.pair.ensure(UPPER, self.sigma);
        add(gx, &self.pair.ex);
        add(gy, &self.pair.ey);
        f
    }
    fn lower_grad_y(&mut self, x: &[f64], y: &[f64], gy: &mut [f64]) -> f64 {
        let g = self.inner.as_bilevel().expect(VIEW).lower_grad_y(x, y, gy);
        self.pair.ensure(LOWER, self.sigma);
        add(gy, &self.pair.ly);
        g
    }
    fn lower_hvp_yy(&mut self, x: &[f64], y: &[f64], v: &[f64], out: &mut [f64]) {
        self.inner
            .as_bilevel()
            .expect(VIEW)
            .lower_hvp_yy(x, y, v, out);
        if self.pair.sigma_h > 0.0 {
            self.pair.ensure(HESSIAN, self.sigma);
            PairNoise::add_matvec(&self.pair.h, v, out);
        }
    }
    fn lower_jvp_xy(&mut self, x: &[f64], y: &[f64], v: &[f64], out: &mut [f64]) {
        self.inner
            .as_bilevel()
            .expect(VIEW)
            .lower_jvp_xy(x, y, v, out);
        if self.pair.sigma_h > 0.0 {
            self.pair.ensure(MIXED, self.sigma);
            PairNoise::add_matvec(&self.pair.j, v, out);
        }
    }
    fn exact_hypergradient(&mut self, x: &[f64], out: &mut [f64]) -> bool {
        self.inner
            .as_bilevel()
            .expect(VIEW)
            .exact_hypergradient(x, out)
    }
}

impl<P: Problem> Stochastic for GaussianGradientNoise<P> {
    fn resample(&mut self) {
        crate::oracle::resample_if_stochastic(&mut self.inner);
        for e in self.eps.iter_mut() {
            let z: f64 = StandardNormal.sample(&mut self.rng);
            *e = self.sigma * z;
        }
        self.pair.drawn = [false; 4];
    }
}

impl<P: Problem> Problem for GaussianGradientNoise<P> {
    fn name(&self) -> String {
        let mut name = format!(
            "{} + N(0, {}²) gradient noise",
            self.inner.name(),
            self.sigma
        );
        if self.pair.sigma_h > 0.0 {
            name.push_str(&format!(", N(0, {}²) Hessian noise", self.pair.sigma_h));
        }
        name
    }
    fn layout(&self) -> &Layout {
        self.inner.layout()
    }
    fn caps(&self) -> Caps {
        let kept = Caps::FUNCTION | Caps::GRADIENT | Caps::MINIMAX | Caps::BILEVEL;
        (self.inner.caps() & kept) | Caps::STOCHASTIC
    }
    fn as_function(&mut self) -> Option<&mut dyn Function> {
        self.caps().contains(Caps::FUNCTION).then_some(self as _)
    }
    fn as_gradient(&mut self) -> Option<&mut dyn Gradient> {
        self.caps().contains(Caps::GRADIENT).then_some(self as _)
    }
    fn as_stochastic(&mut self) -> Option<&mut dyn Stochastic> {
        Some(self)
    }
    fn as_minimax(&mut self) -> Option<&mut dyn MinimaxProblem> {
        self.caps().contains(Caps::MINIMAX).then_some(self as _)
    }
    fn as_bilevel(&mut self) -> Option<&mut dyn BilevelProblem> {
        self.caps().contains(Caps::BILEVEL).then_some(self as _)
    }
}
