//! Learning-rate schedules ([`Schedule`]) and the wrapper that drives an inner transform's `lr`
//! with one ([`Scheduled`]).
//!
//! Convention: the update with 1-based index `t` uses `lr = base · factor(t)`; the formulas are
//! torch.optim.lr_scheduler's closed forms evaluated at `k = t − 1` completed steps (the
//! scheduler stepped once after every optimizer step), so `factor(1) = 1` for every schedule
//! except warmup.

use std::f64::consts::PI;
use std::fmt;

use descent_core::{Args, Error, Layout, Result, RngStreams, Spec};
use serde::{Deserialize, Serialize};

use crate::Transform;
use crate::config::{Config, NON_NEGATIVE, Param};

/// A learning-rate multiplier as a function of the step `t ≥ 1` (`k = t − 1`). More schedules
/// may be added, so a `match` outside this crate needs a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// `1`.
    Constant,
    /// torch `StepLR`: `γ^⌊k / step_size⌋`.
    Step {
        /// Steps between two decays.
        step_size: u64,
        /// The decay factor γ.
        gamma: f64,
    },
    /// torch `ExponentialLR`: `γ^k`.
    Exponential {
        /// The decay factor γ per step.
        gamma: f64,
    },
    /// torch `CosineAnnealingLR` with `η_min = min·base`:
    /// `min + (1 − min)·(1 + cos(π·k/total))/2` for `k ≤ total`, then `min` (no restart).
    Cosine {
        /// The steps of the decay.
        total: u64,
        /// The final factor.
        min: f64,
    },
    /// Linear warmup then cosine decay: `t / warmup` for `t ≤ warmup`, then the cosine above
    /// over the remaining `total − warmup` steps with `k = t − warmup`, ending at `min`.
    WarmupCosine {
        /// The steps of the linear warmup.
        warmup: u64,
        /// The steps of warmup and decay together.
        total: u64,
        /// The final factor.
        min: f64,
    },
    /// torch `LinearLR(start_factor=1, end_factor=end, total_iters=total)`:
    /// `1 + (end − 1)·min(k, total)/total`.
    Linear {
        /// The steps of the ramp.
        total: u64,
        /// The final factor.
        end: f64,
    },
    /// `1/√t`, the classical stochastic-approximation decay.
    InvSqrt,
}

/// The names accepted by [`Schedule::from_spec`].
pub const SCHEDULES: &[&str] = &[
    "constant",
    "step",
    "exponential",
    "cosine",
    "warmup_cosine",
    "linear",
    "inv_sqrt",
];

fn cosine(k: u64, total: u64, min: f64) -> f64 {
    let k = k.min(total) as f64;
    min + (1.0 - min) * (1.0 + (PI * k / total as f64).cos()) / 2.0
}

impl Schedule {
    /// The multiplier of the base learning rate at the update with 1-based index `step`.
    pub fn factor(&self, step: u64) -> f64 {
        let t = step.max(1);
        let k = t - 1;
        match *self {
            Schedule::Constant => 1.0,
            Schedule::Step { step_size, gamma } => gamma.powf((k / step_size) as f64),
            Schedule::Exponential { gamma } => gamma.powf(k as f64),
            Schedule::Cosine { total, min } => cosine(k, total, min),
            Schedule::WarmupCosine { warmup, total, min } => {
                if t <= warmup {
                    t as f64 / warmup as f64
                } else {
                    cosine(t - warmup, total - warmup, min)
                }
            }
            Schedule::Linear { total, end } => {
                1.0 + (end - 1.0) * k.min(total) as f64 / total as f64
            }
            Schedule::InvSqrt => 1.0 / (t as f64).sqrt(),
        }
    }

