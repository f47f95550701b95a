//! Test problems shared by every crate's tests, the optimizer conformance suite and the paper
//! experiments (including P4's minimax [`CosineMinimax`] and bilevel [`CosineBilevel`]), and the
//! [`GaussianGradientNoise`] adapter that makes any of them stochastic.

use rand_distr::{Distribution, StandardNormal};

mod hierarchical;
mod matrix_quadratic;
mod noisy;
mod reduction;

pub use hierarchical::{
    BilevelFiniteDiff, CosineBilevel, CosineMinimax, finite_diff_bilevel, finite_diff_minimax,
};
pub use matrix_quadratic::MatrixQuadratic;
pub use noisy::GaussianGradientNoise;
pub use reduction::{LeastSquares, MatrixFactorization};

use crate::linalg;
use crate::oracle::{Function, Gradient, HessianVector, Problem};
use crate::{Error, Layout, Result, RngStreams};

/// The Rosenbrock function in n ≥ 2 dimensions,
/// f(x) = Σᵢ₌₁ⁿ⁻¹ [ a (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)² ] with a = 100, minimum 0 at x = 1.
/// Optionally with a 2-D Layout (rows × cols = n) so matrix-aware methods (Muon) see a matrix.
#[derive(Debug, Clone)]
pub struct Rosenbrock {
    /// The valley's steepness a (100 classically).
    pub a: f64,
    layout: Layout,
}

impl Rosenbrock {
    /// Rosenbrock in `n ≥ 2` dimensions with a flat layout.
    ///
    /// # Errors
    ///
    /// n < 2.
    pub fn new(n: usize) -> Result<Self> {
        if n < 2 {
            return Err(Error::invalid("rosenbrock.dim", n, "at least 2"));
        }
        Ok(Rosenbrock {
            a: 100.0,
            layout: Layout::flat(n),
        })
    }

    /// Rosenbrock in `rows·cols` dimensions laid out as one `rows × cols` matrix.
    ///
    /// # Errors
    ///
    /// rows·cols < 2.
    pub fn matrix(rows: usize, cols: usize) -> Result<Self> {
        let mut r = Self::new(rows * cols)?;
        r.layout = Layout::matrix(rows, cols);
        Ok(r)
    }

    /// The classical start (−1.2, 1, −1.2, 1, ...).
    pub fn start(&self) -> Vec<f64> {
        (0..self.layout.len())
            .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
            .collect()
    }
}

impl Function for Rosenbrock {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        x.windows(2)
            .map(|w| self.a * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
            .sum()
    }
}

impl Gradient for Rosenbrock {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        g.fill(0.0);
        let mut f = 0.0;
        for i in 0..x.len() - 1 {
            let t = x[i + 1] - x[i] * x[i];
            f += self.a * t * t + (1.0 - x[i]).powi(2);
            g[i] += -4.0 * self.a * t * x[i] - 2.0 * (1.0 - x[i]);
            g[i + 1] += 2.0 * self.a * t;
        }
        f
    }
}

impl HessianVector for Rosenbrock {
    fn hvp(&mut self, x: &[f64], v: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        let a = self.a;
        for i in 0..x.len() - 1 {
            // term a(x_{i+1} − x_i²)² + (1 − x_i)²
            let t = x[i + 1] - x[i] * x[i];
            let hii = -4.0 * a * t + 8.0 * a * x[i] * x[i] + 2.0;
            let hij = -4.0 * a * x[i];
            let hjj = 2.0 * a;
            out[i] += hii * v[i] + hij * v[i + 1];
            out[i + 1] += hij * v[i] + hjj * v[i + 1];
        }
    }
}

