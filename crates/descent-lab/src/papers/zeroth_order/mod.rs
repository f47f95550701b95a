//! P10 — Ma & Huang, "Revisiting Zeroth-Order Optimization: Minimum-Variance Two-Point
//! Estimators and Directionally Aligned Perturbations" (ICLR 2025): constant-magnitude laws and
//! directionally aligned perturbations (DAP) minimise the variance of the two-point estimator
//! ĝ = [f(x + μv) − f(x)]/μ · v among laws with E\[vvᵀ\] = I, and DAP puts no error on the
//! gradient direction. Experiment `zeroth-order`; the checks follow the paper's estimator
//! moments (§2), its synthetic τ-MSE figures and ZO-SGD (§3–4).
//!
//! | check | file |
//! |---|---|
//! | Z1 μ → 0 moments of every law against the closed forms; central differences; unscaled coordinate law | [`z1_moments`] |
//! | Z2 τ-MSE on the authors' Synthetic A (quadratic) and B (product) | [`z2_tau_mse`] |
//! | Z3 per-coordinate crossover of DAP against the sphere at aᵢ² = ‖a‖²/d | [`z3_crossover`] |
//! | Z4 ZO-SGD per law: convergence, one-step expectation, DAP's aᵀg = ‖a‖², relative speed | [`z4_descent`] |
//! | extras (reported): ZO-Adam on Rosenbrock and digits at equal budgets | [`extras`] |
//! | laws at equal budgets, one ZO run against its queries, median bands | [`curves`] |
//!
//! Every estimate comes from the library's [`descent_optim::ZoGradient`] / `zo(...)` optimizer;
//! the moments from [`descent_optim::probes`].

pub mod config;
pub mod curves;
pub mod extras;
pub mod z1_moments;
pub mod z2_tau_mse;
pub mod z3_crossover;
pub mod z4_descent;

#[cfg(test)]
mod tests;

pub use config::{Config, ExtrasConfig, Z1Config, Z2Config, Z3Config, Z4Config};

use descent_core::Result;
use descent_core::rng::Rng;
use descent_core::rng::std_normal;
use descent_optim::PerturbationLaw;
use descent_optim::zeroth_order::{DapConstruction, DapDirection};

use crate::experiment::{Paper, RunContext, RunOutput};
use crate::report::{Claim, Report};

/// The `zeroth-order` experiment.
pub struct ZerothOrderPaper;

impl Paper for ZerothOrderPaper {
    type Config = Config;
    const NAME: &'static str = "zeroth-order";
    const PAPER: &'static str =
        "P10 minimum-variance two-point estimators and directionally aligned perturbations";
    const SUMMARY: &'static str =
        "ZO estimator moments per perturbation law, tau-MSE, DAP crossover, ZO-SGD per law";

