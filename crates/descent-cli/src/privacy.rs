//! The privacy engine on the command line, as Opacus and TF-Privacy users expect it:
//!
//! - `descent train --privacy 'dp(epsilon=4, delta=1e-5, clip=1)' ...`: DP-SGD on any model
//!   ([`train_private`]): Poisson batches of expected size `--batch-size` out of the m training
//!   samples (q = b/m), `ceil(m/b)` releases per epoch, per-sample clipping, Gaussian noise
//!   calibrated to the target ε over the whole run (or a given `noise_multiplier=`), ε spent
//!   per epoch in `metrics.csv` and in `summary.json` (`epsilon_spent`, `delta`).
//!   The ε covers the gradient releases only: feature standardization with the training
//!   part's statistics (the default) is not private; `--no-standardize` avoids it.
//! - `descent privacy epsilon` / `descent privacy noise`: the RDP accountant and its calibration
//!   for (stage-wise) schedules, with `--json`.
//!
//! Everything private is descent-dist's (`descent_dist::privacy`): [`DpSgdConfig`],
//! [`DpSgdProblem`], the accountant and [`calibrate`]; this module parses flags, runs the
//! lab's epoch loop and writes the outputs.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use descent_core::{Error, EvalCounter, Problem, RngStreams, Spec};
use descent_dist::privacy::{
    Conversion, DpSchedule, DpSgdConfig, DpSgdProblem, Epsilon, Stage, calibrate, check_delta,
    check_multiplier, check_q, decaying_shape, epsilon_of_schedule,
};
use descent_lab::harness::{DataMetrics, EpochEnd, EpochMetrics, run_epochs};
use descent_lab::plot::{LegendAt, Line, Panel};
use descent_lab::train::{self, EpochRecord, TrainConfig, TrainRun, TrainSummary};
use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct PrivacyArgs {
    #[command(subcommand)]
    command: PrivacyCommand,
}

#[derive(clap::Subcommand)]
enum PrivacyCommand {
    /// ε spent by the Poisson-subsampled Gaussian mechanism (RDP accountant, orders 2..64,
    /// 128, 256): one stage, or stages given as comma lists of multipliers and step counts.
    Epsilon(EpsilonArgs),
    /// The noise multiplier σ₀ that spends at most --epsilon (bisection on the accountant);
    /// with several stages, stage s gets σ₀·γ^s (--noise-decay γ).
    Noise(NoiseArgs),
}

#[derive(clap::Args)]
struct EpsilonArgs {
    /// Noise multiplier σ (noise std ÷ clipping norm); a comma list gives one per stage.
    #[arg(
        long,
        value_delimiter = ',',
        required = true,
        allow_negative_numbers = true
    )]
    noise_multiplier: Vec<f64>,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
struct NoiseArgs {
    /// Target ε of the whole schedule.
    #[arg(long, allow_negative_numbers = true)]
    epsilon: f64,
    /// γ: stage s gets multiplier σ₀·γ^s (1 = constant noise).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    noise_decay: f64,
    #[command(flatten)]
    common: Common,
}

#[derive(clap::Args)]
struct Common {
    /// Poisson sampling rate q ∈ (0, 1] (expected batch size ÷ dataset size).
    #[arg(long, allow_negative_numbers = true)]
    sampling_rate: f64,
    /// Number of steps; a comma list gives the length of each stage.
    #[arg(long, value_delimiter = ',', required = true)]
    steps: Vec<u64>,
    /// δ of the (ε, δ) guarantee, in (0, 1).
    #[arg(long, allow_negative_numbers = true)]
    delta: f64,
    /// RDP → (ε, δ) conversion: improved (dp-accounting, Opacus) or classic.
    #[arg(long, default_value = "improved")]
    conversion: String,
    /// Print JSON instead of a sentence.
    #[arg(long)]
    json: bool,
}

impl Common {
    /// Checks the shared flags (errors name the flag) and parses the conversion.
    fn check(&self) -> descent_core::Result<Conversion> {
        check_q("--sampling-rate", self.sampling_rate)?;
        check_delta(self.delta)
            .map_err(|_| Error::invalid("--delta", self.delta, "a number in (0, 1)"))?;
        if let Some(i) = self.steps.iter().position(|&t| t == 0) {
            return Err(Error::invalid(
                format!("--steps[{i}]"),
                0,
                "at least 1 step",
            ));
        }
        Conversion::parse(&self.conversion)
    }
}

