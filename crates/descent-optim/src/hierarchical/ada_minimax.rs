//! Ada-Minimax (P4 Alg. 1) and the adaptive template it shares with Ada-BiO (Alg. 2): normalised
//! momentum on the upper level with a momentum weight α_t learned from an online noise estimate,
//! AdaGrad-Norm on the lower level (spec §2.3; every sum includes the current step, pitfall P2):
//!
//! ```text
//! S_t = S_{t−1} + ‖g_{x,t} − g̃_{x,t}‖²      (two independent samples at (x_t, y_t))
//! G_t = G_{t−1} + ‖g_{y,t}‖²
//! α_t = α / √(α² + S_t)                      (= 1 exactly while S_t = 0)
//! α'_t = α / √(α² + S_t + G_t)               (or α_t: `alpha_prime=same_as_alpha`)
//! η_{x,t} = η_x √α'_t / √t,   η_{y,t} = η_y / √(γ² + G_t)
//! m_1 = g_{x,1},  m_t = (1 − α_t) m_{t−1} + α_t g_{x,t}
//! x ← x − η_{x,t} m_t/‖m_t‖   (skipped when m_t = 0),   y ← y ± η_{y,t} g_{y,t}
//! ```
//!
//! (+ ascent for minimax, − descent for bilevel). The practical variant (§2.5) replaces g̃_{x,t}
//! by the previous step's g_{x,t−1} (one upper sample per step; the sum starts at k = 2, or at
//! k = 1 with g_{x,0} = 0) and 1/√t by 1/√T (`horizon=T`; 0 leaves it out, as the AUC
//! experiment's η_x absorbs it). α'_t's form is only known from a secondary source, hence the
//! switch (spec §2.3, P12).

use descent_core::{Caps, Error, Layout, Problem, Requires, Result, RngStreams, Spec};
use serde::{Deserialize, Serialize};

use super::{dot, minimax_view, norm};
use crate::config::{Config, LEARNING_RATE, POSITIVE};
use crate::optimizer::{Extras, Optimizer, StepInfo};
use crate::registry::FromConfig;

crate::spec_enum! {
    /// Which noise estimate feeds α_t.
    pub enum Variant {
        /// Two independent upper samples per step, S_t sums ‖g − g̃‖² (Alg. 1/2).
        TwoSample = "two_sample",
        /// One sample; S_t sums ‖g_t − g_{t−1}‖² and the x-step uses 1/√T (§2.5).
        Practical = "practical",
    }
}

crate::spec_enum! {
    /// The definition of α'_t inside η_{x,t}.
    pub enum AlphaPrime {
        /// α / √(α² + S_t + G_t) (the paper-notes formula).
        WithLowerGrad = "with_lower_grad",
        /// α'_t = α_t.
        SameAsAlpha = "same_as_alpha",
    }
}

crate::spec_enum! {
    /// The first momentum.
    pub enum MomentumInit {
        /// m_1 = g_{x,1} (the algorithm box read as input m_1).
        FirstGrad = "first_grad",
        /// m_0 = 0, so m_1 = α_1 g_{x,1}.
        Zero = "zero",
    }
}

crate::spec_enum! {
    /// Where the practical variant's sum of ‖g_k − g_{k−1}‖² starts.
    pub enum SumStart {
        /// At k = 2 (α_1 = 1).
        Second = "second",
        /// At k = 1 with g_{x,0} = 0 (‖g_{x,1}‖² enters S_1).
        ZeroPrev = "zero_prev",
    }
}

/// The hyperparameters of the adaptive template shared by Ada-Minimax and Ada-BiO.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaParams {
    /// α, the scale of the momentum weight α_t = α/√(α² + S_t).
    pub alpha: f64,
    /// η_x, the upper (x) step scale.
    pub eta_x: f64,
    /// η_y, the lower (y) step scale.
    pub eta_y: f64,
    /// γ, the offset of the lower AdaGrad-Norm step η_y/√(γ² + G_t).
    pub gamma: f64,
    /// Which noise estimate feeds α_t.
    pub variant: Variant,
    /// The definition of α'_t inside η_{x,t}.
    pub alpha_prime: AlphaPrime,
    /// The first momentum.
    pub momentum_init: MomentumInit,
    /// Where the practical variant's sum starts.
    pub sum_start: SumStart,
    /// T of 1/√T in place of 1/√t (0: left out).
    pub horizon: usize,
}

