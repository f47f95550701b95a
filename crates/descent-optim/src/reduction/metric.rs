//! The pullback metric of a reduction (P5 §2.3): Φ(x₁) = (x₁, Ψ(x₁)) pulls the Euclidean metric
//! back to R(x₁) = DΦᵀDΦ = I + DΨᵀDΨ. GeoPrecGD steps along R⁻¹∇F, and the pullback curvature
//! is the spectrum of R^{-1/2}∇²F R^{-1/2}.
//!
//! Solving R z = g: Cholesky of the n₁ × n₁ matrix R, or, when DΨ has fewer rows than columns
//! (n₂ < n₁), the Woodbury identity R⁻¹g = g − DΨᵀ(I_{n₂} + DΨDΨᵀ)⁻¹DΨ g with an n₂ × n₂ solve.

use descent_core::linalg::{Cholesky, Trans, gemm, svd};
use descent_core::{Error, Result};

crate::spec_enum! {
    /// How [`PullbackSolver`] solves R z = g.
    pub enum MetricSolve {
        /// Woodbury when n₂ < n₁, else Cholesky of R.
        Auto = "auto",
        /// g − DΨᵀ(I + DΨDΨᵀ)⁻¹DΨ g (an n₂ × n₂ Cholesky).
        Woodbury = "woodbury",
        /// Cholesky of R = I + DΨᵀDΨ (n₁ × n₁).
        Cholesky = "cholesky",
    }
}

impl MetricSolve {
    /// The solve `Auto` resolves to for DΨ of shape n₂ × n₁.
    pub fn resolve(self, n2: usize, n1: usize) -> MetricSolve {
        match self {
            MetricSolve::Auto if n2 < n1 => MetricSolve::Woodbury,
            MetricSolve::Auto => MetricSolve::Cholesky,
            other => other,
        }
    }
}

/// R = I + DΨᵀDΨ (row-major n₁ × n₁) for DΨ row-major n₂ × n₁.
pub fn pullback_metric(jac: &[f64], n2: usize, n1: usize) -> Vec<f64> {
    let mut r = vec![0.0; n1 * n1];
    gemm(&mut r, n1, n1, n2, 1.0, jac, Trans::T, jac, Trans::N, 0.0);
    for i in 0..n1 {
        r[i * n1 + i] += 1.0;
    }
    r
}

/// R⁻¹ = I − ½DΨᵀDΨ, exact when DΨᵀDΨ is an orthogonal projector (Ψ an orthogonal
/// projection: M(Φ) = 2, m(Φ) = 1; spec §2.3).
pub fn projection_metric_inverse(jac: &[f64], n2: usize, n1: usize) -> Vec<f64> {
    let mut r = vec![0.0; n1 * n1];
    gemm(&mut r, n1, n1, n2, -0.5, jac, Trans::T, jac, Trans::N, 0.0);
    for i in 0..n1 {
        r[i * n1 + i] += 1.0;
    }
    r
}

/// κ(R_α) for the small-slope map Ψ_α = αΨ (Remark 3): R_α = I + α²DΨᵀDΨ, so
/// κ(R_α) = (1 + α²λ_max) / (1 + α²λ_min) with λ the extreme eigenvalues of DΨᵀDΨ.
pub fn small_slope_condition(lambda_min: f64, lambda_max: f64, alpha: f64) -> f64 {
    let a2 = alpha * alpha;
    (1.0 + a2 * lambda_max) / (1.0 + a2 * lambda_min)
}

/// Solves R z = g in place with scratch sized on first use (a new shape reallocates once).
#[derive(Debug, Clone)]
pub struct PullbackSolver {
    how: MetricSolve,
    k: Vec<f64>,
    t: Vec<f64>,
}

impl PullbackSolver {
    /// A solver using `how` (see [`MetricSolve`]).
    pub fn new(how: MetricSolve) -> Self {
        PullbackSolver {
            how,
            k: Vec::new(),
            t: Vec::new(),
        }
    }

