//! R4 (P4 App. K analogue): per-feature L2 hyper-parameters of a logistic regression learned on
//! the validation loss ([`descent_nn::L2Hyperparameters`]): lower g(λ, w) = train-CE(w) +
//! Σⱼ exp(λⱼ) wⱼ², upper f = val-CE(w), d = 20 with a sparse teacher. Ada-BiO against the
//! fixed-step baseline from λ = 0 (a strong penalty); the acceptance is a validation loss at
//! least 10 % below λ = 0's, without divergence.

use std::ops::ControlFlow;
use std::sync::Arc;

use descent_core::rng::std_normal;
use descent_core::{BilevelProblem, EvalCounts, Function, Problem, Result, RngStreams};
use descent_nn::{Activation, L2Hyperparameters, Loss, Mlp, Objective};
use descent_optim::{StepRecord, parse_optimizer, run};
use serde_json::json;

use super::config::R4Config;
use super::data::logistic_teacher;
use super::r2_bilevel::with_neumann;
use super::runs::{job_seed, mean_band_line, record_points};
use crate::harness::{par_grid, stats};
use crate::plot::{Figure, LegendAt, Panel};
use crate::report::{Claim, ClaimKind, num};

/// The acceptance: val(w*(λ_T)) ≤ this × val(w*(0)).
pub const MAX_RATIO: f64 = 0.9;
/// Gradient steps of the lower-level solve that evaluates w*(λ).
const SOLVE_STEPS: usize = 3000;

/// One run of R4.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HyperRun {
    /// Outer steps at the record points and the validation loss of the iterate w_t there.
    pub steps: Vec<f64>,
    /// Validation loss of w_t at each record point.
    pub val_loss: Vec<f64>,
    /// Validation loss of the lower solution w*(λ) at λ = 0 and at the final λ.
    pub val_at_zero: f64,
    /// Validation loss of w*(λ) at the final λ.
    pub val_at_final: f64,
    /// The largest |λⱼ| at the end.
    pub max_abs_lambda: f64,
    /// Whether the run produced a non-finite value.
    pub diverged: bool,
    /// Oracle evaluations of the run.
    pub evals: EvalCounts,
}

/// What R4 measured.
#[derive(Debug, Clone)]
pub struct R4Result {
    /// One legend label per method.
    pub labels: Vec<String>,
    /// Seeds per method.
    pub seeds: usize,
    /// `runs[method][seed]`: Ada-BiO, then the baseline.
    pub runs: Vec<Vec<HyperRun>>,
    /// Oracle evaluations of all runs.
    pub evals: EvalCounts,
}

/// w*(λ) by gradient descent on the lower level (step 1/L with L the penalty's and the
/// logistic loss's curvature bound), from w = 0.
fn solve_lower(p: &mut L2Hyperparameters, lambda: &[f64], dim: usize) -> Vec<f64> {
    let (_, dy) = p.dims();
    let big = stats::max(&lambda.iter().map(|l| l.exp()).collect::<Vec<_>>());
    let step = 1.0 / (2.0 * big + 0.25 * (1.0 + (dim as f64).sqrt()).powi(2));
    let (mut w, mut g) = (vec![0.0; dy], vec![0.0; dy]);
    for _ in 0..SOLVE_STEPS {
        p.lower_grad_y(lambda, &w, &mut g);
        w.iter_mut().zip(&g).for_each(|(wi, gi)| *wi -= step * gi);
    }
    w
}

fn one_run(c: &R4Config, spec: &str, seed: u64) -> Result<HyperRun> {
    let streams = RngStreams::new(seed);
    let mut rng = streams.stream("data");
    let w_star: Vec<f64> = (0..c.dim)
        .map(|j| {
            if j < c.informative {
                2.0 * std_normal(&mut rng)
            } else {
                0.0
            }
        })
        .collect();
    let train = Arc::new(logistic_teacher("train", c.n_train, &w_star, &mut rng)?);
    let val = Arc::new(logistic_teacher("validation", c.n_val, &w_star, &mut rng)?);
    let model = Mlp::new(vec![c.dim, 1], Activation::Identity, true)?;
    let obj = |d: &Arc<descent_data::Dataset>, s: &RngStreams| {
        Objective::new(model.clone(), d.clone(), Loss::Logistic, c.batch, s)
    };
    let mut problem = L2Hyperparameters::new(
        obj(&train, &streams)?,
        obj(&val, &RngStreams::new(streams.child_seed("val", 0)))?,
        "*.weight",
    )?;
    let mut exact = L2Hyperparameters::new(
        obj(&train, &streams)?,
        Objective::new(
            model.clone(),
            val.clone(),
            Loss::Logistic,
            c.n_val,
            &streams,
        )?,
        "*.weight",
    )?;
    let (dx, dy) = problem.dims();
    let mut opt = parse_optimizer(spec)?;
    opt.init(problem.layout(), &streams)?;
    let mut z = vec![0.0; dx + dy];
    let points = record_points(c.steps, 40);
    let mut r = HyperRun::default();
    let outcome = run(
        opt.as_mut(),
        &mut z,
        &mut problem,
        c.steps,
        |s: &StepRecord<'_>| {
            r.evals = r.evals + s.info.evals;
            if points.contains(&s.step) {
                r.steps.push(s.step as f64);
                r.val_loss.push(exact.validation().value(&s.x[dx..]));
            }
            ControlFlow::Continue(())
        },
    )?;
    r.diverged = outcome.diverged();
    let w0 = solve_lower(&mut exact, &vec![0.0; dx], c.dim);
    r.val_at_zero = exact.validation().value(&w0);
    let wt = solve_lower(&mut exact, &z[..dx], c.dim);
    r.val_at_final = exact.validation().value(&wt);
    r.max_abs_lambda = stats::max_abs(&z[..dx]);
    Ok(r)
}