    fn reproduce(&self, c: &Config, ctx: &RunContext<'_>) -> Result<RunOutput> {
        let mut report = Report::default();
        let mut figures = Vec::new();

        (ctx.progress)(0.0, "Z1 moments");
        let z1 = z1_moments::measure(&c.z1, ctx.seed)?;
        report.add_table(
            "z1_moments",
            &z1_moments::COLUMNS,
            z1_moments::table_rows(&z1),
        );
        add_claims(&mut report, z1_moments::claims(&z1));

        (ctx.progress)(0.3, "Z2 tau-MSE");
        let z2 = z2_tau_mse::measure(&c.z2, ctx.seed)?;
        add_claims(&mut report, z2_tau_mse::claims(&z2));
        report.assume(z2_tau_mse::assumption(&z2));
        for (name, m) in [("synthetic_a", &z2.quad), ("synthetic_b", &z2.product)] {
            let rows = z2_tau_mse::table_rows(m);
            report.add_table(
                &format!("z2_{name}_median_tau_mse"),
                &z2_tau_mse::COLUMNS,
                rows,
            );
        }
        for (name, m) in [("quadratic", &z2.quad), ("product", &z2.product)] {
            let cols = z2_tau_mse::series_columns(m);
            report.add_series(&format!("z2_{name}_tau_mse"), &cols);
        }
        figures.push(("tau_mse".to_string(), z2_tau_mse::figure(&z2)));

        (ctx.progress)(0.45, "Z3 crossover");
        let z3 = z3_crossover::measure(&c.z3, ctx.seed)?;
        add_claims(&mut report, z3_crossover::claims(&z3));
        report.add_series("z3_per_coordinate_mse", &z3_crossover::series_columns(&z3));
        figures.push(("per_coordinate_mse".to_string(), z3_crossover::figure(&z3)));

        (ctx.progress)(0.55, "Z4 ZO-SGD");
        let z4 = z4_descent::measure(&c.z4, ctx.seed)?;
        add_claims(&mut report, z4_descent::claims(&z4));
        report.assume(z4_descent::assumption(&z4));
        for (name, lines) in z4_descent::FUNCTIONS.iter().zip(z4_descent::lines(&z4)) {
            report.add_series(
                &format!("z4_{name}_median"),
                &curves::median_columns(&lines),
            );
        }
        let speed = z4_descent::speed_rows(&z4);
        report.add_table("z4_relative_speed", &z4_descent::SPEED_COLUMNS, speed);
        figures.push(("zo_sgd".to_string(), z4_descent::figure(&z4)));
        report.evals = z4.evals;

        (ctx.progress)(0.75, "extras");
        if let Some(ex) = extras::measure(&c.extras, ctx.seed)? {
            add_claims(&mut report, extras::claims(&ex));
            for (name, lines) in ["rosenbrock", "digits"].iter().zip(extras::lines(&ex)) {
                let cols = curves::median_columns(&lines);
                report.add_series(&format!("extras_{name}_median"), &cols);
            }
            report.assume(extras::assumption(&ex));
            let rows = extras::final_rows(&ex);
            report.add_table("extras_final_median", &extras::FINAL_COLUMNS, rows);
            figures.push(("extras".to_string(), extras::figure(&ex)));
            report.evals = report.evals + ex.evals;
        }

        add_assumptions(&mut report);
        (ctx.progress)(1.0, "done");
        Ok(RunOutput { report, figures })
    }
}

fn add_claims(report: &mut Report, claims: Vec<Claim>) {
    for c in claims {
        report.claim(c);
    }
}

/// The readings of the paper this reproduction rests on.
fn add_assumptions(report: &mut Report) {
    report
        .assume(
            "All laws are scaled to E[vv^T] = I (delta = 1), so every estimator targets grad f \
             itself; the coordinate law carries sqrt(d) and 'rademacher' is Rademacher (the \
             authors' code bugs Z2 and Z3 are not copied)",
        )
        .assume(
            "Z1 uses the mu -> 0 form g = (a^T v)v with u = a/|a| for DAP; the central-difference \
             rerun uses half the samples",
        )
        .assume(
            "Z2 uses 1000 trials per median instead of the spec's 300: at 300 trials the \
             DAP-estimated/sphere-at-2B median ratio has a seed-to-seed spread of about 7% (seeds \
             0..11 gave a mean of 0.93, but seeds 0 and 11 exceeded 1.1 once each, at B = 128: \
             1.103 and 1.104), so the 1.1 bound was decided by noise; the bound itself is the \
             spec's",
        )
        .assume(
            "Z1 tolerances at d > 64 (full preset): the spec calibrates d = 8 and 64; the \
             coordinate law's 0.1 is scaled by sqrt(d/64), the growth of its per-entry sampling \
             error at a fixed sample count (0.2 at d = 256), the other laws keep 0.03 and 0.06",
        )
        .assume(
            "Z2 uses central differences for every law; DAP-estimated averages its sphere pilot \
             and its aligned estimate (notebook `empirical_grad`), so at nominal B it spends 2B \
             directions and is compared with the sphere at 2B",
        );
}

/// DAP aligned with the exact gradient, with the given complement construction w ⊥ u: (i)
/// Gaussian, (ii) norm-constant, (iii) sphere-then-project (the authors' three samplers).
pub fn dap_exact_with(construction: DapConstruction) -> PerturbationLaw {
    PerturbationLaw::Dap {
        construction,
        direction: DapDirection::Exact,
    }
}

/// aᵀb.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// One standard normal draw.
pub fn normal(rng: &mut Rng) -> f64 {
    std_normal(rng)
}
