//! The typed configuration of the `hierarchical` experiment: the spec's small-scale design
//! (P4 §5, R1–R4) with the quick preset (what CI runs) and the full preset (more seeds, R2 at
//! the spec's T = 16k). The asserted thresholds were calibrated once in Rust with a 2× margin
//! (the calibration numbers are in the report's assumptions) and are frozen here.

use descent_core::{Error, Result, Spec};
use descent_optim::build_optimizer;
use serde::{Deserialize, Serialize};

use crate::experiment::PaperConfig;

/// R1: the paper's 1-D minimax f = cos x + xy − y²/2 with additive N(0, σ²) oracle noise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct R1Config {
    /// Iterations T.
    pub steps: u64,
    /// The shorter horizon of A3 (the metric's tail at this T of the same run).
    pub short_steps: u64,
    /// Seeds per (method, σ).
    pub seeds: usize,
    /// Noise levels σ (A1 and A4 read 0, 0.1, 1, 10; A5 reads 100).
    pub sigmas: Vec<f64>,
    /// Start (x₁, y₁).
    pub start: [f64; 2],
    /// Ada-Minimax with the one setting of A1.
    pub ada: String,
    /// Ada-Minimax's practical variant.
    pub practical: String,
    /// TiAda.
    pub tiada: String,
    /// SGDA with the step that does well at σ = 0 (A2).
    pub sgda_fast: String,
    /// SGDA with a small step.
    pub sgda_slow: String,
    /// Ada-Minimax with the paper's σ = 100 setting (A5).
    pub ada_large_noise: String,
    /// Record points per curve.
    pub points: usize,
}

impl Default for R1Config {
    fn default() -> Self {
        R1Config {
            steps: 32_000,
            short_steps: 2_000,
            seeds: 4,
            sigmas: vec![0.0, 0.1, 1.0, 10.0, 100.0],
            start: [2.0, 0.0],
            ada: "ada_minimax(alpha=2, eta_x=1, eta_y=1, gamma=1)".into(),
            practical: "ada_minimax(alpha=2, eta_x=1, eta_y=1, gamma=1, variant=practical, \
                        horizon=32000)"
                .into(),
            tiada: "tiada(eta_x=2.5, eta_y=2.5)".into(),
            sgda_fast: "sgda(eta_x=0.5, eta_y=0.5)".into(),
            sgda_slow: "sgda(eta_x=0.05, eta_y=0.05)".into(),
            ada_large_noise: "ada_minimax(alpha=5, eta_x=3, eta_y=3, gamma=1)".into(),
            points: 60,
        }
    }
}

/// R2: the synthetic bilevel problem (d = 10, A = diag(linspace(0.5, 2, 10)), f = Σ 2 cos x +
/// ½‖y‖²) with N(0, σ²) noise on the gradients and min(σ, 0.3) on the Hessian samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct R2Config {
    /// Dimension d of x and of y.
    pub dim: usize,
    /// Iterations T (the Neumann terms N follow from T, µ = 0.5, l = 2).
    pub steps: u64,
    /// Seeds per (method, σ).
    pub seeds: usize,
    /// Gradient noise levels σ.
    pub sigmas: Vec<f64>,
    /// The Hessian noise is min(σ, this cap).
    pub hessian_noise_cap: f64,
    /// l_{g,1} of the problem; the Neumann scale is l = l_{g,1} + l_noise_margin·σ_H.
    pub l: f64,
    /// The margin (in units of the Hessian noise σ_H) added to l, so that the sampled Hessians'
    /// spectra (about l_{g,1} + √2·σ_H) stay below it.
    pub l_noise_margin: f64,
    /// Ada-BiO with one setting (l and terms are appended).
    pub ada_bio: String,
    /// The fixed-step single-loop baseline (l and terms are appended).
    pub baseline: String,
    /// Ada-BiO with the randomised truncation (B4).
    pub ada_bio_randomized: String,
    /// Record points per curve (log-spaced).
    pub points: usize,
}

