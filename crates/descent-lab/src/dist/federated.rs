//! The `puf` task of `descent dist` (P3): FedAvg on the `puf` experiment's first data split,
//! one PUF unlearning round for a target client, then recovery rounds without it; the same
//! driver over the in-process transport or over MPI (rank 0 the server, clients in blocks over
//! the other ranks).

use std::sync::Arc;
use std::time::Instant;

use descent_core::{Error, Result, RngStreams};
use descent_data::Dataset;
use descent_dist::{Client, Faults, FedAvg, PufConfig, PufMode, Transport, accuracy, unlearn};

use super::checkpoint::{Saver, TaskState};
use super::{DistOptions, Outcome, RoundRecord, Task, mean_wall, since, task_config};
use crate::config::from_value;
use crate::experiment::PaperConfig;
use crate::papers::puf::config::{Config, Seeds};
use crate::papers::puf::setup::{self, Setup};
use crate::train::{RunControl, Trained};

/// The resolved setting of a run.
struct Setting {
    c: Config,
    seeds: Seeds,
    setup: Setup,
    data: Vec<Arc<Dataset>>,
    target: usize,
    puf: PufConfig,
    faults: Faults,
}

fn setting(opts: &DistOptions) -> Result<Setting> {
    let c: Config = from_value(&task_config(opts, Task::Puf)?)?;
    c.validate()?;
    let seeds = Seeds::new(&c, opts.seed);
    let setup = setup::digits(&c, &seeds)?;
    let data = setup::client_data(&setup, &c, seeds.partition(c.split_seeds[0]))?;
    let target = opts.target.unwrap_or(c.targets[0]);
    if target >= c.clients {
        return Err(Error::invalid(
            "--target",
            target,
            format!("a client id in 0..{}", c.clients),
        ));
    }
    let puf = match opts.mode.as_str() {
        "special" => PufConfig {
            mode: PufMode::Special,
            eta_u: c.eta_special,
            epochs: 1,
        },
        "regular" => PufConfig {
            mode: PufMode::Regular,
            eta_u: c.eta_regular,
            epochs: 1,
        },
        other => return Err(Error::invalid("--mode", other, "special or regular")),
    };
    let faults = Faults::default().with_dropout(
        opts.dropout,
        RngStreams::new(opts.seed).child_seed("dropout", 0),
    )?;
    Ok(Setting {
        c,
        seeds,
        setup,
        data,
        target,
        puf,
        faults,
    })
}

