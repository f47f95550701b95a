//! Floating-point quantization where P7 (Tang, Li & Zou, ICLR 2026, §2.2) puts it:
//!
//! - Q_W, the weights a worker sees: the oracle adapter [`QuantizedWeights`] evaluates the
//!   gradient at Q_W(x) while the optimizer keeps full-precision master weights x;
//!   [`WithQuantizedWeights`] makes any optimizer run through it (`adam(.., w=bf16)`).
//! - Q_G, the gradient sent back: the leading transform [`QuantizeGradient`].
//! - Q_M, Q_V, the stored optimizer states: inside [`crate::Adam`] and [`crate::Muon`].
//!
//! Stochastic rounding draws its bits from a counter-based hash of (seed, step, index); each
//! component gets its own seed from the run's [`RngStreams`], independent of the data and
//! noise streams, so full-precision and quantized runs see identical gradient noise.

use descent_core::{
    Caps, Function, Gradient, Layout, Problem, Quantizer, Requires, Result, RngStreams, Stochastic,
};

use serde::{Deserialize, Serialize};

use crate::Transform;
use crate::config::Config;
use crate::optimizer::{Optimizer, StepInfo};
use crate::registry::FromConfig;

/// The stochastic-rounding seed of one quantized component (`"quantize.m"`, ...) for the
/// transform built on `layout`: derived from the run seed, the component and the block names,
/// so the members of a partition draw independent bits.
pub fn quantizer_seed(streams: &RngStreams, component: &str, layout: &Layout) -> u64 {
    let mut salt: u64 = 0xcbf2_9ce4_8422_2325;
    for b in layout.blocks() {
        for c in b.name.bytes() {
            salt ^= c as u64;
            salt = salt.wrapping_mul(0x0000_0100_0000_01b3);
        }
        salt ^= b.offset as u64;
    }
    streams.child_seed(component, salt)
}

crate::config! {
    /// The setting of [`QuantizeGradient`].
    #[derive(Copy)]
    pub struct QuantizeConfig("quantize") {
        /// The float format and rounding the gradient is stored in, e.g. fmt(e=8, m=7, round=nearest).
        fmt: Quantizer;
    }
}

/// A counter of updates, the state of transforms whose only state is the step count their
/// stochastic rounding hashes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counter {
    /// Quantized updates so far (the stochastic-rounding step counter).
    pub count: u64,
}

/// Q_G: quantizes the gradient in place (put it first in a chain: P7's workers send Q_G(g)).
///
/// ```
/// use descent_core::{FloatFormat, Layout, Quantizer, RngStreams, Rounding};
/// use descent_optim::{QuantizeGradient, Transform};
///
/// let mut q = QuantizeGradient::new(Quantizer::new(FloatFormat::BF16, Rounding::Nearest));
/// q.build(&Layout::flat(2), &RngStreams::new(0))?;
/// let mut g = [1.0 + 1.0 / 1024.0, 3.0];
/// q.update(1, &mut g, &[0.0, 0.0]);
/// assert_eq!(g, [1.0, 3.0]); // bf16 keeps 7 mantissa bits
/// # Ok::<(), descent_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantizeGradient {
    cfg: QuantizeConfig,
    st: Counter,
}

impl QuantizeGradient {
    /// Quantizes with `quantizer` (its seed is set from the run seed at build).
    pub fn new(quantizer: Quantizer) -> Self {
        QuantizeGradient {
            cfg: QuantizeConfig { fmt: quantizer },
            st: Counter::default(),
        }
    }

    /// The quantizer (with the seed of the last build).
    pub fn quantizer(&self) -> Quantizer {
        self.cfg.fmt
    }
}

impl FromConfig for QuantizeGradient {
    type Config = QuantizeConfig;
    fn from_config(cfg: QuantizeConfig, _spec: &descent_core::Spec) -> Result<Self> {
        Ok(QuantizeGradient::new(cfg.fmt))
    }
}

impl Transform for QuantizeGradient {
    crate::plumbing! { config: cfg, state: st, }

    fn name(&self) -> String {
        self.cfg.spec_text()
    }
    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.cfg.fmt = self
            .cfg
            .fmt
            .with_seed(quantizer_seed(streams, "quantize.g", layout));
        self.st = Counter::default();
        Ok(())
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], _params: &[f64]) {
        self.st.count += 1;
        self.cfg.fmt.quantize_slice(grad, self.st.count, 0);
    }
}

