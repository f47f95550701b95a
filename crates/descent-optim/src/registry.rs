//! Optimizers and transforms built from spec text (DESIGN §3 "Spec grammar"): one table,
//! [`OPTIMIZERS`] and [`TRANSFORMS`], whose keys, defaults and meanings come from each method's
//! config struct (see [`mod@crate::config`]), so `descent list`, the builder and the rustdoc of
//! every config cannot disagree. `descent list` prints them; e.g.
//!
//! ```text
//! sgd(lr=0.01, momentum=0, dampening=0, nesterov=false, weight_decay=0)
//! adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0)        L2 decay
//! adamw(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01)    decoupled decay
//! muon(lr=0.02, beta=0.95, nesterov=true, ns_steps=5, ns_format=fp64, weight_decay=0,
//!      adam_lr=3e-4, adam_beta1=0.9, adam_beta2=0.95, adam_eps=1e-10)    AdamW off matrices
//! ```
//!
//! Every first-order optimizer (`sgd`, `adam`, `adamw`, `muon`) also takes the keys of
//! [`CommonConfig`]: `clip_value=c`, `clip_norm=c`, `schedule=S` (a [`Schedule`]: `constant`,
//! `step(step_size=30, gamma=0.1)`, `exponential(gamma=0.99)`, `cosine(total=1000, min=0)`,
//! `warmup_cosine(warmup=100, total=1000, min=0)`, `linear(total=1000, end=0)`, `inv_sqrt`),
//! and P7's quantizers `g=F` (the gradient) and `w=F` (the weights the gradient is evaluated at;
//! top-level only), where F is a float format (`bf16`, `fmt(e=8, m=7, round=stochastic)`, see
//! [`descent_core::float_format`]). The result is `chain(quantize(g), clip_value, clip_norm,
//! scheduled(optimizer))`, leaving out what is not given; e.g.
//! `adamw(lr=3e-4, clip_norm=1, schedule=warmup_cosine(warmup=100, total=5000))`.
//! Defaults are torch.optim's, except `sgd.lr = 0.01` (torch's SGD has no meaningful default).
//!
//! Zeroth-order methods and SAM wrap any transform (`base=`): `zo(law=sphere, q=10, mu=1e-4,
//! base=adam(lr=1e-2))` is ZO-Adam, `sam(rho=0.05, base=sgd(lr=0.1, momentum=0.9))` SAM.
//!
//! Building blocks compose: `chain(of=[scale_by_adam, add_decayed_weights(weight_decay=0.01),
//! scale_by_lr(lr=1e-3)])` is AdamW in optax's form, and
//! `partition(matrix=muon, vector=adam(lr=1e-3))` or
//! `partition(groups=[group(match="*.bias", opt=sgd(lr=0.1))], default=adam)` send layout blocks
//! to different transforms (torch.optim parameter groups). Every transform is also an optimizer.
//!
//! Adding a method: write its config with [`crate::config!`], implement [`FromConfig`] (its
//! constructor) and the update, and add one line to the table.

use descent_core::{Error, Quantizer, Result, Spec, Value};

use crate::config::{Config, KeyDoc, POSITIVE, describe};
use crate::entropy_sgd::EntropySgd;
use crate::first_order::{Adam, ClipByGlobalNorm, ClipByValue, DecoupledWeightDecay, Sgd};
use crate::hierarchical::{AdaBio, AdaMinimax, Sgda, StocBio, TiAda};
use crate::lbfgs::Lbfgs;
use crate::muon::Muon;
use crate::natural::Engd;
use crate::noise::SynapticNoise;
use crate::optimizer::{Optimizer, TransformOptimizer};
use crate::primitives::{AddDecayedWeights, Scale, ScaleByAdam, ScaleByLr, Trace};
use crate::quantized::{QuantizeGradient, WithQuantizedWeights};
use crate::reduction::GeoPrecGd;
use crate::rolling_ball::Rbo;
use crate::sam::SamOptimizer;
use crate::schedule::{Schedule, Scheduled};
use crate::transform::{Chain, Partition, Transform};
use crate::zeroth_order::ZoOptimizer;

/// A transform or optimizer built from its config (see [`crate::config!`]): the registry reads
/// the config from the spec, then calls `from_config`.
pub trait FromConfig: Sized {
    /// The typed config the registry reads from the spec.
    type Config: Config;

    /// Keys read beside the config's own (e.g. `base`), for `descent list`.
    fn extra_keys() -> Vec<KeyDoc> {
        Vec::new()
    }

