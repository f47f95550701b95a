//! First-order transforms with torch.optim's exact equations: [`Sgd`] (momentum, dampening,
//! Nesterov, L2 weight decay), [`Adam`] / AdamW, [`DecoupledWeightDecay`], and gradient clipping
//! ([`ClipByGlobalNorm`], [`ClipByValue`]).

use descent_core::{Error, Layout, Quantizer, Result, RngStreams};
use serde::{Deserialize, Serialize};

use crate::Transform;
use crate::config::{Config, FRACTION, LEARNING_RATE, NON_NEGATIVE, POSITIVE};
use crate::registry::FromConfig;
use crate::transform::add_update;

/// The stateless transforms are their own config.
macro_rules! own_config {
    ($($t:ty),*) => {$(
        impl FromConfig for $t {
            type Config = $t;
            fn from_config(cfg: $t, _spec: &descent_core::Spec) -> Result<Self> {
                Ok(cfg)
            }
        }
    )*};
}

own_config!(DecoupledWeightDecay, ClipByGlobalNorm, ClipByValue);

impl FromConfig for Sgd {
    type Config = SgdConfig;
    fn from_config(cfg: SgdConfig, _spec: &descent_core::Spec) -> Result<Self> {
        Sgd::new(cfg)
    }
}

impl FromConfig for Adam {
    type Config = AdamConfig;
    fn from_config(cfg: AdamConfig, _spec: &descent_core::Spec) -> Result<Self> {
        Adam::new(cfg)
    }
}

crate::config! {
    /// Hyperparameters of [`Sgd`]; defaults equal torch.optim.SGD's except `lr = 0.01` (torch
    /// requires or defaults it to 1e-3 depending on version; descent picks 0.01 and says so).
    #[derive(Copy)]
    pub struct SgdConfig("sgd") {
        /// Learning rate.
        lr: f64 = 0.01 => LEARNING_RATE;
        /// Momentum factor μ (0: no momentum buffer).
        momentum: f64 = 0.0 => NON_NEGATIVE;
        /// Dampening τ of the momentum buffer.
        dampening: f64 = 0.0 => crate::config::UNIT;
        /// Nesterov momentum (needs momentum > 0 and dampening = 0).
        nesterov: bool = false;
        /// L2 weight decay λ, added to the gradient.
        weight_decay: f64 = 0.0 => NON_NEGATIVE;
    }
    validate(c) {
        if c.nesterov && (c.momentum <= 0.0 || c.dampening != 0.0) {
            return Err(Error::invalid(
                "sgd.nesterov",
                format!(
                    "true with momentum={} and dampening={}",
                    c.momentum, c.dampening
                ),
                "momentum > 0 and dampening = 0 (Nesterov needs a momentum buffer)",
            ));
        }
        Ok(())
    }
}

/// The state of [`Sgd`]: torch's momentum buffer and whether it holds a first gradient yet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SgdState {
    /// torch's momentum buffer b.
    pub momentum_buffer: Vec<f64>,
    /// Whether b holds a first gradient yet.
    pub has_buf: bool,
}

/// Stochastic gradient descent exactly as torch.optim.SGD:
///
/// ```text
/// g ← g + λ·x                                   (weight_decay λ, L2)
/// b ← g                      at the first update, else  b ← μ·b + (1 − τ)·g
/// g ← g + μ·b   if nesterov, else  g ← b         (momentum μ, dampening τ)
/// u = −lr·g
/// ```
///
/// ```
/// use descent_core::{Layout, RngStreams};
/// use descent_optim::{Sgd, SgdConfig, Transform};
///
/// let mut sgd = Sgd::new(SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() })?;
/// sgd.build(&Layout::flat(2), &RngStreams::new(0))?;
/// let mut g = [1.0, -2.0];
/// sgd.update(1, &mut g, &[0.0, 0.0]);
/// assert_eq!(g, [-0.1, 0.2]); // the first buffer is the gradient itself
/// # Ok::<(), descent_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sgd {
    cfg: SgdConfig,
    st: SgdState,
}

impl Sgd {
    /// A validated SGD transform.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(cfg: SgdConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Sgd {
            cfg,
            st: SgdState::default(),
        })
    }

    /// The current hyperparameters.
    pub fn config(&self) -> &SgdConfig {
        &self.cfg
    }
}

impl Transform for Sgd {
    crate::plumbing! { config: cfg, state: st, }

    fn name(&self) -> String {
        self.cfg.spec_text()
    }

