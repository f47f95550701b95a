//! The synthetic data of R3 and R4, every draw from the run seed: imbalanced two-class Gaussians
//! (R3) and a sparse logistic teacher (R4).

use descent_core::Result;
use descent_core::rng::{Rng, std_normal};
use descent_data::{Dataset, Targets};
use rand::RngExt;

/// `n` samples in `dim` dimensions, exactly round(p·n) of class 1 (mean +shift·1) and the rest
/// of class 0 (mean −shift·1), unit covariance, in a shuffled order.
pub fn imbalanced_gaussians(
    name: &str,
    n: usize,
    dim: usize,
    p: f64,
    shift: f64,
    rng: &mut Rng,
) -> Result<Dataset> {
    let n_pos = (p * n as f64).round() as usize;
    let mut labels: Vec<usize> = (0..n).map(|i| usize::from(i < n_pos)).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        labels.swap(i, j);
    }
    let mut features = Vec::with_capacity(n * dim);
    for &l in &labels {
        let m = if l == 1 { shift } else { -shift };
        features.extend((0..dim).map(|_| m + std_normal(rng)));
    }
    Dataset::new(
        name,
        features,
        dim,
        Targets::Classes {
            labels,
            n_classes: 2,
        },
    )
}

/// `n` samples x ~ N(0, I) labelled y ~ Bernoulli(σ(xᵀw*)) by the teacher `w_star`.
pub fn logistic_teacher(name: &str, n: usize, w_star: &[f64], rng: &mut Rng) -> Result<Dataset> {
    let dim = w_star.len();
    let mut features = Vec::with_capacity(n * dim);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let x: Vec<f64> = (0..dim).map(|_| std_normal(rng)).collect();
        let s: f64 = x.iter().zip(w_star).map(|(a, b)| a * b).sum();
        let prob = 1.0 / (1.0 + (-s).exp());
        labels.push(usize::from(rng.random::<f64>() < prob));
        features.extend(x);
    }
    Dataset::new(
        name,
        features,
        dim,
        Targets::Classes {
            labels,
            n_classes: 2,
        },
    )
}