/// Runs `descent privacy epsilon|noise`.
pub fn run(args: PrivacyArgs) -> Result<std::process::ExitCode> {
    let text = match args.command {
        PrivacyCommand::Epsilon(a) => epsilon_command(&a)?,
        PrivacyCommand::Noise(a) => noise_command(&a)?,
    };
    println!("{text}");
    Ok(std::process::ExitCode::SUCCESS)
}

/// The stages of `epsilon`: one multiplier per stage, or one for every stage.
fn epsilon_stages(a: &EpsilonArgs) -> descent_core::Result<Vec<Stage>> {
    let (sigmas, steps) = (&a.noise_multiplier, &a.common.steps);
    for (i, &s) in sigmas.iter().enumerate() {
        check_multiplier(&format!("--noise-multiplier[{i}]"), s)?;
    }
    if sigmas.len() != 1 && sigmas.len() != steps.len() {
        return Err(Error::invalid(
            "--noise-multiplier",
            format!("{} values", sigmas.len()),
            format!("1 value or one per stage of --steps ({})", steps.len()),
        ));
    }
    Ok(steps
        .iter()
        .enumerate()
        .map(|(i, &t)| Stage {
            q: a.common.sampling_rate,
            noise_multiplier: sigmas[if sigmas.len() == 1 { 0 } else { i }],
            steps: t,
        })
        .collect())
}

fn epsilon_command(a: &EpsilonArgs) -> Result<String> {
    let conversion = a.common.check()?;
    let stages = epsilon_stages(a)?;
    let e = epsilon_of_schedule(&stages, a.common.delta, conversion)?;
    if a.common.json {
        return Ok(epsilon_json(&e).to_string());
    }
    let other = match conversion {
        Conversion::Classic => Conversion::Improved,
        Conversion::Improved => Conversion::Classic,
    };
    let o = epsilon_of_schedule(&stages, a.common.delta, other)?;
    Ok(format!(
        "ε = {:.4} at δ = {} ({} conversion, RDP order {}; {} conversion: ε = {:.4}) for {}",
        e.epsilon,
        e.delta,
        conversion,
        e.order,
        other,
        o.epsilon,
        describe(&stages)
    ))
}

fn epsilon_json(e: &Epsilon) -> Value {
    json!({"epsilon": e.epsilon, "delta": e.delta, "order": e.order, "conversion": e.conversion})
}

fn noise_command(a: &NoiseArgs) -> Result<String> {
    let conversion = a.common.check()?;
    let shape = decaying_shape(a.common.sampling_rate, &a.common.steps, a.noise_decay)?;
    let c = calibrate(a.epsilon, a.common.delta, &shape, conversion)?;
    if a.common.json {
        let sigmas: Vec<f64> = c.stages.iter().map(|s| s.noise_multiplier).collect();
        let mut v = epsilon_json(&c.epsilon);
        v["noise_multiplier"] = json!(c.sigma0);
        v["noise_multipliers"] = json!(sigmas);
        v["target_epsilon"] = json!(a.epsilon);
        return Ok(v.to_string());
    }
    Ok(format!(
        "noise multiplier σ₀ = {:.4} spends ε = {:.6} ≤ {} at δ = {} ({} conversion, RDP order \
         {}) over {}",
        c.sigma0,
        c.epsilon.epsilon,
        a.epsilon,
        c.epsilon.delta,
        conversion,
        c.epsilon.order,
        describe(&c.stages)
    ))
}

/// `300 steps at q = 0.2, σ = 4.0000 ×75, 3.6000 ×75, ...`.
fn describe(stages: &[Stage]) -> String {
    let total: u64 = stages.iter().map(|s| s.steps).sum();
    let mut text = format!("{total} steps at q = {}, σ =", stages[0].q);
    for (i, s) in stages.iter().enumerate() {
        let sep = if i == 0 { " " } else { ", " };
        let _ = write!(text, "{sep}{:.4} ×{}", s.noise_multiplier, s.steps);
    }
    text
}

/// The measurement after each epoch of a private run: the data metrics (non-private
/// evaluation, as every DP-SGD library reports it) and the ε spent so far.
#[derive(Debug, Clone, Copy)]
struct PrivateMetrics {
    data: DataMetrics,
    epsilon: f64,
}

