//! Diagnostics that work on any oracle or trajectory (DESIGN §4): they measure a problem or a
//! run and never change it.
//!
//! - [`estimator`]: bias and variance of a stochastic gradient estimator against a true gradient
//!   (P10's per-coordinate MSE, τ-MSE, along-gradient error) and the second moment E\[vvᵀ\] of a
//!   perturbation law.
//! - [`sharpness`]: the top Hessian eigenvalue by Lanczos on exact Hessian-vector products.
//! - [`curvature`]: the Hessian spectrum (dense by faer's symmetric eigensolver, or Lanczos),
//!   β, μ (smallest positive eigenvalue, zeros counted) and κ, in the Euclidean and in the
//!   pullback metric of a reduction (P5).
//! - [`drift`]: P1's polar-factor alignment to a reference frame, rotation and MSD estimators,
//!   the diffusion-coefficient fit with its standard error, orthogonal Procrustes alignment of
//!   two codes and the representation of arbitrary probe stimuli.

pub mod curvature;
pub mod drift;
pub mod estimator;
pub mod sharpness;

pub use curvature::{
    Curvature, CurvatureOptions, SpectrumMethod, dense_hessian, hessian_curvature,
    pullback_curvature,
};
pub use drift::{
    DiffusionFit, DriftEstimate, DriftProbe, DriftProbeConfig, fit_diffusion, polar_factor,
    probe_representation, procrustes_align, rotation_generator,
};
pub use estimator::*;
pub use sharpness::{Ritz, Sharpness, lanczos, top_hessian_eigenvalue};
