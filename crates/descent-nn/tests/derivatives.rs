//! Every derivative of the engine against central finite differences and explicit per-sample
//! computations, on random networks of several shapes, all activations and all losses.

use std::sync::Arc;

use descent_core::testfns::{finite_diff_grad, finite_diff_hvp};
use descent_core::{Function, Gradient, HessianVector, PerSampleGradients, RngStreams};
use descent_data::{Dataset, Targets};
use descent_nn::{Activation, Loss, Mlp, Objective};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rand::RngExt;

const ACTS: [Activation; 5] = [
    Activation::Identity,
    Activation::Tanh,
    Activation::Relu,
    Activation::Gelu,
    Activation::Sigmoid,
];
const LOSSES: [Loss; 3] = [Loss::Mse, Loss::SoftmaxCe, Loss::Logistic];

/// A random network, dataset and parameter point.
#[derive(Debug, Clone)]
struct Case {
    model: Mlp,
    loss: Loss,
    data: Arc<Dataset>,
    params: Vec<f64>,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        1usize..4,
        prop::collection::vec(1usize..6, 0..3),
        1usize..4,
        0usize..5,
        any::<bool>(),
        0usize..3,
        1usize..7,
        any::<u64>(),
        any::<bool>(),
    )
        .prop_map(|(n_in, hidden, n_out, act, bias, loss, n, seed, real)| {
            let loss = LOSSES[loss];
            let n_out = match loss {
                Loss::SoftmaxCe => n_out.max(2),
                Loss::Logistic => 1,
                Loss::Mse => n_out,
            };
            let mut sizes = vec![n_in];
            sizes.extend(hidden);
            sizes.push(n_out);
            let model = Mlp::new(sizes, ACTS[act], bias).unwrap();
            let mut rng = RngStreams::new(seed).stream("case");
            let mut u = |s: f64| s * (2.0 * rng.random::<f64>() - 1.0);
            let features: Vec<f64> = (0..n * n_in).map(|_| u(1.5)).collect();
            let targets = match loss {
                Loss::SoftmaxCe => Targets::Classes {
                    labels: (0..n).map(|i| (seed as usize + 7 * i) % n_out).collect(),
                    n_classes: n_out,
                },
                Loss::Logistic if real => Targets::Real {
                    values: (0..n).map(|_| 0.5 + u(0.5)).collect(),
                    dim: 1,
                },
                Loss::Logistic => Targets::Classes {
                    labels: (0..n).map(|i| (seed as usize + i) % 2).collect(),
                    n_classes: 2,
                },
                Loss::Mse => Targets::Real {
                    values: (0..n * n_out).map(|_| u(1.0)).collect(),
                    dim: n_out,
                },
            };
            let params: Vec<f64> = (0..model.n_params()).map(|_| u(1.2)).collect();
            let data = Arc::new(Dataset::new("random", features, n_in, targets).unwrap());
            Case {
                model,
                loss,
                data,
                params,
                seed,
            }
        })
}

/// A full-batch objective over the case's data.
fn objective(c: &Case) -> Objective {
    Objective::new(
        c.model.clone(),
        c.data.clone(),
        c.loss,
        usize::MAX,
        &RngStreams::new(c.seed),
    )
    .unwrap()
}

fn close(a: &[f64], b: &[f64], tol: f64, what: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        prop_assert!(
            (x - y).abs() <= tol * x.abs().max(y.abs()).max(1.0),
            "{} [{}]: {} vs {}",
            what,
            i,
            x,
            y
        );
    }
    Ok(())
}