    fn build(&mut self, layout: &Layout, _streams: &RngStreams) -> Result<()> {
        self.st = SgdState {
            momentum_buffer: vec![0.0; layout.len()],
            has_buf: false,
        };
        Ok(())
    }

    /// # Panics
    ///
    /// Before [`Transform::build`] or on a wrong length (see
    /// [`crate::transform::assert_update_len`]).
    fn update(&mut self, _step: u64, grad: &mut [f64], params: &[f64]) {
        crate::transform::assert_update_len("sgd", self.st.momentum_buffer.len(), grad, params);
        let SgdConfig {
            lr,
            momentum: mu,
            dampening,
            nesterov,
            weight_decay: wd,
        } = self.cfg;
        let first = !self.st.has_buf;
        let buf = &mut self.st.momentum_buffer;
        for i in 0..grad.len() {
            let mut d = grad[i];
            if wd != 0.0 {
                d += wd * params[i];
            }
            if mu != 0.0 {
                let b = if first {
                    d
                } else {
                    mu * buf[i] + (1.0 - dampening) * d
                };
                buf[i] = b;
                d = if nesterov { d + mu * b } else { b };
            }
            grad[i] = -lr * d;
        }
        if mu != 0.0 {
            self.st.has_buf = true;
        }
    }
}

crate::config! {
    /// Hyperparameters of [`Adam`]; defaults equal torch.optim.Adam's (`lr = 1e-3, β = (0.9,
    /// 0.999), ε = 1e-8, weight_decay = 0`). With `decoupled = true` it is torch.optim.AdamW, whose
    /// default `weight_decay` is 1e-2 ([`AdamConfig::adamw`], the registry's `adamw`).
    #[derive(Copy)]
    pub struct AdamConfig("adam") {
        /// Learning rate.
        lr: f64 = 1e-3 => LEARNING_RATE;
        /// Decay β₁ of the first moment.
        beta1: f64 = 0.9 => FRACTION;
        /// Decay β₂ of the second moment.
        beta2: f64 = 0.999 => FRACTION;
        /// ε added to √v̂.
        eps: f64 = 1e-8 => NON_NEGATIVE;
        /// Weight decay λ: L2 (g ← g + λx) for adam, decoupled (x ← x − lr·λ·x) for adamw.
        weight_decay: f64 = 0.0 => NON_NEGATIVE;
        /// Store the first moment in this float format (P7's Q_M).
        m: Option<Quantizer> = None;
        /// Store the second moment in this float format (P7's Q_V).
        v: Option<Quantizer> = None;
        /// AdamW's decoupled decay `x ← x − lr·λ·x` instead of Adam's L2 `g ← g + λ·x`.
        @internal decoupled: bool = false;
    }
    owner(c) {
        if c.decoupled { "adamw" } else { "adam" }
    }
    preset(name) {
        if name == "adamw" { AdamConfig::adamw() } else { AdamConfig::default() }
    }
}

impl AdamConfig {
    /// torch.optim.AdamW's defaults (weight_decay = 1e-2, decoupled).
    pub fn adamw() -> Self {
        AdamConfig {
            weight_decay: 1e-2,
            decoupled: true,
            ..Self::default()
        }
    }

    /// `"adam"` or `"adamw"`.
    pub fn kind(&self) -> &'static str {
        self.owner()
    }
}

/// The state of [`Adam`]: the moments and the number of updates since build (`t` of the bias
/// correction).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdamState {
    /// The first moment m.
    pub m: Vec<f64>,
    /// The second moment v.
    pub v: Vec<f64>,
    /// Updates since build (t of the bias correction).
    pub count: u64,
}

impl AdamState {
    /// Zero moments for `n` parameters, no step taken.
    pub fn zeros(n: usize) -> Self {
        AdamState {
            m: vec![0.0; n],
            v: vec![0.0; n],
            count: 0,
        }
    }
}

