//! `descent compare`: the optimizer-comparison protocol of AlgoPerf/DeepOBS at laptop scale.
//!
//! Every optimizer gets the same data split, model, initialisations and batch sequence for seed k
//! (all derive from the run seed `seed + k`), so differences are the optimizers'. Results are
//! measured per epoch on three x-axes — steps, gradient evaluations (from `EvalCounter`) and
//! seconds — and summarised across seeds: mean ± std and median of the final test metric, and
//! the gradient evaluations and seconds to reach a target accuracy. Diverged runs are counted as
//! such, never dropped. With a tuning grid, each optimizer first picks its best value of one
//! hyperparameter on a validation split of the training part (seed `seed` only), so every
//! optimizer is charged the same tuning budget.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use descent_core::{Error, Result, Spec, Value as SpecValue};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::checkpoint;
use crate::harness::par_map;
use crate::harness::stats::{mean_std, median};
use crate::plot::{Figure, LegendAt, Line, Panel};
use crate::report::{Report, num};
use crate::train::{EpochRecord, RunControl, TrainConfig, TrainRun, Trained, train_with};

/// A log-spaced grid for one optimizer key: `lr=1e-4:1e-1:7`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneGrid {
    /// The optimizer key the grid sweeps (e.g. `lr`).
    pub key: String,
    /// The values tried, log-spaced and increasing.
    pub values: Vec<f64>,
}

impl TuneGrid {
    /// Parses `key=lo:hi:n` (n ≥ 2 log-spaced values from lo to hi, both > 0).
    pub fn parse(text: &str) -> Result<TuneGrid> {
        let bad = |why: &str| Error::invalid("--tune", text, why.to_string());
        let (key, range) = text
            .split_once('=')
            .ok_or_else(|| bad("key=lo:hi:n, e.g. lr=1e-4:1e-1:7"))?;
        let parts: Vec<&str> = range.split(':').collect();
        if parts.len() != 3 {
            return Err(bad("key=lo:hi:n, e.g. lr=1e-4:1e-1:7"));
        }
        let lo: f64 = parts[0].parse().map_err(|_| bad("a number for lo"))?;
        let hi: f64 = parts[1].parse().map_err(|_| bad("a number for hi"))?;
        let n: usize = parts[2].parse().map_err(|_| bad("an integer n >= 2"))?;
        if !(lo > 0.0 && hi > lo && hi.is_finite()) || n < 2 {
            return Err(bad("0 < lo < hi and n >= 2"));
        }
        let values = (0..n)
            .map(|i| lo * (hi / lo).powf(i as f64 / (n - 1) as f64))
            .collect();
        Ok(TuneGrid {
            key: key.trim().to_string(),
            values,
        })
    }
}

/// What to compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareConfig {
    /// The shared training protocol (its `optimizer` and `seed` are replaced per run).
    pub base: TrainConfig,
    /// Optimizer specs, one line each in the figures.
    pub optimizers: Vec<String>,
    /// Seeds per optimizer: runs use seeds `base.seed .. base.seed + seeds`.
    pub seeds: usize,
    /// Accuracy to report evaluations and seconds to (class targets only).
    pub target_accuracy: Option<f64>,
    /// Optional tuning grid applied to every optimizer.
    pub tune: Option<TuneGrid>,
}

/// The outcome of tuning one optimizer.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuning {
    /// The chosen value.
    pub value: f64,
    /// Every grid value with its validation score (None when the run diverged).
    pub grid: Vec<(f64, Option<f64>)>,
}

/// One optimizer's runs.
#[derive(Debug, Clone)]
pub struct OptimizerRuns {
    /// The spec as run (after tuning).
    pub spec: String,
    /// The tuned value and the validation metric of every grid point, if tuned.
    pub tuning: Option<Tuning>,
    /// One entry per seed: the run, or the divergence error.
    pub runs: Vec<std::result::Result<TrainRun, Error>>,
}

