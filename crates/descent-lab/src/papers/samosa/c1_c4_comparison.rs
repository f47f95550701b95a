//! Checks 1–4 and 7 of P2 §5.4 with C3 and C5 of §3: every strategy runs the §5.2 loop on the
//! §5.1 pool at each derived seed (paired: one pool, one initial set and the same model-C
//! seeds per seed), in parallel across (strategy, seed). Claims compare final test accuracies
//! (after the last round) and query precisions (known / queried over all rounds).

use descent_core::Result;
use serde_json::json;

use super::config::{Config, derived_seeds};
use super::pool::synthetic;
use crate::active::{ComparisonResult, StrategyRuns, label, run_all};
use crate::harness::{par_map, stats};
use crate::report::{Claim, ClaimKind, num};

/// Random queries (the baseline).
pub const RANDOM: &str = "random";
/// SAMOSA with its defaults (P2 §2).
pub const SAMOSA: &str = "samosa";
/// SAMOSA without the known-class filter (ablation).
pub const NO_FILTER: &str = "samosa(filter=false)";
/// SAMOSA querying the least typical samples first (ablation).
pub const LOW: &str = "samosa(order=low)";
/// Maximum entropy.
pub const ENTROPY: &str = "entropy";
/// SAMOSA with SGD instead of SAM as the pair model (ablation).
pub const SGD_PAIR: &str = "samosa(pair=sgd)";
/// SAMOSA with one shared initialisation of both models (ablation).
pub const SHARED: &str = "samosa(init=shared)";

/// Runs every configured strategy at every derived seed of `run_seed`.
pub fn measure(c: &Config, run_seed: u64) -> Result<ComparisonResult> {
    let seeds = derived_seeds(run_seed, c.seeds);
    let pools = par_map(&seeds, |&s| synthetic(&c.pool, s))?;
    let tasks: Vec<_> = pools.into_iter().map(|p| p.task).collect();
    run_all(&tasks, &seeds, &c.strategies, |_| c.active.clone())
}

fn mean_gain_claim(
    r: &ComparisonResult,
    id: &str,
    what: &str,
    a: &str,
    b: &str,
    kind: ClaimKind,
    bound: f64,
) -> Claim {
    let g = r.gains(a, b);
    Claim::at_least(
        id,
        &format!(
            "{what}: final test accuracy of {} minus {} after the last round, paired by seed, \
             mean over the {} derived seeds, in points",
            label(a),
            label(b),
            r.seeds.len()
        ),
        kind,
        stats::mean(&g),
        bound,
    )
}

/// The claims of checks 1–4 and 7, C3 and C5, and the run-time half of check 6.
pub fn claims(r: &ComparisonResult) -> Vec<Claim> {
    use ClaimKind::{Asserted, Reported};
    let n = r.seeds.len();
    let need = (3 * n).div_ceil(4);
    let mut out = vec![
        mean_gain_claim(
            r,
            "samosa/main-gain",
            "Check 1",
            SAMOSA,
            RANDOM,
            Asserted,
            1.0,
        ),
        Claim::at_least(
            "samosa/main-wins",
            &format!(
                "Check 1: seeds (of the {n} derived) on which SAMOSA's final test accuracy is \
                 strictly above random sampling's (6 of 8 in the spec)"
            ),
            Asserted,
            r.wins(SAMOSA, RANDOM) as f64,
            need as f64,
        ),
        Claim::at_least(
            "samosa/precision-gain",
            &format!(
                "Check 2: SAMOSA's query precision (known / queried over all rounds) minus \
                 random sampling's, means over the {n} derived seeds (reported, not asserted: \
                 see the assumptions)"
            ),
            Reported,
            r.precision_gap(SAMOSA, RANDOM),
            0.08,
        ),
        mean_gain_claim(
            r,
            "samosa/high-beats-low",
            "Check 3",
            SAMOSA,
            LOW,
            Asserted,
            3.0,
        ),
    ];
    let low_gap = r.precision_gap(LOW, SAMOSA);
    out.push(Claim::judged(
        "samosa/low-end-precision",
        &format!(
            "Check 3, 'even though': querying the lowest SAMIS-P first has the higher query \
             precision (low minus high, means over the {n} derived seeds)"
        ),
        Asserted,
        num(low_gap),
        "> 0",
        low_gap > 0.0,
    ));
    out.push(Claim::at_least(
        "samosa/filter-precision",
        &format!(
            "Check 4: query precision with the unknown filter minus without it (SAMOSA vs \
             SAMOSA, no filter), means over the {n} derived seeds"
        ),
        Asserted,
        r.precision_gap(SAMOSA, NO_FILTER),
        0.10,
    ));
    out.extend(check6_claims(r));
    out.extend(reported_claims(r));
    out
}