    /// Checks ranges so that every factor lies in `[0, 1]`.
    ///
    /// # Errors
    ///
    /// A parameter out of range, naming `schedule.key`.
    pub fn validate(&self) -> Result<()> {
        let unit = |field: &str, x: f64| {
            if (0.0..=1.0).contains(&x) {
                Ok(())
            } else {
                Err(Error::invalid(field, x, "a number in [0, 1]"))
            }
        };
        let pos = |field: &str, n: u64| {
            if n > 0 {
                Ok(())
            } else {
                Err(Error::invalid(field, n, "an integer >= 1"))
            }
        };
        match *self {
            Schedule::Constant | Schedule::InvSqrt => Ok(()),
            Schedule::Step { step_size, gamma } => {
                pos("step.step_size", step_size)?;
                unit("step.gamma", gamma)
            }
            Schedule::Exponential { gamma } => unit("exponential.gamma", gamma),
            Schedule::Cosine { total, min } => {
                pos("cosine.total", total)?;
                unit("cosine.min", min)
            }
            Schedule::WarmupCosine { warmup, total, min } => {
                pos("warmup_cosine.warmup", warmup)?;
                if total <= warmup {
                    return Err(Error::invalid(
                        "warmup_cosine.total",
                        total,
                        format!("an integer > warmup = {warmup}"),
                    ));
                }
                unit("warmup_cosine.min", min)
            }
            Schedule::Linear { total, end } => {
                pos("linear.total", total)?;
                unit("linear.end", end)
            }
        }
    }

    /// Parses `constant`, `step(step_size=30, gamma=0.1)`, `exponential(gamma=0.99)`,
    /// `cosine(total=1000, min=0)`, `warmup_cosine(warmup=100, total=1000, min=0)`,
    /// `linear(total=1000, end=0)` or `inv_sqrt`. `min` and `end` are fractions of the base lr.
    ///
    /// # Errors
    ///
    /// An unknown schedule (listing the valid ones), an unknown key, or a value out of range.
    pub fn from_spec(spec: &Spec) -> Result<Schedule> {
        let s = match spec.name.as_str() {
            "constant" => {
                spec.args(&[])?;
                Schedule::Constant
            }
            "inv_sqrt" => {
                spec.args(&[])?;
                Schedule::InvSqrt
            }
            "step" => {
                let a = spec.args(&["step_size", "gamma"])?;
                Schedule::Step {
                    step_size: required_u64(&a, spec, "step_size")?,
                    gamma: a.f64("gamma", 0.1)?,
                }
            }
            "exponential" => {
                let a = spec.args(&["gamma"])?;
                Schedule::Exponential {
                    gamma: required_f64(&a, spec, "gamma")?,
                }
            }
            "cosine" => {
                let a = spec.args(&["total", "min"])?;
                Schedule::Cosine {
                    total: required_u64(&a, spec, "total")?,
                    min: a.f64("min", 0.0)?,
                }
            }
            "warmup_cosine" => {
                let a = spec.args(&["warmup", "total", "min"])?;
                Schedule::WarmupCosine {
                    warmup: required_u64(&a, spec, "warmup")?,
                    total: required_u64(&a, spec, "total")?,
                    min: a.f64("min", 0.0)?,
                }
            }
            "linear" => {
                let a = spec.args(&["total", "end"])?;
                Schedule::Linear {
                    total: required_u64(&a, spec, "total")?,
                    end: a.f64("end", 0.0)?,
                }
            }
            other => return Err(Error::unknown_name("schedule", other, SCHEDULES)),
        };
        s.validate()?;
        Ok(s)
    }
}

fn required_f64(args: &Args<'_>, spec: &Spec, key: &str) -> Result<f64> {
    args.f64_opt(key)?.ok_or_else(|| {
        Error::invalid(
            format!("{}.{key}", spec.name),
            "nothing",
            "a number (required)",
        )
    })
}

fn required_u64(args: &Args<'_>, spec: &Spec, key: &str) -> Result<u64> {
    if !args.has(key) {
        return Err(Error::invalid(
            format!("{}.{key}", spec.name),
            "nothing",
            "an integer >= 1 (required)",
        ));
    }
    Ok(args.usize(key, 0)? as u64)
}

