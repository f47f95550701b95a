//! First-order transforms with torch.optim's exact equations: [`Sgd`] (momentum, dampening,
//! Nesterov, L2 weight decay), [`Adam`] / AdamW, [`DecoupledWeightDecay`], and gradient clipping
//! ([`ClipByGlobalNorm`], [`ClipByValue`]).

use descent_core::{Error, Layout, Quantizer, Result, RngStreams};
use serde::{Deserialize, Serialize};

use crate::Transform;
use crate::transform::{TransformState, add_update, check_non_negative, unknown_hyper};

fn fmt_bool(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// Hyperparameters of [`Sgd`]; defaults equal torch.optim.SGD's except `lr = 0.01` (torch
/// requires or defaults it to 1e-3 depending on version; descent picks 0.01 and says so).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SgdConfig {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 0.01,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }
}

impl SgdConfig {
    /// Checks ranges; errors name `sgd.<field>`.
    pub fn validate(&self) -> Result<()> {
        check_non_negative("sgd.lr", self.lr)?;
        check_non_negative("sgd.momentum", self.momentum)?;
        check_non_negative("sgd.weight_decay", self.weight_decay)?;
        if !(0.0..=1.0).contains(&self.dampening) {
            return Err(Error::invalid(
                "sgd.dampening",
                self.dampening,
                "a number in [0, 1]",
            ));
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::invalid(
                "sgd.nesterov",
                format!(
                    "true with momentum={} and dampening={}",
                    self.momentum, self.dampening
                ),
                "momentum > 0 and dampening = 0 (Nesterov needs a momentum buffer)",
            ));
        }
        Ok(())
    }
}

/// Stochastic gradient descent exactly as torch.optim.SGD:
///
/// ```text
/// g ← g + λ·x                                   (weight_decay λ, L2)
/// b ← g                      at the first update, else  b ← μ·b + (1 − τ)·g
/// g ← g + μ·b   if nesterov, else  g ← b         (momentum μ, dampening τ)
/// u = −lr·g
/// ```
#[derive(Debug, Clone)]
pub struct Sgd {
    cfg: SgdConfig,
    buf: Vec<f64>,
    has_buf: bool,
}

impl Sgd {
    /// A validated SGD transform.
    pub fn new(cfg: SgdConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Sgd {
            cfg,
            buf: Vec::new(),
            has_buf: false,
        })
    }

    /// The current hyperparameters.
    pub fn config(&self) -> &SgdConfig {
        &self.cfg
    }
}

const SGD_HYPERS: &[&str] = &["lr", "momentum", "dampening", "weight_decay"];

impl Transform for Sgd {
    fn name(&self) -> String {
        let c = &self.cfg;
        format!(
            "sgd(lr={}, momentum={}, dampening={}, nesterov={}, weight_decay={})",
            c.lr,
            c.momentum,
            c.dampening,
            fmt_bool(c.nesterov),
            c.weight_decay
        )
    }

    fn build(&mut self, layout: &Layout, _streams: &RngStreams) -> Result<()> {
        self.buf = vec![0.0; layout.len()];
        self.has_buf = false;
        Ok(())
    }

    fn update(&mut self, _step: u64, grad: &mut [f64], params: &[f64]) {
        let SgdConfig {
            lr,
            momentum: mu,
            dampening,
            nesterov,
            weight_decay: wd,
        } = self.cfg;
        let first = !self.has_buf;
        for i in 0..grad.len() {
            let mut d = grad[i];
            if wd != 0.0 {
                d += wd * params[i];
            }
            if mu != 0.0 {
                let b = if first {
                    d
                } else {
                    mu * self.buf[i] + (1.0 - dampening) * d
                };
                self.buf[i] = b;
                d = if nesterov { d + mu * b } else { b };
            }
            grad[i] = -lr * d;
        }
        if mu != 0.0 {
            self.has_buf = true;
        }
    }

