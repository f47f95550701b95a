//! Optimizers and transforms built from spec text (DESIGN §3 "Spec grammar").
//!
//! ```text
//! sgd(lr=0.01, momentum=0, dampening=0, nesterov=false, weight_decay=0)
//! adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0)        L2 decay
//! adamw(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01)    decoupled decay
//! muon(lr=0.02, beta=0.95, nesterov=true, ns_steps=5, weight_decay=0,
//!      adam_lr=3e-4, adam_beta1=0.9, adam_beta2=0.95, adam_eps=1e-10)    AdamW off matrices
//! ```
//!
//! P7's quantizers take a float-format spec (`fmt(e=8, m=7, round=nearest|stochastic|
//! toward_zero)`, or a preset `fp32`, `tf32`, `fp16`, `bf16`, `e5m2`, `e4m3`, see
//! [`descent_core::float_format`]):
//! - `w=F`: gradients are evaluated at the quantized weights Q_W(x), master weights stay in f64
//!   (every optimizer);
//! - `g=F`: the gradient is quantized first (every optimizer);
//! - `m=F`, `v=F`: Adam's/AdamW's stored moments; Muon's momentum and its AdamW's moments.
//!
//! e.g. `adam(lr=1e-3, v=fmt(e=8, m=7, round=nearest))`.
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
//! Zeroth-order methods wrap any transform (the base) around a two-point gradient estimate:
//!
//! ```text
//! zo(law=gaussian, q=1, mu=1e-3, diff=forward, base=sgd(lr=0.01))
//! ```
//!
//! `law` is `gaussian`, `sphere` (radius √d), `coordinate` (√d·e_J), `rademacher`, `dap`
//! (aligned with a pilot estimate, 2q directions per step) or `dap_exact` (aligned with the true
//! gradient; needs a Gradient problem); `diff` is `forward` (q+1 values), `central` (2q+1) or
//! `limit` (the μ → 0 form from one exact gradient, for analysis); `dap` picks the DAP
//! construction (`sphere_project`, `gaussian_complement`, `norm_constant`). E.g.
//! `zo(law=sphere, q=10, mu=1e-4, base=adam(lr=1e-2))` is ZO-Adam.
//!
//! [`build_transform`] also knows the building blocks `clip_norm(max=..)`,
//! `clip_value(max=..)`, `decoupled_weight_decay(lr=.., weight_decay=..)` and
//! `chain(of=[spec, spec, ...])`.

use descent_core::{Args, Error, Quantizer, Result, Spec};

use crate::entropy_sgd::{EntropySgd, EntropySgdConfig, OuterStep};
use crate::first_order::{
    Adam, AdamConfig, ClipByGlobalNorm, ClipByValue, DecoupledWeightDecay, Sgd, SgdConfig,
};
use crate::lbfgs::{Lbfgs, LbfgsConfig};
use crate::muon::{Muon, MuonConfig};
use crate::natural::{Engd, EngdConfig, Solver, StepRule};
use crate::optimizer::{Optimizer, TransformOptimizer};
use crate::quantized::{QuantizeGradient, WithQuantizedWeights};
use crate::rolling_ball::{InnerStep, Rbo, RboConfig, WarmStart};
use crate::sam::{SamConfig, SamOptimizer};
use crate::schedule::{Schedule, Scheduled};
use crate::transform::{Chain, Transform};
use crate::zeroth_order::ZoOptimizer;

