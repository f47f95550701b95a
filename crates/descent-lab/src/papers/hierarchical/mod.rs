//! P4 — Gong, Hao & Liu, "Adaptive Algorithms with Sharp Convergence Rates for Stochastic
//! Hierarchical Optimization" (NeurIPS 2025): Ada-Minimax and Ada-BiO learn their momentum from
//! an online estimate of the gradient noise, so one setting works across noise levels.
//!
//! Experiment `hierarchical`: the spec's small-scale plan (§5, R1–R4). Library parts used:
//! [`descent_optim::hierarchical`] (SGDA/PDSM, TiAda, Ada-Minimax, the Neumann hypergradient,
//! the StocBiO-style baseline, Ada-BiO, all from spec text), the test problems
//! [`descent_core::testfns::CosineMinimax`] and [`descent_core::testfns::CosineBilevel`] with
//! [`descent_core::testfns::GaussianGradientNoise`], and the neural problems
//! [`descent_nn::AucMinimax`] and [`descent_nn::L2Hyperparameters`].
//!
//! | check | what | file |
//! |---|---|---|
//! | A1–A6 | the 1-D minimax of Fig. 1 at σ ∈ {0, 0.1, 1, 10, 100}; TiAda orderings reported | [`r1_minimax`] |
//! | B1–B4 | the synthetic bilevel problem with an exact hypergradient at σ ∈ {0, 0.1, 1} | [`r2_bilevel`] |
//! | R3 | mini deep-AUC maximisation on imbalanced Gaussians | [`r3_auc`] |
//! | R4 | per-feature L2 hyper-parameters of a logistic regression | [`r4_hyper`] |
//! | runs, curves, figures; synthetic data | | [`runs`], [`data`] |

pub mod config;
pub mod data;
pub mod r1_minimax;
pub mod r2_bilevel;
pub mod r3_auc;
pub mod r4_hyper;
pub mod runs;
#[cfg(test)]
mod tests;

pub use config::Config;

use descent_core::Result;
use serde_json::json;

use crate::experiment::{Paper, RunContext, RunOutput};
use crate::report::{Report, num};

/// The `hierarchical` experiment (P4).
pub struct HierarchicalPaper;

impl Paper for HierarchicalPaper {
    type Config = Config;
    const NAME: &'static str = "hierarchical";
    const PAPER: &'static str = "P4 Adaptive Algorithms with Sharp Convergence Rates for \
                                 Stochastic Hierarchical Optimization";
    const SUMMARY: &'static str = "Ada-Minimax and Ada-BiO vs SGDA, TiAda and a fixed-step \
                                   bilevel baseline across noise levels; deep AUC and \
                                   hyper-parameter learning";

    fn reproduce(&self, c: &Config, ctx: &RunContext<'_>) -> Result<RunOutput> {
        let mut report = Report::default();
        let mut figures = Vec::new();
        (ctx.progress)(0.0, "r1 minimax");
        let r1 = r1_minimax::measure(&c.r1, ctx.seed)?;
        report.claims.extend(r1_minimax::claims(&r1));
        let cols = sigma_columns(&r1.sigmas);
        report.add_table("r1_metric", &refs(&cols), r1_minimax::table_rows(&r1));
        figures.push(("r1_iterations".to_string(), r1_minimax::figure(&r1, false)));
        figures.push(("r1_oracle_calls".to_string(), r1_minimax::figure(&r1, true)));

        (ctx.progress)(0.25, "r2 bilevel");
        let r2 = r2_bilevel::measure(&c.r2, ctx.seed)?;
        report.claims.extend(r2_bilevel::claims(&r2));
        let cols = sigma_columns(&r2.sigmas);
        let rows = (0..r2.labels.len())
            .map(|m| {
                let mut row = vec![json!(r2.labels[m])];
                row.extend(r2.sigmas.iter().map(|s| num(r2.metric(m, *s))));
                row
            })
            .collect();
        report.add_table("r2_metric", &refs(&cols), rows);
        figures.push(("r2_iterations".to_string(), r2_bilevel::figure(&r2, false)));
        figures.push(("r2_oracle_calls".to_string(), r2_bilevel::figure(&r2, true)));

        (ctx.progress)(0.5, "r3 deep AUC");
        let r3 = r3_auc::measure(&c.r3, ctx.seed)?;
        report.claims.extend(r3_auc::claims(&r3));
        let rows = r3
            .summary()
            .into_iter()
            .map(|(m, s, auc)| vec![json!(m), json!(s), num(auc)])
            .collect();
        report.add_table("r3_tuned", &["method", "spec", "test_auc"], rows);
        figures.push(("r3_test_auc".to_string(), r3_auc::figure(&r3)));

        (ctx.progress)(0.7, "r4 hyper-parameters");
        let r4 = r4_hyper::measure(&c.r4, ctx.seed)?;
        report.claims.extend(r4_hyper::claims(&r4));
        figures.push(("r4_validation_loss".to_string(), r4_hyper::figure(&r4)));

        report.evals = r1.evals + r2.evals + r3.evals + r4.evals;
        add_assumptions(&mut report, c);
        (ctx.progress)(1.0, "done");
        Ok(RunOutput { report, figures })
    }
}

