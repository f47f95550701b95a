//! Checkpoints, stops, resumes and initial weights of a training run ([`RunControl`]).
//!
//! A checkpoint holds the run's settings and a fingerprint of its prepared data (to refuse a
//! resume with other settings, naming what differs), the epoch loop's state ([`LoopState`]:
//! records, steps, seconds, evaluation counts), the parameters, the optimizer's typed state
//! (every nested transform's moments, counters and random streams) and, for DP-SGD, the
//! release counter and the accountant's spent budget. The minibatch sampler's position is its
//! number of draws (`evals.resamples`): a resumed run rebuilds the sampler from the seed and
//! redraws that many batches (index permutations only, no evaluation), which puts its random
//! stream and its place in the epoch exactly where they were.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use descent_core::{Error, EvalCounter, Layout, Problem, Result};
use descent_data::{Dataset, Targets};
use descent_dist::privacy::{DpSgdProblem, RdpAccountant};
use descent_nn::Objective;
use descent_optim::{Optimizer, OptimizerState};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{PreparedData, TrainConfig};
use crate::checkpoint::{self, weights};
use crate::harness::{EpochMetrics, EpochRecord, EpochRun, LoopPlan, LoopState};

/// The kind of a training checkpoint (the header's second word).
pub const KIND: &str = "train";

/// How a training run starts, pauses and stops: the `--checkpoint-every`, `--resume` and
/// `--init` flags and the Ctrl-C handler of `descent train`.
#[derive(Debug, Clone, Default)]
pub struct RunControl {
    /// The folder checkpoints go to (`<out>/checkpoint`); needed with `every` or `stop`.
    pub checkpoint_dir: Option<PathBuf>,
    /// Write a checkpoint after every this many optimizer steps.
    pub every: Option<u64>,
    /// Once set (by a SIGINT/SIGTERM handler), the run finishes its step, writes a checkpoint
    /// and returns [`Trained::Stopped`].
    pub stop: Option<Arc<AtomicBool>>,
    /// Continue the run whose checkpoint is here (a checkpoint folder or a run's `--out`).
    pub resume: Option<PathBuf>,
    /// Start from these weights (a safetensors file, [`weights`]) instead of the seed's init.
    pub init: Option<PathBuf>,
    /// Also write a checkpoint when the run ends (the runs of a study).
    pub save_at_end: bool,
}

/// A run that finished, or one that was stopped with a checkpoint.
#[derive(Debug)]
pub enum Trained<R> {
    /// The run finished; its result.
    Finished(R),
    /// Stopped after optimizer step `step`; `checkpoint` is the file to resume from.
    Stopped {
        /// Optimizer steps taken.
        step: u64,
        /// The checkpoint file.
        checkpoint: PathBuf,
    },
}

impl<R> Trained<R> {
    /// The finished run; a stopped one is an error naming its checkpoint.
    pub fn finished(self) -> Result<R> {
        match self {
            Trained::Finished(r) => Ok(r),
            Trained::Stopped { step, checkpoint } => Err(Error::io(
                &checkpoint,
                format!("the run stopped after step {step}; resume from this checkpoint"),
            )),
        }
    }
}

/// What identifies the data a run trains on: sizes and a CRC-32 over the prepared (split,
/// standardized) features and targets, so a data file changed under the same spec is noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// Training samples.
    pub n_train: usize,
    /// Test samples.
    pub n_test: usize,
    /// Features per sample.
    pub n_features: usize,
    /// CRC-32 of the prepared features and targets, hex.
    pub crc32: String,
}

impl DataFingerprint {
    /// The fingerprint of a run's prepared data.
    pub fn of(data: &PreparedData) -> Self {
        let mut h = crc32fast::Hasher::new();
        for d in [&*data.train, &*data.test] {
            hash_dataset(&mut h, d);
        }
        DataFingerprint {
            n_train: data.train.len(),
            n_test: data.test.len(),
            n_features: data.train.n_features,
            crc32: format!("{:08x}", h.finalize()),
        }
    }
}

fn hash_dataset(h: &mut crc32fast::Hasher, d: &Dataset) {
    d.features.iter().for_each(|v| h.update(&v.to_le_bytes()));
    match &d.targets {
        Targets::Classes { labels, .. } => {
            labels
                .iter()
                .for_each(|&l| h.update(&(l as u64).to_le_bytes()));
        }
        Targets::Real { values, .. } => values.iter().for_each(|v| h.update(&v.to_le_bytes())),
    }
}

impl std::fmt::Display for DataFingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} training and {} test samples of {} features with CRC-32 {}",
            self.n_train, self.n_test, self.n_features, self.crc32
        )
    }
}

/// A layout block's name and shape as a checkpoint records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockShape {
    /// The block's name.
    pub name: String,
    /// Its shape (row-major).
    pub shape: Vec<usize>,
}

