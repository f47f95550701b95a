//! TiAda (Li, Yang & He, "TiAda: A Time-scale Adaptive Algorithm for Nonconvex Minimax
//! Optimization", ICLR 2023), P4's adaptive baseline, in the norm form of the public reference
//! code (spec §2.7): with v^x ← v^x + ‖g_x‖² and v^y ← v^y + ‖g_y‖² (from 0, current step
//! included),
//!
//! ```text
//! x ← x − η_x g_x / (max(v^x, v^y)^α + ε),   y ← y + η_y g_y / ((v^y)^β + ε)
//! ```
//!
//! with (α, β) = (0.6, 0.4) and ε = 1e-10. The max in x's denominator is the time-scale
//! adaptation: x slows down until y's accumulator dominates.

use descent_core::{Caps, Layout, Problem, Requires, Result, RngStreams, Spec};
use serde::{Deserialize, Serialize};

use super::minimax_view;
use crate::config::{Config, LEARNING_RATE, NON_NEGATIVE, UNIT};
use crate::optimizer::{Optimizer, StepInfo};
use crate::registry::FromConfig;

crate::config! {
    /// The hyperparameters of [`TiAda`].
    #[derive(Copy)]
    pub struct TiAdaConfig("tiada") {
        /// Step η_x of the min player x.
        eta_x: f64 = 0.1 => LEARNING_RATE;
        /// Step η_y of the max player y.
        eta_y: f64 = 0.1 => LEARNING_RATE;
        /// Exponent α of x's denominator max(v^x, v^y)^α.
        alpha: f64 = 0.6 => UNIT;
        /// Exponent β of y's denominator (v^y)^β (TiAda needs α > β).
        beta: f64 = 0.4 => UNIT;
        /// ε added to both denominators.
        eps: f64 = 1e-10 => NON_NEGATIVE;
    }
}

/// The state of [`TiAda`]: steps taken, the parameter count and the two accumulators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TiAdaState {
    /// Steps taken.
    pub step: u64,
    /// The parameter count of z = (x, y).
    pub dim: usize,
    /// vˣ, the accumulated squared x-gradient norms.
    pub vx: f64,
    /// vʸ, the accumulated squared y-gradient norms.
    pub vy: f64,
}

/// TiAda as an [`Optimizer`] over a minimax problem; reports the extras `eta_x` and `eta_y`
/// (the effective steps η/denominator).
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Problem, RngStreams, testfns::CosineMinimax};
/// use descent_optim::{TiAda, TiAdaConfig, Optimizer, run};
///
/// // f(x, y) = xy − y²/2: y*(x) = x, Φ(x) = x²/2, the saddle point is z = (x, y) = (0, 0)
/// let mut problem = CosineMinimax::new(1, 0.0)?;
/// let mut z = vec![1.0, 0.0];
/// let mut opt = TiAda::new(TiAdaConfig::default(), "tiada")?;
/// opt.init(problem.layout(), &RngStreams::new(0))?;
/// run(&mut opt, &mut z, &mut problem, 500, |_| Continue(()))?;
/// assert!(z[0].abs() < 0.1 && z[1].abs() < 0.1, "{z:?}"); // from distance 1 to within 0.1
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct TiAda {
    config: TiAdaConfig,
    name: String,
    st: TiAdaState,
    g: Vec<f64>,
}

impl TiAda {
    /// TiAda with these hyperparameters, reporting `name`.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(config: TiAdaConfig, name: impl Into<String>) -> Result<Self> {
        config.validate()?;
        Ok(TiAda {
            config,
            name: name.into(),
            st: TiAdaState::default(),
            g: Vec::new(),
        })
    }
}

impl FromConfig for TiAda {
    type Config = TiAdaConfig;
    fn from_config(cfg: TiAdaConfig, spec: &Spec) -> Result<Self> {
        TiAda::new(cfg, spec.to_string())
    }
}

impl Optimizer for TiAda {
    crate::plumbing! { config: config, state: st, }

    fn requires(&self) -> Requires {
        Requires::all(Caps::MINIMAX)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn init(&mut self, layout: &Layout, _streams: &RngStreams) -> Result<()> {
        self.st = TiAdaState {
            dim: layout.len(),
            ..TiAdaState::default()
        };
        self.g = vec![0.0; layout.len()];
        Ok(())
    }

    fn step(&mut self, z: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        problem.resample();
        let (m, dx) = minimax_view(&self.name, problem, z.len(), self.st.dim)?;
        let (x, y) = z.split_at(dx);
        let (gx, gy) = self.g.split_at_mut(dx);
        let loss = m.grads_xy(x, y, gx, gy);
        let c = self.config;
        self.st.step += 1;
        self.st.vx += super::dot(gx, gx);
        self.st.vy += super::dot(gy, gy);
        let vmax = if self.st.vx > self.st.vy {
            self.st.vx
        } else {
            self.st.vy
        };
        let eta_x = c.eta_x / (vmax.powf(c.alpha) + c.eps);
        let eta_y = c.eta_y / (self.st.vy.powf(c.beta) + c.eps);
        for (i, zi) in z.iter_mut().enumerate() {
            *zi += if i < dx {
                -eta_x * self.g[i]
            } else {
                eta_y * self.g[i]
            };
        }
        let mut info = StepInfo {
            loss: Some(loss),
            ..StepInfo::default()
        };
        info.extras.push("eta_x", eta_x);
        info.extras.push("eta_y", eta_y);
        Ok(info)
    }
}
