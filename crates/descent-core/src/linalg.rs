//! The one module that talks to faer. Matrices are row-major `f64` slices everywhere in descent;
//! faer sees them through strided views, without copies. faer is built without its rayon
//! feature, so every routine runs sequentially (`Par::Seq`) and is deterministic on a machine.

use faer::linalg::solvers::{SolveCore, SolveLstsqCore};
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};

use crate::{Error, Result, par};

/// Whether an operand is used as stored or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trans {
    /// The operand as stored (BLAS `N`).
    N,
    /// The operand transposed (BLAS `T`).
    T,
}

/// A row-major `rows × cols` view.
fn view(a: &[f64], rows: usize, cols: usize) -> MatRef<'_, f64> {
    MatRef::from_row_major_slice(a, rows, cols)
}

fn view_mut(a: &mut [f64], rows: usize, cols: usize) -> MatMut<'_, f64> {
    MatMut::from_row_major_slice_mut(a, rows, cols)
}

/// Below this many multiply-adds [`gemm`] uses plain loops: a faer call costs more than it saves
/// on tiny matrices (DESIGN §4: the drift simulations' 2×10 layers).
pub const SMALL_PRODUCT: usize = 16 * 16 * 16;

/// `C ← α·op(A)·op(B) + β·C`, all row-major; `C` is `m × n`, `op(A)` is `m × k`, `op(B)` is
/// `k × n`. With β = 0, C is overwritten (its old contents, even NaN, are ignored). Panics on
/// inconsistent slice lengths (a programming error, not user input).
///
/// Products of at most [`SMALL_PRODUCT`] multiply-adds run as plain loops; larger ones call
/// faer and then issue `vzeroupper` on x86-64: faer leaves the upper AVX register state dirty,
/// which made glibc's `tanh`/`exp` ~4.5× slower afterwards (measured, DESIGN §10).
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    c: &mut [f64],
    m: usize,
    n: usize,
    k: usize,
    alpha: f64,
    a: &[f64],
    ta: Trans,
    b: &[f64],
    tb: Trans,
    beta: f64,
) {
    assert_eq!(c.len(), m * n, "gemm: C has the wrong length");
    assert_eq!(a.len(), m * k, "gemm: A has the wrong length");
    assert_eq!(b.len(), k * n, "gemm: B has the wrong length");
    if m == 0 || n == 0 {
        return;
    }
    if m * n * k <= SMALL_PRODUCT {
        small_gemm(c, m, n, k, alpha, a, ta, b, tb, beta);
        return;
    }
    let accum = if beta == 0.0 {
        Accum::Replace
    } else {
        if beta != 1.0 {
            c.iter_mut().for_each(|x| *x *= beta);
        }
        Accum::Add
    };
    if k == 0 {
        if beta == 0.0 {
            c.fill(0.0);
        }
        return;
    }
    let av = op_view(a, ta, m, k);
    let bv = op_view(b, tb, k, n);
    let cv = view_mut(c, m, n);
    let threads = par::threads();
    if threads == 1 || m * n * k < PAR_PRODUCT {
        seq_matmul(cv, accum, av, bv, alpha);
        return;
    }
    // Split the longer side of C (the output), never k: each part is one sequential product.
    if m >= n {
        let bounds = par::even_bounds(m, threads, 8);
        let mut parts = Vec::with_capacity(threads);
        let mut rest = cv;
        for w in bounds.windows(2) {
            let (head, tail) = rest.split_at_row_mut(w[1] - w[0]);
            parts.push((head, av.subrows(w[0], w[1] - w[0])));
            rest = tail;
        }
        par::run_parts(parts, |_, (c, a)| seq_matmul(c, accum, a, bv, alpha));
    } else {
        let bounds = par::even_bounds(n, threads, 8);
        let mut parts = Vec::with_capacity(threads);
        let mut rest = cv;
        for w in bounds.windows(2) {
            let (head, tail) = rest.split_at_col_mut(w[1] - w[0]);
            parts.push((head, bv.subcols(w[0], w[1] - w[0])));
            rest = tail;
        }
        par::run_parts(parts, |_, (c, b)| seq_matmul(c, accum, av, b, alpha));
    }
}

