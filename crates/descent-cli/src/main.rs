//! `descent`: the command line of the descent toolkit.
// The doc comments of this binary are clap's `--help` text (`<unix>`, `[64,128,10]`), not rustdoc.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use descent_lab::compare::{self, CompareConfig, TuneGrid};
use descent_lab::experiment::{Experiment, Preset, RunContext, resolve_config, run_and_write};
use descent_lab::report::{ClaimKind, Report, short_json, sig4};
use descent_lab::train::{self, TrainConfig};
use indicatif::{ProgressBar, ProgressStyle};

mod dist;
mod privacy;
mod resume;
mod setting;

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
    /// List optimizers, models, losses and datasets with their parameters; with --model, the
    /// model's layout blocks (the names partition groups match).
    List(ListArgs),
    /// Train a model on a dataset with an optimizer; writes metrics.csv, summary.json, curves.png.
    Train(TrainArgs),
    /// Compare optimizers on one model and dataset across seeds (same splits, inits and batches).
    Compare(CompareArgs),
    /// Run one paper experiment; writes report.json, report.md, CSVs and figures.
    Run(RunArgs),
    /// Run every experiment and write an index of all claims.
    Reproduce(ReproduceArgs),
    /// Privacy accounting: ε of a noise schedule, or the noise for a target ε (RDP accountant of
    /// the Poisson-subsampled Gaussian mechanism).
    Privacy(privacy::PrivacyArgs),
    /// Open-set active learning on a dataset: query strategies compared over rounds and seeds;
    /// writes per_round.csv, report.json/.md and curves.png.
    Active(ActiveArgs),
    /// Federated (puf) or decentralized (adp-vrsgp) training in one process or, with
    /// --backend mpi under mpirun, one rank per block of clients or nodes.
    Dist(dist::DistArgs),
}

#[derive(clap::Args)]
struct ActiveArgs {
    /// Dataset: digits, iris, wine, csv:PATH, idx:DIR, npy:X.npy,Y.npy, mixture(...).
    #[arg(long, default_value = "digits")]
    data: String,
    /// The known classes (the data's labels), e.g. 0,1,2,3,4; every other class is unknown.
    #[arg(long, value_delimiter = ',', required = true)]
    known: Vec<usize>,
    /// A query strategy: random, entropy, margin, least_confidence, coreset,
    /// samosa(order=high|low, filter=true|false, pair=sam|sgd, init=independent|shared);
    /// repeat to compare (default: random and samosa).
    #[arg(long = "strategy", default_values_t = ["random".to_string(), "samosa".to_string()])]
    strategies: Vec<String>,
    /// Samples queried per round (unknowns count).
    #[arg(long, default_value_t = 40)]
    budget: usize,
    /// Query rounds.
    #[arg(long, default_value_t = 8)]
    rounds: usize,
    /// Initial labelled known samples.
    #[arg(long, default_value_t = 40)]
    initial: usize,
    /// Seeds per strategy (seed .. seed + seeds).
    #[arg(long, default_value_t = 5)]
    seeds: usize,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Model spec (hidden widths only; outputs are K or K + 1).
    #[arg(long, default_value = "mlp(hidden=[64], act=relu, out_init=lecun)")]
    model: String,
    /// Optimizer of every model (SAMOSA's SAM model wraps it in sam(rho, base=...)).
    #[arg(long, default_value = "sgd(lr=0.05, momentum=0.9, weight_decay=5e-4)")]
    optimizer: String,
    /// Epochs per model.
    #[arg(long, default_value_t = 60)]
    epochs: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Test fraction when the data has no test split of its own.
    #[arg(long, default_value_t = 0.2)]
    test_fraction: f64,
    /// Do not standardize features.
    #[arg(long)]
    no_standardize: bool,
    /// Output directory (default: results/active-<unix time>).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    checkpoint: resume::CheckpointArgs,
}

#[derive(clap::Args)]
struct ListArgs {
    /// Show this model's layout blocks (name, shape, parameter count), e.g. mlp:64-128-10.
    #[arg(long)]
    model: Option<String>,
    /// Size the model's input and output from this dataset (needed when the model spec gives
    /// hidden widths only, e.g. mlp:128).
    #[arg(long)]
    data: Option<String>,
}

