//! `descent dist`: the federated and decentralized runs of two papers on either backend of
//! descent-dist's `Transport`: in one process (the reference) or over MPI ranks (feature `mpi`,
//! launched with `mpirun`), with the same settings and bit-identical results for the same seed.
//!
//! - [`Task::Puf`] (P3): the `puf` experiment's setting (its config, presets, `--set`): FedAvg
//!   on the first data split for `rounds` rounds, one PUF unlearning round (Special or
//!   Regular) for a target client, then `horizon` recovery rounds without it
//!   ([`federated`]).
//! - [`Task::AdpVrsgp`] (P9): the `adp-vrsgp` experiment's decentralized training for one
//!   method, budget, split and graph: K = stages × stage_steps rounds of stochastic gradient
//!   push ([`decentralized`]).
//!
//! The report (report.json/.md, CSVs, `params.json` with the final parameters) records per
//! round the wall time and the algorithm's messages and bytes, and on MPI per rank and round
//! the MPI messages and bytes sent and received, the wall time and the time spent waiting.

pub mod checkpoint;
pub mod decentralized;
pub mod federated;

use std::path::{Path, PathBuf};
use std::time::Instant;

use descent_core::{Error, Result};
use descent_dist::{RankRound, Traffic};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::experiment::{Preset, registry, resolve_config};
use crate::report::{Report, num};
use crate::train::{RunControl, Trained};

/// Where the nodes run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// Every node in this process (descent-dist's `InProcess`).
    InProcess,
    /// One process per MPI rank (`mpirun -np N`); needs the `mpi` feature.
    Mpi,
}

impl Backend {
    /// Parses `in-process` or `mpi`.
    pub fn parse(s: &str) -> Result<Backend> {
        match s {
            "in-process" => Ok(Backend::InProcess),
            "mpi" => Ok(Backend::Mpi),
            _ => Err(Error::invalid("--backend", s, "in-process or mpi")),
        }
    }
}

/// The distributed run to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// FedAvg + PUF unlearning + recovery in the `puf` experiment's setting.
    Puf,
    /// ADP-VRSGP's (or a baseline's) decentralized training in the `adp-vrsgp` setting.
    AdpVrsgp,
}

impl Task {
    /// Parses an experiment name with a distributed run: `puf` or `adp-vrsgp`.
    pub fn parse(s: &str) -> Result<Task> {
        match s {
            "puf" => Ok(Task::Puf),
            "adp-vrsgp" => Ok(Task::AdpVrsgp),
            _ => Err(Error::UnknownName {
                kind: "distributed task".into(),
                name: s.into(),
                valid: vec!["puf".into(), "adp-vrsgp".into()],
            }),
        }
    }

    /// The experiment whose config the task uses.
    pub fn experiment(self) -> &'static str {
        match self {
            Task::Puf => "puf",
            Task::AdpVrsgp => "adp-vrsgp",
        }
    }
}

/// Everything `descent dist` takes (recorded in the report's `config`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistOptions {
    /// The task: `puf` (federated unlearning, P3) or `adp-vrsgp` (decentralized DP, P9).
    pub task: String,
    /// The transport the run uses (in process or MPI).
    pub backend: Backend,
    /// The experiment's preset, config file and `--set key=value` overrides.
    pub preset: String,
    /// The run's seed; every random choice derives from it.
    pub seed: u64,
    /// A TOML config file over the preset, if given.
    pub config_file: Option<PathBuf>,
    /// `key=value` overrides applied last.
    pub sets: Vec<String>,
    /// PUF: `special` or `regular`.
    pub mode: String,
    /// PUF: the client to unlearn (default: the config's first target).
    pub target: Option<usize>,
    /// ADP-VRSGP: `adp`, `dp-sgp` or `sgp`.
    pub method: String,
    /// ADP-VRSGP: every node's budget ε (default: the config's first ε).
    pub epsilon: Option<f64>,
    /// ADP-VRSGP: `iid` or `non-iid`.
    pub split: String,
    /// ADP-VRSGP: `exp` or `random-tv`.
    pub graph: String,
    /// Simulated per-round client/node drop-out probability (both backends draw the same).
    pub dropout: f64,
    /// Simulated per-round link failure probability (push-sum; both backends draw the same).
    pub link_failure: f64,
    /// MPI: seconds a rank may wait for another before the run stops naming it.
    pub timeout_s: f64,
}