/// Adam (Kingma & Ba 2015, Algorithm 1) exactly as torch.optim.Adam, with ε outside the root:
///
/// ```text
/// g ← g + λ·x                                  (Adam's L2 weight decay)
/// m ← β₁·m + (1 − β₁)·g,     v ← β₂·v + (1 − β₂)·g²
/// m̂ = m / (1 − β₁ᵗ),        v̂ = v / (1 − β₂ᵗ)
/// u = −lr·m̂ / (√v̂ + ε)
/// ```
///
/// and as torch.optim.AdamW (Loshchilov & Hutter 2019) when decoupled: no L2 term, and
/// `u = −lr·λ·x − lr·m̂ / (√v̂ + ε)`. `t` counts this transform's updates since build.
///
/// With state quantizers (P7, `m=`/`v=`, [`Adam::with_state_quantizers`]) the stored moments are
/// `m = Q_M(β₁·m + (1 − β₁)·g)` and `v = Q_V(β₂·v + (1 − β₂)·g²)`: the EMA is computed in full
/// precision and then stored quantized (P7 §2.3 and pitfall 2); bias correction and √v use the
/// stored values in full precision.
///
/// ```
/// use descent_core::{Layout, RngStreams};
/// use descent_optim::{Adam, AdamConfig, Transform};
///
/// let mut adam = Adam::new(AdamConfig { lr: 1e-3, ..Default::default() })?;
/// adam.build(&Layout::flat(2), &RngStreams::new(0))?;
/// let mut g = [0.5, -4.0];
/// adam.update(1, &mut g, &[0.0, 0.0]);
/// // the first bias-corrected step is −lr·g/(|g| + ε) ≈ −lr·sign(g)
/// assert!((g[0] + 1e-3).abs() < 1e-10 && (g[1] - 1e-3).abs() < 1e-10);
/// # Ok::<(), descent_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Adam {
    cfg: AdamConfig,
    st: AdamState,
}

impl Adam {
    /// A validated Adam or AdamW transform.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(cfg: AdamConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Adam {
            cfg,
            st: AdamState::default(),
        })
    }

    /// Stores the first moment through `m` and the second through `v` (P7's Q_M, Q_V). Their
    /// stochastic-rounding seeds are derived from the run seed at build.
    pub fn with_state_quantizers(mut self, m: Option<Quantizer>, v: Option<Quantizer>) -> Self {
        self.cfg.m = m;
        self.cfg.v = v;
        self
    }

    /// The current hyperparameters.
    pub fn config(&self) -> &AdamConfig {
        &self.cfg
    }

    /// Counts one more step and returns its coefficients; `factor` multiplies the update.
    fn advance(&mut self, factor: f64) -> AdamStep {
        let AdamConfig {
            lr,
            beta1,
            beta2,
            eps,
            ..
        } = self.cfg;
        self.st.count += 1;
        AdamStep::at(beta1, beta2, eps, factor * lr, self.st.count)
    }

    /// No quantized state and no weight decay: the update is one branch-free streaming pass.
    fn is_plain(&self) -> bool {
        self.cfg.m.is_none() && self.cfg.v.is_none() && self.cfg.weight_decay == 0.0
    }

    /// The update scaled by `factor` (−1 for Adam itself): the one loop of `update`.
    fn update_with(&mut self, factor: f64, grad: &mut [f64], params: &[f64]) {
        crate::transform::assert_update_len(self.cfg.kind(), self.st.m.len(), grad, params);
        let c = self.advance(factor);
        let plain = self.is_plain();
        let AdamState { m, v, count } = &mut self.st;
        if plain {
            c.update(grad, m, v);
            return;
        }
        let AdamConfig {
            lr,
            beta1,
            beta2,
            weight_decay: wd,
            decoupled,
            m: qm,
            v: qv,
            ..
        } = self.cfg;
        for i in 0..grad.len() {
            let mut g = grad[i];
            if !decoupled && wd != 0.0 {
                g += wd * params[i];
            }
            let mut mi = beta1 * m[i] + (1.0 - beta1) * g;
            let mut vi = beta2 * v[i] + (1.0 - beta2) * g * g;
            if let Some(q) = &qm {
                mi = q.quantize(mi, *count, i as u64);
            }
            if let Some(q) = &qv {
                vi = q.quantize(vi, *count, i as u64);
            }
            m[i] = mi;
            v[i] = vi;
            let mut u = c.step * mi / ((vi * c.inv_bc2).sqrt() + c.eps);
            if decoupled && wd != 0.0 {
                u -= factor * -lr * wd * params[i];
            }
            grad[i] = u;
        }
    }
}

/// The coefficients of one Adam step. The update u = −lr·m̂/(√v̂ + ε), with m̂ = m/(1 − β₁ᵗ) and
/// v̂ = v/(1 − β₂ᵗ), is arranged as one division and one square root per entry (the divider
/// bounds the loop): u = step·m/(√(v·inv_bc2) + ε), step = −lr/(1 − β₁ᵗ), inv_bc2 = 1/(1 − β₂ᵗ).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdamStep {
    pub(crate) beta1: f64,
    pub(crate) beta2: f64,
    pub(crate) eps: f64,
    pub(crate) step: f64,
    pub(crate) inv_bc2: f64,
}

