//! `descent dist` in one process (no MPI needed): a run writes its report and final parameters,
//! and bad flags are errors that name the flag.

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
}
