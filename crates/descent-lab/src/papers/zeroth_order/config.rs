//! The typed `zeroth-order` config: one sub-struct per check (Z1–Z4 and the reported extras), the quick and full presets, and the validation that runs before any work.

use descent_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::experiment::PaperConfig;

/// Z1: moment tests.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z1Config {
    /// Dimensions d.
    pub dims: Vec<usize>,
    /// Samples per law and dimension.
    pub samples: usize,
}

impl Default for Z1Config {
    fn default() -> Self {
        Z1Config {
            dims: vec![8, 64],
            samples: 200_000,
        }
    }
}

/// Z2: τ-MSE replication.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z2Config {
    /// Trials (independent estimates) per law and batch size for the medians.
    pub trials: usize,
    /// Synthetic A batch sizes B (directions per estimate).
    pub batches: Vec<usize>,
    /// Synthetic A dimension.
    pub quad_dim: usize,
    /// Synthetic A coordinates of x set to zero (zero gradient there).
    pub quad_zeroed: usize,
    /// Synthetic A smoothing μ (central differences: exact for a quadratic).
    pub quad_mu: f64,
    /// Synthetic A threshold τ.
    pub quad_tau: f64,
    /// Trials for the mean Rademacher-vs-DAP comparison (a mean needs more than a median).
    pub rademacher_trials: usize,
    /// Synthetic B (product function) dimension.
    pub product_dim: usize,
    /// Synthetic B batch sizes.
    pub product_batches: Vec<usize>,
    /// Synthetic B smoothing μ (central differences).
    pub product_mu: f64,
    /// Synthetic B threshold τ.
    pub product_tau: f64,
}

impl Default for Z2Config {
    fn default() -> Self {
        Z2Config {
            trials: 1000,
            batches: vec![32, 128, 512],
            quad_dim: 8,
            quad_zeroed: 4,
            quad_mu: 1e-3,
            quad_tau: 0.01,
            rademacher_trials: 4000,
            product_dim: 16,
            product_batches: vec![2, 8, 32],
            product_mu: 1e-4,
            product_tau: 1e-4,
        }
    }
}

/// Z3: per-coordinate crossover.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z3Config {
    /// Dimension.
    pub dim: usize,
    /// Samples per law.
    pub samples: usize,
}

impl Default for Z3Config {
    fn default() -> Self {
        Z3Config {
            dim: 16,
            samples: 100_000,
        }
    }
}

/// Z4: ZO-SGD on the test functions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z4Config {
    /// Dimension.
    pub dim: usize,
    /// ZO-SGD steps.
    pub steps: usize,
    /// Seeds per law.
    pub seeds: usize,
    /// Directions per step (DAP-estimated gets q/2, so every law uses q + 1 values a step).
    pub q: usize,
    /// Forward-difference μ.
    pub mu: f64,
    /// Record the loss every this many steps.
    pub record_every: usize,
    /// Monte Carlo repeats for the one-step expectation E f(x − ηg) (Z4 b).
    pub one_step_samples: usize,
}

impl Default for Z4Config {
    fn default() -> Self {
        Z4Config {
            dim: 32,
            steps: 3000,
            seeds: 5,
            q: 4,
            mu: 1e-6,
            record_every: 25,
            one_step_samples: 100_000,
        }
    }
}

/// Reported extras at equal function-query budgets.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtrasConfig {
    /// Run the extras at all.
    pub run: bool,
    /// Rosenbrock dimension.
    pub rosenbrock_dim: usize,
    /// Function queries per Rosenbrock run.
    pub rosenbrock_queries: usize,
    /// Function queries per digits run (softmax regression, d = 650).
    pub digits_queries: usize,
    /// Minibatch size on digits.
    pub digits_batch: usize,
    /// Adam learning rate on digits (ZO-Adam).
    pub digits_lr: f64,
    /// Directions per step.
    pub q: usize,
    /// Seeds per law.
    pub seeds: usize,
}

impl Default for ExtrasConfig {
    fn default() -> Self {
        ExtrasConfig {
            run: true,
            rosenbrock_dim: 4,
            rosenbrock_queries: 60_000,
            digits_queries: 30_000,
            digits_batch: 64,
            digits_lr: 0.01,
            q: 4,
            seeds: 2,
        }
    }
}

/// The `zeroth-order` config (quick preset = the defaults).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Z1: moments of the perturbation laws.
    pub z1: Z1Config,
    /// Z2: τ-MSE of the estimators.
    pub z2: Z2Config,
    /// Z3: the crossover between laws.
    pub z3: Z3Config,
    /// Z4: ZO-SGD descent.
    pub z4: Z4Config,
    /// The reported extras (Rosenbrock, digits).
    pub extras: ExtrasConfig,
}

