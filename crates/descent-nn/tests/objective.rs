//! Objectives, the builder and the error messages for bad specs and mismatched shapes; an
//! end-to-end training run of softmax regression.

use std::sync::Arc;

use descent_core::{Caps, Function, Gradient, PerSampleGradients, Problem, RngStreams, Stochastic};
use descent_data::{Dataset, Targets};
use descent_nn::{
    Activation, Init, Loss, Mlp, Objective, build_model, choose_loss, output_width, parse_model,
};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

/// Two Gaussian blobs in 2-D with means ±(1.5, 1.0) and unit variance: class = blob.
fn blobs(n: usize, seed: u64) -> Dataset {
    let mut rng = RngStreams::new(seed).stream("blobs");
    let mut features = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % 2;
        let s = if c == 1 { 1.0 } else { -1.0 };
        let (e0, e1): (f64, f64) = (
            StandardNormal.sample(&mut rng),
            StandardNormal.sample(&mut rng),
        );
        features.extend([s * 1.5 + 0.5 * e0, s * 1.0 + 0.5 * e1]);
        labels.push(c);
    }
    Dataset::new(
        "blobs",
        features,
        2,
        Targets::Classes {
            labels,
            n_classes: 2,
        },
    )
    .unwrap()
}

fn regression(n: usize, d: usize, dim: usize) -> Dataset {
    let mut rng = RngStreams::new(4).stream("reg");
    let features = (0..n * d).map(|_| rng.random::<f64>()).collect();
    let values = (0..n * dim).map(|_| rng.random::<f64>()).collect();
    Dataset::new("reg", features, d, Targets::Real { values, dim }).unwrap()
}

#[test]
fn softmax_regression_trains_with_plain_gradient_descent() {
    let data = Arc::new(blobs(200, 1));
    let streams = RngStreams::new(3);
    let model = Mlp::softmax_regression(2, 2).unwrap();
    let mut obj = Objective::new(model, data.clone(), Loss::SoftmaxCe, 1000, &streams).unwrap();
    assert!(obj.is_full_batch());
    let mut x = vec![0.0; obj.layout().len()];
    let mut g = vec![0.0; x.len()];
    let initial = obj.value_grad(&x, &mut g);
    assert!(
        (initial - 2f64.ln()).abs() < 1e-12,
        "zero weights give log 2: {initial}"
    );
    let mut last = initial;
    for _ in 0..200 {
        last = obj.value_grad(&x, &mut g);
        x.iter_mut().zip(&g).for_each(|(x, g)| *x -= 0.5 * g);
    }
    // the blobs are about 3.6 standard deviations apart: the loss must drop at least 10x
    assert!(last < initial / 10.0, "loss {initial} -> {last}");
    let eval = obj.evaluate(&x, &data).unwrap();
    assert!(eval.accuracy.unwrap() > 0.97, "{eval:?}");
}

#[test]
fn minibatches_stay_fixed_until_resample_and_are_seeded() {
    let data = Arc::new(blobs(50, 2));
    let model = Mlp::new(vec![2, 3, 2], Activation::Tanh, true).unwrap();
    let streams = RngStreams::new(9);
    let mut a = Objective::new(model.clone(), data.clone(), Loss::SoftmaxCe, 8, &streams).unwrap();
    let mut b = Objective::new(model, data, Loss::SoftmaxCe, 8, &streams).unwrap();
    assert_eq!(a.batch().len(), 8);
    assert_eq!(a.batch(), b.batch());
    let x = a.init_params(Init::Xavier, &streams);
    let mut g = vec![0.0; x.len()];
    let f1 = a.value_grad(&x, &mut g);
    let f2 = a.value_grad(&x, &mut g);
    assert_eq!(f1, f2);
    let first = a.batch().to_vec();
    // the first resample draws the batch shown since construction ...
    Stochastic::resample(&mut a);
    assert_eq!(a.batch(), &first[..]);
    // ... and then every resample draws the next one; one epoch covers each sample once
    let mut seen = first.clone();
    for _ in 1..a.batches_per_epoch() {
        Stochastic::resample(&mut a);
        seen.extend_from_slice(a.batch());
    }
    seen.sort();
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
    Stochastic::resample(&mut a);
    assert_eq!(a.epoch(), 2);
    Stochastic::resample(&mut b);
    Stochastic::resample(&mut b);
    assert_ne!(b.batch(), &first[..]);
    assert_eq!(
        a.caps(),
        Caps::FUNCTION | Caps::GRADIENT | Caps::STOCHASTIC | Caps::PER_SAMPLE | Caps::HVP
    );
    assert_eq!(a.name(), "mlp:2-3-2(tanh) + softmax-ce on blobs");
    assert!(a.as_per_sample().is_some() && a.as_residuals().is_none());
    let names: Vec<_> = a.layout().blocks().iter().map(|b| b.name.clone()).collect();
    assert_eq!(
        names,
        [
            "layer0.weight",
            "layer0.bias",
            "layer1.weight",
            "layer1.bias"
        ]
    );
}

