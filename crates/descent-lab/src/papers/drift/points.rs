//! Pure views of sweep [`Point`]s shared by the checks: columns, the words that say how a
//! point's D was obtained, the figure lines (simulation points and theory curves) and the
//! table of every point's rates.

use serde_json::{Value, json};

use super::simulate::{Point, RunSpec};
use crate::plot::Line;
use crate::report::num;

/// One number per point.
pub fn values(points: &[Point], f: impl Fn(&Point) -> f64) -> Vec<f64> {
    points.iter().map(f).collect()
}

/// Each point's D.
pub fn d(points: &[Point]) -> Vec<f64> {
    values(points, |q| q.d)
}

/// Each point's D_sim / D_theory.
pub fn ratio(points: &[Point]) -> Vec<f64> {
    values(points, |q| q.d / q.theory)
}

/// `(name, value)` cases for [`crate::report::Claim::for_every`], named `"<key>=<x>"`.
pub fn cases(
    points: &[Point],
    key: &str,
    x: impl Fn(&Point) -> f64,
    v: &[f64],
) -> Vec<(String, f64)> {
    points
        .iter()
        .zip(v)
        .map(|(q, v)| (format!("{key}={}", x(q)), *v))
        .collect()
}

/// How each point's D was measured, for claim statements: "one run per point" or "each point
/// the mean over N seeds".
pub fn per_point(points: &[Point]) -> String {
    let runs: Vec<usize> = points.iter().map(|q| q.runs).collect();
    match runs.first() {
        Some(1) if runs.iter().all(|r| *r == 1) => "D from one run per point".into(),
        Some(k) if runs.iter().all(|r| r == k) => format!("D per point the mean over {k} seeds"),
        _ => format!("D per point the mean over {runs:?} seeds"),
    }
}

/// `{a, b, c}` of the values (for statements).
pub fn set(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("{{{}}}", parts.join(", "))
}

/// Simulation points with ± s.e. bars.
pub fn points_line(label: &str, color: usize, x: Vec<f64>, p: &[Point]) -> Line {
    Line {
        label: label.into(),
        x,
        y: d(p),
        y_err: Some(values(p, |q| q.se)),
        scatter: true,
        color: Some(color),
        ..Default::default()
    }
}

/// A theory curve.
pub fn theory_line(label: &str, color: usize, x: Vec<f64>, y: Vec<f64>) -> Line {
    Line {
        label: label.into(),
        x,
        y,
        color: Some(color),
        ..Default::default()
    }
}

/// Dense λ⊥ grid on [lo, hi] and the theory on it for the first point's model and sizes.
pub fn theory_vs_var(p: &[Point], lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let base = &p[0].spec;
    let xs: Vec<f64> = (0..=60).map(|i| lo + (hi - lo) * i as f64 / 60.0).collect();
    let ys = xs
        .iter()
        .map(|l| {
            RunSpec {
                var_irr: *l,
                ..base.clone()
            }
            .theory()
        })
        .collect();
    (xs, ys)
}

/// n − m over the given n (those above m) and the theory there, for the first point's model.
pub fn theory_vs_n(p: &[Point], ns: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let base = &p[0].spec;
    let ns: Vec<usize> = ns.iter().copied().filter(|n| *n > base.m).collect();
    let xs = ns.iter().map(|n| (n - base.m) as f64).collect();
    let ys = ns
        .iter()
        .map(|n| {
            RunSpec {
                n: *n,
                ..base.clone()
            }
            .theory()
        })
        .collect();
    (xs, ys)
}

/// The columns of [`rates_rows`].
pub const RATES_COLUMNS: [&str; 17] = [
    "test",
    "model",
    "n",
    "m",
    "var_irr",
    "eta",
    "sigma",
    "steps",
    "window",
    "D",
    "D_se",
    "D_theory",
    "ratio",
    "D_msd_fit",
    "D_msd_fit_se",
    "mean_sq_angle_per_window",
    "steps_per_s",
];

/// One row per point of each `(test, points)` group: its setting, D with its standard error,
/// the theory and the ratio, the MSD-fit D, the small-angle check and the speed.
pub fn rates_rows(groups: &[(&str, &[Point])]) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for (t, p) in groups {
        for q in p.iter() {
            rows.push(vec![
                json!(t),
                json!(q.spec.model.label()),
                json!(q.spec.n),
                json!(q.spec.m),
                num(q.spec.var_irr),
                num(q.spec.eta),
                num(q.spec.sigma),
                json!(q.spec.steps),
                json!(q.spec.window),
                num(q.d),
                num(q.se),
                num(q.theory),
                num(q.d / q.theory),
                num(q.fit_d),
                num(q.fit_se),
                num(q.mean_sq_angle),
                num(q.steps_per_s),
            ]);
        }
    }
    rows
}