impl EpochMetrics for PrivateMetrics {
    fn loss(&self) -> f64 {
        self.data.train_loss
    }
}

/// A finished DP-SGD run: the ordinary run (summary, history, parameters) and the privacy
/// book-keeping.
pub struct PrivateRun {
    pub run: TrainRun,
    /// ε spent after each epoch (epoch 0 first: 0).
    pub epsilon: Vec<f64>,
    /// ε spent by the whole run, in the configured conversion.
    pub spent: Epsilon,
    /// ε spent in the other conversion (classic when improved is reported, and vice versa).
    pub spent_other: Epsilon,
    pub schedule: DpSchedule,
    /// Poisson sampling rate q = batch size / training samples.
    pub sampling_rate: f64,
    pub spec: String,
}

/// DP-SGD with `cfg`'s data, model, optimizer and epochs under the `dp(...)` spec `privacy`:
/// q = batch_size / m, ceil(m / batch_size) releases per epoch, the noise calibrated over all
/// of them. `on_epoch` sees each record and the ε spent so far.
pub fn train_private(
    cfg: &TrainConfig,
    privacy: &str,
    mut on_epoch: impl FnMut(&EpochRecord, f64),
) -> descent_core::Result<PrivateRun> {
    let dp = DpSgdConfig::parse(privacy)?;
    if cfg.epochs == 0 {
        return Err(Error::invalid("epochs", 0, "an integer >= 1"));
    }
    let data = train::prepare_data(cfg)?;
    let m = data.train.len();
    if cfg.batch_size == 0 || cfg.batch_size > m {
        return Err(Error::invalid(
            "batch_size",
            cfg.batch_size,
            format!(
                "a size in 1..={m} (the training samples): the expected size of the Poisson batches"
            ),
        ));
    }
    // the objective's batch is the whole training part: the population of the Poisson batches
    let full = TrainConfig {
        batch_size: m,
        ..cfg.clone()
    };
    let (objective, mut x) = train::build_objective(&full, data.train.clone())?;
    let q = cfg.batch_size as f64 / m as f64;
    let steps_per_epoch = m.div_ceil(cfg.batch_size) as u64;
    let schedule = dp.schedule(q, cfg.epochs as u64 * steps_per_epoch)?;
    let private = DpSgdProblem::new(
        objective,
        schedule.clone(),
        dp.delta,
        dp.conversion,
        cfg.seed,
    )?;
    let mut optimizer = descent_optim::build_optimizer(&Spec::parse(&cfg.optimizer)?)?;
    let mut problem = EvalCounter::new(private);
    optimizer.init(problem.layout(), &RngStreams::new(cfg.seed))?;
    let n_params = x.len();
    let name = optimizer.name();
    let mut planned = 0;
    let run = run_epochs(
        optimizer.as_mut(),
        &mut x,
        &mut problem,
        cfg.epochs,
        steps_per_epoch,
        |p, x| {
            one_release_per_step(&name, p.releases(), planned)?;
            planned += steps_per_epoch;
            let data = DataMetrics::measure(p.problem_mut(), x, &data.train, &data.test)?;
            let epsilon = p.epsilon().epsilon;
            Ok(PrivateMetrics { data, epsilon })
        },
        |r| on_epoch(&record(r), r.metrics.epsilon),
    )?;
    if let EpochEnd::Diverged {
        step,
        last_finite_loss,
    } = run.end
    {
        return Err(Error::Diverged {
            method: cfg.optimizer.clone(),
            step,
            last_finite_loss,
        });
    }
    let history: Vec<EpochRecord> = run.records.iter().map(record).collect();
    let last = *history.last().expect("at least the epoch-0 record");
    let private = problem.inner();
    let [classic, improved] = private.epsilon_bracket();
    let (spent, spent_other) = match dp.conversion {
        Conversion::Classic => (classic, improved),
        Conversion::Improved => (improved, classic),
    };
    let summary = TrainSummary {
        data: cfg.data.clone(),
        model: cfg.model.clone(),
        optimizer: optimizer.name(),
        optimizer_config: optimizer.state().resolved(),
        loss: private.problem().loss().name().to_string(),
        seed: cfg.seed,
        epochs: cfg.epochs,
        steps: last.steps,
        n_params,
        n_train: m,
        n_test: data.test.len(),
        train_loss: last.train_loss,
        test_loss: last.test_loss,
        test_accuracy: last.test_accuracy,
        seconds: last.seconds,
        evals: problem.counts(),
    };
    Ok(PrivateRun {
        run: TrainRun {
            summary,
            history,
            params: x,
        },
        epsilon: run.records.iter().map(|r| r.metrics.epsilon).collect(),
        spent,
        spent_other,
        schedule,
        sampling_rate: q,
        spec: privacy.to_string(),
    })
}

