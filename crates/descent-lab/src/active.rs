//! `descent active`: open-set active learning on any dataset descent reads, and the tables and
//! figures every open-set study shares (the `samosa` experiment uses them too).
//!
//! Protocol: for each of `seeds` seeds (`seed`, `seed + 1`, …) the data is loaded and split as
//! `descent train` does (a source's own test split, else a stratified split by the seed, then
//! standardized with the pool's statistics), the listed classes are known and every other
//! class unknown ([`OpenSetTask`]), and every strategy runs [`run_active`] from that seed: one
//! pool, one initial labelled set and one set of model-C seeds per seed, shared by the
//! strategies (paired comparison). Runs go in parallel; the results do not depend on the
//! thread count. [`study_with`] adds checkpoints and `--resume` ([`resume`]).

use descent_active::{ActiveConfig, ActiveRun, OpenSetTask, parse_strategy, run_active};
use descent_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub mod resume;

use crate::compare::{job_control, study_resume};
use crate::harness::{par_grid, par_map, stats};
use crate::plot::{Figure, LegendAt, Line, Panel};
use crate::report::{Report, num};
use crate::train::{RunControl, TrainConfig, prepare_data};

/// The baseline of the paired columns and panels.
const RANDOM: &str = "random";

/// What `descent active` runs: the flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveStudy {
    /// Dataset spec (`digits`, `csv:PATH`, `idx:DIR`, `npy:X.npy,Y.npy`, `mixture(...)`, ...).
    pub data: String,
    /// The known classes (the data's labels); every other class is unknown.
    pub known: Vec<usize>,
    /// Strategy specs, one curve each.
    pub strategies: Vec<String>,
    /// The loop: initial labelled samples, budget per round, rounds, the model recipe.
    pub active: ActiveConfig,
    /// Seeds per strategy: `seed .. seed + seeds`.
    pub seeds: usize,
    /// The first seed; the runs use `seed .. seed + seeds`.
    pub seed: u64,
    /// Test fraction when the data has no test split of its own.
    pub test_fraction: f64,
    /// Standardize features with the pool's statistics.
    pub standardize: bool,
}

impl Default for ActiveStudy {
    fn default() -> Self {
        ActiveStudy {
            data: "digits".into(),
            known: vec![0, 1, 2, 3, 4],
            strategies: vec!["random".into(), "samosa".into()],
            active: ActiveConfig::default(),
            seeds: 5,
            seed: 0,
            test_fraction: 0.2,
            standardize: true,
        }
    }
}

/// A library error renamed to the flag that set the value (`budget` → `--budget`).
fn as_flag(e: Error) -> Error {
    match e {
        Error::InvalidValue {
            field,
            value,
            expected,
        } => {
            let field = match field.as_str() {
                "known classes" => "--known".to_string(),
                "budget" => "--budget".to_string(),
                "budget x rounds" => "--budget x --rounds".to_string(),
                "initial" => "--initial".to_string(),
                "recipe.epochs" => "--epochs".to_string(),
                "recipe.batch_size" => "--batch-size".to_string(),
                _ => field,
            };
            Error::InvalidValue {
                field,
                value,
                expected,
            }
        }
        other => other,
    }
}

/// The open-set task of seed `seed`.
pub fn task(study: &ActiveStudy, seed: u64) -> Result<OpenSetTask> {
    let data = prepare_data(&TrainConfig {
        data: study.data.clone(),
        seed,
        test_fraction: study.test_fraction,
        standardize: study.standardize,
        ..TrainConfig::default()
    })?;
    OpenSetTask::new(&data.train, &data.test, &study.known).map_err(as_flag)
}

/// Runs every strategy at every seed (all runs in parallel). Errors before any training:
/// no strategy, zero seeds, an unknown strategy, an unknown class label, a budget larger
/// than the pool, or bad recipe specs.
pub fn study(s: &ActiveStudy) -> Result<ComparisonResult> {
    let r = study_with(s, &RunControl::default())?;
    Ok(r.expect("a study without a stop flag runs to the end"))
}

