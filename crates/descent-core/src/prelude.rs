//! The names almost every user of descent-core needs, for one glob import:
//! `use descent_core::prelude::*;` brings the oracle traits (so their methods are callable), the
//! problem capability object, layouts, RNG streams, the evaluation counter and the error type.

pub use crate::dual::{DualNum, DualProblem, DualResiduals, ResidualFn, ScalarFn};
pub use crate::{
    Caps, Error, EvalCounter, EvalCounts, Function, Gradient, HessianVector, Layout,
    PerSampleGradients, Problem, Requires, Residuals, Result, RngStreams, Stochastic, UpdateField,
};