crate::config! {
    /// The hyperparameters of [`AdaMinimax`]; the defaults are the spec's single setting
    /// (A1: α = 2, η_x = η_y = 1, γ = 1).
    #[derive(Copy)]
    pub struct AdaMinimaxConfig("ada_minimax") {
        /// Momentum scale α: α_t = α/√(α² + S_t).
        alpha: f64 = 2.0 => POSITIVE;
        /// Upper step η_x of the normalised momentum step.
        eta_x: f64 = 1.0 => LEARNING_RATE;
        /// Lower step η_y of the AdaGrad-Norm step.
        eta_y: f64 = 1.0 => LEARNING_RATE;
        /// AdaGrad-Norm offset γ: η_{y,t} = η_y/√(γ² + G_t).
        gamma: f64 = 1.0 => POSITIVE;
        /// two_sample (g and g̃ at the same point) or practical (previous gradient, 1/√T).
        variant: Variant = Variant::TwoSample;
        /// α'_t in η_{x,t}: with_lower_grad or same_as_alpha.
        alpha_prime: AlphaPrime = AlphaPrime::WithLowerGrad;
        /// First momentum: first_grad (m_1 = g_1) or zero (m_0 = 0).
        momentum_init: MomentumInit = MomentumInit::FirstGrad;
        /// Practical variant: the noise sum starts at the second step or with g_0 = 0.
        sum_start: SumStart = SumStart::Second;
        /// Practical variant: T in η_x√α'_t/√T; 0 leaves the factor out.
        horizon: usize = 0;
    }
}

impl AdaMinimaxConfig {
    /// The template's hyperparameters.
    pub fn params(&self) -> AdaParams {
        AdaParams {
            alpha: self.alpha,
            eta_x: self.eta_x,
            eta_y: self.eta_y,
            gamma: self.gamma,
            variant: self.variant,
            alpha_prime: self.alpha_prime,
            momentum_init: self.momentum_init,
            sum_start: self.sum_start,
            horizon: self.horizon,
        }
    }
}

/// The state of the adaptive template: steps taken, the parameter count, S_t, G_t, the momentum
/// and the previous upper gradient (practical variant). `m` and `prev` span z; only their
/// x-part is used (the y-part stays 0).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdaState {
    /// Steps taken.
    pub step: u64,
    /// The parameter count of z = (x, y).
    pub dim: usize,
    /// S_t, the online noise estimate.
    pub noise_sum: f64,
    /// G_t, the lower level's AdaGrad-Norm accumulator.
    pub lower_sum: f64,
    /// The momentum m_t (x-part used).
    pub m: Vec<f64>,
    /// The previous upper gradient (x-part used).
    pub prev: Vec<f64>,
}

impl AdaState {
    /// A fresh state for `n` parameters.
    pub fn new(n: usize) -> Self {
        AdaState {
            step: 0,
            dim: n,
            noise_sum: 0.0,
            lower_sum: 0.0,
            m: vec![0.0; n],
            prev: vec![0.0; n],
        }
    }

    /// One step of the template on z = (x, y) with d_x = `dx`: `gx` is g_{x,t}, `second` the
    /// independent g̃_{x,t} (two-sample variant; `None` for the practical one), `gy` is
    /// g_{y,t}; `ascent` moves y up (minimax) instead of down (bilevel). Reports α_t, α'_t,
    /// η_{x,t}, η_{y,t}, S_t and G_t in `extras`.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        p: &AdaParams,
        z: &mut [f64],
        dx: usize,
        gx: &[f64],
        second: Option<&[f64]>,
        gy: &[f64],
        ascent: bool,
        extras: &mut Extras,
    ) {
        self.step += 1;
        let t = self.step as f64;
        let noise = match second {
            Some(g2) => gx.iter().zip(g2).map(|(a, b)| (a - b) * (a - b)).sum(),
            None if self.step > 1 || p.sum_start == SumStart::ZeroPrev => gx
                .iter()
                .zip(&self.prev)
                .map(|(a, b)| (a - b) * (a - b))
                .sum(),
            None => 0.0,
        };
        if second.is_none() {
            self.prev[..dx].copy_from_slice(gx);
        }
        self.noise_sum += noise;
        self.lower_sum += dot(gy, gy);
        let a2 = p.alpha * p.alpha;
        let alpha_t = 1.0 / (1.0 + self.noise_sum / a2).sqrt();
        let alpha_prime = match p.alpha_prime {
            AlphaPrime::WithLowerGrad => {
                1.0 / (1.0 + (self.noise_sum + self.lower_sum) / a2).sqrt()
            }
            AlphaPrime::SameAsAlpha => alpha_t,
        };
        let time = match (p.variant, p.horizon) {
            (Variant::Practical, 0) => 1.0,
            (Variant::Practical, h) => h as f64,
            (Variant::TwoSample, _) => t,
        };
        let eta_x = p.eta_x * alpha_prime.sqrt() / time.sqrt();
        let eta_y = p.eta_y / (p.gamma * p.gamma + self.lower_sum).sqrt();
        let m = &mut self.m[..dx];
        if self.step == 1 && p.momentum_init == MomentumInit::FirstGrad {
            m.copy_from_slice(gx);
        } else {
            for (mi, gi) in m.iter_mut().zip(gx) {
                *mi = (1.0 - alpha_t) * *mi + alpha_t * gi;
            }
        }
        let mn = norm(m);
        if mn > 0.0 {
            for (zi, mi) in z[..dx].iter_mut().zip(m.iter()) {
                *zi -= eta_x * mi / mn;
            }
        }
        let sign = if ascent { 1.0 } else { -1.0 };
        for (zi, gi) in z[dx..].iter_mut().zip(gy) {
            *zi += sign * eta_y * gi;
        }
        extras.push("alpha_t", alpha_t);
        extras.push("alpha_prime_t", alpha_prime);
        extras.push("eta_x", eta_x);
        extras.push("eta_y", eta_y);
        extras.push("noise_sum", self.noise_sum);
        extras.push("lower_sum", self.lower_sum);
    }
}

