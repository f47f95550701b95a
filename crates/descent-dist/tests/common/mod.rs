//! Fixtures shared by the privacy test binaries.

use std::sync::Arc;

use descent_data::{Dataset, Targets};
use descent_nn::{Activation, Mlp};

/// A tiny two-class set of `n` samples with 3 deterministic features, and the 3-5-2 tanh MLP
/// the tests train on it.
pub fn toy_data(n: usize) -> (Mlp, Arc<Dataset>) {
    let features = (0..n * 3)
        .map(|i| ((i * 7) % 11) as f64 / 5.0 - 1.0)
        .collect();
    let labels = (0..n).map(|i| (i * 5 % 7) % 2).collect();
    let data = Dataset::new(
        "toy",
        features,
        3,
        Targets::Classes {
            labels,
            n_classes: 2,
        },
    )
    .unwrap();
    let model = Mlp::new(vec![3, 5, 2], Activation::Tanh, true).unwrap();
    (model, Arc::new(data))
}