    /// Builds from a read and validated config; `spec` is the text it came from (its name, and
    /// the extra keys).
    fn from_config(cfg: Self::Config, spec: &Spec) -> Result<Self>;
}

/// How an [`Entry`] is built.
#[derive(Clone, Copy)]
pub enum Build {
    /// A first-order optimizer: a transform that also takes the keys of [`CommonConfig`].
    FirstOrder(fn(&Spec) -> Result<Box<dyn Transform>>),
    /// A building block (a transform; as an optimizer through [`TransformOptimizer`]).
    Transform(fn(&Spec) -> Result<Box<dyn Transform>>),
    /// A method that chooses where to evaluate or wraps the problem (an optimizer only).
    Optimizer(fn(&Spec) -> Result<Box<dyn Optimizer>>),
}

/// One line of the table: a name, what it is, its keys (generated from its config) and its
/// builder.
#[derive(Clone, Copy)]
pub struct Entry {
    /// The spec name.
    pub name: &'static str,
    /// One line: what the method is.
    pub summary: &'static str,
    /// The keys with their defaults and meanings (the argument is the entry's name).
    pub keys: fn(&str) -> Vec<KeyDoc>,
    /// How it is built.
    pub build: Build,
}

impl Entry {
    /// A first-order optimizer: its config's keys and those of [`CommonConfig`].
    pub const fn first_order<T: FromConfig + Transform + 'static>(
        name: &'static str,
        summary: &'static str,
    ) -> Entry {
        let build = Build::FirstOrder(build_transform_of::<T>);
        Entry {
            name,
            summary,
            keys: first_order_keys::<T>,
            build,
        }
    }

    /// A building block.
    pub const fn transform<T: FromConfig + Transform + 'static>(
        name: &'static str,
        summary: &'static str,
    ) -> Entry {
        Self::of::<T>(name, summary, Build::Transform(build_transform_of::<T>))
    }

    /// An optimizer that is not a transform.
    pub const fn optimizer<T: FromConfig + Optimizer + 'static>(
        name: &'static str,
        summary: &'static str,
    ) -> Entry {
        Self::of::<T>(name, summary, Build::Optimizer(build_optimizer_of::<T>))
    }

    const fn of<T: FromConfig>(name: &'static str, summary: &'static str, build: Build) -> Entry {
        Entry {
            name,
            summary,
            keys: keys_of::<T>,
            build,
        }
    }

    /// True for the entries usable as transforms (inside `chain`, `partition`, `base=`).
    pub fn is_transform(&self) -> bool {
        !matches!(self.build, Build::Optimizer(_))
    }
}

fn keys_of<T: FromConfig>(name: &str) -> Vec<KeyDoc> {
    let mut keys = T::Config::preset(name).docs();
    keys.extend(T::extra_keys());
    keys
}

fn first_order_keys<T: FromConfig>(name: &str) -> Vec<KeyDoc> {
    let mut keys = keys_of::<T>(name);
    keys.extend(CommonConfig::default().docs());
    keys
}

fn extra_names<T: FromConfig>() -> Vec<&'static str> {
    T::extra_keys().iter().map(|k| k.key).collect()
}

fn build_transform_of<T: FromConfig + Transform + 'static>(
    spec: &Spec,
) -> Result<Box<dyn Transform>> {
    let cfg = T::Config::from_spec_with(spec, &extra_names::<T>())?;
    Ok(Box::new(T::from_config(cfg, spec)?))
}

fn build_optimizer_of<T: FromConfig + Optimizer + 'static>(
    spec: &Spec,
) -> Result<Box<dyn Optimizer>> {
    let cfg = T::Config::from_spec_with(spec, &extra_names::<T>())?;
    Ok(Box::new(T::from_config(cfg, spec)?))
}

