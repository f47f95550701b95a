//! The typed configuration of the `rbo` experiment: the spec's small-scale design (P6 §5) with
//! the quick preset (what CI runs) and the full preset (more seeds, a wider η × ρ grid, digits).

use descent_core::{Error, Result, Spec};
use descent_optim::build_optimizer;
use serde::{Deserialize, Serialize};

use crate::experiment::PaperConfig;

/// The neural-network comparison (R7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Comparison {
    /// Training (and, separately, test) samples per class of the 5-class mixture in 10-D.
    pub per_class: usize,
    /// Epochs of shuffled minibatches.
    pub epochs: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Hidden width of the 10-h-5 ReLU MLP.
    pub hidden: usize,
    /// Mixture draws (run seeds) per optimizer.
    pub seeds: usize,
    /// Mixture draws for the large-learning-rate stability check (R7a).
    pub stability_seeds: usize,
    /// The optimizers compared, as spec text.
    pub optimizers: Vec<String>,
    /// Lanczos iterations of the sharpness probe (0 skips it).
    pub lanczos: usize,
    /// RBO learning rates of the η × ρ grid.
    pub grid_lrs: Vec<f64>,
    /// RBO radii of the η × ρ grid.
    pub grid_radii: Vec<f64>,
    /// Mixture draws per grid point.
    pub grid_seeds: usize,
    /// Also run the comparison on the embedded 8×8 digits (64-h-10 MLP, reported only).
    pub digits: bool,
}

/// The optimizers of R7 with the spec's settings (§5 R7).
fn default_optimizers() -> Vec<String> {
    [
        "sgd(lr=0.01)",
        "sgd(lr=0.1)",
        "sgd(lr=6)",
        "sam(rho=0.05, base=sgd(lr=0.1))",
        "entropy_sgd(lr=1, inner_steps=5, inner_lr=0.1, noise=0.0001, alpha=0.75, gamma=0.03)",
        "rbo(lr=6, radius=1, inner_lr=0.01, inner_steps=20)",
        "rbo(lr=6, radius=3, inner_lr=0.01, inner_steps=20)",
        "rbo(lr=1, radius=10, inner_lr=0.001, inner_steps=100)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

impl Default for Comparison {
    fn default() -> Self {
        Comparison {
            per_class: 400,
            epochs: 5,
            batch: 64,
            hidden: 64,
            seeds: 3,
            stability_seeds: 5,
            optimizers: default_optimizers(),
            lanczos: 20,
            grid_lrs: vec![0.01, 0.1, 1.0, 6.0, 100.0],
            grid_radii: vec![0.01, 1.0, 3.0],
            grid_seeds: 1,
            digits: false,
        }
    }
}

/// The experiment's configuration (R1, R2, R5 have no settings: their cases are the spec's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// R3: learning rates of the small-limit check (ρ = 1e-6, K = 400, γ = 0.5/(1+‖g‖²)),
    /// decreasing by decades; the spec's bounds 0.05, 5e-3, 1e-3 apply to the first three.
    pub small_limit_lrs: Vec<f64>,
    /// R4: steps of GD and RBO on the wrinkled function.
    pub wrinkled_steps: usize,
    /// R4: starting points.
    pub wrinkled_starts: Vec<f64>,
    /// R4: learning rate.
    pub wrinkled_lr: f64,
    /// R4: RBO radii (0 is "move along the tangent plane, then project").
    pub wrinkled_radii: Vec<f64>,
    /// R4: grid points of the exact projection.
    pub projection_grid: usize,
    /// R6: grid points on [−3, 3] for the offset heights.
    pub ironing_grid: usize,
    /// R7.
    pub comparison: Comparison,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            small_limit_lrs: vec![1e-2, 1e-3, 1e-4],
            wrinkled_steps: 1500,
            wrinkled_starts: vec![3.0, 2.0, 1.5, -2.5, -3.0],
            wrinkled_lr: 0.01,
            wrinkled_radii: vec![0.0, 0.02, 0.05, 0.2],
            projection_grid: 4001,
            ironing_grid: 70_001,
            comparison: Comparison::default(),
        }
    }
}

fn finite_list(field: &str, v: &[f64], ok: impl Fn(f64) -> bool, expected: &str) -> Result<()> {
    if v.is_empty() {
        return Err(Error::invalid(field, "[]", "at least one value"));
    }
    match v.iter().find(|x| !(x.is_finite() && ok(**x))) {
        Some(bad) => Err(Error::invalid(field, bad, expected)),
        None => Ok(()),
    }
}

impl PaperConfig for Config {
    fn quick() -> Self {
        Config::default()
    }

    fn full() -> Self {
        let mut c = Config::default();
        c.comparison.seeds = 5;
        c.comparison.stability_seeds = 10;
        c.comparison.grid_lrs = vec![1e-3, 1e-2, 0.1, 1.0, 6.0, 30.0, 100.0, 300.0];
        c.comparison.grid_radii = vec![0.01, 0.1, 0.3, 1.0, 3.0, 10.0];
        c.comparison.grid_seeds = 3;
        c.comparison.digits = true;
        c
    }

    fn validate(&self) -> Result<()> {
        let cc = &self.comparison;
        for (field, v) in [
            ("comparison.per_class", cc.per_class),
            ("comparison.epochs", cc.epochs),
            ("comparison.batch", cc.batch),
            ("comparison.hidden", cc.hidden),
            ("comparison.seeds", cc.seeds),
            ("comparison.stability_seeds", cc.stability_seeds),
            ("comparison.grid_seeds", cc.grid_seeds),
            ("wrinkled_steps", self.wrinkled_steps),
        ] {
            if v == 0 {
                return Err(Error::invalid(field, 0, "an integer >= 1"));
            }
        }
        if self.projection_grid < 101 {
            return Err(Error::invalid(
                "projection_grid",
                self.projection_grid,
                "an integer >= 101",
            ));
        }
        if self.ironing_grid < 1001 {
            return Err(Error::invalid(
                "ironing_grid",
                self.ironing_grid,
                "an integer >= 1001",
            ));
        }
        let lrs = &self.small_limit_lrs;
        let decades = lrs.windows(2).all(|w| (w[1] / w[0] - 0.1).abs() < 1e-9);
        if lrs.len() < 2 || lrs.iter().any(|v| !(v.is_finite() && *v > 0.0)) || !decades {
            return Err(Error::invalid(
                "small_limit_lrs",
                format!("{lrs:?}"),
                "at least two learning rates > 0, decreasing by decades",
            ));
        }
        if !(self.wrinkled_lr.is_finite() && self.wrinkled_lr > 0.0) {
            return Err(Error::invalid(
                "wrinkled_lr",
                self.wrinkled_lr,
                "a finite number > 0",
            ));
        }
        finite_list(
            "wrinkled_starts",
            &self.wrinkled_starts,
            |_| true,
            "finite numbers",
        )?;
        finite_list(
            "wrinkled_radii",
            &self.wrinkled_radii,
            |r| r >= 0.0,
            "finite numbers >= 0",
        )?;
        finite_list(
            "comparison.grid_lrs",
            &cc.grid_lrs,
            |v| v > 0.0,
            "finite numbers > 0",
        )?;
        finite_list(
            "comparison.grid_radii",
            &cc.grid_radii,
            |v| v >= 0.0,
            "finite numbers >= 0",
        )?;
        if cc.optimizers.is_empty() {
            return Err(Error::invalid(
                "comparison.optimizers",
                "[]",
                "at least one value",
            ));
        }
        for s in &cc.optimizers {
            build_optimizer(&Spec::parse(s)?)?;
        }
        Ok(())
    }
}
