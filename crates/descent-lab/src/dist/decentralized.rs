//! The `adp-vrsgp` task of `descent dist` (P9): one run of the `adp-vrsgp` experiment's
//! decentralized training (a method, a uniform budget ε, a data split and a graph; replica 0)
//! for K = stages × stage_steps rounds of stochastic gradient push; the same driver over the
//! in-process transport or over MPI (every rank a block of nodes).

use std::path::PathBuf;
use std::time::Instant;

use descent_core::{Error, Result, RngStreams};
use descent_dist::{DpLearner, Faults, InProcess, Sgp, Topology, Transport};
use descent_nn::{Loss, Workspace};

use super::checkpoint::{Saver, TaskState};
use super::{DistOptions, Outcome, RoundRecord, Task, mean_wall, since, task_config};
use crate::config::from_value;
use crate::experiment::PaperConfig;
use crate::harness::stats;
use crate::papers::adp_vrsgp::config::Config;
use crate::papers::adp_vrsgp::runs::{self, Budgets, Graph, Job, Method, Node, Setup, Split};
use crate::train::{RunControl, Trained};

/// The resolved setting of a run.
struct Setting {
    c: Config,
    setup: Setup,
    job: Job,
    faults: Faults,
}

fn setting(opts: &DistOptions) -> Result<Setting> {
    let c: Config = from_value(&task_config(opts, Task::AdpVrsgp)?)?;
    c.validate()?;
    let method = match opts.method.as_str() {
        "adp" => Method::Adp,
        "dp-sgp" => Method::DpSgp,
        "sgp" => Method::Sgp,
        other => return Err(Error::invalid("--method", other, "adp, dp-sgp or sgp")),
    };
    let split = match opts.split.as_str() {
        "iid" => Split::Iid,
        "non-iid" => Split::NonIid,
        other => return Err(Error::invalid("--split", other, "iid or non-iid")),
    };
    let graph = match opts.graph.as_str() {
        "exp" => Graph::Exp,
        "random-tv" => Graph::RandomTv,
        other => return Err(Error::invalid("--graph", other, "exp or random-tv")),
    };
    let epsilon = opts.epsilon.unwrap_or(c.epsilons[0]);
    let faults = Faults::default()
        .with_dropout(
            opts.dropout,
            RngStreams::new(opts.seed).child_seed("dropout", 0),
        )?
        .with_link_failures(
            opts.link_failure,
            RngStreams::new(opts.seed).child_seed("link-failure", 0),
        )?;
    Ok(Setting {
        setup: runs::setup(&c, opts.seed)?,
        job: Job {
            method,
            split,
            graph,
            budgets: Budgets::Uniform(epsilon),
            replica: 0,
        },
        c,
        faults,
    })
}

/// Every node's final de-biased model and the ε it spent.
type Finals = (Vec<Vec<f64>>, Vec<f64>);

/// After round k with the records so far: `Some(checkpoint)` when the run must stop.
type AfterRound<'a, T> = dyn FnMut(&T, u64, &[RoundRecord]) -> Result<Option<PathBuf>> + 'a;

/// K = stages × stage_steps, the rounds of a run.
fn total_rounds(c: &Config) -> u64 {
    c.stage_steps * c.stages as u64
}

/// The push-sum rounds after the `rounds` already done on every process (`after` may stop the
/// run after a round), then the final de-biased models and the ε each node spent, gathered
/// where the results are (`None` on the other MPI ranks).
fn drive<T: Transport<Node>>(
    st: &Setting,
    topology: Topology,
    tr: &mut T,
    mut rounds: Vec<RoundRecord>,
    after: &mut AfterRound<'_, T>,
    progress: &dyn Fn(&str),
) -> Result<Trained<(Vec<RoundRecord>, Option<Finals>)>> {
    let k_total = total_rounds(&st.c);
    let every = (k_total / 10).max(1);
    let done = rounds.len() as u64;
    let mut sgp = Sgp::new(topology).at_round(done);
    rounds.reserve(k_total.saturating_sub(done) as usize);
    for k in done + 1..=k_total {
        let start = Instant::now();
        let r = sgp.step(tr)?;
        rounds.push(RoundRecord {
            round: k,
            phase: 0,
            wall_s: since(start),
            traffic: r.traffic,
            test_accuracy: f64::NAN,
            forget_accuracy: f64::NAN,
        });
        if k % every == 0 || k <= 3 {
            progress(&format!("round {k}/{k_total} wall {:.4} s", since(start)));
        }
        if let Some(path) = after(tr, k, &rounds)? {
            return Ok(Trained::Stopped {
                step: k,
                checkpoint: path,
            });
        }
    }
    let models = tr.collect(|_, n| n.debiased())?;
    let spent = tr.collect(|_, n| n.learner().report().epsilon.map_or(0.0, |e| e.epsilon))?;
    Ok(Trained::Finished((rounds, models.zip(spent))))
}