/// One round as rank 0 saw it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RoundRecord {
    /// The round number (from 0).
    pub round: u64,
    /// 0 = training, 1 = unlearning round, 2 = recovery (PUF); 0 for push-sum.
    pub phase: u8,
    /// Wall-clock seconds of the round on rank 0.
    pub wall_s: f64,
    /// Messages and bytes the round moved.
    pub traffic: Traffic,
    /// Test accuracy of the server's model after the round (PUF), NaN when not evaluated.
    pub test_accuracy: f64,
    /// Accuracy on the target's data after the round (PUF), NaN otherwise.
    pub forget_accuracy: f64,
}

/// What a task hands to the report (on rank 0).
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Every round in order.
    pub rounds: Vec<RoundRecord>,
    /// Per rank (index), per call: the MPI log (empty in process).
    pub ranks: Vec<Vec<RankRound>>,
    /// Final parameters: the server's model (PUF) or every node's de-biased model.
    pub params: Vec<Vec<f64>>,
    /// Summary numbers (name, value).
    pub summary: Vec<(String, f64)>,
    /// The paper the task reproduces (its short id, for the report).
    pub paper: &'static str,
}

/// A round's wall time since `start`.
pub(crate) fn since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// The typed config of `task` from the preset, file and `--set`s, validated.
pub(crate) fn task_config(opts: &DistOptions, task: Task) -> Result<Value> {
    let registry = registry();
    let exp = registry.get(task.experiment())?;
    resolve_config(
        exp,
        Preset::parse(&opts.preset)?,
        opts.config_file.as_deref(),
        &opts.sets,
    )
}

/// Runs `opts` and, on the process that holds the results (the only one in process, rank 0 on
/// MPI), writes the report to `out` and returns the path of report.json; other ranks return
/// `None`. `progress` gets one line per reported round. In process, `control` continues a run
/// (`--resume`), writes checkpoints (`--checkpoint-every` rounds) and stops after the round in
/// which its stop flag was raised, with a checkpoint ([`Trained::Stopped`]); the MPI backend
/// refuses checkpoints and resumes.
pub fn run(
    opts: &DistOptions,
    out: &Path,
    control: &RunControl,
    progress: &dyn Fn(&str),
) -> Result<Trained<Option<PathBuf>>> {
    let task = Task::parse(&opts.task)?;
    let start = Instant::now();
    let outcome = match opts.backend {
        Backend::InProcess => {
            if let Some(n) = mpirun_ranks().filter(|&n| n > 1) {
                return Err(Error::invalid(
                    "--backend",
                    "in-process",
                    format!("mpi: this process is one of {n} MPI ranks (launched by mpirun)"),
                ));
            }
            let run = match task {
                Task::Puf => federated::in_process(opts, control, progress)?,
                Task::AdpVrsgp => decentralized::in_process(opts, control, progress)?,
            };
            match run {
                Trained::Finished(o) => Some(o),
                Trained::Stopped { step, checkpoint } => {
                    return Ok(Trained::Stopped { step, checkpoint });
                }
            }
        }
        Backend::Mpi => {
            let flag = match (control.every, &control.resume) {
                (Some(_), _) => Some("--checkpoint-every"),
                (_, Some(_)) => Some("--resume"),
                _ => None,
            };
            if let Some(flag) = flag {
                return Err(Error::invalid(
                    flag,
                    "with --backend mpi",
                    "--backend in-process (MPI runs write no checkpoints yet)",
                ));
            }
            mpi_run(opts, task, progress)?
        }
    };
    let Some(outcome) = outcome else {
        return Ok(Trained::Finished(None));
    };
    let path = write(opts, task, &outcome, since(start), out)?;
    Ok(Trained::Finished(Some(path)))
}

/// The world size when launched by Open MPI's mpirun.
fn mpirun_ranks() -> Option<usize> {
    std::env::var("OMPI_COMM_WORLD_SIZE").ok()?.parse().ok()
}

#[cfg(feature = "mpi")]
fn mpi_run(opts: &DistOptions, task: Task, progress: &dyn Fn(&str)) -> Result<Option<Outcome>> {
    let universe = descent_dist::mpi::initialize()?;
    match task {
        Task::Puf => federated::over_mpi(opts, universe.world(), progress),
        Task::AdpVrsgp => decentralized::over_mpi(opts, universe.world(), progress),
    }
}

/// The MPI transport of this rank over `nodes` placed by `role` (this rank keeps its own and
/// drops the others), with the run's faults, timeout and the SIGTERM report of
/// [`MpiTransport::with_stop_report`](descent_dist::mpi::MpiTransport::with_stop_report).
#[cfg(feature = "mpi")]
pub(crate) fn mpi_transport<N: Send>(
    opts: &DistOptions,
    world: descent_dist::mpi::SimpleCommunicator,
    role: descent_dist::mpi::Role,
    nodes: Vec<N>,
    faults: descent_dist::Faults,
) -> Result<descent_dist::mpi::MpiTransport<N>> {
    let n = nodes.len();
    let mut nodes: Vec<Option<N>> = nodes.into_iter().map(Some).collect();
    let tr = descent_dist::mpi::MpiTransport::new(world, role, n, |k| {
        nodes[k]
            .take()
            .ok_or_else(|| Error::invalid("node", k, "built once"))
    })?;
    tr.with_faults(faults)
        .with_timeout(std::time::Duration::from_secs_f64(opts.timeout_s))
        .with_stop_report()
}

