//! `descent compare`, `descent run` and `descent reproduce` through the built binary.

use assert_cmd::Command;

fn descent() -> Command {
    Command::cargo_bin("descent").expect("the descent binary is built")
}

#[test]
fn compare_three_optimizers_on_digits_writes_a_valid_report_and_figure() {
    let dir = tempfile::tempdir().unwrap();
    let output = descent()
        .args(["compare", "--data", "digits", "--model", "mlp:64-128-10"])
        .args([
            "--optimizer",
            "sgd(lr=0.1)",
            "--optimizer",
            "sgd(lr=0.1,momentum=0.9)",
        ])
        .args([
            "--optimizer",
            "adam(lr=1e-3)",
            "--seeds",
            "2",
            "--epochs",
            "5",
        ])
        .args(["--target-accuracy", "0.9", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let errors = descent_lab::schema::validate_report(&doc);
    assert!(errors.is_empty(), "{errors:?}");
    let rows = doc["tables"][0]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for row in rows {
        let mean_acc = row[2].as_f64().unwrap();
        assert!(mean_acc > 0.9, "{row:?}");
        assert_eq!(row[7], 2, "both seeds reach 90 %: {row:?}");
    }
    // 5 epochs x 45 steps x 2 seeds x 3 optimizers, one gradient per step
    assert_eq!(doc["evals"]["gradients"], 1350);
    assert!(dir.path().join("curves.png").exists() && dir.path().join("curves.svg").exists());
    assert!(dir.path().join("summary.csv").exists());
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("![curves](curves.png)"));
}

#[test]
fn run_and_reproduce_name_their_errors() {
    let e = descent()
        .args(["run", "no-such-experiment"])
        .output()
        .unwrap();
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("unknown experiment 'no-such-experiment'"));
    let e = descent()
        .args(["reproduce", "--preset", "medium"])
        .output()
        .unwrap();
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("expected quick or full"));
    let e = descent()
        .args(["compare", "--optimizer", "sgd", "--tune", "lr=1:0.1:3"])
        .output()
        .unwrap();
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("--tune"));
}

#[test]
fn reproduce_writes_an_index_of_every_claim() {
    // Seed 2: each experiment's own test runs seeds 0 and 1, so CI covers three seeds.
    let dir = tempfile::tempdir().unwrap();
    let output = descent()
        .args([
            "reproduce",
            "--preset",
            "quick",
            "--seed",
            "2",
            "--strict",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("index.json")).unwrap())
            .unwrap();
    let claims = index["claims"].as_array().unwrap();
    let registry = descent_lab::experiment::registry();
    for name in registry.names() {
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(name).join("report.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(report["seed"], 2, "{name} records the seed it ran with");
        assert!(
            claims.iter().any(|c| c["experiment"] == name),
            "{name} has no claims in the index"
        );
    }
    for c in claims {
        assert!(dir.path().join(c["report"].as_str().unwrap()).exists());
        if c["kind"] == "asserted" {
            assert_eq!(c["holds"], true, "{c}");
        }
    }
    assert!(dir.path().join("index.md").exists());
}
