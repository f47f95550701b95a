//! Unit tests of the pure claim functions on hand-built results (no training): results where
//! the claims hold, where they fail, and with a NaN, which must fail.

use descent_active::{ActiveRun, RoundRecord, ScoreSummary};

use super::c1_c4_comparison::{
    self as cmp, ENTROPY, LOW, NO_FILTER, RANDOM, SAMOSA, SGD_PAIR, SHARED,
};
use super::c5_typicality::{self as typ, SeedScores, TypicalityResult};
use super::config::derived_seeds;
use super::digits::{self, DigitsCase, DigitsResult};
use crate::active::{self, ComparisonResult, StrategyRuns};
use crate::report::{Claim, ClaimKind};

const B: usize = 40;

fn claim<'a>(claims: &'a [Claim], id: &str) -> &'a Claim {
    claims
        .iter()
        .find(|c| c.id == format!("samosa/{id}"))
        .unwrap_or_else(|| panic!("claim {id}"))
}

fn asserted_failures(claims: &[Claim]) -> Vec<String> {
    claims
        .iter()
        .filter(|c| c.kind == ClaimKind::Asserted && !c.holds)
        .map(|c| c.id.clone())
        .collect()
}

fn record(round: usize, acc: f64, precision: f64, scores: Option<ScoreSummary>) -> RoundRecord {
    let queried = if round == 0 { 0 } else { B };
    RoundRecord {
        round,
        labelled: 40,
        invalid: 0,
        queried,
        queried_known: (precision * queried as f64).round() as usize,
        precision: if round == 0 { f64::NAN } else { precision },
        recall: 0.1,
        test_accuracy: acc,
        scores,
    }
}

/// A two-evaluation run ending at `acc` with query precision `precision`; SAMOSA-family runs
/// carry SAMIS-P summaries (unknowns 0.4, knowns 0.3).
fn run(strategy: &str, seed: u64, acc: f64, precision: f64) -> ActiveRun {
    let scores = strategy.starts_with("samosa").then_some(ScoreSummary {
        known_mean: 0.3,
        unknown_mean: 0.4,
        min: 0.0,
        max: 1.9,
    });
    ActiveRun {
        strategy: strategy.into(),
        seed,
        records: vec![
            record(0, 0.68, f64::NAN, None),
            record(1, acc, precision, scores),
        ],
    }
}

/// Every strategy at 8 seeds; `acc(strategy, k)` and `prec(strategy)` set the finals.
fn result(acc: impl Fn(&str, usize) -> f64, prec: impl Fn(&str) -> f64) -> ComparisonResult {
    let seeds = derived_seeds(0, 8);
    let names = [RANDOM, SAMOSA, NO_FILTER, LOW, ENTROPY, SGD_PAIR, SHARED];
    ComparisonResult {
        seeds: seeds.clone(),
        budget: B,
        strategies: names
            .iter()
            .map(|s| StrategyRuns {
                strategy: s.to_string(),
                runs: (0..8)
                    .map(|k| run(s, seeds[k], acc(s, k), prec(s)))
                    .collect(),
            })
            .collect(),
    }
}

/// The spec's prototype numbers (§5.3), with a per-seed shift.
fn prototype(s: &str, k: usize) -> f64 {
    let base = 0.76 + 0.002 * k as f64;
    base + match s {
        SAMOSA => 0.022,
        NO_FILTER => 0.011,
        LOW => -0.047,
        ENTROPY => -0.005,
        SGD_PAIR => 0.020,
        SHARED => 0.025,
        _ => 0.0,
    }
}

fn prototype_precision(s: &str) -> f64 {
    match s {
        SAMOSA => 0.539,
        NO_FILTER => 0.355,
        LOW => 0.828,
        ENTROPY => 0.269,
        SGD_PAIR => 0.525,
        SHARED => 0.484,
        _ => 0.393,
    }
}