#[test]
fn mismatched_shapes_are_errors_that_name_them() {
    let data = Arc::new(blobs(10, 1));
    let s = RngStreams::new(1);
    let wrong_in = Mlp::new(vec![3, 2], Activation::Tanh, true).unwrap();
    let e = Objective::new(wrong_in, data.clone(), Loss::SoftmaxCe, 4, &s)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "shape mismatch in input width of linear:3-2 for dataset 'blobs' (its number of features): expected 2, got 3"
    );
    let wrong_out = Mlp::new(vec![2, 4, 3], Activation::Relu, true).unwrap();
    let e = Objective::new(wrong_out, data.clone(), Loss::SoftmaxCe, 4, &s)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "shape mismatch in output width of mlp:2-4-3(relu) for softmax-ce on dataset 'blobs': expected 2, got 3"
    );
    // logistic needs one output for two classes
    let two = Mlp::softmax_regression(2, 2).unwrap();
    let e = Objective::new(two, data.clone(), Loss::Logistic, 4, &s)
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected 1, got 2"), "{e}");
    let reg = Arc::new(regression(6, 2, 3));
    let e = output_width(Loss::SoftmaxCe, &reg).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid value for 'loss': got softmax-ce, expected a dataset with class labels ('reg' has real targets of dimension 3; use mse)"
    );
    let e = output_width(Loss::Logistic, &reg).unwrap_err().to_string();
    assert!(e.contains("a single real target in [0, 1]"), "{e}");
    let three = Dataset::new(
        "three",
        vec![0.0; 6],
        2,
        Targets::Classes {
            labels: vec![0, 1, 2],
            n_classes: 3,
        },
    )
    .unwrap();
    let e = output_width(Loss::Logistic, &three)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("2 classes ('three' has 3; use softmax-ce)"),
        "{e}"
    );
    let bad01 = Dataset::new(
        "b",
        vec![0.0; 2],
        1,
        Targets::Real {
            values: vec![0.5, 1.5],
            dim: 1,
        },
    )
    .unwrap();
    let e = output_width(Loss::Logistic, &bad01)
        .unwrap_err()
        .to_string();
    assert!(e.contains("got 1.5, expected a value in [0, 1]"), "{e}");
    // evaluation on data of another width, and parameters of the wrong length
    let model = Mlp::softmax_regression(2, 2).unwrap();
    let mut obj = Objective::new(model, data, Loss::SoftmaxCe, 4, &s).unwrap();
    let other = blobs(4, 3).subset(&[0, 1]);
    assert!(obj.evaluate(&[0.0; 6], &other).is_ok());
    let e = obj.evaluate(&[0.0; 5], &other).unwrap_err().to_string();
    assert_eq!(e, "shape mismatch in parameters: expected 6, got 5");
    let e = Objective::new(
        Mlp::softmax_regression(2, 2).unwrap(),
        Arc::new(blobs(4, 1)),
        Loss::Mse,
        0,
        &s,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("batch_size"), "{e}");
}

