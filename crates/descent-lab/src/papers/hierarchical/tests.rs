//! Unit tests of the pure claim functions on hand-built results (milliseconds).

use descent_core::EvalCounts;

use super::r1_minimax::{self, A6Result, R1Result};
use super::r2_bilevel::{self, B1Result, R2Result, with_neumann};
use super::r3_auc::{self, AucMetrics, Method, R3Result};
use super::r4_hyper::{self, HyperRun, R4Result};
use super::runs::{Curve, record_points};
use crate::harness::{EpochEnd, EpochRecord, EpochRun};
use crate::report::Claim;

fn curve(tails: &[f64]) -> Curve {
    Curve {
        steps: vec![1.0, 10.0],
        calls: vec![2.0, 20.0],
        grad_norm: vec![1.0, 0.1],
        tails: tails.to_vec(),
        ..Curve::default()
    }
}

fn holds(claims: &[Claim], id: &str) -> bool {
    claims
        .iter()
        .find(|c| c.id == format!("hierarchical/{id}"))
        .unwrap_or_else(|| panic!("no claim {id}"))
        .holds
}

const SIGMAS: [f64; 5] = [0.0, 0.1, 1.0, 10.0, 100.0];

/// metric[method][sigma] as two-seed curves with tails (T, short T).
fn r1(metric: [[f64; 5]; 5], short0: f64, large: f64) -> R1Result {
    let curves = metric
        .iter()
        .enumerate()
        .map(|(m, row)| {
            row.iter()
                .enumerate()
                .map(|(s, v)| {
                    let short = if m == 0 && s == 0 { short0 } else { *v };
                    vec![curve(&[*v, short]); 2]
                })
                .collect()
        })
        .collect();
    R1Result {
        sigmas: SIGMAS.to_vec(),
        labels: (0..5).map(|m| format!("m{m}")).collect(),
        seeds: 2,
        curves,
        large_noise: vec![curve(&[large, large]); 2],
        a6: A6Result {
            alpha_deviation: 0.0,
            noise_ratio: 1.01,
            unbounded_runs: 0,
        },
        evals: EvalCounts::default(),
    }
}

#[test]
fn r1_claims_judge_the_calibrated_bounds_and_orderings() {
    let good = [
        [0.006, 0.004, 0.02, 0.14, 4.0],
        [0.003, 0.002, 0.01, 0.05, 2.0],
        [1e-7, 0.001, 0.01, 0.02, 0.05],
        [3e-6, 0.06, 0.7, 9.0, 90.0],
        [5e-5, 0.01, 0.15, 1.9, 20.0],
    ];
    let c = r1_minimax::claims(&r1(good, 0.02, 0.2));
    for id in [
        "a1-one-setting-every-sigma",
        "a2-sgda-worse-at-sigma-10",
        "a3-decreases-with-t",
        "a4-non-decreasing-in-sigma",
        "a5-large-noise-setting",
        "a5-burn-in-stall",
        "a6-alpha-and-noise-estimate",
    ] {
        assert!(holds(&c, id), "{id}");
    }
    assert!(!holds(&c, "a1-spec-bound"), "0.14 > the spec's 0.1");
    assert!(!holds(&c, "fig1-ada-beats-tiada"));
    assert!(!holds(&c, "tiada-fails-at-sigma-100"));
    // A4 fails when the metric drops with sigma; A3 when the long horizon is not better
    let mut bad = good;
    bad[0][3] = 0.01;
    let c = r1_minimax::claims(&r1(bad, 0.006, 0.2));
    assert!(!holds(&c, "a4-non-decreasing-in-sigma"));
    assert!(!holds(&c, "a3-decreases-with-t"));
    // a NaN metric (a diverged run) fails A1 and A2
    let mut nan = good;
    nan[0][3] = f64::NAN;
    let c = r1_minimax::claims(&r1(nan, 0.02, f64::NAN));
    assert!(!holds(&c, "a1-one-setting-every-sigma"));
    assert!(!holds(&c, "a2-sgda-worse-at-sigma-10"));
    assert!(!holds(&c, "a5-large-noise-setting"));
    let mut r = r1(good, 0.02, 0.2);
    r.a6.unbounded_runs = 1;
    assert!(!holds(
        &r1_minimax::claims(&r),
        "a6-alpha-and-noise-estimate"
    ));
}

fn r2(ada: [f64; 3], base: [f64; 3], randomized: f64) -> R2Result {
    let per = |v: [f64; 3]| v.iter().map(|x| vec![curve(&[*x]); 2]).collect();
    R2Result {
        sigmas: vec![0.0, 0.1, 1.0],
        labels: vec!["ada".into(), "base".into()],
        seeds: 2,
        terms: vec![44, 46, 50],
        steps: 4000,
        curves: vec![per(ada), per(base)],
        randomized: vec![curve(&[randomized]); 2],
        b1: B1Result {
            hypergradient_fd: 1e-12,
            neumann_closed_form: 1e-16,
            bias_formula: 1e-16,
            bias_over_bound: 0.2,
        },
        evals: EvalCounts::default(),
    }
}