/// Checks a loaded template state: the momentum and previous-gradient buffers span z.
pub(crate) fn check_ada_state(dim: usize, st: &AdaState) -> Result<()> {
    if st.m.len() != dim || st.prev.len() != dim {
        return Err(Error::shape("ada state buffers", dim, st.m.len()));
    }
    Ok(())
}

/// Ada-Minimax as an [`Optimizer`] over a minimax problem: per step one sample ξ_t for
/// (g_x, g_y) and, in the two-sample variant, an independent ξ'_t for g̃_x (two minimax
/// gradient calls). Reports the template's extras and `grad_x_norm` = ‖g_{x,t}‖.
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Problem, RngStreams, testfns::CosineMinimax};
/// use descent_optim::{AdaMinimax, AdaMinimaxConfig, Optimizer, run};
///
/// // f(x, y) = xy − y²/2: y*(x) = x, Φ(x) = x²/2, the saddle point is z = (x, y) = (0, 0)
/// let mut problem = CosineMinimax::new(1, 0.0)?;
/// let mut z = vec![1.0, 0.0];
/// let mut opt = AdaMinimax::new(AdaMinimaxConfig::default(), "ada_minimax")?;
/// opt.init(problem.layout(), &RngStreams::new(0))?;
/// run(&mut opt, &mut z, &mut problem, 500, |_| Continue(()))?;
/// assert!(z[0].abs() < 0.1 && z[1].abs() < 0.1, "{z:?}"); // from distance 1 to within 0.1
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct AdaMinimax {
    config: AdaMinimaxConfig,
    name: String,
    st: AdaState,
    g: Vec<f64>,
    g2: Vec<f64>,
}

impl AdaMinimax {
    /// Ada-Minimax with these hyperparameters, reporting `name`.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(config: AdaMinimaxConfig, name: impl Into<String>) -> Result<Self> {
        config.validate()?;
        Ok(AdaMinimax {
            config,
            name: name.into(),
            st: AdaState::default(),
            g: Vec::new(),
            g2: Vec::new(),
        })
    }

    /// The template state (S_t, G_t, momentum).
    pub fn state_data(&self) -> &AdaState {
        &self.st
    }

    fn check_state(&self, st: &AdaState) -> Result<()> {
        check_ada_state(self.st.dim, st)
    }
}

impl FromConfig for AdaMinimax {
    type Config = AdaMinimaxConfig;
    fn from_config(cfg: AdaMinimaxConfig, spec: &Spec) -> Result<Self> {
        AdaMinimax::new(cfg, spec.to_string())
    }
}

impl Optimizer for AdaMinimax {
    crate::plumbing! { config: config, state: st, check: Self::check_state, }

    fn requires(&self) -> Requires {
        Requires::all(Caps::MINIMAX)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn init(&mut self, layout: &Layout, _streams: &RngStreams) -> Result<()> {
        let n = layout.len();
        self.st = AdaState::new(n);
        self.g = vec![0.0; n];
        self.g2 = vec![0.0; n];
        Ok(())
    }

    fn step(&mut self, z: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        problem.resample();
        let (m, dx) = minimax_view(&self.name, problem, z.len(), self.st.dim)?;
        let two_sample = self.config.variant == Variant::TwoSample;
        let (x, y) = z.split_at(dx);
        let (gx, gy) = self.g.split_at_mut(dx);
        let loss = m.grads_xy(x, y, gx, gy);
        if two_sample {
            problem.resample();
            let (m, _) = minimax_view(&self.name, problem, z.len(), self.st.dim)?;
            let (g2x, g2y) = self.g2.split_at_mut(dx);
            m.grads_xy(x, y, g2x, g2y);
        }
        let mut info = StepInfo {
            loss: Some(loss),
            ..StepInfo::default()
        };
        info.extras.push("grad_x_norm", norm(gx));
        let second = two_sample.then(|| &self.g2[..dx]);
        let p = self.config.params();
        self.st
            .update(&p, z, dx, gx, second, gy, true, &mut info.extras);
        Ok(info)
    }
}
