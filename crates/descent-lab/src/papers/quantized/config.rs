//! The typed configuration of P7's reproduction: one sub-struct per problem of the small-scale
//! plan (Z1 matrix quadratic, Z2 Rosenbrock, Z3 digits MLP), the quick and full presets, and the
//! validation that runs before any work.

use descent_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::experiment::PaperConfig;

/// Z1, the matrix quadratic f(W) = (1/2n)‖A(W − W*)‖²_F (the asserted checks).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z1Config {
    /// Side n of the n × n weight matrix.
    pub n: usize,
    /// Steps T (linear learning-rate decay to 0 over T).
    pub steps: u64,
    /// A = U diag(√h) Uᵀ with h log-spaced in [1, h_max].
    pub h_max: f64,
    /// Seed of the random orthogonal U (fixed by the plan; the target W* follows the run seed).
    pub rotation_seed: u64,
    /// W* = target_scale · N(0, 1), drawn from the run seed's `"z1-target"` stream.
    pub target_scale: f64,
    /// Standard deviation of the additive gradient noise per entry.
    pub noise: f64,
    /// Adam's learning rate (β = (0.9, 0.999), ε = 1e-8).
    pub adam_lr: f64,
    /// Muon's learning rate (β = 0.95, Nesterov, NS5).
    pub muon_lr: f64,
    /// Seeds (gradient noise and stochastic rounding) per setting; the checks judge the median.
    pub seeds: usize,
    /// Mantissa widths of the per-component sweep in the figure.
    pub sweep_bits: Vec<u32>,
    /// Seeds per sweep point (median).
    pub sweep_seeds: usize,
    /// Record the loss every this many steps for the curves (0: no curve points).
    pub curve_every: u64,
}

impl Default for Z1Config {
    fn default() -> Self {
        Z1Config {
            n: 8,
            steps: 20_000,
            h_max: 10.0,
            rotation_seed: 123,
            target_scale: 10.0,
            noise: 0.01,
            adam_lr: 0.01,
            muon_lr: 0.03,
            seeds: 2,
            sweep_bits: vec![1, 2, 3, 4, 5, 7, 10, 23],
            sweep_seeds: 2,
            curve_every: 200,
        }
    }
}

/// Z2, Rosenbrock f(x) = Σ 100(x_{i+1} − x_i²)² + (1 − x_i)² as a rows × cols matrix.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z2Config {
    /// Run Z2 at all.
    pub enabled: bool,
    /// Matrix shape seen by Muon (rows · cols = dimension).
    pub rows: usize,
    /// Columns of that matrix.
    pub cols: usize,
    /// Steps T (linear decay to 0).
    pub steps: u64,
    /// Gradient noise standard deviation.
    pub noise: f64,
    /// Adam's learning rate.
    pub adam_lr: f64,
    /// Muon's learning rate.
    pub muon_lr: f64,
    /// Seeds per setting (median reported).
    pub seeds: usize,
    /// Mantissa widths of the all-component stochastic-rounding sweep.
    pub bits: Vec<u32>,
}

impl Default for Z2Config {
    fn default() -> Self {
        Z2Config {
            enabled: true,
            rows: 4,
            cols: 4,
            steps: 3000,
            noise: 1.0,
            adam_lr: 1e-2,
            muon_lr: 1e-2,
            seeds: 3,
            bits: vec![1, 2, 3, 5, 7, 10, 23],
        }
    }
}

/// Z3, a bias-free tanh MLP on the embedded digits (stand-in for the paper's CIFAR-10 MLP).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z3Config {
    /// Run Z3 at all.
    pub enabled: bool,
    /// Hidden widths (input 64 and output 10 come from the data).
    pub hidden: Vec<usize>,
    /// Minibatch size.
    pub batch: usize,
    /// Steps T (linear decay to 0).
    pub steps: u64,
    /// Adam's learning rate.
    pub adam_lr: f64,
    /// Muon's learning rate.
    pub muon_lr: f64,
    /// Seeds per setting (median reported).
    pub seeds: usize,
    /// Mantissa widths of the all-component stochastic-rounding sweep.
    pub bits: Vec<u32>,
}

impl Default for Z3Config {
    fn default() -> Self {
        Z3Config {
            enabled: true,
            hidden: vec![64, 64],
            batch: 128,
            steps: 1000,
            adam_lr: 1e-3,
            muon_lr: 0.02,
            seeds: 2,
            bits: vec![1, 2, 3, 5, 7, 10, 23],
        }
    }
}