/// Q_W as an oracle adapter: every value and gradient of the wrapped problem is evaluated at
/// Q_W(x), the quantized copy of the full-precision master weights x (P7 §2.2). The gradient is
/// the exact gradient at the quantized point, so a method that steps x by it keeps its master
/// weights in full precision. Offers Function, Gradient and Stochastic where the inner problem
/// does. The stochastic-rounding step counter advances once per evaluation.
///
/// ```
/// use descent_core::{FloatFormat, Gradient, Quantizer, Rounding, testfns::Quadratic};
/// use descent_optim::QuantizedWeights;
///
/// // f(x) = ½x², so ∇f(x) = x: the gradient is taken at bf16(x)
/// let bowl = Quadratic::diagonal(&[1.0], &[0.0])?;
/// let mut q = QuantizedWeights::new(bowl, Quantizer::new(FloatFormat::BF16, Rounding::Nearest));
/// let mut g = [0.0];
/// q.value_grad(&[1.0 + 1.0 / 1024.0], &mut g);
/// assert_eq!(g, [1.0]); // bf16 keeps 7 mantissa bits
/// assert_eq!(q.quantized_point(), &[1.0]);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct QuantizedWeights<P> {
    inner: P,
    quantizer: Quantizer,
    xq: Vec<f64>,
    evals: u64,
}

impl<P: Problem> QuantizedWeights<P> {
    /// Wraps `inner`; allocates the quantized copy once.
    pub fn new(inner: P, quantizer: Quantizer) -> Self {
        let n = inner.layout().len();
        Self::with_buffer(inner, quantizer, vec![0.0; n], 0)
    }

    /// Wraps `inner` reusing `buffer` (resized to the dimension) and continuing the evaluation
    /// counter from `evals` (for adapters created per step without allocating).
    pub fn with_buffer(inner: P, quantizer: Quantizer, mut buffer: Vec<f64>, evals: u64) -> Self {
        buffer.resize(inner.layout().len(), 0.0);
        QuantizedWeights {
            inner,
            quantizer,
            xq: buffer,
            evals,
        }
    }

    /// The inner problem, the buffer and the evaluation count.
    pub fn into_parts(self) -> (P, Vec<f64>, u64) {
        (self.inner, self.xq, self.evals)
    }

    /// The quantized point of the last evaluation.
    pub fn quantized_point(&self) -> &[f64] {
        &self.xq
    }

    fn quantize(&mut self, x: &[f64]) {
        self.evals += 1;
        self.xq.copy_from_slice(x);
        self.quantizer.quantize_slice(&mut self.xq, self.evals, 0);
    }
}

impl<P: Problem> Function for QuantizedWeights<P> {
    fn dim(&self) -> usize {
        self.inner.layout().len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.quantize(x);
        let f = self
            .inner
            .as_function()
            .expect("caps() offers Function only when the inner problem does");
        f.value(&self.xq)
    }
}

impl<P: Problem> Gradient for QuantizedWeights<P> {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        self.quantize(x);
        let inner = self
            .inner
            .as_gradient()
            .expect("caps() offers Gradient only when the inner problem does");
        inner.value_grad(&self.xq, g)
    }
}

impl<P: Problem> Stochastic for QuantizedWeights<P> {
    fn resample(&mut self) {
        descent_core::resample_if_stochastic(&mut self.inner);
    }
}

const QW_CAPS: Caps = Caps::FUNCTION;

impl<P: Problem> Problem for QuantizedWeights<P> {
    fn name(&self) -> String {
        format!("{} at Q_W = {}", self.inner.name(), self.quantizer)
    }
    fn layout(&self) -> &Layout {
        self.inner.layout()
    }
    fn caps(&self) -> Caps {
        self.inner.caps() & (QW_CAPS | Caps::GRADIENT | Caps::STOCHASTIC)
    }
    fn as_function(&mut self) -> Option<&mut dyn Function> {
        if self.inner.caps().contains(Caps::FUNCTION) {
            Some(self)
        } else {
            None
        }
    }
    fn as_gradient(&mut self) -> Option<&mut dyn Gradient> {
        if self.inner.caps().contains(Caps::GRADIENT) {
            Some(self)
        } else {
            None
        }
    }
    fn as_stochastic(&mut self) -> Option<&mut dyn Stochastic> {
        if self.inner.caps().contains(Caps::STOCHASTIC) {
            Some(self)
        } else {
            None
        }
    }
}

