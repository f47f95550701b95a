//! The supervised training run behind `descent train`: any optimizer on any model and dataset.
//!
//! Protocol: load the data, split it 80/20 (stratified for classes) with the seed's `"split"`
//! stream — or, for a source with a predefined test split (`idx:DIR`'s t10k files, `cifar10:DIR`'s
//! test_batch), use that split as is — standardize features with statistics of the training part only, initialise the model
//! from the `"init"` stream, and run the optimizer for whole epochs of shuffled minibatches (the
//! `"batches"` stream). After every epoch (and before the first) the full training loss, the test
//! loss and the test accuracy are measured. Divergence is an error naming the step, optimizer and
//! last finite loss. With a `dp(...)` spec the same protocol runs as DP-SGD ([`train_private`]).

mod private;
mod session;

use std::path::Path;
use std::sync::Arc;

use descent_core::{Error, EvalCounter, EvalCounts, Layout, Problem, Result, RngStreams, Spec};
use descent_data::{Dataset, Standardizer};
use descent_nn::Objective;
use serde::{Deserialize, Serialize};

use crate::checkpoint::weights;
use crate::harness::{self, DataMetrics, EpochEnd};
pub use private::{
    PrivateRun, summary_json, train_private, train_private_with, write_private_outputs,
};
pub use session::{
    BlockShape, DataFingerprint, DpProgress, KIND, Resumable, RunControl, Session, TrainCheckpoint,
    Trained,
};

use crate::plot::{Figure, LegendAt, Line, Panel};

/// What to train: the same fields as the `descent train` flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Dataset spec: `digits`, `iris`, `wine`, `csv:PATH`, `idx:DIR`, `cifar10:DIR`,
    /// `npy:X.npy,Y.npy`, `mixture(...)`, `teacher(...)`, `gaussian(...)`.
    pub data: String,
    /// Model spec: `mlp:64-128-10`, `mlp(sizes=[64,128,10], act=relu)`, `softmax-regression`.
    pub model: String,
    /// Optimizer spec: `adam(lr=1e-3)`, `sgd(lr=0.1, momentum=0.9)`.
    pub optimizer: String,
    /// Loss: `softmax-ce`, `mse`, `logistic`; empty picks softmax-ce for classes, mse otherwise.
    pub loss: String,
    /// Passes over the training data.
    pub epochs: usize,
    /// Minibatch size (the last batch of an epoch holds the remainder).
    pub batch_size: usize,
    /// The run seed (split, init and batch order are streams derived from it).
    pub seed: u64,
    /// Fraction of samples held out for testing (unused when the data has its own test split).
    pub test_fraction: f64,
    /// Standardize features with the training part's mean and standard deviation.
    pub standardize: bool,
    /// Hold out a validation split of the training part (the same fraction) and report it in
    /// place of the test part, which then stays unseen: the protocol for tuning.
    pub validation: bool,
    /// Threads lent to the products of this one run (`descent_core::par`; default 1). For a
    /// given count the run is the same bits every time; across counts it agrees to rounding.
    pub threads: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            data: "digits".into(),
            model: "mlp:64-128-10".into(),
            optimizer: "adam(lr=1e-3)".into(),
            loss: String::new(),
            epochs: 30,
            batch_size: 32,
            seed: 0,
            test_fraction: 0.2,
            standardize: true,
            validation: false,
            threads: 1,
        }
    }
}

/// The measurements after one epoch (epoch 0 is before training).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The epoch (0 is before training).
    pub epoch: usize,
    /// Optimizer steps so far.
    pub steps: u64,
    /// Gradient-like evaluations so far (see [`EvalCounts::gradient_like`]).
    pub grad_evals: u64,
    /// Wall-clock seconds of optimization so far (evaluation excluded).
    pub seconds: f64,
    /// Mean loss over the whole training part.
    pub train_loss: f64,
    /// Mean loss over the test part.
    pub test_loss: f64,
    /// Test accuracy for class targets.
    pub test_accuracy: Option<f64>,
}