fn block_shapes(layout: &Layout) -> Vec<BlockShape> {
    layout
        .blocks()
        .iter()
        .map(|b| BlockShape {
            name: b.name.clone(),
            shape: b.shape.clone(),
        })
        .collect()
}

/// The DP-SGD part of a checkpoint: releases made and the accountant's spent budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DpProgress {
    /// Privacy releases made (DP-SGD steps).
    pub releases: u64,
    /// The accountant with the budget spent so far.
    pub accountant: RdpAccountant,
}

/// Everything a training checkpoint holds (see the module docs). `progress` is the loop's
/// [`LoopState`] as JSON, typed by the run's metrics once the settings have been checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainCheckpoint {
    /// The run's settings.
    pub config: TrainConfig,
    /// The `dp(...)` spec of a DP-SGD run.
    pub privacy: Option<String>,
    /// What the run trains on (checked on resume).
    pub data: DataFingerprint,
    /// The model's layout (checked on resume).
    pub layout: Vec<BlockShape>,
    /// The loop's state as JSON.
    pub progress: serde_json::Value,
    /// The parameters.
    pub params: Vec<f64>,
    /// The optimizer's state.
    pub optimizer: OptimizerState,
    /// DP-SGD's progress (`None` without privacy).
    pub dp: Option<DpProgress>,
}

/// The problem-side state a checkpoint carries beyond the sampler's draws: DP-SGD's release
/// counter and accountant.
pub trait Resumable {
    /// The DP progress to save (none for a plain objective).
    fn dp_progress(&self) -> Option<DpProgress> {
        None
    }
    /// Restores saved DP progress.
    fn restore_dp(&mut self, _dp: DpProgress) {}
}

impl Resumable for Objective {}

impl Resumable for DpSgdProblem<Objective> {
    fn dp_progress(&self) -> Option<DpProgress> {
        Some(DpProgress {
            releases: self.releases(),
            accountant: self.private_gradient().accountant().clone(),
        })
    }

    fn restore_dp(&mut self, dp: DpProgress) {
        self.restore(dp.releases, dp.accountant);
    }
}

/// One training run's settings and data, with its [`RunControl`].
pub struct Session<'a> {
    /// The run's settings.
    pub cfg: &'a TrainConfig,
    /// The `dp(...)` spec of a DP-SGD run.
    pub privacy: Option<&'a str>,
    /// The prepared data.
    pub data: &'a PreparedData,
    /// Checkpointing, resuming and the stop flag.
    pub control: &'a RunControl,
    /// Optimizer steps per epoch.
    pub steps_per_epoch: u64,
}

fn quoted(s: Option<&str>) -> String {
    s.map_or("none".into(), |s| format!("'{s}'"))
}

