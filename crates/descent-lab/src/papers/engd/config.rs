//! The typed config of `engd`: problem A (2-D Poisson) for checks 1–10, and the optional problems
//! B (5-D Poisson) and C (heat in 1+2 D) of the paper's small-scale reproduction.

use descent_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::experiment::PaperConfig;

/// One PINN problem: the tanh MLP, the collocation batch (resampled every step), the fixed
/// evaluation set and the step budgets of its runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ProblemConfig {
    /// Hidden layer widths of the tanh MLP.
    pub hidden: Vec<usize>,
    /// Interior collocation points per step N_Ω.
    pub interior: usize,
    /// Boundary (and initial) points per step N_∂.
    pub condition: usize,
    /// Fixed evaluation points for the L2 error (10·N_Ω, as the authors' code).
    pub eval: usize,
    /// Steps of the natural-gradient methods.
    pub steps: usize,
    /// Damping λ of ENGD-W and SPRING.
    pub damping: f64,
    /// SPRING momenta μ.
    pub momenta: Vec<f64>,
    /// Adam steps (learning rate: [`Config::adam_lr`]).
    pub adam_steps: usize,
}

impl Default for ProblemConfig {
    fn default() -> Self {
        ProblemConfig {
            hidden: vec![32, 32],
            interior: 300,
            condition: 100,
            eval: 3000,
            steps: 150,
            damping: 1e-8,
            momenta: vec![0.5, 0.9],
            adam_steps: 2000,
        }
    }
}

impl ProblemConfig {
    /// Checks the fields; `field` is the section's name (`a`, `b` or `c`).
    fn validate(&self, field: &str) -> Result<()> {
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err(Error::invalid(
                format!("{field}.hidden"),
                format!("{:?}", self.hidden),
                "at least one hidden width, each >= 1",
            ));
        }
        for (name, v) in [
            ("interior", self.interior),
            ("condition", self.condition),
            ("eval", self.eval),
        ] {
            if v == 0 {
                return Err(Error::invalid(format!("{field}.{name}"), v, "at least 1"));
            }
        }
        if !(self.damping >= 0.0 && self.damping.is_finite()) {
            return Err(Error::invalid(
                format!("{field}.damping"),
                self.damping,
                "a finite number >= 0",
            ));
        }
        if let Some(mu) = self.momenta.iter().find(|m| !(0.0..1.0).contains(*m)) {
            return Err(Error::invalid(
                format!("{field}.momenta"),
                mu,
                "SPRING momenta in [0, 1)",
            ));
        }
        Ok(())
    }
}

/// Configuration of `engd` (every field defaulted).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Problem A: 2-D Poisson, sin product.
    pub a: ProblemConfig,
    /// Model seeds for the accuracy check (check 7: median over them, and each at step 60).
    pub model_seeds: usize,
    /// ENGD-W steps with λ = 1e-6 (check 7, second part).
    pub steps_lambda_1e6: usize,
    /// ENGD vs ENGD-W trajectory steps (check 5, λ = 1e-6).
    pub equivalence_steps: usize,
    /// Steps at which SPRING is compared with ENGD-W (check 9).
    pub spring_steps: usize,
    /// Nyström sketch size ℓ of the reported runs.
    pub nystrom_rank: usize,
    /// Nyström dampings λ of the reported runs.
    pub nystrom_dampings: Vec<f64>,
    /// Steps of the Nyström runs.
    pub nystrom_steps: usize,
    /// Adam learning rate (baseline, check 8).
    pub adam_lr: f64,
    /// L-BFGS steps (baseline).
    pub lbfgs_steps: usize,
    /// Run problems B (5-D Poisson) and C (1+2-D heat) as well.
    pub problems_bc: bool,
    /// Problem B: 5-D Poisson, cos sum.
    pub b: ProblemConfig,
    /// Problem C: heat equation, 2 space dimensions, sin product.
    pub c: ProblemConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            a: ProblemConfig::default(),
            model_seeds: 3,
            steps_lambda_1e6: 60,
            equivalence_steps: 30,
            spring_steps: 100,
            nystrom_rank: 100,
            nystrom_dampings: vec![1e-4, 1e-2],
            nystrom_steps: 60,
            adam_lr: 1e-3,
            lbfgs_steps: 200,
            problems_bc: false,
            b: ProblemConfig {
                steps: 300,
                ..ProblemConfig::default()
            },
            c: ProblemConfig {
                steps: 200,
                ..ProblemConfig::default()
            },
        }
    }
}