/// Replaces or adds `key=value` in an optimizer spec.
pub fn with_key(spec_text: &str, key: &str, value: f64) -> Result<String> {
    let mut spec = Spec::parse(spec_text)?;
    match spec.args.iter_mut().find(|(k, _)| k == key) {
        Some((_, v)) => *v = SpecValue::Number(value),
        None => spec.args.push((key.to_string(), SpecValue::Number(value))),
    }
    Ok(spec.to_string())
}

/// Higher is better: accuracy when there is one, else minus the held-out loss.
fn score(run: &TrainRun) -> f64 {
    run.summary.test_accuracy.unwrap_or(-run.summary.test_loss)
}

/// One run of a study: finished (or diverged, as data), or `None` when it was stopped with a
/// checkpoint.
type StudyRun = Option<std::result::Result<TrainRun, Error>>;

fn run_or_diverge(cfg: &TrainConfig, control: &RunControl) -> Result<StudyRun> {
    if control
        .stop
        .as_ref()
        .is_some_and(|s| s.load(Ordering::SeqCst))
    {
        return Ok(None); // not started: it starts afresh on resume
    }
    match train_with(cfg, control, |_| {}) {
        Ok(Trained::Finished(r)) => Ok(Some(Ok(r))),
        Ok(Trained::Stopped { .. }) => Ok(None),
        Err(e @ Error::Diverged { .. }) => Ok(Some(Err(e))),
        Err(e) => Err(e),
    }
}

/// The control of the study's run `name`: checkpoints in `<checkpoint_dir>/<name>` (also at
/// its end, so a finished run is not run again), resumed from `<resume>/<name>` when that
/// holds a checkpoint.
pub(crate) fn job_control(study: &RunControl, resume: Option<&Path>, name: &str) -> RunControl {
    let Some(root) = &study.checkpoint_dir else {
        return RunControl::default();
    };
    let resume = resume
        .map(|r| r.join(name))
        .filter(|d| d.join(checkpoint::FILE_NAME).is_file());
    RunControl {
        checkpoint_dir: Some(root.join(name)),
        every: study.every,
        stop: study.stop.clone(),
        resume,
        init: None,
        save_at_end: true,
    }
}

/// The folder of a study's `--resume DIR`: `DIR/checkpoint` when `DIR` is the study's `--out`,
/// else `DIR`; it must hold a checkpoint of at least one run.
pub(crate) fn study_resume(control: &RunControl) -> Result<Option<PathBuf>> {
    let Some(dir) = &control.resume else {
        return Ok(None);
    };
    let root = if dir.join(checkpoint::DIR_NAME).is_dir() {
        dir.join(checkpoint::DIR_NAME)
    } else {
        dir.clone()
    };
    let any = std::fs::read_dir(&root)
        .map_err(|e| Error::io(&root, e))?
        .filter_map(|e| e.ok())
        .any(|e| e.path().join(checkpoint::FILE_NAME).is_file());
    if !any {
        return Err(Error::io(
            &root,
            "no checkpoint of a study's run here (expected <run>/checkpoint.json folders)",
        ));
    }
    Ok(Some(root))
}

/// Runs the comparison (all runs in parallel; results in a fixed order, identical to a serial
/// run).
pub fn compare(cfg: &CompareConfig) -> Result<Vec<OptimizerRuns>> {
    let runs = compare_with(cfg, &RunControl::default())?;
    Ok(runs.expect("a comparison without a stop flag runs to the end"))
}

