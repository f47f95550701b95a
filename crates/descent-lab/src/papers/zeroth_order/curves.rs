//! What Z4 and the extras share: the laws at equal function-query budgets, one ZO run recorded
//! against its function queries, and the per-law median/min–max lines across seeds.

use std::ops::ControlFlow;

use descent_core::{EvalCounts, Problem, Result, RngStreams, Spec};
use descent_optim::build_optimizer;

use crate::harness::stats;
use crate::plot::Line;

/// A law of Z4 and the extras: its legend label, its `zo(law=...)` name and its directions per
/// step. Every law spends q + 1 function values a step (the paper's comparisons at equal query budgets).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZoLaw {
    /// The legend label.
    pub label: &'static str,
    /// The `zo(law=...)` name.
    pub law: &'static str,
    /// Directions q per step.
    pub q: usize,
}

/// The legend label of DAP with its direction from a pilot estimate at the current point (the
/// paper's practical DAP: a small batch of perturbations estimates the unknown gradient).
pub const DAP_ESTIMATED: &str = "DAP (estimated), q/2";

/// The laws at q + 1 values per step: q directions each, and DAP-estimated q/2 pilot + q/2
/// aligned directions (the authors' doubled batch for DAP-estimated); DAP-exact is the oracle baseline.
pub fn laws(q: usize) -> Vec<ZoLaw> {
    let law = |label, law, q| ZoLaw { label, law, q };
    vec![
        law("Gaussian", "gaussian", q),
        law("uniform sphere", "sphere", q),
        law("Rademacher", "rademacher", q),
        law("coordinate", "coordinate", q),
        law("DAP (exact gradient)", "dap_exact", q),
        law(DAP_ESTIMATED, "dap", (q / 2).max(1)),
    ]
}

/// One ZO run: the objective against function queries, recorded every few steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Function values spent by the optimizer's steps so far (the driver's own final f(x) of
    /// each chunk is a measurement and not counted).
    pub queries: Vec<f64>,
    /// The measured objective at each recorded point (the first before any step).
    pub values: Vec<f64>,
    /// Every evaluation of the run's steps.
    pub evals: EvalCounts,
    /// True when a step produced a non-finite loss or iterate; the curve stops before it.
    pub diverged: bool,
}

impl Curve {
    /// The last measured value, NaN for a run that diverged (a diverged run never reads as
    /// converged).
    pub fn final_value(&self) -> f64 {
        match self.values.last() {
            Some(v) if !self.diverged => *v,
            _ => f64::NAN,
        }
    }

    /// final value / first value, NaN for a diverged run.
    pub fn reduction(&self) -> f64 {
        self.final_value() / self.values[0]
    }
}

/// Runs the optimizer `spec` on `problem` from `x0` for `steps` steps, its randomness from
/// `seed`, measuring `measure(problem, x)` (uncounted) before the first step and every `every`
/// steps. A step chunk recorder rather than an epoch loop: its x axis is the optimizer's own
/// function queries, which the epoch loop's counter would mix with the driver's final f(x) of
/// each chunk.
pub fn zo_curve<P: Problem>(
    spec: &str,
    problem: &mut P,
    x0: &[f64],
    steps: usize,
    every: usize,
    seed: u64,
    mut measure: impl FnMut(&mut P, &[f64]) -> f64,
) -> Result<Curve> {
    let mut opt = build_optimizer(&Spec::parse(spec)?)?;
    opt.init(problem.layout(), &RngStreams::new(seed))?;
    let mut x = x0.to_vec();
    let mut evals = EvalCounts::default();
    let mut queries = vec![0.0];
    let mut values = vec![measure(problem, &x)];
    let mut done = 0;
    let mut diverged = false;
    while done < steps {
        let k = every.min(steps - done);
        let out = descent_optim::run(opt.as_mut(), &mut x, problem, k as u64, |r| {
            evals = evals + r.info.evals;
            ControlFlow::Continue(())
        })?;
        done += k;
        if out.diverged() {
            diverged = true;
            break;
        }
        queries.push(evals.values as f64);
        values.push(measure(problem, &x));
    }
    Ok(Curve {
        queries,
        values,
        evals,
        diverged,
    })
}

/// `value` raised to `floor` for a log axis; NaN stays NaN (`f64::max` would turn it into the
/// floor).
fn floored(value: f64, floor: f64) -> f64 {
    if value.is_nan() {
        value
    } else {
        value.max(floor)
    }
}

/// Per law, the median over seeds with a min–max band at the recorded points that every seed
/// reached (a diverged run stops early; its divergence is judged by the claims, not hidden
/// here). Values below `floor` are raised to it for the log axis.
pub fn band_lines(curves: &[(String, Vec<Curve>)], floor: f64) -> Vec<Line> {
    curves
        .iter()
        .map(|(label, cs)| {
            let n = cs.iter().map(|c| c.values.len()).min().unwrap_or(0);
            let q = cs.first().map_or(Vec::new(), |c| c.queries[..n].to_vec());
            let (mut med, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
            for i in 0..n {
                let v: Vec<f64> = cs.iter().map(|c| floored(c.values[i], floor)).collect();
                lo.push(stats::min(&v));
                hi.push(stats::max(&v));
                med.push(stats::median(&v));
            }
            Line {
                band: Some((lo, hi)),
                ..Line::new(label.clone(), q, med)
            }
        })
        .collect()
}

/// Queries until the median curve reaches `target`, interpolated linearly in log y between the
/// two recorded points around the crossing (the curves are recorded every few steps, coarser
/// than the few-percent differences between laws); NaN if it never does or if a NaN comes
/// first (the crossing is then unknown).
pub fn queries_to(line: &Line, target: f64) -> f64 {
    let Some(i) = line.y.iter().position(|y| y.is_nan() || *y <= target) else {
        return f64::NAN;
    };
    if line.y[i].is_nan() {
        return f64::NAN;
    }
    if i == 0 {
        return line.x[0];
    }
    let (x0, x1) = (line.x[i - 1], line.x[i]);
    let (l0, l1) = (line.y[i - 1].ln(), line.y[i].ln());
    let t = if l0 > l1 {
        (l0 - target.ln()) / (l0 - l1)
    } else {
        1.0
    };
    x0 + t * (x1 - x0)
}

/// The (label, curves over seeds) groups of a flat job list ordered (law, seed), and the sum of
/// their evaluations.
pub fn group_by_law(
    laws: &[ZoLaw],
    seeds: usize,
    curves: Vec<Curve>,
) -> (Vec<(String, Vec<Curve>)>, EvalCounts) {
    let mut evals = EvalCounts::default();
    let mut it = curves.into_iter();
    let groups = laws
        .iter()
        .map(|law| {
            let cs: Vec<Curve> = it.by_ref().take(seeds).collect();
            for c in &cs {
                evals = evals + c.evals;
            }
            (law.label.to_string(), cs)
        })
        .collect();
    (groups, evals)
}

/// The median lines as series columns: `queries` (the first line's x) and one per law.
pub fn median_columns(lines: &[Line]) -> Vec<(&str, Vec<f64>)> {
    let mut cols: Vec<(&str, Vec<f64>)> =
        vec![("queries", lines.first().map_or(Vec::new(), |l| l.x.clone()))];
    for l in lines {
        cols.push((l.label.as_str(), l.y.clone()));
    }
    cols
}