/// A finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    /// The data spec.
    pub data: String,
    /// The model spec.
    pub model: String,
    /// The optimizer's spec text.
    pub optimizer: String,
    /// The optimizer's resolved configuration (every key with its value, nested transforms
    /// included), from its config structs.
    #[serde(default)]
    pub optimizer_config: serde_json::Value,
    /// The loss (`ce`, `mse`, ...).
    pub loss: String,
    /// The run's seed.
    pub seed: u64,
    /// Epochs trained.
    pub epochs: usize,
    /// Optimizer steps taken.
    pub steps: u64,
    /// Model parameters.
    pub n_params: usize,
    /// Training samples.
    pub n_train: usize,
    /// Test samples.
    pub n_test: usize,
    /// Final mean loss over the training part.
    pub train_loss: f64,
    /// Final mean loss over the test part.
    pub test_loss: f64,
    /// Final test accuracy (`None` for regression).
    pub test_accuracy: Option<f64>,
    /// Optimization seconds (measurements excluded).
    pub seconds: f64,
    /// Oracle evaluations of the run.
    pub evals: EvalCounts,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct TrainRun {
    /// The summary.
    pub summary: TrainSummary,
    /// One record per epoch, epoch 0 first.
    pub history: Vec<EpochRecord>,
    /// The model's layout (block names and shapes of `params`).
    pub layout: Layout,
    /// The final parameters.
    pub params: Vec<f64>,
}

/// The data of a run after splitting and standardizing.
pub struct PreparedData {
    /// The training part.
    pub train: Arc<Dataset>,
    /// The test part.
    pub test: Arc<Dataset>,
}

/// Loads, splits and standardizes the data as [`train`] does; a source's predefined test split
/// replaces the random split (and `test_fraction` is then unused).
pub fn prepare_data(cfg: &TrainConfig) -> Result<PreparedData> {
    let source = descent_data::load_source(&cfg.data)?;
    let streams = RngStreams::new(cfg.seed);
    let (mut train, mut test) = match source.test {
        Some(test) => (source.train, test),
        None => descent_data::split(
            &source.train,
            cfg.test_fraction,
            &mut streams.stream("split"),
        )?,
    };
    if cfg.validation {
        (train, test) =
            descent_data::split(&train, cfg.test_fraction, &mut streams.stream("validation"))?;
    }
    if cfg.standardize {
        let s = Standardizer::fit(&train)?;
        s.transform(&mut train)?;
        s.transform(&mut test)?;
    }
    Ok(PreparedData {
        train: Arc::new(train),
        test: Arc::new(test),
    })
}

/// Builds the training objective and the initial parameters for a config.
pub fn build_objective(cfg: &TrainConfig, train: Arc<Dataset>) -> Result<(Objective, Vec<f64>)> {
    let streams = RngStreams::new(cfg.seed);
    let loss_name = (!cfg.loss.is_empty()).then_some(cfg.loss.as_str());
    let loss = descent_nn::choose_loss(loss_name, &train.targets)?;
    let model = descent_nn::build_model(
        &Spec::parse(&cfg.model)?,
        train.n_features,
        descent_nn::output_width(loss, &train)?,
    )?;
    let objective = Objective::new(model.mlp, train, loss, cfg.batch_size, &streams)?;
    let x0 = objective.init_params(model.init, &streams);
    Ok((objective, x0))
}

/// Runs the training protocol; `on_epoch` sees each [`EpochRecord`] as it is measured.
pub fn train(cfg: &TrainConfig, on_epoch: impl FnMut(&EpochRecord)) -> Result<TrainRun> {
    train_with(cfg, &RunControl::default(), on_epoch)?.finished()
}

