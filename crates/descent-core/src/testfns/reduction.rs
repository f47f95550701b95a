//! The problems of P5 (reduction mappings) whose minimisers form a manifold: linear least
//! squares with a rank-deficient matrix (an affine solution set) and matrix factorisation (the
//! GL(r) orbit of a factorisation). Both take a layout so that a reduction can split their
//! parameters into blocks x = (x₁, x₂).

use crate::linalg::{Trans, gemm};
use crate::oracle::{Function, Gradient, HessianVector, Problem, Residuals};
use crate::{Error, Layout, Result};

/// f(x) = ½‖A x − b‖² for a row-major m × n matrix A: ∇f = Aᵀ(Ax − b), ∇²f = AᵀA. With rank A <
/// n the minimisers form an affine set of dimension n − rank A (P5 E2). Also a [`Residuals`]
/// problem (r = Ax − b, Jacobian A).
#[derive(Debug, Clone)]
pub struct LeastSquares {
    a: Vec<f64>,
    b: Vec<f64>,
    m: usize,
    n: usize,
    layout: Layout,
    r: Vec<f64>,
}

impl LeastSquares {
    /// From A (m × n, row-major) and b (length m), with one flat block of length n.
    ///
    /// # Errors
    ///
    /// Sizes of `a` or `b` that do not fit m × n.
    pub fn new(a: Vec<f64>, m: usize, n: usize, b: Vec<f64>) -> Result<Self> {
        if m == 0 || n == 0 {
            return Err(Error::invalid(
                "least_squares shape",
                format!("{m}x{n}"),
                "at least one row and one column",
            ));
        }
        if a.len() != m * n {
            return Err(Error::shape("least_squares.a", m * n, a.len()));
        }
        if b.len() != m {
            return Err(Error::shape("least_squares.b", m, b.len()));
        }
        Ok(LeastSquares {
            a,
            b,
            m,
            n,
            layout: Layout::flat(n),
            r: vec![0.0; m],
        })
    }

    /// The same problem with named blocks (their sizes must add up to n).
    ///
    /// # Errors
    ///
    /// A layout whose length is not the problem's dimension.
    pub fn with_layout(mut self, layout: Layout) -> Result<Self> {
        layout.check_len("least_squares layout", self.n)?;
        self.layout = layout;
        Ok(self)
    }

    /// A (row-major m × n).
    pub fn a(&self) -> &[f64] {
        &self.a
    }

    /// b.
    pub fn b(&self) -> &[f64] {
        &self.b
    }

    /// (m, n).
    pub fn shape(&self) -> (usize, usize) {
        (self.m, self.n)
    }

    /// r ← Ax − b into the scratch; returns ½‖r‖².
    fn residual(&mut self, x: &[f64]) -> f64 {
        self.r.copy_from_slice(&self.b);
        gemm(
            &mut self.r,
            self.m,
            1,
            self.n,
            1.0,
            &self.a,
            Trans::N,
            x,
            Trans::N,
            -1.0,
        );
        0.5 * self.r.iter().map(|v| v * v).sum::<f64>()
    }
}

impl Function for LeastSquares {
    fn dim(&self) -> usize {
        self.n
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.residual(x)
    }
}

impl Gradient for LeastSquares {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let f = self.residual(x);
        let (m, n) = (self.m, self.n);
        gemm(g, n, 1, m, 1.0, &self.a, Trans::T, &self.r, Trans::N, 0.0);
        f
    }
}

impl HessianVector for LeastSquares {
    fn hvp(&mut self, _x: &[f64], v: &[f64], out: &mut [f64]) {
        let (m, n) = (self.m, self.n);
        gemm(
            &mut self.r,
            m,
            1,
            n,
            1.0,
            &self.a,
            Trans::N,
            v,
            Trans::N,
            0.0,
        );
        gemm(out, n, 1, m, 1.0, &self.a, Trans::T, &self.r, Trans::N, 0.0);
    }
}

impl Residuals for LeastSquares {
    fn n_residuals(&mut self) -> usize {
        self.m
    }
    fn residuals(&mut self, x: &[f64], r: &mut [f64]) {
        self.residual(x);
        r.copy_from_slice(&self.r);
    }
    fn residual_jacobian(&mut self, x: &[f64], r: &mut [f64], jac: &mut [f64]) {
        self.residuals(x, r);
        jac.copy_from_slice(&self.a);
    }
}

