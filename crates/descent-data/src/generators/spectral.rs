//! Gaussian data with a chosen covariance spectrum and a relevant/irrelevant split (P1 §2.2).

use super::*;

/// The orthonormal basis U of a [`SpectralGaussian`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// U = I: the first `relevant` coordinates are the relevant subspace.
    Identity,
    /// A random orthogonal U (QR of a Gaussian matrix, signs fixed so R has a positive diagonal:
    /// Haar-distributed).
    Random,
}

/// What a [`SpectralGaussian`] sample carries as its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpectralTarget {
    /// y = P x with P = U∥ᵀ (m × n, orthonormal rows): P1's supervised target (§2.2).
    Projection,
    /// No target (real targets of dimension 0): unsupervised models (Oja, similarity matching).
    None,
}

/// Zero-mean Gaussian inputs with covariance `C = U diag(λ_1..λ_n) Uᵀ` (P1 §2.2). The first
/// `relevant` = m columns of U span the task-relevant subspace and the remaining n − m the
/// irrelevant one; `x = x∥ + x⊥` with x∥ = U∥U∥ᵀx ([`SpectralGaussian::split`]). P1's default is
/// a flat spectrum λ∥ = 1 on m directions and λ⊥ on n − m ([`SpectralGaussian::flat`]); its MNIST
/// substitute is λ_i ∝ i^(−1) ([`SpectralGaussian::power_law`]).
#[derive(Debug, Clone)]
pub struct SpectralGaussian {
    variances: Vec<f64>,
    std: Vec<f64>,
    relevant: usize,
    /// n × n row-major; column i is direction i. `None` for the identity.
    basis: Option<Vec<f64>>,
    target: SpectralTarget,
}

impl SpectralGaussian {
    /// Variances λ_i of the n directions (≥ 0, finite), the first `relevant` of which are the
    /// relevant subspace; U from `basis`, drawn with `rng` when random.
    ///
    /// # Errors
    ///
    /// An empty spectrum, variances that are negative or not finite, or `relevant` above the dimension, naming the field.
    pub fn new(
        variances: Vec<f64>,
        relevant: usize,
        basis: Basis,
        target: SpectralTarget,
        rng: &mut Rng,
    ) -> Result<SpectralGaussian> {
        let n = variances.len();
        if n == 0 {
            return Err(Error::invalid(
                "gaussian.spectrum",
                "an empty list",
                "at least one variance",
            ));
        }
        if let Some(v) = variances.iter().find(|v| !(**v >= 0.0 && v.is_finite())) {
            return Err(Error::invalid(
                "gaussian.spectrum",
                v,
                "variances that are finite and >= 0",
            ));
        }
        if relevant > n {
            return Err(Error::invalid(
                "gaussian.relevant",
                relevant,
                format!("at most the dimension {n}"),
            ));
        }
        let basis = match basis {
            Basis::Identity => None,
            Basis::Random => Some(random_orthogonal(n, rng)),
        };
        Ok(SpectralGaussian {
            std: variances.iter().map(|v| v.sqrt()).collect(),
            variances,
            relevant,
            basis,
            target,
        })
    }

    /// λ∥ on the `relevant` first directions and λ⊥ on the other `dim − relevant`.
    ///
    /// # Errors
    ///
    /// Variances that are negative or not finite, or `relevant` above `dim`.
    pub fn flat(
        dim: usize,
        relevant: usize,
        var_rel: f64,
        var_irr: f64,
        basis: Basis,
        target: SpectralTarget,
        rng: &mut Rng,
    ) -> Result<SpectralGaussian> {
        let mut v = vec![var_irr; dim];
        v[..relevant.min(dim)].fill(var_rel);
        SpectralGaussian::new(v, relevant, basis, target, rng)
    }

    /// λ_i = scale · i^(−exponent), i = 1..dim (P1 §5's MNIST substitute uses exponent 1).
    ///
    /// # Errors
    ///
    /// A scale or exponent that is negative or not finite, or `relevant` above `dim`.
    pub fn power_law(
        dim: usize,
        relevant: usize,
        scale: f64,
        exponent: f64,
        basis: Basis,
        target: SpectralTarget,
        rng: &mut Rng,
    ) -> Result<SpectralGaussian> {
        if !exponent.is_finite() {
            return Err(Error::invalid(
                "gaussian.power",
                exponent,
                "a finite number",
            ));
        }
        let v = (1..=dim)
            .map(|i| scale * (i as f64).powf(-exponent))
            .collect();
        SpectralGaussian::new(v, relevant, basis, target, rng)
    }

    /// Dimension n.
    pub fn dim(&self) -> usize {
        self.variances.len()
    }

    /// The variances λ_i along the basis directions.
    pub fn variances(&self) -> &[f64] {
        &self.variances
    }

    /// m, the dimension of the relevant subspace.
    pub fn relevant(&self) -> usize {
        self.relevant
    }