/// Below this many multiply-adds a product runs on one thread even under a thread budget
/// ([`par`]): splitting costs a few microseconds.
pub const PAR_PRODUCT: usize = 1 << 18;

/// op(A) of a row-major slice as an `rows × cols` view.
fn op_view(a: &[f64], t: Trans, rows: usize, cols: usize) -> MatRef<'_, f64> {
    match t {
        Trans::N => view(a, rows, cols),
        Trans::T => view(a, cols, rows).transpose(),
    }
}

fn seq_matmul(
    c: MatMut<'_, f64>,
    accum: Accum,
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    alpha: f64,
) {
    faer::linalg::matmul::matmul(c, accum, a, b, alpha, Par::Seq);
    clear_upper_avx();
}

/// The lower triangle (diagonal included) of `C ← α·op(A)·op(A)ᵀ + β·C` for an `n × n`
/// row-major C and `op(A)` of size `n × k` (`Trans::N`: A is n × k, the Gram matrix AAᵀ of its
/// rows; `Trans::T`: A is k × n, AᵀA): a symmetric rank-k update that computes only one
/// triangle, half the multiply-adds of [`gemm`]. The strictly upper triangle of C is neither
/// read nor written; [`Cholesky::factor`] reads only the lower one.
///
/// Under a thread budget ([`par`]) the rows of C are split into bands of equal triangle area,
/// one sequential product per band (the output is partitioned, never k).
pub fn syrk_lower(c: &mut [f64], n: usize, k: usize, alpha: f64, a: &[f64], ta: Trans, beta: f64) {
    assert_eq!(c.len(), n * n, "syrk_lower: C has the wrong length");
    assert_eq!(a.len(), n * k, "syrk_lower: A has the wrong length");
    if n == 0 {
        return;
    }
    let accum = if beta == 0.0 {
        Accum::Replace
    } else {
        if beta != 1.0 {
            for i in 0..n {
                c[i * n..i * n + i + 1].iter_mut().for_each(|x| *x *= beta);
            }
        }
        Accum::Add
    };
    if k == 0 {
        if beta == 0.0 {
            for i in 0..n {
                c[i * n..i * n + i + 1].fill(0.0);
            }
        }
        return;
    }
    let av = op_view(a, ta, n, k);
    let cv = view_mut(c, n, n);
    let threads = par::threads();
    if threads == 1 || n * n * k < 2 * PAR_PRODUCT {
        lower_band(cv, 0, accum, av, alpha);
        return;
    }
    // band boundaries at n·√(i/t): equal areas of the triangle
    let mut bounds: Vec<usize> = (0..=threads)
        .map(|i| ((n as f64 * (i as f64 / threads as f64).sqrt()) as usize / 8 * 8).min(n))
        .collect();
    bounds[threads] = n;
    bounds.dedup();
    let mut parts = Vec::with_capacity(threads);
    let mut rest = cv;
    for w in bounds.windows(2) {
        let (head, tail) = rest.split_at_row_mut(w[1] - w[0]);
        parts.push((w[0], head));
        rest = tail;
    }
    par::run_parts(parts, |_, (r0, band)| {
        lower_band(band, r0, accum, av, alpha)
    });
}

