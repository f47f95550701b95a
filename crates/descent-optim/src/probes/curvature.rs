//! The curvature of any [`HessianVector`] problem at a point (P5 §2.5): its Hessian spectrum,
//! β = λ_max, μ = the smallest *positive* eigenvalue (the Morse–Bott constant on the normal
//! space: eigenvalues with |λ| ≤ `zero_tol`·max|λ| count as zeros, and their number, the
//! dimension of the solution manifold at a minimiser, is reported) and κ = β/μ, in the
//! Euclidean metric and in the pullback metric of a reduction, where the spectrum is that of
//! R^{-1/2}∇²F R^{-1/2} with R = I + DΨᵀDΨ (at a critical point the Riemannian Hessian R⁻¹∇²F
//! has the same eigenvalues).
//!
//! Up to `dense_max` parameters the Hessian is built from n exact HVPs (symmetrised) and
//! decomposed by faer's symmetric eigensolver ([`descent_core::linalg::sym_eigen`]); above it,
//! Lanczos ([`super::sharpness::lanczos`]) gives Ritz values whose extremes approximate both
//! ends of the spectrum (multiplicities, and so zero counts, are then not resolved).

use descent_core::linalg::sym_eigen;
use descent_core::{Error, HessianVector, Result};

use super::sharpness::lanczos;
use crate::reduction::metric::InvSqrtMetric;

/// How [`hessian_curvature`] and [`pullback_curvature`] work.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvatureOptions {
    /// Build the dense Hessian up to this many parameters, else run Lanczos.
    pub dense_max: usize,
    /// Lanczos iterations above `dense_max`.
    pub lanczos_iterations: usize,
    /// |λ| ≤ zero_tol · max|λ| is a zero eigenvalue (spec §5: 1e-6).
    pub zero_tol: f64,
    /// Seed of the Lanczos start vector.
    pub seed: u64,
}

impl Default for CurvatureOptions {
    fn default() -> Self {
        CurvatureOptions {
            dense_max: 3000,
            lanczos_iterations: 100,
            zero_tol: 1e-6,
            seed: 0,
        }
    }
}

/// How a spectrum was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpectrumMethod {
    /// Every eigenvalue of the dense Hessian.
    Dense,
    /// Ritz values of a Lanczos run.
    Lanczos,
}

/// A measured Hessian spectrum and the constants of the theory.
#[derive(Debug, Clone, PartialEq)]
pub struct Curvature {
    /// How the spectrum was measured.
    pub method: SpectrumMethod,
    /// Non-decreasing: all eigenvalues (dense) or the Ritz values (Lanczos).
    pub eigenvalues: Vec<f64>,
    /// β: the largest eigenvalue.
    pub beta: f64,
    /// μ: the smallest eigenvalue above the zero threshold (NaN if none).
    pub mu: f64,
    /// κ = β/μ.
    pub kappa: f64,
    /// Eigenvalues with |λ| ≤ the threshold.
    pub zero_count: usize,
    /// Eigenvalues below −threshold (a saddle or a non-minimiser).
    pub negative_count: usize,
    /// zero_tol · max|λ|.
    pub zero_threshold: f64,
    /// Hessian-vector products used.
    pub hvps: usize,
}

impl Curvature {
    /// β, μ, κ and the counts of a spectrum (any order; NaN propagates into β, μ and κ).
    pub fn from_eigenvalues(
        mut eigenvalues: Vec<f64>,
        method: SpectrumMethod,
        zero_tol: f64,
        hvps: usize,
    ) -> Curvature {
        eigenvalues.sort_by(f64::total_cmp);
        let finite = eigenvalues.iter().all(|v| v.is_finite()) && !eigenvalues.is_empty();
        let scale = eigenvalues
            .first()
            .zip(eigenvalues.last())
            .map_or(f64::NAN, |(lo, hi)| lo.abs().max(hi.abs()));
        let threshold = zero_tol * scale;
        let beta = if finite {
            eigenvalues[eigenvalues.len() - 1]
        } else {
            f64::NAN
        };
        let mu = if finite {
            eigenvalues
                .iter()
                .copied()
                .find(|v| *v > threshold)
                .unwrap_or(f64::NAN)
        } else {
            f64::NAN
        };
        Curvature {
            method,
            zero_count: eigenvalues.iter().filter(|v| v.abs() <= threshold).count(),
            negative_count: eigenvalues.iter().filter(|v| **v < -threshold).count(),
            eigenvalues,
            beta,
            mu,
            kappa: beta / mu,
            zero_threshold: threshold,
            hvps,
        }
    }
}

