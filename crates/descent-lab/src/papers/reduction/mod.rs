//! P5 — Markou, Ajanthan & Gould, "Sharper Convergence Rates for Nonconvex Optimisation via
//! Reduction Mappings" (NeurIPS 2025, arXiv 2506.08428): eliminating variables through a map
//! Ψ that encodes the structure of the solutions, F(x₁) = f(x₁, Ψ(x₁)), lowers β and raises μ
//! (in the pullback metric R = I + DΨᵀDΨ), so GD and the pullback-preconditioned GeoPrecGD
//! converge at a rate set by κ_F < κ_f.
//!
//! Experiment `reduction`: the small-scale reproduction plan of the spec (§5, checks E1–E4) plus
//! a neural case the paper only discusses. Library parts used: [`descent_optim::Reduction`] (the
//! oracle adapter: envelope or chain-rule gradient, HVPs with the correction term),
//! [`descent_optim::AffineMap`], [`descent_optim::FnMap`], [`descent_optim::FactorElimination`],
//! the pullback metric ([`descent_optim::reduction::metric`]), GeoPrecGD (`geoprec` in the
//! registry), the curvature probes ([`descent_optim::probes::hessian_curvature`],
//! [`descent_optim::probes::pullback_curvature`]: faer's symmetric eigensolver, Lanczos above
//! `dense_max`), and variable projection for MLPs ([`descent_nn::VarPro`]).
//!
//! | check | what | file |
//! |---|---|---|
//! | E1 | Figure 1 toy: 5 ± √17, F'' = 2, 6, 18, pullback 1, 6, 1.8, interlacing | [`e1_toy`] |
//! | E2 | least squares κ₀ ∈ {100, 1000}: argmin / constant / random affine maps; β, μ, κ, iterations | [`e2_least_squares`] |
//! | E3 | matrix factorisation with VarPro: r² zeros, κ halved, iteration ratio | [`e3_factorization`] |
//! | E4 | formulas: projection inverse, small slope, Woodbury, envelope = chain rule | [`e4_formulas`] |
//! | neural | MLP regression, head eliminated by VarPro vs plain GD and Adam (reported) | [`neural`] |
//! | figures | iterations to tolerance, loss curves, spectra before and after reduction | [`figures`] |
//!
//! The problem seeds and the iterations-to-tolerance runner are in [`runs`].

pub mod config;
pub mod e1_toy;
pub mod e2_least_squares;
pub mod e3_factorization;
pub mod e4_formulas;
pub mod figures;
pub mod neural;
pub mod runs;
#[cfg(test)]
mod tests;

pub use config::{Config, E2Config, E3Config, NeuralConfig};

use descent_core::Result;

use crate::experiment::{Paper, RunContext, RunOutput};
use crate::report::Report;

/// The `reduction` experiment (P5).
pub struct ReductionPaper;

impl Paper for ReductionPaper {
    type Config = Config;
    const NAME: &'static str = "reduction";
    const PAPER: &'static str =
        "P5 Sharper Convergence Rates for Nonconvex Optimisation via Reduction Mappings";
    const SUMMARY: &'static str = "reduced objectives F = f(x1, Psi(x1)): toy curvatures, least \
                                   squares and matrix factorisation (VarPro) conditioning and \
                                   iterations, GeoPrecGD, MLP with its head eliminated";