/// Any optimizer whose every evaluation goes through [`QuantizedWeights`]: P7's master keeps
/// x in full precision and the workers compute gradients at Q_W(x). Built by the registry for
/// the key `w=` (e.g. `adam(lr=1e-3, w=bf16(round=stochastic))`).
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{FloatFormat, Problem, Quantizer, Rounding, RngStreams, testfns::Quadratic};
/// use descent_optim::{Adam, AdamConfig, Optimizer, TransformOptimizer, WithQuantizedWeights, run};
///
/// let mut bowl = Quadratic::diagonal(&[1.0, 2.0], &[0.3, -0.7])?;
/// let mut x = vec![0.0, 0.0]; // f = 0.535
/// let adam = Adam::new(AdamConfig { lr: 0.01, ..Default::default() })?;
/// let inner = Box::new(TransformOptimizer::from_transform(Box::new(adam)));
/// let bf16 = Quantizer::new(FloatFormat::BF16, Rounding::Stochastic);
/// let mut opt = WithQuantizedWeights::new(inner, bf16);
/// opt.init(bowl.layout(), &RngStreams::new(0))?;
/// let end = run(&mut opt, &mut x, &mut bowl, 300, |_| Continue(()))?;
/// // the master weights stay in f64; the loss is measured at the bf16 copies
/// assert!(end.final_loss().unwrap() < 1e-3);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct WithQuantizedWeights {
    inner: Box<dyn Optimizer>,
    quantizer: Quantizer,
    buffer: Vec<f64>,
    st: Counter,
}

impl WithQuantizedWeights {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn Optimizer>, quantizer: Quantizer) -> Self {
        WithQuantizedWeights {
            inner,
            quantizer,
            buffer: Vec::new(),
            st: Counter::default(),
        }
    }
}

impl Optimizer for WithQuantizedWeights {
    crate::plumbing! { kind: "quantized_weights", state: st, child: inner, }

    fn requires(&self) -> Requires {
        self.inner.requires()
    }
    fn name(&self) -> String {
        self.inner.name()
    }
    fn init(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.quantizer = self
            .quantizer
            .with_seed(quantizer_seed(streams, "quantize.w", layout));
        self.buffer = vec![0.0; layout.len()];
        self.st = Counter::default();
        self.inner.init(layout, streams)
    }
    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        let buffer = std::mem::take(&mut self.buffer);
        let mut qw = QuantizedWeights::with_buffer(problem, self.quantizer, buffer, self.st.count);
        let info = self.inner.step(x, &mut qw);
        let (_, buffer, evals) = qw.into_parts();
        self.buffer = buffer;
        self.st.count = evals;
        info
    }
}

/// P7 Theorem 4.5's stability condition for Adam with quantized moments: with relative
/// quantization errors q_M (first moment) and q_V (second moment), the bound holds when
/// β₁²(1 + q_M)² < β₂(1 − q_V) (strict). A sufficient condition: β = (0.9, 0.999) with
/// q_M = q_V = q holds iff q < 0.0706, so round-to-nearest (q = 2^−(M+1)) needs M ≥ 3 mantissa
/// bits and stochastic rounding (q = 2^−M) M ≥ 4.
pub fn adam_condition(beta1: f64, beta2: f64, q_m: f64, q_v: f64) -> bool {
    beta1 * beta1 * (1.0 + q_m).powi(2) < beta2 * (1.0 - q_v)
}

/// The Muon analogue for a quantized momentum, derived from the momentum factor P7 quotes for
/// its Muon theorem: the factor's denominator stays positive, β(1 + q_M) < 1, i.e.
/// q_M < (1 − β)/β (β = 0.95: q_M < 0.0526). Sufficient only: Muon with M = 3 round-to-nearest
/// momentum stays close to full precision although the predicate fails there.
pub fn muon_condition(beta: f64, q_m: f64) -> bool {
    beta * (1.0 + q_m) < 1.0
}
