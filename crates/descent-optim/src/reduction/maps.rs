//! Reduction maps Ψ: ℝ^{n₁} → ℝ^{n₂} ([`super::ReductionMap`]): affine maps (among them the
//! closed-form argmin of least squares and of a quadratic), user maps given by closures, and the
//! elimination of one factor of a matrix factorisation.

use descent_core::linalg::{Cholesky, Trans, gemm, solve_small};
use descent_core::{Error, Result};

use super::{ReductionMap, Split};

/// Ψ(x₁) = c + M x₁ with M of shape n₂ × n₁ (row-major). DΨ = M, no correction term.
#[derive(Debug, Clone, PartialEq)]
pub struct AffineMap {
    name: String,
    n1: usize,
    n2: usize,
    offset: Vec<f64>,
    matrix: Vec<f64>,
    exact_argmin: bool,
}

impl AffineMap {
    /// Ψ(x₁) = `offset` + `matrix`·x₁ for x₁ ∈ ℝ^{n1}; `name` describes it.
    ///
    /// # Errors
    ///
    /// `n1` or n₂ = 0, or a matrix that is not n₂ × `n1`.
    pub fn new(name: &str, offset: Vec<f64>, matrix: Vec<f64>, n1: usize) -> Result<Self> {
        let n2 = offset.len();
        if n1 == 0 || n2 == 0 {
            return Err(Error::invalid(
                "affine map dims",
                format!("n1={n1}, n2={n2}"),
                "positive sizes",
            ));
        }
        if matrix.len() != n2 * n1 {
            return Err(Error::shape("affine map matrix", n2 * n1, matrix.len()));
        }
        Ok(AffineMap {
            name: name.to_string(),
            n1,
            n2,
            offset,
            matrix,
            exact_argmin: false,
        })
    }

    /// Ψ ≡ x₂ (the "constant oracle" of spec E2: x₂ frozen at a value).
    ///
    /// # Errors
    ///
    /// An empty `x2` or `n1` = 0.
    pub fn constant(x2: &[f64], n1: usize) -> Result<Self> {
        Self::new("constant", x2.to_vec(), vec![0.0; x2.len() * n1], n1)
    }

    /// Ψ(x₁) = x₂* + M (x₁ − x₁*): an affine map whose graph passes through x* = (x₁*, x₂*).
    ///
    /// # Errors
    ///
    /// A matrix that is not n₂ × n₁.
    pub fn through(name: &str, x1_star: &[f64], x2_star: &[f64], matrix: Vec<f64>) -> Result<Self> {
        let (n1, n2) = (x1_star.len(), x2_star.len());
        if matrix.len() != n2 * n1 {
            return Err(Error::shape("affine map matrix", n2 * n1, matrix.len()));
        }
        let mut offset = x2_star.to_vec();
        gemm(
            &mut offset,
            n2,
            1,
            n1,
            -1.0,
            &matrix,
            Trans::N,
            x1_star,
            Trans::N,
            1.0,
        );
        Self::new(name, offset, matrix, n1)
    }