impl Default for R2Config {
    fn default() -> Self {
        R2Config {
            dim: 10,
            steps: 4_000,
            seeds: 3,
            sigmas: vec![0.0, 0.1, 1.0],
            hessian_noise_cap: 0.3,
            l: 2.0,
            l_noise_margin: 2.0,
            ada_bio: "ada_bio(alpha=1, eta_x=1, eta_y=1, gamma=1)".into(),
            baseline: "stocbio(eta_x=0.2, eta_y=0.5, inner_steps=1)".into(),
            ada_bio_randomized: "ada_bio(alpha=1, eta_x=1, eta_y=1, gamma=1, \
                                 truncation=randomized)"
                .into(),
            points: 50,
        }
    }
}

/// R3: mini deep AUC maximisation on synthetic imbalanced Gaussian data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct R3Config {
    /// Feature dimension.
    pub dim: usize,
    /// Training samples.
    pub n_train: usize,
    /// Test samples.
    pub n_test: usize,
    /// Fraction of positives (the LibAUC convention: p = 0.1).
    pub positive_fraction: f64,
    /// Class means ±shift·1.
    pub shift: f64,
    /// Hidden width of the tanh scorer (0: a linear scorer σ(wᵀx + b₀)).
    pub hidden: usize,
    /// Epochs per run.
    pub epochs: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Seeds per (method, grid point).
    pub seeds: usize,
    /// The baselines' step grid (η_x = η_y).
    pub grid: Vec<f64>,
    /// Ada-Minimax (practical) with the spec's single untuned setting.
    pub ada: String,
}

impl Default for R3Config {
    fn default() -> Self {
        R3Config {
            dim: 20,
            n_train: 3200,
            n_test: 800,
            positive_fraction: 0.1,
            shift: 0.5,
            hidden: 0,
            epochs: 20,
            batch: 32,
            seeds: 2,
            grid: vec![0.001, 0.01, 0.1, 1.0],
            ada: "ada_minimax(alpha=0.5, gamma=0.1, eta_x=0.01, eta_y=0.01, variant=practical)"
                .into(),
        }
    }
}

/// R4: per-feature L2 hyper-parameters of a logistic regression, learned on the validation loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct R4Config {
    /// Feature dimension (one L2 hyper-parameter each).
    pub dim: usize,
    /// Features with a nonzero true weight.
    pub informative: usize,
    /// Training samples (the lower level's loss).
    pub n_train: usize,
    /// Validation samples (the upper level's loss).
    pub n_val: usize,
    /// Minibatch size of both levels (≥ n: full batch).
    pub batch: usize,
    /// Outer steps.
    pub steps: u64,
    /// Seeds per method.
    pub seeds: usize,
    /// Neumann scale and terms.
    pub l: f64,
    /// Neumann terms N.
    pub terms: usize,
    /// The Ada-BiO spec (l and terms are appended).
    pub ada_bio: String,
    /// The fixed-step baseline's spec (l and terms are appended).
    pub baseline: String,
}

impl Default for R4Config {
    fn default() -> Self {
        R4Config {
            dim: 20,
            informative: 5,
            n_train: 500,
            n_val: 500,
            batch: 500,
            steps: 300,
            seeds: 2,
            l: 30.0,
            terms: 100,
            ada_bio: "ada_bio(alpha=1, eta_x=0.3, eta_y=1, gamma=1)".into(),
            baseline: "stocbio(eta_x=1, eta_y=0.05, inner_steps=10)".into(),
        }
    }
}

/// The experiment's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// R1: the minimax problem.
    pub r1: R1Config,
    /// R2: the bilevel problem.
    pub r2: R2Config,
    /// R3: deep AUC maximisation.
    pub r3: R3Config,
    /// R4: hyper-parameter learning.
    pub r4: R4Config,
}

fn at_least_one(field: &str, v: usize) -> Result<()> {
    if v == 0 {
        return Err(Error::invalid(field, 0, "an integer >= 1"));
    }
    Ok(())
}

fn sigmas(field: &str, v: &[f64], required: &[f64]) -> Result<()> {
    if let Some(bad) = v.iter().find(|s| !(s.is_finite() && **s >= 0.0)) {
        return Err(Error::invalid(field, bad, "finite noise levels >= 0"));
    }
    if let Some(missing) = required.iter().find(|r| !v.contains(r)) {
        return Err(Error::invalid(
            field,
            format!("{v:?}"),
            format!("a list containing {missing} (the claims read it)"),
        ));
    }
    Ok(())
}

fn spec(field: &str, text: &str) -> Result<()> {
    build_optimizer(&Spec::parse(text)?)
        .map(|_| ())
        .map_err(|e| Error::invalid(field, text, format!("an optimizer spec ({e})")))
}