impl AdamStep {
    /// The coefficients of step `t` (1-based) for an update scaled by `scale` (−lr for Adam).
    pub(crate) fn at(beta1: f64, beta2: f64, eps: f64, scale: f64, t: u64) -> Self {
        let t = t as f64;
        AdamStep {
            beta1,
            beta2,
            eps,
            step: scale / (1.0 - beta1.powf(t)),
            inv_bc2: 1.0 / (1.0 - beta2.powf(t)),
        }
    }

    /// The common case as a branch-free zipped loop, which vectorises: the moments and the
    /// update of every entry, written over the gradient.
    pub(crate) fn update(&self, grad: &mut [f64], m: &mut [f64], v: &mut [f64]) {
        let moments = m.iter_mut().zip(v.iter_mut());
        descent_core::simd::with_avx2(|| {
            for (g, (m, v)) in grad.iter_mut().zip(moments) {
                *g = self.entry(*g, m, v);
            }
        });
    }

    /// Updates the moments of one entry with gradient g and returns its update.
    #[inline(always)]
    pub(crate) fn entry(&self, g: f64, m: &mut f64, v: &mut f64) -> f64 {
        *m = self.beta1 * *m + (1.0 - self.beta1) * g;
        *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
        self.step * *m / ((*v * self.inv_bc2).sqrt() + self.eps)
    }
}

impl Transform for Adam {
    crate::plumbing! { config: cfg, state: st, }

    fn name(&self) -> String {
        self.cfg.spec_text()
    }

    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.st = AdamState::zeros(layout.len());
        if let Some(q) = &mut self.cfg.m {
            *q = q.with_seed(crate::quantized::quantizer_seed(
                streams,
                "quantize.m",
                layout,
            ));
        }
        if let Some(q) = &mut self.cfg.v {
            *q = q.with_seed(crate::quantized::quantizer_seed(
                streams,
                "quantize.v",
                layout,
            ));
        }
        Ok(())
    }

    /// # Panics
    ///
    /// Before [`Transform::build`] or on a wrong length (see
    /// [`crate::transform::assert_update_len`]).
    fn update(&mut self, _step: u64, grad: &mut [f64], params: &[f64]) {
        self.update_with(-1.0, grad, params);
    }

    /// Fuses the plain update with `params += u` (one pass over memory instead of two; the
    /// step is memory-bound at large sizes). `grad` is left as it was.
    fn apply(&mut self, step: u64, grad: &mut [f64], params: &mut [f64]) {
        if !self.is_plain() {
            self.update(step, grad, params);
            add_update(params, grad);
            return;
        }
        crate::transform::assert_update_len(self.cfg.kind(), self.st.m.len(), grad, params);
        let c = self.advance(-1.0);
        let moments = self.st.m.iter_mut().zip(self.st.v.iter_mut());
        let entries = params.iter_mut().zip(grad.iter());
        descent_core::simd::with_avx2(|| {
            for ((x, &g), (m, v)) in entries.zip(moments) {
                *x += c.entry(g, m, v);
            }
        });
    }
}

crate::config! {
    /// Decoupled weight decay (Loshchilov & Hutter 2019): adds `−lr·λ·x` to the update, i.e.
    /// `x ← x − lr·λ·x`. Place it after the transform that scales by the learning rate, e.g.
    /// `chain(sgd, decoupled_weight_decay)` is SGDW. It has its own `lr` so that a schedule or
    /// `set_hyper("lr")` over the chain scales both.
    ///
    /// ```
    /// use descent_core::{Layout, RngStreams};
    /// use descent_optim::{DecoupledWeightDecay, Transform};
    ///
    /// let mut decay = DecoupledWeightDecay::new(0.1, 0.5)?;
    /// decay.build(&Layout::flat(2), &RngStreams::new(0))?;
    /// let mut u = [0.0, 1.0];
    /// decay.update(1, &mut u, &[2.0, -4.0]);
    /// assert!((u[0] + 0.1).abs() < 1e-15 && (u[1] - 1.2).abs() < 1e-15); // u − lr·λ·x
    /// # Ok::<(), descent_core::Error>(())
    /// ```
    #[derive(Copy)]
    pub struct DecoupledWeightDecay("decoupled_weight_decay") {
        /// The learning rate the decay is scaled by.
        lr: f64 = 0.01 => NON_NEGATIVE;
        /// Decay λ.
        weight_decay: f64 = 0.01 => NON_NEGATIVE;
    }
}

impl DecoupledWeightDecay {
    /// A validated decay transform.
    ///
    /// # Errors
    ///
    /// `lr` or `weight_decay` negative or not finite, naming the field.
    pub fn new(lr: f64, weight_decay: f64) -> Result<Self> {
        let t = DecoupledWeightDecay { lr, weight_decay };
        t.validate()?;
        Ok(t)
    }
}

