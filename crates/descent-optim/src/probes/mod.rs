//! Diagnostics that work on any oracle (DESIGN §4): they measure a problem at a point and never
//! change it.
//!
//! - [`sharpness`]: the top Hessian eigenvalue by Lanczos on exact Hessian-vector products.

pub mod sharpness;

pub use sharpness::{Sharpness, top_hessian_eigenvalue};
