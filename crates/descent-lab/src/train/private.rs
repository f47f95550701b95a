//! `descent train --privacy 'dp(...)'`: the training protocol of [`super::train`] as DP-SGD on
//! any model, as Opacus users know it. Poisson batches of expected size `batch_size` out of the
//! m training samples (q = b/m), ⌈m/b⌉ releases per epoch, per-sample clipping and Gaussian
//! noise calibrated to the target ε over the whole run (or a given `noise_multiplier=`), the ε
//! spent after every epoch. Everything private is descent-dist's (`descent_dist::privacy`:
//! [`DpSgdConfig`], [`DpSgdProblem`], the accountant); this module runs the epoch loop and
//! writes the outputs.
//!
//! The ε covers the gradient releases only: feature standardization with the training part's
//! statistics (the default) is not private; `standardize: false` keeps them out.

use std::path::Path;

use descent_core::{Error, EvalCounter, Problem, Result, RngStreams, Spec};
use descent_dist::privacy::{Conversion, DpSchedule, DpSgdConfig, DpSgdProblem, Epsilon};
use serde_json::{Value, json};

use serde::{Deserialize, Serialize};

use super::{EpochRecord, RunControl, Session, TrainConfig, TrainRun, TrainSummary, Trained};
use crate::harness::{self, DataMetrics, EpochMetrics, LoopState};
use crate::plot::{LegendAt, Line, Panel};

/// The measurement after each epoch of a private run: the data metrics (non-private
/// evaluation, as every DP-SGD library reports it) and the ε spent so far.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct PrivateMetrics {
    data: DataMetrics,
    epsilon: f64,
}

impl EpochMetrics for PrivateMetrics {
    fn loss(&self) -> f64 {
        self.data.train_loss
    }
}

/// A finished DP-SGD run: the ordinary run (summary, history, parameters) and the privacy
/// book-keeping.
pub struct PrivateRun {
    /// The ordinary run.
    pub run: TrainRun,
    /// ε spent after each epoch (epoch 0 first: 0).
    pub epsilon: Vec<f64>,
    /// ε spent by the whole run, in the configured conversion.
    pub spent: Epsilon,
    /// ε spent in the other conversion (classic when improved is reported, and vice versa).
    pub spent_other: Epsilon,
    /// The resolved DP-SGD schedule the run used.
    pub schedule: DpSchedule,
    /// Poisson sampling rate q = batch size / training samples.
    pub sampling_rate: f64,
    /// The `dp(...)` spec the run was given.
    pub spec: String,
}

/// DP-SGD with `cfg`'s data, model, optimizer and epochs under the `dp(...)` spec `privacy`:
/// q = batch_size / m, ⌈m / batch_size⌉ releases per epoch, the noise calibrated over all of
/// them. `on_epoch` sees each record and the ε spent so far.
pub fn train_private(
    cfg: &TrainConfig,
    privacy: &str,
    on_epoch: impl FnMut(&EpochRecord, f64),
) -> Result<PrivateRun> {
    train_private_with(cfg, privacy, &RunControl::default(), on_epoch)?.finished()
}

/// [`train_private`] with checkpoints, a stop flag, a resume point or initial weights; a
/// checkpoint carries the release counter and the accountant's spent budget.
pub fn train_private_with(
    cfg: &TrainConfig,
    privacy: &str,
    control: &RunControl,
    mut on_epoch: impl FnMut(&EpochRecord, f64),
) -> Result<Trained<PrivateRun>> {
    let dp = DpSgdConfig::parse(privacy)?;
    if cfg.epochs == 0 {
        return Err(Error::invalid("epochs", 0, "an integer >= 1"));
    }
    let data = super::prepare_data(cfg)?;
    let m = data.train.len();
    if cfg.batch_size == 0 || cfg.batch_size > m {
        return Err(Error::invalid(
            "batch_size",
            cfg.batch_size,
            format!(
                "a size in 1..={m} (the training samples): the expected size of the Poisson batches"
            ),
        ));
    }
    // the objective's batch is the whole training part: the population of the Poisson batches
    let full = TrainConfig {
        batch_size: m,
        ..cfg.clone()
    };
    let (objective, mut x) = super::build_objective(&full, data.train.clone())?;
    let q = cfg.batch_size as f64 / m as f64;
    let steps_per_epoch = m.div_ceil(cfg.batch_size) as u64;
    let schedule = dp.schedule(q, cfg.epochs as u64 * steps_per_epoch)?;
    let private = DpSgdProblem::new(
        objective,
        schedule.clone(),
        dp.delta,
        dp.conversion,
        cfg.seed,
    )?;
    let mut optimizer = descent_optim::build_optimizer(&Spec::parse(&cfg.optimizer)?)?;
    let mut problem = EvalCounter::new(private);
    optimizer.init(problem.layout(), &RngStreams::new(cfg.seed))?;
    let session = Session {
        cfg,
        privacy: Some(privacy),
        data: &data,
        control,
        steps_per_epoch,
    };
    let start: Option<LoopState<PrivateMetrics>> =
        session.prepare(optimizer.as_mut(), &mut x, &mut problem)?;
    let name = optimizer.name();
    // the releases expected at the next measurement (epoch 0 first)
    let mut planned = start
        .as_ref()
        .map_or(0, |s| (s.epochs_done() as u64 + 1) * steps_per_epoch);
    let run = session.run(
        optimizer.as_mut(),
        &mut x,
        &mut problem,
        start,
        |p, x| {
            one_release_per_step(&name, p.releases(), planned)?;
            planned += steps_per_epoch;
            let data = DataMetrics::measure(p.problem_mut(), x, &data.train, &data.test)?;
            let epsilon = p.epsilon().epsilon;
            Ok(PrivateMetrics { data, epsilon })
        },
        |r| on_epoch(&record(r), r.metrics.epsilon),
    )?;
    let run = match run {
        Trained::Finished(run) => run,
        Trained::Stopped { step, checkpoint } => return Ok(Trained::Stopped { step, checkpoint }),
    };
    super::not_diverged(&run.end, &cfg.optimizer)?;
    let history: Vec<EpochRecord> = run.records.iter().map(record).collect();
    let private = problem.inner();
    let [classic, improved] = private.epsilon_bracket();
    let (spent, spent_other) = match dp.conversion {
        Conversion::Classic => (classic, improved),
        Conversion::Improved => (improved, classic),
    };
    let loss = private.problem().loss().name().to_string();
    let summary = TrainSummary::finished(
        cfg,
        optimizer.as_ref(),
        loss,
        x.len(),
        &data,
        &history,
        run.last().evals,
    );
    Ok(Trained::Finished(PrivateRun {
        run: TrainRun {
            summary,
            history,
            layout: problem.layout().clone(),
            params: x,
        },
        epsilon: run.records.iter().map(|r| r.metrics.epsilon).collect(),
        spent,
        spent_other,
        schedule,
        sampling_rate: q,
        spec: privacy.to_string(),
    }))
}

