//! The `samosa` experiment (P2): the quick preset at seeds 0 and 1 (schema, asserted claims,
//! the seed recorded and used), measured numbers of the seed-0 report against the spec's
//! prototype (§5.3), and configuration errors named by field.

use descent_lab::experiment::{check_quick_seeds, quick_config_error};
use descent_lab::papers::samosa::SamosaPaper;
use descent_lab::report::Report;
use serde_json::Value;

fn measured(report: &Report, id: &str) -> Value {
    report
        .claims
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("claim {id} missing"))
        .measured
        .clone()
}

fn table<'a>(report: &'a Report, name: &str) -> &'a descent_lab::report::Table {
    report
        .tables
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("table {name} missing"))
}

#[test]
fn quick_preset_reproduces_the_samosa_checks() {
    let dir = tempfile::tempdir().unwrap();
    let [report, _] = check_quick_seeds(&SamosaPaper, dir.path());
    let num = |id: &str| measured(&report, id).as_f64().unwrap();
    // Check 1: SAMOSA +1.8 points over random, winning at all 8 seeds (prototype +2.2, 7/8).
    let gain = num("samosa/main-gain");
    assert!(gain > 1.5 && gain < 3.0, "{gain}");
    assert_eq!(num("samosa/main-wins"), 8.0);
    // Check 3: the low end loses 3-7 points to the high end while buying precision ~0.85.
    let strategies = table(&report, "strategies");
    assert_eq!(strategies.rows.len(), 10);
    let row = |name: &str| {
        strategies
            .rows
            .iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("row {name}"))
    };
    let col = |name: &str| strategies.columns.iter().position(|c| c == name).unwrap();
    let precision = |name: &str| row(name)[col("precision_mean")].as_f64().unwrap();
    assert!(
        precision("samosa(order=low)") > 0.75,
        "{}",
        precision("samosa(order=low)")
    );
    // Random's precision is the pool's known fraction, 2000/5000 = 0.4, up to sampling.
    assert!((precision("random") - 0.4).abs() < 0.03);
    // Check 4: the filter lifts precision from ~0.35 to ~0.5 (prototype 0.355 -> 0.539).
    assert!(precision("samosa(filter=false)") < 0.4);
    assert!(precision("samosa") > 0.45);
    // C5: entropy queries fewer known samples than random (prototype 0.27 vs 0.39).
    assert!(precision("entropy") < 0.3);
    // Check 5: correlation with the SGD margin near the prototype's -0.52.
    let corr = num("samosa/margin-correlation");
    assert!(corr > -0.65 && corr < -0.4, "{corr}");
    // every round queried exactly the budget; 9 evaluations per run
    assert_eq!(num("samosa/budget-exact"), 0.0);
    let rounds = table(&report, "rounds");
    assert_eq!(rounds.rows.len(), 10 * 9);
    // digits: both known sets ran with 2 % initial sets (14 and 12 samples)
    let digits = table(&report, "digits");
    let initials: Vec<&Value> = digits.rows.iter().map(|r| &r[1]).collect();
    assert!(initials.contains(&&Value::from(14)) && initials.contains(&&Value::from(12)));
    assert!(report.figures.contains(&"samis_margin".to_string()));
}

#[test]
fn configuration_errors_name_the_field() {
    let e = |sets: &[&str]| quick_config_error(&SamosaPaper, sets).expect("an error");
    assert_eq!(
        e(&["active.budget=5000"]),
        "invalid value for 'active.budget': got 5000, expected at most the 4960 unlabelled \
         pool samples (5000 in the pool, 40 initially labelled)"
    );
    assert!(e(&["active.rounds=200"]).contains("'active.budget x rounds'"));
    assert_eq!(
        e(&["strategies=[\"random\", \"samosa\"]"]),
        "invalid value for 'strategies': got a list without samosa(filter=false), expected a \
         list including random, samosa, samosa(filter=false), samosa(order=low), entropy, \
         samosa(pair=sgd), samosa(init=shared)"
    );
    assert!(e(&["strategies=[\"badge\"]"]).contains("unknown strategy 'badge'"));
    assert_eq!(
        e(&["digits.known_sets=[[0, 12]]"]),
        "invalid value for 'digits.known classes': got 12, expected a class label of the data \
         (0..=9)"
    );
    assert!(e(&["seeds=0"]).contains("'seeds': got 0"));
    assert!(e(&["pool.known=1"]).contains("'pool.known': got 1"));
    assert!(e(&["typicality.labelled=2000"]).contains("typicality.labelled"));
    assert!(e(&["active.recipe.optimizer=\"sgd(lr=-1)\""]).contains("sgd.lr"));
    assert!(e(&["digits.initial_fraction=0"]).contains("digits.initial_fraction"));
}