/// [`train`] with checkpoints, a stop flag, a resume point or initial weights ([`RunControl`]).
pub fn train_with(
    cfg: &TrainConfig,
    control: &RunControl,
    mut on_epoch: impl FnMut(&EpochRecord),
) -> Result<Trained<TrainRun>> {
    if cfg.epochs == 0 {
        return Err(Error::invalid("epochs", 0, "an integer >= 1"));
    }
    let data = prepare_data(cfg)?;
    let (objective, mut x) = build_objective(cfg, data.train.clone())?;
    let mut optimizer = descent_optim::build_optimizer(&Spec::parse(&cfg.optimizer)?)?;
    let streams = RngStreams::new(cfg.seed);
    let mut problem = EvalCounter::new(objective);
    optimizer.init(problem.layout(), &streams)?;
    let session = Session {
        cfg,
        privacy: None,
        data: &data,
        control,
        steps_per_epoch: problem.inner().batches_per_epoch() as u64,
    };
    let start = session.prepare(optimizer.as_mut(), &mut x, &mut problem)?;
    let run = session.run(
        optimizer.as_mut(),
        &mut x,
        &mut problem,
        start,
        |obj, x| DataMetrics::measure(obj, x, &data.train, &data.test),
        |r| on_epoch(&EpochRecord::from(r)),
    )?;
    let run = match run {
        Trained::Finished(run) => run,
        Trained::Stopped { step, checkpoint } => return Ok(Trained::Stopped { step, checkpoint }),
    };
    not_diverged(&run.end, &cfg.optimizer)?;
    let history: Vec<EpochRecord> = run.records.iter().map(EpochRecord::from).collect();
    let loss = problem.inner().loss().name().to_string();
    let evals = run.last().evals; // earlier processes' evaluations included
    let summary = TrainSummary::finished(
        cfg,
        optimizer.as_ref(),
        loss,
        x.len(),
        &data,
        &history,
        evals,
    );
    Ok(Trained::Finished(TrainRun {
        summary,
        history,
        layout: problem.layout().clone(),
        params: x,
    }))
}

impl TrainSummary {
    /// The summary of a finished run of `cfg` whose epoch records are `history` (epoch 0
    /// first, so never empty).
    fn finished(
        cfg: &TrainConfig,
        optimizer: &dyn descent_optim::Optimizer,
        loss: String,
        n_params: usize,
        data: &PreparedData,
        history: &[EpochRecord],
        evals: EvalCounts,
    ) -> Self {
        let last = history.last().expect("at least the epoch-0 record");
        TrainSummary {
            data: cfg.data.clone(),
            model: cfg.model.clone(),
            optimizer: optimizer.name(),
            optimizer_config: optimizer.state().resolved(),
            loss,
            seed: cfg.seed,
            epochs: cfg.epochs,
            steps: last.steps,
            n_params,
            n_train: data.train.len(),
            n_test: data.test.len(),
            train_loss: last.train_loss,
            test_loss: last.test_loss,
            test_accuracy: last.test_accuracy,
            seconds: last.seconds,
            evals,
        }
    }
}

impl EpochRecord {
    /// The record of a harness epoch whose data metrics are `data`.
    fn with_data<M>(r: &harness::EpochRecord<M>, data: &DataMetrics) -> Self {
        EpochRecord {
            epoch: r.epoch,
            steps: r.steps,
            grad_evals: r.evals.gradient_like(),
            seconds: r.seconds,
            train_loss: data.train_loss,
            test_loss: data.test_loss,
            test_accuracy: data.test_accuracy,
        }
    }
}

impl From<&harness::EpochRecord<DataMetrics>> for EpochRecord {
    fn from(r: &harness::EpochRecord<DataMetrics>) -> Self {
        EpochRecord::with_data(r, &r.metrics)
    }
}

/// Divergence (a non-finite loss) is an error naming the optimizer, the step and the last
/// finite loss.
fn not_diverged(end: &EpochEnd, optimizer: &str) -> Result<()> {
    match *end {
        EpochEnd::Diverged {
            step,
            last_finite_loss,
        } => Err(Error::Diverged {
            method: optimizer.to_string(),
            step,
            last_finite_loss,
        }),
        _ => Ok(()),
    }
}

