//! The checkpoint flags of long runs (`--checkpoint-every`, `--resume`, `--init`) and the
//! SIGINT/SIGTERM handler that turns Ctrl-C into "finish the step, write a checkpoint, exit".

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use descent_lab::checkpoint;
use descent_lab::train::RunControl;

/// The exit status of a run stopped by a signal, with its checkpoint written (128 + SIGINT).
pub const STOPPED: u8 = 130;

#[derive(clap::Args)]
pub struct CheckpointArgs {
    /// Write a checkpoint into <out>/checkpoint/ every N optimizer steps (train, compare), query
    /// rounds (active) or rounds (dist), atomically: the previous one stays until the new one is
    /// complete. Ctrl-C always writes one.
    #[arg(long, value_name = "N")]
    pub checkpoint_every: Option<u64>,
    /// Continue the run whose checkpoint is in DIR (its --out or its checkpoint/ folder), with
    /// the same flags: the result is bit-identical to an uninterrupted run. Results go to DIR's
    /// run folder unless --out is given.
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
}

impl CheckpointArgs {
    /// The run's output folder: `--out`, else the run folder of `--resume`, else `default`.
    pub fn out(&self, out: Option<PathBuf>, default: impl FnOnce() -> PathBuf) -> Result<PathBuf> {
        if let Some(out) = out {
            return Ok(out);
        }
        match &self.resume {
            Some(dir) if dir.join(checkpoint::DIR_NAME).is_dir() => Ok(dir.clone()),
            Some(dir) => Ok(run_folder(&checkpoint::locate(dir)?)),
            None => Ok(default()),
        }
    }

    /// The run control for output folder `out`: checkpoints into `out/checkpoint`, the stop
    /// flag raised by SIGINT or SIGTERM (a second signal ends the process at once).
    pub fn control(&self, out: &Path) -> Result<RunControl> {
        let stop = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // the order matters: the shutdown hook sees the flag before the flag is set
            signal_hook::flag::register_conditional_shutdown(sig, STOPPED as i32, stop.clone())
                .context("installing the Ctrl-C handler")?;
            signal_hook::flag::register(sig, stop.clone())
                .context("installing the Ctrl-C handler")?;
        }
        Ok(RunControl {
            checkpoint_dir: Some(out.join(checkpoint::DIR_NAME)),
            every: self.checkpoint_every,
            stop: Some(stop),
            resume: self.resume.clone(),
            ..RunControl::default()
        })
    }
}

/// The folder holding a checkpoint file's `checkpoint/` folder (its run's `--out`).
fn run_folder(file: &Path) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("."));
    match dir.file_name() {
        Some(n) if n == checkpoint::DIR_NAME => dir.parent().unwrap_or(Path::new(".")).into(),
        _ => dir.into(),
    }
}

/// Says where a stopped run's checkpoint is and how to continue; the exit status
/// [`STOPPED`].
pub fn stopped(step: u64, checkpoint: &Path, out: &Path) -> ExitCode {
    stopped_at(&format!("after step {step}"), checkpoint, out)
}

/// [`stopped`] for a run stopped `when` (e.g. "after step 12").
pub fn stopped_at(when: &str, checkpoint: &Path, out: &Path) -> ExitCode {
    eprintln!(
        "stopped {when}: checkpoint written to {}; continue with the same flags and --resume {}",
        checkpoint.display(),
        out.display()
    );
    ExitCode::from(STOPPED)
}
