//! `descent dist`: the federated (`puf`) and decentralized (`adp-vrsgp`) runs in one process or,
//! built with `--features mpi`, one MPI rank per client block or node block under
//! `mpirun -np N ... --backend mpi` (`descent_lab::dist`; this module parses flags).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use descent_lab::dist::{self, Backend, DistOptions};
use descent_lab::train::{RunControl, Trained};

use crate::{resume, setting};

#[derive(clap::Args)]
pub struct DistArgs {
    /// puf (FedAvg + PUF unlearning + recovery) or adp-vrsgp (decentralized DP training).
    task: String,
    /// in-process, or mpi (under mpirun; needs a build with --features mpi).
    #[arg(long, default_value = "in-process")]
    backend: String,
    /// The experiment's preset, seed, config file and --set overrides.
    #[command(flatten)]
    setting: setting::SettingArgs,
    /// puf: special or regular.
    #[arg(long, default_value = "special")]
    mode: String,
    /// puf: the client to unlearn (default: the config's first target).
    #[arg(long)]
    target: Option<usize>,
    /// adp-vrsgp: adp, dp-sgp or sgp.
    #[arg(long, default_value = "adp")]
    method: String,
    /// adp-vrsgp: every node's budget ε (default: the config's first ε).
    #[arg(long)]
    epsilon: Option<f64>,
    /// adp-vrsgp: iid or non-iid.
    #[arg(long, default_value = "iid")]
    split: String,
    /// adp-vrsgp: exp or random-tv.
    #[arg(long, default_value = "exp")]
    graph: String,
    /// Simulated probability that a client or node drops out of a round.
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,
    /// adp-vrsgp: simulated probability that a link fails for a round.
    #[arg(long, default_value_t = 0.0)]
    link_failure: f64,
    /// mpi: seconds a rank waits for another before the run stops naming it and the round.
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
    /// Output directory (default: results/dist-<task>-<unix time>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// --checkpoint-every N rounds and --resume DIR (in process).
    #[command(flatten)]
    checkpoint: resume::CheckpointArgs,
}

impl DistArgs {
    /// The task name.
    pub fn task(&self) -> &str {
        &self.task
    }
}

/// Runs `descent dist`; prints where the report went (on the rank that writes it).
pub fn run(args: DistArgs, default_out: PathBuf) -> Result<ExitCode> {
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        anyhow::bail!(
            "invalid value for '--timeout': got {}, expected seconds > 0",
            args.timeout
        );
    }
    let opts = DistOptions {
        task: args.task,
        backend: Backend::parse(&args.backend)?,
        preset: args.setting.preset,
        seed: args.setting.seed,
        config_file: args.setting.config,
        sets: args.setting.sets,
        mode: args.mode,
        target: args.target,
        method: args.method,
        epsilon: args.epsilon,
        split: args.split,
        graph: args.graph,
        dropout: args.dropout,
        link_failure: args.link_failure,
        timeout_s: args.timeout,
    };
    let out = args.checkpoint.out(args.out, || default_out)?;
    // under MPI, SIGTERM belongs to the transport's stop report
    let control = match opts.backend {
        Backend::InProcess => args.checkpoint.control(&out)?,
        Backend::Mpi => RunControl {
            every: args.checkpoint.checkpoint_every,
            resume: args.checkpoint.resume.clone(),
            ..RunControl::default()
        },
    };
    match dist::run(&opts, &out, &control, &|line| eprintln!("{line}"))? {
        Trained::Finished(Some(path)) => println!("report: {}", path.display()),
        Trained::Finished(None) => {}
        Trained::Stopped { step, checkpoint } => {
            return Ok(resume::stopped_at(
                &format!("after round {step}"),
                &checkpoint,
                &out,
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
