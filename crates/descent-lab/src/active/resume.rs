//! Checkpoints of `descent active` runs (`--checkpoint-every N` query rounds, Ctrl-C,
//! `--resume DIR`).
//!
//! Every (strategy, seed) run of a study checkpoints into its own folder
//! `<out>/checkpoint/<strategy index>-seed<seed index>/checkpoint.json` (the layout of `descent
//! compare`), a file of kind [`KIND`] in the format of [`crate::checkpoint`]: the run's settings,
//! a fingerprint of its open-set task, and its [`ActiveProgress`] (the labelled set L, the
//! queried unknowns I, the records and the last query's counts). That is the whole state of a
//! run between rounds: each round trains fresh models from per-round seeds, so no model
//! parameters, optimizer state or random-stream position carries over (see [`ActiveProgress`]),
//! and a resumed run ends bit-identical to one that never stopped. A checkpoint is also written
//! when a run ends, so a resumed study reads finished runs back instead of running them again.

use std::path::Path;
use std::sync::atomic::Ordering;

use descent_active::{
    ActiveConfig, ActiveEnd, ActiveProgress, ActiveRun, AfterRound, Answer, OpenSetTask,
    QueryStrategy, run_active_from,
};
use descent_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::ActiveStudy;
use crate::checkpoint;
use crate::train::RunControl;

/// The kind of an active-learning checkpoint (the header's second word).
pub const KIND: &str = "active";

/// What identifies a run's open-set task: sizes and a CRC-32 over the pool's features and
/// oracle answers and the known-class test set, so data changed under the same spec is noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFingerprint {
    /// Samples in the unlabelled pool.
    pub n_pool: usize,
    /// Samples in the known-class test set.
    pub n_test: usize,
    /// Features per sample.
    pub n_features: usize,
    /// CRC-32 (8 hex digits) over the pool's features, the oracle's answers and the test set.
    pub crc32: String,
}

impl TaskFingerprint {
    /// The fingerprint of `task`.
    pub fn of(task: &OpenSetTask) -> Self {
        let mut h = crc32fast::Hasher::new();
        for d in [task.inputs(), task.test()] {
            d.features.iter().for_each(|v| h.update(&v.to_le_bytes()));
        }
        for i in 0..task.len() {
            let a = match task.oracle(i) {
                Answer::Known(k) => k as u64,
                Answer::Unknown => u64::MAX,
            };
            h.update(&a.to_le_bytes());
        }
        if let descent_data::Targets::Classes { labels, .. } = &task.test().targets {
            labels
                .iter()
                .for_each(|&l| h.update(&(l as u64).to_le_bytes()));
        }
        TaskFingerprint {
            n_pool: task.len(),
            n_test: task.test().len(),
            n_features: task.inputs().n_features,
            crc32: format!("{:08x}", h.finalize()),
        }
    }
}

impl std::fmt::Display for TaskFingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a pool of {} and a test set of {} samples of {} features with CRC-32 {}",
            self.n_pool, self.n_test, self.n_features, self.crc32
        )
    }
}

/// The settings of one run of a study, as its checkpoint records them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSettings {
    /// The `--data` spec.
    pub data: String,
    /// The known classes (`--known`).
    pub known: Vec<usize>,
    /// The strategy's canonical spec.
    pub strategy: String,
    /// The run's seed (the study's `--seed` plus the seed index).
    pub seed: u64,
    /// The fraction of the known classes held out as the test set.
    pub test_fraction: f64,
    /// Whether features were standardised.
    pub standardize: bool,
    /// The acquisition settings (initial set, budget, rounds, model, optimizer, epochs, batch).
    pub active: ActiveConfig,
    /// What identifies the open-set task.
    pub task: TaskFingerprint,
}

/// Everything an active-learning checkpoint holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveCheckpoint {
    /// The run's settings, compared field by field on resume.
    pub settings: RunSettings,
    /// The labelled set, the queried unknowns, the records and the last query's counts.
    pub progress: ActiveProgress,
}

impl RunSettings {
    /// The settings of `strategy` at `seed` in study `s` on `task`.
    pub fn of(s: &ActiveStudy, task: &OpenSetTask, strategy: &str, seed: u64) -> Self {
        RunSettings {
            data: s.data.clone(),
            known: s.known.clone(),
            strategy: strategy.to_string(),
            seed,
            test_fraction: s.test_fraction,
            standardize: s.standardize,
            active: s.active.clone(),
            task: TaskFingerprint::of(task),
        }
    }

