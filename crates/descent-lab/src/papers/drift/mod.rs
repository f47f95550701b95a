//! P1 — representational drift from task-irrelevant stimuli (Pashakhanloo, "Contribution of
//! task-irrelevant stimuli to drift of neural representations", NeurIPS 2025, arXiv
//! 2510.21588): online learners at a solution keep moving along their symmetry orbit, at a rate
//! set by the variance λ⊥ and dimension n − m of the inputs the task ignores.
//!
//! Reproduces checks T1–T7 of the P1 spec's §5 (its §3 labels the closed forms P1-a to P1-h,
//! which `descent_nn::drift_theory` implements). Composes library parts: the online rules of
//! `descent_nn::hebbian` (Oja, similarity matching, linear autoencoder and two-layer net with
//! weight decay) started at their analytic fixed points, fresh Gaussian samples from
//! `descent_data::generators::SpectralGaussian` drawn with the fast `SimRng` stream,
//! `descent_optim::SynapticNoise`, and the rotation/MSD estimators of
//! `descent_optim::probes::drift`.
//!
//! | check | file |
//! |---|---|
//! | every simulation (all checks' points in one parallel fan-out) | [`simulate`] |
//! | T1 Oja over λ⊥, T2 Oja over n − m; the MSD figure | [`t1_t2_oja`] |
//! | T3 learning against synaptic noise over m | [`t3_output_dim`] |
//! | T4 similarity matching, T5 autoencoder, T6 supervised net; their n − m (reported) | [`t4_t6_models`] |
//! | T7 anisotropy and isotropy (full preset, reported) | [`t7_anisotropy`] |
//! | the cost of a step (reported) | [`speed`] |
//! | config, presets, validation | [`config`] |
//! | pure views of points: cases, lines, the rates table | [`points`] |

pub mod config;
pub mod points;
pub mod simulate;
pub mod speed;
pub mod t1_t2_oja;
pub mod t3_output_dim;
pub mod t4_t6_models;
pub mod t7_anisotropy;
#[cfg(test)]
mod tests;

pub use config::{Config, Sweep};

use descent_core::{EvalCounts, Result};

use crate::experiment::{Paper, RunContext, RunOutput};
use crate::report::Report;
use simulate::RunSpec;

/// The `drift` experiment.
pub struct DriftPaper;

impl Paper for DriftPaper {
    type Config = Config;
    const NAME: &'static str = "drift";
    const PAPER: &'static str = "P1 Contribution of task-irrelevant stimuli to drift of neural \
                                 representations (Pashakhanloo, NeurIPS 2025)";
    const SUMMARY: &'static str = "online Oja, similarity matching, autoencoder and supervised \
                                   net drift along their symmetry orbit at rates set by the \
                                   irrelevant variance and dimension";