#[test]
fn builder_reads_short_long_and_hidden_forms() {
    let m = parse_model("mlp:64-128-10", 64, 10).unwrap();
    assert_eq!(m.mlp.sizes(), [64, 128, 10]);
    assert_eq!(m.mlp.activation(), Activation::Tanh);
    assert!(m.mlp.has_bias());
    assert_eq!(m.init, Init::Xavier);
    let m = parse_model("mlp(sizes=[64,128,10], act=relu, bias=false)", 64, 10).unwrap();
    assert_eq!(
        (m.mlp.activation(), m.mlp.has_bias(), m.init),
        (Activation::Relu, false, Init::He)
    );
    let m = parse_model("mlp(sizes=[4,3], act=gelu, init=torch)", 4, 3).unwrap();
    assert_eq!(
        (m.mlp.activation(), m.init),
        (Activation::Gelu, Init::TorchUniform)
    );
    let m = parse_model("mlp:128", 64, 10).unwrap();
    assert_eq!(m.mlp.sizes(), [64, 128, 10]);
    assert_eq!(m.output_init, Init::Xavier);
    let m = parse_model("mlp(hidden=[64], act=relu, out_init=lecun)", 10, 6).unwrap();
    assert_eq!((m.init, m.output_init), (Init::He, Init::Lecun));
    let streams = descent_core::RngStreams::new(1);
    assert_eq!(
        m.init_params(&mut streams.stream("init")),
        m.mlp
            .init_params_with_output(Init::He, Init::Lecun, &mut streams.stream("init"))
    );
    let m = parse_model("mlp:32(act=sigmoid)", 5, 2).unwrap();
    assert_eq!(
        (m.mlp.sizes().to_vec(), m.mlp.activation()),
        (vec![5, 32, 2], Activation::Sigmoid)
    );
    let m = parse_model("mlp(hidden=[16, 8], act=linear)", 5, 2).unwrap();
    assert_eq!(
        (m.mlp.sizes().to_vec(), m.mlp.activation()),
        (vec![5, 16, 8, 2], Activation::Identity)
    );
    let m = parse_model("mlp(hidden=[])", 5, 2).unwrap();
    assert_eq!(m.mlp.sizes(), [5, 2]);
    for name in [
        "softmax-regression",
        "linear",
        "linear:7-3",
        "softmax-regression(bias=false)",
    ] {
        let m = parse_model(name, 7, 3).unwrap();
        assert_eq!(m.mlp.sizes(), [7, 3], "{name}");
        assert_eq!(m.mlp.n_layers(), 1);
    }
    let spec = descent_core::Spec::parse("mlp:4-2").unwrap();
    assert_eq!(build_model(&spec, 4, 2).unwrap().mlp.sizes(), [4, 2]);
}

#[test]
fn bad_model_specs_are_errors_that_list_valid_choices() {
    let err = |s: &str| parse_model(s, 64, 10).unwrap_err().to_string();
    assert_eq!(
        err("cnn:64-10"),
        "unknown model 'cnn'; valid: mlp, softmax-regression, linear"
    );
    assert_eq!(
        err("mlp(sizes=[64,10], dropout=0.5)"),
        "unknown key 'dropout' for 'mlp'; valid keys: sizes, hidden, act, bias, init, out_init"
    );
    assert_eq!(
        err("mlp(hidden=[8], act=swish)"),
        "invalid value for 'mlp.act': got swish, expected one of identity, linear, tanh, relu, gelu, sigmoid"
    );
    assert_eq!(
        err("mlp(hidden=[8], init=orthogonal)"),
        "invalid value for 'mlp.init': got orthogonal, expected one of xavier, he, torch, lecun"
    );
    assert_eq!(
        err("mlp(hidden=[8], out_init=zeros)"),
        "invalid value for 'mlp.out_init': got zeros, expected one of xavier, he, torch, lecun"
    );
    assert_eq!(
        err("mlp:32-128-10"),
        "shape mismatch in mlp input width (the data has 64 features; a single width (mlp:128) or \
         hidden=[...] gives hidden widths only): expected 64, got 32"
    );
    assert!(err("mlp:64-128-3").contains("expected 10, got 3"));
    assert!(err("mlp(sizes=[64,128,3])").contains("output width"));
    assert!(err("mlp:64-x-10").contains("layer widths separated by '-'"));
    assert!(err("mlp:64-0-10").contains("mlp.sizes[1]"));
    assert!(err("mlp").contains("widths, e.g. mlp:64-128-10"));
    assert!(err("mlp:64-10(hidden=[3])").contains("exactly one of"));
    assert!(err("mlp(sizes=[10])").contains("hidden=[...]"));
    assert!(err("linear(act=tanh)").contains("unknown key 'act' for 'linear'"));
    assert!(err("linear:64-3").contains("expected 10, got 3"));
    assert!(err("mlp(hidden=[8], bias=maybe)").contains("true or false"));
    assert!(err("mlp(").contains("cannot parse spec"));
}

