//! `descent dist` checkpoints in process: a federated (FedAvg + PUF) and a decentralized
//! (ADP-VRSGP push-sum) run stopped midway by their stop flag and resumed end with the same
//! final parameters (bits) and per-round records as an uninterrupted run; a checkpoint of
//! another run is refused naming what differs.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use descent_lab::dist::{self, Backend, DistOptions};
use descent_lab::train::{RunControl, Trained};
use serde_json::Value;

fn options(task: &str, sets: &[&str]) -> DistOptions {
    DistOptions {
        task: task.into(),
        backend: Backend::InProcess,
        preset: "quick".into(),
        seed: 0,
        config_file: None,
        sets: sets.iter().map(|s| s.to_string()).collect(),
        mode: "special".into(),
        target: None,
        method: "adp".into(),
        epsilon: None,
        split: "iid".into(),
        graph: "random-tv".into(),
        dropout: 0.1,
        link_failure: 0.2,
        timeout_s: 60.0,
    }
}

/// The rounds table without wall times, and the final parameters' JSON text (equal exactly
/// when the bits are: shortest round-trip decimals).
fn results(dir: &Path) -> (Vec<Value>, String) {
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let rounds = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "rounds")
        .unwrap()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let mut row = row.as_array().unwrap().clone();
            row.remove(2);
            Value::Array(row)
        })
        .collect();
    let params = std::fs::read_to_string(dir.join("params.json")).unwrap();
    (rounds, params)
}

/// Runs `opts` whole, then stopped after round `stop_at` (checkpoints every 2 rounds too) and
/// resumed; both must end with the same results. Returns the stopped run's folder.
fn stop_and_resume(opts: &DistOptions, stop_at: u64) -> tempfile::TempDir {
    let whole = tempfile::tempdir().unwrap();
    let quiet = |_: &str| {};
    let done = dist::run(opts, whole.path(), &RunControl::default(), &quiet).unwrap();
    assert!(matches!(done, Trained::Finished(Some(_))));

    let cut = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let control = RunControl {
        checkpoint_dir: Some(cut.path().join("checkpoint")),
        every: Some(2),
        stop: Some(stop.clone()),
        ..RunControl::default()
    };
    let lines = std::sync::Mutex::new(Vec::new());
    let raise = |line: &str| {
        // as a SIGINT during round `stop_at` would
        if line.starts_with(&format!("round {stop_at}/")) {
            stop.store(true, Ordering::SeqCst);
        }
        lines.lock().unwrap().push(line.to_string());
    };
    let Trained::Stopped { step, checkpoint } =
        dist::run(opts, cut.path(), &control, &raise).unwrap()
    else {
        panic!("the run did not stop");
    };
    assert_eq!(step, stop_at);
    assert_eq!(checkpoint, cut.path().join("checkpoint/checkpoint.json"));
    let lines = lines.into_inner().unwrap();
    let written = lines
        .iter()
        .filter(|l| l.starts_with("checkpoint after round"))
        .count() as u64;
    assert_eq!(written, stop_at / 2 + stop_at % 2, "{lines:?}");
    assert!(!cut.path().join("report.json").exists());

    let resume = RunControl {
        checkpoint_dir: Some(cut.path().join("checkpoint")),
        resume: Some(cut.path().to_path_buf()),
        ..RunControl::default()
    };
    let done = dist::run(opts, cut.path(), &resume, &quiet).unwrap();
    assert!(matches!(done, Trained::Finished(Some(_))));
    let (a, b) = (results(whole.path()), results(cut.path()));
    assert_eq!(a.1, b.1, "final parameters differ");
    assert_eq!(a.0, b.0, "per-round records differ");
    cut
}

#[test]
fn a_federated_run_stopped_midway_resumes_bit_identically() {
    // 6 FedAvg rounds with drop-outs, the PUF round (7), 2 recovery rounds: stop after 5
    let opts = options("puf", &["rounds=6", "horizon=2"]);
    let cut = stop_and_resume(&opts, 5);
    // the checkpoint now holds the finished run's last due round; another seed is refused
    let other = DistOptions {
        seed: 1,
        ..opts.clone()
    };
    let control = RunControl {
        resume: Some(cut.path().to_path_buf()),
        ..RunControl::default()
    };
    let quiet = |_: &str| {};
    let e = dist::run(&other, cut.path(), &control, &quiet)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("this checkpoint was written with --seed 0, this run has 1"),
        "{e}"
    );
    let fewer = options("puf", &["rounds=6", "horizon=2", "clients=8"]);
    let e = dist::run(&fewer, cut.path(), &control, &quiet)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("written with the puf config's 'clients' = 10, this run has 8"),
        "{e}"
    );
    let e = dist::run(&options("adp-vrsgp", &[]), cut.path(), &control, &quiet)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("written with the task \"puf\", this run has \"adp-vrsgp\""),
        "{e}"
    );
}

#[test]
fn a_decentralized_run_stopped_midway_resumes_bit_identically() {
    // ADP-VRSGP (private, fused, staged) on a random time-varying digraph with failing links
    // and drop-outs: 4 stages x 3 rounds, stopped after round 7 (stage 3)
    let opts = options("adp-vrsgp", &["stage_steps=3"]);
    let cut = stop_and_resume(&opts, 7);
    let control = RunControl {
        resume: Some(cut.path().to_path_buf()),
        ..RunControl::default()
    };
    let other = DistOptions {
        method: "dp-sgp".into(),
        ..opts
    };
    let e = dist::run(&other, cut.path(), &control, &|_: &str| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("written with --method \"adp\", this run has \"dp-sgp\""),
        "{e}"
    );
}