/// The dense Hessian of `f` at `x` from n HVPs along the unit vectors, symmetrised
/// ((H + Hᵀ)/2), row-major n × n.
///
/// # Errors
///
/// A point whose length is not `f.dim()`.
pub fn dense_hessian(f: &mut dyn HessianVector, x: &[f64]) -> Result<Vec<f64>> {
    let n = f.dim();
    check_point(n, x)?;
    dense_operator(n, |v, out| f.hvp(x, v, out))
}

/// The symmetrised dense matrix of the operator `apply` (n applications).
fn dense_operator(n: usize, mut apply: impl FnMut(&[f64], &mut [f64])) -> Result<Vec<f64>> {
    let mut h = vec![0.0; n * n];
    let mut e = vec![0.0; n];
    let mut col = vec![0.0; n];
    for i in 0..n {
        e[i] = 1.0;
        apply(&e, &mut col);
        e[i] = 0.0;
        for j in 0..n {
            h[j * n + i] = col[j];
        }
    }
    for i in 0..n {
        for j in 0..i {
            let s = 0.5 * (h[i * n + j] + h[j * n + i]);
            h[i * n + j] = s;
            h[j * n + i] = s;
        }
    }
    Ok(h)
}

fn check_point(n: usize, x: &[f64]) -> Result<()> {
    if x.len() != n {
        return Err(Error::shape("curvature probe point", n, x.len()));
    }
    Ok(())
}

/// The spectrum of the symmetric operator `apply` of size n (dense or Lanczos by `opts`).
fn spectrum(
    n: usize,
    mut apply: impl FnMut(&[f64], &mut [f64]),
    opts: &CurvatureOptions,
) -> Result<Curvature> {
    if !(opts.zero_tol >= 0.0 && opts.zero_tol.is_finite()) {
        return Err(Error::invalid(
            "curvature.zero_tol",
            opts.zero_tol,
            "a finite number >= 0",
        ));
    }
    if n <= opts.dense_max {
        let h = dense_operator(n, &mut apply)?;
        let vals = if h.iter().all(|v| v.is_finite()) {
            sym_eigen(&h, n)?.0
        } else {
            vec![f64::NAN; n]
        };
        return Ok(Curvature::from_eigenvalues(
            vals,
            SpectrumMethod::Dense,
            opts.zero_tol,
            n,
        ));
    }
    if opts.lanczos_iterations == 0 {
        return Err(Error::invalid(
            "curvature.lanczos_iterations",
            0,
            "an integer >= 1",
        ));
    }
    let ritz = lanczos(apply, n, opts.lanczos_iterations, 0.0, opts.seed)?;
    Ok(Curvature::from_eigenvalues(
        ritz.values,
        SpectrumMethod::Lanczos,
        opts.zero_tol,
        ritz.iterations,
    ))
}

/// The Euclidean Hessian spectrum of `f` at `x` with β, μ, κ and the zero count.
///
/// # Errors
///
/// A point whose length is not `f.dim()`, or a decomposition that fails (non-finite input).
pub fn hessian_curvature(
    f: &mut dyn HessianVector,
    x: &[f64],
    opts: &CurvatureOptions,
) -> Result<Curvature> {
    let n = f.dim();
    check_point(n, x)?;
    spectrum(n, |v, out| f.hvp(x, v, out), opts)
}

