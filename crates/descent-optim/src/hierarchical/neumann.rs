//! The Neumann-series hypergradient estimator (P4 App. E.1; Ghadimi & Wang 2018, StocBiO, TTSA;
//! spec §2.4): with l ≥ λ_max(∇²ᵧᵧg), [∇²ᵧᵧg]⁻¹ = (1/l) Σ_{q≥0} (I − ∇²ᵧᵧg/l)^q, truncated
//! at N terms,
//!
//! ```text
//! ∇̄f = ∇ₓF(ξ) − ∇²ₓᵧG(ζ₀) · v,
//! deterministic sum:     v = (1/l) Σ_{q=0}^{N−1} Π_{j=1}^{q} (I − ∇²ᵧᵧG(ζ_j)/l) ∇ᵧF(ξ)
//! randomised truncation: v = (N/l) Π_{j=1}^{Q} (I − ∇²ᵧᵧG(ζ_j)/l) ∇ᵧF(ξ),  Q ~ U{0, …, N−1}
//! ```
//!
//! computed as a chain of Hessian-vector products u_q = u_{q−1} − H_q u_{q−1}/l. Both have the
//! expectation ∇ₓf − ∇²ₓᵧg (1/l) Σ_{q<N} (I − ∇²ᵧᵧg/l)^q ∇ᵧf; its bias against the exact
//! hypergradient at the same y is ∇²ₓᵧg [∇²ᵧᵧg]⁻¹ (I − ∇²ᵧᵧg/l)^N ∇ᵧf, at most
//! (l l_{f,0}/µ)(1 − µ/l)^N; the paper's N = ⌈3 ln T / (2 ln(1/(1 − µ/l)))⌉ ([`neumann_terms`])
//! makes (1 − µ/l)^N ≤ T^{−3/2}. The deterministic sum is the default: it is exact when the
//! oracles are, while the randomised one has variance ∝ N even then (pitfall P4).
//!
//! Every sample is independent: the estimator resamples the problem before the upper gradients
//! (ξ), before each Hessian product (ζ_j) and before the mixed product (ζ₀). If a Hessian sample
//! shows a Rayleigh quotient ⟨u, Hu⟩/‖u‖² above l, l is below an eigenvalue the run observed,
//! (I − H/l) is no contraction and the series diverges: that is a named error, not a silent
//! blow-up.

use descent_core::rng::splitmix64;
use descent_core::{Error, Problem, Result};

use super::{bilevel, dot};

crate::spec_enum! {
    /// How the Neumann series is truncated.
    pub enum Truncation {
        /// The sum of the first N terms (N − 1 Hessian products).
        Deterministic = "deterministic",
        /// One random term Q ~ U{0, …, N−1} scaled by N (Q Hessian products).
        Randomized = "randomized",
    }
}

/// The settings of the estimator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neumann {
    /// The scale l ≥ λ_max(∇²ᵧᵧg) (l_{g,1}).
    pub l: f64,
    /// N, the number of terms.
    pub terms: usize,
    /// How the series is cut (fixed N or a random N).
    pub truncation: Truncation,
}

/// N = ⌈3 ln T / (2 ln(1/(1 − µ/l)))⌉, the paper's number of terms for horizon T (Thm 4.2), so
/// (1 − µ/l)^N ≤ T^{−3/2}; at least 1. For µ ≥ l one term is exact.
pub fn neumann_terms(horizon: u64, mu: f64, l: f64) -> usize {
    let rho = 1.0 - mu / l;
    if rho <= 0.0 || horizon <= 1 {
        return 1;
    }
    let n = 3.0 * (horizon as f64).ln() / (2.0 * (1.0 / rho).ln());
    (n.ceil() as usize).max(1)
}

/// What one hypergradient estimate saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NeumannInfo {
    /// The upper objective F(x, y; ξ) of the sample.
    pub upper: f64,
    /// The largest Rayleigh quotient ⟨u, Hu⟩/‖u‖² of the Hessian samples (0 without products):
    /// a lower bound on the largest eigenvalue the run observed.
    pub max_rayleigh: f64,
    /// Hessian-vector products made.
    pub products: usize,
}

/// Scratch space of the estimator for (d_x, d_y), sized once.
#[derive(Debug, Clone, Default)]
pub struct NeumannScratch {
    gy: Vec<f64>,
    u: Vec<f64>,
    hu: Vec<f64>,
    v: Vec<f64>,
    jv: Vec<f64>,
}