/// Ada-BiO and the baseline at every seed.
pub fn measure(c: &R4Config, seed: u64) -> Result<R4Result> {
    let specs = [
        with_neumann(&c.ada_bio, c.l, c.terms),
        with_neumann(&c.baseline, c.l, c.terms),
    ];
    let runs = par_grid(specs.len(), c.seeds, |m, k| {
        one_run(c, &specs[m], job_seed(seed, "r4", k))
    })?;
    let evals = runs
        .iter()
        .flatten()
        .fold(EvalCounts::default(), |a, r| a + r.evals);
    Ok(R4Result {
        labels: vec!["Ada-BiO".into(), "fixed-step baseline".into()],
        seeds: c.seeds,
        runs,
        evals,
    })
}

impl R4Result {
    /// Mean over seeds of val(w*(λ_T)) / val(w*(0)) of `method` (NaN if a run diverged).
    pub fn ratio(&self, method: usize) -> f64 {
        let v: Vec<f64> = self.runs[method]
            .iter()
            .map(|r| {
                if r.diverged {
                    f64::NAN
                } else {
                    r.val_at_final / r.val_at_zero
                }
            })
            .collect();
        stats::mean(&v)
    }
}

/// The claims of R4 (the loose acceptance for Ada-BiO asserted, the baseline reported).
pub fn claims(r: &R4Result) -> Vec<Claim> {
    let n = r.seeds;
    let detail = |m: usize| {
        json!(
            r.runs[m]
                .iter()
                .map(|x| json!({
            "val_at_zero": num(x.val_at_zero), "val_at_final": num(x.val_at_final),
            "max_abs_lambda": num(x.max_abs_lambda), "diverged": x.diverged}))
                .collect::<Vec<_>>()
        )
    };
    let statement = |who: &str| {
        format!(
            "R4: {who} lowers the validation loss of the lower solution w*(lambda) by at least \
             10% from lambda = 0 without diverging (mean over {n} seeds of \
             val(w*(lambda_T))/val(w*(0)))"
        )
    };
    let judged = |m: usize, kind| {
        let v = r.ratio(m);
        Claim::judged(
            if m == 0 {
                "hierarchical/r4-ada-bio-lowers-validation-loss"
            } else {
                "hierarchical/r4-baseline-lowers-validation-loss"
            },
            &statement(if m == 0 {
                "Ada-BiO"
            } else {
                "the fixed-step baseline"
            }),
            kind,
            json!({"mean_ratio": num(v), "runs": detail(m)}),
            &format!("mean ratio <= {MAX_RATIO}, no run diverged"),
            v <= MAX_RATIO,
        )
    };
    vec![
        judged(0, ClaimKind::Asserted),
        judged(1, ClaimKind::Reported),
    ]
}

/// Validation loss of the iterate against outer steps (mean over seeds, min–max band).
pub fn figure(r: &R4Result) -> Figure {
    let lines = r
        .labels
        .iter()
        .zip(&r.runs)
        .map(|(label, runs)| {
            let n = runs.iter().map(|x| x.val_loss.len()).min().unwrap_or(0);
            let cols: Vec<Vec<f64>> = (0..n)
                .map(|i| runs.iter().map(|x| x.val_loss[i]).collect())
                .collect();
            mean_band_line(label.clone(), runs[0].steps[..n].to_vec(), &cols)
        })
        .collect();
    Figure {
        caption: Some(format!(
            "R4: per-feature L2 hyper-parameters of a logistic regression (d = 20); validation \
             loss of w_t against outer steps, mean over {} seeds (min-max band)",
            r.seeds
        )),
        panels: vec![Panel {
            title: "validation loss".into(),
            x_label: "outer step".into(),
            y_label: "validation cross-entropy".into(),
            log_x: true,
            legend: LegendAt::UpperRight,
            lines,
            ..Panel::default()
        }],
    }
}
