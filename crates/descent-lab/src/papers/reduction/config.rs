//! The typed configuration of the `reduction` experiment (P5 §5): E2 least squares, E3 matrix
//! factorisation, the neural case, and the curvature probe's zero threshold. E1 (the toy) and E4
//! (the formulas) have no settings: their cases are the spec's.

use descent_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::experiment::PaperConfig;

/// E2, least squares ½‖Ax − b‖² with A = U diag(s) Vᵀ of rank `rows` < `cols`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct E2Config {
    /// The conditioning targets κ₀: s is log-spaced from 1 to 1/√κ₀, so κ_f = κ₀.
    pub kappas: Vec<f64>,
    /// A is rows × cols (rank rows; the solution set has dimension cols − rows).
    pub rows: usize,
    /// Columns of A.
    pub cols: usize,
    /// x₁ is the first n1 coordinates, x₂ the rest.
    pub n1: usize,
    /// Problem draws per κ₀ (seeds 5·run_seed + k, k < seeds: run seed 0 is the spec's 0..4).
    pub seeds: usize,
    /// Stop when f − f* ≤ tol·(f₀ − f*).
    pub tol: f64,
    /// Give up after this many steps (the count is then NaN and the claims on it fail).
    pub max_steps: u64,
    /// Entries of the random affine map's matrix are N(0, random_scale²/n1).
    pub random_scale: f64,
}

impl Default for E2Config {
    fn default() -> Self {
        E2Config {
            kappas: vec![100.0, 1000.0],
            rows: 30,
            cols: 40,
            n1: 20,
            seeds: 5,
            tol: 1e-10,
            max_steps: 50_000,
            random_scale: 1.0,
        }
    }
}

/// E3, matrix factorisation ½‖UVᵀ − Y‖² with Y = P diag(σ) Qᵀ of rank 2, V eliminated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct E3Config {
    /// The singular values (σ₁, σ₂) of each case.
    pub sigmas: Vec<[f64; 2]>,
    /// Y is m × n.
    pub m: usize,
    /// Columns of Y.
    pub n: usize,
    /// The start U₀ = U* + delta·N(0, 1) (f starts at (U₀, Ψ(U₀))).
    pub delta: f64,
    /// Extra starting distances, reported only (the spec's δ = 0.3 row).
    pub extra_deltas: Vec<f64>,
    /// Problem draws per case (seeds 5·run_seed + k).
    pub seeds: usize,
    /// Stop when f − f* ≤ tol·(f₀ − f*).
    pub tol: f64,
    /// Step cap of every run.
    pub max_steps: u64,
}

impl Default for E3Config {
    fn default() -> Self {
        E3Config {
            sigmas: vec![[1.0, 0.3], [1.0, 0.1]],
            m: 8,
            n: 6,
            delta: 0.1,
            extra_deltas: Vec::new(),
            seeds: 5,
            tol: 1e-12,
            max_steps: 20_000,
        }
    }
}

/// The neural case the paper only discusses: a tanh MLP regression on a teacher network,
/// trained plainly (GD, Adam) and with its linear head eliminated by variable projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NeuralConfig {
    /// Run it at all.
    pub enabled: bool,
    /// Input dimension and hidden width of the teacher (tanh, one output).
    pub dim: usize,
    /// Hidden width of the teacher.
    pub teacher_hidden: usize,
    /// Label noise of the teacher.
    pub noise: f64,
    /// Training samples (full batch).
    pub samples: usize,
    /// Hidden widths of the student (tanh); its head is linear with one output.
    pub hidden: Vec<usize>,
    /// Ridge λ on the head's weights (the same objective for both problems).
    pub ridge: f64,
    /// Steps of every run.
    pub steps: u64,
    /// Curve points (the run is cut into this many equal pieces).
    pub points: usize,
    /// GD's step is gd_scale / λ_max(∇²) of its problem at the initial point.
    pub gd_scale: f64,
    /// Adam's learning rate on both problems.
    pub adam_lr: f64,
}

impl Default for NeuralConfig {
    fn default() -> Self {
        NeuralConfig {
            enabled: true,
            dim: 5,
            teacher_hidden: 8,
            noise: 0.05,
            samples: 200,
            hidden: vec![16, 16],
            ridge: 1e-4,
            steps: 600,
            points: 30,
            gd_scale: 1.0,
            adam_lr: 1e-2,
        }
    }
}

/// The configuration of the `reduction` experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// E2: least squares.
    pub e2: E2Config,
    /// E3: matrix factorisation.
    pub e3: E3Config,
    /// The neural check (variable projection of an MLP's head).
    pub neural: NeuralConfig,
    /// |λ| ≤ zero_tol·max|λ| counts as a zero eigenvalue (spec §5: 1e-6).
    pub zero_tol: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            e2: E2Config::default(),
            e3: E3Config::default(),
            neural: NeuralConfig::default(),
            zero_tol: 1e-6,
        }
    }
}

