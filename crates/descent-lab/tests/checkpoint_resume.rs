//! Checkpoints resume bit for bit: every optimizer of the registry, interrupted midway and
//! continued from its checkpoint file, ends with the parameters (and records) of an
//! uninterrupted run; DP-SGD's accountant continues too; a diverging run leaves its last good
//! checkpoint, which reproduces the divergence.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use descent_core::{Error, Layout, Problem, RngStreams, Spec};
use descent_lab::checkpoint;
use descent_lab::train::{
    self, EpochRecord, RunControl, TrainCheckpoint, TrainConfig, TrainRun, Trained,
};
use descent_optim::conformance::{Budget, problems};
use descent_optim::registry::{OPTIMIZERS, parse_optimizer};

/// One spec per registry entry (the test fails when an entry has none, so a new optimizer
/// joins here).
const SPECS: &[(&str, &str)] = &[
    ("sgd", "sgd(lr=0.05, momentum=0.9, nesterov=true)"),
    ("adam", "adam(lr=0.01, schedule=cosine(total=40, min=0.1))"),
    ("adamw", "adamw(lr=0.01, weight_decay=0.01)"),
    ("muon", "muon(lr=0.02, adam_lr=0.01)"),
    ("zo", "zo(law=dap, q=2, mu=1e-4, base=adam(lr=0.01))"),
    ("engd", "engd(damping=1e-6)"),
    ("engd_w", "engd_w(damping=1e-6)"),
    ("spring", "spring(damping=1e-6, momentum=0.5)"),
    ("nystrom", "nystrom(rank=2, damping=1e-6)"),
    ("sap", "sap(rank=2, damping=1e-6)"),
    ("lbfgs", "lbfgs"),
    ("sam", "sam(rho=0.05, base=sgd(lr=0.05, momentum=0.9))"),
    (
        "rbo",
        "rbo(lr=0.01, radius=0.01, inner_c=0.5, inner_steps=3)",
    ),
    ("entropy_sgd", "entropy_sgd(inner_lr=0.01, inner_steps=3)"),
    ("sgda", "sgda(eta_x=0.2, eta_y=0.5)"),
    ("pdsm", "pdsm(eta_x=0.1, eta_y=0.3, theta=0.3)"),
    ("tiada", "tiada(eta_x=1, eta_y=1)"),
    (
        "ada_minimax",
        "ada_minimax(alpha=2, eta_x=1, eta_y=1, gamma=1)",
    ),
    ("stocbio", "stocbio(eta_x=0.2, eta_y=0.5, l=2, terms=10)"),
    ("ada_bio", "ada_bio(l=2, terms=10)"),
    ("geoprec", "geoprec(lr=0.1)"),
];

fn spec_of(name: &str) -> &'static str {
    SPECS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no resume-test spec for optimizer '{name}'"))
        .1
}

/// iris, a small MLP, 3 epochs of 8 steps.
fn config(optimizer: &str) -> TrainConfig {
    TrainConfig {
        data: "iris".into(),
        model: "mlp:4-8-3".into(),
        optimizer: optimizer.into(),
        epochs: 3,
        batch_size: 16,
        seed: 5,
        ..TrainConfig::default()
    }
}

fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// The records without their wall-clock seconds.
fn timeless(h: &[EpochRecord]) -> Vec<EpochRecord> {
    h.iter()
        .map(|r| EpochRecord { seconds: 0.0, ..*r })
        .collect()
}

/// A control that stops the run after the first step past epoch 1 (mid-epoch 2).
fn stopping(dir: &Path) -> (RunControl, Arc<AtomicBool>) {
    let stop = Arc::new(AtomicBool::new(false));
    let control = RunControl {
        checkpoint_dir: Some(dir.to_path_buf()),
        stop: Some(stop.clone()),
        ..RunControl::default()
    };
    (control, stop)
}

fn resuming(dir: &Path) -> RunControl {
    RunControl {
        checkpoint_dir: Some(dir.to_path_buf()),
        resume: Some(dir.to_path_buf()),
        ..RunControl::default()
    }
}

fn assert_same_run(name: &str, a: &TrainRun, b: &TrainRun) {
    assert_eq!(bits(&a.params), bits(&b.params), "{name}: final parameters");
    assert_eq!(
        timeless(&a.history),
        timeless(&b.history),
        "{name}: records"
    );
    assert_eq!(
        a.summary.evals, b.summary.evals,
        "{name}: evaluation counts"
    );
    assert_eq!(a.summary.steps, b.summary.steps, "{name}: steps");
}

