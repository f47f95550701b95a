//! Entropy-SGD (Chaudhari et al., ICLR 2017): descent on the negative local entropy
//! −F(x; γ), F(x; γ) = log ∫ exp(−f(x′) − γ/2 ‖x − x′‖²) dx′, whose gradient γ(x − ⟨x′⟩) is
//! estimated by an SGLD inner loop (their Algorithm 1; P6 spec §2.4):
//!
//! ```text
//! x′ ← x; μ ← x
//! for l = 1..L:                                  fresh minibatch each l
//!     d  = ∇f_B(x′) − γ (x − x′)
//!     x′ ← x′ − η′ d + √η′ · ε · N(0, I)
//!     μ  ← (1 − α) μ + α x′
//! x ← x − η (x − μ)            (outer = plain, the original code's convention; default)
//! x ← x − η γ (x − μ)          (outer = scaled, the RBO authors' JAX version, ∇(−F) exactly)
//! ```
//!
//! with the scope γ_t = γ₀ (1 + γ₁)^t growing with the outer step t ("scoping"). The defaults
//! are the convention P6's comparison R7 was calibrated with: η = 1, L = 5, η′ = 0.1, ε = 1e-4,
//! α = 0.75, γ₀ = 0.03, γ₁ = 0, outer = plain. (Chaudhari et al. use L = 20 and γ₁ = 1e-3.)
//!
//! The noise is a counter-based hash of (seed, step, inner step, index), so the state is just
//! the step counter and a resumed run continues bit-identically. A step costs L gradients.

use descent_core::{Caps, Error, Layout, Problem, Requires, Result, RngStreams, rng::splitmix64};

use crate::optimizer::{Optimizer, OptimizerState, StepInfo};
use crate::transform::TransformState;

/// The outer step's convention (spec §2.4 "convention traps").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OuterStep {
    /// x ← x − η (x − μ) (original `ucla-vision/entropy-sgd` code, without its Nesterov momentum).
    Plain,
    /// x ← x − η γ (x − μ), the exact gradient step on −F (RBO authors' JAX version).
    Scaled,
}

/// The hyperparameters of [`EntropySgd`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntropySgdConfig {
    /// Outer learning rate η.
    pub lr: f64,
    /// SGLD steps L per outer step.
    pub inner_steps: usize,
    /// SGLD step η′.
    pub inner_lr: f64,
    /// Thermal noise ε (the noise added is √η′ · ε · N(0, I)).
    pub noise: f64,
    /// Weight α of the new sample in the running mean μ.
    pub alpha: f64,
    /// Scope γ₀.
    pub gamma: f64,
    /// Scoping rate γ₁: γ_t = γ₀ (1 + γ₁)^t.
    pub gamma_growth: f64,
    /// Outer-step convention.
    pub outer: OuterStep,
}

impl Default for EntropySgdConfig {
    fn default() -> Self {
        EntropySgdConfig {
            lr: 1.0,
            inner_steps: 5,
            inner_lr: 0.1,
            noise: 1e-4,
            alpha: 0.75,
            gamma: 0.03,
            gamma_growth: 0.0,
            outer: OuterStep::Plain,
        }
    }
}

impl EntropySgdConfig {
    /// Checks every field; errors name `entropy_sgd.<field>`.
    pub fn validate(&self) -> Result<()> {
        for (field, v) in [
            ("entropy_sgd.lr", self.lr),
            ("entropy_sgd.inner_lr", self.inner_lr),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::invalid(field, v, "a finite number > 0"));
            }
        }
        for (field, v) in [
            ("entropy_sgd.noise", self.noise),
            ("entropy_sgd.gamma", self.gamma),
            ("entropy_sgd.gamma_growth", self.gamma_growth),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(Error::invalid(field, v, "a finite number >= 0"));
            }
        }
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(Error::invalid(
                "entropy_sgd.alpha",
                self.alpha,
                "a number in (0, 1]",
            ));
        }
        if self.inner_steps == 0 {
            return Err(Error::invalid(
                "entropy_sgd.inner_steps",
                0,
                "an integer >= 1",
            ));
        }
        Ok(())
    }

    /// The scope γ_t at outer step t (0-based).
    pub fn scope(&self, t: u64) -> f64 {
        self.gamma * (1.0 + self.gamma_growth).powf(t as f64)
    }
}

