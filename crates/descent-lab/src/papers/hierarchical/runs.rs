//! The run machinery R1 and R2 share: one optimizer spec on one noisy synthetic problem,
//! recording ‖∇Φ(x_t)‖ (exact, from the problem's closed form) at every step, its mean over
//! windows ending at log-spaced record points, the oracle calls so far, and the tail means the
//! claims read; (method × noise × seed) grids through the harness job runner; the curves figure.

use std::ops::ControlFlow;

use descent_core::{EvalCounts, Problem, Result, RngStreams};
use descent_optim::{Outcome, StepRecord, parse_optimizer, run};

use crate::harness::stats;
use crate::plot::{LegendAt, Line, Panel};

/// One run's record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curve {
    /// Steps at the record points (log-spaced, the last is T).
    pub steps: Vec<f64>,
    /// Oracle calls (gradients and second-order products) at the record points.
    pub calls: Vec<f64>,
    /// Mean of ‖∇Φ(x_t)‖ over the steps since the previous record point.
    pub grad_norm: Vec<f64>,
    /// Mean of ‖∇Φ(x_t)‖ over each (start, end) tail window asked for (NaN when diverged).
    pub tails: Vec<f64>,
    /// Whether the run produced a non-finite value.
    pub diverged: bool,
    /// Oracle evaluations of the run.
    pub evals: EvalCounts,
}

/// About `n` log-spaced integers in [1, t], increasing, ending at t.
pub fn record_points(t: u64, n: usize) -> Vec<u64> {
    let mut pts: Vec<u64> = (0..n)
        .map(|i| (t as f64).powf(i as f64 / (n - 1).max(1) as f64).round() as u64)
        .collect();
    pts.dedup();
    if pts.last() != Some(&t) {
        pts.push(t);
    }
    pts
}

/// What one run needs: the optimizer spec, the noisy problem, the start, the horizon, the tail
/// windows (1-based inclusive step ranges) and ‖∇Φ‖ of a parameter vector z = (x, y).
pub struct RunSpec<'a> {
    /// The optimizer's spec text.
    pub spec: &'a str,
    /// The start z₀ = (x₀, y₀).
    pub start: &'a [f64],
    /// Iterations T.
    pub steps: u64,
    /// The tail windows (1-based inclusive step ranges) whose mean ‖∇Φ‖ is recorded.
    pub tails: &'a [(u64, u64)],
    /// Record points (log-spaced).
    pub points: usize,
    /// Seed of the optimizer's RNG streams (the problem brings its own noise stream).
    pub seed: u64,
}

/// Runs `r.spec` on `problem` and records the curve; `grad_norm` maps z to ‖∇Φ(x)‖.
pub fn run_curve(
    r: &RunSpec<'_>,
    problem: &mut dyn Problem,
    grad_norm: &mut dyn FnMut(&[f64]) -> f64,
) -> Result<Curve> {
    let mut opt = parse_optimizer(r.spec)?;
    opt.init(problem.layout(), &RngStreams::new(r.seed))?;
    let mut z = r.start.to_vec();
    let points = record_points(r.steps, r.points);
    let mut next = 0;
    let mut c = Curve {
        steps: Vec::with_capacity(points.len()),
        calls: Vec::with_capacity(points.len()),
        grad_norm: Vec::with_capacity(points.len()),
        tails: vec![0.0; r.tails.len()],
        diverged: false,
        evals: EvalCounts::default(),
    };
    let (mut window, mut count) = (0.0, 0u64);
    let mut calls = EvalCounts::default();
    let outcome = run(
        opt.as_mut(),
        &mut z,
        problem,
        r.steps,
        |s: &StepRecord<'_>| {
            let g = grad_norm(s.x);
            calls = calls + s.info.evals;
            window += g;
            count += 1;
            for (tail, (a, b)) in c.tails.iter_mut().zip(r.tails) {
                if (*a..=*b).contains(&s.step) {
                    *tail += g / (b - a + 1) as f64;
                }
            }
            if next < points.len() && s.step == points[next] {
                c.steps.push(s.step as f64);
                c.calls.push(oracle_calls(&calls) as f64);
                c.grad_norm.push(window / count as f64);
                (window, count) = (0.0, 0);
                next += 1;
            }
            ControlFlow::Continue(())
        },
    )?;
    c.evals = calls;
    if let Outcome::Diverged { .. } = outcome {
        c.diverged = true;
        c.tails.iter_mut().for_each(|t| *t = f64::NAN);
    }
    Ok(c)
}

/// Oracle calls: minimax/upper/lower gradients and Hessian or mixed products.
pub fn oracle_calls(e: &EvalCounts) -> u64 {
    e.pair_grads + e.hvps + e.gradients
}

/// The seed of the `k`-th repeat of run seed `root` for experiment part `part`.
pub fn job_seed(root: u64, part: &str, k: usize) -> u64 {
    RngStreams::new(root).child_seed(part, k as u64)
}

/// The median curve of a method over seeds with its quartile band, against the steps or the
/// oracle calls (medians of the calls across seeds).
pub fn median_line(label: &str, curves: &[Curve], by_calls: bool) -> Line {
    let n = curves.iter().map(|c| c.grad_norm.len()).min().unwrap_or(0);
    let at = |i: usize, q: f64| {
        let v: Vec<f64> = curves.iter().map(|c| c.grad_norm[i]).collect();
        stats::quantile(&v, q)
    };
    let x: Vec<f64> = (0..n)
        .map(|i| {
            if by_calls {
                stats::median(&curves.iter().map(|c| c.calls[i]).collect::<Vec<_>>())
            } else {
                curves[0].steps[i]
            }
        })
        .collect();
    let mut line = Line::new(label, x, (0..n).map(|i| at(i, 0.5)).collect());
    line.band = Some((
        (0..n).map(|i| at(i, 0.25)).collect(),
        (0..n).map(|i| at(i, 0.75)).collect(),
    ));
    line
}

/// One panel per noise level: one line per method (median over seeds, quartile band), log axes.
pub fn curve_panels(
    sigmas: &[f64],
    labels: &[String],
    curves: &[Vec<Vec<Curve>>],
    by_calls: bool,
    y_label: &str,
) -> Vec<Panel> {
    sigmas
        .iter()
        .enumerate()
        .map(|(s, sigma)| Panel {
            title: format!("σ = {sigma}"),
            x_label: if by_calls {
                "oracle calls".into()
            } else {
                "iteration t".into()
            },
            y_label: y_label.into(),
            log_x: true,
            log_y: true,
            legend: LegendAt::LowerLeft,
            lines: labels
                .iter()
                .zip(curves)
                .map(|(l, per_sigma)| median_line(l, &per_sigma[s], by_calls))
                .collect(),
            x_ticks: Vec::new(),
        })
        .collect()
}

/// A line of the mean over seeds with a min–max band: `cols[i]` holds the seeds' values at `x[i]`.
pub fn mean_band_line(label: String, x: Vec<f64>, cols: &[Vec<f64>]) -> Line {
    let mut line = Line::new(label, x, cols.iter().map(|v| stats::mean(v)).collect());
    line.band = Some((
        cols.iter().map(|v| stats::min(v)).collect(),
        cols.iter().map(|v| stats::max(v)).collect(),
    ));
    line
}