/// [`study`] with checkpoints ([`resume`]): every run (`<strategy index>-seed<seed index>`)
/// checkpoints into its own folder under `control.checkpoint_dir` every `control.every` query
/// rounds, on a stop and when it ends; with `control.resume` each run continues from its
/// checkpoint (bit-identically) and finished runs are read back. `None` when the stop flag
/// ended the study (every run then has a checkpoint or had not started).
pub fn study_with(s: &ActiveStudy, control: &RunControl) -> Result<Option<ComparisonResult>> {
    if s.strategies.is_empty() {
        return Err(Error::invalid(
            "--strategy",
            "none",
            "at least one strategy spec",
        ));
    }
    if s.seeds == 0 {
        return Err(Error::invalid("--seeds", 0, "an integer >= 1"));
    }
    if control.every == Some(0) {
        return Err(Error::invalid(
            "--checkpoint-every",
            0,
            "a number of query rounds >= 1",
        ));
    }
    // strategy specs are checked before any data is loaded
    for spec in &s.strategies {
        parse_strategy(spec)?;
    }
    let resume = study_resume(control)?;
    let seeds: Vec<u64> = (0..s.seeds as u64).map(|k| s.seed + k).collect();
    let tasks = par_map(&seeds, |&k| task(s, k))?;
    for t in &tasks {
        s.active.validate(t).map_err(as_flag)?;
    }
    if control.checkpoint_dir.is_none() {
        return run_all(&tasks, &seeds, &s.strategies, |_| s.active.clone()).map(Some);
    }
    let parsed = s
        .strategies
        .iter()
        .map(|t| parse_strategy(t))
        .collect::<Result<Vec<_>>>()?;
    let runs = par_grid(parsed.len(), seeds.len(), |i, k| {
        let name = parsed[i].name();
        let settings = resume::RunSettings::of(s, &tasks[k], &name, seeds[k]);
        let job = job_control(control, resume.as_deref(), &format!("{i}-seed{k}"));
        resume::run_job(settings, &tasks[k], parsed[i].as_ref(), &job)
    })?;
    let mut strategies = Vec::with_capacity(parsed.len());
    for (st, runs) in parsed.iter().zip(runs) {
        let Some(runs) = runs.into_iter().collect::<Option<Vec<_>>>() else {
            return Ok(None);
        };
        strategies.push(StrategyRuns {
            strategy: st.name(),
            runs,
        });
    }
    Ok(Some(ComparisonResult {
        seeds,
        budget: s.active.budget,
        strategies,
    }))
}

/// Every strategy (spec text) on every (task, seed) pair in parallel, the loop settings of a
/// task from `config`; `result.strategies[i].runs[k]` is strategy i on task k with seed k.
pub fn run_all(
    tasks: &[OpenSetTask],
    seeds: &[u64],
    strategies: &[String],
    config: impl Fn(&OpenSetTask) -> ActiveConfig + Sync,
) -> Result<ComparisonResult> {
    let parsed = strategies
        .iter()
        .map(|t| parse_strategy(t))
        .collect::<Result<Vec<_>>>()?;
    let runs = par_grid(parsed.len(), seeds.len(), |i, k| {
        run_active(&tasks[k], parsed[i].as_ref(), &config(&tasks[k]), seeds[k])
    })?;
    Ok(ComparisonResult {
        seeds: seeds.to_vec(),
        budget: tasks.first().map_or(0, |t| config(t).budget),
        strategies: parsed
            .iter()
            .zip(runs)
            .map(|(st, runs)| StrategyRuns {
                strategy: st.name(),
                runs,
            })
            .collect(),
    })
}

/// Columns of [`run_rows`].
pub const RUN_COLUMNS: [&str; 11] = [
    "strategy",
    "seed",
    "round",
    "labelled",
    "invalid",
    "queried",
    "queried_known",
    "precision",
    "recall",
    "test_accuracy",
    "score_unknown_over_known",
];

/// One row per strategy, seed and round: the per-round record of every run.
pub fn run_rows(r: &ComparisonResult) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for s in &r.strategies {
        for run in &s.runs {
            for x in &run.records {
                rows.push(vec![
                    json!(s.strategy),
                    json!(run.seed),
                    json!(x.round),
                    json!(x.labelled),
                    json!(x.invalid),
                    json!(x.queried),
                    json!(x.queried_known),
                    num(x.precision),
                    num(x.recall),
                    num(x.test_accuracy),
                    num(x.scores.map_or(f64::NAN, |v| v.unknown_mean / v.known_mean)),
                ]);
            }
        }
    }
    rows
}

