//! Unit tests of `puf`'s pure parts on hand-built results (no training): every claim holds on
//! a good result, fails where a case breaks it, and fails on NaN; the seeds follow the run
//! seed; the config names its bad fields.

use descent_core::RngStreams;
use descent_data::{Dataset, Targets};
use descent_dist::Mia;
use descent_nn::Init;
use serde_json::{Value, json};

use super::claims::claims;
use super::config::{Config, Seeds};
use super::measure::{Backdoor, Case, DatasetRun, OriginalRun, Point, PufResult, Trajectory};
use super::tables::{all_series, columns, tables};
use super::{assumptions, figures, setup};
use crate::experiment::PaperConfig;
use crate::report::{Claim, ClaimKind};

fn point(test: f64, forget: f64, yeom: f64) -> Point {
    Point {
        test,
        forget,
        mia: Mia {
            yeom_rate: yeom,
            confidence_rate: yeom,
            auc: yeom,
        },
    }
}

fn traj(h: usize) -> Trajectory {
    Trajectory {
        test: vec![0.9; h],
        forget: vec![0.8; h],
    }
}

/// A case in which every check holds: PUF forgets below retraining right after, recovers in 3
/// rounds to within 0.01 of the retrained forget accuracy; natural forgetting stays 0.06 above.
fn case(split: u64, targets: &[usize]) -> Case {
    Case {
        split,
        targets: targets.to_vec(),
        per_client: [vec![0.9; 10], vec![0.8; 10], vec![0.85; 10]],
        n_target: 100,
        original: point(0.95, 0.97, 0.6),
        retrain: point(0.93, 0.90, 0.5),
        retrain_curve: vec![0.5, 0.93],
        special_after: point(0.6, 0.5, 0.2),
        special: point(0.93, 0.91, 0.52),
        special_rounds: Some(3),
        special_traj: traj(9),
        regular_after: point(0.7, 0.6, 0.3),
        regular: point(0.93, 0.90, 0.5),
        regular_rounds: Some(4),
        regular_traj: traj(9),
        natural: point(0.94, 0.96, 0.58),
        natural_traj: traj(9),
        algebra_err: 0.0,
        linearity_err: (targets.len() > 1).then_some(1e-16),
        bytes: [100, 10, 100],
        backdoor: (targets.len() == 1).then(|| Backdoor {
            original: 0.8,
            retrain: 0.0,
            puf: vec![0.1, 0.02],
            natural: 0.7,
        }),
        steps: 10,
    }
}

fn good() -> PufResult {
    let originals = [1, 2]
        .map(|split| OriginalRun {
            split,
            test_curve: vec![0.5, 0.95],
            steps: 100,
        })
        .to_vec();
    let digits = DatasetRun {
        originals,
        singles: vec![case(1, &[0]), case(1, &[3]), case(2, &[0]), case(2, &[3])],
        pairs: vec![case(1, &[1, 2]), case(2, &[1, 2])],
        determinism: Some(true),
    };
    let mut mixture = digits.clone();
    mixture.pairs.clear();
    mixture.determinism = None;
    mixture.singles.iter_mut().for_each(|k| k.backdoor = None);
    PufResult {
        digits,
        mixture: Some(mixture),
    }
}

fn find<'a>(cs: &'a [Claim], id: &str) -> &'a Claim {
    cs.iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("claim {id}"))
}

#[test]
fn every_claim_holds_on_a_good_result() {
    let c = Config::default();
    let cs = claims(&c, &good());
    let failing: Vec<&str> = cs
        .iter()
        .filter(|k| !k.holds)
        .map(|k| k.id.as_str())
        .collect();
    assert!(failing.is_empty(), "{failing:?}");
    assert_eq!(cs.len(), 24);
    assert_eq!(
        find(&cs, "puf/fidelity-max").measured,
        json!(0.010000000000000009)
    );
    let bd = find(&cs, "puf/backdoor-eta4-per-case");
    assert_eq!(bd.kind, ClaimKind::Reported);
    assert_eq!(bd.measured["values"]["split1-target0"], json!(0.975));
    assert_eq!(bd.measured["not_memorised"], json!({}));
    assert_eq!(find(&cs, "puf/backdoor-eta4").kind, ClaimKind::Asserted);
    assert_eq!(find(&cs, "puf/backdoor-eta2").measured, json!(0.875));
}

