//! The open-set active-learning loop (P2 spec §2.1 and the pseudocode of §2.3):
//!
//! ```text
//! L ← `initial` random known samples; I ← ∅; U ← pool \ L
//! for r = 0..=R:
//!     C ← fresh K-way model trained on L;  record acc(C, known test set), precision, recall
//!     if r == R: break
//!     Q ← strategy(U, L, I, C, round seed), |Q| = min(b, |U|)
//!     L ← L ∪ (Q ∩ known);  I ← I ∪ (Q ∩ unknown);  U ← U \ Q
//! ```
//!
//! Seeds: everything derives from the run seed s. The initial set comes from its `"initial"`
//! stream; model C of round r from [`model_seed`]`(s, r)` and the strategy's choices and models
//! of round r from [`query_seed`]`(s, r)`. So strategies compared at one run seed share the
//! pool, the initial set and model C's initialisations (common random numbers), and no model
//! carries weights from one round to the next (pitfall 6).

use std::sync::Arc;

use descent_core::{Error, Result, RngStreams};
use serde::{Deserialize, Serialize};

use crate::model::Recipe;
use crate::strategy::{QueryContext, QueryStrategy};
use crate::task::{Answer, OpenSetTask, PoolState};

/// The loop's settings (spec §5.2 defaults: 40 initial samples, budget 40, 8 rounds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActiveConfig {
    /// Initial labelled known samples (drawn uniformly from the pool's known samples).
    pub initial: usize,
    /// Samples queried per round (unknowns count against it, pitfall 9).
    pub budget: usize,
    /// Query rounds R (R + 1 evaluations).
    pub rounds: usize,
    /// How every fresh model is trained.
    pub recipe: Recipe,
}

impl Default for ActiveConfig {
    fn default() -> Self {
        ActiveConfig {
            initial: 40,
            budget: 40,
            rounds: 8,
            recipe: Recipe::default(),
        }
    }
}

impl ActiveConfig {
    /// Checks the settings against a task: errors name the budget that exceeds the pool,
    /// an initial set larger than the known samples, and bad recipe fields.
    ///
    /// # Errors
    ///
    /// A zero budget, a budget above the pool, an initial set above the known samples, or a bad recipe field, naming it.
    pub fn validate(&self, task: &OpenSetTask) -> Result<()> {
        self.recipe.validate(task.inputs().n_features)?;
        if self.budget == 0 {
            return Err(Error::invalid("budget", 0, "an integer >= 1"));
        }
        let unlabelled = task.len().saturating_sub(self.initial);
        if self.budget > unlabelled {
            return Err(Error::invalid(
                "budget",
                self.budget,
                format!(
                    "at most the {unlabelled} unlabelled pool samples ({} in the pool, {} initially labelled)",
                    task.len(),
                    self.initial
                ),
            ));
        }
        let total = self.budget * self.rounds;
        if total > unlabelled {
            return Err(Error::invalid(
                "budget x rounds",
                format!("{} x {} = {total} queries", self.budget, self.rounds),
                format!("at most the {unlabelled} unlabelled pool samples"),
            ));
        }
        let known = task.n_pool_known();
        if self.initial == 0 || self.initial > known {
            return Err(Error::invalid(
                "initial",
                self.initial,
                format!("between 1 and the pool's {known} known-class samples"),
            ));
        }
        Ok(())
    }
}

/// The seed of round `round`'s model C in a run with seed `run_seed`.
pub fn model_seed(run_seed: u64, round: usize) -> u64 {
    RngStreams::new(run_seed).child_seed("model-c", round as u64)
}

/// The seed a strategy gets for query round `round` (1-based) of run `run_seed`.
pub fn query_seed(run_seed: u64, round: usize) -> u64 {
    RngStreams::new(run_seed).child_seed("query", round as u64)
}

/// The strategy's scores of the unlabelled pool at one query, split by the oracle's truth
/// (known to the loop, never to the strategy): what C3 of the spec measures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreSummary {
    /// Mean score of the unlabelled known-class samples (NaN if none).
    pub known_mean: f64,
    /// Mean score of the unlabelled unknown-class samples (NaN if none).
    pub unknown_mean: f64,
    /// The smallest score.
    pub min: f64,
    /// The largest score.
    pub max: f64,
}