impl Problem for Rosenbrock {
    fn name(&self) -> String {
        format!("rosenbrock(dim={})", self.layout.len())
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(function, gradient, hvp);
}

/// A quadratic f(x) = ½ (x − x*)ᵀ A (x − x*) with A = Q diag(λ) Qᵀ of a chosen spectrum λ and a
/// seeded random rotation Q (or Q = I). Minimum 0 at x*.
#[derive(Debug, Clone)]
pub struct Quadratic {
    /// Row-major n × n Hessian.
    pub a: Vec<f64>,
    /// The eigenvalues λᵢ of the diagonal Hessian.
    pub eigenvalues: Vec<f64>,
    /// The minimizer x*.
    pub minimizer: Vec<f64>,
    layout: Layout,
    scratch: Vec<f64>,
}

impl Quadratic {
    /// Diagonal A = diag(λ) with minimizer `x_star`.
    ///
    /// # Errors
    ///
    /// Lengths that differ, or eigenvalues that are not finite.
    pub fn diagonal(eigenvalues: &[f64], x_star: &[f64]) -> Result<Self> {
        let n = eigenvalues.len();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            a[i * n + i] = eigenvalues[i];
        }
        Self::from_hessian(a, eigenvalues.to_vec(), x_star)
    }

    /// A = Q diag(λ) Qᵀ with Q the orthogonal factor of a seeded Gaussian matrix.
    ///
    /// # Errors
    ///
    /// Lengths that differ, or eigenvalues that are not finite.
    pub fn rotated(eigenvalues: &[f64], x_star: &[f64], seed: u64) -> Result<Self> {
        let n = eigenvalues.len();
        let mut rng = RngStreams::new(seed).stream("quadratic");
        let g: Vec<f64> = (0..n * n)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let (q, _) = linalg::qr(&g, n, n);
        let mut ql = q.clone();
        for i in 0..n {
            for j in 0..n {
                ql[i * n + j] *= eigenvalues[j];
            }
        }
        let a = linalg::matmul(&ql, linalg::Trans::N, &q, linalg::Trans::T, n, n, n);
        Self::from_hessian(a, eigenvalues.to_vec(), x_star)
    }

    /// From a symmetric n × n Hessian `a` (row-major) and the minimizer `x_star`; the
    /// eigenvalues are computed. Errors name a wrong length or an asymmetric `a`.
    ///
    /// # Errors
    ///
    /// A matrix that is not n × n for n = `x_star.len()`.
    pub fn from_matrix(a: Vec<f64>, x_star: &[f64]) -> Result<Self> {
        let n = x_star.len();
        if a.len() != n * n {
            return Err(Error::shape("quadratic Hessian", n * n, a.len()));
        }
        let scale = a.iter().fold(0.0_f64, |m, v| m.max(v.abs())).max(1.0);
        for i in 0..n {
            for j in 0..i {
                if (a[i * n + j] - a[j * n + i]).abs() > 1e-12 * scale {
                    return Err(Error::invalid(
                        format!("quadratic Hessian entry ({i}, {j})"),
                        a[i * n + j],
                        format!("the symmetric entry {}", a[j * n + i]),
                    ));
                }
            }
        }
        let (eigenvalues, _) = linalg::sym_eigen(&a, n)?;
        Self::from_hessian(a, eigenvalues, x_star)
    }

    /// The same quadratic with named blocks (their sizes must add up to the dimension), so that
    /// a block-wise method or a reduction sees x = (x₁, x₂).
    ///
    /// # Errors
    ///
    /// A layout whose length is not the problem's dimension.
    pub fn with_layout(mut self, layout: Layout) -> Result<Self> {
        layout.check_len("quadratic layout", self.minimizer.len())?;
        self.layout = layout;
        Ok(self)
    }

    fn from_hessian(a: Vec<f64>, eigenvalues: Vec<f64>, x_star: &[f64]) -> Result<Self> {
        let n = eigenvalues.len();
        if n == 0 {
            return Err(Error::invalid(
                "quadratic.eigenvalues",
                "[]",
                "at least one eigenvalue",
            ));
        }
        if x_star.len() != n {
            return Err(Error::shape("quadratic minimizer", n, x_star.len()));
        }
        Ok(Quadratic {
            a,
            eigenvalues,
            minimizer: x_star.to_vec(),
            layout: Layout::flat(n),
            scratch: vec![0.0; n],
        })
    }

    fn apply(&self, v: &[f64], out: &mut [f64]) {
        let n = self.minimizer.len();
        for (o, row) in out.iter_mut().zip(self.a.chunks_exact(n)) {
            *o = row.iter().zip(v).map(|(a, b)| a * b).sum();
        }
    }
}

