//! T1 and T2 of P1 §5: Oja's subspace rule against the exact leading-order rate (P1-a)
//! D = (m−1)(n−m)η³λ∥²λ⊥²/(8(λ∥−λ⊥)), over the irrelevant variance λ⊥ (T1) and the irrelevant
//! dimension n − m (T2); the MSD-versus-lag figure of T1's runs.

use descent_core::Result;

use super::config::Config;
use super::points::{cases, d, per_point, ratio, set, values};
use super::simulate::{Model, Point, RunSpec, Runs};
use crate::harness::stats::{loglog_slope, spread_ratio};
use crate::plot::{Figure, LegendAt, Line, Panel};
use crate::report::{Claim, ClaimKind, Report};

/// T1's λ⊥ points and T2's n points, in that order.
pub fn specs(c: &Config) -> (Vec<RunSpec>, Vec<RunSpec>) {
    let s1 = &c.t1_oja_var;
    let t1 = s1
        .var_irr
        .iter()
        .map(|l| RunSpec::new(Model::Oja, s1, s1.n[0], s1.m[0], *l))
        .collect();
    let s2 = &c.t2_oja_dim;
    let t2 =
        s2.n.iter()
            .map(|n| RunSpec::new(Model::Oja, s2, *n, s2.m[0], s2.var_irr[0]))
            .collect();
    (t1, t2)
}

/// T1's and T2's points.
#[derive(Debug, Clone)]
pub struct OjaResult {
    /// T1: one point per λ⊥.
    pub var: Vec<Point>,
    /// T2: one point per n.
    pub dim: Vec<Point>,
}

/// Reads T1's and T2's points from the shared runs.
pub fn measure(c: &Config, runs: &Runs) -> Result<OjaResult> {
    let (t1, t2) = specs(c);
    Ok(OjaResult {
        var: runs.points(&t1)?,
        dim: runs.points(&t2)?,
    })
}

/// n − m of each point.
pub fn irrelevant_dim(p: &[Point]) -> Vec<f64> {
    values(p, |q| (q.spec.n - q.spec.m) as f64)
}

/// T1: D increases with λ⊥, matches the theory at every λ⊥ and the ratio is flat; T2: D
/// increases with n − m, D/(n − m) agrees across n and the log-log slope is about 1.
pub fn claims(r: &OjaResult) -> Vec<Claim> {
    let a = ClaimKind::Asserted;
    let (p1, p2) = (&r.var, &r.dim);
    let base1 = p1.first().map(|q| &q.spec);
    let setting1 = base1.map_or(String::new(), |s| {
        format!("n = {}, m = {}, η = {}", s.n, s.m, s.eta)
    });
    let how1 = per_point(p1);
    let r1 = ratio(p1);
    let nm2 = irrelevant_dim(p2);
    let d2 = d(p2);
    let per_dim: Vec<f64> = d2.iter().zip(&nm2).map(|(v, k)| v / k).collect();
    let setting2 = p2.first().map_or(String::new(), |q| {
        format!(
            "m = {}, λ⊥ = {}, η = {}",
            q.spec.m, q.spec.var_irr, q.spec.eta
        )
    });
    let how2 = per_point(p2);
    vec![
        Claim::strictly_increasing(
            "drift/oja-increases-with-irrelevant-variance",
            &format!(
                "T1: Oja's drift rate D strictly increases with λ⊥ over {} ({setting1}; {how1})",
                set(&values(p1, |q| q.spec.var_irr))
            ),
            a,
            &d(p1),
        ),
        Claim::for_every(
            "drift/oja-matches-theory",
            &format!(
                "T1: at every λ⊥, D_sim / D_theory (exact P1-a form) is in [0.85, 1.25] \
                 (per case; {how1})"
            ),
            a,
            &cases(p1, "λ⊥", |q| q.spec.var_irr, &r1),
            "in [0.85, 1.25]",
            |v| (0.85..=1.25).contains(&v),
        ),
        Claim::at_most(
            "drift/oja-ratio-flat",
            &format!(
                "T1: D_sim / D_theory is flat in λ⊥: max/min of the ratio over the {} λ⊥ \
                 values ({how1})",
                p1.len()
            ),
            a,
            spread_ratio(&r1),
            1.25,
        ),
        Claim::strictly_increasing(
            "drift/oja-increases-with-irrelevant-dimension",
            &format!(
                "T2: Oja's D strictly increases with n − m over {} ({setting2}; {how2})",
                set(&nm2)
            ),
            a,
            &d2,
        ),
        Claim::at_most(
            "drift/oja-per-dimension-agrees",
            &format!(
                "T2: D/(n − m) agrees across n ∈ {}: max/min over the {} points ({how2})",
                set(&values(p2, |q| q.spec.n as f64)),
                p2.len()
            ),
            a,
            spread_ratio(&per_dim),
            1.2,
        ),
        Claim::in_range(
            "drift/oja-dimension-slope",
            &format!(
                "T2: least-squares log-log slope of D against n − m over the {} points ({how2})",
                p2.len()
            ),
            a,
            loglog_slope(&nm2, &d2),
            0.85,
            1.15,
        ),
    ]
}

/// T1's MSD curves, one series per λ⊥.
pub fn add_msd_series(report: &mut Report, r: &OjaResult) {
    for q in &r.var {
        report.add_series(
            &format!("msd_oja_var_irr_{}", q.spec.var_irr),
            &[
                ("lag", q.msd.iter().map(|p| p.0).collect()),
                ("msd", q.msd.iter().map(|p| p.1).collect()),
            ],
        );
    }
}

/// MSD against lag for T1's runs, with the theory 2Dτ (P1 §2.4).
pub fn msd_figure(r: &OjaResult) -> Figure {
    let mut msd_lines = Vec::new();
    for (i, q) in r.var.iter().enumerate() {
        let lags: Vec<f64> = q.msd.iter().map(|p| p.0).collect();
        msd_lines.push(Line {
            label: format!("simulation, λ⊥ = {}", q.spec.var_irr),
            x: lags.clone(),
            y: q.msd.iter().map(|p| p.1).collect(),
            markers: true,
            color: Some(i),
            ..Default::default()
        });
        msd_lines.push(Line {
            label: if i == 0 {
                "theory 2·D·τ (dashed, same colour)".into()
            } else {
                String::new()
            },
            x: lags.clone(),
            y: lags.iter().map(|t| 2.0 * q.theory * t).collect(),
            color: Some(i),
            dashed: true,
            ..Default::default()
        });
    }
    let caption = r.var.first().map(|q| {
        format!(
            "Oja, n = {}, m = {}, η = {}",
            q.spec.n, q.spec.m, q.spec.eta
        )
    });
    Figure {
        caption,
        panels: vec![Panel {
            x_ticks: Vec::new(),
            title: "Mean squared displacement versus lag".into(),
            x_label: "lag τ (learning steps)".into(),
            y_label: "MSD E‖r̂(t+τ) − r̂(t)‖²".into(),
            log_x: true,
            log_y: true,
            legend: LegendAt::UpperLeft,
            lines: msd_lines,
        }],
    }
}