    fn hyper_names(&self) -> Vec<&'static str> {
        SGD_HYPERS.to_vec()
    }

    fn hyper(&self, name: &str) -> Option<f64> {
        match name {
            "lr" => Some(self.cfg.lr),
            "momentum" => Some(self.cfg.momentum),
            "dampening" => Some(self.cfg.dampening),
            "weight_decay" => Some(self.cfg.weight_decay),
            _ => None,
        }
    }

    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        let mut cfg = self.cfg;
        match name {
            "lr" => cfg.lr = value,
            "momentum" => cfg.momentum = value,
            "dampening" => cfg.dampening = value,
            "weight_decay" => cfg.weight_decay = value,
            _ => return Err(unknown_hyper("sgd", name, SGD_HYPERS)),
        }
        cfg.validate()?;
        self.cfg = cfg;
        Ok(())
    }

    fn state(&self) -> TransformState {
        TransformState::new("sgd")
            .with_scalar("lr", self.cfg.lr)
            .with_scalar("momentum", self.cfg.momentum)
            .with_scalar("dampening", self.cfg.dampening)
            .with_scalar("weight_decay", self.cfg.weight_decay)
            .with_scalar("has_buf", f64::from(u8::from(self.has_buf)))
            .with_vector("momentum_buffer", &self.buf)
    }

    fn load_state(&mut self, s: &TransformState) -> Result<()> {
        s.expect_kind("sgd")?;
        let mut buf = vec![0.0; self.buf.len()];
        s.vector_into("momentum_buffer", &mut buf)?;
        let cfg = SgdConfig {
            lr: s.scalar("lr")?,
            momentum: s.scalar("momentum")?,
            dampening: s.scalar("dampening")?,
            weight_decay: s.scalar("weight_decay")?,
            nesterov: self.cfg.nesterov,
        };
        cfg.validate()?;
        self.cfg = cfg;
        self.has_buf = s.scalar("has_buf")? != 0.0;
        self.buf = buf;
        Ok(())
    }
}

/// Hyperparameters of [`Adam`]; defaults equal torch.optim.Adam's (`lr = 1e-3, β = (0.9,
/// 0.999), ε = 1e-8, weight_decay = 0`). With `decoupled = true` it is torch.optim.AdamW, whose
/// default `weight_decay` is 1e-2 ([`AdamConfig::adamw`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// AdamW's decoupled decay `x ← x − lr·λ·x` instead of Adam's L2 `g ← g + λ·x`.
    pub decoupled: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
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
        if self.decoupled { "adamw" } else { "adam" }
    }

    /// Checks ranges; errors name `adam.<field>` or `adamw.<field>`.
    pub fn validate(&self) -> Result<()> {
        // Field names are formatted only on error: a schedule calls this inside `update`.
        let k = self.kind();
        for (name, x) in [
            ("lr", self.lr),
            ("eps", self.eps),
            ("weight_decay", self.weight_decay),
        ] {
            if !(x.is_finite() && x >= 0.0) {
                return Err(Error::invalid(
                    format!("{k}.{name}"),
                    x,
                    "a finite number >= 0",
                ));
            }
        }
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(Error::invalid(
                    format!("{k}.{name}"),
                    b,
                    "a number in [0, 1)",
                ));
            }
        }
        Ok(())
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
/// With state quantizers (P7, [`Adam::with_state_quantizers`]) the stored moments are
/// `m = Q_M(β₁·m + (1 − β₁)·g)` and `v = Q_V(β₂·v + (1 − β₂)·g²)`: the EMA is computed in full
/// precision and then stored quantized (P7 §2.3 and pitfall 2); bias correction and √v use the
/// stored values in full precision.
#[derive(Debug, Clone)]
pub struct Adam {
    cfg: AdamConfig,
    m: Vec<f64>,
    v: Vec<f64>,
    count: u64,
    qm: Option<Quantizer>,
    qv: Option<Quantizer>,
}

impl Adam {
    /// A validated Adam or AdamW transform.
    pub fn new(cfg: AdamConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Adam {
            cfg,
            m: Vec::new(),
            v: Vec::new(),
            count: 0,
            qm: None,
            qv: None,
        })
    }

    /// Stores the first moment through `m` and the second through `v` (P7's Q_M, Q_V). Their
    /// stochastic-rounding seeds are derived from the run seed at build.
    pub fn with_state_quantizers(mut self, m: Option<Quantizer>, v: Option<Quantizer>) -> Self {
        self.qm = m;
        self.qv = v;
        self
    }

    /// The current hyperparameters.
    pub fn config(&self) -> &AdamConfig {
        &self.cfg
    }

    /// Counts one more step and returns its coefficients.
    fn advance(&mut self) -> AdamStep {
        let AdamConfig {
            lr,
            beta1,
            beta2,
            eps,
            ..
        } = self.cfg;
        self.count += 1;
        let t = self.count as f64;
        AdamStep {
            beta1,
            beta2,
            eps,
            step: -lr / (1.0 - beta1.powf(t)),
            inv_bc2: 1.0 / (1.0 - beta2.powf(t)),
        }
    }

    /// No quantized state and no weight decay: the update is one branch-free streaming pass.
    fn is_plain(&self) -> bool {
        self.qm.is_none() && self.qv.is_none() && self.cfg.weight_decay == 0.0
    }
}