fn at_least(field: &str, v: u64, min: u64) -> Result<()> {
    if v < min {
        return Err(Error::invalid(field, v, format!("an integer >= {min}")));
    }
    Ok(())
}

fn positive(field: &str, v: f64) -> Result<()> {
    if !(v > 0.0 && v.is_finite()) {
        return Err(Error::invalid(field, v, "a finite number > 0"));
    }
    Ok(())
}

fn tolerance(field: &str, v: f64) -> Result<()> {
    if !(v > 0.0 && v < 1.0) {
        return Err(Error::invalid(field, v, "a number in (0, 1)"));
    }
    Ok(())
}

impl E2Config {
    fn validate(&self) -> Result<()> {
        if self.kappas.is_empty() {
            return Err(Error::invalid("e2.kappas", "[]", "at least one κ₀ >= 1"));
        }
        if let Some(k) = self.kappas.iter().find(|k| !(**k >= 1.0 && k.is_finite())) {
            return Err(Error::invalid("e2.kappas", k, "condition numbers >= 1"));
        }
        at_least("e2.rows", self.rows as u64, 2)?;
        if self.cols <= self.rows {
            return Err(Error::invalid(
                "e2.cols",
                self.cols,
                format!(
                    "more columns than rows ({}) so that the solutions form a manifold",
                    self.rows
                ),
            ));
        }
        if self.n1 == 0 || self.n1 >= self.cols || self.cols - self.n1 > self.rows {
            return Err(Error::invalid(
                "e2.n1",
                self.n1,
                format!(
                    "in [{}, {}): x2 = the other columns must fit in the {} rows (full column rank)",
                    (self.cols - self.rows).max(1),
                    self.cols,
                    self.rows
                ),
            ));
        }
        at_least("e2.seeds", self.seeds as u64, 1)?;
        at_least("e2.max_steps", self.max_steps, 1)?;
        tolerance("e2.tol", self.tol)?;
        positive("e2.random_scale", self.random_scale)
    }
}

impl E3Config {
    fn validate(&self) -> Result<()> {
        if self.sigmas.is_empty() {
            return Err(Error::invalid("e3.sigmas", "[]", "at least one (σ₁, σ₂)"));
        }
        if let Some(s) = self
            .sigmas
            .iter()
            .find(|s| !(s[0] >= s[1] && s[1] > 0.0 && s[0].is_finite()))
        {
            return Err(Error::invalid(
                "e3.sigmas",
                format!("[{}, {}]", s[0], s[1]),
                "σ₁ >= σ₂ > 0",
            ));
        }
        at_least("e3.m", self.m as u64, 3)?;
        at_least("e3.n", self.n as u64, 3)?;
        at_least("e3.seeds", self.seeds as u64, 1)?;
        at_least("e3.max_steps", self.max_steps, 1)?;
        positive("e3.delta", self.delta)?;
        if let Some(d) = self
            .extra_deltas
            .iter()
            .find(|d| !(**d > 0.0 && d.is_finite()))
        {
            return Err(Error::invalid("e3.extra_deltas", d, "finite numbers > 0"));
        }
        tolerance("e3.tol", self.tol)
    }
}

impl NeuralConfig {
    fn validate(&self) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        at_least("neural.dim", self.dim as u64, 1)?;
        at_least("neural.samples", self.samples as u64, 2)?;
        at_least("neural.steps", self.steps, 1)?;
        at_least("neural.points", self.points as u64, 1)?;
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err(Error::invalid(
                "neural.hidden",
                format!("{:?}", self.hidden),
                "at least one hidden width, each >= 1",
            ));
        }
        if !(self.noise >= 0.0 && self.noise.is_finite()) {
            return Err(Error::invalid(
                "neural.noise",
                self.noise,
                "a finite number >= 0",
            ));
        }
        positive("neural.ridge", self.ridge)?;
        positive("neural.gd_scale", self.gd_scale)?;
        positive("neural.adam_lr", self.adam_lr)
    }
}

impl PaperConfig for Config {
    /// The spec's E1–E4 (E2/E3 over 5 problem seeds) and a small neural case.
    fn quick() -> Self {
        Config::default()
    }

    /// Adds E3's δ = 0.3 start (reported) and a longer neural run on a wider student.
    fn full() -> Self {
        Config {
            e3: E3Config {
                extra_deltas: vec![0.3],
                ..E3Config::default()
            },
            neural: NeuralConfig {
                hidden: vec![32, 32],
                samples: 400,
                steps: 3000,
                points: 60,
                ..NeuralConfig::default()
            },
            ..Config::default()
        }
    }

    fn validate(&self) -> Result<()> {
        if !(self.zero_tol > 0.0 && self.zero_tol < 1.0) {
            return Err(Error::invalid(
                "zero_tol",
                self.zero_tol,
                "a number in (0, 1)",
            ));
        }
        self.e2.validate()?;
        self.e3.validate()?;
        self.neural.validate()
    }
}
