//! The [`Experiment`] trait and the registry behind `descent run` and `descent reproduce`.
//!
//! An experiment declares a typed config struct (serde, every field defaulted) with `quick` and
//! `full` presets; the runner turns the preset into JSON, applies `--config` and `--set`
//! overrides, and hands the experiment the result. The experiment returns a [`Report`] whose
//! claims carry computed verdicts, plus its figures.

use std::path::{Path, PathBuf};
use std::time::Instant;

use descent_core::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config;
use crate::plot::Figure;
use crate::report::Report;

/// Which budget to run an experiment at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// At most 45 s wall in release on 2 cores: the asserted checks; what CI runs.
    Quick,
    /// At most 10 minutes: the spec's small-scale design with more seeds and steps.
    Full,
}

impl Preset {
    /// `quick` or `full`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Quick => "quick",
            Preset::Full => "full",
        }
    }

    /// Parses `quick` or `full`.
    pub fn parse(s: &str) -> Result<Preset> {
        match s {
            "quick" => Ok(Preset::Quick),
            "full" => Ok(Preset::Full),
            other => Err(Error::invalid("preset", other, "quick or full")),
        }
    }
}

/// What an experiment's run gets besides its config.
pub struct RunContext<'a> {
    /// The preset the config was resolved from.
    pub preset: Preset,
    /// The run's seed; every random choice derives from it.
    pub seed: u64,
    /// Called with a fraction in [0, 1] and a short message as the run advances.
    pub progress: &'a (dyn Fn(f64, &str) + Sync),
}

/// What an experiment's run returns.
pub struct RunOutput {
    /// The report (claims, tables, config, seed).
    pub report: Report,
    /// (file stem, figure) pairs, written as PNG and SVG beside the report.
    pub figures: Vec<(String, Figure)>,
}

/// One paper's reproduction, as the CLI sees it (object safe; every paper implements it through
/// [`Paper`]).
pub trait Experiment: Send + Sync {
    /// The experiment's name on the command line (`drift`, `rbo`, ...); claim ids start with it.
    fn name(&self) -> &'static str;
    /// The paper id (`P1` ... `P10`) and short title.
    fn paper(&self) -> &'static str;
    /// One line for `descent list`.
    fn summary(&self) -> &'static str;
    /// The preset's config as JSON (from the typed config struct).
    fn config(&self, preset: Preset) -> Value;
    /// Runs with a config that [`Experiment::config`] produced and the user may have changed.
    fn run(&self, config: &Value, ctx: &RunContext<'_>) -> Result<RunOutput>;
}

/// A paper's typed config: serde (every field defaulted, unknown keys rejected), two presets and
/// a validation that runs before any work, with errors naming the field (`z1.n`), the value and
/// what was expected.
pub trait PaperConfig: Serialize + DeserializeOwned {
    /// At most 45 s wall in release on 2 cores; what the tests and CI run.
    fn quick() -> Self;
    /// At most 10 minutes: the spec's small-scale design with more seeds and steps.
    fn full() -> Self;
    /// Checks every field before the run starts.
    fn validate(&self) -> Result<()>;
}

/// One paper's reproduction with its typed config: the one convention for presets, validation
/// and names. The blanket impl makes every paper an [`Experiment`].
pub trait Paper: Send + Sync {
    /// The paper's typed config (serde, every field defaulted, presets and validation).
    type Config: PaperConfig;
    /// See [`Experiment::name`].
    const NAME: &'static str;
    /// See [`Experiment::paper`].
    const PAPER: &'static str;
    /// See [`Experiment::summary`].
    const SUMMARY: &'static str;
    /// The sequence of the paper's checks on a validated config.
    fn reproduce(&self, config: &Self::Config, ctx: &RunContext<'_>) -> Result<RunOutput>;
}

impl<P: Paper> Experiment for P {
    fn name(&self) -> &'static str {
        P::NAME
    }
    fn paper(&self) -> &'static str {
        P::PAPER
    }
    fn summary(&self) -> &'static str {
        P::SUMMARY
    }
    fn config(&self, preset: Preset) -> Value {
        config::to_value(&match preset {
            Preset::Quick => P::Config::quick(),
            Preset::Full => P::Config::full(),
        })
    }
    fn run(&self, config: &Value, ctx: &RunContext<'_>) -> Result<RunOutput> {
        let c: P::Config = config::from_value(config)?;
        c.validate()?;
        self.reproduce(&c, ctx)
    }
}

/// The config a run will use: the preset, then the TOML file, then each `--set` in order.
pub fn resolve_config(
    exp: &dyn Experiment,
    preset: Preset,
    config_file: Option<&Path>,
    sets: &[String],
) -> Result<Value> {
    let mut cfg = exp.config(preset);
    if let Some(path) = config_file {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        config::merge_toml(&mut cfg, &text, &path.display().to_string())?;
    }
    for s in sets {
        config::apply_set(&mut cfg, s)?;
    }
    Ok(cfg)
}

/// Runs an experiment with a resolved config and fills the report's run metadata (name, paper,
/// preset, seed, config, elapsed time), without writing anything: what a caller that keeps the
/// report in memory needs (the Python bindings' `descent.run`).
///
/// # Errors
///
/// The experiment's own errors, and a claim id that does not start with `<name>/`.
pub fn run_report(exp: &dyn Experiment, config: &Value, ctx: &RunContext<'_>) -> Result<RunOutput> {
    let start = Instant::now();
    let mut out = exp.run(config, ctx)?;
    let report = &mut out.report;
    report.experiment = exp.name().to_string();
    report.paper = exp.paper().to_string();
    report.preset = ctx.preset.name().to_string();
    report.seed = ctx.seed;
    report.config = config.clone();
    report.elapsed_s = start.elapsed().as_secs_f64();
    for c in &report.claims {
        if !c.id.starts_with(&format!("{}/", exp.name())) {
            return Err(Error::invalid(
                "claim id",
                &c.id,
                format!("an id of the form '{}/<short-name>'", exp.name()),
            ));
        }
    }
    Ok(out)
}