impl PaperConfig for Config {
    fn quick() -> Self {
        Config::default()
    }

    fn full() -> Self {
        let mut c = Config::default();
        c.r1.seeds = 8;
        c.r2.steps = 16_000;
        c.r2.seeds = 4;
        c.r3.seeds = 3;
        c.r4.seeds = 3;
        c
    }

    fn validate(&self) -> Result<()> {
        let (r1, r2, r3, r4) = (&self.r1, &self.r2, &self.r3, &self.r4);
        for (f, v) in [
            ("r1.seeds", r1.seeds),
            ("r2.seeds", r2.seeds),
            ("r3.seeds", r3.seeds),
            ("r4.seeds", r4.seeds),
            ("r3.epochs", r3.epochs),
            ("r3.batch", r3.batch),
            ("r4.batch", r4.batch),
            ("r4.terms", r4.terms),
            ("r4.informative", r4.informative),
        ] {
            at_least_one(f, v)?;
        }
        if r1.steps < 20 || r1.short_steps < 10 || r1.short_steps >= r1.steps {
            return Err(Error::invalid(
                "r1.short_steps",
                r1.short_steps,
                format!(
                    "an integer in [10, r1.steps = {}) with r1.steps >= 20",
                    r1.steps
                ),
            ));
        }
        if r1.points < 2 || r2.points < 2 {
            return Err(Error::invalid(
                "r1.points",
                r1.points.min(r2.points),
                "at least 2",
            ));
        }
        sigmas("r1.sigmas", &r1.sigmas, &[0.0, 0.1, 1.0, 10.0, 100.0])?;
        sigmas("r2.sigmas", &r2.sigmas, &[0.0, 0.1, 1.0])?;
        if r2.dim < 2 {
            return Err(Error::invalid("r2.dim", r2.dim, "an integer >= 2"));
        }
        if r2.steps < 10 || r4.steps < 10 {
            return Err(Error::invalid(
                "r2.steps",
                r2.steps.min(r4.steps),
                "at least 10",
            ));
        }
        for (f, v) in [("r2.l", r2.l), ("r4.l", r4.l), ("r3.shift", r3.shift)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(f, v, "a finite number > 0"));
            }
        }
        for (f, v) in [
            ("r2.hessian_noise_cap", r2.hessian_noise_cap),
            ("r2.l_noise_margin", r2.l_noise_margin),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(f, v, "a finite number >= 0"));
            }
        }
        let p = r3.positive_fraction;
        if !(p > 0.0 && p < 1.0) {
            return Err(Error::invalid(
                "r3.positive_fraction",
                p,
                "a number in (0, 1)",
            ));
        }
        if (r3.n_train as f64 * p) < 2.0 || (r3.n_test as f64 * p) < 2.0 || r3.dim == 0 {
            return Err(Error::invalid(
                "r3.n_test",
                r3.n_test,
                "enough samples for at least 2 positives in each split (and r3.dim >= 1)",
            ));
        }
        if r3.grid.is_empty() || r3.grid.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(Error::invalid(
                "r3.grid",
                format!("{:?}", r3.grid),
                "at least one finite step > 0",
            ));
        }
        if r4.informative > r4.dim || r4.n_train < 10 || r4.n_val < 10 {
            return Err(Error::invalid(
                "r4.informative",
                r4.informative,
                format!(
                    "at most r4.dim = {}, with at least 10 samples per split",
                    r4.dim
                ),
            ));
        }
        for (f, t) in [
            ("r1.ada", &r1.ada),
            ("r1.practical", &r1.practical),
            ("r1.tiada", &r1.tiada),
            ("r1.sgda_fast", &r1.sgda_fast),
            ("r1.sgda_slow", &r1.sgda_slow),
            ("r1.ada_large_noise", &r1.ada_large_noise),
            ("r2.ada_bio", &r2.ada_bio),
            ("r2.baseline", &r2.baseline),
            ("r2.ada_bio_randomized", &r2.ada_bio_randomized),
            ("r3.ada", &r3.ada),
            ("r4.ada_bio", &r4.ada_bio),
            ("r4.baseline", &r4.baseline),
        ] {
            spec(f, t)?;
        }
        Ok(())
    }
}
