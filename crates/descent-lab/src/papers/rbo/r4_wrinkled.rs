//! R4 — the wrinkled quadratic (P6 spec T4, §5 R4): on f(θ) = θ²/2 + 0.05 sin(50θ) gradient
//! descent stalls in the first wrinkle, while RBO with a large enough ball (ρ = 0.2, exact
//! projection) irons the wrinkles and reaches the central basin; a small ball (ρ = 0.02) does
//! not.

use descent_core::Result;
use descent_optim::rolling_ball::rbo_step_exact_1d;
use serde_json::Value;

use super::config::Config;
use super::problems::wrinkled;
use crate::harness::{par_grid, stats};
use crate::plot::{Figure, LegendAt, Line, Panel};
use crate::report::{Claim, ClaimKind, Report, num};

/// The ironing radius and the small radius of the spec's assertions.
pub const IRONING_RADIUS: f64 = 0.2;
/// The small radius.
pub const SMALL_RADIUS: f64 = 0.02;

/// What R4 measured: every trajectory (start included, `steps + 1` points).
#[derive(Debug, Clone, PartialEq)]
pub struct WrinkledResult {
    /// Learning rate η.
    pub lr: f64,
    /// Steps per path.
    pub steps: usize,
    /// The starts θ₀.
    pub starts: Vec<f64>,
    /// The radii ρ.
    pub radii: Vec<f64>,
    /// GD, one path per start.
    pub gd: Vec<Vec<f64>>,
    /// RBO, `rbo[radius][start]`.
    pub rbo: Vec<Vec<Vec<f64>>>,
}

impl WrinkledResult {
    fn gd_final(&self) -> Vec<f64> {
        self.gd.iter().map(|p| p[self.steps]).collect()
    }

    /// RBO's final points at `rho` (empty if the radius was not run).
    fn rbo_final(&self, rho: f64) -> Vec<f64> {
        self.radii
            .iter()
            .position(|r| *r == rho)
            .map(|i| self.rbo[i].iter().map(|p| p[self.steps]).collect())
            .unwrap_or_default()
    }
}

/// Runs GD and exact-projection RBO from every start (RBO in parallel over radius × start).
pub fn measure(c: &Config) -> Result<WrinkledResult> {
    let (steps, lr) = (c.wrinkled_steps, c.wrinkled_lr);
    let gd = c
        .wrinkled_starts
        .iter()
        .map(|&t0| {
            let mut path = vec![t0];
            let mut t = t0;
            for _ in 0..steps {
                t -= lr * wrinkled(t).1;
                path.push(t);
            }
            path
        })
        .collect();
    let rbo = par_grid(c.wrinkled_radii.len(), c.wrinkled_starts.len(), |r, s| {
        let rho = c.wrinkled_radii[r];
        let mut t = c.wrinkled_starts[s];
        let mut path = vec![t];
        for _ in 0..steps {
            t = rbo_step_exact_1d(&wrinkled, t, lr, rho, c.projection_grid, 20);
            path.push(t);
        }
        Ok(path)
    })?;
    Ok(WrinkledResult {
        lr,
        steps,
        starts: c.wrinkled_starts.clone(),
        radii: c.wrinkled_radii.clone(),
        gd,
        rbo,
    })
}

fn abs(v: &[f64]) -> Vec<f64> {
    v.iter().map(|x| x.abs()).collect()
}