#[test]
fn the_prototype_numbers_pass_every_comparison_claim() {
    let r = result(prototype, prototype_precision);
    let claims = cmp::claims(&r);
    assert_eq!(asserted_failures(&claims), Vec::<String>::new());
    assert!((claim(&claims, "main-gain").measured.as_f64().unwrap() - 2.2).abs() < 1e-9);
    assert_eq!(claim(&claims, "main-wins").measured, 8.0);
    assert!(claim(&claims, "precision-gain").holds);
    assert!(claim(&claims, "unknowns-score-higher").holds);
    assert!(claim(&claims, "entropy-like-random").holds);
    assert!(claim(&claims, "entropy-precision").holds);
    assert!(claim(&claims, "shared-init-gain").holds);
    // the prototype's SGD-vs-SGD pair is within 0.2 points of SAMOSA: the SAM claim fails
    assert!(!claim(&claims, "sam-beats-sgd-pair").holds);
    assert_eq!(claim(&claims, "precision-gain").kind, ClaimKind::Reported);
}

#[test]
fn losing_to_random_or_to_the_low_end_fails() {
    // SAMOSA 1 point below random at every seed, and the low end as good as SAMOSA
    let r = result(
        |s, k| match s {
            SAMOSA | LOW => prototype(RANDOM, k) - 0.01,
            other => prototype(other, k),
        },
        |s| {
            if s == NO_FILTER {
                0.5
            } else {
                prototype_precision(s)
            }
        },
    );
    let claims = cmp::claims(&r);
    let failed = asserted_failures(&claims);
    for id in [
        "main-gain",
        "main-wins",
        "high-beats-low",
        "filter-precision",
    ] {
        assert!(failed.contains(&format!("samosa/{id}")), "{id}: {failed:?}");
    }
    assert_eq!(claim(&claims, "main-wins").measured, 0.0);
    // 5 wins of 8 is below the 6 the spec asks for
    let r = result(
        |s, k| match s {
            SAMOSA if k >= 5 => prototype(RANDOM, k) - 0.05,
            other => prototype(other, k),
        },
        prototype_precision,
    );
    assert!(!claim(&cmp::claims(&r), "main-wins").holds);
}

#[test]
fn a_nan_final_or_a_missing_strategy_fails() {
    let r = result(
        |s, k| {
            if s == SAMOSA && k == 3 {
                f64::NAN
            } else {
                prototype(s, k)
            }
        },
        prototype_precision,
    );
    let claims = cmp::claims(&r);
    assert!(!claim(&claims, "main-gain").holds);
    assert!(claim(&claims, "main-gain").measured.is_null());
    assert_eq!(claim(&claims, "main-wins").measured, 7.0);
    let mut r = result(prototype, prototype_precision);
    r.strategies.retain(|s| s.strategy != LOW);
    let claims = cmp::claims(&r);
    assert!(!claim(&claims, "high-beats-low").holds);
    assert!(!claim(&claims, "low-end-precision").holds);
}

#[test]
fn check6_claims_see_a_short_round_and_an_out_of_range_score() {
    let mut r = result(prototype, prototype_precision);
    r.strategies[1].runs[0].records[1].queried = B - 1;
    r.strategies[2].runs[4].records[1].scores = Some(ScoreSummary {
        known_mean: 0.3,
        unknown_mean: 0.4,
        min: 0.0,
        max: 2.1,
    });
    let claims = cmp::claims(&r);
    assert_eq!(claim(&claims, "budget-exact").measured, 1.0);
    assert!(!claim(&claims, "budget-exact").holds);
    assert!(!claim(&claims, "samis-range").holds);
    r.strategies[2].runs[4].records[1]
        .scores
        .as_mut()
        .unwrap()
        .max = f64::NAN;
    assert!(!claim(&cmp::claims(&r), "samis-range").holds);
}

