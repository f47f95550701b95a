//! R6 — ironing (P6 spec T3/T6, §5 R6): the ρ-offset of a graph flattens as ρ grows. Weak
//! ironing (paper, Lemma): the oscillation of h_ρ − ρ for a bounded φ = 0.05 sin(50x) shrinks
//! towards 0; strong ironing (a conjecture in the paper): the offset of the wrinkled quadratic
//! loses local minima as ρ grows. h_ρ(x) = max_{|x−x′|≤ρ} [φ(x′) + √(ρ² − (x−x′)²)].

use descent_core::Result;
use descent_optim::rolling_ball::offset_height_1d;
use serde_json::Value;

use super::config::Config;
use super::problems::wrinkled;
use crate::harness::{par_map, stats};
use crate::plot::{Figure, LegendAt, Line, Panel};
use crate::report::{Claim, ClaimKind, Report, num};

/// Radii for the oscillation of 0.05 sin(50x) and for the minima of the wrinkled quadratic.
pub const SIN_RADII: [f64; 4] = [0.01, 0.05, 0.2, 1.0];
/// Radii for the minima of the wrinkled quadratic.
pub const QUAD_RADII: [f64; 6] = [0.01, 0.05, 0.1, 0.2, 0.5, 1.0];
/// Radii whose offsets of the wrinkled quadratic are drawn.
const DRAWN: [f64; 3] = [0.05, 0.2, 1.0];

/// What R6 measured: the offset heights on the grid of [−3, 3].
#[derive(Debug, Clone, PartialEq)]
pub struct IroningResult {
    /// Grid points on [−3, 3].
    pub n: usize,
    /// h_ρ of 0.05 sin(50x) per radius of [`SIN_RADII`].
    pub sin_heights: Vec<Vec<f64>>,
    /// h_ρ of the wrinkled quadratic per radius of [`QUAD_RADII`].
    pub quad_heights: Vec<Vec<f64>>,
}

impl IroningResult {
    /// max − min of h_ρ − ρ per radius of [`SIN_RADII`] (NaN if a height is not finite).
    pub fn oscillation(&self) -> Vec<f64> {
        self.sin_heights
            .iter()
            .map(|h| stats::max(h) - stats::min(h))
            .collect()
    }

    /// Local minima of h_ρ per radius of [`QUAD_RADII`].
    pub fn minima(&self) -> Vec<f64> {
        self.quad_heights
            .iter()
            .map(|h| count_minima(h, 1e-9) as f64)
            .collect()
    }
}

/// Counts the local minima of a sampled curve, ignoring differences below `tol` (plateaus and
/// round-off of the discrete max).
pub fn count_minima(h: &[f64], tol: f64) -> usize {
    let mut count = 0;
    let mut dir = 0i32; // -1 descending, +1 ascending
    let mut anchor = h[0];
    for &v in &h[1..] {
        if v < anchor - tol {
            dir = -1;
            anchor = v;
        } else if v > anchor + tol {
            if dir == -1 {
                count += 1;
            }
            dir = 1;
            anchor = v;
        } else if (dir == -1 && v < anchor) || (dir == 1 && v > anchor) {
            anchor = v;
        }
    }
    count
}

/// The offset heights at every radius (in parallel).
pub fn measure(c: &Config) -> Result<IroningResult> {
    let n = c.ironing_grid;
    let sin_phi = |x: f64| 0.05 * (50.0 * x).sin();
    let quad_phi = |x: f64| wrinkled(x).0;
    let jobs: Vec<(bool, f64)> = SIN_RADII
        .iter()
        .map(|r| (true, *r))
        .chain(QUAD_RADII.iter().map(|r| (false, *r)))
        .collect();
    let mut heights = par_map(&jobs, |&(is_sin, rho)| {
        Ok(if is_sin {
            offset_height_1d(&sin_phi, -3.0, 3.0, n, rho)
        } else {
            offset_height_1d(&quad_phi, -3.0, 3.0, n, rho)
        })
    })?;
    let quad_heights = heights.split_off(SIN_RADII.len());
    Ok(IroningResult {
        n,
        sin_heights: heights,
        quad_heights,
    })
}

