//! The linear solves of the ENGD family: the damped Gramian by Cholesky with jitter
//! escalation and an SVD fallback ([`solve_psd`]), and the Nyström sketch of the Gramian with
//! its Woodbury solve ([`nystrom_factor`], [`nystrom_solve`]).

use super::*;

/// Solves the symmetric positive (semi)definite `a` (n × n, damping already added; only its
/// lower triangle is read) for the
/// `k` right-hand sides in `b` (n × k, overwritten): Cholesky with jitter escalation up to
/// `max_jitter`, else the SVD pseudo-inverse (the min-norm solution of `lstsq`/gelsd).
/// Returns (jitter used, whether the fallback fired).
///
/// # Errors
///
/// A matrix that neither Cholesky nor the SVD can handle (non-finite entries).
pub fn solve_psd(
    a: &[f64],
    n: usize,
    b: &mut [f64],
    k: usize,
    max_jitter: f64,
) -> Result<(f64, bool)> {
    match Cholesky::factor(a, n, max_jitter) {
        Ok(ch) => {
            ch.solve_in_place(b, k);
            Ok((ch.jitter, false))
        }
        Err(Error::Linalg(_))
            if (0..n).all(|i| a[i * n..=i * n + i].iter().all(|v| v.is_finite())) =>
        {
            let mut full = a.to_vec();
            mirror_lower(&mut full, n);
            let (u, s, v) = svd(&full, n, n)?;
            let tol = s.first().copied().unwrap_or(0.0) * n as f64 * f64::EPSILON;
            let mut utb = vec![0.0; n * k];
            gemm(&mut utb, n, k, n, 1.0, &u, Trans::T, b, Trans::N, 0.0);
            for i in 0..n {
                let inv = if s[i] > tol { 1.0 / s[i] } else { 0.0 };
                utb[i * k..(i + 1) * k].iter_mut().for_each(|x| *x *= inv);
            }
            gemm(b, n, k, n, 1.0, &v, Trans::N, &utb, Trans::N, 0.0);
            Ok((0.0, true))
        }
        Err(e) => Err(e),
    }
}

/// The buffers of the sketched solves (Nyström, sketch-and-project), sized on first use for
/// (N, P, ℓ) and reused by every later step (no allocation per step).
#[derive(Debug, Clone, Default)]
pub(super) struct SketchWork {
    /// The sketch Ω, N × ℓ.
    pub(super) omega: Vec<f64>,
    /// JᵀΩ, P × ℓ.
    pub(super) t: Vec<f64>,
    /// Y, then the Nyström factor B, N × ℓ.
    pub(super) y: Vec<f64>,
    /// The ℓ × ℓ system (ΩᵀY; BᵀB + λI; ΩᵀKΩ + λI).
    pub(super) m: Vec<f64>,
    /// The ℓ × ℓ Cholesky factor L of ΩᵀY.
    l: Vec<f64>,
    /// The ℓ-vector of the inner solve.
    pub(super) w: Vec<f64>,
}

impl SketchWork {
    /// Sizes the buffers for (n, p, rank); a no-op when they already have these sizes.
    pub(super) fn size(&mut self, n: usize, p: usize, rank: usize) {
        self.omega.resize(n * rank, 0.0);
        self.t.resize(p * rank, 0.0);
        self.y.resize(n * rank, 0.0);
        self.m.resize(rank * rank, 0.0);
        self.l.resize(rank * rank, 0.0);
        self.w.resize(rank, 0.0);
    }
}

/// The randomized Nyström factor B (N × ℓ, row-major) with K + νI ≈ BBᵀ, K = JJᵀ, from the
/// sketch Ω (N × ℓ): Y = J(JᵀΩ) + νΩ, ΩᵀY = LLᵀ, B = Y L⁻ᵀ (spec §2.5, no QR, no SVD, the ν
/// bias kept). K is never formed. Returns B, the jitter the ℓ × ℓ Cholesky needed, and whether
/// it fell back: when ΩᵀY is singular beyond the jitter cap (a rank-deficient J with ν = 0, say)
/// B = Y Q Λ^{+1/2} from the eigen-decomposition ΩᵀY = QΛQᵀ, eigenvalues below ℓ·ε·λ_max
/// dropped, so that BBᵀ = Y(ΩᵀY)⁺Yᵀ, the pseudo-inverse form of the same approximation.
///
/// Errors when ℓ > N (ΩᵀΩ, hence ΩᵀY, would be singular by construction: the field is
/// `nystrom.rank`), when Ω or J has the wrong length, or when the input is not finite.
///
/// # Errors
///
/// See above: ℓ > N (`nystrom.rank`), wrong lengths, or non-finite input.
pub fn nystrom_factor(
    jac: &[f64],
    n: usize,
    p: usize,
    omega: &[f64],
    rank: usize,
    shift: f64,
    max_jitter: f64,
) -> Result<(Vec<f64>, f64, bool)> {
    if omega.len() != n * rank {
        return Err(Error::shape(
            "Nyström sketch",
            format!("{n}x{rank}"),
            omega.len(),
        ));
    }
    let mut work = SketchWork::default();
    work.size(n, p, rank);
    work.omega.copy_from_slice(omega);
    let (jitter, fallback) = nystrom_factor_in(jac, n, p, rank, shift, max_jitter, &mut work)?;
    Ok((work.y, jitter, fallback))
}