#[test]
fn r2_claims_judge_exactness_bounds_and_the_baseline() {
    let c = r2_bilevel::claims(&r2([0.006, 0.14, 0.38], [6e-6, 0.34, 2.1], 0.7));
    for id in [
        "b1-exact-hypergradient-and-neumann",
        "b2-ada-bio-one-setting",
        "b3-baseline-worse-at-sigma-1",
        "b3-baseline-may-win-at-sigma-0",
        "b4-randomized-neumann-stalls",
    ] {
        assert!(holds(&c, id), "{id}");
    }
    let c = r2_bilevel::claims(&r2([0.006, f64::NAN, 0.9], [6e-6, 0.34, 2.1], 0.005));
    assert!(!holds(&c, "b2-ada-bio-one-setting"));
    assert!(!holds(&c, "b3-baseline-worse-at-sigma-1"));
    assert!(!holds(&c, "b4-randomized-neumann-stalls"));
    let mut r = r2([0.006, 0.14, 0.38], [6e-6, 0.34, 2.1], 0.7);
    r.b1.bias_formula = f64::NAN;
    assert!(!holds(
        &r2_bilevel::claims(&r),
        "b1-exact-hypergradient-and-neumann"
    ));
    assert_eq!(
        with_neumann("stocbio(eta_x=0.2)", 2.0, 5),
        "stocbio(eta_x=0.2, l=2, terms=5)"
    );
    assert_eq!(with_neumann("ada_bio", 2.5, 7), "ada_bio(l=2.5, terms=7)");
    assert_eq!(record_points(1000, 4), vec![1, 10, 100, 1000]);
}

fn epoch_run(train: f64, test: f64) -> EpochRun<AucMetrics> {
    let rec = |e, a| EpochRecord {
        epoch: e,
        steps: e as u64,
        evals: EvalCounts::default(),
        seconds: 0.0,
        metrics: AucMetrics {
            train_auc: a,
            test_auc: if e == 0 { 0.5 } else { test },
        },
    };
    EpochRun {
        records: vec![rec(0, 0.5), rec(1, train)],
        end: EpochEnd::Completed,
    }
}

#[test]
fn r3_tunes_by_training_auc_and_judges_the_untuned_gap() {
    let method = |name: &str, n| Method {
        name: name.into(),
        specs: (0..n).map(|g| format!("{name}{g}")).collect(),
        labels: (0..n).map(|g| format!("{name} {g}")).collect(),
    };
    let runs = vec![
        vec![
            vec![epoch_run(0.9, 0.95); 2],
            vec![epoch_run(0.99, 0.97); 2],
        ],
        vec![
            vec![epoch_run(f64::NAN, f64::NAN); 2],
            vec![epoch_run(0.98, 0.96); 2],
        ],
        vec![vec![epoch_run(0.97, 0.985); 2]],
    ];
    let r = R3Result {
        methods: vec![method("sgda", 2), method("pdsm", 2), method("ada", 1)],
        seeds: 2,
        runs,
        evals: EvalCounts::default(),
    };
    assert_eq!(
        (r.best(0), r.best(1)),
        (1, 1),
        "by training AUC, NaN never wins"
    );
    let c = r3_auc::claims(&r);
    assert!(holds(&c, "r3-every-method-learns-auc"));
    assert!(holds(&c, "r3-ada-untuned-within-0.02"));
    assert!(!holds(&c, "r3-ada-beats-baselines"), "0.985 - 0.97 < 0.02");
    assert_eq!(r3_auc::figure(&r).panels[0].lines.len(), 3);
}

#[test]
fn r4_judges_the_validation_ratio_and_divergence() {
    let run = |zero: f64, fin: f64, diverged| HyperRun {
        steps: vec![1.0, 10.0],
        val_loss: vec![0.69, 0.4],
        val_at_zero: zero,
        val_at_final: fin,
        max_abs_lambda: 3.0,
        diverged,
        ..HyperRun::default()
    };
    let r = R4Result {
        labels: vec!["ada".into(), "base".into()],
        seeds: 2,
        runs: vec![
            vec![run(0.64, 0.33, false), run(0.63, 0.32, false)],
            vec![run(0.64, 0.62, false), run(0.63, 0.3, true)],
        ],
        evals: EvalCounts::default(),
    };
    let c = r4_hyper::claims(&r);
    assert!(holds(&c, "r4-ada-bio-lowers-validation-loss"));
    assert!(
        !holds(&c, "r4-baseline-lowers-validation-loss"),
        "a diverged run fails"
    );
    assert!(r.ratio(1).is_nan());
}