    fn reproduce(&self, c: &Config, ctx: &RunContext<'_>) -> Result<RunOutput> {
        // every check's points, run once each in one fan-out
        let (t1, t2) = t1_t2_oja::specs(c);
        let (t3_learning, t3_synaptic) = t3_output_dim::specs(c);
        let (t7_aniso, t7_iso) = t7_anisotropy::specs(c);
        let plan: Vec<RunSpec> = [t1, t2, t3_learning, t3_synaptic]
            .into_iter()
            .chain(t4_t6_models::specs(c))
            .flatten()
            .chain(t7_aniso)
            .chain(t7_iso)
            .collect();
        let speed = speed::measure(c, ctx.seed)?;
        let runs = simulate::run(c, ctx.seed, &plan, ctx.progress)?;

        let oja = t1_t2_oja::measure(c, &runs)?;
        let out_dim = t3_output_dim::measure(c, &runs)?;
        let models = t4_t6_models::measure(c, &runs)?;
        let geometry = t7_anisotropy::measure(c, &runs)?;

        let mut report = Report::default();
        report.claims.extend(t1_t2_oja::claims(&oja));
        report.claims.extend(t3_output_dim::claims(&out_dim));
        report.claims.extend(t4_t6_models::claims(&models));
        report.claims.extend(t7_anisotropy::claims(&geometry));
        report.claims.extend(speed::claims(&speed));

        let [sm, ae, sup] = &models.var;
        let [dim_sm, dim_ae, dim_sup] = &models.dim;
        let groups: [(&str, &[simulate::Point]); 10] = [
            ("T1", &oja.var),
            ("T2", &oja.dim),
            ("T3-learning", &out_dim.learning),
            ("T3-synaptic", &out_dim.synaptic),
            ("T4", sm),
            ("T5", ae),
            ("T6", sup),
            ("dims-sm", dim_sm),
            ("dims-ae", dim_ae),
            ("dims-sup", dim_sup),
        ];
        report.add_table(
            "drift_rates",
            &points::RATES_COLUMNS,
            points::rates_rows(&groups),
        );
        report.add_table(
            "speed",
            &["run", "steps_per_s", "ns_per_step"],
            speed::table_rows(&speed, &oja, &out_dim, &models),
        );
        t7_anisotropy::add_series(&mut report, &geometry);
        t1_t2_oja::add_msd_series(&mut report, &oja);
        report.evals = EvalCounts {
            fields: runs.total_steps,
            resamples: runs.total_steps,
            ..EvalCounts::default()
        };
        assume(&mut report, c, runs.failures);

        let figures = vec![
            (
                "d_vs_var_irr".into(),
                t4_t6_models::var_figure(&oja, &models),
            ),
            (
                "d_vs_dimension".into(),
                t4_t6_models::dim_figure(&oja, &models),
            ),
            ("d_vs_m".into(), t3_output_dim::figure(&out_dim)),
            ("msd".into(), t1_t2_oja::msd_figure(&oja)),
        ];
        Ok(RunOutput { report, figures })
    }
}

/// `v` as `a·10ᵏ` when it is a round number of at least a thousand (5·10⁴), else in digits.
fn round_number(v: u64) -> String {
    let mut k = 0;
    let mut mantissa = v;
    while mantissa >= 10 && mantissa.is_multiple_of(10) {
        mantissa /= 10;
        k += 1;
    }
    if k < 3 {
        return v.to_string();
    }
    let sup: String = k
        .to_string()
        .chars()
        .map(|d| {
            "⁰¹²³⁴⁵⁶⁷⁸⁹"
                .chars()
                .nth(d as usize - '0' as usize)
                .unwrap_or(d)
        })
        .collect();
    format!("{mantissa}·10{sup}")
}

/// The readings of the paper and the spec that the runs rest on.
fn assume(report: &mut Report, c: &Config, failures: usize) {
    report.assume(
        "Data: zero-mean Gaussian, basis U = I, λ∥ = 1 on the first m coordinates and λ⊥ \
         on the rest (P1 §2.2); fresh samples each step (not the reference code's fixed pool).",
    );
    report.assume(format!(
        "Every run starts at the rule's analytic fixed point and burns in {} steps \
         (P1 §5); D is the rotation estimator E‖skew(Q(t)ᵀQ(t+L))‖²/(2mL) on the polar factor \
         of the relevant block (exact angle for m = 2), with overlapping windows every {} \
         steps and a batch-means standard error over {} stretches.",
        round_number(c.burn_in),
        c.snapshot_every,
        c.batches
    ));
    report.assume(
        "Supervised model: γ of the summary formula read as the weight-decay coefficient \
         (P1 §3 P1-d); its formula is leading-order only, hence the [1.0, 2.2] band.",
    );
    report.assume(
        "Similarity-matching synaptic noise (when used) is symmetrised on M as in the \
         reference code; the synaptic checks use Oja with λ∥ = 1.",
    );
    let extra: Vec<f64> = c.other_dims.n.iter().map(|n| *n as f64).collect();
    report.assume(format!(
        "The other models' n − m runs reuse the T4/T5/T6 point at n = {} and add n ∈ {} \
         with shorter runs (other_dims.steps).",
        c.t4_sm_var.n[0],
        points::set(&extra)
    ));
    let syn = &c.t3_synaptic_m;
    if syn.window != 5_000 || syn.steps != 5_000_000 {
        report.assume(format!(
            "T3 synaptic-noise runs use {} steps with window L = {} (spec: 5·10⁶ and 5·10³), \
             keeping about 1000 windows.",
            syn.steps, syn.window
        ));
    }
    if failures > 0 {
        report.assume(format!(
            "{failures} snapshots had a singular relevant block and were skipped."
        ));
    }
}