/// The optimizers [`build_optimizer`] knows besides the [`TRANSFORMS`] (every transform is an
/// optimizer too), for `descent list`.
pub const OPTIMIZERS: &[Entry] = &[
    Entry::first_order::<Sgd>(
        "sgd",
        "SGD as torch.optim.SGD (momentum, dampening, Nesterov, L2 weight decay)",
    ),
    Entry::first_order::<Adam>("adam", "Adam as torch.optim.Adam (L2 weight decay)"),
    Entry::first_order::<Adam>(
        "adamw",
        "AdamW as torch.optim.AdamW (decoupled weight decay)",
    ),
    Entry::first_order::<Muon>(
        "muon",
        "Muon (KellerJordan/Muon): Newton-Schulz-orthogonalised momentum on matrix blocks, \
         AdamW elsewhere",
    ),
    Entry::optimizer::<ZoOptimizer>(
        "zo",
        "zeroth-order: any transform over a two-point gradient estimate (P10)",
    ),
    Entry::optimizer::<Engd>(
        "engd",
        "energy natural gradient in parameter space, (JᵀJ + λI)⁻¹Jᵀ by Cholesky (P8); needs \
         Residuals",
    ),
    Entry::optimizer::<Engd>(
        "engd_w",
        "ENGD-W, the Woodbury/sample-space form Jᵀ(JJᵀ + λI)⁻¹ (P8); needs Residuals",
    ),
    Entry::optimizer::<Engd>(
        "spring",
        "SPRING, ENGD-W with momentum and bias correction (P8); needs Residuals",
    ),
    Entry::optimizer::<Engd>(
        "nystrom",
        "ENGD-W/SPRING with a randomized Nyström kernel of rank ℓ (P8); needs Residuals",
    ),
    Entry::optimizer::<Engd>(
        "sap",
        "ENGD-W with a sketch-and-project kernel solve of rank ℓ; needs Residuals",
    ),
    Entry::optimizer::<Lbfgs>("lbfgs", "L-BFGS with a strong-Wolfe line search"),
    Entry::optimizer::<SamOptimizer>(
        "sam",
        "sharpness-aware minimization (Foret et al. 2021): the base transform applied to the \
         gradient at w + rho g/|g| of the same minibatch (2 gradients/step)",
    ),
    Entry::optimizer::<Rbo>(
        "rbo",
        "Rolling Ball Optimizer (Belgoumri et al. 2025): 1 + inner_steps gradients/step",
    ),
    Entry::optimizer::<EntropySgd>(
        "entropy_sgd",
        "Entropy-SGD (Chaudhari et al. 2017): an SGLD inner loop estimates the local entropy's \
         gradient",
    ),
    Entry::optimizer::<Sgda>(
        "sgda",
        "stochastic gradient descent-ascent over z = (x, y) of a minimax problem (P4)",
    ),
    Entry::optimizer::<Sgda>(
        "pdsm",
        "SGDA with moving-average gradients, weight theta on the new one (PDSM, P4's AUC \
         baseline)",
    ),
    Entry::optimizer::<TiAda>(
        "tiada",
        "TiAda (Li et al. 2023): time-scale adaptive AdaGrad-Norm steps for minimax (P4)",
    ),
    Entry::optimizer::<AdaMinimax>(
        "ada_minimax",
        "Ada-Minimax (Gong et al. 2025, Alg. 1): normalised momentum with an online noise \
         estimate, AdaGrad-Norm ascent; 2 minimax gradients/step (two_sample)",
    ),
    Entry::optimizer::<StocBio>(
        "stocbio",
        "fixed-step stochastic bilevel baseline (StocBiO style): inner SGD on y, Neumann \
         hypergradient step on x (P4)",
    ),
    Entry::optimizer::<AdaBio>(
        "ada_bio",
        "Ada-BiO (Gong et al. 2025, Alg. 2): Ada-Minimax's template on Neumann hypergradients, \
         AdaGrad-Norm descent on the lower level",
    ),
    Entry::optimizer::<GeoPrecGd>(
        "geoprec",
        "GeoPrecGD (P5): x₁ ← x₁ − lr·R⁻¹∇F in the pullback metric R = I + DΨᵀDΨ of a \
         reduction (Woodbury when DΨ is low rank); needs ReductionJacobian",
    ),
];

/// The building blocks [`build_transform`] knows besides the first-order [`OPTIMIZERS`].
pub const TRANSFORMS: &[Entry] = &[
    Entry::transform::<ClipByGlobalNorm>("clip_norm", "rescale the update to global norm <= max"),
    Entry::transform::<ClipByValue>("clip_value", "clamp each entry to [-max, max]"),
    Entry::transform::<DecoupledWeightDecay>(
        "decoupled_weight_decay",
        "add -lr*weight_decay*x to the update",
    ),
    Entry {
        name: "chain",
        summary: "apply transforms in order (optax chain)",
        keys: |_| Chain::keys(),
        build: Build::Transform(|s| Ok(Box::new(Chain::from_spec(s)?))),
    },
    Entry {
        name: "partition",
        summary: "send layout blocks to different transforms (optax partition, torch.optim \
                  parameter groups): by glob on the block name, then by shape, then default",
        keys: |_| Partition::keys(),
        build: Build::Transform(|s| Ok(Box::new(Partition::from_spec(s)?))),
    },
    Entry::transform::<QuantizeGradient>("quantize", "quantize the gradient (P7's Q_G)"),
    Entry::transform::<SynapticNoise>(
        "synaptic_noise",
        "add sqrt(lr)*sigma*N(0,1) to every update entry (P1)",
    ),
    Entry::transform::<Scale>("scale", "multiply the update by a constant (optax scale)"),
    Entry::transform::<ScaleByLr>(
        "scale_by_lr",
        "multiply the update by -lr (optax scale_by_learning_rate; schedules drive lr)",
    ),
    Entry::transform::<Trace>(
        "trace",
        "momentum t ← g + decay·t, update t or g + decay·t (optax trace)",
    ),
    Entry::transform::<ScaleByAdam>(
        "scale_by_adam",
        "Adam's direction m̂/(√v̂ + ε) without the learning rate (optax scale_by_adam)",
    ),
    Entry::transform::<AddDecayedWeights>(
        "add_decayed_weights",
        "add weight_decay·x to the update (optax add_decayed_weights)",
    ),
];