/// The report of a study: the summary (per strategy), the per-round means, every run's
/// records (`per_round.csv`) and the curves figure.
pub fn report(s: &ActiveStudy, r: &ComparisonResult) -> (Report, Vec<(String, Figure)>) {
    let mut report = Report::default();
    report.add_table("summary", &SUMMARY_COLUMNS, summary_rows(r));
    report.add_table("rounds", &ROUND_COLUMNS, round_rows(&r.strategies));
    report.add_table("per_round", &RUN_COLUMNS, run_rows(r));
    report.assume(format!(
        "{} seeds ({}..{}); for each seed every strategy sees the same split, pool, initial \
         labelled set ({} samples) and model-C initialisations; known classes {:?}, every \
         other class unknown; budget {} per round, {} rounds; fresh models every round \
         ({}, {}, {} epochs, batch {})",
        r.seeds.len(),
        s.seed,
        s.seed + s.seeds as u64 - 1,
        s.active.initial,
        s.known,
        s.active.budget,
        s.active.rounds,
        s.active.recipe.model,
        s.active.recipe.optimizer,
        s.active.recipe.epochs,
        s.active.recipe.batch_size
    ));
    let names: Vec<&str> = r.strategies.iter().map(|x| x.strategy.as_str()).collect();
    let fig = curves_figure(
        &r.strategies,
        &names,
        &format!(
            "{}: known classes {:?}, budget {} per round; mean ± standard error over {} seeds",
            s.data,
            s.known,
            s.active.budget,
            r.seeds.len()
        ),
    );
    (report, vec![("curves".to_string(), fig)])
}

/// One strategy's runs, one per seed.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyRuns {
    /// The canonical spec text.
    pub strategy: String,
    /// One run per seed, in seed order.
    pub runs: Vec<ActiveRun>,
}

/// What the comparison measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonResult {
    /// The seeds every strategy ran with.
    pub seeds: Vec<u64>,
    /// Labels queried per round.
    pub budget: usize,
    /// Every strategy's runs, in the study's order.
    pub strategies: Vec<StrategyRuns>,
}

impl ComparisonResult {
    /// The runs of a strategy (empty if it was not run).
    pub fn runs(&self, name: &str) -> &[ActiveRun] {
        self.strategies
            .iter()
            .find(|s| s.strategy == name)
            .map_or(&[], |s| &s.runs)
    }

    /// Final test accuracy per seed.
    pub fn finals(&self, name: &str) -> Vec<f64> {
        self.runs(name)
            .iter()
            .map(ActiveRun::final_accuracy)
            .collect()
    }

    /// Query precision per seed.
    pub fn precisions(&self, name: &str) -> Vec<f64> {
        self.runs(name).iter().map(ActiveRun::precision).collect()
    }

    /// 100 × (final accuracy of `a` − of `b`) per seed, in points; empty unless both ran on
    /// the same seeds.
    pub fn gains(&self, a: &str, b: &str) -> Vec<f64> {
        let (fa, fb) = (self.finals(a), self.finals(b));
        if fa.len() != fb.len() {
            return Vec::new();
        }
        fa.iter().zip(&fb).map(|(x, y)| 100.0 * (x - y)).collect()
    }

    /// Seeds on which `a`'s final accuracy is strictly above `b`'s.
    pub fn wins(&self, a: &str, b: &str) -> usize {
        self.gains(a, b).iter().filter(|g| **g > 0.0).count()
    }

    /// Mean precision of `a` minus mean precision of `b`.
    pub fn precision_gap(&self, a: &str, b: &str) -> f64 {
        stats::mean(&self.precisions(a)) - stats::mean(&self.precisions(b))
    }
}

/// A strategy's name in figures: SAMOSA's variants spelled out, other specs as they are.
pub fn label(name: &str) -> String {
    match name {
        "samosa" => "SAMOSA".into(),
        "samosa(filter=false)" => "SAMOSA, no filter".into(),
        "samosa(order=low)" => "SAMOSA, low scores first".into(),
        "samosa(pair=sgd)" => "SGD vs SGD + filter".into(),
        "samosa(init=shared)" => "SAM vs SGD, shared init".into(),
        "least_confidence" => "least confidence".into(),
        other => other.into(),
    }
}

/// Columns of [`summary_rows`].
pub const SUMMARY_COLUMNS: [&str; 10] = [
    "strategy",
    "final_acc_mean",
    "final_acc_std",
    "gain_vs_random_points",
    "wins_vs_random",
    "precision_mean",
    "final_recall_mean",
    "score_known_mean",
    "score_unknown_mean",
    "seeds",
];

/// One row per strategy: final accuracy, gain and wins against random, precision, recall, and
/// the mean score of unlabelled known and unknown samples.
pub fn summary_rows(r: &ComparisonResult) -> Vec<Vec<Value>> {
    r.strategies
        .iter()
        .map(|s| {
            let finals = r.finals(&s.strategy);
            let recall: Vec<f64> = s
                .runs
                .iter()
                .map(|run| run.records.last().map_or(f64::NAN, |x| x.recall))
                .collect();
            let sc: Vec<_> = s
                .runs
                .iter()
                .flat_map(|run| run.records.iter().filter_map(|x| x.scores))
                .collect();
            let score = |f: fn(&descent_active::ScoreSummary) -> f64| {
                stats::mean(&sc.iter().map(f).collect::<Vec<_>>())
            };
            vec![
                json!(s.strategy),
                num(stats::mean(&finals)),
                num(stats::std(&finals)),
                num(stats::mean(&r.gains(&s.strategy, RANDOM))),
                json!(r.wins(&s.strategy, RANDOM)),
                num(stats::mean(&r.precisions(&s.strategy))),
                num(stats::mean(&recall)),
                num(score(|x| x.known_mean)),
                num(score(|x| x.unknown_mean)),
                json!(s.runs.len()),
            ]
        })
        .collect()
}