fn sigma_columns(sigmas: &[f64]) -> Vec<String> {
    let mut cols = vec!["method".to_string()];
    cols.extend(sigmas.iter().map(|s| format!("sigma={s}")));
    cols
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(|s| s.as_str()).collect()
}

/// The readings of the paper and the calibration this reproduction rests on.
fn add_assumptions(report: &mut Report, c: &Config) {
    report
        .assume(
            "Ada-Minimax/Ada-BiO follow the spec's reconstruction (2.3): S_t, G_t and the \
             AdaGrad-Norm sum include the current step; alpha_t = alpha/sqrt(alpha^2 + S_t); \
             alpha'_t = alpha/sqrt(alpha^2 + S_t + G_t) (known only from a secondary source; \
             alpha_prime=same_as_alpha switches it); m_1 = g_{x,1}; the practical variant sums \
             |g_t - g_{t-1}|^2 from k = 2 and uses eta_x sqrt(alpha'_t)/sqrt(T) with T = \
             horizon",
        )
        .assume(
            "R1: start (x1, y1) = (2, 0), T = 32000, every oracle call carries independent \
             N(0, sigma^2) noise (g_x and g_y of one call share the sample, g~_x is a second \
             sample); the metric is the mean over seeds of the mean |x_t - sin x_t| over the \
             last 10% of the iterates; A3 reads the last 10% of the first 2000 steps of the \
             same runs; TiAda is the norm form of its reference code with (0.6, 0.4) and eps \
             1e-10 added to both denominators",
        )
        .assume(format!(
            "calibration (once, quick preset, run seeds 0, 1, 2; thresholds = 2x the worst \
             value): A1 seed means at sigma = 10 were 0.054, 0.145, 0.146 -> bound {} (the \
             spec's 0.1 from its prototype is kept as a reported claim); the A5 stall of the \
             A1 setting at sigma = 100 was 4.96, 4.65, 3.38 -> bound {}; B2 (T = {}) gave \
             0.0065, 0.141/0.140/0.136, 0.353/0.382/0.363 at sigma = 0, 0.1, 1 -> bounds {:?}; \
             the ratios A2 (>= 10), A3 (<= 0.5) and B3 (>= 3) are the spec's",
            r1_minimax::A1_BOUND,
            r1_minimax::A5_STALL,
            c.r2.steps,
            r2_bilevel::B2_BOUNDS
        ))
        .assume(
            "A5's paper setting (alpha=5, eta=3) at sigma = 100 measured 0.78, 0.61, 0.41 at \
             seeds 0-2 (T = 32000; the spec's prototype 0.13 was at T = 50000): above the \
             spec's 0.3, so that half of A5 is reported, not asserted",
        )
        .assume(format!(
            "R2: the Neumann scale is l = l_g1 + {} sigma_H (2, 2.2, 2.6 at sigma = 0, 0.1, 1): \
             with l = 2 a noisy Hessian sample A + (E + E^T)/2 showed a Rayleigh quotient of \
             2.023 (seed 2), and the estimator then stops with its named error; N = ceil(3 ln \
             T / (2 ln(1/(1 - mu/l)))) with that l; the mixed-derivative sample carries \
             independent N(0, sigma_H^2/(2d)) entries; start x_j = 0.5 + 0.01 j, y = 0",
            c.r2.l_noise_margin
        ))
        .assume(
            "R3: a linear scorer sigmoid(w^T x + b0) on 20-D Gaussians with means +-0.5 (10% \
             positives, the LibAUC reading of the paper's p = 0.9); baselines take eta_x = \
             eta_y from the grid and are tuned by their final training AUC (mean over seeds); \
             PDSM is SGDA with moving averages theta = 0.1 (inferred form)",
        )
        .assume(
            "R4: lambda on the 20 weights (not the bias), start lambda = 0 (penalty sum w_j^2) \
             and w = 0, full batches of 500, Neumann l = 30 with 100 terms; val(w*(lambda)) \
             uses 3000 gradient steps on the lower level from w = 0",
        )
        .assume(
            "oracle calls = minimax/upper/lower gradients + Hessian and mixed products, as \
             counted by EvalCounter; Ada-Minimax's two samples per step count twice",
        );
}