/// Rows `r0..r0 + band.nrows()` of the lower triangle of α·A·Aᵀ (A: n × k) into `band`
/// (those rows of C, all n columns): the rectangle left of the diagonal block by one product,
/// the diagonal block by faer's lower-triangular product.
fn lower_band(band: MatMut<'_, f64>, r0: usize, accum: Accum, a: MatRef<'_, f64>, alpha: f64) {
    use faer::linalg::matmul::triangular::{BlockStructure, matmul as tri_matmul};
    let rows = band.nrows();
    let arows = a.subrows(r0, rows);
    let (left, right) = band.split_at_col_mut(r0);
    if r0 > 0 {
        faer::linalg::matmul::matmul(
            left,
            accum,
            arows,
            a.subrows(0, r0).transpose(),
            alpha,
            Par::Seq,
        );
    }
    let (diag, _) = right.split_at_col_mut(rows);
    tri_matmul(
        diag,
        BlockStructure::TriangularLower,
        accum,
        arows,
        BlockStructure::Rectangular,
        arows.transpose(),
        BlockStructure::Rectangular,
        alpha,
        Par::Seq,
    );
    clear_upper_avx();
}

/// [`gemm`] by plain loops, for tiny products.
#[allow(clippy::too_many_arguments)]
fn small_gemm(
    c: &mut [f64],
    m: usize,
    n: usize,
    k: usize,
    alpha: f64,
    a: &[f64],
    ta: Trans,
    b: &[f64],
    tb: Trans,
    beta: f64,
) {
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            for p in 0..k {
                let av = match ta {
                    Trans::N => a[i * k + p],
                    Trans::T => a[p * m + i],
                };
                let bv = match tb {
                    Trans::N => b[p * n + j],
                    Trans::T => b[j * k + p],
                };
                s += av * bv;
            }
            let cij = &mut c[i * n + j];
            *cij = if beta == 0.0 {
                alpha * s
            } else {
                alpha * s + beta * *cij
            };
        }
    }
}

/// Issues `vzeroupper` when the CPU has AVX (see [`gemm`]).
#[inline]
pub fn clear_upper_avx() {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: `vzeroupper` only zeroes the upper halves of the YMM/ZMM registers, which
            // no live value of this function's caller occupies across this point (the
            // instruction is available when AVX is, which was just checked).
            unsafe { std::arch::asm!("vzeroupper", options(nomem, nostack, preserves_flags)) };
        }
    }
}

/// Row-major copy of a faer matrix.
fn to_row_major(m: MatRef<'_, f64>) -> Vec<f64> {
    let mut out = Vec::with_capacity(m.nrows() * m.ncols());
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            out.push(m[(i, j)]);
        }
    }
    out
}

/// A Cholesky factor L (A + jitter·I = L Lᵀ) that solves systems.
pub struct Cholesky {
    llt: faer::linalg::solvers::Llt<f64>,
    n: usize,
    /// The diagonal shift that was needed (0 when A itself was positive definite).
    pub jitter: f64,
}

impl Cholesky {
    /// Factors the symmetric `n × n` row-major `a`, reading only its lower triangle (diagonal
    /// included; see [`syrk_lower`]). When it is not numerically positive definite,
    /// retries with `jitter·I` added, starting at `1e-12·max(1, mean |diag|)` and growing 10× up to
    /// `max_jitter` (relative to the same scale); the shift used is recorded in [`Cholesky::jitter`].
    ///
    /// # Errors
    ///
    /// Sizes that do not fit `n × n`, or a matrix still not positive definite at `max_jitter`.
    pub fn factor(a: &[f64], n: usize, max_jitter: f64) -> Result<Cholesky> {
        if a.len() != n * n {
            return Err(Error::shape(
                "Cholesky input",
                format!("{n}x{n} = {}", n * n),
                a.len(),
            ));
        }
        if (0..n).any(|i| a[i * n..i * n + i + 1].iter().any(|x| !x.is_finite())) {
            return Err(Error::Linalg(
                "Cholesky input has a NaN or infinite entry".into(),
            ));
        }
        let scale = ((0..n).map(|i| a[i * n + i].abs()).sum::<f64>() / n.max(1) as f64).max(1.0);
        let mut jitter = 0.0;
        // the first attempt reads `a` itself; a shifted copy only when a jitter is needed
        let mut shifted: Vec<f64> = Vec::new();
        loop {
            let llt = if jitter == 0.0 {
                view(a, n, n).llt(Side::Lower)
            } else {
                view(&shifted, n, n).llt(Side::Lower)
            };
            clear_upper_avx();
            if let Ok(llt) = llt {
                return Ok(Cholesky { llt, n, jitter });
            }
            if shifted.is_empty() {
                shifted = a.to_vec();
            }
            let next = if jitter == 0.0 {
                1e-12 * scale
            } else {
                jitter * 10.0
            };
            if next > max_jitter * scale {
                return Err(Error::Linalg(format!(
                    "matrix of size {n} is not positive definite even with a diagonal shift of {jitter:e}"
                )));
            }
            for i in 0..n {
                shifted[i * n + i] = a[i * n + i] + next;
            }
            jitter = next;
        }
    }

