//! P7 `quantized`: the quick preset's asserted Z1 checks hold, with specific numbers.

use descent_lab::experiment::{quick_config_error, run_quick_checked};
use descent_lab::papers::quantized::Quantized;

fn measured<'a>(r: &'a descent_lab::report::Report, id: &str) -> &'a serde_json::Value {
    &r.claims.iter().find(|c| c.id == id).unwrap().measured
}

#[test]
fn quick_preset_reproduces_the_z1_checks() {
    let dir = std::env::var("QUANTIZED_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tempfile::tempdir().unwrap().keep());
    std::fs::create_dir_all(&dir).unwrap();
    let report = run_quick_checked(&Quantized, 7, &dir);
    // Adam's RTN-V stall is a large factor, not a marginal one
    let stall = measured(&report, "quantized/adam-rtn-v7-stalls");
    assert!(stall["V nearest M=7"].as_f64().unwrap() > 300.0, "{stall}");
    // SR at M = 7 is indistinguishable from full precision within 20 %
    let sr = measured(&report, "quantized/sr-cures-adam");
    let r = sr["V stochastic M=7"].as_f64().unwrap();
    assert!((0.8..1.2).contains(&r), "{sr}");
    // the f32 cast of the states changes the final loss by far less than 1e-6 relative
    let rec = measured(&report, "quantized/m23-recovers-fp");
    for (_, v) in rec.as_object().unwrap() {
        assert!(v.as_f64().unwrap() < 1e-6);
    }
    assert!(report.evals.gradients > 1_000_000);
    assert!(dir.join("z1_loss_vs_bits.png").exists());
}

#[test]
fn sweep_settings_are_validated_before_running() {
    let err = |sets: &[&str]| quick_config_error(&Quantized, sets).expect("an error");
    assert_eq!(
        err(&["z2.enabled=true", "z2.seeds=0"]),
        "invalid value for 'z2.seeds': got 0, expected an integer >= 1"
    );
    assert_eq!(
        err(&["z3.enabled=true", "z3.bits=[]"]),
        "invalid value for 'z3.bits': got [], expected at least one mantissa width"
    );
    assert_eq!(
        err(&["z1.sweep_seeds=0"]),
        "invalid value for 'z1.sweep_seeds': got 0, expected an integer >= 1"
    );
}
