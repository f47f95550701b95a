//! P9 `adp-vrsgp`: the quick preset at seeds 0 and 1 (schema, asserted claims, the seed
//! matters), specific numbers of the seed-0 report, and the configuration checks.

use descent_lab::experiment::{check_quick_seeds, quick_config_error};
use descent_lab::papers::adp_vrsgp::AdpVrsgpPaper;
use descent_lab::report::Report;

fn measured<'a>(r: &'a Report, id: &str) -> &'a serde_json::Value {
    &r.claims
        .iter()
        .find(|c| c.id == format!("adp-vrsgp/{id}"))
        .unwrap_or_else(|| panic!("no claim {id}"))
        .measured
}

#[test]
fn quick_preset_reproduces_checks_1_to_7_at_two_seeds() {
    let dir = std::env::var("ADP_VRSGP_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tempfile::tempdir().unwrap().keep());
    let [report, _other] = check_quick_seeds(&AdpVrsgpPaper, &dir);
    for c in &report.claims {
        eprintln!(
            "{} [{:?}] holds={} measured={}",
            c.id, c.kind, c.holds, c.measured
        );
    }
    // every accountant fixture is reproduced far inside the 1e-3 tolerance
    let fx = &measured(&report, "accountant-fixtures")["values"];
    assert_eq!(fx.as_object().unwrap().len(), 10);
    for (_, v) in fx.as_object().unwrap() {
        assert!(v.as_f64().unwrap() < 1e-4, "{fx}");
    }
    // the personalised nodes spend their budgets to within the calibration tolerance
    let over = &measured(&report, "budget-respected-personalised")["values"];
    for (_, v) in over.as_object().unwrap() {
        assert!(v.as_f64().unwrap() > -1e-3, "{over}");
    }
    assert!(dir.join("seed0/epsilon_budgets.png").exists());
}

#[test]
fn settings_are_validated_before_running() {
    let err = |sets: &[&str]| quick_config_error(&AdpVrsgpPaper, sets).expect("an error");
    assert_eq!(
        err(&["replicas=0"]),
        "invalid value for 'replicas': got 0, expected an integer >= 1"
    );
    assert_eq!(
        err(&["personalised=[1, 2]"]),
        "invalid value for 'personalised': got [1.0, 2.0], expected one budget ε_i per node (8 nodes)"
    );
    assert_eq!(
        err(&["epsilons=[2, -1]"]),
        "invalid value for 'epsilons': got -1, expected a finite ε > 0"
    );
    assert_eq!(
        err(&["min_node_size=10"]),
        "invalid value for 'min_node_size': got 10, expected at least the expected batch b = 32"
    );
    assert_eq!(
        err(&["per_node=400"]),
        "invalid value for 'per_node': got 400, expected at most 168 (1348 training samples over 8 nodes)"
    );
}