#[test]
fn loss_chooser_defaults_by_target_kind() {
    let classes = blobs(4, 1).targets;
    let real = regression(3, 2, 1).targets;
    assert_eq!(choose_loss(None, &classes).unwrap(), Loss::SoftmaxCe);
    assert_eq!(choose_loss(Some("auto"), &real).unwrap(), Loss::Mse);
    assert_eq!(
        choose_loss(Some("logistic"), &classes).unwrap(),
        Loss::Logistic
    );
    assert_eq!(
        choose_loss(Some("hinge"), &classes)
            .unwrap_err()
            .to_string(),
        "unknown loss 'hinge'; valid: mse, softmax-ce, logistic, auto"
    );
}

#[test]
fn logistic_regression_accuracy_thresholds_at_zero() {
    let data = Arc::new(blobs(100, 5));
    let s = RngStreams::new(1);
    let model = Mlp::softmax_regression(2, 1).unwrap();
    let mut obj = Objective::new(model, data.clone(), Loss::Logistic, 100, &s).unwrap();
    // w = (1, 1), b = 0 separates the blobs (class 1 has positive coordinates)
    let e = obj.evaluate(&[1.0, 1.0, 0.0], &data).unwrap();
    assert!(e.accuracy.unwrap() > 0.97, "{e:?}");
    let flipped = obj.evaluate(&[-1.0, -1.0, 0.0], &data).unwrap();
    assert!((flipped.accuracy.unwrap() + e.accuracy.unwrap() - 1.0).abs() < 1e-12);
    // real targets under mse have no accuracy
    let reg = Arc::new(regression(5, 2, 1));
    let mut r = Objective::new(
        Mlp::softmax_regression(2, 1).unwrap(),
        reg.clone(),
        Loss::Mse,
        5,
        &s,
    )
    .unwrap();
    assert_eq!(r.evaluate(&[0.0; 3], &reg).unwrap().accuracy, None);
}

/// The trait's provided subset methods (whole batch, then gather/scatter), for comparison with
/// the objective's direct subset evaluations.
struct WholeBatchOnly(Objective);

impl Function for WholeBatchOnly {
    fn dim(&self) -> usize {
        Function::dim(&self.0)
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.0.value(x)
    }
}

impl Gradient for WholeBatchOnly {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        self.0.value_grad(x, g)
    }
}

impl PerSampleGradients for WholeBatchOnly {
    fn batch_len(&mut self) -> usize {
        self.0.batch_len()
    }
    fn per_sample_grad_norms(&mut self, x: &[f64], norms: &mut [f64]) {
        self.0.per_sample_grad_norms(x, norms)
    }
    fn weighted_grad(&mut self, x: &[f64], w: &[f64], g: &mut [f64]) -> f64 {
        self.0.weighted_grad(x, w, g)
    }
}

/// Subset evaluations (a Poisson sample of a full batch, DP-SGD) equal the whole-batch ones
/// restricted to the subset, in full-batch and minibatch mode (positions index the batch).
#[test]
fn subset_evaluations_equal_the_whole_batch_restricted_to_the_subset() {
    let data = Arc::new(blobs(40, 3));
    let model = Mlp::new(vec![2, 5, 2], Activation::Tanh, true).unwrap();
    let streams = RngStreams::new(1);
    for batch in [40, 16] {
        let obj = Objective::new(
            model.clone(),
            data.clone(),
            Loss::SoftmaxCe,
            batch,
            &streams,
        )
        .unwrap();
        let x = obj.init_params(Init::Xavier, &streams);
        let (mut direct, mut whole) = (obj.clone(), WholeBatchOnly(obj));
        let positions = [0usize, 3, 4, 9, 15];
        let weights = [0.5, -1.0, 2.0, 0.25, 1.0];
        let (mut n1, mut n2) = (vec![0.0; 5], vec![0.0; 5]);
        direct.subset_grad_norms(&x, &positions, &mut n1);
        whole.subset_grad_norms(&x, &positions, &mut n2);
        let (mut g1, mut g2) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        let l1 = direct.subset_weighted_grad(&x, &positions, &weights, &mut g1);
        let l2 = whole.subset_weighted_grad(&x, &positions, &weights, &mut g2);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
        assert!(
            n1.iter().zip(&n2).all(|(a, b)| close(*a, *b)),
            "{n1:?} vs {n2:?}"
        );
        assert!(g1.iter().zip(&g2).all(|(a, b)| close(*a, *b)));
        assert!(close(l1, l2), "{l1} vs {l2}");
        assert!(n1.iter().all(|n| *n > 0.0));
    }
}