#[test]
fn every_trainable_optimizer_resumes_bit_identically_midway_through_an_epoch() {
    let probe = train::prepare_data(&config("sgd")).unwrap();
    let (objective, _) = train::build_objective(&config("sgd"), probe.train.clone()).unwrap();
    let mut objective: Box<dyn Problem> = Box::new(objective);
    let mut trained = Vec::new();
    for entry in OPTIMIZERS {
        let spec = spec_of(entry.name);
        let opt = parse_optimizer(spec).unwrap();
        if opt.requires().check(spec, objective.as_mut()).is_err() {
            continue; // covered on its own problem below
        }
        let cfg = config(spec);
        let whole = train::train(&cfg, |_| {}).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (control, stop) = stopping(dir.path());
        let stopped = train::train_with(&cfg, &control, |r| {
            if r.epoch == 1 {
                stop.store(true, Ordering::SeqCst);
            }
        })
        .unwrap();
        let Trained::Stopped { step, checkpoint } = stopped else {
            panic!("{spec}: the run did not stop");
        };
        assert_eq!(
            step, 9,
            "{spec}: stops after the step following epoch 1 (8 steps)"
        );
        assert!(checkpoint.is_file());
        let resumed = train::train_with(&cfg, &resuming(dir.path()), |_| {})
            .unwrap()
            .finished()
            .unwrap();
        assert_same_run(spec, &whole, &resumed);
        trained.push(entry.name);
    }
    for name in [
        "sgd",
        "adam",
        "adamw",
        "muon",
        "zo",
        "lbfgs",
        "sam",
        "rbo",
        "entropy_sgd",
    ] {
        assert!(
            trained.contains(&name),
            "{name} ran on the MLP ({trained:?})"
        );
    }
}

/// The optimizers a supervised MLP cannot host (residual, minimax, bilevel and reduced
/// problems): on the conformance problem they run on, 10 steps, the state through a checkpoint
/// file, 10 more, against 20 uninterrupted steps.
#[test]
fn every_optimizer_state_survives_a_checkpoint_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let streams = RngStreams::new(3);
    for entry in OPTIMIZERS {
        let spec = spec_of(entry.name);
        let mut cases = problems(&Budget::uniform(20, 0.0));
        let opt = parse_optimizer(spec).unwrap();
        let index = cases
            .iter_mut()
            .position(|c| opt.requires().check(spec, c.problem.as_mut()).is_ok())
            .unwrap_or_else(|| panic!("{spec}: no conformance problem offers what it needs"));
        let case = &mut cases[index];
        let run = |opt: &mut dyn descent_optim::Optimizer, x: &mut [f64], p: &mut dyn Problem| {
            for _ in 0..10 {
                opt.step(x, p).unwrap();
            }
        };
        let layout = case.problem.layout().clone();
        let mut whole = parse_optimizer(spec).unwrap();
        whole.init(&layout, &streams).unwrap();
        let mut x = case.start.clone();
        run(whole.as_mut(), &mut x, case.problem.as_mut());
        checkpoint::write(&path, "state", &(whole.state(), x.clone())).unwrap();
        run(whole.as_mut(), &mut x, case.problem.as_mut());

        let (state, mut y): (descent_optim::OptimizerState, Vec<f64>) =
            checkpoint::read(&path, "state").unwrap();
        let mut resumed = parse_optimizer(spec).unwrap();
        resumed.init(&layout, &streams).unwrap();
        resumed.load_state(&state).unwrap();
        // the problems are deterministic: a fresh copy sees what the first one saw
        let mut fresh = problems(&Budget::uniform(20, 0.0));
        run(resumed.as_mut(), &mut y, fresh[index].problem.as_mut());
        assert_eq!(bits(&x), bits(&y), "{spec} on {}", case.problem.name());
    }
}