/// The coefficients of one Adam step. The update u = −lr·m̂/(√v̂ + ε), with m̂ = m/(1 − β₁ᵗ) and
/// v̂ = v/(1 − β₂ᵗ), is arranged as one division and one square root per entry (the divider
/// bounds the loop): u = step·m/(√(v·inv_bc2) + ε), step = −lr/(1 − β₁ᵗ), inv_bc2 = 1/(1 − β₂ᵗ).
#[derive(Debug, Clone, Copy)]
struct AdamStep {
    beta1: f64,
    beta2: f64,
    eps: f64,
    step: f64,
    inv_bc2: f64,
}

impl AdamStep {
    /// Updates the moments of one entry with gradient g and returns its update.
    #[inline(always)]
    fn entry(&self, g: f64, m: &mut f64, v: &mut f64) -> f64 {
        *m = self.beta1 * *m + (1.0 - self.beta1) * g;
        *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
        self.step * *m / ((*v * self.inv_bc2).sqrt() + self.eps)
    }
}

const ADAM_HYPERS: &[&str] = &["lr", "beta1", "beta2", "eps", "weight_decay"];

impl Transform for Adam {
    fn name(&self) -> String {
        let c = &self.cfg;
        let mut s = format!(
            "{}(lr={}, beta1={}, beta2={}, eps={}, weight_decay={}",
            c.kind(),
            c.lr,
            c.beta1,
            c.beta2,
            c.eps,
            c.weight_decay
        );
        for (k, q) in [("m", &self.qm), ("v", &self.qv)] {
            if let Some(q) = q {
                s.push_str(&format!(", {k}={q}"));
            }
        }
        s.push(')');
        s
    }

    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.m = vec![0.0; layout.len()];
        self.v = vec![0.0; layout.len()];
        self.count = 0;
        if let Some(q) = &mut self.qm {
            *q = q.with_seed(crate::quantized::quantizer_seed(
                streams,
                "quantize.m",
                layout,
            ));
        }
        if let Some(q) = &mut self.qv {
            *q = q.with_seed(crate::quantized::quantizer_seed(
                streams,
                "quantize.v",
                layout,
            ));
        }
        Ok(())
    }

    fn update(&mut self, _step: u64, grad: &mut [f64], params: &[f64]) {
        let c = self.advance();
        if self.is_plain() {
            // the common case as a branch-free zipped loop, which vectorises
            let moments = self.m.iter_mut().zip(self.v.iter_mut());
            descent_core::simd::with_avx2(|| {
                for (g, (m, v)) in grad.iter_mut().zip(moments) {
                    *g = c.entry(*g, m, v);
                }
            });
            return;
        }
        let AdamConfig {
            lr,
            beta1,
            beta2,
            weight_decay: wd,
            decoupled,
            ..
        } = self.cfg;
        for i in 0..grad.len() {
            let mut g = grad[i];
            if !decoupled && wd != 0.0 {
                g += wd * params[i];
            }
            let mut m = beta1 * self.m[i] + (1.0 - beta1) * g;
            let mut v = beta2 * self.v[i] + (1.0 - beta2) * g * g;
            if let Some(q) = &self.qm {
                m = q.quantize(m, self.count, i as u64);
            }
            if let Some(q) = &self.qv {
                v = q.quantize(v, self.count, i as u64);
            }
            self.m[i] = m;
            self.v[i] = v;
            let mut u = c.step * m / ((v * c.inv_bc2).sqrt() + c.eps);
            if decoupled && wd != 0.0 {
                u -= lr * wd * params[i];
            }
            grad[i] = u;
        }
    }

    /// Fuses the plain update with `params += u` (one pass over memory instead of two; the
    /// step is memory-bound at large sizes). `grad` is left as it was.
    fn apply(&mut self, step: u64, grad: &mut [f64], params: &mut [f64]) {
        if !self.is_plain() {
            self.update(step, grad, params);
            add_update(params, grad);
            return;
        }
        let c = self.advance();
        let moments = self.m.iter_mut().zip(self.v.iter_mut());
        let entries = params.iter_mut().zip(grad.iter());
        descent_core::simd::with_avx2(|| {
            for ((x, &g), (m, v)) in entries.zip(moments) {
                *x += c.entry(g, m, v);
            }
        });
    }

    fn hyper_names(&self) -> Vec<&'static str> {
        ADAM_HYPERS.to_vec()
    }

    fn hyper(&self, name: &str) -> Option<f64> {
        match name {
            "lr" => Some(self.cfg.lr),
            "beta1" => Some(self.cfg.beta1),
            "beta2" => Some(self.cfg.beta2),
            "eps" => Some(self.cfg.eps),
            "weight_decay" => Some(self.cfg.weight_decay),
            _ => None,
        }
    }

    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        let mut cfg = self.cfg;
        match name {
            "lr" => cfg.lr = value,
            "beta1" => cfg.beta1 = value,
            "beta2" => cfg.beta2 = value,
            "eps" => cfg.eps = value,
            "weight_decay" => cfg.weight_decay = value,
            _ => return Err(unknown_hyper(cfg.kind(), name, ADAM_HYPERS)),
        }
        cfg.validate()?;
        self.cfg = cfg;
        Ok(())
    }

    fn state(&self) -> TransformState {
        TransformState::new(self.cfg.kind())
            .with_scalar("lr", self.cfg.lr)
            .with_scalar("beta1", self.cfg.beta1)
            .with_scalar("beta2", self.cfg.beta2)
            .with_scalar("eps", self.cfg.eps)
            .with_scalar("weight_decay", self.cfg.weight_decay)
            .with_scalar("count", self.count as f64)
            .with_vector("m", &self.m)
            .with_vector("v", &self.v)
    }

    fn load_state(&mut self, s: &TransformState) -> Result<()> {
        s.expect_kind(self.cfg.kind())?;
        let mut m = vec![0.0; self.m.len()];
        let mut v = vec![0.0; self.v.len()];
        s.vector_into("m", &mut m)?;
        s.vector_into("v", &mut v)?;
        let cfg = AdamConfig {
            lr: s.scalar("lr")?,
            beta1: s.scalar("beta1")?,
            beta2: s.scalar("beta2")?,
            eps: s.scalar("eps")?,
            weight_decay: s.scalar("weight_decay")?,
            decoupled: self.cfg.decoupled,
        };
        cfg.validate()?;
        let count = s.scalar("count")?;
        if !(count >= 0.0 && count.fract() == 0.0) {
            return Err(Error::invalid(
                "adam state count",
                count,
                "a non-negative integer",
            ));
        }
        self.cfg = cfg;
        self.count = count as u64;
        self.m = m;
        self.v = v;
        Ok(())
    }
}