#[derive(clap::Args)]
struct CompareArgs {
    /// Dataset: digits, iris, wine, csv:PATH.
    #[arg(long, default_value = "digits")]
    data: String,
    /// Model spec.
    #[arg(long, default_value = "mlp:64-128-10")]
    model: String,
    /// An optimizer spec; repeat for each optimizer to compare.
    #[arg(long = "optimizer", required = true)]
    optimizers: Vec<String>,
    /// Seeds per optimizer.
    #[arg(long, default_value_t = 5)]
    seeds: usize,
    /// Passes over the training data per run.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Loss (default: softmax-ce for classes, mse for real targets).
    #[arg(long, default_value = "")]
    loss: String,
    /// First seed; runs use seed..seed+seeds.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Report gradient evaluations and seconds to reach this test accuracy.
    #[arg(long)]
    target_accuracy: Option<f64>,
    /// Tune one key per optimizer on a validation split first: key=lo:hi:n (log grid).
    #[arg(long)]
    tune: Option<String>,
    /// Output directory (default: results/compare-<unix time>).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    checkpoint: resume::CheckpointArgs,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Experiment name (see `descent list`).
    experiment: String,
    #[command(flatten)]
    setting: setting::SettingArgs,
    /// Output directory (default: results/<experiment>-<unix time>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Exit with status 3 if an asserted claim does not hold.
    #[arg(long)]
    strict: bool,
}

#[derive(clap::Args)]
struct ReproduceArgs {
    /// quick or full.
    #[arg(long, default_value = "quick")]
    preset: String,
    /// Run seed for every experiment.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory (default: results/reproduce-<unix time>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Exit with status 3 if any asserted claim does not hold.
    #[arg(long)]
    strict: bool,
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
    /// Threads for this run's large products (same bits every time for a given count).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Train with DP-SGD: 'dp(epsilon=4, delta=1e-5, clip=1)' calibrates the noise to the target
    /// ε over the whole run, 'dp(noise_multiplier=1.1, ...)' uses that multiplier; stage-wise
    /// schedules: stages=4, noise_decay=0.9, clip_decay=0.5; conversion=classic. Batches are
    /// Poisson samples of expected size --batch-size; ε spent goes to metrics.csv and summary.json.
    /// ε covers the gradients only: add --no-standardize to keep the training statistics out.
    #[arg(long)]
    privacy: Option<String>,
    #[command(flatten)]
    checkpoint: resume::CheckpointArgs,
    /// Start from these weights (a safetensors file with one tensor per layout block, e.g. the
    /// weights.safetensors of an earlier run) instead of the seed's initialisation.
    #[arg(long, value_name = "FILE")]
    init: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List(args) => run_list(args),
        Command::Train(args) => run_train(args),
        Command::Compare(args) => run_compare(args),
        Command::Run(args) => run_experiment(args),
        Command::Reproduce(args) => run_reproduce(args),
        Command::Privacy(args) => privacy::run(args),
        Command::Active(args) => run_active(args),
        Command::Dist(args) => {
            let out = default_out(&format!("dist-{}", args.task()));
            dist::run(args, out)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes joined by ": ", leaving out a cause whose text the message already
/// ends with (descent's I/O errors show their cause and also keep it as their source).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.ends_with(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
    }
    out
}

