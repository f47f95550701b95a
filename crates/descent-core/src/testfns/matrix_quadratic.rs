//! The matrix quadratic of P7's Z1: f(W) = (1/2n)·tr((W − W*)ᵀ H (W − W*)) for W ∈ ℝ^{n×n},
//! with H = U diag(h) Uᵀ symmetric positive definite.

use rand_distr::{Distribution, StandardNormal};

use crate::linalg::{self, Trans};
use crate::oracle::{Function, Gradient, HessianVector, Problem};
use crate::rng::Rng;
use crate::{Error, Layout, Result};

/// f(W) = (1/2n)·tr((W − W*)ᵀ H (W − W*)), ∇f = (1/n)·H (W − W*), ∇²f·V = (1/n)·H V, for
/// W ∈ ℝ^{n×n} (one `n × n` matrix block, so Muon sees a matrix). Minimum 0 at W*.
#[derive(Debug, Clone)]
pub struct MatrixQuadratic {
    n: usize,
    h: Vec<f64>,
    target: Vec<f64>,
    layout: Layout,
    diff: Vec<f64>,
    hd: Vec<f64>,
}

impl MatrixQuadratic {
    /// From a symmetric `n × n` matrix `h` and a target `W*` (both row-major).
    ///
    /// # Errors
    ///
    /// Sizes of `h` or `target` that do not fit `n`.
    pub fn new(n: usize, h: Vec<f64>, target: Vec<f64>) -> Result<Self> {
        if n == 0 {
            return Err(Error::invalid("matrix_quadratic.n", 0, "an integer >= 1"));
        }
        if h.len() != n * n {
            return Err(Error::shape("matrix_quadratic.h", n * n, h.len()));
        }
        if target.len() != n * n {
            return Err(Error::shape("matrix_quadratic.target", n * n, target.len()));
        }
        Ok(MatrixQuadratic {
            n,
            h,
            target,
            layout: Layout::matrix(n, n),
            diff: vec![0.0; n * n],
            hd: vec![0.0; n * n],
        })
    }

    /// H = U diag(h) Uᵀ with a Haar-like rotation U (QR of an n × n Gaussian drawn from
    /// `rotation`), eigenvalues hᵢ = h_max^{i/(n−1)} (log-spaced from 1 to `h_max`), and a target
    /// W* with entries `target_scale`·N(0, 1) drawn from `target` — P7 §4 Z1 draws U once and
    /// W* per seed, hence two generators.
    ///
    /// # Errors
    ///
    /// Sizes or a condition number out of range.
    pub fn log_spectrum(
        n: usize,
        h_max: f64,
        target_scale: f64,
        rotation: &mut Rng,
        target: &mut Rng,
    ) -> Result<Self> {
        if n == 0 {
            return Err(Error::invalid("matrix_quadratic.n", 0, "an integer >= 1"));
        }
        if !(h_max.is_finite() && h_max > 0.0) {
            return Err(Error::invalid(
                "matrix_quadratic.h_max",
                h_max,
                "a finite number > 0",
            ));
        }
        let g: Vec<f64> = (0..n * n)
            .map(|_| StandardNormal.sample(rotation))
            .collect();
        let (u, _) = linalg::qr(&g, n, n);
        let spectrum: Vec<f64> = (0..n)
            .map(|i| {
                let t = if n > 1 {
                    i as f64 / (n - 1) as f64
                } else {
                    0.0
                };
                h_max.powf(t)
            })
            .collect();
        let mut uh = u.clone();
        for i in 0..n {
            for j in 0..n {
                uh[i * n + j] *= spectrum[j];
            }
        }
        let h = linalg::matmul(&uh, Trans::N, &u, Trans::T, n, n, n);
        let w: Vec<f64> = (0..n * n)
            .map(|_| {
                let z: f64 = StandardNormal.sample(target);
                target_scale * z
            })
            .collect();
        Self::new(n, h, w)
    }

    /// The matrix H.
    pub fn h(&self) -> &[f64] {
        &self.h
    }

    /// The minimiser W*.
    pub fn target(&self) -> &[f64] {
        &self.target
    }

    /// out = H·V; plain loops up to 8 × 8 (cheaper than a GEMM call there), GEMM above.
    fn apply_h(h: &[f64], v: &[f64], out: &mut [f64], n: usize) {
        if n <= 8 {
            for i in 0..n {
                for j in 0..n {
                    out[i * n + j] = (0..n).map(|k| h[i * n + k] * v[k * n + j]).sum();
                }
            }
        } else {
            linalg::gemm(out, n, n, n, 1.0, h, Trans::N, v, Trans::N, 0.0);
        }
    }

    /// f at x, leaving H·(x − W*) in `self.hd`.
    fn eval(&mut self, x: &[f64]) -> f64 {
        for (d, (a, b)) in self.diff.iter_mut().zip(x.iter().zip(&self.target)) {
            *d = a - b;
        }
        Self::apply_h(&self.h, &self.diff, &mut self.hd, self.n);
        let f: f64 = self.hd.iter().zip(&self.diff).map(|(a, b)| a * b).sum();
        f / (2.0 * self.n as f64)
    }
}

impl Function for MatrixQuadratic {
    fn dim(&self) -> usize {
        self.n * self.n
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.eval(x)
    }
}

impl Gradient for MatrixQuadratic {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let f = self.eval(x);
        let n = self.n as f64;
        for (gi, s) in g.iter_mut().zip(&self.hd) {
            *gi = s / n;
        }
        f
    }
}

impl HessianVector for MatrixQuadratic {
    fn hvp(&mut self, _x: &[f64], v: &[f64], out: &mut [f64]) {
        Self::apply_h(&self.h, v, out, self.n);
        let n = self.n as f64;
        for o in out.iter_mut() {
            *o /= n;
        }
    }
}

impl Problem for MatrixQuadratic {
    fn name(&self) -> String {
        format!("matrix-quadratic({0}x{0})", self.n)
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(function, gradient, hvp);
}