impl Problem for LeastSquares {
    fn name(&self) -> String {
        format!("least_squares({}x{})", self.m, self.n)
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(function, gradient, hvp, residuals);
}

/// Matrix factorisation f(U, V) = ½‖U Vᵀ − Y‖²_F with U ∈ ℝ^{m×r}, V ∈ ℝ^{n×r} (layout blocks
/// `"U"` of shape [m, r] and `"V"` of shape [n, r], row-major). With R = UVᵀ − Y:
/// ∇_U f = R V, ∇_V f = Rᵀ U, and along (dU, dV) with D = dU Vᵀ + U dVᵀ the Hessian-vector
/// product is (D V + R dV, Dᵀ U + Rᵀ dU). For Y of rank r the minimisers are the orbit
/// (U G, V G⁻ᵀ), G ∈ GL(r): r² zero Hessian eigenvalues at each (P5 E3).
#[derive(Debug, Clone)]
pub struct MatrixFactorization {
    y: Vec<f64>,
    m: usize,
    n: usize,
    r: usize,
    layout: Layout,
    resid: Vec<f64>,
    d: Vec<f64>,
}

impl MatrixFactorization {
    /// From Y (m × n, row-major) and the inner dimension r.
    ///
    /// # Errors
    ///
    /// Sizes that do not fit, or a rank out of range.
    pub fn new(y: Vec<f64>, m: usize, n: usize, r: usize) -> Result<Self> {
        if m == 0 || n == 0 || r == 0 {
            return Err(Error::invalid(
                "matrix_factorization shape",
                format!("m={m}, n={n}, r={r}"),
                "positive sizes",
            ));
        }
        if y.len() != m * n {
            return Err(Error::shape("matrix_factorization.y", m * n, y.len()));
        }
        let mut layout = Layout::new();
        layout.push("U", &[m, r]);
        layout.push("V", &[n, r]);
        Ok(MatrixFactorization {
            y,
            m,
            n,
            r,
            layout,
            resid: vec![0.0; m * n],
            d: vec![0.0; m * n],
        })
    }

    /// Y (row-major m × n).
    pub fn target(&self) -> &[f64] {
        &self.y
    }

    /// (m, n, r).
    pub fn dims(&self) -> (usize, usize, usize) {
        (self.m, self.n, self.r)
    }

    /// R ← U Vᵀ − Y; returns ½‖R‖².
    fn residual(&mut self, x: &[f64]) -> f64 {
        let (m, n, r) = (self.m, self.n, self.r);
        let (u, v) = x.split_at(m * r);
        self.resid.copy_from_slice(&self.y);
        gemm(
            &mut self.resid,
            m,
            n,
            r,
            1.0,
            u,
            Trans::N,
            v,
            Trans::T,
            -1.0,
        );
        0.5 * self.resid.iter().map(|e| e * e).sum::<f64>()
    }
}

impl Function for MatrixFactorization {
    fn dim(&self) -> usize {
        (self.m + self.n) * self.r
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.residual(x)
    }
}

impl Gradient for MatrixFactorization {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let f = self.residual(x);
        let (m, n, r) = (self.m, self.n, self.r);
        let (u, v) = x.split_at(m * r);
        let (gu, gv) = g.split_at_mut(m * r);
        gemm(gu, m, r, n, 1.0, &self.resid, Trans::N, v, Trans::N, 0.0);
        gemm(gv, n, r, m, 1.0, &self.resid, Trans::T, u, Trans::N, 0.0);
        f
    }
}

impl HessianVector for MatrixFactorization {
    fn hvp(&mut self, x: &[f64], dir: &[f64], out: &mut [f64]) {
        self.residual(x);
        let (m, n, r) = (self.m, self.n, self.r);
        let (u, v) = x.split_at(m * r);
        let (du, dv) = dir.split_at(m * r);
        let (hu, hv) = out.split_at_mut(m * r);
        gemm(&mut self.d, m, n, r, 1.0, du, Trans::N, v, Trans::T, 0.0);
        gemm(&mut self.d, m, n, r, 1.0, u, Trans::N, dv, Trans::T, 1.0);
        gemm(hu, m, r, n, 1.0, &self.d, Trans::N, v, Trans::N, 0.0);
        gemm(hu, m, r, n, 1.0, &self.resid, Trans::N, dv, Trans::N, 1.0);
        gemm(hv, n, r, m, 1.0, &self.d, Trans::T, u, Trans::N, 0.0);
        gemm(hv, n, r, m, 1.0, &self.resid, Trans::T, du, Trans::N, 1.0);
    }
}

impl Problem for MatrixFactorization {
    fn name(&self) -> String {
        format!("matrix_factorization({}x{}, r={})", self.m, self.n, self.r)
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(function, gradient, hvp);
}