/// The optimizers [`build_optimizer`] knows: (name, one-line description with keys and
/// defaults), for `descent list`.
pub const OPTIMIZERS: &[(&str, &str)] = &[
    (
        "sgd",
        "SGD as torch.optim.SGD: lr=0.01, momentum=0, dampening=0, nesterov=false, \
         weight_decay=0 (L2); also clip_norm, clip_value, schedule; quantizers w=, g= \
         (fmt(e=.., m=.., round=nearest|stochastic|toward_zero) or \
         fp32|tf32|fp16|bf16|e5m2|e4m3)",
    ),
    (
        "adam",
        "Adam as torch.optim.Adam: lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, \
         weight_decay=0 (L2); also clip_norm, clip_value, schedule; quantizers w=, g=, m=, v= \
         (fmt(e=.., m=.., round=nearest|stochastic|toward_zero) or \
         fp32|tf32|fp16|bf16|e5m2|e4m3)",
    ),
    (
        "adamw",
        "AdamW as torch.optim.AdamW: lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, \
         weight_decay=0.01 (decoupled); also clip_norm, clip_value, schedule; quantizers w=, g=, \
         m=, v= (fmt(e=.., m=.., round=nearest|stochastic|toward_zero) or \
         fp32|tf32|fp16|bf16|e5m2|e4m3)",
    ),
    (
        "muon",
        "Muon (KellerJordan/Muon): Newton-Schulz-orthogonalised momentum on matrix blocks, \
         AdamW elsewhere: lr=0.02, beta=0.95, nesterov=true, ns_steps=5, weight_decay=0, \
         adam_lr=3e-4, adam_beta1=0.9, adam_beta2=0.95, adam_eps=1e-10; also clip_norm, \
         clip_value, schedule; quantizers w=, g=, m=, v= (fmt(e=.., m=.., \
         round=nearest|stochastic|toward_zero) or fp32|tf32|fp16|bf16|e5m2|e4m3)",
    ),
    (
        "zo",
        "zeroth-order: any transform over a two-point gradient estimate: law=gaussian|sphere|\
         coordinate|rademacher|dap|dap_exact (gaussian), q=1 directions, mu=1e-3, \
         diff=forward|central|limit (forward), dap=sphere_project|gaussian_complement|\
         norm_constant, pilot_threshold=1e-8, base=sgd(lr=0.01) (any transform spec)",
    ),
    (
        "engd",
        "energy natural gradient in parameter space, (JᵀJ + λI)⁻¹Jᵀ by Cholesky (P8): \
         damping=1e-8, momentum=0, lr (fixed step; default: 31-point grid line search), \
         norm_constraint; needs Residuals",
    ),
    (
        "engd_w",
        "ENGD-W, the Woodbury/sample-space form Jᵀ(JJᵀ + λI)⁻¹ (P8): damping=1e-8, lr, \
         norm_constraint; needs Residuals",
    ),
    (
        "spring",
        "SPRING, ENGD-W with momentum and bias correction (P8): damping=1e-8, momentum=0.5, lr, \
         norm_constraint; needs Residuals",
    ),
    (
        "nystrom",
        "ENGD-W/SPRING with a randomized Nyström kernel of rank ℓ (P8): rank=100, damping=1e-4, \
         shift=1e-7, momentum=0, lr, norm_constraint; needs Residuals",
    ),
    (
        "sap",
        "ENGD-W with a sketch-and-project kernel solve of rank ℓ: rank=100, damping=1e-4, \
         momentum=0, lr, norm_constraint; needs Residuals",
    ),
    (
        "lbfgs",
        "L-BFGS with a strong-Wolfe line search: history=10, lr=1, c1=1e-4, c2=0.9, max_evals=25",
    ),
    (
        "sam",
        "sharpness-aware minimization (Foret et al. 2021): the base transform applied to the \
         gradient at w + rho g/|g| of the same minibatch (2 gradients/step): rho=0.05, \
         adaptive=false (ASAM: scale by |w|+eta), eta=0.01, base=sgd(lr=0.01) (any transform)",
    ),
    (
        "rbo",
        "Rolling Ball Optimizer (Belgoumri et al. 2025): lr=0.1, radius=0.5, projection by \
         inner_steps=10 gradient steps of inner_lr=0.01 (or inner_c=c for c/(1+|g|^2)), \
         tol=0 (stop the projection at this residual), warm_start=contact|target (1+K \
         gradients/step)",
    ),
    (
        "entropy_sgd",
        "Entropy-SGD (Chaudhari et al. 2017): lr=1, inner_steps=5 (SGLD, fresh minibatch each), \
         inner_lr=0.1, noise=1e-4, alpha=0.75, gamma=0.03, gamma_growth=0 \
         (gamma_t=gamma(1+gamma_growth)^t), outer=plain|scaled (x-=lr(x-mu) or lr*gamma*(x-mu))",
    ),
];

/// The keys of `zo(...)`.
pub const ZO_KEYS: &[&str] = &["law", "q", "mu", "diff", "dap", "pilot_threshold", "base"];

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
        "quantize",
        "quantize the gradient (P7's Q_G): fmt=fmt(e=8, m=7, round=nearest) (required)",
    ),
    (
        "synaptic_noise",
        "add sqrt(lr)*sigma*N(0,1) to every update entry (P1): lr=0.01, sigma (required)",
    ),
];

