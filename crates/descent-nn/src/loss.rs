//! Per-sample losses ℓ(o, y) of a model output `o`, with the gradient ∇ₒℓ and the Hessian-vector
//! product ∇²ₒℓ·v with respect to the output (the last one closes the R-operator of the exact
//! Hessian-vector product).

use std::fmt;
use std::str::FromStr;

use descent_core::{Error, Result};

use crate::activation::sigmoid;

/// The target of one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target<'a> {
    /// A class label.
    Class(usize),
    /// A real target vector.
    Real(&'a [f64]),
}

/// A per-sample loss of the model output. Objectives average it over the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Loss {
    /// Squared error with the ½ convention, ℓ = ½‖o − y‖² (so ∇ₒℓ = o − y and ∇²ₒℓ = I; the
    /// objective is the mean over samples, i.e. half the usual "MSE"). A class label `c` is
    /// read as the one-hot vector e_c.
    Mse,
    /// Softmax cross-entropy of logits o with a class label c: ℓ = logsumexp(o) − o_c, computed
    /// with the max shifted out so that large logits stay finite. A real target y is read as a
    /// (possibly unnormalised) soft label: ℓ = (Σy)·logsumexp(o) − yᵀo.
    SoftmaxCe,
    /// Binary cross-entropy with logits: ℓ = softplus(o) − y·o = −y log σ(o) − (1−y) log(1−σ(o))
    /// for one output and y ∈ {0, 1} (a class label) or a real y ∈ [0, 1]. With several outputs
    /// it is the sum over outputs (one-vs-rest for a class label).
    Logistic,
}

/// The names accepted by [`Loss::parse`].
pub const LOSS_NAMES: &[&str] = &["mse", "softmax-ce", "logistic"];

/// `descent list`: every loss with a one-line description.
pub const LOSSES: &[(&str, &str)] = &[
    (
        "softmax-ce",
        "softmax cross-entropy on logits with class labels (default for class targets; alias ce, cross-entropy)",
    ),
    (
        "mse",
        "mean over samples of 1/2 ||output - y||^2 (default for real targets; class labels one-hot; alias squared)",
    ),
    (
        "logistic",
        "binary cross-entropy with logits: one output, labels {0,1} or real targets in [0,1] (alias bce)",
    ),
];

impl Loss {
    /// Parses `mse` (`squared`), `softmax-ce` (`ce`, `cross-entropy`, `softmax_ce`),
    /// `logistic` (`bce`).
    pub fn parse(name: &str) -> Result<Loss> {
        match name {
            "mse" | "squared" => Ok(Loss::Mse),
            "softmax-ce" | "softmax_ce" | "ce" | "cross-entropy" => Ok(Loss::SoftmaxCe),
            "logistic" | "bce" => Ok(Loss::Logistic),
            other => Err(Error::unknown_name("loss", other, LOSS_NAMES)),
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::SoftmaxCe => "softmax-ce",
            Loss::Logistic => "logistic",
        }
    }

    /// ℓ(o, y).
    pub fn value(self, out: &[f64], t: Target<'_>) -> f64 {
        match self {
            Loss::Mse => (0..out.len())
                .map(|j| {
                    let r = out[j] - real_target(t, j);
                    0.5 * r * r
                })
                .sum(),
            Loss::SoftmaxCe => {
                let lse = log_sum_exp(out);
                match t {
                    Target::Class(c) => lse - out[c],
                    Target::Real(y) => y.iter().zip(out).map(|(y, o)| y * (lse - o)).sum(),
                }
            }
            Loss::Logistic => (0..out.len())
                .map(|j| softplus(out[j]) - binary_target(t, j, out.len()) * out[j])
                .sum(),
        }
    }