    /// Solves (A + jitter·I) X = B in place for a row-major `n × k` right-hand side.
    pub fn solve_in_place(&self, b: &mut [f64], k: usize) {
        assert_eq!(
            b.len(),
            self.n * k,
            "Cholesky::solve_in_place: wrong right-hand side length"
        );
        self.llt
            .solve_in_place_with_conj(faer::Conj::No, view_mut(b, self.n, k));
        clear_upper_avx();
    }

    /// The lower-triangular factor L, row-major.
    pub fn l(&self) -> Vec<f64> {
        to_row_major(self.llt.L())
    }

    /// [`Cholesky::l`] written into `out` (n × n, row-major; the strict upper triangle is 0),
    /// for callers that keep the buffer from step to step.
    pub fn l_into(&self, out: &mut [f64]) {
        assert_eq!(out.len(), self.n * self.n, "Cholesky::l_into: wrong length");
        let l = self.llt.L();
        for (i, row) in out.chunks_exact_mut(self.n).enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = l[(i, j)];
            }
        }
    }
}

/// Thin QR of an `m × n` row-major matrix: returns (Q: m × min(m,n), R: min(m,n) × n).
pub fn qr(a: &[f64], m: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    assert_eq!(a.len(), m * n, "qr: wrong input length");
    let qr = view(a, m, n).qr();
    let q = to_row_major(qr.compute_thin_Q().as_ref());
    let r = to_row_major(qr.thin_R());
    clear_upper_avx();
    (q, r)
}

/// Thin SVD of an `m × n` row-major matrix: A = U diag(s) Vᵀ with s non-increasing; returns
/// (U: m × r, s: r, V: n × r) with r = min(m, n).
///
/// # Errors
///
/// A slice that is not `m × n`, or an SVD that does not converge (non-finite entries).
pub fn svd(a: &[f64], m: usize, n: usize) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    assert_eq!(a.len(), m * n, "svd: wrong input length");
    if a.iter().any(|x| !x.is_finite()) {
        return Err(Error::Linalg(
            "SVD input has a NaN or infinite entry".into(),
        ));
    }
    let svd = view(a, m, n)
        .thin_svd()
        .map_err(|e| Error::Linalg(format!("SVD did not converge: {e:?}")))?;
    let u = to_row_major(svd.U());
    let v = to_row_major(svd.V());
    let s: Vec<f64> = svd.S().column_vector().iter().copied().collect();
    clear_upper_avx();
    Ok((u, s, v))
}

/// Eigen-decomposition of a symmetric `n × n` row-major matrix (lower triangle read):
/// returns (eigenvalues non-decreasing, eigenvectors as the columns of a row-major n × n matrix).
///
/// # Errors
///
/// A slice that is not `n × n`, or a decomposition that fails (non-finite entries).
pub fn sym_eigen(a: &[f64], n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    assert_eq!(a.len(), n * n, "sym_eigen: wrong input length");
    if a.iter().any(|x| !x.is_finite()) {
        return Err(Error::Linalg(
            "eigen input has a NaN or infinite entry".into(),
        ));
    }
    let evd = view(a, n, n)
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| Error::Linalg(format!("symmetric eigen-decomposition failed: {e:?}")))?;
    let vals: Vec<f64> = evd.S().column_vector().iter().copied().collect();
    let vecs = to_row_major(evd.U());
    clear_upper_avx();
    Ok((vals, vecs))
}

