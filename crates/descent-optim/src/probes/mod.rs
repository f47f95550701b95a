//! Diagnostics that work on any oracle or trajectory (DESIGN §4): here the drift probes of P1
//! ([`drift`]: polar-factor alignment to a reference frame, rotation and MSD estimators, the
//! diffusion-coefficient fit with its standard error).

pub mod drift;

pub use drift::{
    DiffusionFit, DriftEstimate, DriftProbe, DriftProbeConfig, fit_diffusion, polar_factor,
    rotation_generator,
};