/// [`compare`] with checkpoints: every run (tuning runs `tune-<optimizer>-<value>`, then
/// `<optimizer>-seed<seed>`, indices from 0) checkpoints into its own folder under
/// `control.checkpoint_dir` every `control.every` steps, on a stop and when it ends; with
/// `control.resume` each run continues from its checkpoint (bit-identically) and finished runs
/// are read back. `None` when the stop flag ended the study (every run then has a checkpoint or
/// had not started).
pub fn compare_with(
    cfg: &CompareConfig,
    control: &RunControl,
) -> Result<Option<Vec<OptimizerRuns>>> {
    if cfg.optimizers.is_empty() {
        return Err(Error::invalid(
            "--optimizer",
            "none",
            "at least one optimizer spec",
        ));
    }
    if cfg.seeds == 0 {
        return Err(Error::invalid("--seeds", 0, "an integer >= 1"));
    }
    if let Some(a) = cfg.target_accuracy.filter(|a| !(*a > 0.0 && *a <= 1.0)) {
        return Err(Error::invalid(
            "--target-accuracy",
            a,
            "an accuracy in (0, 1]",
        ));
    }
    // Fail fast on a bad spec before any run starts.
    for o in &cfg.optimizers {
        descent_optim::build_optimizer(&Spec::parse(o)?)?;
    }
    let resume = study_resume(control)?;
    let resume = resume.as_deref();
    // Tuning: every (optimizer, grid value) on the validation split of seed `base.seed`.
    let tuned: Vec<(String, Option<Tuning>)> = match &cfg.tune {
        None => cfg.optimizers.iter().map(|o| (o.clone(), None)).collect(),
        Some(grid) => {
            let jobs: Vec<(usize, usize)> = (0..cfg.optimizers.len())
                .flat_map(|i| (0..grid.values.len()).map(move |j| (i, j)))
                .collect();
            let scores = par_map(&jobs, |&(i, j)| {
                let spec = with_key(&cfg.optimizers[i], &grid.key, grid.values[j])?;
                descent_optim::build_optimizer(&Spec::parse(&spec)?)?;
                let tc = TrainConfig {
                    optimizer: spec,
                    validation: true,
                    ..cfg.base.clone()
                };
                let job = job_control(control, resume, &format!("tune-{i}-{j}"));
                Ok(run_or_diverge(&tc, &job)?.map(|r| r.ok().map(|r| score(&r))))
            })?;
            let Some(scores) = scores.into_iter().collect::<Option<Vec<_>>>() else {
                return Ok(None);
            };
            cfg.optimizers
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    let n = grid.values.len();
                    let pts: Vec<(f64, Option<f64>)> = grid
                        .values
                        .iter()
                        .copied()
                        .zip(scores[i * n..(i + 1) * n].iter().copied())
                        .collect();
                    let best = pts.iter().filter_map(|(v, s)| s.map(|s| (*v, s))).fold(
                        None::<(f64, f64)>,
                        |acc, (v, s)| match acc {
                            Some((_, bs)) if bs >= s => acc,
                            _ => Some((v, s)),
                        },
                    );
                    let value = best.map_or(grid.values[0], |(v, _)| v);
                    Ok((
                        with_key(o, &grid.key, value)?,
                        Some(Tuning { value, grid: pts }),
                    ))
                })
                .collect::<Result<Vec<_>>>()?
        }
    };
    let jobs: Vec<(usize, u64)> = (0..tuned.len())
        .flat_map(|i| (0..cfg.seeds as u64).map(move |k| (i, k)))
        .collect();
    let results = par_map(&jobs, |(i, k)| {
        let tc = TrainConfig {
            optimizer: tuned[*i].0.clone(),
            seed: cfg.base.seed + k,
            ..cfg.base.clone()
        };
        run_or_diverge(&tc, &job_control(control, resume, &format!("{i}-seed{k}")))
    })?;
    let Some(results) = results.into_iter().collect::<Option<Vec<_>>>() else {
        return Ok(None);
    };
    let mut results = results.into_iter();
    Ok(Some(
        tuned
            .into_iter()
            .map(|(spec, tuning)| OptimizerRuns {
                spec,
                tuning,
                runs: results.by_ref().take(cfg.seeds).collect(),
            })
            .collect(),
    ))
}

/// The first epoch record reaching the target accuracy.
fn first_reaching(history: &[EpochRecord], target: f64) -> Option<&EpochRecord> {
    history
        .iter()
        .find(|r| r.test_accuracy.is_some_and(|a| a >= target))
}

/// What the test metric of a comparison is: accuracy when the data has classes, else the loss.
#[derive(Clone, Copy)]
struct Metric {
    classes: bool,
}

