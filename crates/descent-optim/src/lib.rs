//! descent-optim: optimizers and learning rules over the oracle traits of descent-core.
//!
//! Three levels (DESIGN §3):
//! - oracle adapters wrap problems (here: the driver's evaluation counting);
//! - [`Transform`] (optax's gradient transformation): [`Sgd`], [`Adam`] (and AdamW),
//!   [`DecoupledWeightDecay`], [`ClipByGlobalNorm`], [`ClipByValue`], [`Scheduled`],
//!   [`SynapticNoise`] (P1's Gaussian weight noise), composed
//!   with [`Chain`] and [`Partition`];
//! - [`Optimizer`]: one step of a method over any [`descent_core::Problem`];
//!   [`TransformOptimizer`] adapts any transform.
//!
//! [`driver::run`] is the loop (divergence is an [`Outcome`], not a crash), [`registry`] builds
//! everything from spec text (`adam(lr=1e-3, clip_norm=1, schedule=cosine(total=1000))`), and
//! [`conformance`] is the suite every optimizer passes; [`probes`] holds trajectory diagnostics
//! (P1's drift estimators).

pub mod conformance;
pub mod driver;
pub mod first_order;
pub mod noise;
pub mod optimizer;
pub mod probes;
pub mod registry;
pub mod schedule;
pub mod transform;

pub use driver::{Outcome, StepRecord, no_observer, run};
pub use first_order::{
    Adam, AdamConfig, ClipByGlobalNorm, ClipByValue, DecoupledWeightDecay, Sgd, SgdConfig,
};
pub use noise::SynapticNoise;
pub use optimizer::{Extras, Optimizer, OptimizerState, StepInfo, TransformOptimizer};
pub use registry::{OPTIMIZERS, build_optimizer, build_transform, parse_optimizer};
pub use schedule::{Schedule, Scheduled};
pub use transform::{Chain, Partition, Transform, TransformState};