crate::config! {
    /// The keys every first-order optimizer takes besides its own. They wrap it as
    /// `chain(quantize(g), clip_value, clip_norm, scheduled(optimizer))` (Q_G first: P7's
    /// workers send the quantized gradient), and `w` evaluates its gradients at quantized
    /// weights.
    pub struct CommonConfig("common") {
        /// Rescale the gradient to global norm at most c (after clip_value).
        clip_norm: Option<f64> = None => POSITIVE;
        /// Clamp each gradient entry to [-c, c] (first).
        clip_value: Option<f64> = None => POSITIVE;
        /// Drive lr by a schedule: constant, step(step_size, gamma), exponential(gamma),
        /// cosine(total, min), warmup_cosine(warmup, total, min), linear(total, end), inv_sqrt.
        schedule: Option<Schedule> = None;
        /// Quantize the gradient first (P7's Q_G), e.g. bf16 or fmt(e=8, m=7, round=stochastic).
        g: Option<Quantizer> = None;
        /// Evaluate gradients at the quantized weights Q_W(x), master weights in f64 (P7;
        /// top-level optimizers only).
        w: Option<Quantizer> = None;
    }
}

/// The entry of `name` in [`OPTIMIZERS`] or [`TRANSFORMS`].
pub fn entry(name: &str) -> Option<&'static Entry> {
    OPTIMIZERS.iter().chain(TRANSFORMS).find(|e| e.name == name)
}

fn names(entries: impl Iterator<Item = &'static Entry>) -> Vec<&'static str> {
    entries.map(|e| e.name).collect()
}

/// `descent list`'s block of entries: the name, what it is, and one row per key with its
/// default and meaning.
pub fn listing(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        describe(e.name, e.summary, &(e.keys)(e.name), &mut out);
    }
    out
}

/// Builds an optimizer from its spec, e.g. `sgd(lr=0.1, momentum=0.9, nesterov=true)`: an
/// entry of [`OPTIMIZERS`], or any transform of [`TRANSFORMS`] run by a
/// [`TransformOptimizer`]. Unknown names list the valid ones; unknown keys and bad values name
/// `optimizer.key`.
///
/// # Errors
///
/// See above: an unknown name (listing the valid ones), an unknown key, or a bad value naming `optimizer.key`.
pub fn build_optimizer(spec: &Spec) -> Result<Box<dyn Optimizer>> {
    let Some(entry) = entry(&spec.name) else {
        return Err(Error::unknown_name(
            "optimizer",
            &spec.name,
            &names(OPTIMIZERS.iter().chain(TRANSFORMS)),
        ));
    };
    match entry.build {
        Build::Optimizer(build) => build(spec),
        Build::FirstOrder(_) => build_first_order(spec),
        Build::Transform(build) => Ok(Box::new(TransformOptimizer::new(
            build(spec)?,
            spec.to_string(),
        ))),
    }
}

/// A first-order optimizer, wrapped in P7's quantized-weights adapter when `w=` is given. `w=`
/// is read here and removed before [`build_transform`] sees the spec, because Q_W acts on the
/// point where the gradient is evaluated, which only a top-level optimizer controls.
fn build_first_order(spec: &Spec) -> Result<Box<dyn Optimizer>> {
    let (w_args, rest): (Vec<_>, Vec<_>) = spec.args.iter().cloned().partition(|(k, _)| k == "w");
    let only_w = Spec {
        args: w_args,
        ..spec.clone()
    };
    let w = crate::config::quantizer(&only_w.args(&["w"])?, "w")?;
    let without_w = Spec {
        args: rest,
        ..spec.clone()
    };
    let t = build_transform(&without_w)?;
    let opt: Box<dyn Optimizer> = Box::new(TransformOptimizer::new(t, spec.to_string()));
    Ok(match w {
        Some(q) => Box::new(WithQuantizedWeights::new(opt, q)),
        None => opt,
    })
}

