//! Stochastic minimax and bilevel optimization (P4: Gong, Hao & Liu, "Adaptive Algorithms with
//! Sharp Convergence Rates for Stochastic Hierarchical Optimization", NeurIPS 2025).
//!
//! Every method is an [`crate::Optimizer`] over a [`descent_core::Problem`] that offers the
//! [`descent_core::MinimaxProblem`] or [`descent_core::BilevelProblem`] view (its `requires()`
//! names it). The parameters are z = (x, y): the first `dims().0` entries are the upper/min
//! player x, the rest the lower/max player y, and the problem's layout names the blocks of both.
//! So `descent list`, spec strings, the driver loop, evaluation counting and state round trips
//! work as for every other optimizer.
//!
//! | method | spec | file |
//! |---|---|---|
//! | SGDA, and PDSM (moving-average gradients) | `sgda(eta_x, eta_y)`, `pdsm(theta)` | [`sgda`] |
//! | TiAda (Li, Yang & He 2022) | `tiada(eta_x, eta_y, alpha=0.6, beta=0.4)` | [`tiada`] |
//! | Ada-Minimax (Alg. 1), two-sample and practical | `ada_minimax(alpha, eta_x, eta_y, gamma)` | [`ada_minimax`] |
//! | Neumann-series hypergradient (App. E.1) | keys `l`, `terms`, `truncation` | [`neumann`] |
//! | StocBiO-style fixed-step bilevel baseline | `stocbio(eta_x, eta_y, l)` | [`stocbio`] |
//! | Ada-BiO (Alg. 2) | `ada_bio(alpha, eta_x, eta_y, gamma, l)` | [`ada_bio`] |
//!
//! Oracle calls are counted by the driver's [`descent_core::EvalCounter`]: a minimax or
//! upper/lower gradient is one `pair_grads`, a Hessian or mixed product one `hvps`, so
//! Ada-Minimax's two upper-level samples per step count twice (P4 pitfall P1).

pub mod ada_bio;
pub mod ada_minimax;
pub mod neumann;
pub mod sgda;
pub mod stocbio;
pub mod tiada;

pub use ada_bio::{AdaBio, AdaBioConfig};
pub use ada_minimax::{
    AdaMinimax, AdaMinimaxConfig, AdaState, AlphaPrime, MomentumInit, SumStart, Variant,
};
pub use neumann::{Neumann, NeumannInfo, NeumannScratch, Truncation, neumann_terms};
pub use sgda::{Sgda, SgdaConfig};
pub use stocbio::{StocBio, StocBioConfig};
pub use tiada::{TiAda, TiAdaConfig};

use descent_core::{BilevelProblem, Caps, Error, MinimaxProblem, Problem, Requires, Result};

/// ‖v‖₂.
pub fn norm(v: &[f64]) -> f64 {
    dot(v, v).sqrt()
}

/// ⟨a, b⟩.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// Checks that `z` (length `n`, the length `init` saw) splits into the problem's (d_x, d_y).
fn check_split(method: &str, dims: (usize, usize), z_len: usize, init_len: usize) -> Result<()> {
    if z_len != init_len {
        return Err(Error::shape(
            format!("parameters of '{method}' (was init called with this layout?)"),
            init_len,
            z_len,
        ));
    }
    if dims.0 + dims.1 != z_len || dims.0 == 0 || dims.1 == 0 {
        return Err(Error::shape(
            format!("'{method}': z = (x, y) with (dim x, dim y) = {dims:?}"),
            dims.0 + dims.1,
            z_len,
        ));
    }
    Ok(())
}

/// The minimax view of `problem` with (d_x, d_y) checked against z, or the capability error.
pub(crate) fn minimax_view<'a>(
    method: &str,
    problem: &'a mut dyn Problem,
    z_len: usize,
    init_len: usize,
) -> Result<(&'a mut dyn MinimaxProblem, usize)> {
    Requires::all(Caps::MINIMAX).check(method, problem)?;
    let m = problem.as_minimax().expect("checked MinimaxProblem");
    let dims = m.dims();
    check_split(method, dims, z_len, init_len)?;
    Ok((m, dims.0))
}

/// (d_x, d_y) of the bilevel view of `problem`, checked against z, or the capability error.
pub(crate) fn bilevel_dims(
    method: &str,
    problem: &mut dyn Problem,
    z_len: usize,
    init_len: usize,
) -> Result<usize> {
    Requires::all(Caps::BILEVEL).check(method, problem)?;
    let dims = problem.as_bilevel().expect("checked BilevelProblem").dims();
    check_split(method, dims, z_len, init_len)?;
    Ok(dims.0)
}

/// The bilevel view of a problem already checked by [`bilevel_dims`].
pub(crate) fn bilevel(problem: &mut dyn Problem) -> &mut dyn BilevelProblem {
    problem.as_bilevel().expect("checked BilevelProblem")
}