/// [`run_report`], then writes the report and its figures to `out`. Returns the report and the
/// path of report.json.
pub fn run_and_write(
    exp: &dyn Experiment,
    config: &Value,
    ctx: &RunContext<'_>,
    out: &Path,
) -> Result<(Report, PathBuf)> {
    let RunOutput {
        mut report,
        figures,
    } = run_report(exp, config, ctx)?;
    let path = report.write(out, &figures)?;
    Ok((report, path))
}

/// A registry of experiments by name.
#[derive(Default)]
pub struct Registry {
    experiments: Vec<Box<dyn Experiment>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an experiment; names must be unique.
    pub fn register(&mut self, exp: Box<dyn Experiment>) -> Result<()> {
        if self.get(exp.name()).is_ok() {
            return Err(Error::invalid(
                "experiment name",
                exp.name(),
                "a name not yet registered",
            ));
        }
        self.experiments.push(exp);
        Ok(())
    }

    /// The experiment with this name, or an error listing the registered ones.
    pub fn get(&self, name: &str) -> Result<&dyn Experiment> {
        self.experiments
            .iter()
            .find(|e| e.name() == name)
            .map(|e| e.as_ref())
            .ok_or_else(|| Error::unknown_name("experiment", name, &self.names()))
    }

    /// Registered names in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.experiments.iter().map(|e| e.name()).collect()
    }

    /// All experiments in order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Experiment> {
        self.experiments.iter().map(|e| e.as_ref())
    }
}

/// Every experiment of the toolkit (one per paper, [`crate::papers::all`]).
pub fn registry() -> Registry {
    let mut r = Registry::new();
    for e in crate::papers::all() {
        r.register(e).expect("paper experiments have unique names");
    }
    r
}

/// The error of running the quick preset with `sets` applied (`--set key=value` texts), or
/// `None` if it runs: what a test of a configuration check needs. Validation happens before
/// any work, so an invalid configuration returns at once.
pub fn quick_config_error(exp: &dyn Experiment, sets: &[&str]) -> Option<String> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let run = resolve_config(exp, Preset::Quick, None, &sets).and_then(|cfg| {
        let ctx = RunContext {
            preset: Preset::Quick,
            seed: 0,
            progress: &|_, _| {},
        };
        exp.run(&cfg, &ctx)
    });
    run.err().map(|e| e.to_string())
}

/// Runs an experiment's quick preset at `seed` into `dir` and checks what every run must give:
/// report.json validates against the schema and records `seed`, report.md and every figure
/// exist, and every asserted claim holds (the panic message lists the failures with their
/// measurements). For tests; returns the report.
pub fn run_quick_checked(exp: &dyn Experiment, seed: u64, dir: &Path) -> Report {
    let cfg = resolve_config(exp, Preset::Quick, None, &[]).expect("the quick preset resolves");
    let ctx = RunContext {
        preset: Preset::Quick,
        seed,
        progress: &|_, _| {},
    };
    let (report, path) = run_and_write(exp, &cfg, &ctx, dir).expect("the quick preset runs");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("report.json"))
        .expect("report.json is JSON");
    let errors = crate::schema::validate_report(&doc);
    assert!(
        errors.is_empty(),
        "report.json violates the schema: {errors:#?}"
    );
    assert_eq!(
        doc["seed"], seed,
        "report.json must record the seed it ran with"
    );
    assert!(dir.join("report.md").exists(), "report.md missing");
    for stem in &report.figures {
        for ext in ["png", "svg"] {
            assert!(
                dir.join(format!("{stem}.{ext}")).exists(),
                "figure {stem}.{ext} missing"
            );
        }
    }
    let failed: Vec<String> = report
        .failed_asserted()
        .iter()
        .map(|c| format!("{}: measured {} expected {}", c.id, c.measured, c.expected))
        .collect();
    assert!(
        failed.is_empty(),
        "{} seed {seed}: asserted claims failed:\n{}",
        exp.name(),
        failed.join("\n")
    );
    report
}

/// The quick preset at seeds 0 and 1 (into `dir/seed0` and `dir/seed1`), each checked as
/// [`run_quick_checked`] does, and the check that the seed matters: the two reports have the
/// same claims and differ in the measured value of at least one (an experiment whose every
/// measurement ignores its seed reports a seed it did not use). Every experiment's test calls
/// it; returns the two reports.
pub fn check_quick_seeds(exp: &dyn Experiment, dir: &Path) -> [Report; 2] {
    let run = |seed: u64| {
        let d = dir.join(format!("seed{seed}"));
        std::fs::create_dir_all(&d).expect("a writable test directory");
        run_quick_checked(exp, seed, &d)
    };
    let (a, b) = (run(0), run(1));
    let ids = |r: &Report| r.claims.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b), "the claims must not depend on the seed");
    let differing: Vec<&str> = a
        .claims
        .iter()
        .zip(&b.claims)
        .filter(|(x, y)| x.measured != y.measured)
        .map(|(x, _)| x.id.as_str())
        .collect();
    assert!(
        !differing.is_empty(),
        "{}: seeds 0 and 1 measured identical values for every claim; the seed is ignored",
        exp.name()
    );
    [a, b]
}
