//! The privacy engine on the command line, as Opacus and TF-Privacy users expect it:
//!
//! - `descent train --privacy 'dp(epsilon=4, delta=1e-5, clip=1)' ...`: DP-SGD on any model
//!   (`descent_lab::train::train_private`; ε spent per epoch in `metrics.csv` and in
//!   `summary.json` as `epsilon_spent`, `delta`). The ε covers the gradient releases only:
//!   feature standardization with the training part's statistics (the default) is not
//!   private; `--no-standardize` avoids it.
//! - `descent privacy epsilon` / `descent privacy noise`: the RDP accountant and its calibration
//!   for (stage-wise) schedules, with `--json`.
//!
//! Everything private is descent-dist's privacy engine, re-exported by the lab as
//! `descent_lab::privacy` (the accountant and [`calibrate`]); this module parses flags.

use std::fmt::Write as _;

use anyhow::Result;
use descent_lab::Error;
use descent_lab::privacy::{
    Conversion, Epsilon, Stage, calibrate, check_delta, check_multiplier, check_q, decaying_shape,
    epsilon_of_schedule,
};
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
    fn check(&self) -> Result<Conversion, Error> {
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
fn epsilon_stages(a: &EpsilonArgs) -> Result<Vec<Stage>, Error> {
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
    let shape = decaying_shape(a.common.sampling_rate, &a.common.steps, a.noise_decay)
        .map_err(flag_names)?;
    let c = calibrate(a.epsilon, a.common.delta, &shape, conversion).map_err(flag_names)?;
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

/// The library names these values as fields; on the command line they are flags.
fn flag_names(e: Error) -> Error {
    match e {
        Error::InvalidValue {
            field,
            value,
            expected,
        } => Error::InvalidValue {
            field: match field.as_str() {
                "target_epsilon" => "--epsilon".to_string(),
                "noise_decay" => "--noise-decay".to_string(),
                _ => field,
            },
            value,
            expected,
        },
        other => other,
    }
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