/// The spectrum of R^{-1/2}∇²f R^{-1/2} at `x`, R = I + DΨᵀDΨ for DΨ = `jac` (row-major
/// n₂ × n₁, n₁ = f.dim()): the curvature in the pullback metric of a reduction (P5 §2.3).
///
/// # Errors
///
/// A point or Jacobian of the wrong size, a non-finite DΨ, or a decomposition that fails.
pub fn pullback_curvature(
    f: &mut dyn HessianVector,
    x: &[f64],
    jac: &[f64],
    n2: usize,
    opts: &CurvatureOptions,
) -> Result<Curvature> {
    let n = f.dim();
    check_point(n, x)?;
    let mut s = InvSqrtMetric::new(jac, n2, n)?;
    let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
    spectrum(
        n,
        |v, out| {
            s.apply(v, &mut a);
            f.hvp(x, &a, &mut b);
            s.apply(&b, out);
        },
        opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::testfns::Quadratic;

    #[test]
    fn dense_and_lanczos_find_beta_mu_and_the_zeros() {
        // spectrum with three exact zeros: 0, 0, 0, 0.5, 1, …, 4
        let mut eigs = vec![0.0; 3];
        eigs.extend((1..=8).map(|i| 0.5 * i as f64));
        let mut q = Quadratic::rotated(&eigs, &[0.0; 11], 4).unwrap();
        let x = [0.3; 11];
        let c = hessian_curvature(&mut q, &x, &CurvatureOptions::default()).unwrap();
        assert_eq!(c.method, SpectrumMethod::Dense);
        assert_eq!((c.zero_count, c.negative_count, c.hvps), (3, 0, 11));
        assert!(
            (c.beta - 4.0).abs() < 1e-12 && (c.mu - 0.5).abs() < 1e-12,
            "{c:?}"
        );
        assert!((c.kappa - 8.0).abs() < 1e-10);
        let opts = CurvatureOptions {
            dense_max: 5,
            lanczos_iterations: 11,
            ..Default::default()
        };
        let l = hessian_curvature(&mut q, &x, &opts).unwrap();
        assert_eq!(l.method, SpectrumMethod::Lanczos);
        assert!(
            (l.beta - 4.0).abs() < 1e-8 && (l.mu - 0.5).abs() < 1e-8,
            "{l:?}"
        );
        let e = hessian_curvature(&mut q, &[0.0; 2], &opts).unwrap_err();
        assert_eq!(
            e.to_string(),
            "shape mismatch in curvature probe point: expected 11, got 2"
        );
    }

    #[test]
    fn pullback_spectrum_is_that_of_the_symmetrised_metric_problem() {
        // H = diag(2, 3), DΨ = [1, 1] (n₂ = 1): R = I + 11ᵀ, compare with the eigenvalues of
        // R^{-1/2} H R^{-1/2} computed densely from R's eigen-decomposition
        let mut q = Quadratic::diagonal(&[2.0, 3.0], &[0.0, 0.0]).unwrap();
        let jac = [1.0, 1.0];
        let c =
            pullback_curvature(&mut q, &[0.0, 0.0], &jac, 1, &CurvatureOptions::default()).unwrap();
        // generalised eigenvalues of H v = λ R v: det(H − λR) = 0 with R = [[2,1],[1,2]]:
        // (2−2λ)(3−2λ) − λ² = 0 → 3λ² − 10λ + 6 = 0
        let disc = (100.0f64 - 72.0).sqrt();
        let want = [(10.0 - disc) / 6.0, (10.0 + disc) / 6.0];
        for (a, b) in c.eigenvalues.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{:?} vs {want:?}", c.eigenvalues);
        }
    }

    #[test]
    fn non_finite_spectra_give_nan_constants() {
        let c = Curvature::from_eigenvalues(vec![1.0, f64::NAN], SpectrumMethod::Dense, 1e-6, 2);
        assert!(c.beta.is_nan() && c.mu.is_nan() && c.kappa.is_nan());
        let c = Curvature::from_eigenvalues(vec![-1.0, 0.0, 2.0], SpectrumMethod::Dense, 1e-6, 3);
        assert_eq!((c.negative_count, c.zero_count, c.mu), (1, 1, 2.0));
    }
}