    /// g ← R⁻¹g for DΨ = `jac` (row-major n₂ × n₁). Errors on a non-finite DΨ or g.
    ///
    /// # Errors
    ///
    /// A non-finite DΨ or g, or sizes that do not fit.
    pub fn solve(&mut self, jac: &[f64], n2: usize, n1: usize, g: &mut [f64]) -> Result<()> {
        if jac.len() != n2 * n1 || g.len() != n1 {
            return Err(Error::shape(
                "pullback solve (DΨ, g)",
                format!("{} and {n1}", n2 * n1),
                format!("{} and {}", jac.len(), g.len()),
            ));
        }
        match self.how.resolve(n2, n1) {
            MetricSolve::Woodbury => {
                self.k.resize(n2 * n2, 0.0);
                self.t.resize(n2, 0.0);
                gemm(
                    &mut self.k,
                    n2,
                    n2,
                    n1,
                    1.0,
                    jac,
                    Trans::N,
                    jac,
                    Trans::T,
                    0.0,
                );
                for i in 0..n2 {
                    self.k[i * n2 + i] += 1.0;
                }
                gemm(&mut self.t, n2, 1, n1, 1.0, jac, Trans::N, g, Trans::N, 0.0);
                Cholesky::factor(&self.k, n2, 0.0)?.solve_in_place(&mut self.t, 1);
                gemm(g, n1, 1, n2, -1.0, jac, Trans::T, &self.t, Trans::N, 1.0);
            }
            _ => {
                self.k.resize(n1 * n1, 0.0);
                gemm(
                    &mut self.k,
                    n1,
                    n1,
                    n2,
                    1.0,
                    jac,
                    Trans::T,
                    jac,
                    Trans::N,
                    0.0,
                );
                for i in 0..n1 {
                    self.k[i * n1 + i] += 1.0;
                }
                Cholesky::factor(&self.k, n1, 0.0)?.solve_in_place(g, 1);
            }
        }
        Ok(())
    }
}

/// R^{-1/2} = I + V diag((1 + s²)^{-1/2} − 1) Vᵀ from the thin SVD DΨ = U diag(s) Vᵀ: applies
/// the inverse square root of the pullback metric without forming R (the pullback curvature
/// of [`crate::probes::curvature`]).
#[derive(Debug, Clone)]
pub struct InvSqrtMetric {
    n1: usize,
    /// V, n₁ × k row-major.
    v: Vec<f64>,
    /// (1 + s²)^{-1/2} − 1, length k.
    shrink: Vec<f64>,
    /// The extreme eigenvalues of R: m(Φ) = 1 + s_min² (1 when n₂ < n₁), M(Φ) = 1 + s_max².
    pub m_phi: f64,
    /// M(Φ) = 1 + s_max², the largest eigenvalue of R.
    pub big_m_phi: f64,
    t: Vec<f64>,
}

impl InvSqrtMetric {
    /// From DΨ (row-major n₂ × n₁). Errors on a non-finite DΨ.
    ///
    /// # Errors
    ///
    /// A non-finite DΨ, or a slice that is not n₂ × n₁.
    pub fn new(jac: &[f64], n2: usize, n1: usize) -> Result<Self> {
        if jac.len() != n2 * n1 {
            return Err(Error::shape("pullback metric DΨ", n2 * n1, jac.len()));
        }
        let (_, s, v) = svd(jac, n2, n1)?;
        let k = s.len();
        let shrink: Vec<f64> = s.iter().map(|x| 1.0 / (1.0 + x * x).sqrt() - 1.0).collect();
        let smax = s.first().copied().unwrap_or(0.0);
        let smin = if n2 < n1 {
            0.0
        } else {
            s.last().copied().unwrap_or(0.0)
        };
        Ok(InvSqrtMetric {
            n1,
            v,
            shrink,
            m_phi: 1.0 + smin * smin,
            big_m_phi: 1.0 + smax * smax,
            t: vec![0.0; k],
        })
    }

    /// out ← R^{-1/2} x.
    pub fn apply(&mut self, x: &[f64], out: &mut [f64]) {
        let (n1, k) = (self.n1, self.shrink.len());
        gemm(
            &mut self.t,
            k,
            1,
            n1,
            1.0,
            &self.v,
            Trans::T,
            x,
            Trans::N,
            0.0,
        );
        self.t
            .iter_mut()
            .zip(&self.shrink)
            .for_each(|(t, s)| *t *= s);
        out.copy_from_slice(x);
        gemm(
            out,
            n1,
            1,
            k,
            1.0,
            &self.v,
            Trans::N,
            &self.t,
            Trans::N,
            1.0,
        );
    }
}