/// NaN and ±inf in optimizer moments, parameters and records come back from a checkpoint file
/// bit for bit (as the strings "NaN", "inf", "-inf"; plain JSON would write null, which does
/// not load), and the restored transform's next update equals the original's.
#[test]
fn non_finite_values_survive_a_checkpoint_file_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let (layout, streams) = (Layout::flat(6), RngStreams::new(4));
    let build = || {
        let spec = Spec::parse("adam(lr=0.1, schedule=cosine(total=40, min=0.1))").unwrap();
        let mut t = descent_optim::build_transform(&spec).unwrap();
        t.build(&layout, &streams).unwrap();
        t
    };
    let mut a = build();
    let params = vec![
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.1,
    ];
    let mut g = vec![
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e-300,
        -0.0,
        3.0,
    ];
    a.update(1, &mut g, &params);
    let record = EpochRecord {
        epoch: 1,
        steps: 8,
        grad_evals: 8,
        seconds: 0.5,
        train_loss: f64::NAN,
        test_loss: f64::INFINITY,
        test_accuracy: Some(-f64::NAN),
    };
    checkpoint::write(&path, "state", &(a.state(), &params, [record])).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    for field in [
        r#""train_loss":"NaN""#,
        r#""test_loss":"inf""#,
        r#""test_accuracy":"-NaN""#,
    ] {
        assert!(text.contains(field), "{field} in {text}");
    }
    assert!(
        text.contains(r#"["NaN","-NaN","inf","-inf",-0.0,0.1]"#),
        "{text}"
    );

    type Saved = (descent_optim::OptimizerState, Vec<f64>, Vec<EpochRecord>);
    let (state, p, records): Saved = checkpoint::read(&path, "state").unwrap();
    assert_eq!(state, a.state());
    assert_eq!(bits(&p), bits(&params));
    let r = records[0];
    let got = [
        r.train_loss,
        r.test_loss,
        r.test_accuracy.unwrap(),
        r.seconds,
    ];
    assert_eq!(bits(&got), bits(&[f64::NAN, f64::INFINITY, -f64::NAN, 0.5]));
    let mut b = build();
    b.load_state(&state).unwrap();
    let (mut ga, mut gb) = (vec![0.5; 6], vec![0.5; 6]);
    a.update(2, &mut ga, &params);
    b.update(2, &mut gb, &params);
    assert_eq!(bits(&ga), bits(&gb));
    assert!(ga[0].is_nan() && ga[5].is_finite(), "{ga:?}");
}