/// Parses and builds an optimizer from text.
///
/// # Errors
///
/// Text that is not a spec, or as [`build_optimizer`].
pub fn parse_optimizer(text: &str) -> Result<Box<dyn Optimizer>> {
    build_optimizer(&Spec::parse(text)?)
}

/// Builds a transform from its spec: a first-order optimizer of [`OPTIMIZERS`] (with clipping
/// and schedule) or a building block of [`TRANSFORMS`].
///
/// `w=` (P7's quantized weights Q_W) is rejected here: a transform only maps a gradient to an
/// update and never chooses where the gradient is evaluated, so inside `chain(..)`,
/// `zo(base=..)`, `sam(base=..)` and the like it would be silently ignored. It is valid on a
/// top-level optimizer built by [`build_optimizer`], e.g. `adam(lr=1e-3, w=bf16)`.
///
/// # Errors
///
/// An unknown name, key or value as in [`build_optimizer`], and `w=` (see above).
pub fn build_transform(spec: &Spec) -> Result<Box<dyn Transform>> {
    let found = entry(&spec.name);
    match found.map(|e| e.build) {
        Some(Build::FirstOrder(build)) => {
            if let Some((_, w)) = spec.args.iter().find(|(k, _)| k == "w") {
                return Err(Error::invalid(
                    format!("{}.w", spec.name),
                    w,
                    format!(
                        "no w= here: quantized weights (Q_W) are only valid on a top-level \
                         optimizer, e.g. {}(lr=1e-3, w=bf16), not on a transform inside \
                         chain(..), zo(base=..), sam(base=..) or another spec",
                        spec.name
                    ),
                ));
            }
            // the optimizer's own keys and the common ones, in the order `descent list` shows
            let keys: Vec<&str> = found.map_or_else(Vec::new, |e| {
                (e.keys)(&spec.name).iter().map(|k| k.key).collect()
            });
            let mut common = CommonConfig::default();
            common.read(&spec.args(&keys)?)?;
            common.validate()?;
            let common_keys = common.keys();
            let own = Spec {
                args: spec
                    .args
                    .iter()
                    .filter(|(k, _)| !common_keys.contains(&k.as_str()))
                    .cloned()
                    .collect(),
                ..spec.clone()
            };
            wrap_common(build(&own)?, &common)
        }
        Some(Build::Transform(build)) => build(spec),
        _ => Err(Error::unknown_name(
            "transform",
            &spec.name,
            &names(
                OPTIMIZERS
                    .iter()
                    .chain(TRANSFORMS)
                    .filter(|e| e.is_transform()),
            ),
        )),
    }
}

/// The transform under `base` of a `sam(..)` or `zo(..)` spec (default `sgd(lr=0.01)`); an
/// optimizer that is not a transform is an error naming `name.base`.
///
/// # Errors
///
/// A `base` that is not a transform spec, naming `name.base`.
pub fn base_transform(spec: &Spec) -> Result<Box<dyn Transform>> {
    match spec.get("base") {
        Some(Value::Spec(b)) => {
            if entry(&b.name).is_some_and(|e| !e.is_transform()) {
                return Err(Error::invalid(
                    format!("{}.base", spec.name),
                    b,
                    "a transform such as sgd(..) or adam(..)",
                ));
            }
            build_transform(b)
        }
        Some(v) => Err(Error::invalid(
            format!("{}.base", spec.name),
            v,
            "a transform spec such as sgd(lr=0.1)",
        )),
        None => build_transform(&Spec::parse("sgd(lr=0.01)")?),
    }
}

/// `chain(quantize, clip_value, clip_norm, scheduled(core))` with the parts that were given.
fn wrap_common(core: Box<dyn Transform>, c: &CommonConfig) -> Result<Box<dyn Transform>> {
    let core: Box<dyn Transform> = match c.schedule {
        Some(s) => Box::new(Scheduled::new(core, s)?),
        None => core,
    };
    let mut members: Vec<Box<dyn Transform>> = Vec::new();
    if let Some(q) = c.g {
        members.push(Box::new(QuantizeGradient::new(q)));
    }
    if let Some(v) = c.clip_value {
        members.push(Box::new(ClipByValue::new(v)?));
    }
    if let Some(n) = c.clip_norm {
        members.push(Box::new(ClipByGlobalNorm::new(n)?));
    }
    if members.is_empty() {
        return Ok(core);
    }
    members.push(core);
    Ok(Box::new(Chain::new(members)))
}
