//! optax's small building blocks (`optax/_src/transform.py`, `alias.py`): each is one step of a
//! familiar optimizer, and a [`crate::Chain`] of them is that optimizer, so a method from a
//! paper is often one new small transform in a chain.
//!
//! | block | update | optax |
//! |---|---|---|
//! | [`Scale`] | `u = c·g` | `scale` |
//! | [`ScaleByLr`] | `u = −lr·g` | `scale_by_learning_rate` |
//! | [`Trace`] | `t ← g + μ·t`, `u = t` (Nesterov: `g + μ·t`) | `trace` |
//! | [`ScaleByAdam`] | `u = m̂/(√v̂ + ε)` | `scale_by_adam` |
//! | [`AddDecayedWeights`] | `u = g + λ·x` | `add_decayed_weights` |
//!
//! They chain into the fused optimizers exactly: `chain(trace(decay=μ), scale_by_lr(lr=η))` is
//! `sgd(lr=η, momentum=μ)`, and `chain(scale_by_adam, scale_by_lr(lr=η))` is `adam(lr=η)`,
//! bit for bit (the chain folds `scale_by_lr`'s −η into Adam's per-step coefficient, see
//! [`crate::Transform::linear_factor`]); with `add_decayed_weights(weight_decay=λ)` first it is
//! `adam(lr=η, weight_decay=λ)`, bit for bit, and between the two it is AdamW up to rounding.

use descent_core::{Layout, Result, RngStreams, Spec};

use crate::config::{Config, FRACTION, LEARNING_RATE, NON_NEGATIVE};
use crate::first_order::{AdamState, AdamStep};
use crate::registry::FromConfig;
use crate::transform::Transform;

/// The stateless blocks are their own config.
macro_rules! own_config {
    ($t:ty) => {
        impl FromConfig for $t {
            type Config = $t;
            fn from_config(cfg: $t, _spec: &Spec) -> Result<Self> {
                Ok(cfg)
            }
        }
    };
}

crate::config! {
    /// optax `scale`: `u = factor·g`.
    ///
    /// ```
    /// use descent_core::{Layout, RngStreams};
    /// use descent_optim::{Scale, Transform};
    ///
    /// let mut scale = Scale::new(-0.5)?;
    /// scale.build(&Layout::flat(2), &RngStreams::new(0))?;
    /// let mut g = [2.0, -4.0];
    /// scale.update(1, &mut g, &[0.0, 0.0]);
    /// assert_eq!(g, [-1.0, 2.0]);
    /// # Ok::<(), descent_core::Error>(())
    /// ```
    #[derive(Copy)]
    pub struct Scale("scale") {
        /// The constant the update is multiplied by.
        factor: f64;
    }
}

own_config!(Scale);

impl Scale {
    /// `u = factor·g`.
    ///
    /// # Errors
    ///
    /// A factor that is not finite.
    pub fn new(factor: f64) -> Result<Self> {
        let t = Scale { factor };
        t.validate()?;
        Ok(t)
    }
}

impl Transform for Scale {
    crate::plumbing! { config: self, }

    fn name(&self) -> String {
        self.spec_text()
    }
    fn build(&mut self, _layout: &Layout, _streams: &RngStreams) -> Result<()> {
        Ok(())
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], _params: &[f64]) {
        grad.iter_mut().for_each(|g| *g *= self.factor);
    }
    fn linear_factor(&self) -> Option<f64> {
        Some(self.factor)
    }
}

crate::config! {
    /// optax `scale_by_learning_rate`: `u = −lr·g`, the descent step; its `lr` is what
    /// schedules and `set_hyper("lr")` drive.
    ///
    /// ```
    /// use descent_core::{Layout, RngStreams};
    /// use descent_optim::{ScaleByLr, Transform};
    ///
    /// let mut step = ScaleByLr::new(0.25)?;
    /// step.build(&Layout::flat(2), &RngStreams::new(0))?;
    /// let mut g = [2.0, -4.0];
    /// step.update(1, &mut g, &[0.0, 0.0]);
    /// assert_eq!(g, [-0.5, 1.0]); // the update −lr·g
    /// # Ok::<(), descent_core::Error>(())
    /// ```
    #[derive(Copy)]
    pub struct ScaleByLr("scale_by_lr") {
        /// Learning rate.
        lr: f64 => LEARNING_RATE;
    }
}

own_config!(ScaleByLr);