    /// The exact argmin over x₂ of ½‖A x − b‖² (A row-major m × n, columns split by `split`):
    /// Ψ(x₁) = A₂⁺(b − A₁x₁) = (A₂ᵀA₂)⁻¹A₂ᵀ(b − A₁x₁) (spec E2 (a)). Errors when A₂ does not
    /// have full column rank (the argmin is then not unique).
    ///
    /// # Errors
    ///
    /// Sizes that do not fit, or A₂ without full column rank.
    pub fn least_squares_argmin(
        a: &[f64],
        m: usize,
        n: usize,
        b: &[f64],
        split: &Split,
    ) -> Result<Self> {
        if a.len() != m * n || b.len() != m {
            return Err(Error::shape(
                "least-squares argmin (A, b)",
                format!("{} and {m}", m * n),
                format!("{} and {}", a.len(), b.len()),
            ));
        }
        let (i1, i2) = (split.x1_indices(), split.x2_indices());
        let (n1, n2) = (i1.len(), i2.len());
        if n1 + n2 != n {
            return Err(Error::shape("least-squares argmin split", n, n1 + n2));
        }
        let columns = |idx: &[usize]| -> Vec<f64> {
            let k = idx.len();
            let mut out = vec![0.0; m * k];
            for r in 0..m {
                for (j, &c) in idx.iter().enumerate() {
                    out[r * k + j] = a[r * n + c];
                }
            }
            out
        };
        let (a1, a2) = (columns(&i1), columns(&i2));
        let mut gram = vec![0.0; n2 * n2];
        gemm(&mut gram, n2, n2, m, 1.0, &a2, Trans::T, &a2, Trans::N, 0.0);
        // right-hand sides [A₂ᵀA₁ | A₂ᵀb], n₂ × (n₁ + 1)
        let k = n1 + 1;
        let mut a1b = vec![0.0; m * k];
        for r in 0..m {
            a1b[r * k..r * k + n1].copy_from_slice(&a1[r * n1..(r + 1) * n1]);
            a1b[r * k + n1] = b[r];
        }
        let mut rhs = vec![0.0; n2 * k];
        gemm(&mut rhs, n2, k, m, 1.0, &a2, Trans::T, &a1b, Trans::N, 0.0);
        let ch = Cholesky::factor(&gram, n2, 0.0).map_err(|_| {
            Error::invalid(
                "least-squares argmin",
                "A2 (the eliminated columns) of deficient column rank",
                "A2 of full column rank, so that the argmin over x2 is unique",
            )
        })?;
        ch.solve_in_place(&mut rhs, k);
        let mut matrix = vec![0.0; n2 * n1];
        let mut offset = vec![0.0; n2];
        for i in 0..n2 {
            for j in 0..n1 {
                matrix[i * n1 + j] = -rhs[i * k + j];
            }
            offset[i] = rhs[i * k + n1];
        }
        let mut map = Self::new("least-squares argmin", offset, matrix, n1)?;
        map.exact_argmin = true;
        Ok(map)
    }

    /// The exact argmin over x₂ of ½(x − x*)ᵀH(x − x*) (H symmetric n × n, row-major, with
    /// H₂₂ positive definite): Ψ(x₁) = x₂* − H₂₂⁻¹H₂₁(x₁ − x₁*).
    ///
    /// # Errors
    ///
    /// Sizes that do not fit the split, or H₂₂ not positive definite.
    pub fn quadratic_argmin(h: &[f64], x_star: &[f64], split: &Split) -> Result<Self> {
        let n = x_star.len();
        if h.len() != n * n {
            return Err(Error::shape("quadratic argmin Hessian", n * n, h.len()));
        }
        let (i1, i2) = (split.x1_indices(), split.x2_indices());
        let (n1, n2) = (i1.len(), i2.len());
        if n1 + n2 != n {
            return Err(Error::shape("quadratic argmin split", n, n1 + n2));
        }
        let mut h22 = vec![0.0; n2 * n2];
        let mut h21 = vec![0.0; n2 * n1];
        for (i, &r) in i2.iter().enumerate() {
            for (j, &c) in i2.iter().enumerate() {
                h22[i * n2 + j] = h[r * n + c];
            }
            for (j, &c) in i1.iter().enumerate() {
                h21[i * n1 + j] = h[r * n + c];
            }
        }
        let ch = Cholesky::factor(&h22, n2, 0.0).map_err(|_| {
            Error::invalid(
                "quadratic argmin",
                "H22 not positive definite",
                "H22 positive definite, so that the argmin over x2 is unique",
            )
        })?;
        ch.solve_in_place(&mut h21, n1);
        h21.iter_mut().for_each(|v| *v = -*v);
        let x1: Vec<f64> = i1.iter().map(|&i| x_star[i]).collect();
        let x2: Vec<f64> = i2.iter().map(|&i| x_star[i]).collect();
        let mut map = Self::through("quadratic argmin", &x1, &x2, h21)?;
        map.exact_argmin = true;
        Ok(map)
    }

    /// M = DΨ (row-major n₂ × n₁).
    pub fn matrix(&self) -> &[f64] {
        &self.matrix
    }

    /// c = Ψ(0).
    pub fn offset(&self) -> &[f64] {
        &self.offset
    }
}