impl Transform for DecoupledWeightDecay {
    crate::plumbing! { config: self, }

    fn name(&self) -> String {
        self.spec_text()
    }
    fn build(&mut self, _layout: &Layout, _streams: &RngStreams) -> Result<()> {
        Ok(())
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], params: &[f64]) {
        crate::transform::assert_same_len("decoupled_weight_decay", grad, params);
        let c = self.lr * self.weight_decay;
        for (g, x) in grad.iter_mut().zip(params) {
            *g -= c * x;
        }
    }
}

crate::config! {
    /// Clipping by global norm (optax `clip_by_global_norm`): `g ← g · c / max(‖g‖₂, c)`, so the
    /// direction is kept and the norm is at most `c`. (torch's `clip_grad_norm_` adds 1e-6 to
    /// ‖g‖; this is the exact form.) Put it first in a chain to clip the raw gradient. Its
    /// hyperparameter is `clip_norm`, as the key of the optimizers that take it.
    ///
    /// ```
    /// use descent_core::{Layout, RngStreams};
    /// use descent_optim::{ClipByGlobalNorm, Transform};
    ///
    /// let mut clip = ClipByGlobalNorm::new(1.0)?;
    /// clip.build(&Layout::flat(2), &RngStreams::new(0))?;
    /// let mut g = [3.0, 4.0]; // norm 5
    /// clip.update(1, &mut g, &[0.0, 0.0]);
    /// assert!((g[0] - 0.6).abs() < 1e-15 && (g[1] - 0.8).abs() < 1e-15);
    /// # Ok::<(), descent_core::Error>(())
    /// ```
    #[derive(Copy)]
    pub struct ClipByGlobalNorm("clip_norm") {
        /// The largest global norm ‖g‖₂ let through.
        clip_norm as max: f64 => POSITIVE;
    }
}

impl ClipByGlobalNorm {
    /// Clips to norm `max_norm > 0`.
    ///
    /// # Errors
    ///
    /// `max_norm` not finite and > 0.
    pub fn new(max_norm: f64) -> Result<Self> {
        let t = ClipByGlobalNorm {
            clip_norm: max_norm,
        };
        t.validate()?;
        Ok(t)
    }
}

impl Transform for ClipByGlobalNorm {
    crate::plumbing! { config: self, }

    fn name(&self) -> String {
        self.spec_text()
    }
    fn build(&mut self, _layout: &Layout, _streams: &RngStreams) -> Result<()> {
        Ok(())
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], _params: &[f64]) {
        let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        if norm > self.clip_norm {
            let s = self.clip_norm / norm;
            grad.iter_mut().for_each(|g| *g *= s);
        }
    }
}

crate::config! {
    /// Clipping by value (optax `clip`, torch `clip_grad_value_`): `gᵢ ← min(max(gᵢ, −c), c)`.
    /// Its hyperparameter is `clip_value`, as the key of the optimizers that take it.
    ///
    /// ```
    /// use descent_core::{Layout, RngStreams};
    /// use descent_optim::{ClipByValue, Transform};
    ///
    /// let mut clip = ClipByValue::new(1.0)?;
    /// clip.build(&Layout::flat(3), &RngStreams::new(0))?;
    /// let mut g = [-3.0, 0.5, 2.0];
    /// clip.update(1, &mut g, &[0.0; 3]);
    /// assert_eq!(g, [-1.0, 0.5, 1.0]);
    /// # Ok::<(), descent_core::Error>(())
    /// ```
    #[derive(Copy)]
    pub struct ClipByValue("clip_value") {
        /// The largest |gᵢ| let through.
        clip_value as max: f64 => POSITIVE;
    }
}

impl ClipByValue {
    /// Clips each entry to `[−max, max]`, `max > 0`.
    ///
    /// # Errors
    ///
    /// `max` not finite and > 0.
    pub fn new(max: f64) -> Result<Self> {
        let t = ClipByValue { clip_value: max };
        t.validate()?;
        Ok(t)
    }
}

impl Transform for ClipByValue {
    crate::plumbing! { config: self, }

    fn name(&self) -> String {
        self.spec_text()
    }
    fn build(&mut self, _layout: &Layout, _streams: &RngStreams) -> Result<()> {
        Ok(())
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], _params: &[f64]) {
        let c = self.clip_value;
        grad.iter_mut().for_each(|g| *g = g.clamp(-c, c));
    }
}
