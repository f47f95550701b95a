//! Diagnostics that work on any oracle (DESIGN §4): they measure a problem at a point and never
//! change it.
//!
//! - [`estimator`]: bias and variance of a stochastic gradient estimator against a true gradient
//!   (P10's per-coordinate MSE, τ-MSE, along-gradient error) and the second moment E[vvᵀ] of a
//!   perturbation law.
//! - [`sharpness`]: the top Hessian eigenvalue by Lanczos on exact Hessian-vector products.

pub mod estimator;
pub mod sharpness;

pub use estimator::*;
pub use sharpness::{Sharpness, top_hessian_eigenvalue};