#[test]
fn claims_fail_where_a_case_breaks_them() {
    let c = Config::default();
    let mut r = good();
    let k = &mut r.digits.singles[3]; // split 2, target 3
    k.special_rounds = None; // never recovered within the cap
    k.special.forget = 0.75; // 0.15 below retrain
    k.special_after.forget = 0.95; // not below retrain right after
    k.bytes[2] = 101; // Regular sends more than a normal round
    let b = k.backdoor.as_mut().unwrap();
    b.puf[1] = 0.3; // ratio 0.625 < 0.85 at η_u = 4
    b.natural = 0.4; // ratio 0.5 > 0.35
    r.digits.determinism = Some(false);
    let cs = claims(&c, &r);
    for id in [
        "puf/recovery",
        "puf/fidelity-max",
        "puf/fidelity-mean",
        "puf/immediate-forgetting-all",
        "puf/no-extra-traffic",
        "puf/deterministic",
        "puf/backdoor-eta4-per-case",
        "puf/backdoor-natural-per-case",
    ] {
        assert!(!find(&cs, id).holds, "{id} should fail");
    }
    // the calibrated split-1 check, the means and the other per-case claims still hold
    for id in [
        "puf/immediate-forgetting",
        "puf/backdoor-eta4",
        "puf/backdoor-natural",
        "puf/backdoor-eta2-per-case",
    ] {
        assert!(find(&cs, id).holds, "{id} should hold");
    }
    let per_case = find(&cs, "puf/backdoor-eta4-per-case");
    assert_eq!(per_case.measured["failing"], json!(["split2-target3"]));
    assert_eq!(per_case.measured["values"]["split2-target3"], json!(0.625));
    // the mean gap of PUF, (3 · 0.01 + 0.15) / 4 = 0.045, still beats natural's 0.06
    assert!(find(&cs, "puf/better-than-natural").holds);
}

#[test]
fn a_nan_fails_the_claims_over_it_never_reads_as_zero() {
    let c = Config::default();
    let mut r = good();
    r.digits.singles[1].algebra_err = f64::NAN;
    r.digits.pairs[0].linearity_err = Some(f64::NAN);
    r.digits.originals[1].test_curve = vec![f64::NAN];
    r.digits.singles[2].special.forget = f64::NAN;
    r.digits.singles[2].special.mia.yeom_rate = f64::NAN;
    r.digits.singles[2].backdoor.as_mut().unwrap().puf[0] = f64::NAN;
    r.digits.singles[0].natural.forget = f64::NAN;
    let cs = claims(&c, &r);
    for id in [
        "puf/update-algebra",
        "puf/concurrent-linear",
        "puf/fedavg-accuracy",
        "puf/fidelity-mean",
        "puf/fidelity-max",
        "puf/fidelity-yeom",
        "puf/better-than-natural",
        "puf/natural-remembers",
        "puf/backdoor-eta2",
        "puf/backdoor-eta2-per-case",
    ] {
        let k = find(&cs, id);
        assert!(!k.holds, "{id} holds on NaN: {}", k.measured);
    }
    assert_eq!(find(&cs, "puf/update-algebra").measured, Value::Null);
    assert_eq!(
        find(&cs, "puf/backdoor-eta2-per-case").measured["failing"],
        json!(["split2-target0"])
    );
    // a NaN backdoor accuracy is not "nothing to forget": the case stays in and fails
    let mut r = good();
    r.digits.singles[0].backdoor.as_mut().unwrap().retrain = f64::NAN;
    let cs = claims(&c, &r);
    let k = find(&cs, "puf/backdoor-eta4-per-case");
    assert!(!k.holds);
    assert_eq!(k.measured["not_memorised"], json!({}));
    assert!(!find(&cs, "puf/backdoor-eta4").holds);
}

#[test]
fn cases_with_nothing_to_forget_are_named_not_dropped() {
    let c = Config::default();
    let mut r = good();
    let b = r.digits.singles[1].backdoor.as_mut().unwrap();
    (b.original, b.retrain, b.natural) = (0.05, 0.0, 0.05);
    b.puf = vec![0.05, 0.0];
    let cs = claims(&c, &r);
    let k = find(&cs, "puf/backdoor-eta2-per-case");
    assert!(k.holds);
    assert_eq!(
        k.measured["not_memorised"],
        json!({"split1-target3": {"original": 0.05, "retrain": 0.0}})
    );
    assert_eq!(k.measured["values"].as_object().unwrap().len(), 3);
    assert!(k.statement.contains("3 of 4 cases"), "{}", k.statement);
    assert!(
        find(&cs, "puf/backdoor-natural")
            .statement
            .contains("3 of 4")
    );
    // no memorised case at all: nothing supports check 7, so it fails
    for k in &mut r.digits.singles {
        k.backdoor.as_mut().unwrap().original = 0.0;
    }
    let cs = claims(&c, &r);
    assert!(!find(&cs, "puf/backdoor-eta4").holds);
    assert!(!find(&cs, "puf/backdoor-eta4-per-case").holds);
}

#[test]
fn tables_series_and_figures_are_built_from_the_result() {
    let c = Config::default();
    let r = good();
    let t = tables(&c, &r);
    let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "cases",
            "per_client_train_accuracy",
            "mixture_cases",
            "mia",
            "backdoor",
            "bytes_per_round"
        ]
    );
    assert_eq!(t[0].rows.len(), 6);
    assert_eq!(t[1].rows.len(), 40);
    assert_eq!(t[4].rows[0][7], json!(0.875)); // ratio at η_u = 2
    let s = all_series(&c, &r);
    assert_eq!(s[0].columns.len(), 1 + 3 * 2 * 3 + 2);
    assert!(s[0].data.iter().all(|col| col.len() == c.horizon + 1));
    assert_eq!(s[1].columns[1], "test_acc_original_split1");
    let f = figures::figures(&c, &r);
    assert_eq!(f.len(), 3);
    let a = assumptions::assumptions(&c, &r);
    assert_eq!(a.len(), 7);
    assert!(a.iter().all(|s| !s.contains("only labels the report")));
}

