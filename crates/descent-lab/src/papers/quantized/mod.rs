//! P7 — Tang, Li & Zou, "A Convergence Analysis of Adaptive Optimizers under Floating-point
//! Quantization" (ICLR 2026): Adam and Muon converge with quantized weights, gradients and
//! states when the relative errors are small enough (Theorems 4.5 and 4.6); Muon is the robust one.
//!
//! Quantizers sit where the paper puts them (§2.2): Q_W on the weights a worker evaluates the
//! gradient at (master weights stay in f64), Q_G on the gradient, Q_M and Q_V on the stored
//! optimizer states. Every run is built from spec text through the optimizer registry, e.g.
//! `adam(lr=0.01, schedule=linear(total=20000, end=0), v=fmt(e=8, m=7, round=nearest))`, with
//! `w=` for Q_W. Formats are E8M_M (f32's exponent range, M mantissa bits). Z2 and Z3 follow the
//! paper's two experiments (Rosenbrock, a fully connected network) at small scale; the matrix
//! quadratic Z1 is the bed of the asserted checks.
//!
//! | check | file |
//! |---|---|
//! | Z1 matrix quadratic: RTN-V stalls Adam, Muon and SR are robust, M = 23 / 10 recovery, sweep | [`z1_matrix_quadratic`] |
//! | Theorem 4.5 / 4.6 conditions, Assumption 3.1 bounds, SR unbiased, frozen EMA | [`theory`] |
//! | Z2 Rosenbrock 16-d as 4 × 4: final loss against mantissa bits | [`z2_rosenbrock`] |
//! | Z3 bias-free tanh MLP on digits (CIFAR-10 stand-in) | [`z3_digits`] |
//! | settings, spec text, step loop, (setting × seed) grids, sweeps | [`runs`] |

pub mod config;
pub mod runs;
pub mod theory;
pub mod z1_matrix_quadratic;
pub mod z2_rosenbrock;
pub mod z3_digits;

#[cfg(test)]
mod tests;

pub use config::{Config, Z1Config, Z2Config, Z3Config};

use descent_core::Result;

use crate::experiment::{Paper, RunContext, RunOutput};
use crate::plot::Figure;
use crate::report::Report;
use runs::Sweep;

/// The `quantized` experiment.
pub struct QuantizedPaper;

impl Paper for QuantizedPaper {
    type Config = Config;
    const NAME: &'static str = "quantized";
    const PAPER: &'static str =
        "P7 A Convergence Analysis of Adaptive Optimizers under Floating-point Quantization";
    const SUMMARY: &'static str = "Adam vs Muon with quantized weights, gradients and states: RTN \
                                   second moments stall Adam, Muon and stochastic rounding are \
                                   robust";

    fn reproduce(&self, c: &Config, ctx: &RunContext<'_>) -> Result<RunOutput> {
        let mut report = Report::default();
        let mut figures: Vec<(String, Figure)> = Vec::new();

        (ctx.progress)(0.0, "z1 checks");
        let z1 = z1_matrix_quadratic::measure(&c.z1, ctx.seed, ctx.progress)?;
        report.add_table(
            "z1_checks",
            &z1_matrix_quadratic::CHECKS_COLUMNS,
            z1_matrix_quadratic::checks_rows(&z1),
        );
        for claim in z1_matrix_quadratic::claims(&z1) {
            report.claim(claim);
        }
        report.evals = z1.evals;

        let th = theory::measure(ctx.seed)?;
        report.add_table(
            "theory_predicates",
            &theory::PREDICATE_COLUMNS,
            theory::predicate_rows(&th),
        );
        for claim in theory::claims(&th) {
            report.claim(claim);
        }

        for (name, xs, ys) in z1_matrix_quadratic::curve_series(&z1) {
            report.add_series(&name, &[("step", xs), ("loss", ys)]);
        }
        figures.push((
            "z1_loss_curves".into(),
            z1_matrix_quadratic::curves_figure(&z1),
        ));
        add_sweep_table(&mut report, "z1_sweep", &z1.sweep);
        figures.push((
            "z1_loss_vs_bits".into(),
            z1_matrix_quadratic::sweep_figure(&z1),
        ));

        if c.z2.enabled {
            (ctx.progress)(0.6, "z2 sweep");
            let z2 = z2_rosenbrock::measure(&c.z2, ctx.seed)?;
            for claim in z2_rosenbrock::claims(&z2) {
                report.claim(claim);
            }
            add_sweep_table(&mut report, "z2_sweep", &z2.sweep);
            figures.push(("z2_loss_vs_bits".into(), z2_rosenbrock::figure(&z2)));
            report.evals = report.evals + z2.evals;
        }

        if c.z3.enabled {
            (ctx.progress)(0.8, "z3 sweep");
            let z3 = z3_digits::measure(&c.z3, ctx.seed)?;
            for claim in z3_digits::claims(&z3) {
                report.claim(claim);
            }
            report.add_table("z3_sweep", &z3_digits::COLUMNS, z3_digits::rows(&z3));
            figures.push(("z3_loss_vs_bits".into(), z3_digits::figure(&z3)));
            report.evals = report.evals + z3.evals;
        }

        add_assumptions(&mut report);
        (ctx.progress)(1.0, "done");
        Ok(RunOutput { report, figures })
    }
}

fn add_sweep_table(report: &mut Report, name: &str, sweep: &Sweep) {
    report.add_table(name, &Sweep::COLUMNS, sweep.rows());
}

/// The readings of the paper this reproduction rests on (its algorithm boxes and experiment
/// settings were not available).
fn add_assumptions(report: &mut Report) {
    report
        .assume(
            "Adam is torch's practical form (bias corrections, eps outside the root) with \
             states stored quantized after the full-precision EMA update (spec §2.3, \
             pitfall 2); the Defossez weighted-sum form is not implemented",
        )
        .assume(
            "Muon follows KellerJordan/Muon: Nesterov momentum beta = 0.95, NS5 with \
             (3.4445, -4.7750, 2.0315), scale sqrt(max(1, rows/cols)); non-matrix blocks \
             use AdamW with lr = 0.1 x Muon's lr; Q_M quantizes the momentum buffer, NS runs \
             in full precision",
        )
        .assume(
            "formats are E8M_M with subnormals (f32's exponent range); stochastic rounding \
             uses a counter hash of (seed, step, index) per component, independent of the \
             gradient-noise stream",
        )
        .assume(
            "Z1: f(W) = (1/2n)||A(W - W*)||_F^2 with n = 8 the matrix side; h log-spaced in \
             [1, 10], U from QR of a Gaussian (seed 123), W* = 10 N(0,1) from the run seed; \
             gradient noise 0.01 N(0,1) per entry per step; linear LR decay to 0; the metric \
             is the exact loss at the final master weights; medians over seeds",
        )
        .assume(
            "Q_W: the gradient is evaluated at Q_W(x) and applied to f64 master weights \
             (pitfall 1); the loss is always measured at the master weights",
        )
        .assume(
            "Z2 and Z3 learning rates, noise, shapes and T are our choices (the paper's are \
             unknown); Z3 uses the embedded digits with a bias-free MLP so Muon sees only \
             matrices",
        );
}
