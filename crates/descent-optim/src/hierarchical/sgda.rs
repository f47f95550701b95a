//! Stochastic gradient descent–ascent (Lin, Jin & Jordan 2020) and PDSM's moving-average form
//! (Guo et al., the AUC baseline of P4's Fig. 2; spec §2.7, inferred form): one sample ξ per
//! step, both players move simultaneously with constant steps,
//!
//! ```text
//! m_x ← (1 − θ) m_x + θ ∇ₓF(x, y; ξ),   m_y ← (1 − θ) m_y + θ ∇ᵧF(x, y; ξ)   (m = g at t = 1)
//! x ← x − η_x m_x,                     y ← y + η_y m_y
//! ```
//!
//! θ = 1 is plain SGDA (`sgda`); `pdsm` is the same with θ = 0.1 by default.

use descent_core::{Caps, Layout, Problem, Requires, Result, RngStreams, Spec};
use serde::{Deserialize, Serialize};

use super::minimax_view;
use crate::config::{Config, LEARNING_RATE, UNIT};
use crate::optimizer::{Optimizer, StepInfo};
use crate::registry::FromConfig;

crate::config! {
    /// The steps of [`Sgda`] (`sgda`, and `pdsm` with θ = 0.1).
    #[derive(Copy)]
    pub struct SgdaConfig("sgda") {
        /// Step η_x of the min player x (descent).
        eta_x: f64 = 0.01 => LEARNING_RATE;
        /// Step η_y of the max player y (ascent).
        eta_y: f64 = 0.1 => LEARNING_RATE;
        /// Weight θ of the new gradient in the moving averages (1 = plain SGDA; PDSM < 1).
        theta: f64 = 1.0 => UNIT;
    }
    validate(c) {
        if c.theta > 0.0 {
            Ok(())
        } else {
            Err(descent_core::Error::invalid("sgda.theta", c.theta, "a number in (0, 1]"))
        }
    }
    preset(name) {
        if name == "pdsm" {
            SgdaConfig { theta: 0.1, ..SgdaConfig::default() }
        } else {
            SgdaConfig::default()
        }
    }
}

/// The state of [`Sgda`]: steps taken, the parameter count, and the moving averages over z.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SgdaState {
    /// Steps taken.
    pub step: u64,
    /// The parameter count of z = (x, y).
    pub dim: usize,
    /// m over z = (m_x, m_y).
    pub m: Vec<f64>,
}

/// SGDA / PDSM as an [`Optimizer`] over a minimax problem; reports the extras `grad_x_norm`
/// and `grad_y_norm` of the step's sample.
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Problem, RngStreams, testfns::CosineMinimax};
/// use descent_optim::{Sgda, SgdaConfig, Optimizer, run};
///
/// // f(x, y) = xy − y²/2: y*(x) = x, Φ(x) = x²/2, the saddle point is z = (x, y) = (0, 0)
/// let mut problem = CosineMinimax::new(1, 0.0)?;
/// let mut z = vec![1.0, 0.0];
/// let mut opt = Sgda::new(SgdaConfig { eta_x: 0.1, eta_y: 0.5, ..Default::default() }, "sgda")?;
/// opt.init(problem.layout(), &RngStreams::new(0))?;
/// run(&mut opt, &mut z, &mut problem, 500, |_| Continue(()))?;
/// assert!(z[0].abs() < 0.1 && z[1].abs() < 0.1, "{z:?}"); // from distance 1 to within 0.1
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct Sgda {
    config: SgdaConfig,
    name: String,
    st: SgdaState,
    g: Vec<f64>,
}

impl Sgda {
    /// SGDA with these steps, reporting `name`.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(config: SgdaConfig, name: impl Into<String>) -> Result<Self> {
        config.validate()?;
        Ok(Sgda {
            config,
            name: name.into(),
            st: SgdaState::default(),
            g: Vec::new(),
        })
    }
}

impl FromConfig for Sgda {
    type Config = SgdaConfig;
    fn from_config(cfg: SgdaConfig, spec: &Spec) -> Result<Self> {
        Sgda::new(cfg, spec.to_string())
    }
}

impl Optimizer for Sgda {
    crate::plumbing! { config: config, state: st, }

    fn requires(&self) -> Requires {
        Requires::all(Caps::MINIMAX)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn init(&mut self, layout: &Layout, _streams: &RngStreams) -> Result<()> {
        let n = layout.len();
        self.st = SgdaState {
            step: 0,
            dim: n,
            m: vec![0.0; n],
        };
        self.g = vec![0.0; n];
        Ok(())
    }

    fn step(&mut self, z: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        problem.resample();
        let (m, dx) = minimax_view(&self.name, problem, z.len(), self.st.dim)?;
        let (x, y) = z.split_at(dx);
        let (gx, gy) = self.g.split_at_mut(dx);
        let loss = m.grads_xy(x, y, gx, gy);
        let mut info = StepInfo {
            loss: Some(loss),
            ..StepInfo::default()
        };
        info.extras.push("grad_x_norm", super::norm(gx));
        info.extras.push("grad_y_norm", super::norm(gy));
        let c = self.config;
        self.st.step += 1;
        let theta = if self.st.step == 1 { 1.0 } else { c.theta };
        for (mi, gi) in self.st.m.iter_mut().zip(&self.g) {
            *mi = (1.0 - theta) * *mi + theta * gi;
        }
        for (i, zi) in z.iter_mut().enumerate() {
            *zi += if i < dx {
                -c.eta_x * self.st.m[i]
            } else {
                c.eta_y * self.st.m[i]
            };
        }
        Ok(info)
    }
}