impl Metric {
    fn name(self) -> &'static str {
        if self.classes {
            "test accuracy"
        } else {
            "test loss"
        }
    }

    /// The run's final value of the metric.
    fn final_value(self, r: &TrainRun) -> f64 {
        if self.classes {
            r.summary.test_accuracy.unwrap_or(f64::NAN)
        } else {
            r.summary.test_loss
        }
    }

    /// The plotted per-epoch value: test error 1 − accuracy (a log scale spreads the last
    /// percent), or the test loss.
    fn plotted(self, r: &EpochRecord) -> f64 {
        if self.classes {
            1.0 - r.test_accuracy.unwrap_or(f64::NAN)
        } else {
            r.test_loss
        }
    }
}

/// One optimizer's row of the summary table.
fn summary_row(
    cfg: &CompareConfig,
    res: &OptimizerRuns,
    ok: &[&TrainRun],
    metric: Metric,
) -> Vec<Value> {
    let diverged = res.runs.len() - ok.len();
    let finals: Vec<f64> = ok.iter().map(|r| metric.final_value(r)).collect();
    let (m, sd) = mean_std(&finals);
    let (to_evals, to_secs, reached) = match cfg.target_accuracy {
        Some(t) if metric.classes => {
            let hits: Vec<&EpochRecord> = ok
                .iter()
                .filter_map(|r| first_reaching(&r.history, t))
                .collect();
            (
                median(&hits.iter().map(|h| h.grad_evals as f64).collect::<Vec<_>>()),
                median(&hits.iter().map(|h| h.seconds).collect::<Vec<_>>()),
                hits.len(),
            )
        }
        _ => (f64::NAN, f64::NAN, 0),
    };
    let train_losses: Vec<f64> = ok.iter().map(|r| r.summary.train_loss).collect();
    vec![
        json!(res.spec),
        res.tuning.as_ref().map_or(Value::Null, |t| num(t.value)),
        num(m),
        num(sd),
        num(median(&finals)),
        num(mean_std(&train_losses).0),
        json!(diverged),
        json!(reached),
        num(to_evals),
        num(to_secs),
    ]
}

/// One optimizer's lines in the four panels (metric vs steps, evaluations, seconds; train loss
/// vs steps), each the per-epoch mean with a ± one standard deviation band across the seeds that
/// did not diverge; the same columns go into the report as a series.
fn curves(report: &mut Report, spec: &str, ok: &[&TrainRun], metric: Metric) -> [Line; 4] {
    let n_epochs = ok[0].history.len();
    let at = |f: &dyn Fn(&EpochRecord) -> f64| -> (Vec<f64>, Vec<f64>) {
        (0..n_epochs)
            .map(|e| mean_std(&ok.iter().map(|r| f(&r.history[e])).collect::<Vec<_>>()))
            .unzip()
    };
    let (steps, _) = at(&|r| r.steps as f64);
    let (grad_evals, _) = at(&|r| r.grad_evals as f64);
    let (secs, _) = at(&|r| r.seconds);
    let (mm, ms) = at(&|r| metric.plotted(r));
    let (lm, ls) = at(&|r| r.train_loss);
    report.add_series(
        &format!("curves {spec}"),
        &[
            ("steps", steps.clone()),
            ("grad_evals", grad_evals.clone()),
            ("seconds", secs.clone()),
            ("metric_mean", mm.clone()),
            ("metric_std", ms.clone()),
            ("train_loss_mean", lm.clone()),
            ("train_loss_std", ls.clone()),
        ],
    );
    let line = |x: &[f64], m: &[f64], s: &[f64]| Line {
        band: Some((
            m.iter().zip(s).map(|(a, b)| a - b).collect(),
            m.iter().zip(s).map(|(a, b)| a + b).collect(),
        )),
        ..Line::new(spec.to_string(), x.to_vec(), m.to_vec())
    };
    // train loss: a band in log space would be clearer, but ± std keeps one convention
    [
        line(&steps, &mm, &ms),
        line(&grad_evals, &mm, &ms),
        line(&secs, &mm, &ms),
        line(&steps, &lm, &ls),
    ]
}

