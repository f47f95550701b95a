//! P1 `drift`: the quick preset at seeds 0 and 1 (schema, asserted claims, the seed recorded
//! and used), specific measured numbers of the seed-0 report, and config errors.

use descent_lab::experiment::{Preset, check_quick_seeds, quick_config_error, resolve_config};
use descent_lab::papers::drift::DriftPaper;
use serde_json::Value;

fn table_rows<'a>(r: &'a descent_lab::report::Report, name: &str) -> &'a Vec<Vec<Value>> {
    &r.tables.iter().find(|t| t.name == name).unwrap().rows
}

#[test]
fn quick_preset_reproduces_the_drift_rates_at_two_seeds() {
    let dir = tempfile::tempdir().unwrap();
    // DRIFT_OUT=/some/dir keeps the reports and figures for inspection
    let out = std::env::var_os("DRIFT_OUT").map_or(dir.path().to_path_buf(), Into::into);
    let [report, _] = check_quick_seeds(&DriftPaper, &out);
    eprintln!("quick preset elapsed {:.1} s", report.elapsed_s);
    for c in &report.claims {
        eprintln!("{} {} {} {}", c.id, c.holds, c.expected, c.measured);
    }
    let rows = table_rows(&report, "drift_rates");
    let f = |v: &Value| v.as_f64().unwrap();
    // T1 at λ⊥ = 0.5: theory 5.0e-7 per step, measured within 15 %, s.e. about 4 %
    let t1 = rows
        .iter()
        .find(|r| r[0] == "T1" && f(&r[4]) == 0.5)
        .unwrap();
    assert!((f(&t1[11]) - 5.0e-7).abs() < 1e-12);
    assert!((f(&t1[9]) / 5.0e-7 - 1.0).abs() < 0.15, "{}", t1[9]);
    assert!(f(&t1[10]) / f(&t1[9]) < 0.08, "s.e. {}", t1[10]);
    // the MSD fit agrees with the rotation estimator within 30 %
    assert!((f(&t1[13]) / f(&t1[9]) - 1.0).abs() < 0.3, "{}", t1[13]);
    // T3 synaptic at m = 10: (m−1)ησ²/4 = 9e-6
    let syn = rows
        .iter()
        .find(|r| r[0] == "T3-synaptic" && r[3] == 10)
        .unwrap();
    assert!((f(&syn[11]) - 9.0e-6).abs() < 1e-15);
    assert!((f(&syn[9]) / 9.0e-6 - 1.0).abs() < 0.15, "{}", syn[9]);
    // every figure and the speed table are written
    for stem in ["d_vs_var_irr", "d_vs_dimension", "d_vs_m", "msd"] {
        assert!(
            out.join("seed0").join(format!("{stem}.png")).exists(),
            "{stem}"
        );
    }
    assert_eq!(table_rows(&report, "speed").len(), 7);
    assert!(report.evals.fields > 200_000_000);
}

#[test]
fn bad_config_values_name_the_field() {
    let err = |sets: &[&str]| quick_config_error(&DriftPaper, sets).expect("an error");
    let e = err(&["t1_oja_var.window=150"]);
    assert!(e.contains("t1_oja_var.window") && e.contains("150"), "{e}");
    assert_eq!(
        err(&["t2_oja_dim.var_irr=[]"]),
        "invalid value for 't2_oja_dim.var_irr': got [], expected at least one value"
    );
    assert_eq!(
        err(&["t3_learning_m.m=[2, 12]"]),
        "invalid value for 't3_learning_m.n': got 12, expected input dimensions above every \
         output dimension m (max m = 12)"
    );
    assert_eq!(
        err(&["t5_ae_var.m=[7]"]),
        "invalid value for 'other_dims.n': got 6, expected input dimensions above every output \
         dimension m (max m = 7)"
    );
    assert_eq!(
        err(&["t4_sm_var.m=[0]"]),
        "invalid value for 't4_sm_var.m': got 0, expected output dimensions >= 1"
    );
    assert_eq!(
        err(&["batches=1"]),
        "invalid value for 'batches': got 1, expected an integer >= 2"
    );
    assert_eq!(
        err(&["sm_tau=0"]),
        "invalid value for 'sm_tau': got 0, expected a finite number > 0"
    );
    assert_eq!(
        err(&["ae_wd=1.5"]),
        "invalid value for 'ae_wd': got 1.5, expected a weight decay in [0, 1)"
    );
    assert_eq!(
        err(&["t7_aniso.steps=1000000", "t7_var_rel=[4, 0.2, 1]"]),
        "invalid value for 't7_var_rel': got 0.2, expected relevant variances above λ⊥ = 0.5"
    );
    assert_eq!(
        err(&["t7_aniso.steps=1000000", "t7_aniso.n=[3]"]),
        "invalid value for 't7_aniso.n': got 3, expected input dimensions above every output \
         dimension m (max m = 3)"
    );
    let e = resolve_config(
        &DriftPaper,
        Preset::Quick,
        None,
        &["t5_ae_var.etaa=1".into()],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("etaa"), "{e}");
}

/// The sweep runs in parallel (the harness's `par_grid`) and gives the same numbers as on one
/// thread.
#[test]
fn parallel_sweep_equals_a_one_thread_run() {
    let sets: Vec<String> = [
        "t1_oja_var.steps=200000",
        "t2_oja_dim.steps=200000",
        "t3_learning_m.steps=200000",
        "t3_synaptic_m.steps=50000",
        "t4_sm_var.steps=200000",
        "t5_ae_var.steps=200000",
        "t6_sup_var.steps=200000",
        "other_dims.steps=200000",
        "speed_steps=1000",
        "burn_in=1000",
        "seeds=2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let cfg = resolve_config(&DriftPaper, Preset::Quick, None, &sets).unwrap();
    let run = || {
        let ctx = descent_lab::experiment::RunContext {
            preset: Preset::Quick,
            seed: 5,
            progress: &|_, _| {},
        };
        let out = descent_lab::experiment::Experiment::run(&DriftPaper, &cfg, &ctx).unwrap();
        let rates = table_rows(&out.report, "drift_rates").clone();
        // every column but the last (steps per second, a timing)
        rates
            .into_iter()
            .map(|row| row[..row.len() - 1].to_vec())
            .collect::<Vec<_>>()
    };
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(run);
    let parallel = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap()
        .install(run);
    assert!(one_thread.len() >= 20, "{} rows", one_thread.len());
    assert_eq!(one_thread, parallel);
}