impl Function for Quadratic {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        let n = self.minimizer.len();
        for (di, (xi, si)) in self.scratch.iter_mut().zip(x.iter().zip(&self.minimizer)) {
            *di = xi - si;
        }
        let d = &self.scratch;
        0.5 * (0..n)
            .map(|i| d[i] * (0..n).map(|j| self.a[i * n + j] * d[j]).sum::<f64>())
            .sum::<f64>()
    }
}

impl Gradient for Quadratic {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        for (di, (xi, si)) in self.scratch.iter_mut().zip(x.iter().zip(&self.minimizer)) {
            *di = xi - si;
        }
        self.apply(&self.scratch, g);
        0.5 * self
            .scratch
            .iter()
            .zip(g.iter())
            .map(|(a, b)| a * b)
            .sum::<f64>()
    }
}

impl HessianVector for Quadratic {
    fn hvp(&mut self, _x: &[f64], v: &[f64], out: &mut [f64]) {
        self.apply(v, out);
    }
}

impl Problem for Quadratic {
    fn name(&self) -> String {
        format!("quadratic(dim={})", self.layout.len())
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(function, gradient, hvp);
}

/// The matrix parabola f(W) = ½ ‖A (W − W*)‖²_F for W ∈ ℝ^{rows×cols}, with A = I + G/√rows for a
/// seeded Gaussian G (so the curvature differs across directions) and a seeded target W*.
/// Minimum 0 at W*. Its Layout is one `rows × cols` matrix block.
#[derive(Debug, Clone)]
pub struct MatrixParabola {
    /// A, row-major rows × rows.
    pub a: Vec<f64>,
    /// W*, row-major rows × cols.
    pub target: Vec<f64>,
    rows: usize,
    cols: usize,
    layout: Layout,
    diff: Vec<f64>,
    prod: Vec<f64>,
}

impl MatrixParabola {
    /// A seeded instance.
    ///
    /// # Errors
    ///
    /// A size of 0.
    pub fn new(rows: usize, cols: usize, seed: u64) -> Result<Self> {
        if rows == 0 || cols == 0 {
            return Err(Error::invalid(
                "matrix_parabola.shape",
                format!("{rows}x{cols}"),
                "both sides >= 1",
            ));
        }
        let streams = RngStreams::new(seed);
        let mut rng = streams.stream("matrix-parabola");
        let scale = 1.0 / (rows as f64).sqrt();
        let mut a: Vec<f64> = (0..rows * rows)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut rng);
                0.5 * scale * z
            })
            .collect();
        for i in 0..rows {
            a[i * rows + i] += 1.0;
        }
        let target: Vec<f64> = (0..rows * cols)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        Ok(MatrixParabola {
            a,
            target,
            rows,
            cols,
            layout: Layout::matrix(rows, cols),
            diff: vec![0.0; rows * cols],
            prod: vec![0.0; rows * cols],
        })
    }

    /// prod = A · v (v is rows × cols).
    fn apply_a(a: &[f64], v: &[f64], prod: &mut [f64], r: usize, c: usize) {
        for i in 0..r {
            for j in 0..c {
                prod[i * c + j] = (0..r).map(|k| a[i * r + k] * v[k * c + j]).sum();
            }
        }
    }

    /// out = Aᵀ · v.
    fn apply_at(a: &[f64], v: &[f64], out: &mut [f64], r: usize, c: usize) {
        for i in 0..r {
            for j in 0..c {
                out[i * c + j] = (0..r).map(|k| a[k * r + i] * v[k * c + j]).sum();
            }
        }
    }
}

impl Function for MatrixParabola {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        for (d, (xi, ti)) in self.diff.iter_mut().zip(x.iter().zip(&self.target)) {
            *d = xi - ti;
        }
        Self::apply_a(&self.a, &self.diff, &mut self.prod, self.rows, self.cols);
        0.5 * self.prod.iter().map(|p| p * p).sum::<f64>()
    }
}

impl Gradient for MatrixParabola {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let f = self.value(x);
        Self::apply_at(&self.a, &self.prod, g, self.rows, self.cols);
        f
    }
}

impl HessianVector for MatrixParabola {
    fn hvp(&mut self, _x: &[f64], v: &[f64], out: &mut [f64]) {
        Self::apply_a(&self.a, v, &mut self.prod, self.rows, self.cols);
        Self::apply_at(&self.a, &self.prod, out, self.rows, self.cols);
    }
}

