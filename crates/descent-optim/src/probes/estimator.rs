//! The bias and variance of a stochastic gradient estimator against a known true gradient (P10's
//! per-coordinate MSE, τ-MSE and along-gradient error), and the second moment E\[vvᵀ\] of a
//! perturbation law.

use descent_core::linalg::{Trans, gemm};
use descent_core::{Error, Gradient, Problem, Result};

use crate::zeroth_order::{ZoEstimator, ZoGradient};

/// Accumulates estimates g of a fixed true gradient a and reports bias, variance and MSE, total
/// and per coordinate, plus the error along â = a/‖a‖ (identically 0 for DAP in the μ → 0
/// limit, spec §2.3). O(d) per sample, no allocation after construction.
#[derive(Debug, Clone)]
pub struct EstimatorProbe {
    truth: Vec<f64>,
    unit: Vec<f64>,
    n: u64,
    sum_e: Vec<f64>,
    sum_e2: Vec<f64>,
    sum_along2: f64,
    sum_g2: f64,
}

/// What [`EstimatorProbe::stats`] reports. With e = g − a over n samples:
#[derive(Debug, Clone, PartialEq)]
pub struct EstimatorStats {
    /// The number of estimates n.
    pub samples: u64,
    /// ‖a‖².
    pub truth_sq_norm: f64,
    /// Mean estimate E g.
    pub mean: Vec<f64>,
    /// E g − a.
    pub bias: Vec<f64>,
    /// ‖E g − a‖.
    pub bias_norm: f64,
    /// E eᵢ² per coordinate.
    pub coord_mse: Vec<f64>,
    /// E eᵢ² − (E eᵢ)² per coordinate.
    pub coord_var: Vec<f64>,
    /// E ‖e‖².
    pub total_mse: f64,
    /// E ‖e‖² − ‖E e‖².
    pub total_var: f64,
    /// E (âᵀe)²: the error along the true gradient (NaN when a = 0).
    pub along_mse: f64,
    /// E ‖g‖².
    pub second_moment: f64,
}

impl EstimatorProbe {
    /// A probe for estimates of `truth`.
    pub fn new(truth: &[f64]) -> Self {
        let n = truth.iter().map(|x| x * x).sum::<f64>().sqrt();
        let d = truth.len();
        EstimatorProbe {
            truth: truth.to_vec(),
            unit: truth.iter().map(|x| x / n).collect(),
            n: 0,
            sum_e: vec![0.0; d],
            sum_e2: vec![0.0; d],
            sum_along2: 0.0,
            sum_g2: 0.0,
        }
    }

    /// Adds one estimate (length must equal the truth's; a programming error otherwise).
    pub fn add(&mut self, g: &[f64]) {
        assert_eq!(g.len(), self.truth.len(), "probe: estimate length");
        let mut along = 0.0;
        let mut g2 = 0.0;
        #[allow(clippy::needless_range_loop)] // five arrays indexed together
        for i in 0..g.len() {
            let e = g[i] - self.truth[i];
            self.sum_e[i] += e;
            self.sum_e2[i] += e * e;
            along += self.unit[i] * e;
            g2 += g[i] * g[i];
        }
        self.sum_along2 += along * along;
        self.sum_g2 += g2;
        self.n += 1;
    }

    /// Samples added so far.
    pub fn samples(&self) -> u64 {
        self.n
    }

    /// The statistics so far (NaN entries when no sample was added).
    pub fn stats(&self) -> EstimatorStats {
        let n = self.n as f64;
        let bias: Vec<f64> = self.sum_e.iter().map(|s| s / n).collect();
        let mean: Vec<f64> = bias.iter().zip(&self.truth).map(|(b, a)| a + b).collect();
        let coord_mse: Vec<f64> = self.sum_e2.iter().map(|s| s / n).collect();
        let coord_var: Vec<f64> = coord_mse
            .iter()
            .zip(&bias)
            .map(|(m, b)| m - b * b)
            .collect();
        let bias_sq: f64 = bias.iter().map(|b| b * b).sum();
        let total_mse: f64 = coord_mse.iter().sum();
        EstimatorStats {
            samples: self.n,
            truth_sq_norm: self.truth.iter().map(|x| x * x).sum(),
            mean,
            bias_norm: bias_sq.sqrt(),
            bias,
            coord_mse,
            coord_var,
            total_mse,
            total_var: total_mse - bias_sq,
            along_mse: self.sum_along2 / n,
            second_moment: self.sum_g2 / n,
        }
    }
}

/// Draws `samples` estimates from `estimator` at `x` (no resampling in between: the estimator's
/// own randomness only) and compares them with `truth`.
///
/// # Errors
///
/// Zero samples, or `x` or `truth` of another length than the estimator's dimension.
pub fn probe_estimator(
    estimator: &mut dyn Gradient,
    x: &[f64],
    truth: &[f64],
    samples: usize,
) -> Result<EstimatorStats> {
    if x.len() != truth.len() || estimator.dim() != x.len() {
        return Err(Error::shape(
            "probe_estimator (x, truth and the estimator's dimension)",
            estimator.dim(),
            format!("x of {} and truth of {}", x.len(), truth.len()),
        ));
    }
    if samples == 0 {
        return Err(Error::invalid("probe samples", 0, "an integer >= 1"));
    }
    let mut probe = EstimatorProbe::new(truth);
    let mut g = vec![0.0; x.len()];
    for _ in 0..samples {
        estimator.value_grad(x, &mut g);
        probe.add(&g);
    }
    Ok(probe.stats())
}