/// Columns of [`round_rows`].
pub const ROUND_COLUMNS: [&str; 7] = [
    "strategy",
    "round",
    "test_acc_mean",
    "test_acc_std",
    "precision_mean",
    "recall_mean",
    "labelled_mean",
];

/// Per strategy and round: means (and the accuracy's std) over seeds.
pub fn round_rows(strategies: &[StrategyRuns]) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for s in strategies {
        let n_rounds = s.runs.first().map_or(0, |r| r.records.len());
        for round in 0..n_rounds {
            let col = |f: fn(&descent_active::RoundRecord) -> f64| -> Vec<f64> {
                s.runs.iter().map(|run| f(&run.records[round])).collect()
            };
            let acc = col(|x| x.test_accuracy);
            rows.push(vec![
                json!(s.strategy),
                json!(round),
                num(stats::mean(&acc)),
                num(stats::std(&acc)),
                num(stats::mean(&col(|x| x.precision))),
                num(stats::mean(&col(|x| x.recall))),
                num(stats::mean(&col(|x| x.labelled as f64))),
            ]);
        }
    }
    rows
}

/// Mean ± one standard error (std/√n) over seeds of `f(run, round)` per round, from `from`.
fn band_line(s: &StrategyRuns, from: usize, f: impl Fn(usize, &ActiveRun, usize) -> f64) -> Line {
    let n_rounds = s.runs.first().map_or(0, |r| r.records.len());
    let (mut x, mut y, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
    for round in from..n_rounds {
        let v: Vec<f64> = s
            .runs
            .iter()
            .enumerate()
            .map(|(k, run)| f(k, run, round))
            .collect();
        let (m, sd) = stats::mean_std(&v);
        let se = sd / (v.len() as f64).sqrt();
        x.push(round as f64);
        y.push(m);
        lo.push(m - se);
        hi.push(m + se);
    }
    Line {
        band: Some((lo, hi)),
        markers: true,
        ..Line::new(label(&s.strategy), x, y)
    }
}

/// Three panels against round for the listed strategies: test accuracy (from round 0), its
/// paired difference to random sampling (in points), and query precision (from round 1), each
/// the mean over seeds with a band of ± one standard error. Colours follow the strategies'
/// order in `all`, so a strategy has one colour in every figure; the legend is in the first
/// panel.
pub fn curves_figure(all: &[StrategyRuns], names: &[&str], caption: &str) -> Figure {
    let chosen: Vec<(usize, &StrategyRuns)> = all
        .iter()
        .enumerate()
        .filter(|(_, s)| names.contains(&s.strategy.as_str()))
        .collect();
    let random = all.iter().find(|s| s.strategy == RANDOM);
    let lines = |from, f: &dyn Fn(usize, &ActiveRun, usize) -> f64| {
        chosen
            .iter()
            .map(|(i, s)| Line {
                color: Some(*i),
                ..band_line(s, from, f)
            })
            .collect::<Vec<_>>()
    };
    let gain = |k: usize, run: &ActiveRun, round: usize| {
        random.and_then(|r| r.runs.get(k)).map_or(f64::NAN, |b| {
            100.0 * (run.records[round].test_accuracy - b.records[round].test_accuracy)
        })
    };
    Figure {
        caption: Some(caption.into()),
        panels: vec![
            Panel {
                title: "test accuracy of the K-way model".into(),
                x_label: "round".into(),
                y_label: "test accuracy (known classes)".into(),
                legend: LegendAt::LowerRight,
                lines: lines(0, &|_, run, r| run.records[r].test_accuracy),
                ..Default::default()
            },
            Panel {
                title: "accuracy minus random sampling's (paired)".into(),
                x_label: "round".into(),
                y_label: "difference in test accuracy (points)".into(),
                legend: LegendAt::Hidden,
                lines: lines(0, &gain),
                ..Default::default()
            },
            Panel {
                title: "query precision (known / queried)".into(),
                x_label: "round".into(),
                y_label: "query precision".into(),
                legend: LegendAt::Hidden,
                lines: lines(1, &|_, run, r| run.records[r].precision),
                ..Default::default()
            },
        ],
    }
}