impl ReductionMap for AffineMap {
    fn dims(&self) -> (usize, usize) {
        (self.n1, self.n2)
    }
    fn name(&self) -> String {
        self.name.clone()
    }
    fn is_exact_argmin(&self) -> bool {
        self.exact_argmin
    }
    fn is_affine(&self) -> bool {
        true
    }
    fn map(&mut self, x1: &[f64], x2: &mut [f64]) {
        x2.copy_from_slice(&self.offset);
        gemm(
            x2,
            self.n2,
            1,
            self.n1,
            1.0,
            &self.matrix,
            Trans::N,
            x1,
            Trans::N,
            1.0,
        );
    }
    fn jacobian(&mut self, _x1: &[f64], jac: &mut [f64]) {
        jac.copy_from_slice(&self.matrix);
    }
}

/// `map(x₁, x₂)`: writes Ψ(x₁).
pub type MapFn = Box<dyn FnMut(&[f64], &mut [f64]) + Send>;
/// `curvature(x₁, w, v, out)`: writes Σₖ wₖ ∇²Ψₖ(x₁)·v.
pub type CurvatureFn = Box<dyn FnMut(&[f64], &[f64], &[f64], &mut [f64]) + Send>;

/// A user map given by closures: Ψ, its Jacobian DΨ (row-major n₂ × n₁) and optionally the
/// contraction Σₖ wₖ∇²Ψₖ·v of its second derivatives (needed for ∇²F of a nonlinear map that
/// is not an exact argmin).
pub struct FnMap {
    name: String,
    n1: usize,
    n2: usize,
    map: MapFn,
    jacobian: MapFn,
    curvature: Option<CurvatureFn>,
    exact_argmin: bool,
}

impl FnMap {
    /// Ψ and DΨ as closures for x₁ ∈ ℝ^{n1}, x₂ ∈ ℝ^{n2}.
    pub fn new(
        name: &str,
        n1: usize,
        n2: usize,
        map: impl FnMut(&[f64], &mut [f64]) + Send + 'static,
        jacobian: impl FnMut(&[f64], &mut [f64]) + Send + 'static,
    ) -> Self {
        FnMap {
            name: name.to_string(),
            n1,
            n2,
            map: Box::new(map),
            jacobian: Box::new(jacobian),
            curvature: None,
            exact_argmin: false,
        }
    }

    /// Adds the second-derivative contraction Σₖ wₖ∇²Ψₖ(x₁)·v.
    pub fn with_curvature(
        mut self,
        curvature: impl FnMut(&[f64], &[f64], &[f64], &mut [f64]) + Send + 'static,
    ) -> Self {
        self.curvature = Some(Box::new(curvature));
        self
    }

    /// Declares Ψ the exact minimiser of f over x₂ (the caller's promise: the envelope gradient
    /// is then used and the correction term dropped).
    pub fn exact_argmin(mut self) -> Self {
        self.exact_argmin = true;
        self
    }
}

impl ReductionMap for FnMap {
    fn dims(&self) -> (usize, usize) {
        (self.n1, self.n2)
    }
    fn name(&self) -> String {
        self.name.clone()
    }
    fn is_exact_argmin(&self) -> bool {
        self.exact_argmin
    }
    fn has_curvature(&self) -> bool {
        self.curvature.is_some()
    }
    fn map(&mut self, x1: &[f64], x2: &mut [f64]) {
        (self.map)(x1, x2)
    }
    fn jacobian(&mut self, x1: &[f64], jac: &mut [f64]) {
        (self.jacobian)(x1, jac)
    }
    fn curvature(&mut self, x1: &[f64], w: &[f64], v: &[f64], out: &mut [f64]) {
        match &mut self.curvature {
            Some(c) => c(x1, w, v, out),
            None => out.fill(f64::NAN),
        }
    }
}

/// Eliminating V from f(U, V) = ½‖UVᵀ − Y‖²_F: Ψ(U) = YᵀU(UᵀU)⁻¹, the exact argmin over V
/// (variable projection; spec E3), so F(U) = ½‖(I − P_U)Y‖². U (m × r) and V (n × r) are
/// row-major, as [`descent_core::testfns::MatrixFactorization`] lays them out. Where UᵀU is
/// singular Ψ is undefined and NaN is written.
#[derive(Debug, Clone)]
pub struct FactorElimination {
    y: Vec<f64>,
    m: usize,
    n: usize,
    r: usize,
    gram: Vec<f64>,
    gram_inv: Vec<f64>,
    yt_u: Vec<f64>,
    v: Vec<f64>,
    p: Vec<f64>,
}

