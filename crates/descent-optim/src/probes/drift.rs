//! Drift probes (P1 §2.4): how fast a learned code rotates along its symmetry orbit.
//!
//! Feed [`DriftProbe::record`] snapshots of the m × m *relevant block* A, whose column s is the
//! representation of the s-th relevant stimulus (for Oja A = W U∥, for similarity matching
//! A = M⁻¹W U∥). The probe keeps
//! - the **rotation estimator**: Q(t) = polar factor of A(t) (the frame of the code, free of the
//!   normal-mode stretch), Θ = skew(Q(t)ᵀ Q(t+L)) over windows of L steps (overlapping, one per
//!   snapshot), D = E‖Θ‖_F² / (2 m L), with a standard error by batch means over
//!   [`DriftProbeConfig::batches`] consecutive stretches of the run (windows inside one stretch
//!   overlap, stretches barely do). For m = 2 the exact angle atan2 replaces the sine. Per-plane
//!   rates E\[Θ_ij²\]/L in stimulus coordinates give the anisotropy (P1-g) and per-stimulus rates
//!   D_i = ½ Σ_j E\[Θ_ij²\]/L;
//! - the **mean squared displacement** of the normalised representations,
//!   MSD(τ) = E‖r̂_s(t+τ) − r̂_s(t)‖² averaged over stimuli, on a grid of lags, from which
//!   [`fit_diffusion`] fits MSD = a + 2Dτ over lags past the normal relaxation time.
//!
//! Everything is sized in [`DriftProbe::new`]; `record` never allocates beyond the per-window
//! values it was told to expect.

use descent_core::linalg::{Trans, gemm, solve_small, svd};
use descent_core::{Error, Result};

/// Writes the orthogonal polar factor Q of the m × m matrix `a` (A = Q P, P symmetric positive
/// semi-definite) into `q`, by Newton's iteration X ← ½(X + X⁻ᵀ) from X = A, which converges
/// quadratically (about 6–10 steps for well-conditioned A). `scratch` needs 2m² entries.
/// Returns the number of iterations, or `None` when A is singular.
pub fn polar_factor(a: &[f64], m: usize, q: &mut [f64], scratch: &mut [f64]) -> Option<usize> {
    q.copy_from_slice(a);
    let (lu, inv) = scratch[..2 * m * m].split_at_mut(m * m);
    for it in 1..=100 {
        lu.copy_from_slice(q);
        inv.fill(0.0);
        (0..m).for_each(|i| inv[i * m + i] = 1.0);
        if !solve_small(lu, inv, m) {
            return None;
        }
        let mut change = 0.0;
        for i in 0..m {
            for j in 0..m {
                // X⁻ᵀ[i][j] = X⁻¹[j][i]
                let new = 0.5 * (q[i * m + j] + inv[j * m + i]);
                change += (new - q[i * m + j]).powi(2);
                q[i * m + j] = new;
            }
        }
        if change.sqrt() <= 1e-15 * (m as f64).sqrt() {
            return Some(it);
        }
    }
    Some(100)
}

/// Θ = skew(Q_oldᵀ Q_new) = (R − Rᵀ)/2 with R = Q_oldᵀ Q_new: the rotation generator between
/// two frames, in the old frame's (stimulus) coordinates. Exact for small rotations up to
/// O(θ³); for m = 2 the entries are ±atan2(R₂₁, R₁₁), the exact angle.
pub fn rotation_generator(q_old: &[f64], q_new: &[f64], m: usize, theta: &mut [f64]) {
    // R[i][j] = Σ_k Q_old[k][i] Q_new[k][j]
    let r = |i: usize, j: usize| {
        (0..m)
            .map(|k| q_old[k * m + i] * q_new[k * m + j])
            .sum::<f64>()
    };
    if m == 2 {
        let angle = r(1, 0).atan2(r(0, 0));
        theta.copy_from_slice(&[0.0, -angle, angle, 0.0]);
        return;
    }
    for i in 0..m {
        theta[i * m + i] = 0.0;
        for j in i + 1..m {
            let v = 0.5 * (r(i, j) - r(j, i));
            theta[i * m + j] = v;
            theta[j * m + i] = -v;
        }
    }
}