/// The noise is calibrated for one release per optimizer step: a method that evaluates the
/// gradient more than once per step (SAM, line searches) would spend more than the target, so
/// the run stops after its first epoch with an error naming it.
fn one_release_per_step(optimizer: &str, releases: u64, steps: u64) -> Result<()> {
    if releases == steps {
        return Ok(());
    }
    Err(Error::invalid(
        "optimizer",
        optimizer,
        format!(
            "a method with one gradient evaluation per step under --privacy (it made {releases} \
             private releases in {steps} steps; the noise is calibrated for one per step)"
        ),
    ))
}

fn record(r: &harness::EpochRecord<PrivateMetrics>) -> EpochRecord {
    EpochRecord::with_data(r, &r.metrics.data)
}

/// `summary.json` of a private run: the ordinary summary plus `privacy` (the spec),
/// `epsilon_spent`, `delta`, the conversion and order, the other conversion's ε, the target,
/// the sampling rate and the per-stage multipliers and clipping norms.
pub fn summary_json(p: &PrivateRun) -> Value {
    let mut v = serde_json::to_value(&p.run.summary).expect("a summary serializes");
    let s = &p.schedule;
    let extra = json!({
        "privacy": p.spec,
        "epsilon_spent": p.spent.epsilon,
        "delta": p.spent.delta,
        "conversion": p.spent.conversion,
        "order": p.spent.order,
        "epsilon_spent_other_conversion": p.spent_other.epsilon,
        "target_epsilon": s.target_epsilon,
        "sampling_rate": p.sampling_rate,
        "noise_multipliers": s.stages.iter().map(|st| st.noise_multiplier).collect::<Vec<_>>(),
        "stage_steps": s.stages.iter().map(|st| st.steps).collect::<Vec<_>>(),
        "clips": s.clips,
    });
    if let (Value::Object(map), Value::Object(more)) = (&mut v, extra) {
        map.extend(more);
    }
    v
}

/// Writes `metrics.csv` (the ordinary columns plus `epsilon`), `summary.json`
/// ([`summary_json`]) and `curves.png`/`.svg` (loss, accuracy and ε against epoch).
pub fn write_private_outputs(p: &PrivateRun, dir: &Path) -> Result<()> {
    super::write_metrics_csv(&p.run, dir, &[("epsilon", &p.epsilon)])?;
    super::write_json(&summary_json(p), &dir.join("summary.json"))?;
    super::write_weights(&p.run, dir)?;
    let mut fig = super::curves_figure(&p.run);
    let epochs: Vec<f64> = p.run.history.iter().map(|r| r.epoch as f64).collect();
    fig.panels.push(Panel {
        title: format!("Privacy spent (δ = {})", p.spent.delta),
        x_label: "epoch".into(),
        y_label: format!("ε ({} RDP conversion)", p.spent.conversion),
        legend: LegendAt::Hidden,
        lines: vec![Line::new("ε", epochs, p.epsilon.clone())],
        ..Default::default()
    });
    fig.caption = fig
        .caption
        .map(|c| format!("{c}; DP-SGD {}: ε = {:.3} spent", p.spec, p.spent.epsilon));
    fig.save(dir, "curves")?;
    Ok(())
}