    /// U (row-major n × n, columns are the directions).
    pub fn basis(&self) -> Vec<f64> {
        let n = self.dim();
        self.basis.clone().unwrap_or_else(|| {
            let mut u = vec![0.0; n * n];
            (0..n).for_each(|i| u[i * n + i] = 1.0);
            u
        })
    }

    /// The covariance U diag(λ) Uᵀ (row-major n × n).
    pub fn covariance(&self) -> Vec<f64> {
        let n = self.dim();
        let u = self.basis();
        let mut c = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                c[i * n + j] = (0..n)
                    .map(|k| u[i * n + k] * self.variances[k] * u[j * n + k])
                    .sum();
            }
        }
        c
    }

    /// Coordinates of x in the basis, z = Uᵀ x (length n).
    pub fn coordinates(&self, x: &[f64], z: &mut [f64]) {
        let n = self.dim();
        match &self.basis {
            None => z.copy_from_slice(x),
            Some(u) => {
                for (k, zk) in z.iter_mut().enumerate() {
                    *zk = (0..n).map(|i| u[i * n + k] * x[i]).sum();
                }
            }
        }
    }

    /// Splits x into its relevant part x∥ = U∥U∥ᵀx and irrelevant part x⊥ = x − x∥.
    pub fn split(&self, x: &[f64], par: &mut [f64], perp: &mut [f64]) {
        let n = self.dim();
        let m = self.relevant;
        match &self.basis {
            None => {
                par[..m].copy_from_slice(&x[..m]);
                par[m..].fill(0.0);
            }
            Some(u) => {
                par.fill(0.0);
                for k in 0..m {
                    let zk: f64 = (0..n).map(|i| u[i * n + k] * x[i]).sum();
                    for i in 0..n {
                        par[i] += u[i * n + k] * zk;
                    }
                }
            }
        }
        for i in 0..n {
            perp[i] = x[i] - par[i];
        }
    }
}

impl SpectralGaussian {
    /// One sample with any generator (the hot loops of P1's drift runs use
    /// [`descent_core::rng::SimRng`]): x = U (√λ ⊙ ε), ε ~ N(0, I), and y = U∥ᵀ x, the first
    /// `y.len()` entries of √λ ⊙ ε (pass an empty `y` for no target). Never allocates for n ≤ 256.
    #[inline]
    pub fn draw_with<R: rand::Rng + ?Sized>(&self, rng: &mut R, x: &mut [f64], y: &mut [f64]) {
        let n = self.dim();
        match &self.basis {
            None => {
                for (xi, s) in x.iter_mut().zip(&self.std) {
                    *xi = s * descent_core::rng::std_normal(rng);
                }
                let m = y.len();
                y.copy_from_slice(&x[..m]);
            }
            Some(u) => {
                // z = √λ ⊙ ε on the stack up to n = 256 (no allocation per sample), then x = U z
                let mut stack = [0.0f64; 256];
                let mut heap = Vec::new();
                let z: &mut [f64] = if n <= stack.len() {
                    &mut stack[..n]
                } else {
                    heap.resize(n, 0.0);
                    &mut heap
                };
                for (zk, s) in z.iter_mut().zip(&self.std) {
                    *zk = s * descent_core::rng::std_normal(rng);
                }
                for (i, xi) in x.iter_mut().enumerate() {
                    *xi = u[i * n..(i + 1) * n]
                        .iter()
                        .zip(z.iter())
                        .map(|(a, b)| a * b)
                        .sum();
                }
                let m = y.len();
                y.copy_from_slice(&z[..m]);
            }
        }
    }
}

/// A Haar-random orthogonal n × n matrix: QR of a Gaussian matrix with Q's columns signed so
/// that R's diagonal is positive.
fn random_orthogonal(n: usize, rng: &mut Rng) -> Vec<f64> {
    let g: Vec<f64> = (0..n * n).map(|_| normal(rng)).collect();
    let (mut q, r) = descent_core::linalg::qr(&g, n, n);
    for k in 0..n {
        if r[k * n + k] < 0.0 {
            for i in 0..n {
                q[i * n + k] = -q[i * n + k];
            }
        }
    }
    q
}

impl Generator for SpectralGaussian {
    fn name(&self) -> String {
        format!(
            "gaussian(dim={}, relevant={}, spectrum={:?}, basis={})",
            self.dim(),
            self.relevant,
            self.variances,
            if self.basis.is_some() {
                "random"
            } else {
                "identity"
            }
        )
    }
    fn n_features(&self) -> usize {
        self.dim()
    }
    fn target_shape(&self) -> TargetShape {
        match self.target {
            SpectralTarget::Projection => TargetShape::Real(self.relevant),
            SpectralTarget::None => TargetShape::Real(0),
        }
    }
    /// x = U (√λ ⊙ ε), ε ~ N(0, I); y = U∥ᵀ x = the first m entries of √λ ⊙ ε.
    fn draw(&self, rng: &mut Rng, x: &mut [f64], y: TargetMut<'_>) {
        match y {
            TargetMut::Real(y) => self.draw_with(rng, x, y),
            TargetMut::Class(_) => self.draw_with(rng, x, &mut []),
        }
    }
}