/// What a [`DriftProbe`] measures and how.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftProbeConfig {
    /// Code dimension m (the block is m × m).
    pub m: usize,
    /// Learning steps between snapshots.
    pub snapshot_every: u64,
    /// Window L of the rotation estimator, in steps (a multiple of `snapshot_every`); choose
    /// L ≫ the normal relaxation time and D·L ≲ 0.05.
    pub window: u64,
    /// Lags of the MSD curve, in steps (multiples of `snapshot_every`).
    pub lags: Vec<u64>,
    /// Number of batches for the batch-means standard error (≥ 2).
    pub batches: usize,
    /// Snapshots the run will record (sizes the per-window buffer).
    pub expected_snapshots: usize,
}

impl DriftProbeConfig {
    /// Geometrically spaced lags from `snapshot_every` to `max_lag` steps (about `per_decade`
    /// per decade, rounded to snapshots, duplicates removed).
    pub fn log_lags(snapshot_every: u64, max_lag: u64, per_decade: usize) -> Vec<u64> {
        let (lo, hi) = (1.0f64, (max_lag / snapshot_every).max(1) as f64);
        let count = ((hi / lo).log10() * per_decade as f64).ceil() as usize + 1;
        let mut out: Vec<u64> = (0..count)
            .map(|i| {
                let f = lo * (hi / lo).powf(i as f64 / (count - 1).max(1) as f64);
                f.round() as u64 * snapshot_every
            })
            .collect();
        out.dedup();
        out
    }

    fn validate(&self) -> Result<()> {
        if self.m < 2 {
            return Err(Error::invalid(
                "drift_probe.m",
                self.m,
                "an integer >= 2 (a 1-D code cannot rotate)",
            ));
        }
        if self.snapshot_every == 0 {
            return Err(Error::invalid(
                "drift_probe.snapshot_every",
                0,
                "an integer >= 1",
            ));
        }
        if self.window == 0 || !self.window.is_multiple_of(self.snapshot_every) {
            return Err(Error::invalid(
                "drift_probe.window",
                self.window,
                format!(
                    "a positive multiple of snapshot_every = {}",
                    self.snapshot_every
                ),
            ));
        }
        if let Some(l) = self
            .lags
            .iter()
            .find(|l| **l == 0 || **l % self.snapshot_every != 0)
        {
            return Err(Error::invalid(
                "drift_probe.lags",
                l,
                format!(
                    "positive multiples of snapshot_every = {}",
                    self.snapshot_every
                ),
            ));
        }
        if self.batches < 2 {
            return Err(Error::invalid(
                "drift_probe.batches",
                self.batches,
                "an integer >= 2",
            ));
        }
        Ok(())
    }
}

/// The rotation estimate of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftEstimate {
    /// D = E‖Θ‖²/(2mL), per step.
    pub d: f64,
    /// Its standard error by batch means.
    pub se: f64,
    /// Number of (overlapping) windows.
    pub windows: usize,
    /// E\[Θ_ij²\]/L per step in stimulus coordinates (m × m, zero diagonal).
    pub plane_rates: Vec<f64>,
    /// D_i = ½ Σ_j `plane_rates[i][j]`.
    pub stimulus_rates: Vec<f64>,
    /// (lag in steps, MSD) pairs with at least one sample.
    pub msd: Vec<(f64, f64)>,
    /// Largest mean ‖Θ‖² per plane: the small-angle condition D·L ≲ 0.05 in the window.
    pub mean_sq_angle: f64,
}

/// Accumulates the rotation estimator and the MSD curve from snapshots of the relevant block.
#[derive(Debug, Clone)]
pub struct DriftProbe {
    cfg: DriftProbeConfig,
    /// Ring of polar factors, window/snapshot_every + 1 frames.
    frames: Vec<f64>,
    /// Ring of normalised representations (m × m, column s = r̂_s), max lag + 1 snapshots.
    reps: Vec<f64>,
    snapshots: usize,
    per_window: Vec<f64>,
    plane_sums: Vec<f64>,
    msd_sums: Vec<f64>,
    msd_counts: Vec<u64>,
    q: Vec<f64>,
    theta: Vec<f64>,
    scratch: Vec<f64>,
    failures: usize,
}

