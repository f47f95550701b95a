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

use descent_core::{
    Caps, Error, Layout, Problem, Requires, Result, RngStreams, Spec, rng::splitmix64,
};

use crate::config::{AT_LEAST_ONE, Check, Config, NON_NEGATIVE, POSITIVE};
use crate::optimizer::{Optimizer, StepCount, StepInfo};
use crate::registry::FromConfig;

crate::spec_enum! {
    /// The outer step's convention (spec §2.4 "convention traps").
    pub enum OuterStep {
        /// x ← x − η (x − μ) (original `ucla-vision/entropy-sgd` code, without its Nesterov
        /// momentum).
        Plain = "plain",
        /// x ← x − η γ (x − μ), the exact gradient step on −F (RBO authors' JAX version).
        Scaled = "scaled",
    }
}

const OPEN_UNIT: Check = Check::new(|x| x > 0.0 && x <= 1.0, "a number in (0, 1]");

crate::config! {
    /// The hyperparameters of [`EntropySgd`]; the defaults are the convention P6's comparison R7
    /// was calibrated with (Chaudhari et al. use L = 20 and γ₁ = 1e-3).
    #[derive(Copy)]
    pub struct EntropySgdConfig("entropy_sgd") {
        /// Outer learning rate η.
        lr: f64 = 1.0 => POSITIVE;
        /// SGLD steps L per outer step (a fresh minibatch each).
        inner_steps: usize = 5 => AT_LEAST_ONE;
        /// SGLD step η′.
        inner_lr: f64 = 0.1 => POSITIVE;
        /// Thermal noise ε (the noise added is √η′ · ε · N(0, I)).
        noise: f64 = 1e-4 => NON_NEGATIVE;
        /// Weight α of the new sample in the running mean μ.
        alpha: f64 = 0.75 => OPEN_UNIT;
        /// Scope γ₀.
        gamma: f64 = 0.03 => NON_NEGATIVE;
        /// Scoping rate γ₁: γ_t = γ₀ (1 + γ₁)^t.
        gamma_growth: f64 = 0.0 => NON_NEGATIVE;
        /// Outer-step convention: plain x −= η(x − μ), scaled x −= ηγ(x − μ).
        outer: OuterStep = OuterStep::Plain;
    }
}

impl EntropySgdConfig {
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
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Problem, RngStreams, testfns::Quadratic};
/// use descent_optim::{EntropySgd, EntropySgdConfig, Optimizer, run};
///
/// let mut bowl = Quadratic::diagonal(&[1.0, 4.0], &[0.0, 0.0])?;
/// let mut x = vec![1.0, 1.0]; // f = 2.5
/// let cfg = EntropySgdConfig { lr: 1.0, inner_lr: 0.1, ..Default::default() };
/// let mut opt = EntropySgd::new(cfg, "entropy_sgd")?;
/// opt.init(bowl.layout(), &RngStreams::new(0))?;
/// let end = run(&mut opt, &mut x, &mut bowl, 100, |_| Continue(()))?;
/// assert!(end.final_loss().unwrap() < 1e-3);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct EntropySgd {
    config: EntropySgdConfig,
    name: String,
    seed: u64,
    st: StepCount,
    xp: Vec<f64>,
    mu: Vec<f64>,
    g: Vec<f64>,
}

impl EntropySgd {
    /// Entropy-SGD with these hyperparameters, reporting `name`.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(config: EntropySgdConfig, name: impl Into<String>) -> Result<Self> {
        config.validate()?;
        Ok(EntropySgd {
            config,
            name: name.into(),
            seed: 0,
            st: StepCount::default(),
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

impl FromConfig for EntropySgd {
    type Config = EntropySgdConfig;

    fn from_config(cfg: EntropySgdConfig, spec: &Spec) -> Result<Self> {
        EntropySgd::new(cfg, spec.to_string())
    }
}

impl Optimizer for EntropySgd {
    crate::plumbing! { config: config, state: st, }

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
        self.st = StepCount { step: 0, dim: n };
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
        let gamma = c.scope(self.st.step);
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
                    sd * hashed_normal(self.seed, self.st.step, l as u64, i as u64)
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
        self.st.step += 1;
        let mut info = StepInfo {
            loss: first_loss,
            ..StepInfo::default()
        };
        info.extras.push("scope", gamma);
        info.extras
            .push("inner_loss", loss_sum / c.inner_steps as f64);
        Ok(info)
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
