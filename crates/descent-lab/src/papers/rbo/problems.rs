//! The problems several checks share: the wrinkled quadratic of R1 and R4–R6, and the Gaussian
//! mixture and 10-h-5 MLP of R3 and R7 (P6 spec §5).

use std::sync::Arc;

use descent_core::{Result, RngStreams, Spec};
use descent_data::{Dataset, GaussianMixture, MixtureConfig, Standardizer};
use descent_nn::{Loss, Objective};

/// The wrinkled quadratic f(θ) = θ²/2 + 0.05 sin(50θ) (spec T4–T6) with f' and f''. Its
/// curvature reaches 126 at the wrinkle minima, above 1/ρ for every radius the checks use.
pub fn wrinkled(x: f64) -> (f64, f64, f64) {
    (
        0.5 * x * x + 0.05 * (50.0 * x).sin(),
        x + 2.5 * (50.0 * x).cos(),
        1.0 - 125.0 * (50.0 * x).sin(),
    )
}

/// The signed curvature f''/(1 + f'²)^{3/2} of the graph of a 1-D function (positive where the
/// graph bends up, towards the ball).
pub fn curvature(f: &impl Fn(f64) -> (f64, f64, f64), x: f64) -> f64 {
    let (_, d1, d2) = f(x);
    d2 / (1.0 + d1 * d1).powf(1.5)
}

/// The R7 mixture drawn with `seed`: 5 classes in 10-D, sub-clusters 0.7/0.2/0.1, centre norm
/// 2·√10/2, noise 1; `per_class` training and as many test samples per class, standardised
/// with the training part's statistics. Streams "mixture", "train", "test".
pub fn mixture(per_class: usize, seed: u64) -> Result<(Arc<Dataset>, Arc<Dataset>)> {
    let streams = RngStreams::new(seed);
    let cfg = MixtureConfig {
        classes: 5,
        dim: 10,
        weights: vec![0.7, 0.2, 0.1],
        sep: 2.0,
        spread: 1.0,
        noise: 1.0,
        class_weights: Vec::new(),
    };
    let mix = GaussianMixture::new(cfg, &mut streams.stream("mixture"))?;
    let mut train = mix
        .sample_per_class(&[per_class; 5], &mut streams.stream("train"))?
        .data;
    let mut test = mix
        .sample_per_class(&[per_class; 5], &mut streams.stream("test"))?
        .data;
    let s = Standardizer::fit(&train)?;
    s.transform(&mut train)?;
    s.transform(&mut test)?;
    Ok((Arc::new(train), Arc::new(test)))
}

/// A softmax cross-entropy objective of an (inputs)-`hidden`-(classes) ReLU MLP on `data` with
/// minibatches of `batch`, and its He-initialised parameters (streams of `seed`).
pub fn mlp_objective(
    data: Arc<Dataset>,
    hidden: usize,
    batch: usize,
    seed: u64,
) -> Result<(Objective, Vec<f64>)> {
    let streams = RngStreams::new(seed);
    let k = data.n_outputs();
    let model = descent_nn::build_model(
        &Spec::parse(&format!(
            "mlp(sizes=[{},{hidden},{k}], act=relu)",
            data.n_features
        ))?,
        data.n_features,
        k,
    )?;
    let obj = Objective::new(model.mlp, data, Loss::SoftmaxCe, batch, &streams)?;
    let x0 = obj.init_params(model.init, &streams);
    Ok((obj, x0))
}
