//! The `rbo` experiment (P6): the quick preset at seeds 0 and 1 (schema, asserted claims, the
//! seed recorded and used), a few measured numbers of the seed-0 report where the spec's
//! prototype put them, and configuration errors named by field.

use descent_lab::experiment::{check_quick_seeds, quick_config_error};
use descent_lab::papers::rbo::RboPaper;
use serde_json::Value;

fn measured(report: &descent_lab::report::Report, id: &str) -> Value {
    report
        .claims
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("claim {id} missing"))
        .measured
        .clone()
}

#[test]
fn quick_preset_reproduces_the_rbo_checks() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::env::var_os("RBO_OUT").map(std::path::PathBuf::from);
    let path = out.as_deref().unwrap_or(dir.path());
    std::fs::create_dir_all(path).unwrap();
    let [report, _] = check_quick_seeds(&RboPaper, path);
    let num = |id: &str| measured(&report, id).as_f64().unwrap();
    // R1: the centre check has teeth (the naive normal offset misses by about ρ on the path)
    // and at ρ = 0.05, where the moved centre crosses below the graph, the invariant fails.
    let naive = measured(&report, "rbo/centre-naive-offset-misses");
    for v in naive["values"].as_object().unwrap().values() {
        assert!(v.as_f64().unwrap() > 0.5, "{naive}");
    }
    let large = measured(&report, "rbo/centre-on-offset-small-ball");
    for v in large["values"].as_object().unwrap().values() {
        let v = v.as_f64().unwrap();
        assert!(v > 0.01 && v < 0.05, "{large}");
    }
    // ... because there the moved centre c − ητ goes below the graph, and only there.
    let paths = report
        .series
        .iter()
        .find(|s| s.name == "centre_paths")
        .unwrap();
    let col = |name: &str| &paths.data[paths.columns.iter().position(|c| c == name).unwrap()];
    for (rho, clearance) in col("rho").iter().zip(col("min_clearance")) {
        assert_eq!(*clearance < 0.0, *rho == 0.05, "ρ = {rho}: {clearance}");
    }
    // R3: O(η) gap to GD (prototype 0.026, 0.0023, 0.00022).
    let g2 = num("rbo/gd-limit-lr1e-2");
    assert!(g2 > 1e-3 && g2 < 0.05, "{g2}");
    // R5: 40 minima of the wrinkled function.
    assert_eq!(num("rbo/minima-count"), 40.0);
    // R6: the ρ = 1 offset is nearly flat (prototype 0.0020).
    let flat = num("rbo/ironing-flat");
    assert!(flat > 1e-4 && flat < 0.003, "{flat}");
    // R7: every optimizer costs what it should per step.
    let table = report
        .tables
        .iter()
        .find(|t| t.name == "comparison_mixture")
        .unwrap();
    let per_step = |prefix: &str| -> f64 {
        let row = table
            .rows
            .iter()
            .find(|r| r[0].as_str().unwrap().starts_with(prefix))
            .unwrap();
        row[6].as_f64().unwrap()
    };
    assert_eq!(per_step("sgd(lr=0.1)"), 1.0);
    assert_eq!(per_step("sam("), 2.0);
    assert_eq!(per_step("entropy_sgd("), 5.0);
    assert_eq!(per_step("rbo(lr=6, radius=1"), 21.0);
    assert!(report.evals.gradients > 100_000);
}

#[test]
fn invalid_settings_are_named_errors() {
    for field in [
        "wrinkled_starts",
        "comparison.grid_lrs",
        "comparison.optimizers",
    ] {
        assert_eq!(
            quick_config_error(&RboPaper, &[&format!("{field}=[]")]).expect("an error"),
            format!("invalid value for '{field}': got [], expected at least one value")
        );
    }
    assert_eq!(
        quick_config_error(&RboPaper, &["wrinkled_lr=0"]).expect("an error"),
        "invalid value for 'wrinkled_lr': got 0, expected a finite number > 0"
    );
    assert_eq!(
        quick_config_error(&RboPaper, &["comparison.stability_seeds=0"]).expect("an error"),
        "invalid value for 'comparison.stability_seeds': got 0, expected an integer >= 1"
    );
}