/// The R4 claims (a radius that was not run measures NaN, so its claim fails).
pub fn claims(r: &WrinkledResult) -> Vec<Claim> {
    let big = r.rbo_final(IRONING_RADIUS);
    let big_f: Vec<f64> = big.iter().map(|t| wrinkled(*t).0).collect();
    vec![
        Claim::at_least(
            "rbo/wrinkled-gd-stuck",
            "GD (η = 0.01) on θ²/2 + 0.05 sin(50θ) stays in a far wrinkle from every start \
             (smallest final |θ|)",
            ClaimKind::Asserted,
            stats::min(&abs(&r.gd_final())),
            1.4,
        ),
        Claim::at_most(
            "rbo/wrinkled-rbo-escapes",
            "RBO with ρ = 0.2 (exact projection) irons the wrinkles and reaches the central basin \
             from every start (largest final |θ|)",
            ClaimKind::Asserted,
            stats::max_abs(&big),
            0.3,
        ),
        Claim::at_most(
            "rbo/wrinkled-rbo-loss",
            "RBO with ρ = 0.2 ends with a low loss from every start (largest final f)",
            ClaimKind::Asserted,
            stats::max(&big_f),
            0.1,
        ),
        Claim::at_least(
            "rbo/wrinkled-small-ball-stuck",
            "a small ball (ρ = 0.02) does not iron the wrinkles (smallest final |θ|)",
            ClaimKind::Asserted,
            stats::min(&abs(&r.rbo_final(SMALL_RADIUS))),
            1.0,
        ),
    ]
}

/// The final points per start and the trajectories from the first start.
pub fn record(r: &WrinkledResult, report: &mut Report) {
    let gd_final = r.gd_final();
    let rows: Vec<Vec<Value>> = r
        .starts
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let mut row = vec![num(s), num(gd_final[i])];
            row.extend(r.rbo.iter().map(|paths| num(paths[i][r.steps])));
            row
        })
        .collect();
    let mut cols = vec!["start".to_string(), "gd".to_string()];
    cols.extend(r.radii.iter().map(|rho| format!("rbo_rho_{rho}")));
    let col_refs: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
    report.add_table("wrinkled_final_theta", &col_refs, rows);
    let mut series: Vec<(&str, Vec<f64>)> = vec![("step", step_axis(r)), ("gd", r.gd[0].clone())];
    for (name, paths) in cols[2..].iter().zip(&r.rbo) {
        series.push((name.as_str(), paths[0].clone()));
    }
    report.add_series("wrinkled_trajectories_from_first_start", &series);
}

fn step_axis(r: &WrinkledResult) -> Vec<f64> {
    (0..=r.steps).map(|i| i as f64).collect()
}

/// The loss with where each method stops, and the trajectories from the first start.
pub fn figure(r: &WrinkledResult) -> Figure {
    let xs: Vec<f64> = (0..=1200).map(|i| -3.0 + 6.0 * i as f64 / 1200.0).collect();
    let fx: Vec<f64> = xs.iter().map(|x| wrinkled(*x).0).collect();
    let steps = step_axis(r);
    let mut traj = vec![Line::new("GD", steps.clone(), r.gd[0].clone())];
    for (rho, paths) in r.radii.iter().zip(&r.rbo) {
        traj.push(Line::new(
            format!("RBO ρ = {rho}"),
            steps.clone(),
            paths[0].clone(),
        ));
    }
    let points = |label: &str, ts: Vec<f64>| {
        let fs = ts.iter().map(|t| wrinkled(*t).0).collect();
        let mut l = Line::new(label, ts, fs);
        l.scatter = true;
        l
    };
    Figure {
        caption: Some(format!(
            "R4: f(θ) = θ²/2 + 0.05 sin(50θ), η = {}, {} steps, exact projection",
            r.lr, r.steps
        )),
        panels: vec![
            Panel {
                title: "Loss and where each method stops".into(),
                x_label: "θ (parameter)".into(),
                y_label: "f(θ) (loss)".into(),
                legend: LegendAt::UpperLeft,
                lines: vec![
                    Line::new("f", xs, fx),
                    points("GD final points", r.gd_final()),
                    points("RBO ρ = 0.2 final points", r.rbo_final(IRONING_RADIUS)),
                ],
                ..Default::default()
            },
            Panel {
                title: format!("Trajectories from θ₀ = {}", r.starts[0]),
                x_label: "step".into(),
                y_label: "θ (parameter)".into(),
                legend: LegendAt::UpperRight,
                lines: traj,
                ..Default::default()
            },
        ],
    }
}