impl Session<'_> {
    /// Sets the starting point after `optimizer.init`: the `--init` weights into `x`, or the
    /// whole state of a `--resume` checkpoint into `x`, the optimizer and the problem. Returns
    /// the loop state to continue from. Nothing is changed when the checkpoint is refused.
    pub fn prepare<P: Problem + Resumable, M: DeserializeOwned>(
        &self,
        optimizer: &mut dyn Optimizer,
        x: &mut Vec<f64>,
        problem: &mut EvalCounter<P>,
    ) -> Result<Option<LoopState<M>>> {
        let c = self.control;
        if c.init.is_some() && c.resume.is_some() {
            return Err(Error::invalid(
                "--init",
                "given with --resume",
                "one of them (a checkpoint holds its own weights)",
            ));
        }
        if let Some(path) = &c.init {
            *x = weights::load(path, problem.layout())?;
        }
        let Some(dir) = &c.resume else {
            return Ok(None);
        };
        let path = checkpoint::locate(dir)?;
        let ck: TrainCheckpoint = checkpoint::read(&path, KIND)?;
        self.check(&path, &ck, problem.layout())?;
        let progress: LoopState<M> = descent_core::json::from_value(ck.progress)
            .map_err(|e| Error::io(&path, format!("unreadable progress: {e}")))?;
        if progress.steps > self.cfg.epochs as u64 * self.steps_per_epoch {
            return Err(checkpoint::mismatch(
                &path,
                "progress at step",
                progress.steps,
                format!("--epochs {} (fewer steps)", self.cfg.epochs),
            ));
        }
        problem
            .layout()
            .check_len("checkpoint parameters", ck.params.len())?;
        // a refused state is an error before the run starts: nothing of it is used
        optimizer
            .load_state(&ck.optimizer)
            .map_err(|e| Error::io(&path, format!("optimizer state refused: {e}")))?;
        *x = ck.params;
        let inner = problem.inner_mut();
        if let Some(s) = inner.as_stochastic() {
            (0..progress.evals.resamples).for_each(|_| s.resample());
        }
        if let Some(dp) = ck.dp {
            problem.inner_mut().restore_dp(dp);
        }
        Ok(Some(progress))
    }

    /// Refuses a checkpoint of another run, naming the first setting that differs.
    fn check(&self, path: &Path, ck: &TrainCheckpoint, layout: &Layout) -> Result<()> {
        let (saved, cfg) = (&ck.config, self.cfg);
        let text = |flag: &str, a: &String, b: &String| {
            if a == b {
                Ok(())
            } else {
                Err(checkpoint::mismatch(
                    path,
                    flag,
                    format!("'{a}'"),
                    format!("'{b}'"),
                ))
            }
        };
        text("--data", &saved.data, &cfg.data)?;
        text("--model", &saved.model, &cfg.model)?;
        checkpoint::same(path, "model layout", &ck.layout, &block_shapes(layout))?;
        text("--optimizer", &saved.optimizer, &cfg.optimizer)?;
        text("--loss", &saved.loss, &cfg.loss)?;
        checkpoint::same(path, "--batch-size", &saved.batch_size, &cfg.batch_size)?;
        checkpoint::same(path, "--seed", &saved.seed, &cfg.seed)?;
        checkpoint::same(
            path,
            "--test-fraction",
            &saved.test_fraction,
            &cfg.test_fraction,
        )?;
        checkpoint::same(path, "standardize", &saved.standardize, &cfg.standardize)?;
        checkpoint::same(path, "validation", &saved.validation, &cfg.validation)?;
        if ck.privacy.as_deref() != self.privacy {
            return Err(checkpoint::mismatch(
                path,
                "--privacy",
                quoted(ck.privacy.as_deref()),
                quoted(self.privacy),
            ));
        }
        let data = DataFingerprint::of(self.data);
        if ck.data != data {
            return Err(checkpoint::mismatch(
                path,
                &format!("the data {} as", cfg.data),
                &ck.data,
                format!("{data} (the data changed since)"),
            ));
        }
        if self.privacy.is_some() {
            // the noise is calibrated over the whole run
            checkpoint::same(path, "--epochs (DP-SGD)", &saved.epochs, &cfg.epochs)?;
        }
        Ok(())
    }

    /// Runs the epoch loop from `start` with the control's checkpoints and stop flag.
    #[allow(clippy::too_many_arguments)]
    pub fn run<P: Problem + Resumable, M: EpochMetrics + Serialize>(
        &self,
        optimizer: &mut dyn Optimizer,
        x: &mut [f64],
        problem: &mut EvalCounter<P>,
        start: Option<LoopState<M>>,
        measure: impl FnMut(&mut P, &[f64]) -> Result<M>,
        on_epoch: impl FnMut(&EpochRecord<M>),
    ) -> Result<Trained<EpochRun<M>>> {
        let c = self.control;
        let path = c
            .checkpoint_dir
            .as_ref()
            .map(|d| d.join(checkpoint::FILE_NAME));
        if path.is_none() && (c.every.is_some() || c.stop.is_some()) {
            return Err(Error::invalid(
                "checkpoint folder",
                "none",
                "a folder for the checkpoints of --checkpoint-every and Ctrl-C",
            ));
        }
        if c.every == Some(0) {
            return Err(Error::invalid(
                "--checkpoint-every",
                0,
                "a number of steps >= 1",
            ));
        }
        let layout = block_shapes(problem.layout());
        let data = DataFingerprint::of(self.data);
        let mut save = |st: &LoopState<M>, x: &[f64], opt: &dyn Optimizer, p: &EvalCounter<P>| {
            let ck = TrainCheckpoint {
                config: self.cfg.clone(),
                privacy: self.privacy.map(str::to_string),
                data: data.clone(),
                layout: layout.clone(),
                progress: descent_core::json::to_value(st)
                    .map_err(|e| Error::invalid("checkpoint progress", e, "plain data"))?,
                params: x.to_vec(),
                optimizer: opt.state(),
                dp: p.inner().dp_progress(),
            };
            let path = path.as_ref().expect("checked above");
            checkpoint::write(path, KIND, &ck).map(|_| ())
        };
        let plan = LoopPlan {
            epochs: self.cfg.epochs,
            steps_per_epoch: self.steps_per_epoch,
            start,
            every: c.every,
            stop: c.stop.as_deref(),
            save_at_end: c.save_at_end,
            save: path.is_some().then_some(&mut save as _),
        };
        // the run's thread budget (`threads = N`) lends the products inside a step N threads
        let budget = descent_core::par::Threads::new(self.cfg.threads, "threads")?;
        let run = budget.install(|| {
            crate::harness::run_epochs_paused(optimizer, x, problem, plan, measure, on_epoch)
        })?;
        Ok(match run.end {
            crate::harness::EpochEnd::Stopped { step } => Trained::Stopped {
                step,
                checkpoint: path.expect("a stop needs a checkpoint folder"),
            },
            _ => Trained::Finished(run),
        })
    }
}