impl Problem for MatrixParabola {
    fn name(&self) -> String {
        format!("matrix-parabola({}x{})", self.rows, self.cols)
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(function, gradient, hvp);
}

/// An affine loss f(x) = aᵀx + b: its graph is a hyperplane, so every method that follows the
/// graph (RBO, P6 R2) must move exactly like gradient descent on it.
#[derive(Debug, Clone)]
pub struct Affine {
    a: Vec<f64>,
    b: f64,
    layout: Layout,
}

impl Affine {
    /// f(x) = aᵀx + b in `a.len() ≥ 1` dimensions.
    ///
    /// # Errors
    ///
    /// An empty `a`.
    pub fn new(a: &[f64], b: f64) -> Result<Self> {
        if a.is_empty() {
            return Err(Error::invalid("affine.a", "[]", "at least one coefficient"));
        }
        Ok(Affine {
            a: a.to_vec(),
            b,
            layout: Layout::flat(a.len()),
        })
    }
}

impl Function for Affine {
    fn dim(&self) -> usize {
        self.a.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.a.iter().zip(x).map(|(a, x)| a * x).sum::<f64>() + self.b
    }
}

impl Gradient for Affine {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        g.copy_from_slice(&self.a);
        self.value(x)
    }
}

impl HessianVector for Affine {
    fn hvp(&mut self, _x: &[f64], _v: &[f64], out: &mut [f64]) {
        out.fill(0.0);
    }
}

impl Problem for Affine {
    fn name(&self) -> String {
        format!("affine({})", self.a.len())
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(function, gradient, hvp);
}

/// A separable quadratic f(x) = ½ Σᵢ wᵢ xᵢ² + Σᵢ bᵢ xᵢ (wᵢ of any sign), O(d) per evaluation: the
/// zeroth-order tests' quadratics (P10 Z1, Z2, Z4), where the central difference is exact.
#[derive(Debug, Clone)]
pub struct SeparableQuadratic {
    /// The curvatures wᵢ.
    pub w: Vec<f64>,
    /// The linear coefficients bᵢ.
    pub b: Vec<f64>,
    layout: Layout,
}

impl SeparableQuadratic {
    /// Curvatures `w` and linear term `b` of equal length ≥ 1.
    ///
    /// # Errors
    ///
    /// Lengths that differ or are 0.
    pub fn new(w: &[f64], b: &[f64]) -> Result<Self> {
        if w.is_empty() {
            return Err(Error::invalid(
                "separable quadratic.w",
                "[]",
                "at least one entry",
            ));
        }
        if b.len() != w.len() {
            return Err(Error::shape("separable quadratic.b", w.len(), b.len()));
        }
        Ok(SeparableQuadratic {
            w: w.to_vec(),
            b: b.to_vec(),
            layout: Layout::flat(w.len()),
        })
    }
}

impl Function for SeparableQuadratic {
    fn dim(&self) -> usize {
        self.w.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        x.iter()
            .zip(self.w.iter().zip(&self.b))
            .map(|(xi, (wi, bi))| xi * (0.5 * wi * xi + bi))
            .sum()
    }
}

impl Gradient for SeparableQuadratic {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        for i in 0..x.len() {
            g[i] = self.w[i] * x[i] + self.b[i];
        }
        self.value(x)
    }
}

impl HessianVector for SeparableQuadratic {
    fn hvp(&mut self, _x: &[f64], v: &[f64], out: &mut [f64]) {
        for i in 0..v.len() {
            out[i] = self.w[i] * v[i];
        }
    }
}

impl Problem for SeparableQuadratic {
    fn name(&self) -> String {
        format!("separable-quadratic(dim={})", self.w.len())
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(function, gradient, hvp);
}

/// f(x) = Πᵢ xᵢ, the authors' "Synthetic B": at a point with x₀ = 0 only ∂₀f is non-zero
/// (a 1-sparse gradient).
#[derive(Debug, Clone)]
pub struct Product {
    layout: Layout,
}

impl Product {
    /// The product of `n ≥ 1` coordinates.
    ///
    /// # Errors
    ///
    /// n = 0.
    pub fn new(n: usize) -> Result<Self> {
        if n == 0 {
            return Err(Error::invalid("product.dim", 0, "at least 1"));
        }
        Ok(Product {
            layout: Layout::flat(n),
        })
    }
}

impl Function for Product {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        x.iter().product()
    }
}