    fn reproduce(&self, c: &Config, ctx: &RunContext<'_>) -> Result<RunOutput> {
        let mut report = Report::default();
        let mut figures = Vec::new();

        (ctx.progress)(0.0, "E1 toy and E4 formulas");
        let e1 = e1_toy::measure()?;
        report.claims.extend(e1_toy::claims(&e1));
        report.add_table("e1_toy", &e1_toy::COLUMNS, e1_toy::rows(&e1));
        let e4 = e4_formulas::measure(ctx.seed)?;
        report.claims.extend(e4_formulas::claims(&e4));

        (ctx.progress)(0.1, "E2 least squares");
        let e2 = e2_least_squares::measure(&c.e2, ctx.seed, c.zero_tol)?;
        report.claims.extend(e2_least_squares::claims(&e2));
        report.add_table(
            "e2_least_squares",
            &e2_least_squares::COLUMNS,
            e2_least_squares::rows(&e2),
        );
        report.evals = e2.evals;

        (ctx.progress)(0.4, "E3 matrix factorisation");
        let e3 = e3_factorization::measure(&c.e3, ctx.seed, c.zero_tol)?;
        report.claims.extend(e3_factorization::claims(&e3));
        report.add_table(
            "e3_factorization",
            &e3_factorization::COLUMNS,
            e3_factorization::rows(&e3),
        );
        report.evals = report.evals + e3.evals;

        let nn = if c.neural.enabled {
            (ctx.progress)(0.6, "neural case");
            let nn = neural::measure(&c.neural, ctx.seed)?;
            report.claims.extend(neural::claims(&nn));
            report.add_table("neural", &neural::COLUMNS, neural::rows(&nn));
            for run in &nn.runs {
                report.add_series(
                    &format!("neural {}", run.label),
                    &[
                        ("step", run.steps.clone()),
                        ("seconds", run.seconds.clone()),
                        ("loss", run.loss.clone()),
                    ],
                );
            }
            report.evals = report.evals + nn.evals;
            Some(nn)
        } else {
            None
        };

        figures.push((
            "iterations".to_string(),
            figures::iterations_figure(&e2, &e3),
        ));
        figures.push((
            "loss_curves".to_string(),
            figures::curves_figure(&e2, &e3, nn.as_ref()),
        ));
        figures.push((
            "spectra".to_string(),
            figures::spectra_figure(&e2, &e3, nn.as_ref()),
        ));
        add_assumptions(&mut report, c);
        (ctx.progress)(1.0, "done");
        Ok(RunOutput { report, figures })
    }
}

/// The readings of the paper and the spec this reproduction rests on.
fn add_assumptions(report: &mut Report, c: &Config) {
    report
        .assume(
            "β, μ, κ are measured at the minimiser from the dense Hessian built from exact HVPs \
             (faer's symmetric eigensolver); μ is the smallest eigenvalue above \
             zero_tol·max|λ| (zero_tol = 1e-6, spec §5), and the zero count is reported and \
             checked against dim S; the pullback spectrum is that of R^-1/2 ∇²F R^-1/2",
        )
        .assume(
            "every step size is 1/β measured at the minimiser in the metric of the update (GD on \
             f: 1/β_f, GD on F: 1/β_F^E, GeoPrecGD: 1/β_F^R), spec pitfall 1",
        )
        .assume(format!(
            "E2/E3 problem draws: run seed s uses problem seeds {n}s .. {n}s + {m} (run seed 0 = \
             the spec's seeds 0..4); E2's random affine map has entries N(0, {scale}²/n1) and \
             passes through x*",
            n = c.e2.seeds,
            m = c.e2.seeds - 1,
            scale = c.e2.random_scale
        ))
        .assume(
            "E3: GeoPrecGD uses the exact DΨ of the factor elimination Ψ(U) = YᵀU(UᵀU)⁻¹ at every \
             step (the spec's prototype used finite differences)",
        )
        .assume(
            "E3 convergence: the spec's iteration-ratio check is reported, not asserted — on 3 of \
             the 30 draws of run seeds 0..2 it exceeds 2.6; the start (U0, Ψ(U0)) is not \
             balanced and GD on f nearly conserves UᵀU − VᵀV, so it converges to an unbalanced \
             minimiser. The rates are measured as −slope of ln(f/f0) over the points with \
             f/f0 ≤ 1e-6 and compared with −2 ln max(|1 − ημ|, |1 − ηβ|) of the Hessian at each \
             run's last iterate",
        )
        .assume(
            "the evaluation counts include the HVPs of the curvature probes and of the Lanczos \
             step-size probe of the neural GD runs",
        )
        .assume(
            "neural case (not in the paper): tanh MLP student on a tanh teacher from \
             descent-data, objective ½·MSE + (λ/2)‖W‖² on the linear head W (λ = neural.ridge) \
             so that the head's argmin is unique; GD's step is gd_scale/λ_max of its own problem \
             at the initial point; all four runs start from the same hidden weights",
        );
}
