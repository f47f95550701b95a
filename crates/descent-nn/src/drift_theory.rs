//! Closed-form leading-order drift rates of P1 (§3), per learning step.
//!
//! D is defined by E‖r̂_s(t+τ) − r̂_s(t)‖² ≈ 2Dτ (equivalently E[r̂_s(t+τ)·r̂_s(t)] = e^{−Dτ}),
//! with τ in steps and r̂_s the normalised representation of a relevant stimulus s (P1 §2.4).
//! These are the *exact* leading-order forms in η, with the λ∥ − λ⊥ denominators kept: the short
//! forms of the secondary summary (e.g. η³λ⊥²(m−1)(n−m)/8 for Oja) are their λ⊥ ≪ λ∥ limits and
//! are 4× off at λ⊥ = 0.75 (P1 pitfall 2).

/// (P1-a) Oja's subspace rule, flat relevant variance λ∥ on m directions, λ⊥ on n − m:
/// D = (m−1)(n−m) η³ λ∥² λ⊥² / (8 (λ∥ − λ⊥)). Requires λ⊥ < λ∥ (else NaN).
pub fn oja(n: usize, m: usize, eta: f64, var_rel: f64, var_irr: f64) -> f64 {
    if var_irr >= var_rel {
        return f64::NAN;
    }
    let (m, k) = (m as f64, (n - m.min(n)) as f64);
    (m - 1.0) * k * eta.powi(3) * var_rel.powi(2) * var_irr.powi(2) / (8.0 * (var_rel - var_irr))
}

/// (P1-b) Online similarity matching: the same rate as Oja's rule (checked at λ∥ = 1 and τ = 1;
/// its dependence on τ is weak).
pub fn similarity_matching(n: usize, m: usize, eta: f64, var_rel: f64, var_irr: f64) -> f64 {
    oja(n, m, eta, var_rel, var_irr)
}

/// (P1-c) Linear autoencoder with small weight decay, p hidden units:
/// D = (p−1)(n−p) η³ λ∥³ λ⊥² / (32 (λ∥² − λ⊥²)).
pub fn autoencoder(n: usize, p: usize, eta: f64, var_rel: f64, var_irr: f64) -> f64 {
    if var_irr >= var_rel {
        return f64::NAN;
    }
    let (p, k) = (p as f64, (n - p.min(n)) as f64);
    (p - 1.0) * k * eta.powi(3) * var_rel.powi(3) * var_irr.powi(2)
        / (32.0 * (var_rel * var_rel - var_irr * var_irr))
}

/// (P1-d) Supervised two-layer linear network with hidden width k and weight decay γ
/// (λ∥ = 1): D ≈ (η³γ⁴/16)(k−1)(k + 2 + (n−k)λ⊥/2). The spec marks it as a leading-order
/// scaling form (simulation/formula ≈ 1.4–1.6 at γ = 0.25, η = 0.025).
pub fn supervised(n: usize, k: usize, eta: f64, gamma: f64, var_irr: f64) -> f64 {
    let (kf, rest) = (k as f64, (n - k.min(n)) as f64);
    eta.powi(3) * gamma.powi(4) / 16.0 * (kf - 1.0) * (kf + 2.0 + rest * var_irr / 2.0)
}

/// (P1-e) Synaptic noise of per-entry variance ησ² per step on Oja's W:
/// D = (m−1) η σ² / 4, independent of n and of the irrelevant subspace.
pub fn synaptic(m: usize, eta: f64, sigma: f64) -> f64 {
    (m as f64 - 1.0) * eta * sigma * sigma / 4.0
}

