//! P4's neural hierarchical problems: every derivative of the AUC-M minimax problem and of the
//! L2 hyper-parameter bilevel problem (gradients, ∇²ᵧᵧg·v, ∇²ₓᵧg·v) against central finite
//! differences, the ROC AUC against hand counts, and named errors.

use std::sync::Arc;

use descent_core::testfns::{finite_diff_bilevel, finite_diff_minimax};
use descent_core::{BilevelProblem, MinimaxProblem, Problem, RngStreams};
use descent_data::{Dataset, Targets};
use descent_nn::{Activation, AucMinimax, Init, L2Hyperparameters, Loss, Mlp, Objective, roc_auc};

/// n samples with 3 features, class 1 for every 4th sample (p = 0.25).
fn data(n: usize, shift: f64) -> Arc<Dataset> {
    let features: Vec<f64> = (0..n * 3)
        .map(|i| (i as f64 * 0.73 + shift).sin() * 1.5)
        .collect();
    let labels = (0..n).map(|i| usize::from(i % 4 == 0)).collect();
    Arc::new(
        Dataset::new(
            "toy",
            features,
            3,
            Targets::Classes {
                labels,
                n_classes: 2,
            },
        )
        .unwrap(),
    )
}

fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    for (u, v) in a.iter().zip(b) {
        assert!(
            (u - v).abs() <= tol * v.abs().max(1.0),
            "{what}: {a:?} vs {b:?}"
        );
    }
}

#[test]
fn auc_minimax_gradients_match_finite_differences() {
    for sizes in [vec![3, 1], vec![3, 4, 1]] {
        let model = Mlp::new(sizes, Activation::Tanh, true).unwrap();
        let mut p = AucMinimax::new(model.clone(), data(24, 0.0), 64, &RngStreams::new(0)).unwrap();
        assert_eq!(p.positive_fraction(), 0.25);
        let (dx, dy) = p.dims();
        assert_eq!((dx + dy, dy), (p.layout().len(), 1));
        let mut z = model.init_params(Init::Xavier, &mut RngStreams::new(1).stream("init"));
        z.extend([0.3, 0.6, -0.4]);
        let (x, y) = z.split_at(dx);
        let (mut gx, mut gy) = (vec![0.0; dx], vec![0.0; 1]);
        let f = p.grads_xy(x, y, &mut gx, &mut gy);
        assert!((f - p.value_xy(x, y)).abs() < 1e-14);
        assert!((f - p.full_value(&z)).abs() < 1e-14, "full batch");
        let (fx, fy) = finite_diff_minimax(&mut p, x, y, 1e-6);
        close(&gx, &fx, 1e-7, "grad x");
        close(&gy, &fy, 1e-7, "grad alpha");
        // strongly concave in α with modulus 2p(1 − p)
        let h = 1e-3;
        let f2 = (p.value_xy(x, &[y[0] + h]) - 2.0 * f + p.value_xy(x, &[y[0] - h])) / (h * h);
        assert!((f2 + 2.0 * 0.25 * 0.75).abs() < 1e-6, "{f2}");
    }
}

#[test]
fn roc_auc_counts_pairs_with_ties_as_halves() {
    // positives 0.9, 0.4; negatives 0.1, 0.4, 0.8: pairs won 3 + 1.5 of 6
    let auc = roc_auc(
        &[0.9, 0.1, 0.4, 0.4, 0.8],
        &[true, false, true, false, false],
    )
    .unwrap();
    assert!((auc - 4.5 / 6.0).abs() < 1e-15);
    assert_eq!(roc_auc(&[1.0, 0.0], &[true, false]).unwrap(), 1.0);
    assert!(
        roc_auc(&[1.0, 0.0], &[true, true])
            .unwrap_err()
            .to_string()
            .contains("2 positives and 0 negatives")
    );
    let model = Mlp::new(vec![3, 1], Activation::Identity, true).unwrap();
    let mut p = AucMinimax::new(model, data(40, 0.0), 8, &RngStreams::new(0)).unwrap();
    assert_eq!(p.batches_per_epoch(), 5);
    let z = vec![0.0; p.layout().len()];
    assert_eq!(p.auc(&z, &data(40, 1.0)).unwrap(), 0.5, "constant scores");
    let e = AucMinimax::new(
        Mlp::new(vec![3, 2], Activation::Identity, true).unwrap(),
        data(8, 0.0),
        4,
        &RngStreams::new(0),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("3 inputs and 1 output"), "{e}");
}

fn hyper(sizes: Vec<usize>, regularize: &str) -> (L2Hyperparameters, Vec<f64>) {
    let model = Mlp::new(sizes, Activation::Tanh, true).unwrap();
    let s = RngStreams::new(2);
    let train = Objective::new(model.clone(), data(30, 0.0), Loss::Logistic, 100, &s).unwrap();
    let val = Objective::new(model.clone(), data(20, 0.5), Loss::Logistic, 100, &s).unwrap();
    let p = L2Hyperparameters::new(train, val, regularize).unwrap();
    let w = model.init_params(Init::Xavier, &mut s.stream("init"));
    (p, w)
}

/// ∇²ᵧᵧg·v and ∇²ₓᵧg·v (with the MLP's exact Pearlmutter HVP inside) against finite
/// differences, for a logistic regression and a tanh MLP's training loss.
#[test]
fn l2_hyperparameter_derivatives_match_finite_differences() {
    for (sizes, glob) in [(vec![3, 1], "*.weight"), (vec![3, 5, 1], "*")] {
        let (mut p, w) = hyper(sizes, glob);
        let (dx, dy) = p.dims();
        assert_eq!(dy, w.len());
        assert_eq!(p.layout().blocks()[0].name, "lambda");
        let lam: Vec<f64> = (0..dx).map(|j| -0.5 + 0.1 * j as f64).collect();
        let v: Vec<f64> = (0..dy).map(|j| ((j * 5 + 1) % 7) as f64 - 3.0).collect();
        let fd = finite_diff_bilevel(&mut p, &lam, &w, &v, 1e-5);
        let (mut gx, mut gy) = (vec![0.0; dx], vec![0.0; dy]);
        p.upper_grads(&lam, &w, &mut gx, &mut gy);
        close(&gx, &fd.upper_gx, 1e-7, "upper grad lambda");
        close(&gy, &fd.upper_gy, 1e-7, "upper grad w");
        p.lower_grad_y(&lam, &w, &mut gy);
        close(&gy, &fd.lower_gy, 1e-7, "lower grad w");
        let mut hv = vec![0.0; dy];
        p.lower_hvp_yy(&lam, &w, &v, &mut hv);
        close(&hv, &fd.hvp_yy, 1e-6, "hvp_yy");
        let mut jv = vec![0.0; dx];
        p.lower_jvp_xy(&lam, &w, &v, &mut jv);
        close(&jv, &fd.jvp_xy, 1e-6, "jvp_xy");
    }
    let (p, _) = hyper(vec![3, 1], "*.weight");
    assert_eq!(p.regularized(), &[0, 1, 2], "the weights, not the bias");
    let model = Mlp::new(vec![3, 1], Activation::Tanh, true).unwrap();
    let s = RngStreams::new(2);
    let obj = || Objective::new(model.clone(), data(10, 0.0), Loss::Logistic, 100, &s).unwrap();
    let e = L2Hyperparameters::new(obj(), obj(), "*.gain")
        .unwrap_err()
        .to_string();
    assert!(e.contains("layer0.weight, layer0.bias"), "{e}");
}
