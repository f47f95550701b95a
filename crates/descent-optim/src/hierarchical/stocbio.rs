//! A fixed-step stochastic bilevel baseline in the style of StocBiO (Ji, Yang & Liang 2021;
//! spec §2.7): per outer step K SGD steps on the lower level, then the Neumann-series
//! hypergradient at the new y and an SGD step on x,
//!
//! ```text
//! repeat K times: y ← y − η_y ∇ᵧG(x, y; ζ)
//! x ← x − η_x ∇̄f(x, y)
//! ```
//!
//! With K = 1 it is the spec's single-loop baseline of R2 (η_y = 0.5, η_x = 0.2).

use descent_core::{Caps, Layout, Problem, Requires, Result, RngStreams, Spec};
use serde::{Deserialize, Serialize};

use super::neumann::{Neumann, NeumannScratch, Truncation, hashed_index};
use super::{bilevel, bilevel_dims, norm};
use crate::config::{AT_LEAST_ONE, Config, LEARNING_RATE, POSITIVE};
use crate::optimizer::{Optimizer, StepInfo};
use crate::registry::FromConfig;

crate::config! {
    /// The hyperparameters of [`StocBio`].
    #[derive(Copy)]
    pub struct StocBioConfig("stocbio") {
        /// Upper step η_x.
        eta_x: f64 = 0.1 => LEARNING_RATE;
        /// Lower step η_y.
        eta_y: f64 = 0.1 => LEARNING_RATE;
        /// Lower SGD steps K per outer step.
        inner_steps: usize = 1 => AT_LEAST_ONE;
        /// Neumann scale l >= the largest eigenvalue of the lower Hessian (a run errors when a Hessian
        /// sample shows a larger one).
        l: f64 = 1.0 => POSITIVE;
        /// Neumann terms N.
        terms: usize = 20 => AT_LEAST_ONE;
        /// Neumann truncation: deterministic (sum of N terms) or randomized (one term).
        truncation: Truncation = Truncation::Deterministic;
    }
}

impl StocBioConfig {
    /// The hypergradient estimator.
    pub fn neumann(&self) -> Neumann {
        Neumann {
            l: self.l,
            terms: self.terms,
            truncation: self.truncation,
        }
    }
}

/// The state of [`StocBio`]: steps taken and the parameter count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StocBioState {
    /// Steps taken.
    pub step: u64,
    /// The parameter count of z = (x, y).
    pub dim: usize,
}

/// The StocBiO-style baseline as an [`Optimizer`] over a bilevel problem; reports the extras
/// `hypergrad_norm` (‖∇̄f‖ of the step) and `max_rayleigh`.
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Problem, RngStreams, testfns::CosineBilevel};
/// use descent_optim::{StocBio, StocBioConfig, Optimizer, run};
///
/// // lower level g = ½(y − x)², upper level f = ½y²: y*(x) = x, Φ(x) = x²/2, minimum at x = 0
/// let mut problem = CosineBilevel::new(&[1.0], 0.0)?;
/// let mut z = vec![1.0, 0.0];
/// let mut opt = StocBio::new(StocBioConfig { eta_x: 0.5, eta_y: 0.5, ..Default::default() }, "stocbio")?;
/// opt.init(problem.layout(), &RngStreams::new(0))?;
/// run(&mut opt, &mut z, &mut problem, 500, |_| Continue(()))?;
/// assert!(z[0].abs() < 0.1 && z[1].abs() < 0.1, "{z:?}"); // from distance 1 to within 0.1
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct StocBio {
    config: StocBioConfig,
    name: String,
    seed: u64,
    st: StocBioState,
    h: Vec<f64>,
    gy: Vec<f64>,
    scratch: NeumannScratch,
}

impl StocBio {
    /// The baseline with these hyperparameters, reporting `name`.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(config: StocBioConfig, name: impl Into<String>) -> Result<Self> {
        config.validate()?;
        Ok(StocBio {
            config,
            name: name.into(),
            seed: 0,
            st: StocBioState::default(),
            h: Vec::new(),
            gy: Vec::new(),
            scratch: NeumannScratch::default(),
        })
    }
}

impl FromConfig for StocBio {
    type Config = StocBioConfig;
    fn from_config(cfg: StocBioConfig, spec: &Spec) -> Result<Self> {
        StocBio::new(cfg, spec.to_string())
    }
}

impl Optimizer for StocBio {
    crate::plumbing! { config: config, state: st, }

    fn requires(&self) -> Requires {
        Requires::all(Caps::BILEVEL)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn init(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        let n = layout.len();
        self.st = StocBioState { step: 0, dim: n };
        self.seed = streams.child_seed("neumann", 0);
        self.h = vec![0.0; n];
        self.gy = vec![0.0; n];
        Ok(())
    }

    fn step(&mut self, z: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        let dx = bilevel_dims(&self.name, problem, z.len(), self.st.dim)?;
        let c = self.config;
        let gy = &mut self.gy[dx..];
        for _ in 0..c.inner_steps {
            problem.resample();
            let (x, y) = z.split_at(dx);
            bilevel(problem).lower_grad_y(x, y, gy);
            for (yi, gi) in z[dx..].iter_mut().zip(gy.iter()) {
                *yi -= c.eta_y * gi;
            }
        }
        self.st.step += 1;
        let q = hashed_index(self.seed, self.st.step, 0, c.terms);
        let h = &mut self.h[..dx];
        let info = c
            .neumann()
            .estimate("stocbio", problem, z, dx, q, &mut self.scratch, h)?;
        for (xi, hi) in z[..dx].iter_mut().zip(h.iter()) {
            *xi -= c.eta_x * hi;
        }
        let mut out = StepInfo {
            loss: Some(info.upper),
            ..StepInfo::default()
        };
        out.extras.push("hypergrad_norm", norm(h));
        out.extras.push("max_rayleigh", info.max_rayleigh);
        Ok(out)
    }
}