impl NeumannScratch {
    /// Scratch for d_x, d_y.
    pub fn new(dx: usize, dy: usize) -> Self {
        NeumannScratch {
            gy: vec![0.0; dy],
            u: vec![0.0; dy],
            hu: vec![0.0; dy],
            v: vec![0.0; dy],
            jv: vec![0.0; dx],
        }
    }

    fn fits(&self, dx: usize, dy: usize) -> bool {
        self.gy.len() == dy && self.jv.len() == dx
    }
}

/// A uniform integer in 0..n from a counter hash of (seed, step, chain): the randomised
/// truncation's Q, reproducible without stored generator state.
pub fn hashed_index(seed: u64, step: u64, chain: u64, n: usize) -> usize {
    let h = splitmix64(seed ^ splitmix64(step ^ splitmix64(chain)));
    ((h >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize % n.max(1)
}

impl Neumann {
    /// Checks l and N; errors name `owner.l` / `owner.terms`.
    ///
    /// # Errors
    ///
    /// l not finite and > 0, or N = 0.
    pub fn validate(&self, owner: &str) -> Result<()> {
        if !(self.l.is_finite() && self.l > 0.0) {
            return Err(Error::invalid(
                format!("{owner}.l"),
                self.l,
                "a finite number > 0 (at least the largest eigenvalue of the lower Hessian)",
            ));
        }
        if self.terms == 0 {
            return Err(Error::invalid(
                format!("{owner}.terms"),
                0,
                "an integer >= 1",
            ));
        }
        Ok(())
    }

    /// Writes the estimate ∇̄f at z = (x, y) (d_x = `dx`) into `out` (length d_x). `q` is the
    /// randomised truncation's draw (ignored by the deterministic sum). `problem` must offer the
    /// bilevel view; `owner` names the error when a Hessian sample exceeds l.
    ///
    /// # Errors
    ///
    /// A Hessian sample whose curvature exceeds l (the series would diverge), naming `owner.l`.
    #[allow(clippy::too_many_arguments)]
    pub fn estimate(
        &self,
        owner: &str,
        problem: &mut dyn Problem,
        z: &[f64],
        dx: usize,
        q: usize,
        s: &mut NeumannScratch,
        out: &mut [f64],
    ) -> Result<NeumannInfo> {
        let (x, y) = z.split_at(dx);
        if !s.fits(dx, y.len()) {
            *s = NeumannScratch::new(dx, y.len());
        }
        problem.resample();
        let upper = bilevel(problem).upper_grads(x, y, out, &mut s.gy);
        s.u.copy_from_slice(&s.gy);
        let (chain, scale) = match self.truncation {
            Truncation::Deterministic => {
                s.v.copy_from_slice(&s.u);
                (self.terms - 1, 1.0 / self.l)
            }
            Truncation::Randomized => (q.min(self.terms - 1), self.terms as f64 / self.l),
        };
        let mut max_rayleigh: f64 = 0.0;
        for _ in 0..chain {
            problem.resample();
            bilevel(problem).lower_hvp_yy(x, y, &s.u, &mut s.hu);
            let uu = dot(&s.u, &s.u);
            if uu > 0.0 {
                let rq = dot(&s.u, &s.hu) / uu;
                if rq > max_rayleigh || rq.is_nan() {
                    max_rayleigh = rq;
                }
            }
            for (ui, hi) in s.u.iter_mut().zip(&s.hu) {
                *ui -= hi / self.l;
            }
            if self.truncation == Truncation::Deterministic {
                for (vi, ui) in s.v.iter_mut().zip(&s.u) {
                    *vi += ui;
                }
            }
        }
        if max_rayleigh > self.l * (1.0 + 1e-12) {
            return Err(Error::invalid(
                format!("{owner}.l"),
                self.l,
                format!(
                    "l >= the largest eigenvalue of the lower Hessian the run observes: a \
                     sample had the Rayleigh quotient {max_rayleigh:.6}, so (I - H/l) is no \
                     contraction and the Neumann series diverges"
                ),
            ));
        }
        let v = match self.truncation {
            Truncation::Deterministic => &mut s.v,
            Truncation::Randomized => &mut s.u,
        };
        v.iter_mut().for_each(|vi| *vi *= scale);
        problem.resample();
        bilevel(problem).lower_jvp_xy(x, y, v, &mut s.jv);
        for (o, j) in out.iter_mut().zip(&s.jv) {
            *o -= j;
        }
        Ok(NeumannInfo {
            upper,
            max_rayleigh,
            products: chain,
        })
    }
}
