//! Ada-BiO (P4 Alg. 2): the adaptive template of [`super::ada_minimax`] with the upper gradient
//! replaced by the Neumann-series hypergradient estimate ([`super::neumann`]) and the lower
//! level descending on g:
//!
//! ```text
//! g_{x,t}, g̃_{x,t} = ∇̄f(x_t, y_t; ξ̄_t), ∇̄f(x_t, y_t; ξ̄'_t)   (two independent chains)
//! g_{y,t} = ∇ᵧG(x_t, y_t; ζ_t)
//! x ← x − η_{x,t} m_t/‖m_t‖,   y ← y − η_{y,t} g_{y,t}
//! ```
//!
//! The paper's N = ⌈3 ln T/(2 ln(1/(1 − µ/l)))⌉ ([`super::neumann_terms`]) is the only place
//! where problem constants enter (Thm 4.2). The practical variant uses one chain per step.

use descent_core::{Caps, Layout, Problem, Requires, Result, RngStreams, Spec};

use super::ada_minimax::{
    AdaParams, AdaState, AlphaPrime, MomentumInit, SumStart, Variant, check_ada_state,
};
use super::neumann::{Neumann, NeumannScratch, Truncation, hashed_index};
use super::{bilevel, bilevel_dims, norm};
use crate::config::{AT_LEAST_ONE, Config, LEARNING_RATE, POSITIVE};
use crate::optimizer::{Optimizer, StepInfo};
use crate::registry::FromConfig;

crate::config! {
    /// The hyperparameters of [`AdaBio`]; the defaults are the spec's R2 setting (α = 1,
    /// η_x = η_y = 1, γ = 1).
    #[derive(Copy)]
    pub struct AdaBioConfig("ada_bio") {
        /// Momentum scale α: α_t = α/√(α² + S_t).
        alpha: f64 = 1.0 => POSITIVE;
        /// Upper step η_x of the normalised momentum step.
        eta_x: f64 = 1.0 => LEARNING_RATE;
        /// Lower step η_y of the AdaGrad-Norm step.
        eta_y: f64 = 1.0 => LEARNING_RATE;
        /// AdaGrad-Norm offset γ: η_{y,t} = η_y/√(γ² + G_t).
        gamma: f64 = 1.0 => POSITIVE;
        /// two_sample (two hypergradient chains per step) or practical (previous estimate, 1/√T).
        variant: Variant = Variant::TwoSample;
        /// α'_t in η_{x,t}: with_lower_grad or same_as_alpha.
        alpha_prime: AlphaPrime = AlphaPrime::WithLowerGrad;
        /// First momentum: first_grad (m_1 = g_1) or zero (m_0 = 0).
        momentum_init: MomentumInit = MomentumInit::FirstGrad;
        /// Practical variant: the noise sum starts at the second step or with g_0 = 0.
        sum_start: SumStart = SumStart::Second;
        /// Practical variant: T in η_x√α'_t/√T; 0 leaves the factor out.
        horizon: usize = 0;
        /// Neumann scale l >= the largest eigenvalue of the lower Hessian (a run errors when a Hessian
        /// sample shows a larger one).
        l: f64 = 1.0 => POSITIVE;
        /// Neumann terms N (the paper: 3 ln T/(2 ln(1/(1 − µ/l)))).
        terms: usize = 20 => AT_LEAST_ONE;
        /// Neumann truncation: deterministic (sum of N terms) or randomized (one term).
        truncation: Truncation = Truncation::Deterministic;
    }
}

impl AdaBioConfig {
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

    /// The hypergradient estimator.
    pub fn neumann(&self) -> Neumann {
        Neumann {
            l: self.l,
            terms: self.terms,
            truncation: self.truncation,
        }
    }
}