/// Solves the least-squares problem min ‖A x − b‖ for a row-major `m × n` A with m ≥ n, by QR.
///
/// # Errors
///
/// Sizes that do not fit (`a` not `m × n`, `b` not of length m, or m < n).
pub fn least_squares(a: &[f64], m: usize, n: usize, b: &[f64]) -> Result<Vec<f64>> {
    if m < n {
        return Err(Error::shape(
            "least_squares",
            format!("rows >= cols ({n})"),
            m,
        ));
    }
    assert_eq!(a.len(), m * n, "least_squares: wrong matrix length");
    assert_eq!(b.len(), m, "least_squares: wrong right-hand side length");
    let qr = view(a, m, n).qr();
    let mut rhs = Mat::<f64>::from_fn(m, 1, |i, _| b[i]);
    qr.solve_lstsq_in_place_with_conj(faer::Conj::No, rhs.as_mut());
    clear_upper_avx();
    Ok((0..n).map(|i| rhs[(i, 0)]).collect())
}

/// Dense row-major matrix product for tests and small problems: returns op(A)·op(B).
pub fn matmul(
    a: &[f64],
    ta: Trans,
    b: &[f64],
    tb: Trans,
    m: usize,
    k: usize,
    n: usize,
) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    gemm(&mut c, m, n, k, 1.0, a, ta, b, tb, 0.0);
    c
}