/// Decoupled weight decay (Loshchilov & Hutter 2019): adds `−lr·λ·x` to the update, i.e.
/// `x ← x − lr·λ·x`. Place it after the transform that scales by the learning rate, e.g.
/// `chain(sgd, decoupled_weight_decay)` is SGDW. It has its own `lr` so that a schedule or
/// `set_hyper("lr")` over the chain scales both.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecoupledWeightDecay {
    pub lr: f64,
    pub weight_decay: f64,
}

impl DecoupledWeightDecay {
    /// A validated decay transform.
    pub fn new(lr: f64, weight_decay: f64) -> Result<Self> {
        check_non_negative("decoupled_weight_decay.lr", lr)?;
        check_non_negative("decoupled_weight_decay.weight_decay", weight_decay)?;
        Ok(DecoupledWeightDecay { lr, weight_decay })
    }
}

const DWD_HYPERS: &[&str] = &["lr", "weight_decay"];

impl Transform for DecoupledWeightDecay {
    fn name(&self) -> String {
        format!(
            "decoupled_weight_decay(lr={}, weight_decay={})",
            self.lr, self.weight_decay
        )
    }
    fn build(&mut self, _layout: &Layout, _streams: &RngStreams) -> Result<()> {
        Ok(())
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], params: &[f64]) {
        let c = self.lr * self.weight_decay;
        for (g, x) in grad.iter_mut().zip(params) {
            *g -= c * x;
        }
    }
    fn hyper_names(&self) -> Vec<&'static str> {
        DWD_HYPERS.to_vec()
    }
    fn hyper(&self, name: &str) -> Option<f64> {
        match name {
            "lr" => Some(self.lr),
            "weight_decay" => Some(self.weight_decay),
            _ => None,
        }
    }
    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        match name {
            "lr" => self.lr = check_non_negative("decoupled_weight_decay.lr", value)?,
            "weight_decay" => {
                self.weight_decay =
                    check_non_negative("decoupled_weight_decay.weight_decay", value)?
            }
            _ => return Err(unknown_hyper("decoupled_weight_decay", name, DWD_HYPERS)),
        }
        Ok(())
    }
    fn state(&self) -> TransformState {
        TransformState::new("decoupled_weight_decay")
            .with_scalar("lr", self.lr)
            .with_scalar("weight_decay", self.weight_decay)
    }
    fn load_state(&mut self, s: &TransformState) -> Result<()> {
        s.expect_kind("decoupled_weight_decay")?;
        *self = Self::new(s.scalar("lr")?, s.scalar("weight_decay")?)?;
        Ok(())
    }
}

