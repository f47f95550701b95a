//! Checkpoints of `descent dist` runs (in process): a checkpoint of kind [`KIND`] in the
//! format of [`crate::checkpoint`] (header, CRC-32, atomic write), written every
//! `--checkpoint-every` rounds and when SIGINT/SIGTERM stops the run after its round.
//!
//! It holds the run's options and resolved experiment config (a resume with other settings is
//! refused naming the first that differs), the per-round records so far and the algorithm's
//! state: for FedAvg + PUF the server's [`FedAvgState`] (clients keep nothing between rounds);
//! for push-sum every node's [`NodeState`] with its learner's [`DpLearnerState`] (fused
//! gradient, transform state, next release, accountant). Client drop-outs, link failures,
//! graphs, batches and noise are functions of (seed, round), so the round counter puts them
//! where they were, and a resumed run ends bit-identical to an uninterrupted one.

use std::path::{Path, PathBuf};
use std::time::Instant;

use descent_core::{Error, Result};
use descent_dist::{DpLearnerState, FedAvgState, NodeState};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{DistOptions, RoundRecord, Task, task_config};
use crate::checkpoint;
use crate::train::RunControl;

/// The kind of a `descent dist` checkpoint (the header's second word).
pub const KIND: &str = "dist";

/// The algorithm's state after some rounds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskState {
    /// FedAvg + PUF: the server (its round counter tells the phase).
    Puf {
        /// The FedAvg server's state.
        server: FedAvgState,
    },
    /// Push-sum: every node in node order (the rounds done are the records' count).
    AdpVrsgp {
        /// Each node's push-sum and learner state.
        nodes: Vec<NodeState<DpLearnerState>>,
    },
}

/// Everything a `descent dist` checkpoint holds (see the module docs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DistCheckpoint {
    /// The run's options (task, method, backend, seed, faults).
    pub options: DistOptions,
    /// The experiment's resolved config (preset, file and `--set`s applied).
    pub experiment: Value,
    /// The records of the rounds done.
    pub rounds: Vec<RoundRecord>,
    /// The algorithm's state after those rounds.
    pub state: TaskState,
}

/// Where a run continues from: its records and state.
#[derive(Debug, Clone)]
pub struct Resumed {
    /// The records of the rounds already done.
    pub rounds: Vec<RoundRecord>,
    /// The algorithm's state to continue from.
    pub state: TaskState,
}

/// Writes checkpoints of one run and tells it when to stop.
pub(crate) struct Saver<'a> {
    control: &'a RunControl,
    path: Option<PathBuf>,
    options: &'a DistOptions,
    experiment: Value,
}

impl<'a> Saver<'a> {
    /// The saver of `opts`' run under `control`. Errors: `--checkpoint-every 0`, or
    /// checkpoints or a stop flag without a checkpoint folder.
    pub fn new(control: &'a RunControl, opts: &'a DistOptions, task: Task) -> Result<Self> {
        if control.every == Some(0) {
            return Err(Error::invalid(
                "--checkpoint-every",
                0,
                "a number of rounds >= 1",
            ));
        }
        let path = control
            .checkpoint_dir
            .as_ref()
            .map(|d| d.join(checkpoint::FILE_NAME));
        if path.is_none() && (control.every.is_some() || control.stop.is_some()) {
            return Err(Error::invalid(
                "checkpoint folder",
                "none",
                "a folder for the checkpoints of --checkpoint-every and Ctrl-C",
            ));
        }
        Ok(Saver {
            control,
            path,
            options: opts,
            experiment: task_config(opts, task)?,
        })
    }

    /// After round `done` of `total`: writes a checkpoint when one is due or the run was
    /// asked to stop (`state` gives the algorithm's), and returns its path when the run must
    /// stop now. The last round never stops the run.
    pub fn after_round(
        &self,
        done: u64,
        total: u64,
        rounds: &[RoundRecord],
        state: impl FnOnce() -> TaskState,
        progress: &dyn Fn(&str),
    ) -> Result<Option<PathBuf>> {
        let stop = done < total
            && self
                .control
                .stop
                .as_ref()
                .is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst));
        let due = self.control.every.is_some_and(|e| done.is_multiple_of(e));
        let Some(path) = self.path.as_ref().filter(|_| stop || due) else {
            return Ok(None);
        };
        let start = Instant::now();
        let ck = DistCheckpoint {
            options: self.options.clone(),
            experiment: self.experiment.clone(),
            rounds: rounds.to_vec(),
            state: state(),
        };
        let bytes = checkpoint::write(path, KIND, &ck)?;
        progress(&format!(
            "checkpoint after round {done}: {bytes} bytes in {:.1} ms",
            start.elapsed().as_secs_f64() * 1e3
        ));
        Ok(stop.then(|| path.clone()))
    }

    /// The checkpoint `--resume` names, checked against this run; `None` without `--resume`.
    pub fn resume(&self) -> Result<Option<Resumed>> {
        let Some(dir) = &self.control.resume else {
            return Ok(None);
        };
        let path = checkpoint::locate(dir)?;
        let ck: DistCheckpoint = checkpoint::read(&path, KIND)?;
        check(&path, &ck, self.options, &self.experiment)?;
        Ok(Some(Resumed {
            rounds: ck.rounds,
            state: ck.state,
        }))
    }
}

/// The options that define a run as JSON fields (the backend and the MPI timeout do not
/// change the result).
fn defining(o: &DistOptions) -> Result<serde_json::Map<String, Value>> {
    let v = serde_json::to_value(o)
        .map_err(|e| Error::invalid("dist options", e, "plain serializable data"))?;
    let mut m = match v {
        Value::Object(m) => m,
        other => return Err(Error::invalid("dist options", other, "a JSON object")),
    };
    // the preset, file and --set are compared through the resolved config they give
    for key in ["backend", "timeout_s", "preset", "sets", "config_file"] {
        m.remove(key);
    }
    Ok(m)
}

/// Refuses a checkpoint of another run, naming the first option or config field that differs.
fn check(path: &Path, ck: &DistCheckpoint, opts: &DistOptions, experiment: &Value) -> Result<()> {
    checkpoint::same(path, "the task", &ck.options.task, &opts.task)?;
    if let (Value::Object(saved), Value::Object(now)) = (&ck.experiment, experiment) {
        for (key, value) in now {
            let old = saved.get(key).unwrap_or(&Value::Null);
            if old != value {
                return Err(checkpoint::mismatch(
                    path,
                    &format!("the {} config's '{key}' =", opts.task),
                    old,
                    value,
                ));
            }
        }
    }
    checkpoint::same(path, "the experiment config", &ck.experiment, experiment)?;
    let (saved, now) = (defining(&ck.options)?, defining(opts)?);
    for (key, value) in &now {
        let old = saved.get(key).unwrap_or(&Value::Null);
        if old != value {
            let flag = match key.as_str() {
                "config_file" => "--config".to_string(),
                "sets" => "--set".to_string(),
                k => format!("--{}", k.replace('_', "-")),
            };
            return Err(checkpoint::mismatch(path, &flag, old, value));
        }
    }
    Ok(())
}