#[test]
fn tables_have_one_row_per_strategy_and_round() {
    let r = result(prototype, prototype_precision);
    let rows = active::summary_rows(&r);
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[1][0], "samosa");
    assert!((rows[1][3].as_f64().unwrap() - 2.2).abs() < 1e-9);
    assert_eq!(rows[1][4], 8);
    assert_eq!(rows[0].len(), active::SUMMARY_COLUMNS.len());
    let rounds = active::round_rows(&r.strategies);
    assert_eq!(rounds.len(), 14);
    assert_eq!(rounds[0].len(), active::ROUND_COLUMNS.len());
    let f = active::curves_figure(&r.strategies, &[RANDOM, SAMOSA], "c");
    assert_eq!(f.panels.len(), 3);
    assert_eq!(f.panels[0].lines.len(), 2);
    // the paired difference of SAMOSA to random at round 1 is +2.2 points
    assert!((f.panels[1].lines[1].y[1] - 2.2).abs() < 1e-9);
}

/// Scores of one seed: typical samples at `t`, atypical at `a`, margins falling with SAMIS-P.
fn seed_scores(seed: u64, t: f64, a: f64) -> SeedScores {
    let samis: Vec<f64> = (0..30)
        .map(|i| if i % 10 == 9 { a } else { t } + 0.001 * i as f64)
        .collect();
    SeedScores {
        seed,
        margin: samis.iter().map(|s| 1.0 - s / 2.0).collect(),
        subcluster: (0..30)
            .map(|i| if i % 10 == 9 { 2 } else { i % 2 })
            .collect(),
        samis,
        n_sub: 3,
    }
}

#[test]
fn typicality_claims_judge_every_seed_and_the_mean_correlation() {
    let r = TypicalityResult {
        labelled: 200,
        per_seed: (0..6).map(|s| seed_scores(s, 0.2, 0.36)).collect(),
    };
    let claims = typ::claims(&r);
    assert!(claim(&claims, "typicality-ratio").holds);
    assert!(claim(&claims, "typicality-ratio-mean").holds);
    assert!(claim(&claims, "margin-correlation").holds);
    assert!((r.per_seed[0].correlation() + 1.0).abs() < 1e-12);
    assert_eq!(typ::rows(&r).len(), 6);
    // one seed at ratio 1.1 fails the every-seed claim and is named
    let mut bad = r.clone();
    bad.per_seed[4] = seed_scores(4, 0.2, 0.22);
    let c = typ::claims(&bad);
    assert!(!claim(&c, "typicality-ratio").holds);
    assert_eq!(
        claim(&c, "typicality-ratio").measured["failing"],
        serde_json::json!(["seed 4"])
    );
    // a NaN score fails both
    let mut nan = r.clone();
    nan.per_seed[0].samis[9] = f64::NAN;
    let c = typ::claims(&nan);
    assert!(!claim(&c, "typicality-ratio").holds);
    assert!(!claim(&c, "margin-correlation").holds);
    let (x, y) = typ::binned_means(&r.per_seed[0], 2, 10);
    assert_eq!(x.len(), y.len());
    assert!(y.iter().all(|v| (*v - 0.36).abs() < 0.05));
    assert_eq!(typ::figure(&r).panels[0].lines.len(), 5);
}

#[test]
fn digits_claims_follow_each_case() {
    let case = |known: Vec<usize>, gain: f64| DigitsCase {
        known,
        initial: 14,
        result: result(
            |s, k| prototype(RANDOM, k) + if s == SAMOSA { gain } else { 0.0 },
            prototype_precision,
        ),
    };
    let r = DigitsResult {
        cases: vec![
            case(vec![0, 1, 2, 3, 4], 0.03),
            case(vec![0, 1, 2, 3], -0.01),
        ],
    };
    let claims = digits::claims(&r);
    assert_eq!(claims.len(), 4);
    assert!(claim(&claims, "digits-k5-gain").holds);
    assert!(!claim(&claims, "digits-k4-gain").holds);
    assert!(claim(&claims, "digits-k4-precision").holds);
    assert!(claims.iter().all(|c| c.kind == ClaimKind::Reported));
    assert_eq!(digits::rows(&r).len(), 14);
    assert_eq!(digits::figure(&r).panels.len(), 6);
}