/// The configuration of the `quantized` experiment.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The matrix quadratic (asserted checks and the per-component sweep).
    pub z1: Z1Config,
    /// Rosenbrock (reported).
    pub z2: Z2Config,
    /// MLP on digits (reported).
    pub z3: Z3Config,
}

/// An error unless `v ≥ 1`.
fn at_least_one(field: &str, v: u64) -> Result<()> {
    if v == 0 {
        return Err(Error::invalid(field, 0, "an integer >= 1"));
    }
    Ok(())
}

/// An error unless `v` is finite and > 0 (or ≥ 0 with `zero_ok`).
fn positive(field: &str, v: f64, zero_ok: bool) -> Result<()> {
    let ok = v.is_finite() && (v > 0.0 || zero_ok && v == 0.0);
    if !ok {
        let what = if zero_ok {
            "a finite number >= 0"
        } else {
            "a finite number > 0"
        };
        return Err(Error::invalid(field, v, what));
    }
    Ok(())
}

/// An error unless the list of mantissa widths is non-empty and every width is in [0, 52].
fn mantissa_widths(field: &str, bits: &[u32]) -> Result<()> {
    if bits.is_empty() {
        return Err(Error::invalid(field, "[]", "at least one mantissa width"));
    }
    if let Some(b) = bits.iter().find(|b| **b > 52) {
        return Err(Error::invalid(field, b, "mantissa bits in [0, 52]"));
    }
    Ok(())
}

impl Z1Config {
    fn validate(&self) -> Result<()> {
        at_least_one("z1.n", self.n as u64)?;
        at_least_one("z1.steps", self.steps)?;
        at_least_one("z1.seeds", self.seeds as u64)?;
        at_least_one("z1.sweep_seeds", self.sweep_seeds as u64)?;
        positive("z1.h_max", self.h_max, false)?;
        positive("z1.target_scale", self.target_scale, true)?;
        positive("z1.noise", self.noise, true)?;
        positive("z1.adam_lr", self.adam_lr, false)?;
        positive("z1.muon_lr", self.muon_lr, false)?;
        mantissa_widths("z1.sweep_bits", &self.sweep_bits)
    }
}

impl Z2Config {
    fn validate(&self) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        at_least_one("z2.seeds", self.seeds as u64)?;
        at_least_one("z2.steps", self.steps)?;
        at_least_one("z2.rows", self.rows as u64)?;
        at_least_one("z2.cols", self.cols as u64)?;
        if self.rows * self.cols < 2 {
            return Err(Error::invalid(
                "z2.rows",
                format!("{}x{}", self.rows, self.cols),
                "a shape with rows·cols >= 2 (Rosenbrock needs 2 dimensions)",
            ));
        }
        positive("z2.noise", self.noise, true)?;
        positive("z2.adam_lr", self.adam_lr, false)?;
        positive("z2.muon_lr", self.muon_lr, false)?;
        mantissa_widths("z2.bits", &self.bits)
    }
}

impl Z3Config {
    fn validate(&self) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        at_least_one("z3.seeds", self.seeds as u64)?;
        at_least_one("z3.steps", self.steps)?;
        at_least_one("z3.batch", self.batch as u64)?;
        if let Some(w) = self.hidden.iter().find(|w| **w == 0) {
            return Err(Error::invalid("z3.hidden", w, "hidden widths >= 1"));
        }
        positive("z3.adam_lr", self.adam_lr, false)?;
        positive("z3.muon_lr", self.muon_lr, false)?;
        mantissa_widths("z3.bits", &self.bits)
    }
}

impl PaperConfig for Config {
    /// Z1 only (the asserted checks) with a three-width sweep on one seed.
    fn quick() -> Self {
        Config {
            z1: Z1Config {
                sweep_bits: vec![1, 3, 7],
                sweep_seeds: 1,
                ..Z1Config::default()
            },
            z2: Z2Config {
                enabled: false,
                ..Z2Config::default()
            },
            z3: Z3Config {
                enabled: false,
                ..Z3Config::default()
            },
        }
    }

    /// Z1 on 3 seeds with the full sweep, plus Z2 and Z3.
    fn full() -> Self {
        Config {
            z1: Z1Config {
                seeds: 3,
                ..Z1Config::default()
            },
            ..Default::default()
        }
    }

    fn validate(&self) -> Result<()> {
        self.z1.validate()?;
        self.z2.validate()?;
        self.z3.validate()
    }
}