impl DriftProbe {
    /// A probe with every buffer sized; errors name the invalid config field.
    ///
    /// # Errors
    ///
    /// A config field out of range, naming it.
    pub fn new(cfg: DriftProbeConfig) -> Result<DriftProbe> {
        cfg.validate()?;
        let m = cfg.m;
        let w = (cfg.window / cfg.snapshot_every) as usize;
        let max_lag = cfg.lags.iter().max().copied().unwrap_or(0) / cfg.snapshot_every;
        Ok(DriftProbe {
            frames: vec![0.0; (w + 1) * m * m],
            reps: vec![0.0; (max_lag as usize + 1) * m * m],
            snapshots: 0,
            per_window: Vec::with_capacity(cfg.expected_snapshots),
            plane_sums: vec![0.0; m * m],
            msd_sums: vec![0.0; cfg.lags.len()],
            msd_counts: vec![0; cfg.lags.len()],
            q: vec![0.0; m * m],
            theta: vec![0.0; m * m],
            scratch: vec![0.0; 2 * m * m],
            failures: 0,
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DriftProbeConfig {
        &self.cfg
    }

    /// Snapshots whose block was singular or not finite (skipped).
    pub fn failures(&self) -> usize {
        self.failures
    }

    /// Records one snapshot of the relevant block `a` (m × m row-major, column s = the
    /// representation of stimulus s), taken `snapshot_every` steps after the previous one.
    pub fn record(&mut self, a: &[f64]) {
        let m = self.cfg.m;
        let mm = m * m;
        if a.iter().any(|v| !v.is_finite())
            || polar_factor(a, m, &mut self.q, &mut self.scratch).is_none()
        {
            self.failures += 1;
            return;
        }
        let t = self.snapshots;
        // rotation estimator
        let w = (self.cfg.window / self.cfg.snapshot_every) as usize;
        let nf = w + 1;
        let slot = t % nf;
        self.frames[slot * mm..(slot + 1) * mm].copy_from_slice(&self.q);
        if t >= w {
            let old = (t - w) % nf;
            rotation_generator(
                &self.frames[old * mm..(old + 1) * mm],
                &self.q,
                m,
                &mut self.theta,
            );
            let mut total = 0.0;
            for (s, th) in self.plane_sums.iter_mut().zip(&self.theta) {
                *s += th * th;
                total += th * th;
            }
            self.per_window.push(total);
        }
        // MSD of normalised representations
        let nr = self.reps.len() / mm;
        let slot = t % nr;
        {
            let r = &mut self.reps[slot * mm..(slot + 1) * mm];
            for s in 0..m {
                let norm = (0..m).map(|i| a[i * m + s].powi(2)).sum::<f64>().sqrt();
                for i in 0..m {
                    r[i * m + s] = a[i * m + s] / norm;
                }
            }
        }
        for (k, lag) in self.cfg.lags.iter().enumerate() {
            let l = (lag / self.cfg.snapshot_every) as usize;
            if t >= l {
                let old = (t - l) % nr;
                let d: f64 = (0..mm)
                    .map(|i| (self.reps[slot * mm + i] - self.reps[old * mm + i]).powi(2))
                    .sum();
                self.msd_sums[k] += d / m as f64;
                self.msd_counts[k] += 1;
            }
        }
        self.snapshots += 1;
    }

    /// The estimates so far; `d` and `se` are NaN with fewer windows than batches.
    pub fn estimate(&self) -> DriftEstimate {
        let m = self.cfg.m;
        let l = self.cfg.window as f64;
        let nw = self.per_window.len();
        let scale = 1.0 / (2.0 * m as f64 * l);
        let (d, se) = if nw >= self.cfg.batches {
            let b = self.cfg.batches;
            let means: Vec<f64> = (0..b)
                .map(|k| {
                    let (lo, hi) = (k * nw / b, (k + 1) * nw / b);
                    self.per_window[lo..hi].iter().sum::<f64>() / (hi - lo) as f64 * scale
                })
                .collect();
            let d = self.per_window.iter().sum::<f64>() / nw as f64 * scale;
            let mean = means.iter().sum::<f64>() / b as f64;
            let var = means.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (b - 1) as f64;
            (d, (var / b as f64).sqrt())
        } else {
            (f64::NAN, f64::NAN)
        };
        let denom = nw.max(1) as f64 * l;
        let plane_rates: Vec<f64> = self.plane_sums.iter().map(|s| s / denom).collect();
        let stimulus_rates = (0..m)
            .map(|i| 0.5 * plane_rates[i * m..(i + 1) * m].iter().sum::<f64>())
            .collect();
        let mean_sq_angle = self
            .plane_sums
            .iter()
            .fold(0.0f64, |acc, s| acc.max(s / nw.max(1) as f64));
        let msd = self
            .cfg
            .lags
            .iter()
            .zip(self.msd_sums.iter().zip(&self.msd_counts))
            .filter(|(_, (_, c))| **c > 0)
            .map(|(lag, (s, c))| (*lag as f64, s / *c as f64))
            .collect();
        DriftEstimate {
            d,
            se,
            windows: nw,
            plane_rates,
            stimulus_rates,
            msd,
            mean_sq_angle,
        }
    }
}

/// A straight-line fit MSD(τ) = a + 2Dτ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiffusionFit {
    /// D, per step.
    pub d: f64,
    /// Its ordinary least-squares standard error (an underestimate: MSD values at nearby lags
    /// are correlated; prefer [`DriftEstimate::se`] for tests).
    pub se: f64,
    /// The intercept a: the normal-mode offset at τ → 0⁺ (P1 pitfall 4).
    pub intercept: f64,
    /// Number of lags used.
    pub points: usize,
}

/// Fits MSD = a + 2Dτ by least squares over the lags ≥ `min_lag` (P1 §2.4: skip lags below a
/// few normal relaxation times 1/(η(λ∥ − λ⊥))). Errors when fewer than 3 lags qualify.
///
/// # Errors
///
/// Fewer than 3 lags at or above `min_lag`.
pub fn fit_diffusion(msd: &[(f64, f64)], min_lag: f64) -> Result<DiffusionFit> {
    let pts: Vec<(f64, f64)> = msd
        .iter()
        .copied()
        .filter(|(t, v)| *t >= min_lag && v.is_finite())
        .collect();
    let n = pts.len();
    if n < 3 {
        return Err(Error::invalid(
            "fit_diffusion min_lag",
            min_lag,
            format!("a lag leaving at least 3 MSD points (left {n})"),
        ));
    }
    let nf = n as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / nf;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let rss: f64 = pts
        .iter()
        .map(|p| (p.1 - intercept - slope * p.0).powi(2))
        .sum();
    let se_slope = (rss / (nf - 2.0) / sxx).sqrt();
    Ok(DiffusionFit {
        d: slope / 2.0,
        se: se_slope / 2.0,
        intercept,
        points: n,
    })
}

/// Orthogonal Procrustes alignment (P1 §2.4: the code is defined only up to a rotation, so two
/// snapshots are compared after removing it): returns W·R, where R = argmin over orthogonal R
/// of ‖W R − W_ref‖_F is the orthogonal polar factor U Vᵀ of Wᵀ W_ref = U Σ Vᵀ. W and W_ref are
/// row-major `rows × cols`; R (cols × cols) mixes the columns. By SVD, so a rank-deficient
/// Wᵀ W_ref still gives an optimal (then non-unique) R.
///
/// # Errors
///
/// Slices that are not `rows × cols`, or an SVD that does not converge.
pub fn procrustes_align(w: &[f64], w_ref: &[f64], rows: usize, cols: usize) -> Result<Vec<f64>> {
    if rows == 0 || cols == 0 {
        return Err(Error::invalid(
            "procrustes_align shape",
            format!("{rows}x{cols}"),
            "at least one row and one column",
        ));
    }
    for (name, m) in [("W", w), ("W_ref", w_ref)] {
        if m.len() != rows * cols {
            return Err(Error::shape(
                format!("procrustes_align {name}"),
                format!("{rows}x{cols} = {} entries", rows * cols),
                format!("{} entries", m.len()),
            ));
        }
    }
    let mut c = vec![0.0; cols * cols];
    gemm(
        &mut c,
        cols,
        cols,
        rows,
        1.0,
        w,
        Trans::T,
        w_ref,
        Trans::N,
        0.0,
    );
    let (u, _, v) = svd(&c, cols, cols)?;
    let mut r = vec![0.0; cols * cols];
    gemm(
        &mut r,
        cols,
        cols,
        cols,
        1.0,
        &u,
        Trans::N,
        &v,
        Trans::T,
        0.0,
    );
    let mut aligned = vec![0.0; rows * cols];
    gemm(
        &mut aligned,
        rows,
        cols,
        cols,
        1.0,
        w,
        Trans::N,
        &r,
        Trans::N,
        0.0,
    );
    Ok(aligned)
}

/// Records the representation of fixed probe stimuli (P1 §2.4: r_s(t) = W(t)s for Oja,
/// F(t)s = M⁻¹W s for similarity matching, W₁(t)s for the autoencoder, or any encoder):
/// `stimuli` holds `n` stimuli of length `in_dim` back to back, `encode(s, r)` writes the
/// encoder output for stimulus s into r (length `out_dim`), and column k of `out`
/// (row-major `out_dim × n`) becomes the representation of stimulus k, the layout of the
/// relevant block [`DriftProbe::record`] takes. Stimuli need not be the data's principal
/// directions. `scratch` (length `out_dim`) keeps the call free of allocation.
///
/// # Errors
///
/// Slices whose lengths do not fit `n`, `in_dim` and `out_dim`.
pub fn probe_representation(
    stimuli: &[f64],
    in_dim: usize,
    out_dim: usize,
    mut encode: impl FnMut(&[f64], &mut [f64]),
    scratch: &mut [f64],
    out: &mut [f64],
) -> Result<()> {
    if in_dim == 0 || out_dim == 0 {
        return Err(Error::invalid(
            "probe_representation dimensions",
            format!("in_dim={in_dim}, out_dim={out_dim}"),
            "both at least 1",
        ));
    }
    if stimuli.is_empty() || !stimuli.len().is_multiple_of(in_dim) {
        return Err(Error::shape(
            "probe_representation stimuli",
            format!("a positive multiple of in_dim = {in_dim} entries"),
            format!("{} entries", stimuli.len()),
        ));
    }
    let n = stimuli.len() / in_dim;
    if out.len() != out_dim * n {
        return Err(Error::shape(
            "probe_representation out",
            format!(
                "out_dim x stimuli = {out_dim}x{n} = {} entries",
                out_dim * n
            ),
            format!("{} entries", out.len()),
        ));
    }
    if scratch.len() != out_dim {
        return Err(Error::shape(
            "probe_representation scratch",
            format!("out_dim = {out_dim} entries"),
            format!("{} entries", scratch.len()),
        ));
    }
    for (k, s) in stimuli.chunks_exact(in_dim).enumerate() {
        encode(s, scratch);
        for (i, v) in scratch.iter().enumerate() {
            out[i * n + k] = *v;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    fn rot2(theta: f64) -> [f64; 4] {
        [theta.cos(), -theta.sin(), theta.sin(), theta.cos()]
    }

    fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * m];
        for i in 0..m {
            for j in 0..m {
                c[i * m + j] = (0..m).map(|k| a[i * m + k] * b[k * m + j]).sum();
            }
        }
        c
    }

    #[test]
    fn polar_factor_is_orthogonal_and_recovers_the_rotation() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for m in [2usize, 3, 5, 10] {
            let a: Vec<f64> = (0..m * m)
                .map(|_| StandardNormal.sample(&mut rng))
                .collect();
            let mut q = vec![0.0; m * m];
            let mut s = vec![0.0; 2 * m * m];
            let it = polar_factor(&a, m, &mut q, &mut s).unwrap();
            assert!(it < 40, "{it}");
            let mut qt = vec![0.0; m * m];
            (0..m).for_each(|i| (0..m).for_each(|j| qt[j * m + i] = q[i * m + j]));
            let qtq = matmul(&qt, &q, m);
            for i in 0..m {
                for j in 0..m {
                    let e = if i == j { 1.0 } else { 0.0 };
                    assert!((qtq[i * m + j] - e).abs() < 1e-12, "m={m}");
                }
            }
            // P = Qᵀ A is symmetric
            let p = matmul(&qt, &a, m);
            for i in 0..m {
                for j in 0..m {
                    assert!((p[i * m + j] - p[j * m + i]).abs() < 1e-10);
                }
            }
        }
        // A = R·diag(2, 0.5) (R a rotation): Q = R
        let r = rot2(0.3);
        let a = matmul(&r, &[2.0, 0.0, 0.0, 0.5], 2);
        let mut q = [0.0; 4];
        polar_factor(&a, 2, &mut q, &mut [0.0; 8]).unwrap();
        for (x, y) in q.iter().zip(&r) {
            assert!((x - y).abs() < 1e-14);
        }
        assert!(polar_factor(&[1.0, 2.0, 2.0, 4.0], 2, &mut q, &mut [0.0; 8]).is_none());
    }

    #[test]
    fn rotation_generator_gives_the_angle() {
        let mut th = [0.0; 4];
        rotation_generator(&rot2(0.1), &rot2(0.35), 2, &mut th);
        assert!((th[2] - 0.25).abs() < 1e-14 && (th[1] + 0.25).abs() < 1e-14);
        // m = 3: a rotation by φ in plane (0, 2) gives Θ_20 = sin φ
        let phi: f64 = 0.01;
        let r = [
            phi.cos(),
            0.0,
            -phi.sin(),
            0.0,
            1.0,
            0.0,
            phi.sin(),
            0.0,
            phi.cos(),
        ];
        let id = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let mut th = [0.0; 9];
        rotation_generator(&id, &r, 3, &mut th);
        assert!((th[6] - phi.sin()).abs() < 1e-15 && th[1] == 0.0 && th[5] == 0.0);
    }

    /// A code that diffuses by a known rate: planar Brownian rotation with per-step angle
    /// variance 2D, plus a stretched, fluctuating normal part the polar factor must remove.
    #[test]
    fn probe_recovers_a_known_diffusion_coefficient() {
        let d_true = 2e-5;
        let every = 10;
        let cfg = DriftProbeConfig {
            m: 2,
            snapshot_every: every,
            window: 1000,
            lags: DriftProbeConfig::log_lags(every, 5000, 5),
            batches: 20,
            expected_snapshots: 40_000,
        };
        let mut probe = DriftProbe::new(cfg).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut angle = 0.0;
        let step_sd = (2.0 * d_true * every as f64).sqrt();
        for _ in 0..40_000 {
            let z: f64 = StandardNormal.sample(&mut rng);
            angle += step_sd * z;
            let e: f64 = StandardNormal.sample(&mut rng);
            let stretch = [1.0 + 0.05 * e, 0.02, 0.02, 0.9];
            probe.record(&matmul(&rot2(angle), &stretch, 2));
        }
        let est = probe.estimate();
        assert!(
            (est.d / d_true - 1.0).abs() < 4.0 * est.se / d_true,
            "{} ± {}",
            est.d,
            est.se
        );
        assert!(
            est.se / d_true < 0.1 && est.se / d_true > 0.01,
            "{}",
            est.se
        );
        assert!((est.stimulus_rates[0] - est.d).abs() < 1e-12);
        // MSD of unit vectors rotating by θ: 2(1 − cos θ) ≈ 2·D·τ for Dτ ≪ 1
        let fit = fit_diffusion(&est.msd, 500.0).unwrap();
        assert!((fit.d / d_true - 1.0).abs() < 0.3, "{fit:?}");
        assert!(est.msd.first().unwrap().0 == 10.0 && est.msd.last().unwrap().0 == 5000.0);
    }

    #[test]
    fn bad_configs_name_the_field() {
        let ok = DriftProbeConfig {
            m: 2,
            snapshot_every: 10,
            window: 100,
            lags: vec![10, 20],
            batches: 10,
            expected_snapshots: 0,
        };
        assert!(DriftProbe::new(ok.clone()).is_ok());
        let e = DriftProbe::new(DriftProbeConfig {
            window: 105,
            ..ok.clone()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("drift_probe.window") && e.contains("105"), "{e}");
        let e = DriftProbe::new(DriftProbeConfig { m: 1, ..ok.clone() })
            .unwrap_err()
            .to_string();
        assert!(e.contains("drift_probe.m"), "{e}");
        let e = DriftProbe::new(DriftProbeConfig {
            lags: vec![15],
            ..ok
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("drift_probe.lags"), "{e}");
        let e = fit_diffusion(&[(1.0, 1.0)], 0.0).unwrap_err().to_string();
        assert!(e.contains("fit_diffusion"), "{e}");
    }

    fn random_orthogonal(m: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let g: Vec<f64> = (0..m * m)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let mut q = vec![0.0; m * m];
        polar_factor(&g, m, &mut q, &mut vec![0.0; 2 * m * m]).unwrap();
        q
    }

    #[test]
    fn procrustes_undoes_a_random_rotation() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for (rows, cols) in [(7usize, 3usize), (4, 4), (20, 6)] {
            let w_ref: Vec<f64> = (0..rows * cols)
                .map(|_| StandardNormal.sample(&mut rng))
                .collect();
            let q = random_orthogonal(cols, 9 + cols as u64);
            // W = W_ref Qᵀ, a rotated copy: aligning it must give W_ref back
            let mut w = vec![0.0; rows * cols];
            gemm(
                &mut w,
                rows,
                cols,
                cols,
                1.0,
                &w_ref,
                Trans::N,
                &q,
                Trans::T,
                0.0,
            );
            let moved: f64 = w.iter().zip(&w_ref).map(|(a, b)| (a - b).abs()).sum();
            assert!(moved > 0.1, "the rotation must move W ({moved})");
            let aligned = procrustes_align(&w, &w_ref, rows, cols).unwrap();
            for (a, b) in aligned.iter().zip(&w_ref) {
                assert!((a - b).abs() < 1e-12, "{rows}x{cols}: {a} vs {b}");
            }
        }
        // a non-rotated target: the aligned W is never farther from W_ref than W itself
        let w = [1.0, 0.0, 0.0, 2.0, 1.0, 1.0];
        let w_ref = [0.0, 1.0, 2.0, 0.0, -1.0, 1.0];
        let aligned = procrustes_align(&w, &w_ref, 3, 2).unwrap();
        let dist = |a: &[f64]| {
            a.iter()
                .zip(&w_ref)
                .map(|(x, y)| (x - y).powi(2))
                .sum::<f64>()
        };
        assert!(
            dist(&aligned) < dist(&w),
            "{} vs {}",
            dist(&aligned),
            dist(&w)
        );
        // rotation keeps the norm
        let n2 = |a: &[f64]| a.iter().map(|x| x * x).sum::<f64>();
        assert!((n2(&aligned) - n2(&w)).abs() < 1e-12);
    }

    #[test]
    fn procrustes_and_probe_shapes_are_named_errors() {
        let e = procrustes_align(&[1.0; 6], &[1.0; 5], 3, 2)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "shape mismatch in procrustes_align W_ref: expected 3x2 = 6 entries, got 5 entries"
        );
        let e = procrustes_align(&[1.0; 4], &[1.0; 6], 3, 2)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("shape mismatch in procrustes_align W: expected 3x2"),
            "{e}"
        );
        let e = procrustes_align(&[], &[], 0, 2).unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid value for 'procrustes_align shape': got 0x2, expected at least one row and \
             one column"
        );
        let id = |s: &[f64], r: &mut [f64]| r.copy_from_slice(s);
        let e = probe_representation(&[1.0; 5], 2, 2, id, &mut [0.0; 2], &mut [0.0; 4])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "shape mismatch in probe_representation stimuli: expected a positive multiple of \
             in_dim = 2 entries, got 5 entries"
        );
        let e = probe_representation(&[1.0; 4], 2, 2, id, &mut [0.0; 2], &mut [0.0; 3])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("expected out_dim x stimuli = 2x2 = 4 entries, got 3"),
            "{e}"
        );
        let e = probe_representation(&[1.0; 4], 0, 2, id, &mut [0.0; 2], &mut [0.0; 4])
            .unwrap_err()
            .to_string();
        assert!(e.contains("'probe_representation dimensions'"), "{e}");
    }

    #[test]
    fn probe_representation_columns_are_the_encoded_stimuli() {
        // a linear encoder W (3 × 2) and two arbitrary stimuli: column k = W s_k
        let w = [1.0, 2.0, -1.0, 0.5, 0.0, 3.0];
        let stimuli = [1.0, 0.0, 0.6, -0.8];
        let mut out = [0.0; 6];
        let mut scratch = [0.0; 3];
        let encode = |s: &[f64], r: &mut [f64]| {
            for (i, ri) in r.iter_mut().enumerate() {
                *ri = w[2 * i] * s[0] + w[2 * i + 1] * s[1];
            }
        };
        probe_representation(&stimuli, 2, 3, encode, &mut scratch, &mut out).unwrap();
        let want = [1.0, 0.6 - 1.6, -1.0, -0.6 - 0.4, 0.0, -2.4];
        for (g, e) in out.iter().zip(&want) {
            assert!((g - e).abs() < 1e-15, "{out:?}");
        }
    }
}
