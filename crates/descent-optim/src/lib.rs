#![deny(missing_docs)]
//! descent-optim: optimizers and learning rules over the oracle traits of descent-core.
//!
//! Three levels (DESIGN §3):
//! - oracle adapters wrap problems: the driver's evaluation counting, [`Sam`] (the gradient at
//!   the ascent point, so `sam(base=adam(..))` is any transform over it);
//! - [`Transform`] (optax's gradient transformation): [`Sgd`], [`Adam`] (and AdamW),
//!   [`DecoupledWeightDecay`], [`ClipByGlobalNorm`], [`ClipByValue`], [`Scheduled`], [`Muon`],
//!   P7's [`QuantizeGradient`] (and quantized Adam/Muon states), optax's small blocks
//!   ([`primitives`]: [`Scale`], [`ScaleByLr`], [`Trace`], [`ScaleByAdam`],
//!   [`AddDecayedWeights`]), composed with [`Chain`] and [`Partition`] (blocks routed by glob on
//!   their names or by shape, as torch.optim's parameter groups); [`SynapticNoise`] (P1's
//!   Gaussian weight noise); the oracle adapter [`QuantizedWeights`] evaluates gradients at
//!   quantized weights;
//! - [`Optimizer`]: one step of a method over any [`descent_core::Problem`];
//!   [`TransformOptimizer`] adapts any transform; [`Rbo`] (rolling ball) and [`EntropySgd`]
//!   choose where to evaluate.
//!
//! Every method's settings live in one config struct declared with [`config!`]: the spec
//! builder, `descent list`, the hyperparameters of `set_hyper` and the config saved in its
//! state are generated from it, and [`plumbing!`] writes the hyperparameter and state methods
//! of each transform and optimizer ([`mod@config`]). States are typed plain data
//! ([`TransformState`]), bit-identical through JSON.
//!
//! Zeroth-order methods ([`zeroth_order`]): the [`ZoGradient`] oracle adapter turns any
//! transform into ZO-SGD/ZO-Adam; [`probes`] measures estimator bias and variance.
//!
//! Reductions ([`reduction`], P5): the [`Reduction`] oracle adapter turns f(x₁, x₂) and a map
//! Ψ into the reduced problem F(x₁) = f(x₁, Ψ(x₁)) (envelope or chain-rule gradient,
//! Hessian-vector products, the map's Jacobian), and [`GeoPrecGd`] steps in its pullback metric.
//!
//! - stochastic minimax and bilevel methods ([`hierarchical`], P4): SGDA/PDSM, TiAda,
//!   Ada-Minimax, the Neumann-series hypergradient, a StocBiO-style baseline and Ada-BiO, over
//!   z = (x, y) of any problem offering the minimax or bilevel view.
//! - second-order methods for least squares and quasi-Newton: [`Engd`] (ENGD, ENGD-W, SPRING,
//!   Nyström, sketch-and-project with the grid line search, P8) and [`Lbfgs`] (strong Wolfe).
//!
//! [`driver::run`] is the loop (divergence is an [`Outcome`], not a crash), [`registry`] builds
//! everything from spec text (`adam(lr=1e-3, clip_norm=1, schedule=cosine(total=1000))`), and
//! [`conformance`] is the suite every optimizer passes; [`probes`] holds trajectory diagnostics
//! (P1's drift estimators) and measures a problem at a point (sharpness by Lanczos).

pub mod config;
pub mod conformance;
pub mod driver;
pub mod entropy_sgd;
pub mod first_order;
pub mod hierarchical;
pub mod lbfgs;
pub mod muon;
pub mod natural;
pub mod noise;
pub mod optimizer;
pub mod prelude;
pub mod primitives;
pub mod probes;
pub mod quantized;
pub mod reduction;
pub mod registry;
pub mod rolling_ball;
pub mod sam;
pub mod schedule;
pub mod transform;
pub mod typed;
pub mod zeroth_order;

pub use config::{Config, KeyDoc, TransformState};

/// The README's quick start (`examples/quickstart.rs`), run as a doctest so it cannot rot.
///
/// ```
#[doc = include_str!("../examples/quickstart.rs")]
/// ```
#[cfg(doctest)]
pub struct QuickStart;

/// `examples/families.rs` (one custom problem per optimizer family), run as a doctest.
///
/// ```
#[doc = include_str!("../examples/families.rs")]
/// ```
#[cfg(doctest)]
pub struct Families;
pub use driver::{Outcome, RunEnd, RunOptions, StepRecord, StopReason, no_observer, run, run_with};
pub use entropy_sgd::{EntropySgd, EntropySgdConfig, OuterStep};
pub use first_order::{
    Adam, AdamConfig, ClipByGlobalNorm, ClipByValue, DecoupledWeightDecay, Sgd, SgdConfig,
};
pub use hierarchical::{
    AdaBio, AdaBioConfig, AdaMinimax, AdaMinimaxConfig, Neumann, Sgda, SgdaConfig, StocBio,
    StocBioConfig, TiAda, TiAdaConfig, neumann_terms,
};
pub use lbfgs::{Lbfgs, LbfgsConfig};
pub use muon::{Muon, MuonConfig, MuonOrthogonal, newton_schulz, newton_schulz_in};
pub use natural::{
    Engd, EngdConfig, LINE_SEARCH_GRID, SolveLog, Solver, StepRule, StepTimes, nystrom_factor,
    nystrom_solve, solve_psd,
};
pub use noise::SynapticNoise;
pub use optimizer::{Extras, Optimizer, OptimizerState, StepInfo, TransformOptimizer};
pub use primitives::{AddDecayedWeights, Scale, ScaleByAdam, ScaleByLr, Trace};
pub use quantized::{
    QuantizeGradient, QuantizedWeights, WithQuantizedWeights, adam_condition, muon_condition,
};
pub use reduction::{
    AffineMap, FactorElimination, FnMap, GeoPrecConfig, GeoPrecGd, GradientRule, MetricSolve,
    PullbackSolver, Reduction, ReductionConfig, ReductionMap, Split,
};
pub use registry::{OPTIMIZERS, TRANSFORMS, build_optimizer, build_transform, parse_optimizer};
pub use rolling_ball::{InnerStep, Rbo, RboConfig, WarmStart};
pub use sam::{Sam, SamConfig, SamOptimizer};
pub use schedule::{Schedule, Scheduled};
pub use transform::{Chain, Label, Partition, Transform};
pub use typed::{OptimizerExt, TransformExt};
pub use zeroth_order::{
    DapConstruction, DapDirection, Difference, PerturbationLaw, ZoConfig, ZoEstimator, ZoGradient,
    ZoOptimizer,
};
