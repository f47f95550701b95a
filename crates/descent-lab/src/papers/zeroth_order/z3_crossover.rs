//! Z3: the per-coordinate crossover of DAP against the uniform sphere.
//! With μ → 0, DAP's per-coordinate MSE is ‖a‖² − aᵢ² and the sphere's
//! (d‖a‖² + (d−2)aᵢ²)/(d+2), so DAP is better exactly on the coordinates with
//! aᵢ² > ‖a‖²/d (the "critical" ones) and worse on the others.

use descent_core::testfns::SeparableQuadratic;
use descent_core::{Result, RngStreams};
use descent_optim::probes::probe_zo;
use descent_optim::{Difference, PerturbationLaw, ZoConfig, ZoGradient};

use super::config::Z3Config;
use super::dot;
use crate::harness::{par_range, stats};
use crate::plot::{Figure, LegendAt, Line, Panel};
use crate::report::{Claim, ClaimKind};

/// The laws of Z3: (legend label, series column, law); the sphere first, DAP second.
pub const LAWS: [(&str, &str, PerturbationLaw); 4] = [
    ("uniform sphere", "sphere", PerturbationLaw::Sphere),
    ("DAP (exact)", "dap_exact", PerturbationLaw::DAP_EXACT),
    ("Gaussian", "gaussian", PerturbationLaw::Gaussian),
    ("Rademacher", "rademacher", PerturbationLaw::Rademacher),
];

/// Z3's measurements.
#[derive(Debug, Clone, PartialEq)]
pub struct Z3Result {
    /// The dimension d.
    pub dim: usize,
    /// Monte Carlo samples per estimate.
    pub samples: usize,
    /// aᵢ²·d/‖a‖² per coordinate (increasing with i, mean 1).
    pub t: Vec<f64>,
    /// ‖a‖².
    pub a2: f64,
    /// `coord_mse[law][i]`: the per-coordinate MSE, the mean over `samples` estimates, laws as
    /// [`LAWS`].
    pub coord_mse: Vec<Vec<f64>>,
}

/// The gradient of Z3: aᵢ² = tᵢ‖a‖²/d with tᵢ ∝ (i/(d−1))³ of mean 1, spanning 0 to about
/// 4‖a‖²/d, signs alternating. Returns (t, a).
pub fn gradient(d: usize) -> (Vec<f64>, Vec<f64>) {
    let s3: Vec<f64> = (0..d)
        .map(|i| (i as f64 / (d - 1).max(1) as f64).powi(3))
        .collect();
    let m = stats::mean(&s3);
    let t: Vec<f64> = s3.iter().map(|s| s / m).collect();
    let a = t
        .iter()
        .enumerate()
        .map(|(i, ti)| if i % 2 == 0 { ti.sqrt() } else { -ti.sqrt() })
        .collect();
    (t, a)
}

/// The per-coordinate MSE of each law in the μ → 0 limit on f(x) = aᵀx at x = 0 (∇f = a), one
/// law per job; all randomness from `seed`.
pub fn measure(c: &Z3Config, seed: u64) -> Result<Z3Result> {
    let streams = RngStreams::new(seed);
    let d = c.dim;
    let (t, a) = gradient(d);
    let f = SeparableQuadratic::new(&vec![0.0; d], &a)?;
    let x = vec![0.0; d];
    let coord_mse = par_range(LAWS.len(), |i| {
        let cfg = ZoConfig {
            law: LAWS[i].2,
            q: 1,
            difference: Difference::Limit,
            ..ZoConfig::default()
        };
        let s = RngStreams::new(streams.child_seed("z3", i as u64));
        let mut zo = ZoGradient::new(f.clone(), cfg, &s)?;
        Ok(probe_zo(&mut zo, &x, c.samples)?.coord_mse)
    })?;
    Ok(Z3Result {
        dim: d,
        samples: c.samples,
        t,
        a2: dot(&a, &a),
        coord_mse,
    })
}