/// Writes `metrics.csv`, `summary.json`, `curves.png`/`curves.svg` and the final weights
/// (`weights.safetensors`, [`weights`]) into `dir`.
pub fn write_outputs(run: &TrainRun, dir: &Path) -> Result<()> {
    write_metrics_csv(run, dir, &[])?;
    write_json(&run.summary, &dir.join("summary.json"))?;
    write_weights(run, dir)?;
    curves_figure(run).save(dir, "curves")?;
    Ok(())
}

/// Writes `dir/weights.safetensors`: one tensor per layout block, the run's data, model,
/// optimizer and seed as JSON in the metadata.
fn write_weights(run: &TrainRun, dir: &Path) -> Result<()> {
    let s = &run.summary;
    let about = serde_json::json!({
        "data": s.data, "model": s.model, "optimizer": s.optimizer, "seed": s.seed,
    });
    let path = dir.join(weights::FILE_NAME);
    weights::save(&path, &run.layout, &run.params, &about.to_string())
}

/// Writes `dir/metrics.csv`: one row per epoch record, then one column per `extra` entry
/// (name, one value per record).
fn write_metrics_csv(run: &TrainRun, dir: &Path, extra: &[(&str, &[f64])]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join("metrics.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|e| Error::io(&path, e))?;
    let io = |e: csv::Error| Error::io(dir.join("metrics.csv"), e);
    let mut header = vec![
        "epoch",
        "steps",
        "grad_evals",
        "seconds",
        "train_loss",
        "test_loss",
        "test_accuracy",
    ];
    header.extend(extra.iter().map(|(name, _)| *name));
    w.write_record(&header).map_err(io)?;
    for (i, r) in run.history.iter().enumerate() {
        let mut row = vec![
            r.epoch.to_string(),
            r.steps.to_string(),
            r.grad_evals.to_string(),
            format!("{:.6}", r.seconds),
            r.train_loss.to_string(),
            r.test_loss.to_string(),
            r.test_accuracy.map_or(String::new(), |a| a.to_string()),
        ];
        row.extend(extra.iter().map(|(_, values)| values[i].to_string()));
        w.write_record(&row).map_err(io)?;
    }
    w.flush().map_err(|e| Error::io(&path, e))
}

/// Writes `value` as pretty JSON to `path`.
fn write_json(value: &impl Serialize, path: &Path) -> Result<()> {
    let json = serde_json::to_string_pretty(value).map_err(|e| Error::io(path, e))?;
    std::fs::write(path, json).map_err(|e| Error::io(path, e))
}

/// Train/test loss (log scale) and test accuracy versus epoch.
pub fn curves_figure(run: &TrainRun) -> Figure {
    let s = &run.summary;
    let epochs: Vec<f64> = run.history.iter().map(|r| r.epoch as f64).collect();
    let col = |f: fn(&EpochRecord) -> f64| run.history.iter().map(f).collect::<Vec<_>>();
    let mut panels = vec![Panel {
        title: format!("Loss ({})", s.loss),
        x_label: "epoch".into(),
        y_label: "mean loss".into(),
        log_y: true,
        lines: vec![
            Line::new("train", epochs.clone(), col(|r| r.train_loss)),
            Line::new("test", epochs.clone(), col(|r| r.test_loss)),
        ],
        ..Default::default()
    }];
    if run.history.iter().all(|r| r.test_accuracy.is_some()) {
        panels.push(Panel {
            title: "Test accuracy".into(),
            x_label: "epoch".into(),
            y_label: "accuracy (fraction correct)".into(),
            legend: LegendAt::Hidden,
            lines: vec![Line::new(
                "test",
                epochs,
                col(|r| r.test_accuracy.unwrap_or(f64::NAN)),
            )],
            ..Default::default()
        });
    }
    Figure {
        caption: Some(format!(
            "{} on {} with {} (seed {})",
            s.model, s.data, s.optimizer, s.seed
        )),
        panels,
    }
}
