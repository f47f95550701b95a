//! descent-optim: optimizers and learning rules over the oracle traits of descent-core.
//!
//! Three levels (DESIGN §3):
//! - oracle adapters wrap problems (here: the driver's evaluation counting);
//! - [`Transform`] (optax's gradient transformation): [`Sgd`], [`Adam`] (and AdamW),
//!   [`DecoupledWeightDecay`], [`ClipByGlobalNorm`], [`ClipByValue`], [`Scheduled`], composed
//!   with [`Chain`] and [`Partition`];
//! - [`Optimizer`]: one step of a method over any [`descent_core::Problem`];
//!   [`TransformOptimizer`] adapts any transform.
//!
//! - second-order methods for least squares and quasi-Newton: [`Engd`] (ENGD, ENGD-W, SPRING,
//!   Nyström, sketch-and-project with the grid line search, P8) and [`Lbfgs`] (strong Wolfe).
//!
//! [`driver::run`] is the loop (divergence is an [`Outcome`], not a crash), [`registry`] builds
//! everything from spec text (`adam(lr=1e-3, clip_norm=1, schedule=cosine(total=1000))`), and
//! [`conformance`] is the suite every optimizer passes.

pub mod conformance;
pub mod driver;
pub mod first_order;
pub mod lbfgs;
pub mod natural;
pub mod optimizer;
pub mod registry;
pub mod schedule;
pub mod transform;

pub use driver::{Outcome, StepRecord, no_observer, run};
pub use first_order::{
    Adam, AdamConfig, ClipByGlobalNorm, ClipByValue, DecoupledWeightDecay, Sgd, SgdConfig,
};
pub use lbfgs::{Lbfgs, LbfgsConfig};
pub use natural::{
    Engd, EngdConfig, LINE_SEARCH_GRID, SolveLog, Solver, StepRule, StepTimes, nystrom_factor,
    nystrom_solve, solve_psd,
};
pub use optimizer::{Extras, Optimizer, OptimizerState, StepInfo, TransformOptimizer};
pub use registry::{OPTIMIZERS, build_optimizer, build_transform, parse_optimizer};
pub use schedule::{Schedule, Scheduled};
pub use transform::{Chain, Partition, Transform, TransformState};