/// Ada-BiO as an [`Optimizer`] over a bilevel problem. Reports the template's extras,
/// `hypergrad_norm` = ‖g_{x,t}‖ and `max_rayleigh` of the step's Hessian samples.
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Problem, RngStreams, testfns::CosineBilevel};
/// use descent_optim::{AdaBio, AdaBioConfig, Optimizer, run};
///
/// // lower level g = ½(y − x)², upper level f = ½y²: y*(x) = x, Φ(x) = x²/2, minimum at x = 0
/// let mut problem = CosineBilevel::new(&[1.0], 0.0)?;
/// let mut z = vec![1.0, 0.0];
/// let mut opt = AdaBio::new(AdaBioConfig::default(), "ada_bio")?;
/// opt.init(problem.layout(), &RngStreams::new(0))?;
/// run(&mut opt, &mut z, &mut problem, 500, |_| Continue(()))?;
/// assert!(z[0].abs() < 0.1 && z[1].abs() < 0.1, "{z:?}"); // from distance 1 to within 0.1
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct AdaBio {
    config: AdaBioConfig,
    name: String,
    seed: u64,
    st: AdaState,
    g: Vec<f64>,
    g2: Vec<f64>,
    gy: Vec<f64>,
    scratch: NeumannScratch,
}

impl AdaBio {
    /// Ada-BiO with these hyperparameters, reporting `name`.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(config: AdaBioConfig, name: impl Into<String>) -> Result<Self> {
        config.validate()?;
        Ok(AdaBio {
            config,
            name: name.into(),
            seed: 0,
            st: AdaState::default(),
            g: Vec::new(),
            g2: Vec::new(),
            gy: Vec::new(),
            scratch: NeumannScratch::default(),
        })
    }

    fn check_state(&self, st: &AdaState) -> Result<()> {
        check_ada_state(self.st.dim, st)
    }
}

impl FromConfig for AdaBio {
    type Config = AdaBioConfig;
    fn from_config(cfg: AdaBioConfig, spec: &Spec) -> Result<Self> {
        AdaBio::new(cfg, spec.to_string())
    }
}

impl Optimizer for AdaBio {
    crate::plumbing! { config: config, state: st, check: Self::check_state, }

    fn requires(&self) -> Requires {
        Requires::all(Caps::BILEVEL)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn init(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        let n = layout.len();
        self.st = AdaState::new(n);
        self.seed = streams.child_seed("neumann", 0);
        self.g = vec![0.0; n];
        self.g2 = vec![0.0; n];
        self.gy = vec![0.0; n];
        Ok(())
    }

    fn step(&mut self, z: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        let dx = bilevel_dims(&self.name, problem, z.len(), self.st.dim)?;
        let c = self.config;
        let neumann = c.neumann();
        let step = self.st.step + 1;
        let q = hashed_index(self.seed, step, 0, c.terms);
        let gx = &mut self.g[..dx];
        let info = neumann.estimate("ada_bio", problem, z, dx, q, &mut self.scratch, gx)?;
        let mut max_rayleigh = info.max_rayleigh;
        let two_sample = c.variant == Variant::TwoSample;
        if two_sample {
            let q2 = hashed_index(self.seed, step, 1, c.terms);
            let g2 = &mut self.g2[..dx];
            let i2 = neumann.estimate("ada_bio", problem, z, dx, q2, &mut self.scratch, g2)?;
            if i2.max_rayleigh > max_rayleigh {
                max_rayleigh = i2.max_rayleigh;
            }
        }
        problem.resample();
        let (x, y) = z.split_at(dx);
        let gy = &mut self.gy[dx..];
        bilevel(problem).lower_grad_y(x, y, gy);
        let mut out = StepInfo {
            loss: Some(info.upper),
            ..StepInfo::default()
        };
        out.extras.push("hypergrad_norm", norm(gx));
        out.extras.push("max_rayleigh", max_rayleigh);
        let second = two_sample.then(|| &self.g2[..dx]);
        let p = c.params();
        self.st
            .update(&p, z, dx, gx, second, gy, false, &mut out.extras);
        Ok(out)
    }
}
