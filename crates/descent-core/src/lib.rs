#![deny(missing_docs)]
//! descent-core: the vocabulary every other descent crate speaks.
//!
//! - [`Layout`]: a model's parameters are one flat `Vec<f64>`; the layout names its blocks
//!   (row-major shapes) so matrix-aware methods see matrices.
//! - [`oracle`]: what a problem can answer (values, gradients, per-sample gradients, Hessian-vector
//!   products, residuals, update fields, minimax and bilevel derivatives, the Jacobian of a
//!   reduction map) and the [`Problem`] capability object that hands out each view.
//! - [`dual`]: forward-mode derivatives of a function written once, generic over the number
//!   type ([`dual::DualProblem`], [`dual::DualResiduals`]).
//! - [`EvalCounter`]: the oracle adapter that counts every evaluation, the source of truth for
//!   every "per evaluation" axis.
//! - [`RngStreams`]: named, independent, reproducible random streams derived from one seed.
//! - [`FloatFormat`] / [`Quantizer`]: simulated low-precision formats (fp32 … fp8) with nearest,
//!   toward-zero and stochastic rounding (P7).
//! - [`spec`]: the one text grammar for optimizers, models, data and formats; [`glob`] matches
//!   block names against `*`/`?` patterns.
//! - [`json`]: lossless JSON for saved state (checkpoints, optimizer states): every `f64`
//!   round-trips bit for bit, NaN and ±inf as strings.
//! - [`testfns`]: Rosenbrock, quadratics with a chosen spectrum and the matrix parabola.
//! - [`linalg`]: the only place that talks to faer (GEMM, Cholesky, QR, SVD, symmetric eigen).
//! - [`par`]: an opt-in thread budget for the large products of one run (output-partitioned,
//!   deterministic for a given thread count).
//! - [`simd`]: AVX2 / AVX-512F dispatch for elementwise loops (bit-identical with and without it).

pub mod counter;
pub mod dual;
pub mod error;
pub mod float_format;
pub mod glob;
pub mod json;
pub mod layout;
pub mod linalg;
pub mod oracle;
pub mod par;
pub mod prelude;
pub mod rng;
pub mod simd;
pub mod spec;
pub mod testfns;

pub use counter::{EvalCounter, EvalCounts};
pub use error::{Error, Result, Source};
pub use float_format::{FloatFormat, Overflow, Quantizer, Rounding};
pub use layout::{Block, Layout};
pub use oracle::{
    BilevelProblem, Caps, Function, Gradient, HessianVector, MinimaxProblem, PerSampleGradients,
    Problem, ReductionJacobian, Requires, Residuals, Stochastic, UpdateField,
    resample_if_stochastic,
};
pub use rng::RngStreams;
pub use spec::{Args, Spec, Value};