/// The server's side: FedAvg rounds, the unlearning round, recovery; one record per round.
/// In process, `saver` continues a resumed run and writes its checkpoints.
fn drive<T: Transport<Client>>(
    st: &Setting,
    tr: &mut T,
    saver: Option<&Saver>,
    progress: &dyn Fn(&str),
) -> Result<Trained<Outcome>> {
    let (c, s) = (&st.c, &st.setup);
    let mut ws = s.model.workspace(256);
    let mut fed = FedAvg::new(
        c.fedavg(),
        s.init.clone(),
        (0..c.clients).collect(),
        st.seeds.train,
    )?;
    let mut rounds = Vec::new();
    if let Some(r) = saver.map(Saver::resume).transpose()?.flatten() {
        let TaskState::Puf { server } = r.state else {
            return Err(Error::invalid(
                "checkpoint state",
                "push-sum nodes",
                "the FedAvg server of a puf run",
            ));
        };
        if server.round != r.rounds.len() as u64 {
            return Err(Error::shape(
                "checkpoint records vs the server's rounds",
                server.round,
                r.rounds.len(),
            ));
        }
        fed.restore(server)?;
        rounds = r.rounds;
    }
    let total = (c.rounds + 1 + c.horizon) as u64;
    let train = c.rounds as u64;
    for t in fed.round() + 1..=total {
        let start = Instant::now();
        let (phase, traffic) = match t {
            t if t <= train => (0, fed.step(tr)?.traffic),
            t if t == train + 1 => (
                1,
                unlearn(&mut fed, tr, &[st.target], &st.puf)?.round.traffic,
            ),
            _ => (2, fed.step(tr)?.traffic),
        };
        let r = RoundRecord {
            round: fed.round(),
            phase,
            wall_s: since(start),
            traffic,
            test_accuracy: accuracy(&s.model, fed.weights(), &s.test, &mut ws),
            forget_accuracy: accuracy(&s.model, fed.weights(), &st.data[st.target], &mut ws),
        };
        progress(&format!(
            "round {}/{total} {} test_acc {:.4} forget_acc {:.4} wall {:.3} s",
            r.round,
            ["train", "unlearn", "recover"][phase as usize],
            r.test_accuracy,
            r.forget_accuracy,
            r.wall_s
        ));
        rounds.push(r);
        let state = || TaskState::Puf {
            server: fed.state(),
        };
        if let Some(path) = saver
            .map(|sv| sv.after_round(t, total, &rounds, state, progress))
            .transpose()?
            .flatten()
        {
            return Ok(Trained::Stopped {
                step: t,
                checkpoint: path,
            });
        }
    }
    let at = |phase: u8, f: fn(&RoundRecord) -> f64| {
        rounds
            .iter()
            .rfind(|r| r.phase == phase)
            .map_or(f64::NAN, f)
    };
    let summary = vec![
        (
            "test_accuracy_before_unlearning".into(),
            at(0, |r| r.test_accuracy),
        ),
        (
            "forget_accuracy_before_unlearning".into(),
            at(0, |r| r.forget_accuracy),
        ),
        (
            "forget_accuracy_after_unlearning".into(),
            at(1, |r| r.forget_accuracy),
        ),
        (
            "test_accuracy_after_recovery".into(),
            at(2, |r| r.test_accuracy),
        ),
        (
            "forget_accuracy_after_recovery".into(),
            at(2, |r| r.forget_accuracy),
        ),
        ("mean_wall_s_per_round".into(), mean_wall(&rounds)),
        (
            "total_bytes".into(),
            rounds.iter().map(|r| r.traffic.bytes() as f64).sum(),
        ),
    ];
    Ok(Trained::Finished(Outcome {
        rounds,
        ranks: Vec::new(),
        params: vec![fed.weights().to_vec()],
        summary,
        paper: "P3 PUF: federated unlearning by negated pseudo-gradients",
    }))
}

/// The run with every client in this process, continued from and checkpointed under
/// `control` (`--resume`, `--checkpoint-every`, Ctrl-C).
pub fn in_process(
    opts: &DistOptions,
    control: &RunControl,
    progress: &dyn Fn(&str),
) -> Result<Trained<Outcome>> {
    let saver = Saver::new(control, opts, Task::Puf)?;
    let st = setting(opts)?;
    let mut tr =
        setup::transport(&st.setup, &st.c, &st.data, st.seeds.train)?.with_faults(st.faults);
    drive(&st, &mut tr, Some(&saver), progress)
}

/// The run over MPI: rank 0 drives the rounds, the other ranks serve their clients. Any error
/// after the transport is built stops every rank (`MPI_Abort`) after printing it. `Some` on
/// rank 0.
#[cfg(feature = "mpi")]
pub fn over_mpi(
    opts: &DistOptions,
    world: descent_dist::mpi::SimpleCommunicator,
    progress: &dyn Fn(&str),
) -> Result<Option<Outcome>> {
    use descent_dist::{ClientUpdate, RoundMsg, client_work};

    let st = setting(opts)?;
    let clients = setup::clients(&st.setup, &st.c, &st.data, st.seeds.train)?;
    let mut tr = super::mpi_transport(
        opts,
        world,
        descent_dist::mpi::Role::Server,
        clients,
        st.faults,
    )?;
    let outcome = if tr.rank() == 0 {
        let o = drive(&st, &mut tr, None, progress)
            .and_then(Trained::finished)
            .and_then(|o| tr.finish().map(|_| o));
        Some(o.unwrap_or_else(|e| tr.abort(&e)))
    } else {
        let served = tr.serve::<RoundMsg<'static>, ClientUpdate, _>(client_work);
        if let Err(e) = served {
            tr.abort(&e);
        }
        None
    };
    let logs = tr.gather_logs().unwrap_or_else(|e| tr.abort(&e));
    Ok(outcome.map(|mut o| {
        o.ranks = logs.unwrap_or_default();
        o
    }))
}