/// The optimizers that are transforms (the rest choose where to evaluate or wrap the problem:
/// the ENGD family, L-BFGS, RBO, Entropy-SGD, and `zo` and `sam`, which put a transform over an
/// oracle adapter, are [`Optimizer`]s only).
pub const FIRST_ORDER: &[&str] = &["sgd", "adam", "adamw", "muon"];

/// The keys every first-order optimizer takes besides its own: clipping, a schedule, and P7's
/// gradient (`g`) and weight (`w`) quantizers (`w` only at top level, see [`build_transform`]).
pub const COMMON_KEYS: &[&str] = &["clip_norm", "clip_value", "schedule", "g", "w"];

/// The quantizer under `key` (a float-format spec), with errors naming `optimizer.key.field`.
fn quantizer(a: &Args<'_>, owner: &str, key: &str) -> Result<Option<Quantizer>> {
    let Some(s) = a.spec(key)? else {
        return Ok(None);
    };
    Quantizer::from_spec(s).map(Some).map_err(|e| match e {
        Error::InvalidValue {
            field,
            value,
            expected,
        } => {
            let tail = field.split_once('.').map_or(field.as_str(), |(_, t)| t);
            Error::invalid(format!("{owner}.{key}.{tail}"), value, expected)
        }
        other => other,
    })
}

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
    match spec.name.as_str() {
        "sam" => build_sam(spec),
        "rbo" => build_rbo(spec),
        "entropy_sgd" => build_entropy_sgd(spec),
        "zo" => build_zo(spec),
        "engd" | "engd_w" | "spring" | "nystrom" | "sap" => build_engd(spec),
        "lbfgs" => {
            let a = spec.args(&["history", "lr", "c1", "c2", "max_evals"])?;
            let d = LbfgsConfig::default();
            let cfg = LbfgsConfig {
                history: a.usize("history", d.history)?,
                lr: a.positive("lr", d.lr)?,
                c1: a.f64("c1", d.c1)?,
                c2: a.f64("c2", d.c2)?,
                max_evals: a.usize("max_evals", d.max_evals)?,
            };
            Ok(Box::new(Lbfgs::new(cfg, spec.to_string())?))
        }
        _ => build_first_order(spec),
    }
}