#[test]
fn penultimate_features_feed_the_output_layer() {
    // 3-5-4-2 tanh MLP, 7 inputs through a workspace of 3 rows (chunked): the output layer
    // applied by hand to the penultimate features gives predict's outputs.
    let model = Mlp::new(vec![3, 5, 4, 2], Activation::Tanh, true).unwrap();
    let p = model.init_params(Init::TorchUniform, &mut RngStreams::new(4).stream("init"));
    let inputs: Vec<f64> = (0..21).map(|i| ((i * 7 % 11) as f64 - 5.0) / 3.0).collect();
    let mut ws = model.workspace(3);
    let mut h = vec![0.0; 7 * 4];
    model.penultimate(&p, &inputs, &mut ws, &mut h);
    let mut out = vec![0.0; 7 * 2];
    model.predict(&p, &inputs, &mut ws, &mut out);
    let last = model.layer_params()[2];
    for r in 0..7 {
        for j in 0..2 {
            let w = &p[last.weight + j * 4..last.weight + (j + 1) * 4];
            let b = p[last.bias.unwrap() + j];
            let o: f64 = b + w
                .iter()
                .zip(&h[r * 4..(r + 1) * 4])
                .map(|(w, h)| w * h)
                .sum::<f64>();
            assert!((o - out[r * 2 + j]).abs() < 1e-12, "row {r} output {j}");
        }
        // tanh features lie in (-1, 1)
        assert!(h[r * 4..(r + 1) * 4].iter().all(|v| v.abs() < 1.0));
    }
    // a single-layer model's penultimate features are its inputs
    let lin = Mlp::softmax_regression(3, 2).unwrap();
    let q = lin.init_params(Init::Xavier, &mut RngStreams::new(1).stream("init"));
    let mut ws = lin.workspace(8);
    let mut same = vec![0.0; 21];
    lin.penultimate(&q, &inputs, &mut ws, &mut same);
    assert_eq!(same, inputs);
}

/// A thread budget (`descent_core::par`) splits the MLP's forward and backward products by their
/// output, never by the reduction: for a given N the loss and gradient are the same bits from run
/// to run, and they agree with one thread to rounding.
#[test]
fn mlp_gradient_under_a_thread_budget_is_the_same_bits_for_a_given_thread_count() {
    use descent_core::par::Threads;
    let data = Arc::new(regression(512, 64, 8));
    let streams = RngStreams::new(5);
    // 512 × 64 × 256 and 512 × 256 × 256 multiply-adds: above the splitting threshold
    let model = Mlp::new(vec![64, 256, 256, 8], Activation::Tanh, true).unwrap();
    let mut obj = Objective::new(model, data, Loss::Mse, 512, &streams).unwrap();
    let x = obj.init_params(Init::Xavier, &streams);
    let mut grad = |n: usize| {
        let budget = Threads::new(n, "threads").unwrap();
        let mut g = vec![0.0; x.len()];
        let f = budget.install(|| obj.value_grad(&x, &mut g));
        (
            f.to_bits(),
            g.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        )
    };
    let one = grad(1);
    for n in [2, 3] {
        let first = grad(n);
        assert_eq!(first, grad(n), "{n} threads, run to run");
        let (f1, fnn) = (f64::from_bits(one.0), f64::from_bits(first.0));
        assert!(
            (f1 - fnn).abs() <= 1e-13 * f1.abs(),
            "{n} threads: {f1} vs {fnn}"
        );
        let scale = one
            .1
            .iter()
            .map(|b| f64::from_bits(*b).abs())
            .fold(0.0, f64::max);
        for (a, b) in one.1.iter().zip(&first.1) {
            let (a, b) = (f64::from_bits(*a), f64::from_bits(*b));
            assert!((a - b).abs() <= 1e-12 * scale, "{n} threads: {a} vs {b}");
        }
    }
}