/// [`probe_estimator`] for a [`ZoGradient`] whose inner problem also offers `Gradient`: the
/// truth is the inner problem's exact gradient at `x`.
///
/// # Errors
///
/// An inner problem without gradients, or as [`probe_estimator`].
pub fn probe_zo<P: Problem>(
    zo: &mut ZoGradient<P, ZoEstimator>,
    x: &[f64],
    samples: usize,
) -> Result<EstimatorStats> {
    let mut truth = vec![0.0; x.len()];
    let inner = zo.inner_mut();
    let name = inner.name();
    let caps = inner.caps();
    let g = inner.as_gradient().ok_or_else(|| Error::Capability {
        method: "probe_zo (the true gradient)".into(),
        needs: "Gradient".into(),
        problem: name,
        offers: caps.to_string(),
    })?;
    g.value_grad(x, &mut truth);
    probe_estimator(zo, x, &truth, samples)
}

/// The τ-MSE of the authors' synthetic figures: the mean of (gᵢ − aᵢ)² over the coordinates
/// with |aᵢ| ≥ τ; `None` when no coordinate qualifies.
pub fn tau_mse(g: &[f64], truth: &[f64], tau: f64) -> Option<f64> {
    let (mut s, mut k) = (0.0, 0usize);
    for (gi, ai) in g.iter().zip(truth) {
        if ai.abs() >= tau {
            s += (gi - ai) * (gi - ai);
            k += 1;
        }
    }
    (k > 0).then(|| s / k as f64)
}

/// Accumulates E\[vvᵀ\] of sampled vectors, in blocks multiplied with GEMM.
#[derive(Debug, Clone)]
pub struct SecondMoment {
    d: usize,
    n: u64,
    sum: Vec<f64>,
    block: Vec<f64>,
    rows: usize,
}

const BLOCK_ROWS: usize = 256;

impl SecondMoment {
    /// An accumulator for vectors of length `d`.
    pub fn new(d: usize) -> Self {
        SecondMoment {
            d,
            n: 0,
            sum: vec![0.0; d * d],
            block: vec![0.0; BLOCK_ROWS * d],
            rows: 0,
        }
    }

    /// Adds v (length d).
    pub fn add(&mut self, v: &[f64]) {
        assert_eq!(v.len(), self.d, "second moment: vector length");
        self.block[self.rows * self.d..(self.rows + 1) * self.d].copy_from_slice(v);
        self.rows += 1;
        self.n += 1;
        if self.rows == BLOCK_ROWS {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.rows == 0 {
            return;
        }
        let d = self.d;
        let b = &self.block[..self.rows * d];
        gemm(
            &mut self.sum,
            d,
            d,
            self.rows,
            1.0,
            b,
            Trans::T,
            b,
            Trans::N,
            1.0,
        );
        self.rows = 0;
    }

    /// E\[vvᵀ\], row-major d × d.
    pub fn matrix(&mut self) -> Vec<f64> {
        self.flush();
        let n = self.n as f64;
        self.sum.iter().map(|s| s / n).collect()
    }

    /// (max |E\[vvᵀ\]ᵢᵢ − δ|, max |E\[vvᵀ\]ᵢⱼ| over i ≠ j).
    pub fn deviation_from_identity(&mut self, delta: f64) -> (f64, f64) {
        let m = self.matrix();
        let d = self.d;
        let (mut diag, mut off) = (0.0f64, 0.0f64);
        for i in 0..d {
            for j in 0..d {
                let x = m[i * d + j];
                if i == j {
                    diag = diag.max((x - delta).abs());
                } else {
                    off = off.max(x.abs());
                }
            }
        }
        (diag, off)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_reports_exact_moments_of_a_two_point_law() {
        // g = a ± (1, -1): bias 0, per-coordinate MSE 1, along-a error (â·(1,-1))².
        let a = [3.0, 4.0];
        let mut p = EstimatorProbe::new(&a);
        p.add(&[4.0, 3.0]);
        p.add(&[2.0, 5.0]);
        let s = p.stats();
        assert_eq!(s.bias, vec![0.0, 0.0]);
        assert_eq!(s.coord_mse, vec![1.0, 1.0]);
        assert_eq!(s.total_mse, 2.0);
        assert_eq!(s.total_var, 2.0);
        assert!((s.along_mse - 0.04).abs() < 1e-15);
        assert_eq!(s.second_moment, 27.0); // (25 + 29)/2
        let mut q = EstimatorProbe::new(&a);
        q.add(&[4.0, 5.0]);
        let s = q.stats();
        assert_eq!(s.bias, vec![1.0, 1.0]);
        assert_eq!(s.total_var, 0.0);
        assert_eq!(s.bias_norm, 2f64.sqrt());
    }

    #[test]
    fn tau_mse_selects_coordinates() {
        assert_eq!(tau_mse(&[1.0, 5.0, 0.0], &[0.0, 3.0, 1.0], 0.5), Some(2.5));
        assert_eq!(tau_mse(&[1.0], &[0.0], 0.5), None);
    }

    #[test]
    fn second_moment_matches_direct_sum() {
        let mut m = SecondMoment::new(3);
        let mut direct = [0.0; 9];
        for k in 0..600 {
            let v = [k as f64 * 0.01, 1.0 - k as f64 * 0.002, (k % 7) as f64];
            for i in 0..3 {
                for j in 0..3 {
                    direct[i * 3 + j] += v[i] * v[j] / 600.0;
                }
            }
            m.add(&v);
        }
        for (a, b) in m.matrix().iter().zip(&direct) {
            assert!((a - b).abs() < 1e-12 * b.abs().max(1.0));
        }
    }
}