/// Clipping by global norm (optax `clip_by_global_norm`): `g ← g · c / max(‖g‖₂, c)`, so the
/// direction is kept and the norm is at most `c`. (torch's `clip_grad_norm_` adds 1e-6 to ‖g‖;
/// this is the exact form.) Put it first in a chain to clip the raw gradient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipByGlobalNorm {
    pub max_norm: f64,
}

impl ClipByGlobalNorm {
    /// Clips to norm `max_norm > 0`.
    pub fn new(max_norm: f64) -> Result<Self> {
        if !(max_norm > 0.0 && max_norm.is_finite()) {
            return Err(Error::invalid("clip_norm", max_norm, "a finite number > 0"));
        }
        Ok(ClipByGlobalNorm { max_norm })
    }
}

impl Transform for ClipByGlobalNorm {
    fn name(&self) -> String {
        format!("clip_norm(max={})", self.max_norm)
    }
    fn build(&mut self, _layout: &Layout, _streams: &RngStreams) -> Result<()> {
        Ok(())
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], _params: &[f64]) {
        let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        if norm > self.max_norm {
            let s = self.max_norm / norm;
            grad.iter_mut().for_each(|g| *g *= s);
        }
    }
    fn hyper_names(&self) -> Vec<&'static str> {
        vec!["clip_norm"]
    }
    fn hyper(&self, name: &str) -> Option<f64> {
        (name == "clip_norm").then_some(self.max_norm)
    }
    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        if name != "clip_norm" {
            return Err(unknown_hyper("clip_norm", name, &["clip_norm"]));
        }
        *self = Self::new(value)?;
        Ok(())
    }
    fn state(&self) -> TransformState {
        TransformState::new("clip_norm").with_scalar("clip_norm", self.max_norm)
    }
    fn load_state(&mut self, s: &TransformState) -> Result<()> {
        s.expect_kind("clip_norm")?;
        *self = Self::new(s.scalar("clip_norm")?)?;
        Ok(())
    }
}

/// Clipping by value (optax `clip`, torch `clip_grad_value_`): `gᵢ ← min(max(gᵢ, −c), c)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipByValue {
    pub max: f64,
}

impl ClipByValue {
    /// Clips each entry to `[−max, max]`, `max > 0`.
    pub fn new(max: f64) -> Result<Self> {
        if !(max > 0.0 && max.is_finite()) {
            return Err(Error::invalid("clip_value", max, "a finite number > 0"));
        }
        Ok(ClipByValue { max })
    }
}

impl Transform for ClipByValue {
    fn name(&self) -> String {
        format!("clip_value(max={})", self.max)
    }
    fn build(&mut self, _layout: &Layout, _streams: &RngStreams) -> Result<()> {
        Ok(())
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], _params: &[f64]) {
        let c = self.max;
        grad.iter_mut().for_each(|g| *g = g.clamp(-c, c));
    }
    fn hyper_names(&self) -> Vec<&'static str> {
        vec!["clip_value"]
    }
    fn hyper(&self, name: &str) -> Option<f64> {
        (name == "clip_value").then_some(self.max)
    }
    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        if name != "clip_value" {
            return Err(unknown_hyper("clip_value", name, &["clip_value"]));
        }
        *self = Self::new(value)?;
        Ok(())
    }
    fn state(&self) -> TransformState {
        TransformState::new("clip_value").with_scalar("clip_value", self.max)
    }
    fn load_state(&mut self, s: &TransformState) -> Result<()> {
        s.expect_kind("clip_value")?;
        *self = Self::new(s.scalar("clip_value")?)?;
        Ok(())
    }
}