impl ScaleByLr {
    /// `u = −lr·g`.
    ///
    /// # Errors
    ///
    /// `lr` not finite and ≥ 0.
    pub fn new(lr: f64) -> Result<Self> {
        let t = ScaleByLr { lr };
        t.validate()?;
        Ok(t)
    }
}

impl Transform for ScaleByLr {
    crate::plumbing! { config: self, }

    fn name(&self) -> String {
        self.spec_text()
    }
    fn build(&mut self, _layout: &Layout, _streams: &RngStreams) -> Result<()> {
        Ok(())
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], _params: &[f64]) {
        let c = -self.lr;
        grad.iter_mut().for_each(|g| *g *= c);
    }
    fn linear_factor(&self) -> Option<f64> {
        Some(-self.lr)
    }
}

crate::config! {
    /// The settings of [`Trace`].
    #[derive(Copy)]
    pub struct TraceConfig("trace") {
        /// Decay μ of the trace (torch's momentum).
        decay: f64 = 0.9 => NON_NEGATIVE;
        /// Nesterov momentum: the update is g + μ·t instead of t.
        nesterov: bool = false;
    }
}

/// The state of [`Trace`]: the trace t (torch's momentum buffer).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TraceState {
    /// The trace t (optax `trace`'s momentum).
    pub trace: Vec<f64>,
}

/// optax `trace`: `t ← g + μ·t`, then `u = t`, or `u = g + μ·t` with Nesterov. It starts at
/// t = 0, so the first update is g, as torch's momentum buffer.
///
/// ```
/// use descent_core::{Layout, RngStreams};
/// use descent_optim::{Trace, Transform, primitives::TraceConfig};
///
/// let mut trace = Trace::new(TraceConfig { decay: 0.9, ..Default::default() })?;
/// trace.build(&Layout::flat(1), &RngStreams::new(0))?;
/// let mut g = [1.0];
/// trace.update(1, &mut g, &[0.0]);
/// assert_eq!(g, [1.0]); // t = g
/// let mut g = [1.0];
/// trace.update(2, &mut g, &[0.0]);
/// assert!((g[0] - 1.9).abs() < 1e-15); // t = g + 0.9·t
/// # Ok::<(), descent_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Trace {
    cfg: TraceConfig,
    st: TraceState,
}

impl Trace {
    /// A validated trace.
    ///
    /// # Errors
    ///
    /// A decay that is not finite and ≥ 0.
    pub fn new(cfg: TraceConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Trace {
            cfg,
            st: TraceState::default(),
        })
    }
}

impl FromConfig for Trace {
    type Config = TraceConfig;
    fn from_config(cfg: TraceConfig, _spec: &Spec) -> Result<Self> {
        Trace::new(cfg)
    }
}

impl Transform for Trace {
    crate::plumbing! { config: cfg, state: st, }

    fn name(&self) -> String {
        self.cfg.spec_text()
    }
    fn build(&mut self, layout: &Layout, _streams: &RngStreams) -> Result<()> {
        self.st.trace = vec![0.0; layout.len()];
        Ok(())
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], params: &[f64]) {
        crate::transform::assert_update_len("trace", self.st.trace.len(), grad, params);
        let TraceConfig { decay, nesterov } = self.cfg;
        for (g, t) in grad.iter_mut().zip(self.st.trace.iter_mut()) {
            *t = *g + decay * *t;
            if nesterov {
                *g += decay * *t;
            } else {
                *g = *t;
            }
        }
    }
}

crate::config! {
    /// The settings of [`ScaleByAdam`] (torch's and optax's defaults).
    #[derive(Copy)]
    pub struct ScaleByAdamConfig("scale_by_adam") {
        /// Decay β₁ of the first moment.
        beta1: f64 = 0.9 => FRACTION;
        /// Decay β₂ of the second moment.
        beta2: f64 = 0.999 => FRACTION;
        /// ε added to √v̂.
        eps: f64 = 1e-8 => NON_NEGATIVE;
    }
}