impl Gradient for Product {
    /// ∂ᵢf = Π_{j≠i} xⱼ, by prefix and suffix products (exact when some xⱼ = 0).
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let mut prefix = 1.0;
        for i in 0..x.len() {
            g[i] = prefix;
            prefix *= x[i];
        }
        let mut suffix = 1.0;
        for i in (0..x.len()).rev() {
            g[i] *= suffix;
            suffix *= x[i];
        }
        prefix
    }
}

impl Problem for Product {
    fn name(&self) -> String {
        format!("product(dim={})", self.layout.len())
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(function, gradient);
}

/// The separable nonconvex f(x) = Σᵢ (2 cos xᵢ + xᵢ²/2) of P10's Z4: stationary points per
/// coordinate at 0 (a maximum) and ±1.8955 (minima); ∇f is 1 + 2 = 3-Lipschitz.
#[derive(Debug, Clone)]
pub struct CosineWell {
    layout: Layout,
}

impl CosineWell {
    /// In `n ≥ 1` dimensions.
    ///
    /// # Errors
    ///
    /// n = 0.
    pub fn new(n: usize) -> Result<Self> {
        if n == 0 {
            return Err(Error::invalid("cosine-well.dim", 0, "at least 1"));
        }
        Ok(CosineWell {
            layout: Layout::flat(n),
        })
    }
}

impl Function for CosineWell {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        x.iter().map(|v| 2.0 * v.cos() + 0.5 * v * v).sum()
    }
}

impl Gradient for CosineWell {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        for (gi, v) in g.iter_mut().zip(x) {
            *gi = v - 2.0 * v.sin();
        }
        self.value(x)
    }
}

impl HessianVector for CosineWell {
    fn hvp(&mut self, x: &[f64], v: &[f64], out: &mut [f64]) {
        for i in 0..x.len() {
            out[i] = (1.0 - 2.0 * x[i].cos()) * v[i];
        }
    }
}

impl Problem for CosineWell {
    fn name(&self) -> String {
        format!("cosine-well(dim={})", self.layout.len())
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(function, gradient, hvp);
}

/// Central finite-difference gradient of `f` at `x` with step `h` (for tests).
pub fn finite_diff_grad(f: &mut dyn Function, x: &[f64], h: f64) -> Vec<f64> {
    let mut xp = x.to_vec();
    (0..x.len())
        .map(|i| {
            xp[i] = x[i] + h;
            let fp = f.value(&xp);
            xp[i] = x[i] - h;
            let fm = f.value(&xp);
            xp[i] = x[i];
            (fp - fm) / (2.0 * h)
        })
        .collect()
}

/// Central finite-difference Hessian-vector product, (∇f(x+hv) − ∇f(x−hv)) / 2h (for tests).
pub fn finite_diff_hvp(f: &mut dyn Gradient, x: &[f64], v: &[f64], h: f64) -> Vec<f64> {
    let n = x.len();
    let xp: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + h * b).collect();
    let xm: Vec<f64> = x.iter().zip(v).map(|(a, b)| a - h * b).collect();
    let (mut gp, mut gm) = (vec![0.0; n], vec![0.0; n]);
    f.value_grad(&xp, &mut gp);
    f.value_grad(&xm, &mut gm);
    gp.iter()
        .zip(&gm)
        .map(|(p, m)| (p - m) / (2.0 * h))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stochastic;