impl PaperConfig for Config {
    /// The small-scale design of every check (Z2 with 1000 trials per median, see the report's
    /// assumptions): about 10 s on 2 idle cores.
    fn quick() -> Self {
        Config::default()
    }

    /// More samples, seeds and a third dimension (d = 256) for Z1.
    fn full() -> Self {
        let mut c = Config::default();
        c.z1.dims = vec![8, 64, 256];
        c.z2.trials = 3000;
        c.z3.samples = 400_000;
        c.z4.seeds = 10;
        c.z4.one_step_samples = 400_000;
        c.extras.seeds = 5;
        c.extras.digits_queries = 100_000;
        c
    }

    fn validate(&self) -> Result<()> {
        validate(self)
    }
}

/// An integer field that must be at least 1.
fn positive(field: &str, v: usize) -> Result<()> {
    if v == 0 {
        Err(Error::invalid(field, 0, "an integer >= 1"))
    } else {
        Ok(())
    }
}

/// A list of batch sizes: non-empty, every entry at least 1.
fn batch_list(field: &str, v: &[usize]) -> Result<()> {
    if v.is_empty() || v.contains(&0) {
        return Err(Error::invalid(
            field,
            format!("{v:?}"),
            "a non-empty list of batch sizes >= 1",
        ));
    }
    Ok(())
}

fn validate(c: &Config) -> Result<()> {
    if c.z1.dims.is_empty() || c.z1.dims.iter().any(|&d| d < 2) {
        return Err(Error::invalid(
            "z1.dims",
            format!("{:?}", c.z1.dims),
            "a non-empty list of dimensions >= 2",
        ));
    }
    positive("z1.samples", c.z1.samples)?;
    positive("z2.trials", c.z2.trials)?;
    positive("z2.rademacher_trials", c.z2.rademacher_trials)?;
    batch_list("z2.batches", &c.z2.batches)?;
    batch_list("z2.product_batches", &c.z2.product_batches)?;
    if c.z2.quad_dim < 2 {
        return Err(Error::invalid("z2.quad_dim", c.z2.quad_dim, "at least 2"));
    }
    if c.z2.quad_zeroed >= c.z2.quad_dim {
        return Err(Error::invalid(
            "z2.quad_zeroed",
            c.z2.quad_zeroed,
            format!("fewer than z2.quad_dim = {}", c.z2.quad_dim),
        ));
    }
    if c.z2.product_dim < 2 {
        return Err(Error::invalid(
            "z2.product_dim",
            c.z2.product_dim,
            "at least 2",
        ));
    }
    if c.z3.dim < 2 {
        return Err(Error::invalid("z3.dim", c.z3.dim, "at least 2"));
    }
    positive("z3.samples", c.z3.samples)?;
    if c.z4.dim < 2 {
        return Err(Error::invalid("z4.dim", c.z4.dim, "at least 2"));
    }
    positive("z4.steps", c.z4.steps)?;
    positive("z4.seeds", c.z4.seeds)?;
    // DAP-estimated spends q/2 pilot + q/2 aligned directions: equal budgets need an even q
    for (field, q) in [("z4.q", c.z4.q), ("extras.q", c.extras.q)] {
        if q < 2 || q % 2 == 1 {
            return Err(Error::invalid(
                field,
                q,
                "an even number of directions >= 2 (DAP-estimated spends q/2 pilot + q/2 aligned)",
            ));
        }
    }
    positive("z4.record_every", c.z4.record_every)?;
    positive("z4.one_step_samples", c.z4.one_step_samples)?;
    positive("extras.seeds", c.extras.seeds)?;
    positive("extras.digits_batch", c.extras.digits_batch)?;
    if c.extras.rosenbrock_dim < 2 {
        return Err(Error::invalid(
            "extras.rosenbrock_dim",
            c.extras.rosenbrock_dim,
            "at least 2",
        ));
    }
    // at least one step of q + 1 values per run
    for (field, v) in [
        ("extras.rosenbrock_queries", c.extras.rosenbrock_queries),
        ("extras.digits_queries", c.extras.digits_queries),
    ] {
        if v < c.extras.q + 1 {
            return Err(Error::invalid(
                field,
                v,
                format!("at least extras.q + 1 = {} (one step)", c.extras.q + 1),
            ));
        }
    }
    for (f, v) in [
        ("z2.quad_mu", c.z2.quad_mu),
        ("z2.product_mu", c.z2.product_mu),
        ("z4.mu", c.z4.mu),
        ("extras.digits_lr", c.extras.digits_lr),
    ] {
        if !(v > 0.0 && v.is_finite()) {
            return Err(Error::invalid(f, v, "a finite number > 0"));
        }
    }
    for (f, v) in [
        ("z2.quad_tau", c.z2.quad_tau),
        ("z2.product_tau", c.z2.product_tau),
    ] {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(Error::invalid(f, v, "a finite number >= 0"));
        }
    }
    Ok(())
}
