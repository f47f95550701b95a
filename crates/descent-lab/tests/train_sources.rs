//! `descent train` on a source with a predefined test split (IDX's t10k files) uses that split
//! instead of a random one; a generator spec is split 80/20 as any dataset. A run's thread budget
//! (`threads`) gives the same bits every time for a given count.

use descent_lab::train::{TrainConfig, prepare_data, train};

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, dims.len() as u8];
    dims.iter().for_each(|d| b.extend(d.to_be_bytes()));
    b.extend_from_slice(data);
    b
}

#[test]
fn predefined_test_split_replaces_the_random_split() {
    let dir = tempfile::tempdir().unwrap();
    let (n_train, n_test) = (40u32, 10u32);
    let pixels = |n: u32| (0..n * 4).map(|i| (i * 37 % 251) as u8).collect::<Vec<_>>();
    let labels = |n: u32| (0..n).map(|i| (i % 3) as u8).collect::<Vec<_>>();
    let files = [
        (
            "train-images-idx3-ubyte",
            idx(&[n_train, 2, 2], &pixels(n_train)),
        ),
        ("train-labels-idx1-ubyte", idx(&[n_train], &labels(n_train))),
        (
            "t10k-images-idx3-ubyte",
            idx(&[n_test, 2, 2], &pixels(n_test)),
        ),
        ("t10k-labels-idx1-ubyte", idx(&[n_test], &labels(n_test))),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let cfg = TrainConfig {
        data: format!("idx:{}(classes=3)", dir.path().display()),
        model: "mlp:4-8-3".into(),
        epochs: 1,
        batch_size: 8,
        ..TrainConfig::default()
    };
    let data = prepare_data(&cfg).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (40, 10));
    // standardized with the training part's statistics: each training column has mean 0
    for j in 0..4 {
        let mean: f64 = (0..40).map(|i| data.train.row(i)[j]).sum::<f64>() / 40.0;
        assert!(mean.abs() < 1e-12, "{mean}");
    }
    let run = train(&cfg, |_| {}).unwrap();
    assert_eq!((run.summary.n_train, run.summary.n_test), (40, 10));
    assert_eq!(run.summary.steps, 5);

    // a generator spec has no predefined split: 80/20 of its 3 × 50 samples
    let cfg = TrainConfig {
        data: "mixture(classes=3, dim=4, n=50)".into(),
        ..cfg
    };
    let data = prepare_data(&cfg).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (120, 30));
}

/// `descent train --optimizer lbfgs` (P8's baseline, usable on any model): full-batch L-BFGS
/// fits softmax regression on iris to a lower loss than plain SGD with the same step count.
#[test]
fn lbfgs_trains_from_the_train_command() {
    let run = |optimizer: &str| {
        let cfg = TrainConfig {
            data: "iris".into(),
            model: "softmax-regression".into(),
            optimizer: optimizer.into(),
            epochs: 20,
            batch_size: 1000, // the whole training split: one deterministic batch per step
            ..Default::default()
        };
        train(&cfg, |_| {}).unwrap()
    };
    let lbfgs = run("lbfgs(history=10)");
    let sgd = run("sgd(lr=0.1)");
    let last = |r: &descent_lab::train::TrainRun| r.history.last().unwrap().train_loss;
    assert_eq!(lbfgs.summary.steps, sgd.summary.steps);
    assert!(
        last(&lbfgs) < 0.5 * last(&sgd),
        "lbfgs {} vs sgd {}",
        last(&lbfgs),
        last(&sgd)
    );
    assert!(lbfgs.summary.evals.gradients > lbfgs.summary.steps);
}

/// `threads = N` lends the run's products N threads: the same parameters bit for bit from run to
/// run, within rounding of one thread; 0 threads is an error naming the field.
#[test]
fn a_run_with_a_thread_budget_is_the_same_bits_for_a_given_count() {
    let cfg = |threads: usize| TrainConfig {
        data: "mixture(classes=3, dim=64, n=400)".into(),
        // 256 × 64 × 256 multiply-adds per forward product: above the splitting threshold
        model: "mlp:64-256-3".into(),
        epochs: 1,
        batch_size: 256,
        threads,
        ..TrainConfig::default()
    };
    let params = |threads: usize| train(&cfg(threads), |_| {}).unwrap().params;
    let one = params(1);
    let two = params(2);
    assert_eq!(
        two.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        params(2).iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    for (a, b) in one.iter().zip(&two) {
        assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
    }
    let e = train(&cfg(0), |_| {}).unwrap_err().to_string();
    assert!(e.contains("threads") && e.contains("at least 1"), "{e}");
}