    fn check(p: &mut impl HessianVector, x: &[f64]) {
        let n = x.len();
        let mut g = vec![0.0; n];
        let f = p.value_grad(x, &mut g);
        assert!((f - p.value(x)).abs() <= 1e-12 * f.abs().max(1.0));
        let fd = finite_diff_grad(p, x, 1e-6);
        for (a, b) in g.iter().zip(&fd) {
            assert!(
                (a - b).abs() < 1e-5 * a.abs().max(1.0),
                "grad {a} vs fd {b}"
            );
        }
        let v: Vec<f64> = (0..n).map(|i| ((i * 7 + 3) % 5) as f64 - 2.0).collect();
        let mut hv = vec![0.0; n];
        p.hvp(x, &v, &mut hv);
        let fd = finite_diff_hvp(p, x, &v, 1e-6);
        for (a, b) in hv.iter().zip(&fd) {
            assert!((a - b).abs() < 1e-4 * a.abs().max(1.0), "hvp {a} vs fd {b}");
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let mut r = Rosenbrock::matrix(2, 3).unwrap();
        assert_eq!(r.layout().blocks()[0].shape, vec![2, 3]);
        let x = r.start();
        check(&mut r, &x);
        assert_eq!(r.value(&[1.0; 6]), 0.0);
        let mut q = Quadratic::rotated(&[1.0, 10.0, 100.0], &[1.0, 2.0, 3.0], 3).unwrap();
        check(&mut q, &[0.3, -0.2, 0.5]);
        // the Hessian has the chosen spectrum
        let (vals, _) = linalg::sym_eigen(&q.a, 3).unwrap();
        for (v, w) in vals.iter().zip([1.0, 10.0, 100.0]) {
            assert!((v - w).abs() < 1e-9 * w);
        }
        let mut m = MatrixParabola::new(3, 4, 9).unwrap();
        let x: Vec<f64> = (0..12).map(|i| i as f64 * 0.1).collect();
        check(&mut m, &x);
        let t = m.target.clone();
        assert!(m.value(&t) < 1e-24);
    }

    #[test]
    fn zeroth_order_toys_match_finite_differences() {
        let mut q = SeparableQuadratic::new(&[0.5, -1.0, 2.0], &[1.0, 0.0, -3.0]).unwrap();
        check(&mut q, &[0.3, -0.7, 1.1]);
        let mut c = CosineWell::new(3).unwrap();
        check(&mut c, &[0.5, -1.2, 2.0]);
        // the minimum of 2cos x + x²/2 at x = 1.8955 (x = 2 sin x)
        let mut g = [0.0];
        CosineWell::new(1)
            .unwrap()
            .value_grad(&[1.895494267], &mut g);
        assert!(g[0].abs() < 1e-8, "{}", g[0]);
        let mut p = Product::new(4).unwrap();
        let x = [0.0, 1.5, -2.0, 0.5];
        let mut g = [0.0; 4];
        assert_eq!(p.value_grad(&x, &mut g), 0.0);
        assert_eq!(g, [-1.5, 0.0, 0.0, 0.0]);
        let x = [0.7, 1.5, -2.0, 0.5];
        p.value_grad(&x, &mut g);
        let fd = finite_diff_grad(&mut p, &x, 1e-6);
        for (a, b) in g.iter().zip(&fd) {
            assert!((a - b).abs() < 1e-8, "{a} vs {b}");
        }
        assert!(SeparableQuadratic::new(&[1.0], &[]).is_err());
        assert!(
            Product::new(0)
                .unwrap_err()
                .to_string()
                .contains("product.dim")
        );
    }

    #[test]
    fn matrix_quadratic_and_affine_match_finite_differences() {
        for n in [3, 10] {
            let streams = RngStreams::new(4);
            let mut q = MatrixQuadratic::log_spectrum(
                n,
                100.0,
                0.5,
                &mut streams.stream("u"),
                &mut streams.stream("w"),
            )
            .unwrap();
            let x: Vec<f64> = (0..n * n).map(|i| (i as f64 * 0.37).sin()).collect();
            check(&mut q, &x);
            assert_eq!(q.layout().blocks()[0].shape, vec![n, n]);
            let t = q.target().to_vec();
            assert!(q.value(&t).abs() < 1e-24);
            // H has the log-spaced spectrum 1 … h_max
            let (vals, _) = linalg::sym_eigen(q.h(), n).unwrap();
            assert!((vals[0] - 1.0).abs() < 1e-9 && (vals[n - 1] - 100.0).abs() < 1e-7);
        }
        let mut a = Affine::new(&[0.7, -0.2, 1.1], 0.3).unwrap();
        check(&mut a, &[0.5, 0.2, -0.1]);
        assert!((a.value(&[1.0, 1.0, 1.0]) - 1.9).abs() < 1e-15);
        assert!(
            Affine::new(&[], 0.0)
                .unwrap_err()
                .to_string()
                .contains("affine.a")
        );
    }

    #[test]
    fn gradient_noise_is_seeded_unbiased_and_resampled() {
        let make = |seed| {
            GaussianGradientNoise::new(Rosenbrock::new(4).unwrap(), 0.5, &RngStreams::new(seed))
                .unwrap()
        };
        let (mut p, mut q) = (make(1), make(1));
        let x = [0.3, -0.2, 0.9, 1.1];
        let (mut g, mut h, mut exact) = ([0.0; 4], [0.0; 4], [0.0; 4]);
        Rosenbrock::new(4).unwrap().value_grad(&x, &mut exact);
        p.value_grad(&x, &mut g);
        assert_eq!(g, exact, "no noise before the first resample");
        let mut mean = [0.0; 4];
        let reps = 20_000;
        for _ in 0..reps {
            p.resample();
            q.resample();
            let f = p.value_grad(&x, &mut g);
            q.value_grad(&x, &mut h);
            assert_eq!(g, h, "one seed, one noise sequence");
            assert_eq!(f, p.value(&x), "values are exact");
            for i in 0..4 {
                mean[i] += (g[i] - exact[i]) / reps as f64;
            }
        }
        for m in mean {
            assert!(m.abs() < 4.0 * 0.5 / (reps as f64).sqrt(), "noise mean {m}");
        }
        let mut r = make(2);
        r.resample();
        r.value_grad(&x, &mut h);
        p.value_grad(&x, &mut g);
        assert_ne!(g, h, "another seed, other noise");
        assert!(p.caps().contains(crate::Caps::STOCHASTIC));
        let e = GaussianGradientNoise::new(Rosenbrock::new(2).unwrap(), -1.0, &RngStreams::new(0))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("noise sigma"), "{e}");
    }