/// One evaluation: the state after `round` query rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundRecord {
    /// 0 before any query.
    pub round: usize,
    /// |L|, known samples labelled so far (initial set included).
    pub labelled: usize,
    /// |I|, queried unknowns so far.
    pub invalid: usize,
    /// Samples queried in this round (0 at round 0).
    pub queried: usize,
    /// Known samples among them.
    pub queried_known: usize,
    /// queried_known / queried (NaN at round 0).
    pub precision: f64,
    /// |L| / known samples of the pool (the initial set counts in both, pitfall 9).
    pub recall: f64,
    /// Test accuracy of model C trained on this L (known-class test set).
    pub test_accuracy: f64,
    /// The scores behind this round's query, if the strategy reported them.
    pub scores: Option<ScoreSummary>,
}

/// A finished run of one strategy at one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveRun {
    /// The strategy's name.
    pub strategy: String,
    /// The seed of the run.
    pub seed: u64,
    /// R + 1 records, round 0 first.
    pub records: Vec<RoundRecord>,
}

impl ActiveRun {
    /// Test accuracy after the last round.
    pub fn final_accuracy(&self) -> f64 {
        self.records.last().map_or(f64::NAN, |r| r.test_accuracy)
    }

    /// Known queried / queried over all rounds (NaN without queries).
    pub fn precision(&self) -> f64 {
        let q: usize = self.records.iter().map(|r| r.queried).sum();
        let k: usize = self.records.iter().map(|r| r.queried_known).sum();
        if q == 0 {
            f64::NAN
        } else {
            k as f64 / q as f64
        }
    }

    /// One value per record.
    pub fn column(&self, f: impl Fn(&RoundRecord) -> f64) -> Vec<f64> {
        self.records.iter().map(f).collect()
    }
}

/// The state of a run between query rounds: what a checkpoint of it holds. Every round trains
/// fresh models from the per-round seeds [`model_seed`] and [`query_seed`] (pitfall 6), so no
/// model parameters, optimizer state or random-stream position carries from one round to the
/// next (the `"initial"` stream is used once, before round 0): the labelling, the records and
/// the last query's counts are the whole state, and a run continued from them is bit-identical
/// to one that never stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveProgress {
    /// Query rounds done; the next evaluation is of round `rounds_done`.
    pub rounds_done: usize,
    /// L, the labelled known samples (pool indices, ascending).
    pub labelled: Vec<usize>,
    /// I, the queried unknowns (ascending).
    pub invalid: Vec<usize>,
    /// The records so far: `rounds_done` of them, or all R + 1 once the run has finished.
    pub records: Vec<RoundRecord>,
    /// The last query: samples asked, known ones among them and its score summary (what the
    /// next record reports).
    pub last_query: LastQuery,
}

/// The counts of the last query round, reported by the next record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LastQuery {
    /// Samples queried.
    pub queried: usize,
    /// Known samples among them.
    pub queried_known: usize,
    /// The strategy's score summary, if it reported scores.
    pub scores: Option<ScoreSummary>,
}

impl ActiveProgress {
    /// True once every round of `cfg` has been evaluated.
    pub fn finished(&self, cfg: &ActiveConfig) -> bool {
        self.records.len() == cfg.rounds + 1
    }

