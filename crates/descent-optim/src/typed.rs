//! The typed path: every wrapper the spec keys add (`clip_norm=`, `clip_value=`, `schedule=`,
//! `g=`, `w=`) as a method on a typed transform or optimizer, so a program builds exactly what
//! `adam(lr=1e-3, clip_norm=1, schedule=cosine(total=1000))` builds without writing a spec:
//!
//! ```
//! use descent_optim::{Adam, AdamConfig, Optimizer, Schedule, TransformExt, parse_optimizer};
//!
//! let typed = Adam::new(AdamConfig { lr: 1e-3, ..Default::default() })?
//!     .with_schedule(Schedule::Cosine { total: 1000, min: 0.0 })?
//!     .with_clip_norm(1.0)?
//!     .into_optimizer();
//! let text = parse_optimizer("adam(lr=1e-3, clip_norm=1, schedule=cosine(total=1000))")?;
//! assert_eq!(typed.state(), text.state()); // the same transforms with the same settings
//! # Ok::<(), descent_core::Error>(())
//! ```
//!
//! The spec builder applies the wrappers in one order, `chain(quantize(g), clip_value,
//! clip_norm, scheduled(optimizer))`; calling `with_schedule` first and then the clipping and
//! quantizing methods, innermost first, reproduces it (and its numbers, bit for bit).

use std::any::Any;

use descent_core::{Quantizer, Result};

use crate::first_order::{ClipByGlobalNorm, ClipByValue};
use crate::optimizer::{Optimizer, TransformOptimizer};
use crate::quantized::{QuantizeGradient, WithQuantizedWeights};
use crate::schedule::{Schedule, Scheduled};
use crate::transform::{Chain, Transform};

/// Wrappers for any typed transform (implemented for every `Transform + 'static`).
pub trait TransformExt: Transform + Sized + 'static {
    /// The transform as a `Box<dyn Transform>` (for [`Chain`], [`crate::Partition`] and the
    /// optimizers that take a base transform).
    fn boxed(self) -> Box<dyn Transform> {
        Box::new(self)
    }

    /// `chain(clip_norm(max), self)`: the gradient is rescaled to global norm at most
    /// `max_norm` first (the spec key `clip_norm=`).
    ///
    /// # Errors
    ///
    /// `max_norm` not finite and > 0.
    fn with_clip_norm(self, max_norm: f64) -> Result<Chain> {
        Ok(prepend(Box::new(ClipByGlobalNorm::new(max_norm)?), self))
    }

    /// `chain(clip_value(max), self)`: each gradient entry is clamped to `[−max, max]` first
    /// (the spec key `clip_value=`).
    ///
    /// # Errors
    ///
    /// `max` not finite and > 0.
    fn with_clip_value(self, max: f64) -> Result<Chain> {
        Ok(prepend(Box::new(ClipByValue::new(max)?), self))
    }

    /// `chain(quantize(q), self)`: the gradient is quantized first (P7's Q_G, the spec key
    /// `g=`).
    fn with_gradient_quantizer(self, quantizer: Quantizer) -> Chain {
        prepend(Box::new(QuantizeGradient::new(quantizer)), self)
    }

    /// `scheduled(self, schedule)`: the learning rate `lr · schedule.factor(t)` at update `t`
    /// (the spec key `schedule=`).
    ///
    /// # Errors
    ///
    /// A transform without an `lr` hyperparameter, or a schedule out of range.
    fn with_schedule(self, schedule: Schedule) -> Result<Scheduled> {
        Scheduled::new(Box::new(self), schedule)
    }

    /// `chain(self, next)`: `next` rewrites this transform's output.
    fn then(self, next: impl Transform + 'static) -> Chain {
        Chain::new(vec![Box::new(self), Box::new(next)])
    }

    /// The transform as an [`Optimizer`] (each step: gradient, update, `x ← x + u`), named
    /// after the transform.
    fn into_optimizer(self) -> TransformOptimizer {
        TransformOptimizer::from_transform(Box::new(self))
    }
}

impl<T: Transform + 'static> TransformExt for T {}

/// `chain(first, rest)`, flattening a chain `rest` so that repeated wrapping stays one chain
/// (`chain(clip_value, clip_norm, core)`, as the spec builder makes it).
fn prepend<T: Transform + 'static>(first: Box<dyn Transform>, rest: T) -> Chain {
    let mut rest = Some(rest);
    if let Some(chain) = (&mut rest as &mut dyn Any).downcast_mut::<Option<Chain>>()
        && let Some(chain) = chain.take()
    {
        let mut members = chain.into_members();
        members.insert(0, first);
        return Chain::new(members);
    }
    let rest = rest.expect("taken only when it is a chain");
    Chain::new(vec![first, Box::new(rest)])
}

/// Wrappers for any typed optimizer (implemented for every `Optimizer + 'static`).
pub trait OptimizerExt: Optimizer + Sized + 'static {
    /// The optimizer as a `Box<dyn Optimizer>`.
    fn boxed(self) -> Box<dyn Optimizer> {
        Box::new(self)
    }

    /// Every value and gradient evaluated at the quantized weights Q_W(x), master weights in
    /// f64 (P7; the spec key `w=`).
    fn with_quantized_weights(self, quantizer: Quantizer) -> WithQuantizedWeights {
        WithQuantizedWeights::new(Box::new(self), quantizer)
    }
}

impl<O: Optimizer + 'static> OptimizerExt for O {}
