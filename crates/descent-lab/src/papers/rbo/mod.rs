//! P6 — Rolling Ball Optimizer (Belgoumri et al., arXiv 2505.19527, "Rolling Ball Optimizer:
//! learning by ironing out loss landscape wrinkles"): a ball of radius ρ rolls on the loss graph,
//! so wrinkles narrower than the ball are ironed out; compared with SAM and Entropy-SGD.
//!
//! Experiment `rbo`: the small-scale reproduction plan of the paper's spec (§5, checks R1–R7).
//! Library parts used: [`descent_optim::rolling_ball`] (geometry, iterative and exact 1-D
//! projection, offset heights), [`descent_optim::Rbo`], [`descent_optim::SamOptimizer`],
//! [`descent_optim::EntropySgd`] (all from spec text), and the sharpness probe
//! [`descent_optim::probes::top_hessian_eigenvalue`].
//!
//! | check | what | file |
//! |---|---|---|
//! | R1 | τ ⟂ ν, ‖ν‖ = 1; the recomputed centre stays on the ρ-offset (curvature > 1/ρ on the path) | [`r1_geometry`] |
//! | R2 | on an affine loss an RBO step is the GD step for every ρ | [`r2_affine`] |
//! | R3 | RBO → GD as η → 0 (ρ = 1e-6) on an MLP, with O(η) gap | [`r3_small_limit`] |
//! | R4 | θ²/2 + 0.05 sin(50θ): GD sticks, RBO with ρ = 0.2 escapes | [`r4_wrinkled`] |
//! | R5 | minima with curvature > 1/ρ are never contact points | [`r5_unreachable`] |
//! | R6 | the offset surface flattens and loses minima as ρ grows | [`r6_ironing`] |
//! | R7 | RBO vs SGD/SAM/Entropy-SGD on a mixture MLP; η × ρ grid; sharpness | [`r7_comparison`], [`r7_report`] |
//!
//! Shared problems (the wrinkled quadratic, the mixture, the MLP) are in [`problems`].

pub mod config;
pub mod problems;
pub mod r1_geometry;
pub mod r2_affine;
pub mod r3_small_limit;
pub mod r4_wrinkled;
pub mod r5_unreachable;
pub mod r6_ironing;
pub mod r7_comparison;
pub mod r7_report;
#[cfg(test)]
mod tests;

pub use config::Config;

use descent_core::Result;

use crate::experiment::{Paper, RunContext, RunOutput};
use crate::report::Report;

/// The `rbo` experiment (P6).
pub struct RboPaper;

impl Paper for RboPaper {
    type Config = Config;
    const NAME: &'static str = "rbo";
    const PAPER: &'static str =
        "P6 Rolling Ball Optimizer: learning by ironing out loss landscape wrinkles";
    const SUMMARY: &'static str = "RBO geometry, GD limit, wrinkle escape, unreachable minima and ironing; RBO vs SGD/SAM/Entropy-SGD";

    fn reproduce(&self, c: &Config, ctx: &RunContext<'_>) -> Result<RunOutput> {
        let mut report = Report::default();
        let mut figures = Vec::new();
        (ctx.progress)(0.0, "geometry and 1-D checks");
        let r1 = r1_geometry::measure(ctx.seed)?;
        report.claims.extend(r1_geometry::claims(&r1));
        r1_geometry::record(&r1, &mut report);

        let r2 = r2_affine::measure()?;
        report.claims.extend(r2_affine::claims(&r2));

        let r3 = r3_small_limit::measure(c, ctx.seed)?;
        report.claims.extend(r3_small_limit::claims(&r3));
        r3_small_limit::record(&r3, &mut report);

        let r4 = r4_wrinkled::measure(c)?;
        report.claims.extend(r4_wrinkled::claims(&r4));
        r4_wrinkled::record(&r4, &mut report);
        figures.push(("wrinkled".to_string(), r4_wrinkled::figure(&r4)));

        let r5 = r5_unreachable::measure()?;
        report.claims.extend(r5_unreachable::claims(&r5));
        r5_unreachable::record(&r5, &mut report);

        let r6 = r6_ironing::measure(c)?;
        report.claims.extend(r6_ironing::claims(&r6));
        r6_ironing::record(&r6, &mut report);
        figures.push(("ironing".to_string(), r6_ironing::figure(&r6)));

        (ctx.progress)(0.2, "neural-network comparison");
        let r7 = r7_comparison::measure(&c.comparison, ctx.seed, ctx.progress)?;
        report.claims.extend(r7_comparison::claims(&r7));
        r7_report::record(&r7, &mut report);
        figures.push(("accuracy_curves".to_string(), r7_report::curves_figure(&r7)));
        figures.push(("lr_radius_grid".to_string(), r7_report::grid_figure(&r7)));

        report.assume(
            "R1, R2 (n = 1), R4, R5 and R6 use the exact 1-D projection (grid over [x̃−D, x̃+D], \
             D = |ỹ − f(x̃)|, then Newton on the stationarity equation); R2 (n = 5), R3 and R7 \
             use the authors' iterative solver warm-started at θ_t on the same minibatch.",
        );
        report.assume(
            "RBO's cost is counted as 1 + K gradients per step (the outer gradient is not reused \
             as the first projection iterate), as in the authors' code.",
        );
        Ok(RunOutput { report, figures })
    }
}
