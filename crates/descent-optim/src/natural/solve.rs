//! The linear solves of the ENGD family: the damped Gramian by Cholesky with jitter
//! escalation and an SVD fallback ([`solve_psd`]), and the Nyström sketch of the Gramian with
//! its Woodbury solve ([`nystrom_factor`], [`nystrom_solve`]).

use super::*;

/// Solves the symmetric positive (semi)definite `a` (n × n, damping already added; only its
/// lower triangle is read) for the
/// `k` right-hand sides in `b` (n × k, overwritten): Cholesky with jitter escalation up to
/// `max_jitter`, else the SVD pseudo-inverse (the min-norm solution of `lstsq`/gelsd).
/// Returns (jitter used, whether the fallback fired).
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

/// The randomized Nyström factor B (N × ℓ, row-major) with K + νI ≈ BBᵀ, K = JJᵀ, from the
/// sketch Ω (N × ℓ): Y = J(JᵀΩ) + νΩ, ΩᵀY = LLᵀ, B = Y L⁻ᵀ (spec §2.5, no QR, no SVD, the ν
/// bias kept). K is never formed. Returns B, the jitter the ℓ × ℓ Cholesky needed, and whether
/// it fell back: when ΩᵀY is singular beyond the jitter cap (a rank-deficient J with ν = 0, say)
/// B = Y Q Λ^{+1/2} from the eigen-decomposition ΩᵀY = QΛQᵀ, eigenvalues below ℓ·ε·λ_max
/// dropped, so that BBᵀ = Y(ΩᵀY)⁺Yᵀ, the pseudo-inverse form of the same approximation.
///
/// Errors when ℓ > N (ΩᵀΩ, hence ΩᵀY, would be singular by construction: the field is
/// `nystrom.rank`), when Ω or J has the wrong length, or when the input is not finite.
pub fn nystrom_factor(
    jac: &[f64],
    n: usize,
    p: usize,
    omega: &[f64],
    rank: usize,
    shift: f64,
    max_jitter: f64,
) -> Result<(Vec<f64>, f64, bool)> {
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
    if omega.len() != n * rank {
        return Err(Error::shape(
            "Nyström sketch",
            format!("{n}x{rank}"),
            omega.len(),
        ));
    }
    let mut t = vec![0.0; p * rank];
    gemm(&mut t, p, rank, n, 1.0, jac, Trans::T, omega, Trans::N, 0.0);
    let mut y = omega.to_vec();
    gemm(&mut y, n, rank, p, 1.0, jac, Trans::N, &t, Trans::N, shift);
    let mut m = vec![0.0; rank * rank];
    gemm(
        &mut m,
        rank,
        rank,
        n,
        1.0,
        omega,
        Trans::T,
        &y,
        Trans::N,
        0.0,
    );
    symmetrize(&mut m, rank);
    let ch = match Cholesky::factor(&m, rank, max_jitter) {
        Ok(ch) => ch,
        Err(Error::Linalg(_)) if m.iter().all(|v| v.is_finite()) => {
            let (vals, q) = sym_eigen(&m, rank)?;
            let top = vals.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            let tol = top * rank as f64 * f64::EPSILON;
            // B = Y Q diag(c), c_k = λ_k^{-1/2} on the kept eigenvalues, 0 on the rest
            let mut b = vec![0.0; n * rank];
            gemm(&mut b, n, rank, rank, 1.0, &y, Trans::N, &q, Trans::N, 0.0);
            for row in b.chunks_mut(rank) {
                for (bk, lk) in row.iter_mut().zip(&vals) {
                    *bk *= if *lk > tol { 1.0 / lk.sqrt() } else { 0.0 };
                }
            }
            return Ok((b, 0.0, true));
        }
        Err(e) => return Err(e),
    };
    let l = ch.l();
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
    Ok((y, ch.jitter, false))
}

/// (BBᵀ + λI)⁻¹ z = (z − B(BᵀB + λI)⁻¹Bᵀz)/λ (Woodbury; the ℓ × ℓ inner system by Cholesky),
/// written into `z`. Returns (jitter, fallback) of the inner solve.
pub fn nystrom_solve(
    b: &[f64],
    n: usize,
    rank: usize,
    damping: f64,
    z: &mut [f64],
    max_jitter: f64,
) -> Result<(f64, bool)> {
    let mut s = vec![0.0; rank * rank];
    syrk_lower(&mut s, rank, n, 1.0, b, Trans::T, 0.0);
    for i in 0..rank {
        s[i * rank + i] += damping;
    }
    let mut w = vec![0.0; rank];
    gemm(&mut w, rank, 1, n, 1.0, b, Trans::T, z, Trans::N, 0.0);
    let info = solve_psd(&s, rank, &mut w, 1, max_jitter)?;
    gemm(z, n, 1, rank, -1.0, b, Trans::N, &w, Trans::N, 1.0);
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