/// A transform optimizer, wrapped in P7's quantized-weights adapter when `w=` is given. `w=` is
/// read here and removed before [`build_transform`] sees the spec, because Q_W acts on the point
/// where the gradient is evaluated, which only a top-level optimizer controls.
fn build_first_order(spec: &Spec) -> Result<Box<dyn Optimizer>> {
    let (w_args, rest): (Vec<_>, Vec<_>) = spec.args.iter().cloned().partition(|(k, _)| k == "w");
    let only_w = Spec {
        args: w_args,
        ..spec.clone()
    };
    let w = quantizer(&only_w.args(&["w"])?, &spec.name, "w")?;
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

/// `zo(law=.., q=.., mu=.., diff=.., base=..)`: a [`ZoOptimizer`] whose base transform defaults
/// to `sgd(lr=0.01)` (ZO-SGD); `base=adam(lr=1e-3)` gives ZO-Adam.
fn build_zo(spec: &Spec) -> Result<Box<dyn Optimizer>> {
    let cfg = crate::zeroth_order::config_from_spec(spec, ZO_KEYS)?;
    let a = spec.args(ZO_KEYS)?;
    let base = match a.spec("base")? {
        Some(b) => build_transform(b)?,
        None => build_transform(&Spec::parse("sgd(lr=0.01)")?)?,
    };
    Ok(Box::new(ZoOptimizer::new(cfg, base, spec.to_string())?))
}

/// The ENGD family from its spec (see [`OPTIMIZERS`] for keys and defaults).
fn build_engd(spec: &Spec) -> Result<Box<dyn Optimizer>> {
    let name = spec.name.as_str();
    let mut keys = vec!["damping", "lr", "norm_constraint", "momentum"];
    if name == "nystrom" || name == "sap" {
        keys.push("rank");
    }
    if name == "nystrom" {
        keys.push("shift");
    }
    let a = spec.args(&keys)?;
    let sketched = name == "nystrom" || name == "sap";
    let damping = a.non_negative("damping", if sketched { 1e-4 } else { 1e-8 })?;
    let momentum = a.f64("momentum", if name == "spring" { 0.5 } else { 0.0 })?;
    let solver = match name {
        "engd" => Solver::Parameter,
        "nystrom" => Solver::Nystrom {
            rank: a.usize("rank", 100)?,
            shift: a.non_negative("shift", 1e-7)?,
        },
        "sap" => Solver::SketchProject {
            rank: a.usize("rank", 100)?,
        },
        _ => Solver::Sample,
    };
    let step = match a.f64_opt("lr")? {
        Some(lr) => StepRule::Fixed {
            lr,
            norm_constraint: a.f64_opt("norm_constraint")?,
        },
        None if a.has("norm_constraint") => {
            return Err(Error::invalid(
                format!("{name}.norm_constraint"),
                a.f64("norm_constraint", 0.0)?,
                "a fixed lr=.. as well (the line search has no norm constraint)",
            ));
        }
        None => StepRule::LineSearch,
    };
    let cfg = EngdConfig {
        solver,
        damping,
        momentum,
        step,
        ..EngdConfig::default()
    };
    Ok(Box::new(Engd::new(cfg, spec.to_string())?))
}

fn build_sam(spec: &Spec) -> Result<Box<dyn Optimizer>> {
    let a = spec.args(&["rho", "adaptive", "eta", "base"])?;
    let d = SamConfig::default();
    let cfg = SamConfig {
        rho: a.non_negative("rho", d.rho)?,
        adaptive: a.bool("adaptive", d.adaptive)?,
        eta: a.non_negative("eta", d.eta)?,
    };
    let base = match a.spec("base")? {
        Some(b) => {
            let is_optimizer = OPTIMIZERS.iter().any(|(n, _)| *n == b.name);
            if is_optimizer && !FIRST_ORDER.contains(&b.name.as_str()) {
                return Err(Error::invalid(
                    "sam.base",
                    b,
                    "a transform such as sgd(..) or adam(..)",
                ));
            }
            build_transform(b)?
        }
        None => build_transform(&Spec::named("sgd"))?,
    };
    Ok(Box::new(SamOptimizer::new(cfg, base, spec.to_string())?))
}

fn build_rbo(spec: &Spec) -> Result<Box<dyn Optimizer>> {
    let a = spec.args(&[
        "lr",
        "radius",
        "inner_lr",
        "inner_c",
        "inner_steps",
        "tol",
        "warm_start",
    ])?;
    let d = RboConfig::default();
    let inner_step = match (a.f64_opt("inner_lr")?, a.f64_opt("inner_c")?) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "rbo.inner_c",
                "both inner_lr and inner_c",
                "one of inner_lr (fixed step) or inner_c (step c/(1+|g|^2))",
            ));
        }
        (Some(_), None) => InnerStep::Fixed(a.positive("inner_lr", 0.0)?),
        (None, Some(_)) => InnerStep::Scaled(a.positive("inner_c", 0.0)?),
        (None, None) => d.inner_step,
    };
    let warm_start = match a
        .choice("warm_start", "contact", &["contact", "target"])?
        .as_str()
    {
        "target" => WarmStart::Target,
        _ => WarmStart::Contact,
    };
    let inner_steps = a.usize("inner_steps", d.inner_steps)?;
    if inner_steps == 0 {
        return Err(Error::invalid("rbo.inner_steps", 0, "an integer >= 1"));
    }
    let cfg = RboConfig {
        lr: a.positive("lr", d.lr)?,
        radius: a.non_negative("radius", d.radius)?,
        inner_step,
        inner_steps,
        tol: a.non_negative("tol", d.tol)?,
        warm_start,
    };
    Ok(Box::new(Rbo::new(cfg, spec.to_string())?))
}

fn build_entropy_sgd(spec: &Spec) -> Result<Box<dyn Optimizer>> {
    let a = spec.args(&[
        "lr",
        "inner_steps",
        "inner_lr",
        "noise",
        "alpha",
        "gamma",
        "gamma_growth",
        "outer",
    ])?;
    let d = EntropySgdConfig::default();
    let outer = match a.choice("outer", "plain", &["plain", "scaled"])?.as_str() {
        "scaled" => OuterStep::Scaled,
        _ => OuterStep::Plain,
    };
    let cfg = EntropySgdConfig {
        lr: a.positive("lr", d.lr)?,
        inner_steps: a.usize("inner_steps", d.inner_steps)?,
        inner_lr: a.positive("inner_lr", d.inner_lr)?,
        noise: a.non_negative("noise", d.noise)?,
        alpha: a.f64("alpha", d.alpha)?,
        gamma: a.non_negative("gamma", d.gamma)?,
        gamma_growth: a.non_negative("gamma_growth", d.gamma_growth)?,
        outer,
    };
    Ok(Box::new(EntropySgd::new(cfg, spec.to_string())?))
}

