//! `descent dist` in one process (no MPI needed): a run writes its report and final parameters,
//! bad flags are errors that name the flag, and a real SIGINT stops a run with a checkpoint
//! from which `--resume` ends bit-identically.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;
use serde_json::Value;

fn descent() -> Command {
    Command::cargo_bin("descent").unwrap()
}

#[test]
fn an_in_process_push_sum_run_writes_params_and_rounds() {
    let dir = tempfile::tempdir().unwrap();
    descent()
        .args(["dist", "adp-vrsgp", "--set", "stage_steps=2", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let params: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("params.json")).unwrap())
            .unwrap();
    let models = params["params"].as_array().unwrap();
    assert_eq!(models.len(), 8, "one de-biased model per node");
    assert_eq!(
        models[0].as_array().unwrap().len(),
        650,
        "softmax regression 64 -> 10"
    );
    let rounds = std::fs::read_to_string(dir.path().join("rounds.csv")).unwrap();
    assert_eq!(
        rounds.lines().count(),
        1 + 8,
        "header + 4 stages x 2 rounds"
    );
}

#[test]
fn bad_flags_are_named_errors() {
    let err = |args: &[&str]| {
        let out = descent().args(args).output().unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(
        err(&["dist", "drift"]).contains("unknown distributed task 'drift'; valid: puf, adp-vrsgp")
    );
    assert!(
        err(&["dist", "adp-vrsgp", "--method", "adam"])
            .contains("invalid value for '--method': got adam, expected adp, dp-sgp or sgp")
    );
    assert!(
        err(&["dist", "puf", "--target", "10"])
            .contains("invalid value for '--target': got 10, expected a client id in 0..10")
    );
    assert!(
        err(&["dist", "puf", "--backend", "tcp"])
            .contains("invalid value for '--backend': got tcp, expected in-process or mpi")
    );
    #[cfg(not(feature = "mpi"))]
    assert!(
        err(&["dist", "puf", "--backend", "mpi"]).contains("this descent was built without MPI")
    );
    assert!(
        err(&["dist", "puf", "--backend", "mpi", "--checkpoint-every", "2"]).contains(
            "invalid value for '--checkpoint-every': got with --backend mpi, expected \
             --backend in-process (MPI runs write no checkpoints yet)"
        )
    );
    assert!(err(&["dist", "puf", "--checkpoint-every", "0"]).contains(
        "invalid value for '--checkpoint-every': got 0, expected a number of rounds >= 1"
    ));
}

/// The final parameters' JSON text (equal exactly when the bits are) and the rounds table
/// without its wall times.
fn results(dir: &Path) -> (String, Vec<String>) {
    let params = std::fs::read_to_string(dir.join("params.json")).unwrap();
    let rounds = std::fs::read_to_string(dir.join("rounds.csv")).unwrap();
    let rows = rounds
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(2);
            cells.join(",")
        })
        .collect();
    (params, rows)
}

#[test]
fn sigint_stops_a_federated_run_with_a_checkpoint_and_resume_ends_bit_identically() {
    let args = ["dist", "puf", "--set", "rounds=300", "--set", "horizon=2"];
    let whole = tempfile::tempdir().unwrap();
    descent()
        .args(args)
        .arg("--out")
        .arg(whole.path())
        .assert()
        .success();

    let cut = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("descent"))
        .args(args)
        .arg("--out")
        .arg(cut.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("round 3/") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no round line");
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130), "{rest}");
    let checkpoint = cut.path().join("checkpoint").join("checkpoint.json");
    assert!(
        rest.contains("stopped after round") && rest.contains(&checkpoint.display().to_string()),
        "{rest}"
    );
    assert!(!cut.path().join("params.json").exists());

    descent()
        .args(args)
        .arg("--resume")
        .arg(cut.path())
        .assert()
        .success();
    assert_eq!(results(whole.path()), results(cut.path()));
}