    /// Ok when this progress can belong to a run of `cfg`: rounds within `cfg.rounds`, one
    /// record per evaluated round in order, and labelled and invalid sets as large as the
    /// records say. Errors name the inconsistent field.
    pub fn check(&self, cfg: &ActiveConfig) -> Result<()> {
        let bad = |field: &str, value: String, expected: String| {
            Err(Error::invalid(
                format!("checkpoint {field}"),
                value,
                expected,
            ))
        };
        if self.rounds_done > cfg.rounds {
            return bad(
                "rounds_done",
                self.rounds_done.to_string(),
                format!("at most --rounds {}", cfg.rounds),
            );
        }
        let done = self.rounds_done == cfg.rounds && self.finished(cfg);
        if self.records.len() != self.rounds_done && !done {
            return bad(
                "records",
                format!("{} records", self.records.len()),
                format!("one per round before round {}", self.rounds_done),
            );
        }
        if let Some((i, r)) = self.records.iter().enumerate().find(|(i, r)| r.round != *i) {
            return bad(
                "records",
                format!("round {} at {i}", r.round),
                format!("round {i}"),
            );
        }
        let queries = self.records.iter().map(|r| (r.queried, r.queried_known));
        let q = queries.chain(std::iter::once((
            if done { 0 } else { self.last_query.queried },
            if done {
                0
            } else {
                self.last_query.queried_known
            },
        )));
        let (asked, known) = q.fold((0usize, 0usize), |(a, k), (x, y)| {
            (a.saturating_add(x), k.saturating_add(y))
        });
        if self.labelled.len() != cfg.initial.saturating_add(known) {
            return bad(
                "labelled",
                format!("{} samples", self.labelled.len()),
                format!("--initial {} + {known} known queried", cfg.initial),
            );
        }
        if self.invalid.len() != asked.saturating_sub(known) || known > asked {
            return bad(
                "invalid",
                format!("{} samples", self.invalid.len()),
                format!("{} queried unknowns", asked.saturating_sub(known)),
            );
        }
        Ok(())
    }
}

/// What a run does after a query round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRound {
    /// Go on with the next round.
    Continue,
    /// Stop here (a checkpoint has been written): [`ActiveEnd::Stopped`].
    Stop,
}

/// A finished run, or one stopped between rounds.
#[derive(Debug, Clone, PartialEq)]
pub enum ActiveEnd {
    /// Every round ran.
    Finished(ActiveRun),
    /// Stopped after `rounds_done` query rounds.
    Stopped {
        /// Query rounds done.
        rounds_done: usize,
    },
}

/// Runs `strategy` on `task` for `cfg.rounds` query rounds from run seed `seed`. Errors: an
/// invalid config ([`ActiveConfig::validate`]), a diverged training run, and a strategy that
/// returns other than `min(budget, |U|)` distinct unlabelled samples (named with the strategy).
///
/// # Errors
///
/// See above.
pub fn run_active(
    task: &OpenSetTask,
    strategy: &dyn QueryStrategy,
    cfg: &ActiveConfig,
    seed: u64,
) -> Result<ActiveRun> {
    match run_active_from(task, strategy, cfg, seed, None, &mut |_| {
        Ok(AfterRound::Continue)
    })? {
        ActiveEnd::Finished(run) => Ok(run),
        ActiveEnd::Stopped { .. } => unreachable!("the callback never stops"),
    }
}

