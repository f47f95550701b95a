//! One glob import for the typed path: `use descent_optim::prelude::*;` brings descent-core's
//! prelude, the [`Transform`] and [`Optimizer`] traits with their typed wrappers
//! ([`TransformExt`], [`OptimizerExt`]), the common transforms and optimizers with their configs,
//! and the driver loop.

pub use descent_core::prelude::*;

pub use crate::{
    Adam, AdamConfig, Chain, ClipByGlobalNorm, ClipByValue, Engd, EngdConfig, EntropySgd,
    EntropySgdConfig, Label, Lbfgs, LbfgsConfig, Muon, MuonConfig, Optimizer, OptimizerExt,
    Outcome, Partition, Rbo, RboConfig, RunOptions, Sam, SamConfig, SamOptimizer, Schedule,
    Scheduled, Sgd, SgdConfig, StepInfo, Transform, TransformExt, TransformOptimizer, ZoConfig,
    ZoGradient, ZoOptimizer, parse_optimizer, run, run_with,
};
