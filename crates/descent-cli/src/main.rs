//! `descent`: the command line of the descent toolkit.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use descent_lab::report::sig4;
use descent_lab::train::{self, TrainConfig};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "descent",
    version,
    about = "Gradient-based learning research toolkit: train, compare, reproduce"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List optimizers, models, losses and datasets with their parameters.
    List,
    /// Train a model on a dataset with an optimizer; writes metrics.csv, summary.json, curves.png.
    Train(TrainArgs),
}

#[derive(clap::Args)]
struct TrainArgs {
    /// Dataset: digits, iris, wine, csv:PATH.
    #[arg(long, default_value = "digits")]
    data: String,
    /// Model: mlp:64-128-10, mlp(sizes=[64,128,10], act=relu), softmax-regression.
    #[arg(long, default_value = "mlp:64-128-10")]
    model: String,
    /// Optimizer: adam(lr=1e-3), sgd(lr=0.1, momentum=0.9), ...
    #[arg(long, default_value = "adam(lr=1e-3)")]
    optimizer: String,
    /// Loss: softmax-ce, mse, logistic (default: softmax-ce for classes, mse for real targets).
    #[arg(long, default_value = "")]
    loss: String,
    /// Passes over the training data.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Run seed (split, initialisation and batch order derive from it).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Fraction of the data held out for testing.
    #[arg(long, default_value_t = 0.2)]
    test_fraction: f64,
    /// Do not standardize features.
    #[arg(long)]
    no_standardize: bool,
    /// Output directory (default: results/train-<unix time>).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List => {
            print!("{}", descent_lab::catalog::listing());
            Ok(ExitCode::SUCCESS)
        }
        Command::Train(args) => run_train(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn default_out(kind: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    PathBuf::from("results").join(format!("{kind}-{secs}"))
}

fn run_train(args: TrainArgs) -> Result<ExitCode> {
    let cfg = TrainConfig {
        data: args.data,
        model: args.model,
        optimizer: args.optimizer,
        loss: args.loss,
        epochs: args.epochs,
        batch_size: args.batch_size,
        seed: args.seed,
        test_fraction: args.test_fraction,
        standardize: !args.no_standardize,
    };
    let out = args.out.unwrap_or_else(|| default_out("train"));
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new(cfg.epochs as u64);
        b.set_style(
            ProgressStyle::with_template("{bar:30} epoch {pos}/{len} {msg} [{elapsed}]")
                .expect("a valid progress template"),
        );
        b
    });
    let run = train::train(&cfg, |r| {
        let acc = r
            .test_accuracy
            .map_or(String::new(), |a| format!(" test_acc {a:.4}"));
        let msg = format!(
            "train_loss {} test_loss {}{acc}",
            sig4(r.train_loss),
            sig4(r.test_loss)
        );
        match &bar {
            Some(b) => {
                b.set_position(r.epoch as u64);
                b.set_message(msg);
            }
            None => eprintln!("epoch {}/{} {msg}", r.epoch, cfg.epochs),
        }
    })?;
    if let Some(b) = bar {
        b.finish();
    }
    train::write_outputs(&run, &out)
        .with_context(|| format!("writing results to {}", out.display()))?;
    let s = &run.summary;
    let acc = s
        .test_accuracy
        .map_or(String::new(), |a| format!(", test accuracy {a:.4}"));
    println!(
        "{} on {} with {}: train loss {}, test loss {}{acc}, {} steps in {:.2} s; results in {}",
        s.model,
        s.data,
        s.optimizer,
        sig4(s.train_loss),
        sig4(s.test_loss),
        s.steps,
        s.seconds,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