/// Solves A X = B in place for a small m × m matrix `a` (overwritten by its LU factors) and an
/// m × r right-hand side `b` (row-major, overwritten by X), by Gaussian elimination with partial
/// pivoting. Plain loops, no allocation: meant for m ≲ 16, where a
/// faer call costs more than the arithmetic (P1's similarity matching and polar factors). Returns false when A is singular.
pub fn solve_small(a: &mut [f64], b: &mut [f64], m: usize) -> bool {
    let r = b.len() / m;
    for k in 0..m {
        let mut p = k;
        for i in k + 1..m {
            if a[i * m + k].abs() > a[p * m + k].abs() {
                p = i;
            }
        }
        if a[p * m + k] == 0.0 || !a[p * m + k].is_finite() {
            return false;
        }
        if p != k {
            for j in 0..m {
                a.swap(k * m + j, p * m + j);
            }
            for j in 0..r {
                b.swap(k * r + j, p * r + j);
            }
        }
        let inv = 1.0 / a[k * m + k];
        for i in k + 1..m {
            let f = a[i * m + k] * inv;
            if f != 0.0 {
                for j in k + 1..m {
                    a[i * m + j] -= f * a[k * m + j];
                }
                for j in 0..r {
                    b[i * r + j] -= f * b[k * r + j];
                }
            }
        }
    }
    for k in (0..m).rev() {
        let inv = 1.0 / a[k * m + k];
        for j in 0..r {
            let mut s = b[k * r + j];
            for i in k + 1..m {
                s -= a[k * m + i] * b[i * r + j];
            }
            b[k * r + j] = s * inv;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    fn randn(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
    }

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    fn transpose(a: &[f64], r: usize, c: usize) -> Vec<f64> {
        let mut t = vec![0.0; r * c];
        for i in 0..r {
            for j in 0..c {
                t[j * r + i] = a[i * c + j];
            }
        }
        t
    }

    #[test]
    fn gemm_matches_naive_product_for_all_transpositions() {
        // (7, 5, 3) runs the loop path, (20, 19, 18) the faer path
        for (m, k, n) in [(7, 5, 3), (20, 19, 18)] {
            check_gemm(m, k, n);
        }
    }

    fn check_gemm(m: usize, k: usize, n: usize) {
        let a = randn(m * k, 1);
        let b = randn(k * n, 2);
        let want = naive(&a, &b, m, k, n);
        let at = transpose(&a, m, k);
        let bt = transpose(&b, k, n);
        for (aa, ta, bb, tb) in [
            (&a, Trans::N, &b, Trans::N),
            (&at, Trans::T, &b, Trans::N),
            (&a, Trans::N, &bt, Trans::T),
            (&at, Trans::T, &bt, Trans::T),
        ] {
            let got = matmul(aa, ta, bb, tb, m, k, n);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-12 * k as f64);
            }
        }
        // beta accumulates: C = 2AB + 0.5 C0
        let mut c = vec![1.0; m * n];
        gemm(&mut c, m, n, k, 2.0, &a, Trans::N, &b, Trans::N, 0.5);
        for (g, w) in c.iter().zip(&want) {
            assert!((g - (2.0 * w + 0.5)).abs() < 1e-12 * k as f64);
        }
    }

    #[test]
    fn syrk_lower_is_the_lower_triangle_of_the_gemm_and_leaves_the_upper_alone() {
        // (9, 7) is below the thread threshold; (100, 60) splits into bands under 2 threads
        for (n, k) in [(9, 7), (100, 60)] {
            let a = randn(n * k, 11);
            let at = transpose(&a, n, k);
            let c0 = randn(n * n, 12);
            let mut want = c0.clone();
            gemm(&mut want, n, n, k, 2.0, &a, Trans::N, &at, Trans::N, 0.5);
            for (aa, ta) in [(&a, Trans::N), (&at, Trans::T)] {
                for threads in [1, 2, 3] {
                    let budget = crate::par::Threads::new(threads, "threads").unwrap();
                    let run = || {
                        let mut c = c0.clone();
                        budget.install(|| syrk_lower(&mut c, n, k, 2.0, aa, ta, 0.5));
                        c
                    };
                    let c = run();
                    for i in 0..n {
                        for j in 0..n {
                            let (g, w) = (c[i * n + j], want[i * n + j]);
                            if j <= i {
                                assert!((g - w).abs() < 1e-12 * k as f64, "({i},{j}) {g} vs {w}");
                            } else {
                                assert_eq!(g.to_bits(), c0[i * n + j].to_bits(), "upper ({i},{j})");
                            }
                        }
                    }
                    // the same thread count gives the same bits
                    assert_eq!(bits(&c), bits(&run()), "n = {n}, threads = {threads}");
                }
            }
            // beta = 0 replaces (NaN in C is not read)
            let mut c = vec![f64::NAN; n * n];
            syrk_lower(&mut c, n, k, 1.0, &a, Trans::N, 0.0);
            assert!((0..n).all(|i| c[i * n..=i * n + i].iter().all(|v| v.is_finite())));
        }
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn gemm_under_a_thread_budget_splits_the_output_deterministically() {
        // 80 × 70 × 60 is above PAR_PRODUCT; (40, 90) splits the columns
        for (m, k, n) in [(80, 60, 70), (40, 80, 90)] {
            let a = randn(m * k, 13);
            let b = randn(k * n, 14);
            let want = naive(&a, &b, m, k, n);
            for threads in [2, 3] {
                let budget = crate::par::Threads::new(threads, "threads").unwrap();
                let run = || budget.install(|| matmul(&a, Trans::N, &b, Trans::N, m, k, n));
                let got = run();
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() < 1e-12 * k as f64);
                }
                assert_eq!(bits(&got), bits(&run()));
            }
        }
    }

    #[test]
    fn cholesky_reads_only_the_lower_triangle() {
        let n = 5;
        let g = randn(n * n, 15);
        let a = naive(&transpose(&g, n, n), &g, n, n, n);
        let mut lower = a.clone();
        for i in 0..n {
            for j in i + 1..n {
                lower[i * n + j] = f64::NAN;
            }
        }
        let x = randn(n, 16);
        let (mut b1, mut b2) = (naive(&a, &x, n, n, 1), naive(&a, &x, n, n, 1));
        Cholesky::factor(&a, n, 1e-3)
            .unwrap()
            .solve_in_place(&mut b1, 1);
        Cholesky::factor(&lower, n, 1e-3)
            .unwrap()
            .solve_in_place(&mut b2, 1);
        assert_eq!(bits(&b1), bits(&b2));
    }

    #[test]
    fn cholesky_solves_and_escalates_jitter_on_semidefinite_input() {
        let n = 6;
        let g = randn(n * n, 3);
        let a = naive(&transpose(&g, n, n), &g, n, n, n); // GᵀG, SPD
        let x = randn(n, 4);
        let mut b = naive(&a, &x, n, n, 1);
        let ch = Cholesky::factor(&a, n, 1e-3).unwrap();
        assert_eq!(ch.jitter, 0.0);
        ch.solve_in_place(&mut b, 1);
        for (g, w) in b.iter().zip(&x) {
            assert!((g - w).abs() < 1e-8);
        }
        // rank-1 PSD matrix needs a shift
        let v = randn(n, 5);
        let r1 = naive(&v, &v, n, 1, n);
        let ch = Cholesky::factor(&r1, n, 1e-3).unwrap();
        assert!(ch.jitter > 0.0);
        // an indefinite matrix beyond the cap is an error, not a panic
        let mut ind = vec![0.0; n * n];
        ind[0] = -1.0;
        assert!(Cholesky::factor(&ind, n, 1e-3).is_err());
    }

    #[test]
    fn qr_svd_eigen_reconstruct() {
        let (m, n) = (8, 5);
        let a = randn(m * n, 6);
        let (q, r) = qr(&a, m, n);
        let qr_ = naive(&q, &r, m, n, n);
        assert!(
            qr_.iter()
                .zip(&a)
                .all(|(x, y)| (x - y).abs() < 1e-12 * 40.0)
        );
        let qtq = naive(&transpose(&q, m, n), &q, n, m, n);
        for i in 0..n {
            for j in 0..n {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((qtq[i * n + j] - want).abs() < 1e-13 * 40.0);
            }
        }
        let (u, s, v) = svd(&a, m, n).unwrap();
        assert!(s.windows(2).all(|w| w[0] >= w[1]));
        let mut us = u.clone();
        for i in 0..m {
            for j in 0..n {
                us[i * n + j] *= s[j];
            }
        }
        let rec = naive(&us, &transpose(&v, n, n), m, n, n);
        assert!(
            rec.iter()
                .zip(&a)
                .all(|(x, y)| (x - y).abs() < 1e-12 * 40.0)
        );
        let sym = naive(&transpose(&a, m, n), &a, n, m, n);
        let (vals, vecs) = sym_eigen(&sym, n).unwrap();
        assert!(vals.windows(2).all(|w| w[0] <= w[1]));
        for (i, sv) in s.iter().rev().enumerate() {
            assert!((vals[i] - sv * sv).abs() < 1e-10 * vals[n - 1]);
        }
        let av = naive(&sym, &vecs, n, n, n);
        for i in 0..n {
            for j in 0..n {
                assert!((av[i * n + j] - vals[j] * vecs[i * n + j]).abs() < 1e-10 * vals[n - 1]);
            }
        }
        let b = randn(m, 7);
        let x = least_squares(&a, m, n, &b).unwrap();
        // normal equations hold: Aᵀ(Ax − b) = 0
        let ax = naive(&a, &x, m, n, 1);
        let res: Vec<f64> = ax.iter().zip(&b).map(|(p, q)| p - q).collect();
        let nr = naive(&transpose(&a, m, n), &res, n, m, 1);
        assert!(nr.iter().all(|z| z.abs() < 1e-10));
    }
}