/// The crossover cases: every coordinate with aᵢ² > 1.2‖a‖²/d (DAP predicted to win) or
/// aᵢ² < 0.8‖a‖²/d (the sphere predicted to win), each with the predicted winner's margin
/// (MSE of the loser − MSE of the winner) / ‖a‖².
pub fn crossover_cases(r: &Z3Result) -> Vec<(String, f64)> {
    let (sphere, dap) = (&r.coord_mse[0], &r.coord_mse[1]);
    r.t.iter()
        .enumerate()
        .filter_map(|(i, &ti)| {
            let diff = (dap[i] - sphere[i]) / r.a2;
            if ti > 1.2 {
                Some((format!("i={i} (a_i^2 d/|a|^2 = {ti:.3}) DAP wins"), -diff))
            } else if ti < 0.8 {
                Some((format!("i={i} (a_i^2 d/|a|^2 = {ti:.3}) sphere wins"), diff))
            } else {
                None
            }
        })
        .collect()
}

/// Z3's claim, per coordinate.
pub fn claims(r: &Z3Result) -> Vec<Claim> {
    vec![Claim::for_every(
        "zeroth-order/z3-crossover",
        &format!(
            "d = {}: DAP beats the uniform sphere exactly on the coordinates with a_i^2 > \
             |a|^2/d: per coordinate with a_i^2 > 1.2|a|^2/d the margin \
             MSE_i(sphere) - MSE_i(DAP), and with a_i^2 < 0.8|a|^2/d the margin MSE_i(DAP) - \
             MSE_i(sphere), over |a|^2, each MSE_i the mean over {} samples (mu -> 0)",
            r.dim, r.samples
        ),
        ClaimKind::Asserted,
        &crossover_cases(r),
        "every margin > 0",
        |v| v > 0.0,
    )]
}

/// The series columns: aᵢ²d/‖a‖² and each law's per-coordinate MSE / ‖a‖².
pub fn series_columns(r: &Z3Result) -> Vec<(&'static str, Vec<f64>)> {
    let mut cols = vec![("a_i^2 d / |a|^2", r.t.clone())];
    for (k, (_, name, _)) in LAWS.iter().enumerate() {
        cols.push((*name, r.coord_mse[k].iter().map(|v| v / r.a2).collect()));
    }
    cols
}

/// Two panels: per-coordinate MSE against aᵢ²d/‖a‖² per law, and each law's MSE relative to
/// the sphere's, coordinate by coordinate (negative where the law beats the sphere).
pub fn figure(r: &Z3Result) -> Figure {
    let d = r.dim;
    let lines = LAWS
        .iter()
        .zip(&r.coord_mse)
        .map(|((name, _, _), mse)| Line {
            markers: true,
            ..Line::new(*name, r.t.clone(), mse.iter().map(|v| v / r.a2).collect())
        })
        .collect();
    let sphere = &r.coord_mse[0];
    let others: Vec<usize> = (1..LAWS.len()).collect();
    let width = 0.8 / others.len() as f64;
    let bars = others
        .iter()
        .enumerate()
        .map(|(k, &l)| Line {
            bar_width: Some(width),
            color: Some(l),
            ..Line::new(
                format!("{} / sphere − 1", LAWS[l].0),
                (0..d)
                    .map(|i| i as f64 - 0.4 + width * (k as f64 + 0.5))
                    .collect(),
                r.coord_mse[l]
                    .iter()
                    .zip(sphere)
                    .map(|(m, s)| m / s - 1.0)
                    .collect(),
            )
        })
        .collect();
    Figure {
        caption: Some("Z3: DAP beats the sphere exactly where a_i^2 > |a|^2/d (x > 1)".into()),
        panels: vec![
            Panel {
                title: format!("Per-coordinate MSE, d = {d}, mu -> 0"),
                x_label: "relative squared gradient a_i^2 d / |a|^2".into(),
                y_label: "per-coordinate MSE / |a|^2".into(),
                legend: LegendAt::LowerLeft,
                lines,
                ..Default::default()
            },
            Panel {
                title: "Per-coordinate MSE relative to the sphere".into(),
                x_label: "coordinate i (a_i^2 increasing with i)".into(),
                y_label: "MSE_i(law) / MSE_i(sphere) − 1".into(),
                legend: LegendAt::LowerLeft,
                lines: bars,
                ..Default::default()
            },
        ],
    }
}
