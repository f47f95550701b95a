//! Optimizers and transforms built from spec text (DESIGN §3 "Spec grammar").
//!
//! ```text
//! sgd(lr=0.01, momentum=0, dampening=0, nesterov=false, weight_decay=0)
//! adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0)        L2 decay
//! adamw(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01)    decoupled decay
//! ```
//!
//! Every first-order optimizer also takes
//! - `clip_value=c`: clamp each gradient entry to `[−c, c]` first;
//! - `clip_norm=c`: then rescale the gradient to global norm at most `c`;
//! - `schedule=S`: drive `lr` by a [`Schedule`]: `constant`, `step(step_size=30, gamma=0.1)`,
//!   `exponential(gamma=0.99)`, `cosine(total=1000, min=0)`,
//!   `warmup_cosine(warmup=100, total=1000, min=0)`, `linear(total=1000, end=0)`, `inv_sqrt`
//!   (`min`, `end` are fractions of `lr`).
//!
//! e.g. `adamw(lr=3e-4, clip_norm=1, schedule=warmup_cosine(warmup=100, total=5000))`. The
//! result is `chain(clip_value, clip_norm, scheduled(optimizer))`, leaving out what is not given.
//! Defaults are torch.optim's, except `sgd.lr = 0.01` (torch's SGD has no meaningful default).
//!
//! [`build_transform`] also knows the building blocks `clip_norm(max=..)`,
//! `clip_value(max=..)`, `decoupled_weight_decay(lr=.., weight_decay=..)` and
//! `chain(of=[spec, spec, ...])`.

use descent_core::{Args, Error, Result, Spec};

use crate::first_order::{
    Adam, AdamConfig, ClipByGlobalNorm, ClipByValue, DecoupledWeightDecay, Sgd, SgdConfig,
};
use crate::optimizer::{Optimizer, TransformOptimizer};
use crate::schedule::{Schedule, Scheduled};
use crate::transform::{Chain, Transform};

/// The optimizers [`build_optimizer`] knows: (name, one-line description with keys and
/// defaults), for `descent list`.
pub const OPTIMIZERS: &[(&str, &str)] = &[
    (
        "sgd",
        "SGD as torch.optim.SGD: lr=0.01, momentum=0, dampening=0, nesterov=false, \
         weight_decay=0 (L2); also clip_norm, clip_value, schedule",
    ),
    (
        "adam",
        "Adam as torch.optim.Adam: lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, \
         weight_decay=0 (L2); also clip_norm, clip_value, schedule",
    ),
    (
        "adamw",
        "AdamW as torch.optim.AdamW: lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, \
         weight_decay=0.01 (decoupled); also clip_norm, clip_value, schedule",
    ),
];

/// The building blocks [`build_transform`] knows besides [`OPTIMIZERS`].
pub const TRANSFORMS: &[(&str, &str)] = &[
    ("clip_norm", "rescale to global norm <= max: max (required)"),
    (
        "clip_value",
        "clamp each entry to [-max, max]: max (required)",
    ),
    (
        "decoupled_weight_decay",
        "add -lr*weight_decay*x to the update: lr=0.01, weight_decay=0.01",
    ),
    (
        "chain",
        "apply transforms in order: of=[spec, ...] (required)",
    ),
    (
        "synaptic_noise",
        "add sqrt(lr)*sigma*N(0,1) to every update entry (P1): lr=0.01, sigma (required)",
    ),
];

/// The keys every first-order optimizer takes besides its own.
pub const COMMON_KEYS: &[&str] = &["clip_norm", "clip_value", "schedule"];

