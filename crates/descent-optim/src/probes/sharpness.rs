//! Sharpness as the largest Hessian eigenvalue λ_max(∇²f(x)), by the Lanczos method on exact
//! Hessian-vector products (P6 R7 reports it for each optimizer's solution; SAM's and RBO's
//! "flat minima" claims are about it).
//!
//! Lanczos with full reorthogonalisation builds a k × k tridiagonal T whose largest eigenvalue
//! (Ritz value) converges to the extreme eigenvalue of the Hessian from below; the bound on its
//! error is the residual |β_k · s_k| of the top Ritz vector s. The start vector is a seeded
//! Gaussian, so the probe is deterministic.

use descent_core::{Error, HessianVector, Result, linalg};
use rand_distr::{Distribution, StandardNormal};

/// The result of [`top_hessian_eigenvalue`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sharpness {
    /// The largest Ritz value: an estimate of λ_max(∇²f(x)) (the algebraically largest
    /// eigenvalue, which is the sharpness at a minimum).
    pub lambda_max: f64,
    /// The smallest Ritz value (negative at a saddle).
    pub lambda_min: f64,
    /// Lanczos iterations run (= Hessian-vector products).
    pub iterations: usize,
    /// Residual norm ‖∇²f·v − λv‖ of the top Ritz pair (an error bound for λ_max).
    pub residual: f64,
}

/// Runs at most `iterations` Lanczos steps of the Hessian of `f` at `x` (each one exact HVP
/// through the oracle, so [`descent_core::EvalCounter`] counts them), stopping early when the
/// top Ritz residual falls below `tol · |λ_max|` or the Krylov space is exhausted. Errors name
/// a zero `iterations` or a dimension mismatch.
///
/// # Errors
///
/// Zero `iterations`, or a point whose length is not the problem's dimension.
pub fn top_hessian_eigenvalue(
    f: &mut dyn HessianVector,
    x: &[f64],
    iterations: usize,
    tol: f64,
    seed: u64,
) -> Result<Sharpness> {
    let n = f.dim();
    if x.len() != n {
        return Err(Error::shape("sharpness probe point", n, x.len()));
    }
    if iterations == 0 {
        return Err(Error::invalid("sharpness.iterations", 0, "an integer >= 1"));
    }
    let ritz = lanczos(|v, w| f.hvp(x, v, w), n, iterations, tol, seed)?;
    Ok(Sharpness {
        lambda_max: ritz.values.last().copied().unwrap_or(f64::NAN),
        lambda_min: ritz.values.first().copied().unwrap_or(f64::NAN),
        iterations: ritz.iterations,
        residual: ritz.top_residual,
    })
}

/// The Ritz values of a Lanczos run ([`lanczos`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Ritz {
    /// The eigenvalues of the k × k tridiagonal matrix, non-decreasing: the extreme ones
    /// converge first to the extreme eigenvalues of the operator (each distinct eigenvalue is
    /// found once, whatever its multiplicity).
    pub values: Vec<f64>,
    /// Iterations run (= operator applications).
    pub iterations: usize,
    /// Residual norm ‖A s − θ s‖ of the top Ritz pair.
    pub top_residual: f64,
}

/// Lanczos with full reorthogonalisation on the symmetric operator `apply(v, out)` of size `n`,
/// from a seeded Gaussian start: at most `iterations` steps, stopping early when the top Ritz
/// residual is at most `tol · |θ_max|` (`tol = 0` runs them all) or the Krylov space is
/// exhausted.
///
/// # Errors
///
/// An eigen-decomposition of the tridiagonal matrix that fails (non-finite input).
pub fn lanczos(
    mut apply: impl FnMut(&[f64], &mut [f64]),
    n: usize,
    iterations: usize,
    tol: f64,
    seed: u64,
) -> Result<Ritz> {
    let k_max = iterations.min(n);
    let mut rng = descent_core::RngStreams::new(seed).stream("lanczos");
    let mut v: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
    normalize(&mut v);
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(k_max);
    let mut alpha = Vec::with_capacity(k_max);
    let mut beta: Vec<f64> = Vec::with_capacity(k_max);
    let mut w = vec![0.0; n];
    let mut result = Ritz {
        values: Vec::new(),
        iterations: 0,
        top_residual: f64::INFINITY,
    };
    for k in 0..k_max {
        apply(&v, &mut w);
        let a = dot(&w, &v);
        alpha.push(a);
        basis.push(v.clone());
        // Full reorthogonalisation (twice is enough).
        for _ in 0..2 {
            for q in &basis {
                let c = dot(&w, q);
                w.iter_mut().zip(q).for_each(|(wi, qi)| *wi -= c * qi);
            }
        }
        let b = dot(&w, &w).sqrt();
        let m = k + 1;
        let (vals, vecs) = tridiagonal_eigen(&alpha, &beta)?;
        let top = vals[m - 1];
        // Last component of the top Ritz vector (column m − 1 of the row-major m × m matrix).
        let s_last = vecs[(m - 1) * m + (m - 1)];
        result = Ritz {
            values: vals,
            iterations: m,
            top_residual: (b * s_last).abs(),
        };
        if result.top_residual <= tol * top.abs().max(f64::MIN_POSITIVE) || b < 1e-12 {
            break;
        }
        beta.push(b);
        v.iter_mut().zip(&w).for_each(|(vi, wi)| *vi = wi / b);
    }
    Ok(result)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalize(v: &mut [f64]) {
    let n = dot(v, v).sqrt();
    v.iter_mut().for_each(|x| *x /= n);
}

/// Eigen-decomposition of the symmetric tridiagonal matrix with diagonal `a` and off-diagonal
/// `b` (length a.len() − 1), through the dense symmetric solver (k is small).
fn tridiagonal_eigen(a: &[f64], b: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    let m = a.len();
    let mut t = vec![0.0; m * m];
    for i in 0..m {
        t[i * m + i] = a[i];
        if i + 1 < m {
            t[(i + 1) * m + i] = b[i];
            t[i * m + i + 1] = b[i];
        }
    }
    linalg::sym_eigen(&t, m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::testfns::Quadratic;

    #[test]
    fn finds_the_top_eigenvalue_of_a_rotated_quadratic() {
        let eigs: Vec<f64> = (0..30).map(|i| 0.1 + i as f64 * 0.3).collect();
        let mut q = Quadratic::rotated(&eigs, &[0.0; 30], 3).unwrap();
        let s = top_hessian_eigenvalue(&mut q, &[0.5; 30], 30, 1e-10, 1).unwrap();
        assert!((s.lambda_max - eigs[29]).abs() < 1e-8, "{s:?}");
        assert!((s.lambda_min - eigs[0]).abs() < 1e-6, "{s:?}");
        let e = top_hessian_eigenvalue(&mut q, &[0.5; 3], 10, 1e-8, 1)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "shape mismatch in sharpness probe point: expected 30, got 3"
        );
    }
}