impl fmt::Display for Schedule {
    /// The spec text [`Schedule::from_spec`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Constant => write!(f, "constant"),
            Schedule::Step { step_size, gamma } => {
                write!(f, "step(step_size={step_size}, gamma={gamma})")
            }
            Schedule::Exponential { gamma } => write!(f, "exponential(gamma={gamma})"),
            Schedule::Cosine { total, min } => write!(f, "cosine(total={total}, min={min})"),
            Schedule::WarmupCosine { warmup, total, min } => {
                write!(
                    f,
                    "warmup_cosine(warmup={warmup}, total={total}, min={min})"
                )
            }
            Schedule::Linear { total, end } => write!(f, "linear(total={total}, end={end})"),
            Schedule::InvSqrt => write!(f, "inv_sqrt"),
        }
    }
}

impl Param for Schedule {
    fn expected(&self) -> String {
        "a schedule such as cosine(total=1000)".into()
    }
    fn read(&mut self, args: &Args<'_>, key: &'static str) -> Result<bool> {
        let Some(s) = args.spec(key)? else {
            return Ok(false);
        };
        *self = Schedule::from_spec(s)?;
        Ok(true)
    }
    fn text(&self) -> Option<String> {
        Some(self.to_string())
    }
}

crate::config! {
    /// The settings of [`Scheduled`]: the base learning rate the schedule multiplies, and the
    /// schedule.
    #[derive(Copy)]
    pub struct ScheduledConfig("scheduled") {
        /// The base learning rate (`lr` of the wrapped transform when it was wrapped).
        lr: f64 => NON_NEGATIVE;
        /// The learning-rate multiplier by step.
        schedule: Schedule = Schedule::Constant;
    }
    validate(c) {
        c.schedule.validate()
    }
}

/// Drives the inner transform's `lr` by a schedule: before the update with index `t` it sets
/// `inner.lr = base · schedule.factor(t)` (torch's scheduler semantics: momentum buffers and
/// Adam moments are untouched, only the step size changes). `set_hyper("lr", v)` from outside
/// sets the base, which the schedule keeps multiplying; other names go to the inner transform.
///
/// ```
/// use descent_optim::{Schedule, Sgd, SgdConfig, TransformExt};
///
/// let sgd = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() })?;
/// let s = sgd.with_schedule(Schedule::Step { step_size: 10, gamma: 0.5 })?;
/// assert_eq!((s.lr_at(1), s.lr_at(11), s.lr_at(21)), (0.1, 0.05, 0.025));
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct Scheduled {
    inner: Box<dyn Transform>,
    cfg: ScheduledConfig,
}

impl Scheduled {
    /// Wraps `inner`, which must have an `lr`; its current lr becomes the base.
    ///
    /// # Errors
    ///
    /// A transform without an `lr` hyperparameter, naming it.
    pub fn new(inner: Box<dyn Transform>, schedule: Schedule) -> Result<Self> {
        schedule.validate()?;
        let lr = inner.hyper("lr").ok_or_else(|| {
            Error::invalid(
                "schedule",
                format!("a schedule over '{}'", inner.name()),
                "a transform with an 'lr' hyperparameter",
            )
        })?;
        let cfg = ScheduledConfig { lr, schedule };
        cfg.validate()?;
        Ok(Scheduled { inner, cfg })
    }

    /// The schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.cfg.schedule
    }

    /// The learning rate the update with index `step` uses.
    pub fn lr_at(&self, step: u64) -> f64 {
        self.cfg.lr * self.cfg.schedule.factor(step)
    }
}

impl Transform for Scheduled {
    crate::plumbing! { config: cfg, child: inner, }

    fn name(&self) -> String {
        format!(
            "scheduled({}, schedule={})",
            self.inner.name(),
            self.cfg.schedule
        )
    }

    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.inner.build(layout, streams)
    }

    fn update(&mut self, step: u64, grad: &mut [f64], params: &[f64]) {
        // base ≥ 0 and factor ∈ [0, 1] (validated), so the inner check cannot fail.
        let r = self.inner.set_hyper("lr", self.lr_at(step));
        debug_assert!(r.is_ok(), "scheduled lr rejected: {r:?}");
        self.inner.update(step, grad, params);
    }

    fn apply(&mut self, step: u64, grad: &mut [f64], params: &mut [f64]) {
        let r = self.inner.set_hyper("lr", self.lr_at(step));
        debug_assert!(r.is_ok(), "scheduled lr rejected: {r:?}");
        self.inner.apply(step, grad, params);
    }
}