/// The SAMOSA-family strategies (those scoring by SAMIS-P).
fn samis_strategies(r: &ComparisonResult) -> impl Iterator<Item = &StrategyRuns> {
    r.strategies
        .iter()
        .filter(|s| s.strategy.starts_with("samosa"))
}

/// Check 6 measured on the runs themselves: every query had exactly the budget, and every
/// SAMIS-P lay in [0, 2].
fn check6_claims(r: &ComparisonResult) -> Vec<Claim> {
    let all = r.strategies.iter().flat_map(|s| &s.runs);
    let rounds: Vec<_> = all.flat_map(|run| &run.records[1..]).collect();
    let off = rounds.iter().filter(|rec| rec.queried != r.budget).count();
    let scores: Vec<f64> = samis_strategies(r)
        .flat_map(|s| &s.runs)
        .flat_map(|run| run.records.iter().filter_map(|rec| rec.scores))
        .flat_map(|s| [s.min, s.max])
        .collect();
    let (lo, hi) = (stats::min(&scores), stats::max(&scores));
    vec![
        Claim::at_most(
            "samosa/budget-exact",
            &format!(
                "Check 6 in the runs: query rounds (of {} over every strategy and seed) that \
                 did not query exactly the budget b = {} (the pool always held more than b)",
                rounds.len(),
                r.budget
            ),
            ClaimKind::Asserted,
            off as f64,
            0.0,
        ),
        Claim::judged(
            "samosa/samis-range",
            "Check 6 in the runs: the smallest and largest SAMIS-P of every unlabelled sample \
             scored by every SAMOSA variant, round and seed",
            ClaimKind::Asserted,
            json!({"min": num(lo), "max": num(hi)}),
            "min >= 0 and max <= 2",
            lo >= 0.0 && hi <= 2.0,
        ),
    ]
}

/// C3, C5, check 7 and the shared-init ablation (reported).
fn reported_claims(r: &ComparisonResult) -> Vec<Claim> {
    use ClaimKind::Reported;
    let n = r.seeds.len();
    let summaries: Vec<_> = r
        .runs(SAMOSA)
        .iter()
        .flat_map(|run| run.records.iter().filter_map(|rec| rec.scores))
        .collect();
    let unknown = stats::mean(&summaries.iter().map(|s| s.unknown_mean).collect::<Vec<_>>());
    let known = stats::mean(&summaries.iter().map(|s| s.known_mean).collect::<Vec<_>>());
    let entropy_gain = stats::mean(&r.gains(ENTROPY, RANDOM));
    let entropy_prec = r.precision_gap(ENTROPY, RANDOM);
    vec![
        Claim::judged(
            "samosa/unknowns-score-higher",
            &format!(
                "C3: mean SAMIS-P of the unlabelled unknown-class samples over that of the \
                 unlabelled known-class samples (SAMOSA's models, every query round, mean over \
                 {n} seeds; prototype 0.48 vs 0.24)"
            ),
            Reported,
            json!({"unknown": num(unknown), "known": num(known), "ratio": num(unknown / known)}),
            "ratio > 1",
            unknown / known > 1.0,
        ),
        Claim::in_range(
            "samosa/entropy-like-random",
            &format!(
                "C5: entropy sampling's final test accuracy minus random's, paired, mean over \
                 {n} seeds, in points (prototype -0.04 +- 2.1)"
            ),
            Reported,
            entropy_gain,
            -1.0,
            1.0,
        ),
        Claim::judged(
            "samosa/entropy-precision",
            &format!(
                "C5: entropy sampling's query precision minus random's, means over {n} seeds \
                 (prototype 0.26 vs 0.40)"
            ),
            Reported,
            num(entropy_prec),
            "< 0",
            entropy_prec < 0.0,
        ),
        mean_gain_claim(
            r,
            "samosa/sgd-pair-gain",
            "Check 7",
            SGD_PAIR,
            RANDOM,
            Reported,
            1.0,
        ),
        mean_gain_claim(
            r,
            "samosa/sam-beats-sgd-pair",
            "Check 7, the paper's ensemble-vs-SAM ablation (the prototype found no SAM-specific \
             gain)",
            SAMOSA,
            SGD_PAIR,
            Reported,
            1.0,
        ),
        mean_gain_claim(
            r,
            "samosa/shared-init-gain",
            "Shared-init ablation (pitfall 7; prototype +2.5)",
            SHARED,
            RANDOM,
            Reported,
            1.0,
        ),
    ]
}