fn run_list(args: ListArgs) -> Result<ExitCode> {
    match (&args.model, &args.data) {
        (Some(model), data) => print!(
            "{}",
            descent_lab::catalog::model_layout(model, data.as_deref())?
        ),
        (None, Some(_)) => anyhow::bail!("--data sizes a --model; give --model SPEC as well"),
        (None, None) => print!("{}", descent_lab::catalog::listing()),
    }
    Ok(ExitCode::SUCCESS)
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
        validation: false,
        threads: args.threads,
    };
    let out = args.checkpoint.out(args.out, || default_out("train"))?;
    let control = train::RunControl {
        init: args.init,
        ..args.checkpoint.control(&out)?
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new(cfg.epochs as u64);
        b.set_style(
            ProgressStyle::with_template("{bar:30} epoch {pos}/{len} {msg} [{elapsed}]")
                .expect("a valid progress template"),
        );
        b
    });
    let progress = |r: &train::EpochRecord, extra: String| {
        let acc = r
            .test_accuracy
            .map_or(String::new(), |a| format!(" test_acc {a:.4}"));
        let msg = format!(
            "train_loss {} test_loss {}{acc}{extra}",
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
    };
    let (run, spent) = match &args.privacy {
        None => {
            let run = match train::train_with(&cfg, &control, |r| progress(r, String::new()))? {
                train::Trained::Finished(run) => run,
                train::Trained::Stopped { step, checkpoint } => {
                    return Ok(resume::stopped(step, &checkpoint, &out));
                }
            };
            train::write_outputs(&run, &out)
                .with_context(|| format!("writing results to {}", out.display()))?;
            (run, String::new())
        }
        Some(spec) => {
            let on_epoch = |r: &train::EpochRecord, e: f64| progress(r, format!(" ε {e:.4}"));
            let p = match train::train_private_with(&cfg, spec, &control, on_epoch)? {
                train::Trained::Finished(p) => p,
                train::Trained::Stopped { step, checkpoint } => {
                    return Ok(resume::stopped(step, &checkpoint, &out));
                }
            };
            train::write_private_outputs(&p, &out)
                .with_context(|| format!("writing results to {}", out.display()))?;
            let spent = format!(
                ", ε = {:.4} spent at δ = {} ({} conversion)",
                p.spent.epsilon, p.spent.delta, p.spent.conversion
            );
            (p.run, spent)
        }
    };
    if let Some(b) = bar {
        b.finish();
    }
    let s = &run.summary;
    let acc = s
        .test_accuracy
        .map_or(String::new(), |a| format!(", test accuracy {a:.4}"));
    println!(
        "{} on {} with {}: train loss {}, test loss {}{acc}{spent}, {} steps in {:.2} s; results \
         in {}",
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

/// A progress reporter for one experiment: a bar on a terminal, start/end lines when piped.
fn experiment_progress(name: &str) -> Option<ProgressBar> {
    if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(1000);
        b.set_style(
            ProgressStyle::with_template("{prefix:>14} {bar:30} {percent:>3}% {msg} [{elapsed}]")
                .expect("a valid progress template"),
        );
        b.set_prefix(name.to_string());
        Some(b)
    } else {
        eprintln!("{name}: running");
        None
    }
}

fn run_one(
    exp: &dyn Experiment,
    preset: Preset,
    seed: u64,
    config_file: Option<&Path>,
    sets: &[String],
    out: &Path,
) -> Result<Report> {
    let cfg = resolve_config(exp, preset, config_file, sets)?;
    let bar = experiment_progress(exp.name());
    let progress = |fraction: f64, msg: &str| {
        if let Some(b) = &bar {
            b.set_position((fraction.clamp(0.0, 1.0) * 1000.0) as u64);
            b.set_message(msg.to_string());
        }
    };
    let ctx = RunContext {
        preset,
        seed,
        progress: &progress,
    };
    let (report, _) = run_and_write(exp, &cfg, &ctx, out)?;
    let held = report.claims.iter().filter(|c| c.holds).count();
    let line = format!(
        "{}: {held}/{} claims hold, {:.1} s, report in {}",
        exp.name(),
        report.claims.len(),
        report.elapsed_s,
        out.join("report.md").display()
    );
    match bar {
        Some(b) => b.finish_with_message(line),
        None => eprintln!("{line}"),
    }
    Ok(report)
}

fn run_experiment(args: RunArgs) -> Result<ExitCode> {
    let registry = descent_lab::experiment::registry();
    let exp = registry.get(&args.experiment)?;
    let preset = Preset::parse(&args.setting.preset)?;
    let out = args.out.unwrap_or_else(|| default_out(exp.name()));
    let report = run_one(
        exp,
        preset,
        args.setting.seed,
        args.setting.config.as_deref(),
        &args.setting.sets,
        &out,
    )?;
    print_claims(&report.claims);
    Ok(strict_code(
        args.strict,
        report.failed_asserted().is_empty(),
    ))
}

fn strict_code(strict: bool, all_asserted_hold: bool) -> ExitCode {
    if strict && !all_asserted_hold {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_claims(claims: &[descent_lab::report::Claim]) {
    for c in claims {
        println!(
            "{:<5} {:<8} {:<40} measured {} expected {}",
            if c.holds { "ok" } else { "FAIL" },
            match c.kind {
                ClaimKind::Asserted => "asserted",
                ClaimKind::Reported => "reported",
            },
            c.id,
            short_json(&c.measured),
            c.expected
        );
    }
}

fn run_reproduce(args: ReproduceArgs) -> Result<ExitCode> {
    let registry = descent_lab::experiment::registry();
    let preset = Preset::parse(&args.preset)?;
    let out = args.out.unwrap_or_else(|| default_out("reproduce"));
    let mut reports = Vec::new();
    for exp in registry.iter() {
        let dir = out.join(exp.name());
        let report = run_one(exp, preset, args.seed, None, &[], &dir)
            .with_context(|| format!("experiment {}", exp.name()))?;
        reports.push(report);
    }
    let index = descent_lab::index::Index::from_reports(&reports);
    index
        .write(&out)
        .with_context(|| format!("writing the index to {}", out.display()))?;
    for r in &reports {
        print_claims(&r.claims);
    }
    let failed = index
        .claims
        .iter()
        .filter(|c| c.kind == ClaimKind::Asserted && !c.holds)
        .count();
    println!(
        "{} experiments, {} claims ({} asserted failing); index in {}",
        reports.len(),
        index.claims.len(),
        failed,
        out.join("index.md").display()
    );
    Ok(strict_code(args.strict, failed == 0))
}

fn run_compare(args: CompareArgs) -> Result<ExitCode> {
    let cfg = CompareConfig {
        base: TrainConfig {
            data: args.data,
            model: args.model,
            optimizer: String::new(),
            loss: args.loss,
            epochs: args.epochs,
            batch_size: args.batch_size,
            seed: args.seed,
            ..TrainConfig::default()
        },
        optimizers: args.optimizers,
        seeds: args.seeds,
        target_accuracy: args.target_accuracy,
        tune: args.tune.as_deref().map(TuneGrid::parse).transpose()?,
    };
    let out = args.checkpoint.out(args.out, || default_out("compare"))?;
    let control = args.checkpoint.control(&out)?;
    let runs = cfg.optimizers.len() * cfg.seeds;
    eprintln!(
        "compare: {runs} runs on {} threads",
        rayon::current_num_threads()
    );
    let start = std::time::Instant::now();
    let Some(results) = compare::compare_with(&cfg, &control)? else {
        let folder = control.checkpoint_dir.unwrap_or_default();
        return Ok(resume::stopped_at("its runs", &folder, &out));
    };
    let (mut report, figures) = compare::report(&cfg, &results);
    report.experiment = "compare".into();
    report.paper = "optimizer comparison".into();
    report.seed = cfg.base.seed;
    report.config = serde_json::to_value(&cfg)?;
    finish_study(report, &figures, start, &out)
}

/// Writes the report of a `compare` or `active` study (preset "custom": its settings are the
/// flags, recorded in `config`), prints its first table and says where the report is.
fn finish_study(
    mut report: Report,
    figures: &[(String, descent_lab::plot::Figure)],
    start: std::time::Instant,
    out: &Path,
) -> Result<ExitCode> {
    report.preset = "custom".into();
    report.elapsed_s = start.elapsed().as_secs_f64();
    report
        .write(out, figures)
        .with_context(|| format!("writing results to {}", out.display()))?;
    let table = &report.tables[0];
    println!("{}", table.columns.join(" | "));
    for row in &table.rows {
        println!(
            "{}",
            row.iter().map(short_json).collect::<Vec<_>>().join(" | ")
        );
    }
    println!("report in {}", out.join("report.md").display());
    Ok(ExitCode::SUCCESS)
}

fn run_active(args: ActiveArgs) -> Result<ExitCode> {
    use descent_lab::active::{self, ActiveStudy};
    let mut study = ActiveStudy {
        data: args.data,
        known: args.known,
        strategies: args.strategies,
        seeds: args.seeds,
        seed: args.seed,
        test_fraction: args.test_fraction,
        standardize: !args.no_standardize,
        ..ActiveStudy::default()
    };
    study.active.initial = args.initial;
    study.active.budget = args.budget;
    study.active.rounds = args.rounds;
    study.active.recipe.model = args.model;
    study.active.recipe.optimizer = args.optimizer;
    study.active.recipe.epochs = args.epochs;
    study.active.recipe.batch_size = args.batch_size;
    let out = args.checkpoint.out(args.out, || default_out("active"))?;
    let control = args.checkpoint.control(&out)?;
    eprintln!(
        "active: {} runs on {} threads",
        study.strategies.len() * study.seeds,
        rayon::current_num_threads()
    );
    let start = std::time::Instant::now();
    let Some(result) = active::study_with(&study, &control)? else {
        let folder = control.checkpoint_dir.unwrap_or_default();
        return Ok(resume::stopped_at("its runs", &folder, &out));
    };
    let (mut report, figures) = active::report(&study, &result);
    report.experiment = "active".into();
    report.paper = "open-set active learning".into();
    report.seed = study.seed;
    report.config = serde_json::to_value(&study)?;
    finish_study(report, &figures, start, &out)
}