/// optax `scale_by_adam`: `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`,
/// `u = m̂/(√v̂ + ε)` with the bias corrections of step t. Followed in a chain by a constant
/// scale (`scale_by_lr`), it multiplies that scale into its per-step coefficient, which is the
/// fused [`crate::Adam`]'s arithmetic.
///
/// ```
/// use descent_core::{Layout, RngStreams};
/// use descent_optim::{Adam, AdamConfig, ScaleByAdam, ScaleByLr, Transform, TransformExt};
///
/// let mut parts = ScaleByAdam::new(Default::default())?.then(ScaleByLr::new(1e-2)?);
/// let mut fused = Adam::new(AdamConfig { lr: 1e-2, ..Default::default() })?;
/// let (layout, streams) = (Layout::flat(3), RngStreams::new(0));
/// parts.build(&layout, &streams)?;
/// fused.build(&layout, &streams)?;
/// for t in 1..=5 {
///     let mut a = [0.3 * t as f64, -1.0, 2.5];
///     let mut b = a;
///     parts.update(t, &mut a, &[0.0; 3]);
///     fused.update(t, &mut b, &[0.0; 3]);
///     assert_eq!(a, b); // bit for bit
/// }
/// # Ok::<(), descent_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ScaleByAdam {
    cfg: ScaleByAdamConfig,
    st: AdamState,
}

impl ScaleByAdam {
    /// A validated `scale_by_adam`.
    ///
    /// # Errors
    ///
    /// β₁ or β₂ outside [0, 1), or ε not finite and ≥ 0.
    pub fn new(cfg: ScaleByAdamConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(ScaleByAdam {
            cfg,
            st: AdamState::default(),
        })
    }
}

impl FromConfig for ScaleByAdam {
    type Config = ScaleByAdamConfig;
    fn from_config(cfg: ScaleByAdamConfig, _spec: &Spec) -> Result<Self> {
        ScaleByAdam::new(cfg)
    }
}

impl Transform for ScaleByAdam {
    crate::plumbing! { config: cfg, state: st, }

    fn name(&self) -> String {
        self.cfg.spec_text()
    }
    fn build(&mut self, layout: &Layout, _streams: &RngStreams) -> Result<()> {
        self.st = AdamState::zeros(layout.len());
        Ok(())
    }
    fn update(&mut self, step: u64, grad: &mut [f64], params: &[f64]) {
        self.update_scaled(step, grad, params, 1.0);
    }
    /// `factor·m̂/(√v̂ + ε)` with `factor/(1 − β₁ᵗ)` as the one per-step coefficient.
    fn update_scaled(&mut self, _step: u64, grad: &mut [f64], params: &[f64], factor: f64) {
        crate::transform::assert_update_len("scale_by_adam", self.st.m.len(), grad, params);
        let ScaleByAdamConfig { beta1, beta2, eps } = self.cfg;
        self.st.count += 1;
        AdamStep::at(beta1, beta2, eps, factor, self.st.count).update(
            grad,
            &mut self.st.m,
            &mut self.st.v,
        );
    }
}

crate::config! {
    /// optax `add_decayed_weights`: `u = g + λ·x` (L2 weight decay before the scaling, or
    /// AdamW's decoupled decay when placed after `scale_by_adam`).
    ///
    /// ```
    /// use descent_core::{Layout, RngStreams};
    /// use descent_optim::{AddDecayedWeights, Transform};
    ///
    /// let mut decay = AddDecayedWeights::new(0.1)?;
    /// decay.build(&Layout::flat(2), &RngStreams::new(0))?;
    /// let mut g = [1.0, 1.0];
    /// decay.update(1, &mut g, &[10.0, -20.0]);
    /// assert_eq!(g, [2.0, -1.0]); // g + λ·x
    /// # Ok::<(), descent_core::Error>(())
    /// ```
    #[derive(Copy)]
    pub struct AddDecayedWeights("add_decayed_weights") {
        /// Decay λ.
        weight_decay: f64 => NON_NEGATIVE;
    }
}

own_config!(AddDecayedWeights);

impl AddDecayedWeights {
    /// `u = g + λ·x`.
    ///
    /// # Errors
    ///
    /// λ not finite and ≥ 0.
    pub fn new(weight_decay: f64) -> Result<Self> {
        let t = AddDecayedWeights { weight_decay };
        t.validate()?;
        Ok(t)
    }
}

impl Transform for AddDecayedWeights {
    crate::plumbing! { config: self, }

    fn name(&self) -> String {
        self.spec_text()
    }
    fn build(&mut self, _layout: &Layout, _streams: &RngStreams) -> Result<()> {
        Ok(())
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], params: &[f64]) {
        crate::transform::assert_same_len("add_decayed_weights", grad, params);
        let wd = self.weight_decay;
        for (g, x) in grad.iter_mut().zip(params) {
            *g += wd * x;
        }
    }
}
