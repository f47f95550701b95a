//! Per-sample gradients and Hessian-vector products of an MLP, without materialising either:
//! a 4-16-3 tanh network with softmax cross-entropy on a minibatch of 8 iris flowers.
//! `cargo run --release -p descent-nn --example mlp_derivatives`

use std::sync::Arc;

use descent_core::prelude::*;
use descent_nn::prelude::*;

fn main() -> Result<()> {
    let streams = RngStreams::new(0);
    let data = Arc::new(descent_data::iris()?);
    let mlp = Mlp::new(vec![4, 16, 3], Activation::Tanh, true)?;
    let mut objective = Objective::new(mlp, data, Loss::SoftmaxCe, 8, &streams)?;
    let x = objective.init_params(Init::Xavier, &streams);
    let p = x.len();
    objective.resample(); // fixes the minibatch every call below sees

    // ‖∇ℓᵢ(x)‖ for each of the 8 samples (one backward pass, no B × P matrix)
    let b = objective.batch_len();
    let mut norms = vec![0.0; b];
    objective.per_sample_grad_norms(&x, &mut norms);
    println!("per-sample gradient norms: {norms:.3?}");

    // DP-SGD's clipped mean Σᵢ min(1, C/‖∇ℓᵢ‖)/B · ∇ℓᵢ: a second weighted pass ("ghost clipping")
    let clip = 0.5
        * norms
            .iter()
            .cloned()
            .fold(f64::INFINITY, f64::min)
            .max(1e-12);
    let weights: Vec<f64> = norms
        .iter()
        .map(|n| (clip / n).min(1.0) / b as f64)
        .collect();
    let mut clipped = vec![0.0; p];
    objective.weighted_grad(&x, &weights, &mut clipped);
    let clipped_norm = clipped.iter().map(|v| v * v).sum::<f64>().sqrt();
    println!("clipped mean gradient norm {clipped_norm:.4} (clip {clip:.4})");
    assert!(clipped_norm <= clip * (1.0 + 1e-12));

    // with weights 1/B the weighted gradient is the minibatch gradient
    let mut g = vec![0.0; p];
    let loss = objective.value_grad(&x, &mut g);
    let mut g_w = vec![0.0; p];
    objective.weighted_grad(&x, &vec![1.0 / b as f64; b], &mut g_w);
    let diff = g
        .iter()
        .zip(&g_w)
        .map(|(a, c)| (a - c).abs())
        .fold(0.0, f64::max);
    assert!(diff < 1e-14, "{diff}");

    // ∇²f·v by Pearlmutter's R-operator, against a central difference of gradients
    let v: Vec<f64> = (0..p)
        .map(|i| ((i * 7919) % 13) as f64 / 13.0 - 0.5)
        .collect();
    let mut hv = vec![0.0; p];
    objective.hvp(&x, &v, &mut hv);
    let h = 1e-5;
    let shifted = |s: f64| {
        x.iter()
            .zip(&v)
            .map(|(xi, vi)| xi + s * vi)
            .collect::<Vec<_>>()
    };
    let (mut gp, mut gm) = (vec![0.0; p], vec![0.0; p]);
    objective.value_grad(&shifted(h), &mut gp);
    objective.value_grad(&shifted(-h), &mut gm);
    let err = hv
        .iter()
        .zip(gp.iter().zip(&gm))
        .map(|(a, (u, w))| (a - (u - w) / (2.0 * h)).abs())
        .fold(0.0, f64::max);
    println!("loss {loss:.4}, {p} parameters, HVP vs finite differences: max error {err:.1e}");
    assert!(err < 1e-6);
    Ok(())
}