    /// Writes ∇ₒℓ into `g` and returns ℓ.
    pub fn value_grad(self, out: &[f64], t: Target<'_>, g: &mut [f64]) -> f64 {
        match self {
            Loss::Mse => {
                let mut l = 0.0;
                for j in 0..out.len() {
                    let r = out[j] - real_target(t, j);
                    g[j] = r;
                    l += 0.5 * r * r;
                }
                l
            }
            Loss::SoftmaxCe => {
                let lse = softmax_into(out, g);
                match t {
                    Target::Class(c) => {
                        g[c] -= 1.0;
                        lse - out[c]
                    }
                    Target::Real(y) => {
                        let mass: f64 = y.iter().sum();
                        let mut l = 0.0;
                        for j in 0..out.len() {
                            g[j] = mass * g[j] - y[j];
                            l += y[j] * (lse - out[j]);
                        }
                        l
                    }
                }
            }
            Loss::Logistic => {
                let mut l = 0.0;
                for j in 0..out.len() {
                    let y = binary_target(t, j, out.len());
                    g[j] = sigmoid(out[j]) - y;
                    l += softplus(out[j]) - y * out[j];
                }
                l
            }
        }
    }

    /// Writes ∇²ₒℓ·v into `hv` (`v` and `hv` have the output's length).
    pub fn hvp(self, out: &[f64], t: Target<'_>, v: &[f64], hv: &mut [f64]) {
        match self {
            Loss::Mse => hv.copy_from_slice(v),
            Loss::SoftmaxCe => {
                // H = m·(diag p − p pᵀ) with m = 1 for a label, Σy for a soft label
                let mass = match t {
                    Target::Class(_) => 1.0,
                    Target::Real(y) => y.iter().sum(),
                };
                softmax_into(out, hv);
                let pv: f64 = hv.iter().zip(v).map(|(p, v)| p * v).sum();
                for j in 0..out.len() {
                    hv[j] = mass * hv[j] * (v[j] - pv);
                }
            }
            Loss::Logistic => {
                for j in 0..out.len() {
                    let s = sigmoid(out[j]);
                    hv[j] = s * (1.0 - s) * v[j];
                }
            }
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Loss {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Loss::parse(s)
    }
}

/// The binary target of output `j` of `n` for the logistic loss: y_j; for a label c and a single
/// output, c itself (labels {0, 1} are y ∈ {0, 1}); for several outputs, one-vs-rest [c = j].
#[inline]
fn binary_target(t: Target<'_>, j: usize, n: usize) -> f64 {
    match t {
        Target::Class(c) if n == 1 => c as f64,
        _ => real_target(t, j),
    }
}

/// The real target of output `j`: y_j, or the one-hot indicator [c = j] of a label c.
#[inline]
fn real_target(t: Target<'_>, j: usize) -> f64 {
    match t {
        Target::Real(y) => y[j],
        Target::Class(c) => {
            if c == j {
                1.0
            } else {
                0.0
            }
        }
    }
}

/// log Σ exp(oᵢ) with the maximum shifted out (finite for any finite logits).
pub fn log_sum_exp(o: &[f64]) -> f64 {
    let m = o.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + o.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// Writes softmax(o) into `p` and returns logsumexp(o).
fn softmax_into(o: &[f64], p: &mut [f64]) -> f64 {
    let m = o.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = 0.0;
    for (p, x) in p.iter_mut().zip(o) {
        *p = (x - m).exp();
        s += *p;
    }
    p.iter_mut().for_each(|p| *p /= s);
    m + s.ln()
}

/// log(1 + eˣ) without overflow or cancellation.
#[inline]
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(loss: Loss, out: &[f64], t: Target<'_>) {
        let n = out.len();
        let h = 1e-6;
        let mut g = vec![0.0; n];
        let l = loss.value_grad(out, t, &mut g);
        assert!((l - loss.value(out, t)).abs() < 1e-14 * l.abs().max(1.0));
        let v: Vec<f64> = (0..n).map(|j| 0.3 * j as f64 - 0.5).collect();
        let mut hv = vec![0.0; n];
        loss.hvp(out, t, &v, &mut hv);
        let mut xp = out.to_vec();
        let (mut gp, mut gm) = (vec![0.0; n], vec![0.0; n]);
        for j in 0..n {
            xp[j] = out[j] + h;
            let fp = loss.value_grad(&xp, t, &mut gp);
            xp[j] = out[j] - h;
            let fm = loss.value(&xp, t);
            xp[j] = out[j];
            assert!(
                ((fp - fm) / (2.0 * h) - g[j]).abs() < 1e-8,
                "{loss} grad {j}"
            );
        }
        let op: Vec<f64> = out.iter().zip(&v).map(|(o, v)| o + h * v).collect();
        let om: Vec<f64> = out.iter().zip(&v).map(|(o, v)| o - h * v).collect();
        loss.value_grad(&op, t, &mut gp);
        loss.value_grad(&om, t, &mut gm);
        for j in 0..n {
            let fd = (gp[j] - gm[j]) / (2.0 * h);
            assert!(
                (fd - hv[j]).abs() < 1e-8,
                "{loss} hvp {j}: {fd} vs {}",
                hv[j]
            );
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let out = [0.4, -1.3, 2.2];
        let y = [0.2, 0.5, 0.3];
        check(Loss::Mse, &out, Target::Real(&[1.0, 0.0, -2.0]));
        check(Loss::Mse, &out, Target::Class(2));
        check(Loss::SoftmaxCe, &out, Target::Class(1));
        check(Loss::SoftmaxCe, &out, Target::Real(&y));
        check(Loss::Logistic, &[0.7], Target::Class(1));
        check(Loss::Logistic, &[-2.1], Target::Real(&[0.25]));
        check(Loss::Logistic, &out, Target::Class(0));
    }

    #[test]
    fn known_values() {
        // softmax-ce of equal logits is log k; logistic at 0 is log 2; mse has the ½
        assert!((Loss::SoftmaxCe.value(&[1.0; 4], Target::Class(3)) - 4f64.ln()).abs() < 1e-15);
        assert!((Loss::Logistic.value(&[0.0], Target::Class(0)) - 2f64.ln()).abs() < 1e-15);
        assert_eq!(Loss::Mse.value(&[3.0, 1.0], Target::Real(&[1.0, 1.0])), 2.0);
        assert_eq!(Loss::Mse.value(&[0.0, 1.0], Target::Class(1)), 0.0);
    }

    #[test]
    fn large_logits_stay_finite() {
        let out = [1000.0, -1000.0, 999.0];
        let mut g = [0.0; 3];
        let l = Loss::SoftmaxCe.value_grad(&out, Target::Class(1), &mut g);
        assert!(
            (l - (2000.0 + (1.0 + (-1.0f64).exp()).ln())).abs() < 1e-9,
            "{l}"
        );
        assert!(g.iter().all(|x| x.is_finite()));
        assert!((g.iter().sum::<f64>()).abs() < 1e-15);
        let mut hv = [0.0; 3];
        Loss::SoftmaxCe.hvp(&out, Target::Class(1), &[1.0, 2.0, 3.0], &mut hv);
        assert!(hv.iter().all(|x| x.is_finite()));
        let l = Loss::Logistic.value_grad(&[800.0], Target::Class(0), &mut g[..1]);
        assert_eq!(l, 800.0);
        assert_eq!(g[0], 1.0);
        assert_eq!(Loss::Logistic.value(&[-800.0], Target::Class(0)), 0.0);
    }

    #[test]
    fn parses_names() {
        assert_eq!(Loss::parse("ce").unwrap(), Loss::SoftmaxCe);
        let e = Loss::parse("hinge").unwrap_err().to_string();
        assert_eq!(e, "unknown loss 'hinge'; valid: mse, softmax-ce, logistic");
        assert_eq!(LOSSES.len(), LOSS_NAMES.len());
    }
}