/// The noise is calibrated for one release per optimizer step: a method that evaluates the
/// gradient more than once per step (SAM, line searches) would spend more than the target, so
/// the run stops after its first epoch with an error naming it.
fn one_release_per_step(optimizer: &str, releases: u64, steps: u64) -> descent_core::Result<()> {
    if releases == steps {
        return Ok(());
    }
    Err(Error::invalid(
        "optimizer",
        optimizer,
        format!(
            "a method with one gradient evaluation per step under --privacy (it made {releases} \
             private releases in {steps} steps; the noise is calibrated for one per step)"
        ),
    ))
}

fn record(r: &descent_lab::harness::EpochRecord<PrivateMetrics>) -> EpochRecord {
    EpochRecord {
        epoch: r.epoch,
        steps: r.steps,
        grad_evals: r.evals.gradient_like(),
        seconds: r.seconds,
        train_loss: r.metrics.data.train_loss,
        test_loss: r.metrics.data.test_loss,
        test_accuracy: r.metrics.data.test_accuracy,
    }
}

/// `summary.json` of a private run: the ordinary summary plus `privacy` (the spec),
/// `epsilon_spent`, `delta`, the conversion and order, the other conversion's ε, the target,
/// the sampling rate and the per-stage multipliers and clipping norms.
pub fn summary_json(p: &PrivateRun) -> Value {
    let mut v = serde_json::to_value(&p.run.summary).expect("a summary serializes");
    let s = &p.schedule;
    let extra = json!({
        "privacy": p.spec,
        "epsilon_spent": p.spent.epsilon,
        "delta": p.spent.delta,
        "conversion": p.spent.conversion,
        "order": p.spent.order,
        "epsilon_spent_other_conversion": p.spent_other.epsilon,
        "target_epsilon": s.target_epsilon,
        "sampling_rate": p.sampling_rate,
        "noise_multipliers": s.stages.iter().map(|st| st.noise_multiplier).collect::<Vec<_>>(),
        "stage_steps": s.stages.iter().map(|st| st.steps).collect::<Vec<_>>(),
        "clips": s.clips,
    });
    if let (Value::Object(map), Value::Object(more)) = (&mut v, extra) {
        map.extend(more);
    }
    v
}

/// Writes `metrics.csv` (the ordinary columns plus `epsilon`), `summary.json`
/// ([`summary_json`]) and `curves.png`/`.svg` (loss, accuracy and ε against epoch).
pub fn write_private_outputs(p: &PrivateRun, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut csv =
        String::from("epoch,steps,grad_evals,seconds,train_loss,test_loss,test_accuracy,epsilon\n");
    for (r, e) in p.run.history.iter().zip(&p.epsilon) {
        let acc = r.test_accuracy.map_or(String::new(), |a| a.to_string());
        let _ = writeln!(
            csv,
            "{},{},{},{:.6},{},{},{acc},{e}",
            r.epoch, r.steps, r.grad_evals, r.seconds, r.train_loss, r.test_loss
        );
    }
    let path = dir.join("metrics.csv");
    std::fs::write(&path, csv).with_context(|| format!("writing {}", path.display()))?;
    let path = dir.join("summary.json");
    let json = serde_json::to_string_pretty(&summary_json(p))?;
    std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
    let mut fig = train::curves_figure(&p.run);
    let epochs: Vec<f64> = p.run.history.iter().map(|r| r.epoch as f64).collect();
    fig.panels.push(Panel {
        title: format!("Privacy spent (δ = {})", p.spent.delta),
        x_label: "epoch".into(),
        y_label: format!("ε ({} RDP conversion)", p.spent.conversion),
        legend: LegendAt::Hidden,
        lines: vec![Line::new("ε", epochs, p.epsilon.clone())],
        ..Default::default()
    });
    fig.caption = fig
        .caption
        .map(|c| format!("{c}; DP-SGD {}: ε = {:.3} spent", p.spec, p.spent.epsilon));
    fig.save(dir, "curves")?;
    Ok(())
}