#[cfg(not(feature = "mpi"))]
fn mpi_run(_: &DistOptions, _: Task, _: &dyn Fn(&str)) -> Result<Option<Outcome>> {
    Err(Error::invalid(
        "--backend",
        "mpi",
        "in-process: this descent was built without MPI; build it with \
         `cargo build --release -p descent-cli --features mpi` (needs libopenmpi-dev and \
         libclang-dev)",
    ))
}

fn write(opts: &DistOptions, task: Task, o: &Outcome, elapsed: f64, out: &Path) -> Result<PathBuf> {
    let mut report = Report {
        experiment: format!("dist-{}", task.experiment()),
        paper: o.paper.to_string(),
        preset: opts.preset.clone(),
        seed: opts.seed,
        config: json!({ "options": opts, "ranks": o.ranks.len().max(1),
            "experiment": task_config(opts, task)? }),
        elapsed_s: elapsed,
        ..Report::default()
    };
    let rows = o
        .rounds
        .iter()
        .map(|r| {
            vec![
                json!(r.round),
                json!(["train", "unlearn", "recover"][r.phase as usize]),
                num(r.wall_s),
                json!(r.traffic.messages()),
                json!(r.traffic.bytes()),
                num(r.test_accuracy),
                num(r.forget_accuracy),
            ]
        })
        .collect();
    report.add_table(
        "rounds",
        &[
            "round",
            "phase",
            "wall_s",
            "messages",
            "bytes",
            "test_accuracy",
            "forget_accuracy",
        ],
        rows,
    );
    let mut per_rank = Vec::new();
    let mut totals = Vec::new();
    for (rank, log) in o.ranks.iter().enumerate() {
        let mut t = RankRound::default();
        for r in log {
            per_rank.push(vec![
                json!(rank),
                json!(r.round),
                json!(r.sent_messages),
                json!(r.sent_bytes),
                json!(r.received_messages),
                json!(r.received_bytes),
                num(r.wall_s),
                num(r.wait_s),
            ]);
            t.sent_messages += r.sent_messages;
            t.sent_bytes += r.sent_bytes;
            t.received_messages += r.received_messages;
            t.received_bytes += r.received_bytes;
            t.wall_s += r.wall_s;
            t.wait_s += r.wait_s;
        }
        totals.push(vec![
            json!(rank),
            json!(log.len()),
            json!(t.sent_messages),
            json!(t.sent_bytes),
            json!(t.received_messages),
            json!(t.received_bytes),
            num(t.wall_s),
            num(t.wait_s),
        ]);
    }
    let rank_cols = [
        "rank",
        "round",
        "sent_messages",
        "sent_bytes",
        "received_messages",
        "received_bytes",
        "wall_s",
        "wait_s",
    ];
    if !per_rank.is_empty() {
        report.add_table("rank_rounds", &rank_cols, per_rank);
        let mut cols = rank_cols;
        cols[1] = "calls";
        report.add_table("rank_totals", &cols, totals);
    }
    let summary = o
        .summary
        .iter()
        .map(|(k, v)| vec![json!(k), num(*v)])
        .collect();
    report.add_table("summary", &["quantity", "value"], summary);
    let path = report.write(out, &[])?;
    let params = out.join("params.json");
    let text =
        serde_json::to_string(&json!({ "params": o.params })).map_err(|e| Error::io(&params, e))?;
    std::fs::write(&params, text).map_err(|e| Error::io(&params, e))?;
    Ok(path)
}

/// Mean of the rounds' wall times (the report's summary).
pub(crate) fn mean_wall(rounds: &[RoundRecord]) -> f64 {
    crate::harness::stats::mean(&rounds.iter().map(|r| r.wall_s).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_or_list_the_valid_ones() {
        assert_eq!(Task::parse("puf").unwrap(), Task::Puf);
        assert_eq!(
            Task::parse("drift").unwrap_err().to_string(),
            "unknown distributed task 'drift'; valid: puf, adp-vrsgp"
        );
        assert_eq!(Backend::parse("mpi").unwrap(), Backend::Mpi);
        assert_eq!(
            Backend::parse("tcp").unwrap_err().to_string(),
            "invalid value for '--backend': got tcp, expected in-process or mpi"
        );
    }
}