/// The report's outcome from the rounds and the gathered results.
fn outcome(
    st: &Setting,
    rounds: Vec<RoundRecord>,
    models: Vec<Vec<f64>>,
    spent: Vec<f64>,
) -> Outcome {
    let s = &st.setup;
    let mut ws = Workspace::new(&s.model, s.test.len());
    let acc: Vec<f64> = models
        .iter()
        .map(|z| {
            s.model
                .evaluate(z, &s.test, Loss::SoftmaxCe, &mut ws)
                .accuracy
                .unwrap_or(f64::NAN)
        })
        .collect();
    let summary = vec![
        ("mean_node_test_accuracy".into(), stats::mean(&acc)),
        ("worst_node_test_accuracy".into(), stats::min(&acc)),
        ("max_epsilon_spent".into(), stats::max(&spent)),
        ("mean_wall_s_per_round".into(), mean_wall(&rounds)),
        (
            "total_bytes".into(),
            rounds.iter().map(|r| r.traffic.bytes() as f64).sum(),
        ),
    ];
    Outcome {
        rounds,
        ranks: Vec::new(),
        params: models,
        summary,
        paper: "P9 ADP-VRSGP: decentralized learning with adaptive differential privacy via \
                variance-reduced stochastic gradient push",
    }
}

/// The run with every node in this process, continued from and checkpointed under `control`
/// (`--resume`, `--checkpoint-every`, Ctrl-C).
pub fn in_process(
    opts: &DistOptions,
    control: &RunControl,
    progress: &dyn Fn(&str),
) -> Result<Trained<Outcome>> {
    let saver = Saver::new(control, opts, Task::AdpVrsgp)?;
    let st = setting(opts)?;
    let (mut nodes, topology) = runs::network(&st.setup, &st.c, st.job, opts.seed)?;
    let mut rounds = Vec::new();
    if let Some(r) = saver.resume()? {
        let TaskState::AdpVrsgp { nodes: saved } = r.state else {
            return Err(Error::invalid(
                "checkpoint state",
                "a FedAvg server",
                "the push-sum nodes of an adp-vrsgp run",
            ));
        };
        if saved.len() != nodes.len() {
            return Err(Error::shape("checkpoint nodes", nodes.len(), saved.len()));
        }
        for (node, state) in nodes.iter_mut().zip(saved) {
            node.restore(state, DpLearner::restore)?;
        }
        rounds = r.rounds;
    }
    let k_total = total_rounds(&st.c);
    let mut tr = descent_dist::InProcess::new(nodes).with_faults(st.faults);
    let mut after = |tr: &InProcess<Node>, k: u64, rounds: &[RoundRecord]| {
        let state = || TaskState::AdpVrsgp {
            nodes: tr
                .nodes()
                .iter()
                .map(|n| n.state(DpLearner::state))
                .collect(),
        };
        saver.after_round(k, k_total, rounds, state, progress)
    };
    let (rounds, gathered) = match drive(&st, topology, &mut tr, rounds, &mut after, progress)? {
        Trained::Finished(r) => r,
        Trained::Stopped { step, checkpoint } => {
            return Ok(Trained::Stopped { step, checkpoint });
        }
    };
    let (models, spent) = gathered.expect("in process every node is here");
    Ok(Trained::Finished(outcome(&st, rounds, models, spent)))
}

/// The run over MPI: every rank holds a block of nodes and runs the same rounds. Any error
/// after the transport is built stops every rank (`MPI_Abort`) after printing it. `Some` on
/// rank 0, whose rounds carry the algorithm's traffic summed over the ranks.
#[cfg(feature = "mpi")]
pub fn over_mpi(
    opts: &DistOptions,
    world: descent_dist::mpi::SimpleCommunicator,
    progress: &dyn Fn(&str),
) -> Result<Option<Outcome>> {
    let st = setting(opts)?;
    let (nodes, topology) = runs::network(&st.setup, &st.c, st.job, opts.seed)?;
    let mut tr = super::mpi_transport(
        opts,
        world,
        descent_dist::mpi::Role::Peers,
        nodes,
        st.faults,
    )?
    .with_topology(topology.clone())?;
    let quiet = |_: &str| {};
    let shown: &dyn Fn(&str) = if tr.rank() == 0 { progress } else { &quiet };
    let mut never = |_: &_, _, _: &[RoundRecord]| Ok(None);
    let (mut rounds, gathered) = drive(&st, topology, &mut tr, Vec::new(), &mut never, shown)
        .and_then(Trained::finished)
        .unwrap_or_else(|e| tr.abort(&e));
    let logs = tr.gather_logs().unwrap_or_else(|e| tr.abort(&e));
    let (Some((models, spent)), Some(logs)) = (gathered, logs) else {
        return Ok(None);
    };
    for (k, r) in rounds.iter_mut().enumerate() {
        r.traffic = descent_dist::Traffic {
            p2p_messages: logs.iter().map(|l| l[k].traffic_messages).sum(),
            p2p_bytes: logs.iter().map(|l| l[k].traffic_bytes).sum(),
            ..descent_dist::Traffic::default()
        };
    }
    let mut o = outcome(&st, rounds, models, spent);
    o.ranks = logs;
    Ok(Some(o))
}