/// [`nystrom_factor`] in the buffers of `work` (sized for (n, p, rank), Ω in `work.omega`):
/// B lands in `work.y`.
pub(super) fn nystrom_factor_in(
    jac: &[f64],
    n: usize,
    p: usize,
    rank: usize,
    shift: f64,
    max_jitter: f64,
    work: &mut SketchWork,
) -> Result<(f64, bool)> {
    if rank > n {
        return Err(Error::invalid(
            "nystrom.rank",
            rank,
            format!(
                "a sketch size <= N = {n}, the number of residuals in the batch (a larger \
                 sketch of the N x N kernel is singular)"
            ),
        ));
    }
    if jac.len() != n * p {
        return Err(Error::shape(
            "Nyström Jacobian",
            format!("{n}x{p}"),
            jac.len(),
        ));
    }
    let SketchWork {
        omega, t, y, m, l, ..
    } = work;
    gemm(t, p, rank, n, 1.0, jac, Trans::T, omega, Trans::N, 0.0);
    y.copy_from_slice(omega);
    gemm(y, n, rank, p, 1.0, jac, Trans::N, t, Trans::N, shift);
    gemm(m, rank, rank, n, 1.0, omega, Trans::T, y, Trans::N, 0.0);
    symmetrize(m, rank);
    let ch = match Cholesky::factor(m, rank, max_jitter) {
        Ok(ch) => ch,
        Err(Error::Linalg(_)) if m.iter().all(|v| v.is_finite()) => {
            let (vals, q) = sym_eigen(m, rank)?;
            let top = vals.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            let tol = top * rank as f64 * f64::EPSILON;
            // B = Y Q diag(c), c_k = λ_k^{-1/2} on the kept eigenvalues, 0 on the rest
            let mut b = vec![0.0; n * rank];
            gemm(&mut b, n, rank, rank, 1.0, y, Trans::N, &q, Trans::N, 0.0);
            for row in b.chunks_mut(rank) {
                for (bk, lk) in row.iter_mut().zip(&vals) {
                    *bk *= if *lk > tol { 1.0 / lk.sqrt() } else { 0.0 };
                }
            }
            y.copy_from_slice(&b);
            return Ok((0.0, true));
        }
        Err(e) => return Err(e),
    };
    ch.l_into(l);
    // B = Y L⁻ᵀ  ⇔  each row b of B solves L bᵀ = yᵀ (forward substitution).
    for row in y.chunks_mut(rank) {
        for i in 0..rank {
            let mut acc = row[i];
            for j in 0..i {
                acc -= l[i * rank + j] * row[j];
            }
            row[i] = acc / l[i * rank + i];
        }
    }
    Ok((ch.jitter, false))
}

/// (BBᵀ + λI)⁻¹ z = (z − B(BᵀB + λI)⁻¹Bᵀz)/λ (Woodbury; the ℓ × ℓ inner system by Cholesky),
/// written into `z`. Returns (jitter, fallback) of the inner solve.
///
/// # Errors
///
/// An inner system that neither Cholesky nor the SVD can solve (non-finite input).
pub fn nystrom_solve(
    b: &[f64],
    n: usize,
    rank: usize,
    damping: f64,
    z: &mut [f64],
    max_jitter: f64,
) -> Result<(f64, bool)> {
    let (mut s, mut w) = (vec![0.0; rank * rank], vec![0.0; rank]);
    nystrom_solve_in(b, n, rank, damping, z, max_jitter, &mut s, &mut w)
}

/// [`nystrom_solve`] with its ℓ × ℓ system in `s` and its ℓ-vector in `w`.
#[allow(clippy::too_many_arguments)]
pub(super) fn nystrom_solve_in(
    b: &[f64],
    n: usize,
    rank: usize,
    damping: f64,
    z: &mut [f64],
    max_jitter: f64,
    s: &mut [f64],
    w: &mut [f64],
) -> Result<(f64, bool)> {
    syrk_lower(s, rank, n, 1.0, b, Trans::T, 0.0);
    for i in 0..rank {
        s[i * rank + i] += damping;
    }
    gemm(w, rank, 1, n, 1.0, b, Trans::T, z, Trans::N, 0.0);
    let info = solve_psd(s, rank, w, 1, max_jitter)?;
    gemm(z, n, 1, rank, -1.0, b, Trans::N, w, Trans::N, 1.0);
    z.iter_mut().for_each(|v| *v /= damping);
    Ok(info)
}

/// Copies the lower triangle onto the upper one.
fn mirror_lower(a: &mut [f64], n: usize) {
    for i in 0..n {
        for j in 0..i {
            a[j * n + i] = a[i * n + j];
        }
    }
}

fn symmetrize(a: &mut [f64], n: usize) {
    for i in 0..n {
        for j in 0..i {
            let v = 0.5 * (a[i * n + j] + a[j * n + i]);
            a[i * n + j] = v;
            a[j * n + i] = v;
        }
    }
}