fn names(list: &[(&'static str, &str)]) -> Vec<&'static str> {
    list.iter().map(|(n, _)| *n).collect()
}

/// Builds an optimizer from its spec, e.g. `sgd(lr=0.1, momentum=0.9, nesterov=true)`. Unknown
/// names list the valid ones; unknown keys and bad values name `optimizer.key`.
pub fn build_optimizer(spec: &Spec) -> Result<Box<dyn Optimizer>> {
    if !OPTIMIZERS.iter().any(|(n, _)| *n == spec.name) {
        return Err(Error::unknown_name(
            "optimizer",
            &spec.name,
            &names(OPTIMIZERS),
        ));
    }
    let t = build_transform(spec)?;
    Ok(Box::new(TransformOptimizer::new(t, spec.to_string())))
}

/// Parses and builds an optimizer from text.
pub fn parse_optimizer(text: &str) -> Result<Box<dyn Optimizer>> {
    build_optimizer(&Spec::parse(text)?)
}

/// Builds a transform from its spec: an optimizer of [`OPTIMIZERS`] (with clipping and schedule)
/// or a building block of [`TRANSFORMS`].
pub fn build_transform(spec: &Spec) -> Result<Box<dyn Transform>> {
    match spec.name.as_str() {
        "sgd" => {
            let keys = with_common(&["lr", "momentum", "dampening", "nesterov", "weight_decay"]);
            let a = spec.args(&keys)?;
            let d = SgdConfig::default();
            let cfg = SgdConfig {
                lr: a.positive("lr", d.lr)?,
                momentum: a.f64("momentum", d.momentum)?,
                dampening: a.f64("dampening", d.dampening)?,
                nesterov: a.bool("nesterov", d.nesterov)?,
                weight_decay: a.f64("weight_decay", d.weight_decay)?,
            };
            wrap_common(Box::new(Sgd::new(cfg)?), &a)
        }
        "adam" | "adamw" => {
            let keys = with_common(&["lr", "beta1", "beta2", "eps", "weight_decay"]);
            let a = spec.args(&keys)?;
            let d = if spec.name == "adamw" {
                AdamConfig::adamw()
            } else {
                AdamConfig::default()
            };
            let cfg = AdamConfig {
                lr: a.positive("lr", d.lr)?,
                beta1: a.f64("beta1", d.beta1)?,
                beta2: a.f64("beta2", d.beta2)?,
                eps: a.f64("eps", d.eps)?,
                weight_decay: a.f64("weight_decay", d.weight_decay)?,
                decoupled: d.decoupled,
            };
            wrap_common(Box::new(Adam::new(cfg)?), &a)
        }
        "clip_norm" => {
            let a = spec.args(&["max"])?;
            Ok(Box::new(ClipByGlobalNorm::new(required(&a, spec, "max")?)?))
        }
        "clip_value" => {
            let a = spec.args(&["max"])?;
            Ok(Box::new(ClipByValue::new(required(&a, spec, "max")?)?))
        }
        "decoupled_weight_decay" => {
            let a = spec.args(&["lr", "weight_decay"])?;
            Ok(Box::new(DecoupledWeightDecay::new(
                a.f64("lr", 0.01)?,
                a.f64("weight_decay", 0.01)?,
            )?))
        }
        "synaptic_noise" => {
            let a = spec.args(&["lr", "sigma"])?;
            Ok(Box::new(crate::SynapticNoise::new(
                a.f64("lr", 0.01)?,
                required(&a, spec, "sigma")?,
                Vec::new(),
            )?))
        }
        "chain" => {
            spec.args(&["of"])?;
            let items = match spec.args.iter().find(|(k, _)| k == "of") {
                Some((_, descent_core::Value::List(items))) => items,
                Some((_, v)) => {
                    return Err(Error::invalid(
                        "chain.of",
                        v,
                        "a list of specs [a(..), b(..)]",
                    ));
                }
                None => {
                    return Err(Error::invalid(
                        "chain.of",
                        "nothing",
                        "a list of specs (required)",
                    ));
                }
            };
            let members = items
                .iter()
                .map(|v| match v {
                    descent_core::Value::Spec(s) => build_transform(s),
                    other => Err(Error::invalid("chain.of", other, "a transform spec")),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Box::new(Chain::new(members)))
        }
        other => {
            let mut valid = names(OPTIMIZERS);
            valid.extend(names(TRANSFORMS));
            Err(Error::unknown_name("transform", other, &valid))
        }
    }
}

fn with_common(own: &[&'static str]) -> Vec<&'static str> {
    own.iter().chain(COMMON_KEYS).copied().collect()
}

fn required(a: &Args<'_>, spec: &Spec, key: &str) -> Result<f64> {
    a.f64_opt(key)?.ok_or_else(|| {
        Error::invalid(
            format!("{}.{key}", spec.name),
            "nothing",
            "a number (required)",
        )
    })
}

/// `chain(clip_value, clip_norm, scheduled(core))` with the parts that were given.
fn wrap_common(core: Box<dyn Transform>, a: &Args<'_>) -> Result<Box<dyn Transform>> {
    let core: Box<dyn Transform> = match a.spec("schedule")? {
        Some(s) => Box::new(Scheduled::new(core, Schedule::from_spec(s)?)?),
        None => core,
    };
    let mut members: Vec<Box<dyn Transform>> = Vec::new();
    if a.has("clip_value") {
        members.push(Box::new(ClipByValue::new(a.positive("clip_value", 1.0)?)?));
    }
    if a.has("clip_norm") {
        members.push(Box::new(ClipByGlobalNorm::new(
            a.positive("clip_norm", 1.0)?,
        )?));
    }
    if members.is_empty() {
        return Ok(core);
    }
    members.push(core);
    Ok(Box::new(Chain::new(members)))
}