impl Config {
    /// Steps of the ENGD-W runs at problem A's damping (checks 7 and 9 read steps 60, 100, 150
    /// and `spring_steps` of them).
    pub fn engd_w_steps(&self) -> usize {
        self.a.steps.max(self.spring_steps)
    }

    /// Steps of the ENGD-W run at λ = 1e-6 (checks 5 and 7).
    pub fn engd_w_lambda_1e6_steps(&self) -> usize {
        self.steps_lambda_1e6.max(self.equivalence_steps)
    }
}

impl PaperConfig for Config {
    /// Problem A with three model seeds: checks 1–10 in about 45 s on 2 cores.
    fn quick() -> Self {
        Config::default()
    }

    /// Problem A with 300 ENGD-W steps, longer L-BFGS and Nyström runs, and problems B and C.
    fn full() -> Self {
        Config {
            problems_bc: true,
            model_seeds: 3,
            a: ProblemConfig {
                steps: 300,
                ..ProblemConfig::default()
            },
            lbfgs_steps: 1000,
            nystrom_steps: 150,
            ..Config::default()
        }
    }

    fn validate(&self) -> Result<()> {
        self.a.validate("a")?;
        if self.problems_bc {
            self.b.validate("b")?;
            self.c.validate("c")?;
        }
        if self.model_seeds == 0 {
            return Err(Error::invalid("model_seeds", 0, "at least 1"));
        }
        let need = 150.max(self.spring_steps).max(100);
        if self.engd_w_steps() < need {
            return Err(Error::invalid(
                "a.steps",
                self.a.steps,
                format!(
                    "at least {need} (checks 7-9 read step 150 and step {})",
                    self.spring_steps
                ),
            ));
        }
        if self.steps_lambda_1e6 < 60 {
            return Err(Error::invalid(
                "steps_lambda_1e6",
                self.steps_lambda_1e6,
                "at least 60 (check 7 reads step 60)",
            ));
        }
        if self.equivalence_steps == 0 {
            return Err(Error::invalid("equivalence_steps", 0, "at least 1"));
        }
        if self.nystrom_steps > self.engd_w_steps() {
            return Err(Error::invalid(
                "nystrom_steps",
                self.nystrom_steps,
                format!("at most a.steps = {}", self.a.steps),
            ));
        }
        let n = self.a.interior + self.a.condition;
        if n < 8 {
            return Err(Error::invalid(
                "a.interior",
                self.a.interior,
                "a.interior + a.condition >= 8 (check 10 sketches N/8 columns)",
            ));
        }
        if self.nystrom_rank == 0 || self.nystrom_rank > n {
            return Err(Error::invalid(
                "nystrom_rank",
                self.nystrom_rank,
                format!("a sketch size in [1, a.interior + a.condition = {n}]"),
            ));
        }
        if let Some(l) = self
            .nystrom_dampings
            .iter()
            .find(|l| !(**l > 0.0 && l.is_finite()))
        {
            return Err(Error::invalid(
                "nystrom_dampings",
                l,
                "finite numbers > 0 (the Nyström inverse divides by λ)",
            ));
        }
        if !(self.adam_lr > 0.0 && self.adam_lr.is_finite()) {
            return Err(Error::invalid(
                "adam_lr",
                self.adam_lr,
                "a finite number > 0",
            ));
        }
        if self.a.adam_steps == 0 {
            return Err(Error::invalid("a.adam_steps", 0, "at least 1"));
        }
        Ok(())
    }
}
