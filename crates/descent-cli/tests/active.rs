//! End-to-end tests of `descent active` through the built binary: the per-round CSV, the
//! report and the curves on the embedded digits, a thread-count-independent result, and the
//! named errors for an unknown class label, a budget larger than the pool and an unknown
//! strategy.

use std::path::Path;

use assert_cmd::Command;

fn descent() -> Command {
    Command::cargo_bin("descent").expect("the descent binary is built")
}

/// A small digits study: known 0-4, three strategies, budget 30, 3 rounds, 2 seeds.
fn small_study(out: &Path, threads: &str) -> std::process::Output {
    descent()
        .env("RAYON_NUM_THREADS", threads)
        .args(["active", "--data", "digits", "--known", "0,1,2,3,4"])
        .args(["--strategy", "random", "--strategy", "entropy"])
        .args(["--strategy", "samosa", "--budget", "30", "--rounds", "3"])
        .args(["--seeds", "2", "--initial", "18", "--epochs", "20"])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn field(row: &[&str], header: &[&str], name: &str) -> f64 {
    let i = header.iter().position(|h| *h == name).unwrap();
    row[i].parse().unwrap()
}

#[test]
fn digits_study_writes_per_round_csv_report_and_curves() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("active");
    let output = small_study(&out, "2");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = std::fs::read_to_string(out.join("per_round.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header.join(","),
        "strategy,seed,round,labelled,invalid,queried,queried_known,precision,recall,\
         test_accuracy,score_unknown_over_known"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // 3 strategies x 2 seeds x (3 rounds + round 0)
    assert_eq!(rows.len(), 24);
    for row in &rows {
        let round = field(row, &header, "round");
        let labelled = field(row, &header, "labelled");
        let invalid = field(row, &header, "invalid");
        // every queried sample is either labelled (known) or on the invalid list (unknown)
        assert_eq!(labelled + invalid, 18.0 + 30.0 * round, "{row:?}");
        let acc = field(row, &header, "test_accuracy");
        assert!((0.0..=1.0).contains(&acc), "{row:?}");
        if round > 0.0 {
            assert_eq!(field(row, &header, "queried"), 30.0);
            let p = field(row, &header, "precision");
            assert!((0.0..=1.0).contains(&p), "{row:?}");
        } else {
            assert_eq!(field(row, &header, "invalid"), 0.0);
        }
    }
    // the strategies see the same initial set and model-C seeds: equal round-0 accuracy
    let round0: Vec<f64> = rows
        .iter()
        .filter(|r| r[1] == "0" && r[2] == "0")
        .map(|r| field(r, &header, "test_accuracy"))
        .collect();
    assert_eq!(round0.len(), 3);
    assert!(round0.iter().all(|a| *a == round0[0]), "{round0:?}");
    // scoring strategies (entropy, SAMOSA) record their scores from round 1; random has none
    for row in &rows {
        let ratio = field(row, &header, "score_unknown_over_known");
        assert_eq!(
            row[0] != "random" && row[2] != "0",
            ratio.is_finite(),
            "{row:?}"
        );
    }
    // after 90 queries the K-way model is well above chance (0.2) on every run
    for row in rows.iter().filter(|r| r[2] == "3") {
        assert!(field(row, &header, "test_accuracy") > 0.8, "{row:?}");
    }

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["experiment"], "active");
    let tables: Vec<&str> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tables, ["summary", "rounds", "per_round"]);
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 4);
    assert!(summary.lines().nth(1).unwrap().starts_with("random,"));
    assert!(
        std::fs::read_to_string(out.join("report.md"))
            .unwrap()
            .contains("per_round")
    );
    let png = std::fs::read(out.join("curves.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // stdout carries the summary table
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("strategy | final_acc_mean"), "{stdout}");

    // the same study on one thread writes the same records
    let one = dir.path().join("one-thread");
    assert!(small_study(&one, "1").status.success());
    assert_eq!(
        std::fs::read_to_string(one.join("per_round.csv")).unwrap(),
        csv
    );
}

/// The first `error:` line of a failing `descent active` run.
fn active_error(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = descent()
        .args(["active", "--data", "digits"])
        .args(args)
        .arg("--out")
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(!dir.path().join("x").exists());
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line in {stderr}"))
        .to_string()
}

#[test]
fn bad_studies_fail_with_named_errors() {
    assert_eq!(
        active_error(&["--known", "0,1,12"]),
        "error: invalid value for '--known': got 12, expected a class label of the data (0..=9)"
    );
    assert_eq!(
        active_error(&["--known", "0,1,1"]),
        "error: invalid value for '--known': got class 1 twice, expected distinct class labels"
    );
    // digits: 1797 samples, 20 % test -> 1438 in the pool
    assert_eq!(
        active_error(&["--known", "0,1", "--budget", "5000"]),
        "error: invalid value for '--budget': got 5000, expected at most the 1398 unlabelled \
         pool samples (1438 in the pool, 40 initially labelled)"
    );
    assert_eq!(
        active_error(&["--known", "0,1", "--budget", "400", "--rounds", "8"]),
        "error: invalid value for '--budget x --rounds': got 400 x 8 = 3200 queries, expected \
         at most the 1398 unlabelled pool samples"
    );
    assert_eq!(
        active_error(&["--known", "0,1", "--strategy", "badge"]),
        "error: unknown strategy 'badge'; valid: random, entropy, margin, least_confidence, \
         coreset, samosa"
    );
    let e = active_error(&["--known", "0,1", "--strategy", "samosa(order=middle)"]);
    assert!(e.contains("order") && e.contains("middle"), "{e}");
    assert_eq!(
        active_error(&["--known", "0,1", "--seeds", "0"]),
        "error: invalid value for '--seeds': got 0, expected an integer >= 1"
    );
}