/// The four-panel figure from each optimizer's [`curves`].
fn curves_figure(cfg: &CompareConfig, metric: Metric, lines: Vec<[Line; 4]>) -> Figure {
    let (plotted, y_metric) = if metric.classes {
        ("test error", "test error (1 - accuracy)")
    } else {
        ("test loss", "test loss")
    };
    let mut columns: [Vec<Line>; 4] = Default::default();
    for set in lines {
        for (column, line) in columns.iter_mut().zip(set) {
            column.push(line);
        }
    }
    let titles = [
        (format!("{plotted} vs steps"), "optimizer steps", y_metric),
        (
            format!("{plotted} vs gradient evaluations"),
            "gradient evaluations",
            y_metric,
        ),
        (format!("{plotted} vs time"), "wall-clock seconds", y_metric),
        (
            "train loss vs steps".to_string(),
            "optimizer steps",
            "mean train loss",
        ),
    ];
    let panels = columns
        .into_iter()
        .zip(titles)
        .enumerate()
        .map(|(i, (lines, (title, x, y)))| Panel {
            title,
            x_label: x.into(),
            y_label: y.into(),
            log_y: true,
            legend: if i == 0 {
                LegendAt::UpperRight
            } else {
                LegendAt::Hidden
            },
            lines,
            ..Default::default()
        })
        .collect();
    Figure {
        caption: Some(format!(
            "{} on {}: {} seeds, batch {}",
            cfg.base.model, cfg.base.data, cfg.seeds, cfg.base.batch_size
        )),
        panels,
    }
}

/// The comparison as a [`Report`] (a summary table, per-epoch series, tuning table) and its
/// figure of curves with bands of ± one standard deviation across seeds.
pub fn report(cfg: &CompareConfig, results: &[OptimizerRuns]) -> (Report, Vec<(String, Figure)>) {
    let mut report = Report::default();
    let metric = Metric {
        classes: results
            .iter()
            .flat_map(|r| r.runs.iter().filter_map(|x| x.as_ref().ok()))
            .any(|r| r.summary.test_accuracy.is_some()),
    };
    let mut rows = Vec::new();
    let mut tuning_rows = Vec::new();
    let mut lines = Vec::new();
    for res in results {
        let ok: Vec<&TrainRun> = res.runs.iter().filter_map(|r| r.as_ref().ok()).collect();
        ok.iter()
            .for_each(|r| report.evals = report.evals + r.summary.evals);
        rows.push(summary_row(cfg, res, &ok, metric));
        if let Some(t) = &res.tuning {
            for (v, s) in &t.grid {
                tuning_rows.push(vec![json!(res.spec), num(*v), s.map_or(Value::Null, num)]);
            }
        }
        if !ok.is_empty() {
            lines.push(curves(&mut report, &res.spec, &ok, metric));
        }
    }
    let name = metric.name();
    report.add_table(
        "summary",
        &[
            "optimizer",
            "tuned value",
            &format!("final {name} mean"),
            &format!("final {name} std"),
            &format!("final {name} median"),
            "final train loss mean",
            "diverged runs",
            "runs reaching target",
            "median grad evals to target",
            "median seconds to target",
        ],
        rows,
    );
    if let Some(grid) = &cfg.tune {
        report.add_table(
            "tuning",
            &["optimizer", &grid.key, &format!("validation {name}")],
            tuning_rows,
        );
        report.assume(format!(
            "tuning: every optimizer tried {} log-spaced values of '{}' from {} to {} on a \
             validation split of the training part (seed {}), keeping the best validation {name}",
            grid.values.len(),
            grid.key,
            grid.values[0],
            grid.values[grid.values.len() - 1],
            cfg.base.seed
        ));
    }
    report.assume(format!(
        "{} seeds ({}..{}); for each seed every optimizer sees the same split, initialisation \
         and batch order; bands are ± one standard deviation across seeds that did not diverge",
        cfg.seeds,
        cfg.base.seed,
        cfg.base.seed + cfg.seeds as u64 - 1
    ));
    let fig = curves_figure(cfg, metric, lines);
    (report, vec![("curves".to_string(), fig)])
}