/// Parses and builds an optimizer from text.
pub fn parse_optimizer(text: &str) -> Result<Box<dyn Optimizer>> {
    build_optimizer(&Spec::parse(text)?)
}

/// Builds a transform from its spec: an optimizer of [`OPTIMIZERS`] (with clipping and schedule)
/// or a building block of [`TRANSFORMS`].
///
/// `w=` (P7's quantized weights Q_W) is rejected here: a transform only maps a gradient to an
/// update and never chooses where the gradient is evaluated, so inside `chain(..)`,
/// `zo(base=..)`, `sam(base=..)` and the like it would be silently ignored. It is valid on a
/// top-level optimizer built by [`build_optimizer`], e.g. `adam(lr=1e-3, w=bf16)`.
pub fn build_transform(spec: &Spec) -> Result<Box<dyn Transform>> {
    if FIRST_ORDER.contains(&spec.name.as_str())
        && let Some((_, w)) = spec.args.iter().find(|(k, _)| k == "w")
    {
        return Err(Error::invalid(
            format!("{}.w", spec.name),
            w,
            format!(
                "no w= here: quantized weights (Q_W) are only valid on a top-level optimizer, \
                 e.g. {}(lr=1e-3, w=bf16), not on a transform inside chain(..), zo(base=..), \
                 sam(base=..) or another spec",
                spec.name
            ),
        ));
    }
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
            wrap_common(Box::new(Sgd::new(cfg)?), &a, &spec.name)
        }
        "adam" | "adamw" => {
            let keys = with_common(&["lr", "beta1", "beta2", "eps", "weight_decay", "m", "v"]);
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
            let adam = Adam::new(cfg)?.with_state_quantizers(
                quantizer(&a, &spec.name, "m")?,
                quantizer(&a, &spec.name, "v")?,
            );
            wrap_common(Box::new(adam), &a, &spec.name)
        }
        "muon" => {
            let keys = with_common(&[
                "lr",
                "beta",
                "nesterov",
                "ns_steps",
                "weight_decay",
                "adam_lr",
                "adam_beta1",
                "adam_beta2",
                "adam_eps",
                "m",
                "v",
            ]);
            let a = spec.args(&keys)?;
            let d = MuonConfig::default();
            let cfg = MuonConfig {
                lr: a.positive("lr", d.lr)?,
                beta: a.f64("beta", d.beta)?,
                nesterov: a.bool("nesterov", d.nesterov)?,
                ns_steps: a.usize("ns_steps", d.ns_steps)?,
                weight_decay: a.f64("weight_decay", d.weight_decay)?,
                adam_lr: a.f64("adam_lr", d.adam_lr)?,
                adam_beta1: a.f64("adam_beta1", d.adam_beta1)?,
                adam_beta2: a.f64("adam_beta2", d.adam_beta2)?,
                adam_eps: a.f64("adam_eps", d.adam_eps)?,
            };
            let muon = Muon::new(
                cfg,
                quantizer(&a, &spec.name, "m")?,
                quantizer(&a, &spec.name, "v")?,
            )?;
            wrap_common(Box::new(muon), &a, &spec.name)
        }
        "quantize" => {
            let a = spec.args(&["fmt"])?;
            let q = quantizer(&a, "quantize", "fmt")?.ok_or_else(|| {
                Error::invalid(
                    "quantize.fmt",
                    "nothing",
                    "a float format such as fmt(e=8, m=7) (required)",
                )
            })?;
            Ok(Box::new(QuantizeGradient::new(q)))
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
            let mut valid: Vec<&str> = names(OPTIMIZERS)
                .into_iter()
                .filter(|n| FIRST_ORDER.contains(n))
                .collect();
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

/// `chain(quantize, clip_value, clip_norm, scheduled(core))` with the parts that were given
/// (Q_G first: P7's workers send the quantized gradient).
fn wrap_common(core: Box<dyn Transform>, a: &Args<'_>, owner: &str) -> Result<Box<dyn Transform>> {
    let core: Box<dyn Transform> = match a.spec("schedule")? {
        Some(s) => Box::new(Scheduled::new(core, Schedule::from_spec(s)?)?),
        None => core,
    };
    let mut members: Vec<Box<dyn Transform>> = Vec::new();
    if let Some(q) = quantizer(a, owner, "g")? {
        members.push(Box::new(QuantizeGradient::new(q)));
    }
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
