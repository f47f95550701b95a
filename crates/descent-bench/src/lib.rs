#![deny(missing_docs)]
//! Shared set-up of descent's speed baselines (`cargo bench -p descent-bench`): one training
//! step of a tanh MLP (model + data + loss + Adam, exactly as `descent train` runs it) and the
//! dense products that step makes, so the step's FLOP rate can be compared with faer's
//! single-threaded dgemm at the same shapes. The PyTorch/JAX counterparts are in
//! `bench/compare/`.

use std::sync::Arc;

use descent_core::{Result, RngStreams, Spec};
use descent_data::{Dataset, Targets};
use descent_nn::{Activation, Init, Loss, Mlp, Objective};
use descent_optim::Optimizer;

/// A ready-to-step training problem.
pub struct StepSetup {
    /// Model + data + loss + batch size.
    pub objective: Objective,
    /// Adam(lr = 1e-3), initialised.
    pub optimizer: Box<dyn Optimizer>,
    /// The initial parameters.
    pub params: Vec<f64>,
}

/// A `sizes` tanh MLP on `4 · batch` random samples (classes when the last width is > 1, with
/// softmax cross-entropy; one real target with MSE otherwise), shuffled minibatches of `batch`,
/// Adam(lr = 1e-3), seed 0.
pub fn step_setup(sizes: &[usize], batch: usize) -> Result<StepSetup> {
    let streams = RngStreams::new(0);
    let (n_in, n_out) = (sizes[0], *sizes.last().expect("sizes"));
    let n = 4 * batch;
    let spec = Spec::parse(&format!(
        "gaussian(dim={n_in}, relevant=1, var_irr=1, basis=identity, n={n})"
    ))?;
    let mut data: Dataset = descent_data::from_spec(&spec)?;
    let loss = if n_out > 1 {
        data.targets = Targets::Classes {
            labels: (0..n).map(|i| i % n_out).collect(),
            n_classes: n_out,
        };
        Loss::SoftmaxCe
    } else {
        Loss::Mse
    };
    let mlp = Mlp::new(sizes.to_vec(), Activation::Tanh, true)?;
    let objective = Objective::new(mlp, Arc::new(data), loss, batch, &streams)?;
    let params = objective.init_params(Init::Xavier, &streams);
    let mut optimizer = descent_optim::build_optimizer(&Spec::parse("adam(lr=1e-3)")?)?;
    optimizer.init(&objective.model().layout(), &streams)?;
    Ok(StepSetup {
        objective,
        optimizer,
        params,
    })
}

/// The dense products (m, n, k) of one gradient step of a `sizes` MLP at batch `b`, as the
/// engine makes them: per layer the forward product (b × out, inner fan-in) and the weight
/// gradient (out × in, inner b), and for every layer but the first the backward signal
/// (b × in, inner out).
pub fn step_products(sizes: &[usize], b: usize) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    for (l, w) in sizes.windows(2).enumerate() {
        let (fi, fo) = (w[0], w[1]);
        out.push((b, fo, fi));
        out.push((fo, fi, b));
        if l > 0 {
            out.push((b, fi, fo));
        }
    }
    out
}

/// Floating-point operations of [`step_products`]: 2·m·n·k each.
pub fn step_flops(sizes: &[usize], b: usize) -> f64 {
    step_products(sizes, b)
        .iter()
        .map(|&(m, n, k)| 2.0 * (m * n * k) as f64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_flops_of_the_benchmarked_nets() {
        // 784-256-10 at batch 128: 2·128·(2·784·256 + 3·256·10) = 104.7 MFLOP
        assert_eq!(step_flops(&[784, 256, 10], 128), 104_726_528.0);
        assert_eq!(step_products(&[2, 64, 64, 1], 16).len(), 8);
        let mut s = step_setup(&[2, 64, 64, 1], 16).unwrap();
        let info = s.optimizer.step(&mut s.params, &mut s.objective).unwrap();
        assert!(info.loss.is_some_and(f64::is_finite));
    }
}
