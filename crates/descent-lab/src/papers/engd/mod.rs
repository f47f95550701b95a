//! P8 — Improving Energy Natural Gradient Descent through Woodbury, Momentum, and Randomization
//! (Guzmán-Cordero, Dangel, Goldshlager & Zeinhofer, NeurIPS 2025), experiment `engd`.
//!
//! ENGD solves (JᵀJ + λI)d = −Jᵀr̃ for PINN residuals; the paper's Woodbury form
//! d = −Jᵀ(JJᵀ + λI)⁻¹r̃ (ENGD-W) makes the solve N × N, SPRING adds momentum and Nyström
//! sketches the kernel. Composes descent-nn's Taylor-mode MLP and `pinn` module with
//! descent-optim's ENGD family (`Engd` with the parameter-space, sample-space and Nyström
//! solvers), Adam and L-BFGS. The quick preset is problem A of the paper's small-scale
//! reproduction (2-D Poisson, u* = sin(πx)sin(πy), net 2→32→32→1, N = 300 + 100 resampled every
//! step) with checks 1–10; the full preset adds problem B (5-D Poisson, Σcos(πxᵢ)) and C (heat
//! in 1+2 D).
//!
//! | check | what | file |
//! |---|---|---|
//! | 1–3 | Laplacian, residual Jacobian, gradient against finite differences | [`derivatives`] |
//! | 4 | Woodbury direction = ENGD direction (the library's solve) | [`linear_algebra`] |
//! | 4 | SPRING with μ = 0 is ENGD-W bit for bit | [`training`], [`comparisons`] |
//! | 5 | ENGD and ENGD-W trajectories agree | [`training`], [`comparisons`] |
//! | 6 | sample-space solve faster than parameter-space at N < P | [`linear_algebra`] |
//! | 7–9 | ENGD-W accuracy, gap to Adam, SPRING vs ENGD-W | [`training`], [`comparisons`] |
//! | 10 | Nyström exact at full rank, reconstruction improves with ℓ | [`linear_algebra`] |
//! | B, C | 5-D Poisson and heat (full preset, reported) | [`training`], [`comparisons`] |

pub mod comparisons;
pub mod config;
pub mod derivatives;
pub mod linear_algebra;
pub mod problems;
#[cfg(test)]
mod tests;
pub mod training;

pub use config::Config;

use descent_core::{EvalCounts, Result};

use crate::experiment::{Paper, RunContext, RunOutput};
use crate::report::Report;

/// The `engd` experiment.
pub struct EngdPaper;

/// Readings of the paper and of the authors' code where the paper leaves something open.
const ASSUMPTIONS: [&str; 7] = [
    "Loss, scaling and damping as the authors' code (spec §2.1): rows of J and r scaled by 1/√N_Ω and 1/√N_∂, λ added to K without N scaling.",
    "The ENGD baseline uses a Cholesky solve of JᵀJ + λI (not the paper's CPU lstsq), so its per-step cost is lower than the paper's and the speed ratio of check 6 is the solve-cost ratio only.",
    "Model seeds are child seeds of the run seed (stream 'model'); batches come from the run seed's 'batches' stream, the evaluation set from its 'eval' stream, so all methods of one model seed see the same batches.",
    "Wall-clock seconds exclude the L2 evaluation and include the line search (and the epoch loop's one loss evaluation per logged step); runs execute two at a time on 2 cores, so times are comparable only within a run.",
    "L-BFGS resamples every step like the other methods; its curvature pairs use two gradients of the same batch (multi-batch L-BFGS).",
    "Checks 1-3 use FD on a random 3-7-5-1 tanh net (Xavier init) and on problem A's net with a 30+12 batch; check 4 uses the 2-16-16-1 net at initialisation with N = 140 and N = 500; check 10 uses problem A's Jacobian at initialisation.",
    "Check 10 reading: the fast Nyström variant keeps its stabilising shift ν = 1e-7 in the factor, so BBᵀ approximates K + νI (the reconstruction error is measured against K + νI) and at ℓ = N the solve equals the exact solve of K + (λ+ν)I, which is what the spec's equality check compares with.",
];

impl Paper for EngdPaper {
    type Config = Config;
    const NAME: &'static str = "engd";
    const PAPER: &'static str = "P8 Improving energy natural gradient descent through Woodbury, momentum, and randomization";
    const SUMMARY: &'static str =
        "PINNs: ENGD, ENGD-W (Woodbury), SPRING, Nystrom vs Adam and L-BFGS on Poisson and heat";

    fn reproduce(&self, c: &Config, ctx: &RunContext<'_>) -> Result<RunOutput> {
        let seed = ctx.seed;
        (ctx.progress)(0.0, "derivative checks");
        let derivatives = derivatives::measure(c, seed)?;
        let algebra = linear_algebra::measure(c, seed)?;
        (ctx.progress)(0.1, "training runs");
        let runs = training::measure(c, seed)?;
        (ctx.progress)(0.9, "claims");

        let mut report = Report::default();
        let claims = derivatives::claims(&derivatives)
            .into_iter()
            .chain([linear_algebra::woodbury_claim(&algebra)])
            .chain(comparisons::equivalence_claims(c, &runs))
            .chain([linear_algebra::speed_claim(
                &algebra,
                training::in_runs_speed_ratio(c, &runs),
            )])
            .chain(comparisons::accuracy_claims(c, &runs))
            .chain(comparisons::baseline_claims(c, &runs))
            .chain(linear_algebra::nystrom_claims(&algebra))
            .chain(comparisons::nystrom_run_claims(c, &runs))
            .chain(comparisons::other_problem_claims(c, &runs));
        for claim in claims {
            report.claim(claim);
        }
        for a in ASSUMPTIONS {
            report.assume(a);
        }
        for note in training::run_notes(&runs) {
            report.assume(note);
        }

        report.add_table("runs", &training::RUNS_COLUMNS, training::runs_rows(&runs));
        report.add_table(
            "nystrom_reconstruction",
            &["rank", "rel_frobenius_error"],
            linear_algebra::reconstruction_rows(&algebra),
        );
        let mut evals = EvalCounts::default();
        for r in &runs.runs {
            evals = evals + r.evals;
            report.add_series(
                &training::series_name(&r.label),
                &[
                    ("step", r.steps.clone()),
                    ("seconds", r.seconds.clone()),
                    ("l2", r.l2.clone()),
                ],
            );
        }
        report.evals = evals;
        let figures = training::figures(&runs);
        (ctx.progress)(1.0, "done");
        Ok(RunOutput { report, figures })
    }
}