    /// Refuses the checkpoint at `path` of other settings, naming the first flag that differs.
    pub fn check(&self, path: &Path, saved: &RunSettings) -> Result<()> {
        let (a, b) = (&saved.active, &self.active);
        let (ra, rb) = (&a.recipe, &b.recipe);
        let quoted = |s: &str| format!("'{s}'");
        let texts = [
            ("--data", &saved.data, &self.data),
            ("--strategy", &saved.strategy, &self.strategy),
            ("--model", &ra.model, &rb.model),
            ("--optimizer", &ra.optimizer, &rb.optimizer),
        ];
        for (flag, was, is) in texts {
            if was != is {
                return Err(checkpoint::mismatch(path, flag, quoted(was), quoted(is)));
            }
        }
        checkpoint::same(path, "--known", &saved.known, &self.known)?;
        checkpoint::same(path, "seed", &saved.seed, &self.seed)?;
        checkpoint::same(path, "--initial", &a.initial, &b.initial)?;
        checkpoint::same(path, "--budget", &a.budget, &b.budget)?;
        checkpoint::same(path, "--rounds", &a.rounds, &b.rounds)?;
        checkpoint::same(path, "--epochs", &ra.epochs, &rb.epochs)?;
        checkpoint::same(path, "--batch-size", &ra.batch_size, &rb.batch_size)?;
        checkpoint::same(path, "the model recipe", ra, rb)?;
        checkpoint::same(
            path,
            "--test-fraction",
            &saved.test_fraction,
            &self.test_fraction,
        )?;
        checkpoint::same(path, "standardize", &saved.standardize, &self.standardize)?;
        if saved.task != self.task {
            return Err(checkpoint::mismatch(
                path,
                &format!("the data {} as", self.data),
                &saved.task,
                format!("{} (the data changed since)", self.task),
            ));
        }
        Ok(())
    }
}

/// One run of a study under the checkpoint control `job` (from
/// [`crate::compare::job_control`]): resumed from `job.resume` when set, a checkpoint every
/// `job.every` query rounds, on a stop and at the end. `None` when the stop flag ended it (or
/// it was raised before the run started, which then starts afresh on resume).
pub(crate) fn run_job(
    settings: RunSettings,
    task: &OpenSetTask,
    strategy: &dyn QueryStrategy,
    job: &RunControl,
) -> Result<Option<ActiveRun>> {
    let cfg = settings.active.clone();
    let stopping = || job.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst));
    let mut start = None;
    if let Some(dir) = &job.resume {
        let path = checkpoint::locate(dir)?;
        let ck: ActiveCheckpoint = checkpoint::read(&path, KIND)?;
        settings.check(&path, &ck.settings)?;
        ck.progress
            .check(&cfg)
            .and_then(|()| {
                descent_active::PoolState::restore(
                    task,
                    &ck.progress.labelled,
                    &ck.progress.invalid,
                )
            })
            .map_err(|e| Error::io(&path, format!("damaged progress: {e}")))?;
        start = Some(ck.progress);
    }
    if stopping() && start.as_ref().is_none_or(|p| !p.finished(&cfg)) {
        return Ok(None);
    }
    let path = job
        .checkpoint_dir
        .as_ref()
        .map(|d| d.join(checkpoint::FILE_NAME));
    let mut after_round = |p: &ActiveProgress| {
        let Some(path) = &path else {
            return Ok(AfterRound::Continue);
        };
        let stop = stopping() && !p.finished(&cfg);
        let due = job
            .every
            .is_some_and(|n| (p.rounds_done as u64).is_multiple_of(n));
        if stop || due || p.finished(&cfg) && job.save_at_end {
            let ck = ActiveCheckpoint {
                settings: settings.clone(),
                progress: p.clone(),
            };
            checkpoint::write(path, KIND, &ck)?;
        }
        Ok(if stop {
            AfterRound::Stop
        } else {
            AfterRound::Continue
        })
    };
    let seed = settings.seed;
    Ok(
        match run_active_from(task, strategy, &cfg, seed, start, &mut after_round)? {
            ActiveEnd::Finished(run) => Some(run),
            ActiveEnd::Stopped { .. } => None,
        },
    )
}