/// [`run_active`] from `start` (a checkpoint's progress, checked against `cfg` and the task
/// first), calling `after_round` with the progress after every query round (it may write a
/// checkpoint and stop the run) and once more when the run has finished (its answer is then
/// ignored). Continuing from the progress of an earlier call gives the records of an
/// uninterrupted run, bit for bit.
pub fn run_active_from(
    task: &OpenSetTask,
    strategy: &dyn QueryStrategy,
    cfg: &ActiveConfig,
    seed: u64,
    start: Option<ActiveProgress>,
    after_round: &mut dyn FnMut(&ActiveProgress) -> Result<AfterRound>,
) -> Result<ActiveEnd> {
    cfg.validate(task)?;
    let (mut state, mut records, mut last, first) = match start {
        None => {
            let mut rng = RngStreams::new(seed).stream("initial");
            let state = PoolState::initial(task, cfg.initial, &mut rng)?;
            (
                state,
                Vec::with_capacity(cfg.rounds + 1),
                LastQuery::default(),
                0,
            )
        }
        Some(p) => {
            p.check(cfg)?;
            let state = PoolState::restore(task, &p.labelled, &p.invalid)?;
            (state, p.records, p.last_query, p.rounds_done)
        }
    };
    let progress = |state: &PoolState, records: &[RoundRecord], last, rounds_done| ActiveProgress {
        rounds_done,
        labelled: state.labelled().to_vec(),
        invalid: state.invalid().to_vec(),
        records: records.to_vec(),
        last_query: last,
    };
    let n_pool_known = task.n_pool_known() as f64;
    for round in first..=cfg.rounds {
        if records.len() == cfg.rounds + 1 {
            break;
        }
        let known_set = Arc::new(state.known_set(task.inputs()));
        let model = cfg.recipe.fit(known_set, model_seed(seed, round))?;
        let LastQuery {
            queried,
            queried_known,
            scores,
        } = last;
        records.push(RoundRecord {
            round,
            labelled: state.labelled().len(),
            invalid: state.invalid().len(),
            queried,
            queried_known,
            precision: if queried == 0 {
                f64::NAN
            } else {
                queried_known as f64 / queried as f64
            },
            recall: state.labelled().len() as f64 / n_pool_known,
            test_accuracy: model.accuracy(task.test()),
            scores,
        });
        if round == cfg.rounds {
            break;
        }
        last = query(task, strategy, cfg, seed, &mut state, &model, round + 1)?;
        let p = progress(&state, &records, last, round + 1);
        if after_round(&p)? == AfterRound::Stop {
            return Ok(ActiveEnd::Stopped {
                rounds_done: round + 1,
            });
        }
    }
    after_round(&progress(&state, &records, last, cfg.rounds))?;
    Ok(ActiveEnd::Finished(ActiveRun {
        strategy: strategy.name(),
        seed,
        records,
    }))
}

/// Query round `round` (1-based): the strategy's choice from model C, checked, applied to
/// `state`.
fn query(
    task: &OpenSetTask,
    strategy: &dyn QueryStrategy,
    cfg: &ActiveConfig,
    seed: u64,
    state: &mut PoolState,
    model: &crate::model::TrainedModel,
    round: usize,
) -> Result<LastQuery> {
    let want = cfg.budget.min(state.unlabelled().len());
    let ctx = QueryContext {
        inputs: task.inputs(),
        state,
        model,
        recipe: &cfg.recipe,
        round,
        seed: query_seed(seed, round),
    };
    let selection = strategy.select(&ctx, want)?;
    if selection.indices.len() != want {
        return Err(Error::invalid(
            format!("strategy '{}' in round {round}", strategy.name()),
            format!("{} samples", selection.indices.len()),
            format!("exactly {want} samples"),
        ));
    }
    if let Some(s) = &selection.scores
        && s.len() != state.unlabelled().len()
    {
        return Err(Error::shape(
            format!("scores of strategy '{}'", strategy.name()),
            format!("{} (one per unlabelled sample)", state.unlabelled().len()),
            s.len(),
        ));
    }
    let scores = selection
        .scores
        .as_deref()
        .map(|s| summarize(task, state.unlabelled(), s));
    let queried_known = state.apply(task, &selection.indices).map_err(|e| {
        Error::invalid(
            format!("strategy '{}' in round {round}", strategy.name()),
            e,
            "distinct samples of the unlabelled pool",
        )
    })?;
    Ok(LastQuery {
        queried: want,
        queried_known,
        scores,
    })
}

fn summarize(task: &OpenSetTask, unlabelled: &[usize], scores: &[f64]) -> ScoreSummary {
    let (mut sk, mut nk, mut su, mut nu) = (0.0, 0usize, 0.0, 0usize);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for (&i, &s) in unlabelled.iter().zip(scores) {
        match task.oracle(i) {
            Answer::Known(_) => (sk, nk) = (sk + s, nk + 1),
            Answer::Unknown => (su, nu) = (su + s, nu + 1),
        }
        if s.is_nan() || min.is_nan() {
            (min, max) = (f64::NAN, f64::NAN);
        } else {
            min = if s < min { s } else { min };
            max = if s > max { s } else { max };
        }
    }
    let mean = |s: f64, n: usize| if n == 0 { f64::NAN } else { s / n as f64 };
    ScoreSummary {
        known_mean: mean(sk, nk),
        unknown_mean: mean(su, nu),
        min,
        max,
    }
}
