#![deny(missing_docs)]
//! descent-nn: models with exact, batched derivatives and model + data objectives (DESIGN §4).
//!
//! - [`Mlp`]: dense MLPs (identity, tanh, ReLU, GELU, sigmoid; optional bias; Xavier, He or
//!   PyTorch-uniform init) and softmax regression, parameters in one flat row-major vector
//!   described by a [`descent_core::Layout`].
//! - [`Model`]: the trait every consumer takes (forward, backward from output cotangents,
//!   tangents, HVPs; per-sample gradients as norms, weighted sums or a B × P matrix;
//!   generalised Gauss–Newton / Fisher-vector products), implemented by [`Mlp`] and
//!   [`SoftmaxRegression`].
//! - [`Loss`]: MSE (½ convention), softmax cross-entropy, logistic, each with its gradient and
//!   Hessian-vector product in the output.
//! - [`engine`]: batch gradient, per-sample gradient norms and weighted gradients (ghost
//!   clipping), exact Hessian-vector products by Pearlmutter's R-operator, input Jacobians and
//!   predictions, all over a [`Workspace`] sized once.
//! - [`Objective`]: model + dataset + loss + batch size as a descent problem (Function,
//!   Gradient, Stochastic, PerSampleGradients, HessianVector).
//! - [`taylor`]: Taylor-mode forward passes (value, input gradient, input Laplacian) and exact
//!   Jacobians of linear differential-operator residuals (P8).
//! - [`pinn`]: PDEs with manufactured solutions, collocation samplers and [`PinnObjective`]
//!   (Function, Gradient, Stochastic, Residuals) for ENGD and friends (P8).
//! - [`hebbian`]: P1's online rules with a rotational symmetry: Oja's subspace rule and
//!   similarity matching (UpdateField problems), the linear autoencoder and the supervised
//!   two-layer linear network trained by SGD with weight decay; [`drift_theory`] their
//!   closed-form drift rates.
//! - P4's hierarchical problems: [`AucMinimax`] (deep AUC maximisation, a minimax problem over
//!   any one-output model, and [`roc_auc`]) and [`L2Hyperparameters`] (per-parameter L2 weights
//!   learned on a validation loss, a bilevel problem with exact second-order products).
//! - [`varpro`]: variable projection for regression MLPs (P5): [`RidgeHead`] is the MLP with a
//!   ridge-penalised linear head, [`VarPro`] the reduced problem in the hidden layers with the
//!   head solved by ridge least squares inside every evaluation (envelope gradient, exact
//!   Schur-complement HVPs).
//! - [`builder`]: models and losses from spec text (`mlp:64-128-10`,
//!   `mlp(hidden=[128], act=relu)`, `softmax-regression`).

pub mod activation;
pub mod auc;
pub mod builder;
pub mod drift_theory;
pub mod engine;
pub mod hebbian;
pub mod hyper;
pub mod linear;
pub mod loss;
pub mod mlp;
mod mlp_model;
pub mod model;
pub mod objective;
pub mod pinn;
pub mod prelude;

/// `examples/mlp_derivatives.rs` (per-sample gradients and HVPs of an MLP), run as a doctest.
///
/// ```
#[doc = include_str!("../examples/mlp_derivatives.rs")]
/// ```
#[cfg(doctest)]
pub struct MlpDerivatives;

/// `examples/custom_model.rs` (a custom architecture through the `Model` trait), as a doctest.
///
/// ```
#[doc = include_str!("../examples/custom_model.rs")]
/// ```
#[cfg(doctest)]
pub struct CustomModel;
pub mod taylor;
pub mod varpro;

pub use activation::{ACTIVATION_NAMES, Activation};
pub use auc::{AucMinimax, roc_auc};
pub use builder::{MODELS, ModelSpec, build_model, choose_loss, default_loss, parse_model};
pub use engine::{Eval, Workspace, predicted_class, target_of};
pub use hebbian::{
    LinearAutoencoder, Oja, OnlineProblem, OnlineRule, SimilarityMatching, TwoLayerLinear,
};
pub use hyper::L2Hyperparameters;
pub use linear::{LinearWorkspace, SoftmaxRegression};
pub use loss::{LOSS_NAMES, LOSSES, Loss, Target};
pub use mlp::{INIT_NAMES, Init, LayerParams, Mlp};
pub use model::{Cotangent, Inputs, Model, TangentCotangent, Visit};
pub use objective::{Objective, check_compatible, output_width};
pub use pinn::{
    Heat, HeatSolution, LinearOperator, Pde, PinnObjective, PinnSizes, Poisson, PoissonSolution,
};
pub use taylor::{Out, Streams, TaylorMlp};
pub use varpro::{RidgeHead, VarPro};