/// (P1-g) Oja's per-plane rotation rates for distinct relevant variances λ_i (length m) and a
/// flat irrelevant variance λ⊥ on n − m directions: the m × m matrix (row-major, zero diagonal)
/// E\[Ω_ij²\] = η³λ⊥²(n−m) λ_iλ_j / (2(λ_i+λ_j)²) · [λ_j²/(λ_j−λ⊥) + λ_i²/(λ_i−λ⊥)],
/// the per-step variance of the rotation generator in plane (i, j).
pub fn oja_plane_rates(var_rel: &[f64], n: usize, eta: f64, var_irr: f64) -> Vec<f64> {
    let m = var_rel.len();
    let k = (n - m.min(n)) as f64;
    let mut out = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            if i == j {
                continue;
            }
            let (li, lj) = (var_rel[i], var_rel[j]);
            out[i * m + j] = eta.powi(3) * var_irr.powi(2) * k * li * lj
                / (2.0 * (li + lj).powi(2))
                * (lj * lj / (lj - var_irr) + li * li / (li - var_irr));
        }
    }
    out
}

/// (P1-g) Per-stimulus rates D_i = ½ Σ_{j≠i} E\[Ω_ij²\] from [`oja_plane_rates`].
pub fn oja_stimulus_rates(var_rel: &[f64], n: usize, eta: f64, var_irr: f64) -> Vec<f64> {
    let m = var_rel.len();
    let planes = oja_plane_rates(var_rel, n, eta, var_irr);
    (0..m)
        .map(|i| 0.5 * planes[i * m..(i + 1) * m].iter().sum::<f64>())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn rates_match_the_spec_tables() {
        // P1-a table: n=10, m=2, η=0.01
        for (l, d) in [
            (0.25, 8.33e-8),
            (0.3, 1.29e-7),
            (0.5, 5.0e-7),
            (0.75, 2.25e-6),
        ] {
            assert!(close(oja(10, 2, 0.01, 1.0, l), d, 0.005), "{l}");
        }
        // dimension dependence and m = 4
        assert!(close(oja(6, 2, 0.01, 1.0, 0.5), 2.5e-7, 1e-12));
        assert!(close(oja(10, 4, 0.01, 1.0, 0.5), 1.125e-6, 1e-12));
        // the short summary form at 0.75 is 4x smaller: (m-1)(n-m) η³ λ⊥² / 8
        let short = 8.0 * 1e-6 * 0.75f64.powi(2) / 8.0;
        assert!(close(oja(10, 2, 0.01, 1.0, 0.75) / short, 4.0, 1e-12));
        // P1-c table: n=10, p=2, η=0.02
        for (l, d) in [(0.3, 1.98e-7), (0.5, 6.7e-7), (0.7, 1.92e-6)] {
            assert!(close(autoencoder(10, 2, 0.02, 1.0, l), d, 0.01), "{l}");
        }
        // P1-d increments at η=0.025, γ=0.25 per unit λ⊥: 0.76e-8 per 0.5
        let inc = supervised(10, 2, 0.025, 0.25, 0.5) - supervised(10, 2, 0.025, 0.25, 0.0);
        assert!(close(inc, 0.763e-8, 0.01), "{inc}");
        assert_eq!(supervised(10, 1, 0.025, 0.25, 1.0), 0.0);
        // P1-e: m=2, η=0.01, σ=0.1 → 2.5e-5; m=3 → 5e-5
        assert!(close(synaptic(2, 0.01, 0.1), 2.5e-5, 1e-12));
        assert!(close(synaptic(3, 0.01, 0.1), 5.0e-5, 1e-12));
        assert!(oja(10, 2, 0.01, 1.0, 1.0).is_nan());
    }

    #[test]
    fn anisotropic_rates_match_p1g_and_reduce_to_p1a() {
        let d = oja_stimulus_rates(&[4.0, 2.0, 1.0], 10, 0.01, 0.5);
        for (a, b) in d.iter().zip([1.16e-6, 1.16e-6, 0.91e-6]) {
            assert!(close(*a, b, 0.01), "{d:?}");
        }
        // equal variances: mean of D_i equals the isotropic (P1-a) rate
        let d = oja_stimulus_rates(&[1.0, 1.0, 1.0], 10, 0.01, 0.5);
        for v in d {
            assert!(close(v, oja(10, 3, 0.01, 1.0, 0.5), 1e-12));
        }
    }
}