#[test]
fn dp_sgd_resumes_with_its_spent_budget() {
    let cfg = TrainConfig {
        epochs: 3,
        ..config("sgd(lr=0.1, momentum=0.9)")
    };
    let dp = "dp(noise_multiplier=1.1, clip=1, delta=1e-5)";
    let whole = train::train_private(&cfg, dp, |_, _| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (control, stop) = stopping(dir.path());
    let stopped = train::train_private_with(&cfg, dp, &control, |r, _| {
        if r.epoch == 1 {
            stop.store(true, Ordering::SeqCst);
        }
    })
    .unwrap();
    assert!(matches!(stopped, Trained::Stopped { step: 9, .. }));
    let ck: TrainCheckpoint =
        checkpoint::read(&dir.path().join(checkpoint::FILE_NAME), train::KIND).unwrap();
    assert_eq!(ck.dp.as_ref().unwrap().releases, 9);
    assert_eq!(ck.dp.as_ref().unwrap().accountant.steps(), 9);
    let resumed = train::train_private_with(&cfg, dp, &resuming(dir.path()), |_, _| {})
        .unwrap()
        .finished()
        .unwrap();
    assert_same_run("dp-sgd", &whole.run, &resumed.run);
    assert_eq!(bits(&whole.epsilon), bits(&resumed.epsilon));
    assert_eq!(
        whole.spent.epsilon.to_bits(),
        resumed.spent.epsilon.to_bits()
    );
    assert!(resumed.spent.epsilon > 0.0);
}

#[test]
fn periodic_checkpoints_hold_the_last_multiple_of_n() {
    let cfg = config("adam(lr=0.01)");
    let dir = tempfile::tempdir().unwrap();
    let control = RunControl {
        checkpoint_dir: Some(dir.path().to_path_buf()),
        every: Some(5),
        ..RunControl::default()
    };
    let run = train::train_with(&cfg, &control, |_| {})
        .unwrap()
        .finished()
        .unwrap();
    let ck: TrainCheckpoint =
        checkpoint::read(&dir.path().join(checkpoint::FILE_NAME), train::KIND).unwrap();
    let progress = ck.progress.as_object().unwrap();
    assert_eq!(progress["steps"], 20, "24 steps: the last multiple of 5");
    assert_eq!(run.summary.steps, 24);
    // resuming from step 20 ends where the run ended
    let resumed = train::train_with(&cfg, &resuming(dir.path()), |_| {})
        .unwrap()
        .finished()
        .unwrap();
    assert_same_run("every 5", &run, &resumed);
}

#[test]
fn a_diverging_run_keeps_its_last_good_checkpoint() {
    let cfg = TrainConfig {
        loss: "mse".into(),
        epochs: 20,
        ..config("sgd(lr=30)")
    };
    let dir = tempfile::tempdir().unwrap();
    let control = RunControl {
        checkpoint_dir: Some(dir.path().to_path_buf()),
        every: Some(2),
        ..RunControl::default()
    };
    let Err(Error::Diverged { step, .. }) = train::train_with(&cfg, &control, |_| {}) else {
        panic!("sgd(lr=30) on mse should diverge");
    };
    let ck: TrainCheckpoint =
        checkpoint::read(&dir.path().join(checkpoint::FILE_NAME), train::KIND).unwrap();
    let saved_at = ck.progress["steps"].as_u64().unwrap();
    assert!(
        saved_at < step && saved_at + 2 >= step,
        "saved at {saved_at}, diverged at {step}"
    );
    assert!(ck.params.iter().all(|v| v.is_finite()));
    // the good checkpoint replays the same divergence
    let again = train::train_with(&cfg, &resuming(dir.path()), |_| {});
    assert!(
        matches!(again, Err(Error::Diverged { step: s, .. }) if s == step),
        "{again:?}"
    );
}

/// A comparison resumed from a folder where one run stopped midway, one finished and the others
/// never started ends as the uninterrupted comparison.
#[test]
fn a_comparison_resumes_its_runs_from_their_checkpoints() {
    use descent_lab::compare::{self, CompareConfig};
    let cfg = CompareConfig {
        base: config(""),
        optimizers: vec!["sgd(lr=0.05, momentum=0.9)".into(), "adam(lr=0.01)".into()],
        seeds: 2,
        target_accuracy: None,
        tune: None,
    };
    let whole = compare::compare(&cfg).unwrap();

    let dir = tempfile::tempdir().unwrap();
    // run "1-seed0" (adam, seed 5) stopped mid-epoch 2 ...
    let (control, stop) = stopping(&dir.path().join("1-seed0"));
    let adam = TrainConfig {
        optimizer: cfg.optimizers[1].clone(),
        ..config("")
    };
    let r = train::train_with(&adam, &control, |r| {
        if r.epoch == 1 {
            stop.store(true, Ordering::SeqCst);
        }
    });
    assert!(matches!(r, Ok(Trained::Stopped { step: 9, .. })));
    // ... and "0-seed1" (sgd, seed 6) finished with its final checkpoint
    let sgd = TrainConfig {
        optimizer: cfg.optimizers[0].clone(),
        seed: 6,
        ..config("")
    };
    let finished = RunControl {
        checkpoint_dir: Some(dir.path().join("0-seed1")),
        save_at_end: true,
        ..RunControl::default()
    };
    train::train_with(&sgd, &finished, |_| {}).unwrap();

    let study = RunControl {
        checkpoint_dir: Some(dir.path().to_path_buf()),
        resume: Some(dir.path().to_path_buf()),
        ..RunControl::default()
    };
    let resumed = compare::compare_with(&cfg, &study).unwrap().unwrap();
    for (a, b) in whole.iter().zip(&resumed) {
        for (ra, rb) in a.runs.iter().zip(&b.runs) {
            assert_same_run(&a.spec, ra.as_ref().unwrap(), rb.as_ref().unwrap());
        }
    }
    // every run left its final checkpoint
    for name in ["0-seed0", "0-seed1", "1-seed0", "1-seed1"] {
        let ck: TrainCheckpoint = checkpoint::read(
            &dir.path().join(name).join(checkpoint::FILE_NAME),
            train::KIND,
        )
        .unwrap();
        assert_eq!(ck.progress["steps"], 24, "{name}");
    }
    // a stop before the study starts leaves every run unstarted
    let stopped = RunControl {
        checkpoint_dir: Some(dir.path().join("other")),
        stop: Some(Arc::new(AtomicBool::new(true))),
        ..RunControl::default()
    };
    assert!(compare::compare_with(&cfg, &stopped).unwrap().is_none());
}
