//! P5 `reduction`: the quick preset at seeds 0 and 1 (schema, asserted claims, the seed
//! matters), specific numbers of the seed-0 report where the spec derived them, and the
//! configuration errors named by field.

use descent_lab::experiment::{check_quick_seeds, quick_config_error};
use descent_lab::papers::reduction::ReductionPaper;
use descent_lab::report::Report;
use serde_json::Value;

fn measured<'a>(r: &'a Report, id: &str) -> &'a Value {
    &r.claims
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("claim {id} missing"))
        .measured
}

/// Every per-case value of a `for_every` claim.
fn values(r: &Report, id: &str) -> Vec<f64> {
    measured(r, id)["values"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn quick_preset_reproduces_the_reduction_checks() {
    let dir = std::env::var("REDUCTION_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tempfile::tempdir().unwrap().keep());
    let [report, other] = check_quick_seeds(&ReductionPaper, &dir);
    // E1 is deterministic: the toy's curvatures agree at both seeds
    let e1 = "reduction/e1-nonlinear-exceeds-beta";
    assert_eq!(measured(&report, e1), measured(&other, e1));
    assert_eq!(measured(&report, e1)["F3''(0)"].as_f64().unwrap(), 18.0);
    // E3: the reduction halves κ exactly at the balanced minimiser (2σ1/σ2 → σ1/σ2)
    for v in values(&report, "reduction/e3-kappa-halved") {
        assert!((v - 2.0).abs() < 1e-6, "{v}");
    }
    // GD on F decays exactly at the rate the Hessian at its limit predicts; GD on f at that
    // rate or faster (a start without weight on the slowest mode)
    let at_limit = &measured(&report, "reduction/e3-rate-at-limit")["values"];
    for (case, v) in at_limit.as_object().unwrap() {
        let v = v.as_f64().unwrap();
        let ok = if case.ends_with("GD F") {
            (v - 1.0).abs() < 0.02
        } else {
            v > 0.98
        };
        assert!(ok, "{case}: {v}");
    }
    // the spec's iteration ratio fails at σ = (1, 0.1), draw 0 (2.78 > 2.6), and the Hessians
    // at the two runs' limits predict its rate ratio: GD on f ends at an unbalanced minimiser
    let table = report
        .tables
        .iter()
        .find(|t| t.name == "e3_factorization")
        .unwrap();
    let row = table
        .rows
        .iter()
        .find(|r| r[0] == "(1, 0.1)" && r[1] == 0)
        .unwrap();
    let (ratio, measured_rate, predicted) = (
        row[10].as_f64().unwrap(),
        row[11].as_f64().unwrap(),
        row[14].as_f64().unwrap(),
    );
    assert!(
        ratio > 2.6 && (measured_rate / predicted - 1.0).abs() < 0.02,
        "{row:?}"
    );
    // E2: the argmin reduction improves κ by a factor of 7 or more at every draw
    for v in values(&report, "reduction/e2-kappa") {
        assert!(v < 0.15, "{v}");
    }
    // the negative control: the constant map lowers μ below μ_f at κ0 = 100 (spec: 0.92)
    let constant = &measured(&report, "reduction/e2-constant-map-mu")["values"];
    assert!(
        constant["κ0=100 seed 0"].as_f64().unwrap() < 1.0,
        "{constant}"
    );
    // the neural case ran four full-length runs with finite losses
    let table = report.tables.iter().find(|t| t.name == "neural").unwrap();
    assert_eq!(table.rows.len(), 4);
    for row in &table.rows {
        assert!(row[2].as_f64().unwrap().is_finite(), "{row:?}");
    }
    assert!(report.evals.hvps > 0 && report.evals.gradients > 10_000);
    assert!(dir.join("seed0/spectra.png").exists());
}

#[test]
fn invalid_settings_are_named_errors() {
    assert_eq!(
        quick_config_error(&ReductionPaper, &["e2.kappas=[]"]).expect("an error"),
        "invalid value for 'e2.kappas': got [], expected at least one κ₀ >= 1"
    );
    assert_eq!(
        quick_config_error(&ReductionPaper, &["e2.n1=5"]).expect("an error"),
        "invalid value for 'e2.n1': got 5, expected in [10, 40): x2 = the other columns must \
         fit in the 30 rows (full column rank)"
    );
    assert_eq!(
        quick_config_error(&ReductionPaper, &["e3.tol=1"]).expect("an error"),
        "invalid value for 'e3.tol': got 1, expected a number in (0, 1)"
    );
    assert_eq!(
        quick_config_error(&ReductionPaper, &["neural.ridge=0"]).expect("an error"),
        "invalid value for 'neural.ridge': got 0, expected a finite number > 0"
    );
    assert!(quick_config_error(&ReductionPaper, &["e2.unknown=1"]).is_some());
}
