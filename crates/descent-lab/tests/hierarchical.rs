//! P4 `hierarchical`: the quick preset at seeds 0 and 1 (schema, asserted claims, the seed
//! matters), specific numbers of the seed-0 report, and the configuration checks.

use descent_lab::experiment::{check_quick_seeds, quick_config_error};
use descent_lab::papers::hierarchical::HierarchicalPaper;
use descent_lab::report::Report;

fn measured<'a>(r: &'a Report, id: &str) -> &'a serde_json::Value {
    &r.claims
        .iter()
        .find(|c| c.id == format!("hierarchical/{id}"))
        .unwrap_or_else(|| panic!("no claim {id}"))
        .measured
}

#[test]
fn quick_preset_reproduces_the_asserted_checks_at_two_seeds() {
    let dir = std::env::var("HIERARCHICAL_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tempfile::tempdir().unwrap().keep());
    let [report, _] = check_quick_seeds(&HierarchicalPaper, &dir);
    // σ = 0 is deterministic: the same metric at every seed, and TiAda wins there (reported)
    let a1 = &measured(&report, "a1-one-setting-every-sigma")["values"];
    let at0 = a1["sigma=0"].as_f64().unwrap();
    assert!((0.005..0.008).contains(&at0), "{a1}");
    // SGDA(0.5) at σ = 10 is far worse than Ada-Minimax (spec prototype: 9.0 vs 0.029)
    assert!(
        measured(&report, "a2-sgda-worse-at-sigma-10")
            .as_f64()
            .unwrap()
            > 30.0
    );
    // A6: α_t is exactly 1 without noise; the noise estimate is within 5 % of 2σ²t
    let a6 = measured(&report, "a6-alpha-and-noise-estimate");
    assert_eq!(a6["max_abs_alpha_minus_1"].as_f64(), Some(0.0));
    // B1 to round-off, and the bias bound with the paper's N
    let b1 = measured(&report, "b1-exact-hypergradient-and-neumann");
    assert!(b1["neumann_closed_form"].as_f64().unwrap() < 1e-14, "{b1}");
    assert!(b1["bias_over_bound"].as_f64().unwrap() < 1.0, "{b1}");
    // the randomised truncation stalls far above the deterministic sum (B4, reported)
    assert!(
        measured(&report, "b4-randomized-neumann-stalls")
            .as_f64()
            .unwrap()
            > 0.1
    );
    // Ada-BiO halves the validation loss of λ = 0 (a strong penalty)
    let r4 = measured(&report, "r4-ada-bio-lowers-validation-loss");
    assert!(r4["mean_ratio"].as_f64().unwrap() < 0.7, "{r4}");
    assert!(report.evals.pair_grads > 1_000_000 && report.evals.hvps > 100_000);
    for stem in [
        "r1_iterations",
        "r1_oracle_calls",
        "r2_oracle_calls",
        "r3_test_auc",
    ] {
        assert!(dir.join(format!("seed0/{stem}.png")).exists(), "{stem}");
    }
}

#[test]
fn settings_are_validated_before_running() {
    let err = |sets: &[&str]| quick_config_error(&HierarchicalPaper, sets).expect("an error");
    assert_eq!(
        err(&["r1.seeds=0"]),
        "invalid value for 'r1.seeds': got 0, expected an integer >= 1"
    );
    assert_eq!(
        err(&["r1.sigmas=[0, 0.1, 1, 10]"]),
        "invalid value for 'r1.sigmas': got [0.0, 0.1, 1.0, 10.0], expected a list containing \
         100 (the claims read it)"
    );
    assert_eq!(
        err(&["r2.sigmas=[0, -1]"]),
        "invalid value for 'r2.sigmas': got -1, expected finite noise levels >= 0"
    );
    assert_eq!(
        err(&["r3.positive_fraction=1.5"]),
        "invalid value for 'r3.positive_fraction': got 1.5, expected a number in (0, 1)"
    );
    assert!(err(&["r1.ada=\"ada_minimax(alpha=-1)\""]).starts_with(
        "invalid value for 'r1.ada': got ada_minimax(alpha=-1), expected an optimizer spec"
    ));
    assert_eq!(
        err(&["r1.short_steps=40000"]),
        "invalid value for 'r1.short_steps': got 40000, expected an integer in [10, r1.steps = \
         32000) with r1.steps >= 20"
    );
    assert_eq!(
        err(&["r4.informative=30"]),
        "invalid value for 'r4.informative': got 30, expected at most r4.dim = 20, with at \
         least 10 samples per split"
    );
}