impl FactorElimination {
    /// For Y (row-major m × n) and rank r.
    ///
    /// # Errors
    ///
    /// A `y` that is not m × n, or a rank r outside 1..=min(m, n).
    pub fn new(y: &[f64], m: usize, n: usize, r: usize) -> Result<Self> {
        if m == 0 || n == 0 || r == 0 {
            return Err(Error::invalid(
                "factor elimination shape",
                format!("m={m}, n={n}, r={r}"),
                "positive sizes",
            ));
        }
        if y.len() != m * n {
            return Err(Error::shape("factor elimination Y", m * n, y.len()));
        }
        Ok(FactorElimination {
            y: y.to_vec(),
            m,
            n,
            r,
            gram: vec![0.0; r * r],
            gram_inv: vec![0.0; r * r],
            yt_u: vec![0.0; n * r],
            v: vec![0.0; n * r],
            p: vec![0.0; n * r],
        })
    }

    /// gram_inv ← (UᵀU)⁻¹, yt_u ← YᵀU, v ← YᵀU(UᵀU)⁻¹; false when UᵀU is singular.
    fn solve(&mut self, u: &[f64]) -> bool {
        let (m, n, r) = (self.m, self.n, self.r);
        gemm(&mut self.gram, r, r, m, 1.0, u, Trans::T, u, Trans::N, 0.0);
        self.gram_inv.fill(0.0);
        for i in 0..r {
            self.gram_inv[i * r + i] = 1.0;
        }
        if !solve_small(&mut self.gram, &mut self.gram_inv, r) {
            return false;
        }
        gemm(
            &mut self.yt_u,
            n,
            r,
            m,
            1.0,
            &self.y,
            Trans::T,
            u,
            Trans::N,
            0.0,
        );
        gemm(
            &mut self.v,
            n,
            r,
            r,
            1.0,
            &self.yt_u,
            Trans::N,
            &self.gram_inv,
            Trans::N,
            0.0,
        );
        true
    }
}

impl ReductionMap for FactorElimination {
    fn dims(&self) -> (usize, usize) {
        (self.m * self.r, self.n * self.r)
    }
    fn name(&self) -> String {
        "factor elimination V = YᵀU(UᵀU)⁻¹".into()
    }
    fn is_exact_argmin(&self) -> bool {
        true
    }
    fn map(&mut self, u: &[f64], v: &mut [f64]) {
        if self.solve(u) {
            v.copy_from_slice(&self.v);
        } else {
            v.fill(f64::NAN);
        }
    }
    /// dV = (Yᵀ dU − V (dUᵀU + UᵀdU)) (UᵀU)⁻¹, column (c, d) for dU = e_c e_dᵀ.
    fn jacobian(&mut self, u: &[f64], jac: &mut [f64]) {
        let (m, n, r) = (self.m, self.n, self.r);
        if !self.solve(u) {
            jac.fill(f64::NAN);
            return;
        }
        let n1 = m * r;
        for c in 0..m {
            for d in 0..r {
                // P = Yᵀ dU − V S with S = e_d U[c,:] + U[c,:]ᵀ e_dᵀ
                for a in 0..n {
                    for b in 0..r {
                        let mut s = if b == d { self.y[c * n + a] } else { 0.0 };
                        // (V S)[a, b] = V[a, d]·U[c, b] + δ_{bd}·Σₖ V[a, k]·U[c, k]
                        s -= self.v[a * r + d] * u[c * r + b];
                        if b == d {
                            let vu: f64 = (0..r).map(|k| self.v[a * r + k] * u[c * r + k]).sum();
                            s -= vu;
                        }
                        self.p[a * r + b] = s;
                    }
                }
                let col = c * r + d;
                for a in 0..n {
                    for b in 0..r {
                        let dv: f64 = (0..r)
                            .map(|k| self.p[a * r + k] * self.gram_inv[k * r + b])
                            .sum();
                        jac[(a * r + b) * n1 + col] = dv;
                    }
                }
            }
        }
    }
}
