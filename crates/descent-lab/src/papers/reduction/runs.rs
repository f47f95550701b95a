//! What the checks share: the problem seeds, the iterations-to-tolerance runner (any optimizer
//! from spec text, through the driver), the theory's iteration count and small helpers.

use std::ops::ControlFlow;

use descent_core::{Error, EvalCounter, EvalCounts, Problem, Result, RngStreams};
use descent_optim::probes::Curvature;
use descent_optim::{Outcome, RunOptions, parse_optimizer, run_with};
use rand_distr::{Distribution, StandardNormal};

/// The seed of problem draw `k` of a check run at `run_seed` with `seeds` draws: seeds
/// `seeds·run_seed + k`, so run seed 0 draws the spec's problem seeds 0..4.
pub fn problem_seed(run_seed: u64, seeds: usize, k: usize) -> u64 {
    run_seed * seeds as u64 + k as u64
}

/// `n` standard normal numbers from the stream `name` of `seed`.
pub fn normals(seed: u64, name: &str, n: usize) -> Vec<f64> {
    let mut rng = RngStreams::new(seed).stream(name);
    (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
}

/// The iterations (κ/2)·ln(1/tol) that GD with step 1/β needs on a quadratic of condition κ to
/// bring f − f* below tol·(f₀ − f*) (the slowest mode decays like (1 − 1/κ)^{2t}).
pub fn predicted_iterations(kappa: f64, tol: f64) -> f64 {
    0.5 * kappa * (1.0 / tol).ln()
}

/// A run until f ≤ tol·f₀ (f* = 0 for every problem here).
#[derive(Debug, Clone, PartialEq)]
pub struct ToTolerance {
    /// Iterations t with f(x_t) ≤ tol·f(x₀); NaN when not reached within the budget or
    /// diverged.
    pub iterations: f64,
    /// (iteration, f/f₀), at most [`CURVE_POINTS`] points, the last one included.
    pub curve: Vec<(f64, f64)>,
    /// Evaluations of the run.
    pub evals: EvalCounts,
    /// The last iterate.
    pub end: Vec<f64>,
}

impl ToTolerance {
    /// The asymptotic linear rate −d ln(f/f₀)/dt: the least-squares slope of ln(f/f₀) against
    /// the iteration over the curve points with f/f₀ ≤ `below` (NaN with fewer than two).
    pub fn tail_rate(&self, below: f64) -> f64 {
        let (x, y): (Vec<f64>, Vec<f64>) =
            self.curve.iter().filter(|p| p.1 <= below).copied().unzip();
        -crate::harness::stats::semilog_slope(&x, &y)
    }
}

/// The loss rate −ln per iteration that GD with step `lr` has on a quadratic whose nonzero
/// Hessian eigenvalues lie in [μ, β] of `c`: f decays like max(|1 − lr·μ|, |1 − lr·β|)^{2t}.
pub fn predicted_rate(lr: f64, c: &Curvature) -> f64 {
    let slowest = crate::harness::stats::max(&[(1.0 - lr * c.mu).abs(), (1.0 - lr * c.beta).abs()]);
    -2.0 * slowest.ln()
}

/// Points kept of each loss curve.
pub const CURVE_POINTS: usize = 300;

/// Runs the optimizer `spec` on `problem` from `x0` until f(x_t) ≤ tol·f(x₀) or `max_steps`
/// steps. Every step reports the loss at its starting point, so the count costs no extra
/// evaluation.
pub fn run_to_tolerance(
    spec: &str,
    problem: &mut dyn Problem,
    x0: &[f64],
    tol: f64,
    max_steps: u64,
) -> Result<ToTolerance> {
    let f0 = match problem.as_function() {
        Some(f) => f.value(x0),
        None => {
            return Err(Error::invalid(
                "problem",
                problem.name(),
                "a problem with values",
            ));
        }
    };
    let mut opt = parse_optimizer(spec)?;
    opt.init(problem.layout(), &RngStreams::new(0))?;
    let mut x = x0.to_vec();
    let mut losses = vec![1.0];
    let mut reached = None;
    let mut counted = EvalCounter::new(problem);
    let end = run_with(
        opt.as_mut(),
        &mut x,
        &mut counted,
        RunOptions::steps(max_steps),
        |r| {
            // the loss of step k is f(x_{k−1})
            let Some(l) = r.info.loss else {
                return ControlFlow::Continue(());
            };
            if r.step > 1 {
                losses.push(l / f0);
            }
            if l <= tol * f0 {
                reached = Some(r.step - 1);
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )?;
    if reached.is_none()
        && let Outcome::Completed {
            final_loss: Some(l),
            steps,
        } = end.outcome
    {
        losses.push(l / f0);
        if l <= tol * f0 {
            reached = Some(steps);
        }
    }
    Ok(ToTolerance {
        iterations: reached.map_or(f64::NAN, |t| t as f64),
        curve: thin(&losses),
        evals: counted.counts(),
        end: x,
    })
}

/// At most [`CURVE_POINTS`] evenly spaced points of a per-iteration curve, the last kept.
fn thin(values: &[f64]) -> Vec<(f64, f64)> {
    let n = values.len();
    let stride = n.div_ceil(CURVE_POINTS).max(1);
    let mut out: Vec<(f64, f64)> = (0..n)
        .step_by(stride)
        .map(|i| (i as f64, values[i]))
        .collect();
    if !(n - 1).is_multiple_of(stride) {
        out.push(((n - 1) as f64, values[n - 1]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::testfns::Quadratic;

    #[test]
    fn gd_on_a_quadratic_meets_the_prediction() {
        // eigenvalues 1 and 10, step 1/10: f decays like 0.9^{2t} along the slow mode
        let mut q = Quadratic::diagonal(&[1.0, 10.0], &[0.0, 0.0]).unwrap();
        let r = run_to_tolerance("sgd(lr=0.1)", &mut q, &[1.0, 0.0], 1e-6, 1000).unwrap();
        let want = (1e-6f64).ln() / (0.81f64).ln();
        assert_eq!(r.iterations, want.ceil());
        assert!(r.iterations <= predicted_iterations(10.0, 1e-6));
        assert_eq!(r.curve[0], (0.0, 1.0));
        assert_eq!(r.curve.last().unwrap().0, r.iterations);
        let short = run_to_tolerance("sgd(lr=0.1)", &mut q, &[1.0, 0.0], 1e-6, 10).unwrap();
        assert!(short.iterations.is_nan());
        // (f/f₀)(t) = 0.81^t once the fast mode is gone: the tail rate is −ln 0.81
        assert!(
            (r.tail_rate(1e-3) + 0.81f64.ln()).abs() < 1e-9,
            "{}",
            r.tail_rate(1e-3)
        );
        assert!(r.tail_rate(1e-30).is_nan());
        assert_eq!(problem_seed(0, 5, 4), 4);
        assert_eq!(problem_seed(1, 5, 0), 5);
    }
}
