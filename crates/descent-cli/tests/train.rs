//! End-to-end tests of `descent train` and `descent list` through the built binary.

use assert_cmd::Command;

fn descent() -> Command {
    Command::cargo_bin("descent").expect("the descent binary is built")
}

#[test]
fn adam_on_digits_reaches_96_percent_and_writes_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let output = descent()
        .args(["train", "--data", "digits", "--model", "mlp:64-128-10"])
        .args([
            "--optimizer",
            "adam(lr=1e-3)",
            "--epochs",
            "30",
            "--seed",
            "0",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // piped stderr: one plain line per epoch
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("epoch ")).count(),
        31
    );

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let acc = summary["test_accuracy"].as_f64().unwrap();
    assert!(acc >= 0.96, "test accuracy {acc}");
    assert_eq!(summary["epochs"], 30);
    // 1437 training samples in batches of 32: 45 steps per epoch, one gradient each
    assert_eq!(summary["steps"], 1350);
    assert_eq!(summary["evals"]["gradients"], 1350);
    assert!(summary["train_loss"].as_f64().unwrap() < 0.05);
    assert!(summary["seconds"].as_f64().unwrap() > 0.0);

    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let mut lines = metrics.lines();
    assert_eq!(
        lines.next().unwrap(),
        "epoch,steps,grad_evals,seconds,train_loss,test_loss,test_accuracy"
    );
    assert_eq!(lines.count(), 31);
    let png = std::fs::read(out.join("curves.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert!(out.join("curves.svg").exists());
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let run = |seed: &str| {
        let dir = tempfile::tempdir().unwrap();
        descent()
            .args([
                "train",
                "--data",
                "iris",
                "--model",
                "mlp:4-16-3",
                "--epochs",
                "5",
            ])
            .args([
                "--optimizer",
                "sgd(lr=0.1, momentum=0.9)",
                "--seed",
                seed,
                "--out",
            ])
            .arg(dir.path())
            .assert()
            .success();
        let csv = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
        // drop the wall-clock column
        csv.lines()
            .map(|l| {
                let mut c: Vec<&str> = l.split(',').collect();
                c.remove(3);
                c.join(",")
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run("7"), run("7"));
    assert_ne!(run("7"), run("8"));
}

fn fails_with(args: &[&str]) -> String {
    let output = descent().args(args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "expected failure for {args:?}"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_input_is_a_named_error() {
    let e = fails_with(&["train", "--optimizer", "adamm(lr=1e-3)", "--epochs", "1"]);
    assert!(
        e.contains("unknown optimizer 'adamm'; valid: sgd, adam, adamw"),
        "{e}"
    );
    let e = fails_with(&[
        "train",
        "--optimizer",
        "adam(lr=1e-3, betta=0.9)",
        "--epochs",
        "1",
    ]);
    assert!(
        e.contains("unknown key 'betta' for 'adam'; valid keys: lr,"),
        "{e}"
    );
    let e = fails_with(&["train", "--optimizer", "adam(lr=-1)", "--epochs", "1"]);
    assert!(e.contains("adam.lr"), "{e}");
    let e = fails_with(&["train", "--model", "mlp:64-128-7", "--epochs", "1"]);
    assert!(e.contains("10"), "{e}");
    let e = fails_with(&["train", "--data", "mnist", "--epochs", "1"]);
    assert!(
        e.contains("unknown dataset 'mnist'; valid: digits, iris, wine, csv"),
        "{e}"
    );
    let e = fails_with(&["train", "--data", "csv:/nonexistent/x.csv", "--epochs", "1"]);
    assert!(e.contains("/nonexistent/x.csv"), "{e}");
    let e = fails_with(&["train", "--model", "transformer", "--epochs", "1"]);
    assert!(e.contains("unknown model 'transformer'"), "{e}");
    let e = fails_with(&["train", "--epochs", "0"]);
    assert!(e.contains("epochs"), "{e}");
    let e = fails_with(&["train", "--test-fraction", "1.5", "--epochs", "1"]);
    assert!(e.contains("test_fraction"), "{e}");
}

#[test]
fn divergence_is_an_error_naming_step_and_optimizer() {
    let dir = tempfile::tempdir().unwrap();
    let output = descent()
        .args([
            "train",
            "--data",
            "digits",
            "--model",
            "mlp:64-128-10",
            "--epochs",
            "3",
        ])
        .args(["--loss", "mse", "--optimizer", "sgd(lr=100)", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let e = String::from_utf8_lossy(&output.stderr);
    assert!(e.contains("'sgd(lr=100)' diverged at step"), "{e}");
    assert!(e.contains("try a smaller learning rate"), "{e}");
}

#[test]
fn list_shows_every_kind_with_parameters() {
    let output = descent().arg("list").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "optimizers:",
        "adam",
        "beta1",
        "models:",
        "mlp",
        "losses:",
        "softmax-ce",
        "datasets:",
        "digits",
        "csv",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
}

#[test]
fn list_model_shows_the_block_names_partition_groups_match() {
    let output = descent()
        .args(["list", "--model", "mlp:64-128-10"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "mlp:64-128-10: 9610 parameters in 4 blocks\n\
         \x20 layer0.weight  [128, 64]  8192\n\
         \x20 layer0.bias    [128]      128\n\
         \x20 layer1.weight  [10, 128]  1280\n\
         \x20 layer1.bias    [10]       10\n"
    );
    // hidden widths only: the data sizes the ends
    let output = descent()
        .args(["list", "--model", "mlp:16", "--data", "iris"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("mlp:16: 131 parameters in 4 blocks\n"),
        "{text}"
    );
    assert!(text.contains("layer1.weight  [3, 16]"), "{text}");
    let e = fails_with(&["list", "--model", "mlp:16"]);
    assert!(
        e.contains("'--model': got mlp:16, expected all widths"),
        "{e}"
    );
}

#[test]
fn train_runs_a_partition_of_named_groups_and_logs_its_resolved_config() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let output = descent()
        .args([
            "train", "--data", "iris", "--model", "mlp:16", "--epochs", "3",
        ])
        .args([
            "--optimizer",
            "partition(matrix=adam(lr=1e-2), vector=sgd(lr=0.1))",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let cfg = &summary["optimizer_config"];
    assert_eq!(cfg["kind"], "transform_optimizer");
    let groups = &cfg["children"][0];
    assert_eq!(groups["kind"], "partition");
    assert_eq!(groups["children"][0]["kind"], "adam");
    assert_eq!(groups["children"][0]["config"]["lr"], 0.01);
    assert_eq!(groups["children"][0]["config"]["beta2"], 0.999);
    assert_eq!(groups["children"][1]["config"]["momentum"], 0.0);
    // a glob that matches no block is an error naming it
    let e = fails_with(&[
        "train",
        "--data",
        "iris",
        "--model",
        "mlp:16",
        "--epochs",
        "1",
        "--optimizer",
        "partition(groups=[group(match=\"*.bais\", opt=sgd)], default=adam)",
    ]);
    assert!(
        e.contains("got \"*.bais\", expected a glob matching a block of the layout (layer0.weight"),
        "{e}"
    );
}