fn direction(n: usize, seed: u64, stream: &str) -> Vec<f64> {
    let mut rng = RngStreams::new(seed).stream(stream);
    (0..n).map(|_| 2.0 * rng.random::<f64>() - 1.0).collect()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 32,
        rng_seed: RngSeed::Fixed(20240607),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn gradient_matches_finite_differences(c in case()) {
        let mut obj = objective(&c);
        let mut g = vec![0.0; c.params.len()];
        let f = obj.value_grad(&c.params, &mut g);
        prop_assert!((f - obj.value(&c.params)).abs() <= 1e-13 * f.abs().max(1.0));
        let fd = finite_diff_grad(&mut obj, &c.params, 1e-5);
        close(&g, &fd, 1e-6, "gradient")?;
    }

    #[test]
    fn hvp_matches_finite_differences_and_is_symmetric(c in case()) {
        let mut obj = objective(&c);
        let n = c.params.len();
        let v = direction(n, c.seed, "v");
        let u = direction(n, c.seed, "u");
        let (mut hv, mut hu) = (vec![0.0; n], vec![0.0; n]);
        obj.hvp(&c.params, &v, &mut hv);
        obj.hvp(&c.params, &u, &mut hu);
        let fd = finite_diff_hvp(&mut obj, &c.params, &v, 1e-5);
        close(&hv, &fd, 1e-6, "hvp")?;
        let uhv: f64 = u.iter().zip(&hv).map(|(a, b)| a * b).sum();
        let vhu: f64 = v.iter().zip(&hu).map(|(a, b)| a * b).sum();
        let scale = hv.iter().chain(&hu).map(|x| x.abs()).sum::<f64>().max(1.0);
        prop_assert!((uhv - vhu).abs() <= 1e-12 * scale, "u'Hv {} vs v'Hu {}", uhv, vhu);
    }

    #[test]
    fn per_sample_norms_equal_explicit_per_sample_gradients(c in case()) {
        let mut obj = objective(&c);
        let b = obj.batch_len();
        prop_assert_eq!(b, c.data.len());
        let mut norms = vec![0.0; b];
        obj.per_sample_grad_norms(&c.params, &mut norms);
        let mut ws = c.model.workspace(1);
        let mut g = vec![0.0; c.params.len()];
        let mut explicit = Vec::new();
        for i in 0..b {
            c.model.loss_grad(&c.params, &c.data, &[i], c.loss, &mut ws, &mut g);
            explicit.push(g.iter().map(|x| x * x).sum::<f64>().sqrt());
        }
        close(&norms, &explicit, 1e-12, "per-sample norm")?;
    }

    #[test]
    fn weighted_grad_is_the_weighted_sum_of_per_sample_gradients(c in case()) {
        let mut obj = objective(&c);
        let b = obj.batch_len();
        let n = c.params.len();
        // equal weights 1/B give the batch gradient and the mean loss
        let (mut g, mut gw) = (vec![0.0; n], vec![0.0; n]);
        let f = obj.value_grad(&c.params, &mut g);
        let fw = obj.weighted_grad(&c.params, &vec![1.0 / b as f64; b], &mut gw);
        prop_assert!((f - fw).abs() <= 1e-13 * f.abs().max(1.0));
        close(&g, &gw, 1e-13, "weighted 1/B vs batch gradient")?;
        // arbitrary weights against explicit per-sample gradients
        let w = direction(b, c.seed, "w");
        let fw = obj.weighted_grad(&c.params, &w, &mut gw);
        let mut ws = c.model.workspace(1);
        let (mut expected, mut gi) = (vec![0.0; n], vec![0.0; n]);
        let mut fe = 0.0;
        for (i, wi) in w.iter().enumerate() {
            fe += wi * c.model.loss_grad(&c.params, &c.data, &[i], c.loss, &mut ws, &mut gi);
            expected.iter_mut().zip(&gi).for_each(|(e, g)| *e += wi * g);
        }
        prop_assert!((fw - fe).abs() <= 1e-12 * fe.abs().max(1.0));
        close(&gw, &expected, 1e-12, "weighted gradient")?;
    }

    #[test]
    fn chunked_workspaces_agree_with_one_chunk(c in case()) {
        let idx: Vec<usize> = (0..c.data.len()).collect();
        let n = c.params.len();
        let v = direction(n, c.seed, "v");
        let mut results = Vec::new();
        for max_batch in [1, 2, idx.len()] {
            let mut ws = c.model.workspace(max_batch);
            let (mut g, mut hv, mut norms) = (vec![0.0; n], vec![0.0; n], vec![0.0; idx.len()]);
            let f = c.model.loss_grad(&c.params, &c.data, &idx, c.loss, &mut ws, &mut g);
            c.model.hvp(&c.params, &c.data, &idx, c.loss, &v, &mut ws, &mut hv);
            c.model.per_sample_grad_norms(&c.params, &c.data, &idx, c.loss, &mut ws, &mut norms);
            let e = c.model.evaluate(&c.params, &c.data, c.loss, &mut ws);
            prop_assert!((e.loss - f).abs() <= 1e-13 * f.abs().max(1.0));
            results.push((g, hv, norms));
        }
        for r in &results[..2] {
            close(&r.0, &results[2].0, 1e-12, "chunked gradient")?;
            close(&r.1, &results[2].1, 1e-12, "chunked hvp")?;
            close(&r.2, &results[2].2, 1e-12, "chunked norms")?;
        }
    }

    #[test]
    fn input_jacobian_matches_finite_differences(c in case()) {
        let mut obj = objective(&c);
        let x = c.data.row(0).to_vec();
        let jac = obj.input_jacobian(&c.params, &x).unwrap();
        let (n0, no) = (c.model.n_inputs(), c.model.n_outputs());
        let h = 1e-5;
        let mut fd = vec![0.0; no * n0];
        let mut xp = x.clone();
        for j in 0..n0 {
            xp[j] = x[j] + h;
            let op = obj.predict(&c.params, &xp).unwrap();
            xp[j] = x[j] - h;
            let om = obj.predict(&c.params, &xp).unwrap();
            xp[j] = x[j];
            for r in 0..no {
                fd[r * n0 + j] = (op[r] - om[r]) / (2.0 * h);
            }
        }
        close(&jac, &fd, 1e-6, "input Jacobian")?;
    }
}

#[test]
fn large_networks_use_gemm_and_agree_with_finite_differences() {
    // widths above the plain-loop threshold, so the faer GEMM path is exercised
    let model = Mlp::new(vec![20, 24, 5], Activation::Gelu, true).unwrap();
    let n = 40;
    let mut rng = RngStreams::new(5).stream("data");
    let features: Vec<f64> = (0..n * 20).map(|_| rng.random::<f64>() - 0.5).collect();
    let labels = (0..n).map(|i| i % 5).collect();
    let data = Dataset::new(
        "wide",
        features,
        20,
        Targets::Classes {
            labels,
            n_classes: 5,
        },
    )
    .unwrap();
    let streams = RngStreams::new(1);
    let mut obj = Objective::new(model, Arc::new(data), Loss::SoftmaxCe, 16, &streams).unwrap();
    let x = obj.init_params(descent_nn::Init::TorchUniform, &streams);
    let mut g = vec![0.0; x.len()];
    obj.value_grad(&x, &mut g);
    let fd = finite_diff_grad(&mut obj, &x, 1e-5);
    for (a, b) in g.iter().zip(&fd) {
        assert!((a - b).abs() < 1e-8, "{a} vs {b}");
    }
    let v: Vec<f64> = (0..x.len()).map(|i| ((i % 7) as f64 - 3.0) * 0.1).collect();
    let mut hv = vec![0.0; x.len()];
    obj.hvp(&x, &v, &mut hv);
    let fd = finite_diff_hvp(&mut obj, &x, &v, 1e-5);
    for (a, b) in hv.iter().zip(&fd) {
        assert!((a - b).abs() < 1e-7, "{a} vs {b}");
    }
}