    #[test]
    fn reduction_problems_match_finite_differences() {
        use crate::oracle::Residuals;
        let mut rng = RngStreams::new(5).stream("t");
        let mut randn =
            |k: usize| -> Vec<f64> { (0..k).map(|_| StandardNormal.sample(&mut rng)).collect() };
        let (m, n) = (5, 7);
        let mut ls = LeastSquares::new(randn(m * n), m, n, randn(m)).unwrap();
        check(&mut ls, &randn(n));
        let mut r = vec![0.0; m];
        let mut jac = vec![0.0; m * n];
        let x = randn(n);
        ls.residual_jacobian(&x, &mut r, &mut jac);
        assert_eq!(jac, ls.a());
        assert!((0.5 * r.iter().map(|v| v * v).sum::<f64>() - ls.value(&x)).abs() < 1e-12);
        let mut mf = MatrixFactorization::new(randn(4 * 3), 4, 3, 2).unwrap();
        assert_eq!(mf.layout().blocks()[1].shape, vec![3, 2]);
        check(&mut mf, &randn(14));
        let mut toy = Quadratic::from_matrix(vec![6.0, -4.0, -4.0, 4.0], &[0.0, 0.0]).unwrap();
        assert!((toy.eigenvalues[1] - (5.0 + 17f64.sqrt())).abs() < 1e-12);
        check(&mut toy, &[0.3, -0.4]);
        let mut l = Layout::new();
        l.push("x1", &[1]);
        l.push("x2", &[1]);
        let toy = toy.with_layout(l).unwrap();
        assert_eq!(toy.layout().blocks()[1].name, "x2");
        let e = Quadratic::from_matrix(vec![1.0, 2.0, 0.0, 1.0], &[0.0, 0.0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("quadratic Hessian entry (1, 0)"), "{e}");
        assert!(
            LeastSquares::new(vec![1.0; 6], 2, 3, vec![0.0])
                .unwrap_err()
                .to_string()
                .contains("least_squares.b")
        );
        assert!(
            LeastSquares::new(vec![1.0; 6], 2, 3, vec![0.0; 2])
                .unwrap()
                .with_layout(Layout::flat(4))
                .is_err()
        );
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(
            Rosenbrock::new(1)
                .unwrap_err()
                .to_string()
                .contains("rosenbrock.dim")
        );
        assert!(Quadratic::diagonal(&[1.0, 2.0], &[0.0]).is_err());
    }
}