/// A standard normal number determined by (seed, step, inner, index): Box–Muller on two
/// splitmix64 hashes.
pub fn hashed_normal(seed: u64, step: u64, inner: u64, index: u64) -> f64 {
    let k = splitmix64(seed ^ splitmix64(step ^ splitmix64(inner ^ splitmix64(index))));
    let a = splitmix64(k);
    let b = splitmix64(k ^ 0x5851_f42d_4c95_7f2d);
    let u1 = ((a >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let u2 = (b >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Entropy-SGD as an [`Optimizer`]. Reports the extras `scope` (γ_t) and `inner_loss` (the
/// mean minibatch loss over the SGLD loop).
pub struct EntropySgd {
    config: EntropySgdConfig,
    name: String,
    seed: u64,
    step: u64,
    xp: Vec<f64>,
    mu: Vec<f64>,
    g: Vec<f64>,
}

impl EntropySgd {
    /// Entropy-SGD with these hyperparameters, reporting `name`.
    pub fn new(config: EntropySgdConfig, name: impl Into<String>) -> Result<Self> {
        config.validate()?;
        Ok(EntropySgd {
            config,
            name: name.into(),
            seed: 0,
            step: 0,
            xp: Vec::new(),
            mu: Vec::new(),
            g: Vec::new(),
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> EntropySgdConfig {
        self.config
    }
}

impl Optimizer for EntropySgd {
    fn requires(&self) -> Requires {
        Requires::all(Caps::GRADIENT)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn init(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        let n = layout.len();
        self.xp = vec![0.0; n];
        self.mu = vec![0.0; n];
        self.g = vec![0.0; n];
        self.seed = streams.child_seed("noise", 0);
        self.step = 0;
        Ok(())
    }

    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        if x.len() != self.g.len() {
            return Err(Error::shape(
                format!(
                    "parameters of '{}' (was init called with this layout?)",
                    self.name
                ),
                self.g.len(),
                x.len(),
            ));
        }
        self.requires().check(&self.name, problem)?;
        let c = self.config;
        let gamma = c.scope(self.step);
        let sd = c.inner_lr.sqrt() * c.noise;
        self.xp.copy_from_slice(x);
        self.mu.copy_from_slice(x);
        let mut first_loss = None;
        let mut loss_sum = 0.0;
        for l in 0..c.inner_steps {
            problem.resample();
            let f = problem.as_gradient().expect("requires() checked Gradient");
            let loss = f.value_grad(&self.xp, &mut self.g);
            first_loss.get_or_insert(loss);
            loss_sum += loss;
            for (i, ((xp, gi), (xi, mu))) in self
                .xp
                .iter_mut()
                .zip(&self.g)
                .zip(x.iter().zip(self.mu.iter_mut()))
                .enumerate()
            {
                let d = gi - gamma * (xi - *xp);
                let noise = if sd > 0.0 {
                    sd * hashed_normal(self.seed, self.step, l as u64, i as u64)
                } else {
                    0.0
                };
                *xp += -c.inner_lr * d + noise;
                *mu = (1.0 - c.alpha) * *mu + c.alpha * *xp;
            }
        }
        let eta = match c.outer {
            OuterStep::Plain => c.lr,
            OuterStep::Scaled => c.lr * gamma,
        };
        for (xi, mu) in x.iter_mut().zip(&self.mu) {
            *xi -= eta * (*xi - mu);
        }
        self.step += 1;
        let mut info = StepInfo {
            loss: first_loss,
            ..StepInfo::default()
        };
        info.extras.push("scope", gamma);
        info.extras
            .push("inner_loss", loss_sum / c.inner_steps as f64);
        Ok(info)
    }

    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        let mut c = self.config;
        match name {
            "lr" => c.lr = value,
            "inner_lr" => c.inner_lr = value,
            "gamma" => c.gamma = value,
            "noise" => c.noise = value,
            _ => {
                return Err(crate::transform::unknown_hyper(
                    &self.name,
                    name,
                    &["lr", "inner_lr", "gamma", "noise"],
                ));
            }
        }
        c.validate()?;
        self.config = c;
        Ok(())
    }

    fn state(&self) -> OptimizerState {
        TransformState::new("entropy_sgd")
            .with_scalar("dim", self.g.len() as f64)
            .with_scalar("step", self.step as f64)
            .with_scalar("lr", self.config.lr)
            .with_scalar("inner_lr", self.config.inner_lr)
            .with_scalar("gamma", self.config.gamma)
            .with_scalar("noise", self.config.noise)
    }

    fn load_state(&mut self, s: &OptimizerState) -> Result<()> {
        s.expect_kind("entropy_sgd")?;
        let dim = s.scalar("dim")?;
        if dim != self.g.len() as f64 {
            return Err(Error::shape(
                format!("state of '{}' (parameter count)", self.name),
                self.g.len(),
                dim,
            ));
        }
        let step = s.scalar("step")?;
        if !(step >= 0.0 && step.fract() == 0.0) {
            return Err(Error::invalid(
                "entropy_sgd state step",
                step,
                "a non-negative integer",
            ));
        }
        let c = EntropySgdConfig {
            lr: s.scalar("lr")?,
            inner_lr: s.scalar("inner_lr")?,
            gamma: s.scalar("gamma")?,
            noise: s.scalar("noise")?,
            ..self.config
        };
        c.validate()?;
        self.config = c;
        self.step = step as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_normal_has_unit_moments() {
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|i| hashed_normal(7, 3, 1, i)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
        assert!(m.abs() < 0.01, "{m}");
        assert!((v - 1.0).abs() < 0.01, "{v}");
    }
}