#[test]
fn trajectory_columns_propagate_nan() {
    let rows = vec![vec![1.0, 2.0, 3.0], vec![3.0, f64::NAN, 1.0]];
    let (m, lo, hi) = columns(&rows, 3);
    assert_eq!((m[0], lo[0], hi[0]), (2.0, 1.0, 3.0));
    assert!(m[1].is_nan() && lo[1].is_nan() && hi[1].is_nan());
    assert_eq!((lo[2], hi[2]), (1.0, 3.0));
    // a row shorter than the horizon is not silently averaged over fewer cases
    assert!(columns(&[vec![1.0], vec![1.0, 2.0]], 2).0[1].is_nan());
}

#[test]
fn run_seed_zero_keeps_the_calibrated_seeds_and_others_move_every_seed() {
    let c = Config::default();
    let s0 = Seeds::new(&c, 0);
    assert_eq!((s0.test, s0.init, s0.train), (0, 7, 2));
    assert_eq!(
        c.split_seeds
            .iter()
            .map(|&k| s0.partition(k))
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let mut partitions = std::collections::BTreeSet::new();
    for run in 0..3 {
        let s = Seeds::new(&c, run);
        for &k in &c.split_seeds {
            assert!(
                partitions.insert(s.partition(k)),
                "runs share a partition seed"
            );
        }
        if run > 0 {
            assert!(s.test != s0.test && s.init != s0.init && s.train != s0.train);
        }
    }
}

#[test]
fn the_data_split_partitions_and_initialisation_change_with_the_run_seed() {
    let c = Config::default();
    let (s0, s1) = (Seeds::new(&c, 0), Seeds::new(&c, 1));
    let (d0, d1) = (
        setup::digits(&c, &s0).unwrap(),
        setup::digits(&c, &s1).unwrap(),
    );
    // at run seed 0, the spec's He init with seed 7
    let spec_init = d0
        .model
        .init_params(Init::He, &mut RngStreams::new(7).stream("init"));
    assert_eq!(d0.init, spec_init);
    assert_ne!(d0.init, d1.init);
    assert_eq!(d0.train.len(), d1.train.len());
    assert_ne!(d0.train.features, d1.train.features);
    let sizes = |s: &setup::Setup, seeds: &Seeds| -> Vec<usize> {
        setup::client_data(s, &c, seeds.partition(1))
            .unwrap()
            .iter()
            .map(|d| d.len())
            .collect()
    };
    assert_ne!(sizes(&d0, &s0), sizes(&d1, &s1));
    let (m0, m1) = (
        setup::mixture(&c, &s0).unwrap(),
        setup::mixture(&c, &s1).unwrap(),
    );
    assert_ne!(m0.train.features, m1.train.features);
}

#[test]
fn config_errors_name_the_field() {
    let bad = |f: fn(&mut Config)| {
        let mut c = Config::default();
        f(&mut c);
        c.validate().unwrap_err().to_string()
    };
    assert_eq!(
        bad(|c| c.targets = vec![12]),
        "invalid value for 'targets': got 12, expected client ids in 0..10"
    );
    assert!(bad(|c| c.eta_special = -1.0).contains("'eta_special'"));
    assert!(bad(|c| c.backdoor_etas = vec![2.0, f64::NAN]).contains("'backdoor_etas[1]'"));
    assert!(bad(|c| c.concurrent = vec![1, 1]).contains("'concurrent'"));
    assert!(bad(|c| c.split_seeds.clear()).contains("'split_seeds'"));
    assert!(bad(|c| c.recovery_cap = 3).contains("horizon (8)"));
    assert!(bad(|c| c.test_fraction = 1.0).contains("'test_fraction'"));
    assert!(Config::quick().validate().is_ok() && Config::full().validate().is_ok());
}

#[test]
fn backdoor_patches_and_shifts_labels() {
    let d = Dataset::new(
        "x",
        vec![0.0; 128],
        64,
        Targets::Classes {
            labels: vec![3, 9],
            n_classes: 10,
        },
    )
    .unwrap();
    let b = setup::backdoored(&d);
    assert_eq!(&b.features[..2], &[1.0, 1.0]);
    assert_eq!(b.features[8], 1.0);
    assert_eq!(b.features[2], 0.0);
    assert_eq!(b.features[64 + 9], 1.0);
    assert_eq!(
        b.targets,
        Targets::Classes {
            labels: vec![4, 0],
            n_classes: 10
        }
    );
}