/// The R6 claims.
pub fn claims(r: &IroningResult) -> Vec<Claim> {
    let osc = r.oscillation();
    let minima = r.minima();
    let nonincreasing = minima.len() >= 2 && minima.windows(2).all(|w| w[1] <= w[0]);
    let large = &minima[minima.len().saturating_sub(2)..];
    vec![
        Claim::strictly_decreasing(
            "rbo/ironing-oscillation",
            "weak ironing: the oscillation of h_ρ − ρ for φ = 0.05 sin(50x) shrinks as ρ grows \
             (ρ = 0.01, 0.05, 0.2, 1)",
            ClaimKind::Asserted,
            &osc,
        ),
        Claim::at_most(
            "rbo/ironing-flat",
            "at ρ = 1 the offset of 0.05 sin(50x) is flat to within 0.003",
            ClaimKind::Asserted,
            osc.last().copied().unwrap_or(f64::NAN),
            0.003,
        ),
        Claim::judged(
            "rbo/ironing-minima",
            "strong ironing (a conjecture in the paper): the offset of θ²/2 + 0.05 sin(50θ) has \
             no more local minima as ρ grows (ρ = 0.01, 0.05, 0.1, 0.2, 0.5, 1)",
            ClaimKind::Asserted,
            Value::Array(minima.iter().map(|v| num(*v)).collect()),
            "non-increasing",
            nonincreasing,
        ),
        Claim::at_most(
            "rbo/ironing-few-minima",
            "at ρ ≥ 0.5 the offset surface has at most 2 local minima",
            ClaimKind::Asserted,
            stats::max(large),
            2.0,
        ),
    ]
}

/// The two summaries as series, and how h_ρ is computed.
pub fn record(r: &IroningResult, report: &mut Report) {
    report.add_series(
        "ironing_oscillation",
        &[
            ("rho", SIN_RADII.to_vec()),
            ("oscillation", r.oscillation()),
        ],
    );
    report.add_series(
        "ironing_minima",
        &[("rho", QUAD_RADII.to_vec()), ("local_minima", r.minima())],
    );
    report.assume(
        "R6: h_ρ is the exact upper envelope of circles over a grid (φ sampled on the grid's \
         spacing over [−3−ρ, 3+ρ]); local minima are counted ignoring changes below 1e-9.",
    );
}

/// Offset curves (h_ρ − ρ) of the wrinkled quadratic, and the two summaries.
pub fn figure(r: &IroningResult) -> Figure {
    let n = r.n;
    let stride = (n / 2000).max(1);
    let xs: Vec<f64> = (0..n)
        .step_by(stride)
        .map(|i| -3.0 + 6.0 * i as f64 / (n - 1) as f64)
        .collect();
    let mut lines = vec![Line::new(
        "f (ρ = 0)",
        xs.clone(),
        xs.iter().map(|x| wrinkled(*x).0).collect(),
    )];
    for (rho, h) in QUAD_RADII.iter().zip(&r.quad_heights) {
        if DRAWN.contains(rho) {
            lines.push(Line::new(
                format!("h_ρ − ρ, ρ = {rho}"),
                xs.clone(),
                (0..n).step_by(stride).map(|i| h[i] - rho).collect(),
            ));
        }
    }
    let mut osc_line = Line::new(
        "oscillation of h_ρ − ρ",
        SIN_RADII.to_vec(),
        r.oscillation(),
    );
    osc_line.markers = true;
    let mut min_line = Line::new("local minima of h_ρ", QUAD_RADII.to_vec(), r.minima());
    min_line.markers = true;
    Figure {
        caption: Some("R6: ironing — the ρ-offset of the graph flattens as the ball grows".into()),
        panels: vec![
            Panel {
                title: "Offset height of θ²/2 + 0.05 sin(50θ)".into(),
                x_label: "θ (parameter)".into(),
                y_label: "height − ρ (loss units)".into(),
                legend: LegendAt::UpperLeft,
                lines,
                ..Default::default()
            },
            Panel {
                title: "Weak ironing of 0.05 sin(50x)".into(),
                x_label: "ball radius ρ".into(),
                y_label: "max − min of h_ρ − ρ".into(),
                log_x: true,
                log_y: true,
                legend: LegendAt::UpperRight,
                lines: vec![osc_line],
                ..Default::default()
            },
            Panel {
                title: "Minima of the wrinkled quadratic's offset".into(),
                x_label: "ball radius ρ".into(),
                y_label: "number of local minima".into(),
                log_x: true,
                legend: LegendAt::UpperRight,
                lines: vec![min_line],
                ..Default::default()
            },
        ],
    }
}
