//! T3 of P1 §5: drift against the output dimension m at n = 12. Learning noise goes as
//! (m−1)(n−m) (P1-f), non-monotonic with its peak near m ≈ (n+1)/2; synaptic noise alone goes
//! as (m−1)ησ²/4 (P1-e), monotonically increasing.

use descent_core::Result;
use serde_json::json;

use super::config::Config;
use super::points::{cases, d, per_point, points_line, ratio, theory_line, values};
use super::simulate::{Model, Point, RunSpec, Runs};
use crate::harness::stats::{max, spread_ratio};
use crate::plot::{Figure, LegendAt, Panel};
use crate::report::{Claim, ClaimKind, num};

/// T3's learning-noise and synaptic-noise m points, in that order.
pub fn specs(c: &Config) -> (Vec<RunSpec>, Vec<RunSpec>) {
    let sweep = |s: &super::config::Sweep| -> Vec<RunSpec> {
        s.m.iter()
            .map(|m| RunSpec::new(Model::Oja, s, s.n[0], *m, s.var_irr[0]))
            .collect()
    };
    (sweep(&c.t3_learning_m), sweep(&c.t3_synaptic_m))
}

/// T3's points.
#[derive(Debug, Clone)]
pub struct OutputDimResult {
    /// Learning noise (λ⊥ > 0, σ = 0): one point per m.
    pub learning: Vec<Point>,
    /// Synaptic noise only (λ⊥ = 0, σ > 0): one point per m.
    pub synaptic: Vec<Point>,
}

/// Reads T3's points from the shared runs.
pub fn measure(c: &Config, runs: &Runs) -> Result<OutputDimResult> {
    let (learning, synaptic) = specs(c);
    Ok(OutputDimResult {
        learning: runs.points(&learning)?,
        synaptic: runs.points(&synaptic)?,
    })
}

fn m_of(p: &[Point]) -> Vec<f64> {
    values(p, |q| q.spec.m as f64)
}

/// The m of the largest D (the first if tied); NaN when any D is not finite.
fn argmax_m(ms: &[f64], d: &[f64]) -> f64 {
    let top = max(d);
    d.iter().position(|v| *v == top).map_or(f64::NAN, |i| ms[i])
}

/// Learning noise: non-monotonic in m with the spec's shape, and D/((m−1)(n−m)) flat;
/// synaptic noise: strictly increasing and (m−1)ησ²/4 at every m.
pub fn claims(r: &OutputDimResult) -> Vec<Claim> {
    let a = ClaimKind::Asserted;
    let (p3, p3s) = (&r.learning, &r.synaptic);
    let ms = m_of(p3);
    let d3 = d(p3);
    let argmax = argmax_m(&ms, &d3);
    let at = |m: f64| ms.iter().position(|v| *v == m).map(|i| d3[i]);
    let nonmono = (argmax == 6.0 || argmax == 8.0)
        && matches!((at(2.0), at(6.0), at(10.0)), (Some(a2), Some(a6), Some(a10)) if a2 < a6 && a10 < a6);
    let norm3: Vec<f64> = p3
        .iter()
        .map(|q| q.d / ((q.spec.m - 1) * (q.spec.n - q.spec.m)) as f64)
        .collect();
    let learn_setting = p3.first().map_or(String::new(), |q| {
        format!(
            "n = {}, λ⊥ = {}, σ = {}",
            q.spec.n, q.spec.var_irr, q.spec.sigma
        )
    });
    let syn_setting = p3s.first().map_or(String::new(), |q| {
        format!(
            "n = {}, λ⊥ = {}, σ = {}",
            q.spec.n, q.spec.var_irr, q.spec.sigma
        )
    });
    let (how, how_s) = (per_point(p3), per_point(p3s));
    vec![
        Claim::judged(
            "drift/learning-noise-nonmonotonic-in-m",
            &format!(
                "T3: learning-noise drift is non-monotonic in m ({learn_setting}): the m of the \
                 largest D is 6 or 8, and D(2) < D(6) > D(10) ({how}; every D must be finite)"
            ),
            a,
            json!({"m": ms, "D": d3, "argmax_m": num(argmax)}),
            "argmax in {6, 8}, D(2) < D(6), D(10) < D(6)",
            nonmono,
        ),
        Claim::at_most(
            "drift/learning-noise-m-scaling",
            &format!(
                "T3: D/((m−1)(n−m)) agrees across m: max/min over the {} learning-noise points \
                 ({how})",
                p3.len()
            ),
            a,
            spread_ratio(&norm3),
            1.25,
        ),
        Claim::strictly_increasing(
            "drift/synaptic-noise-increases-with-m",
            &format!("T3: synaptic-noise drift strictly increases with m ({syn_setting}; {how_s})"),
            a,
            &d(p3s),
        ),
        Claim::for_every(
            "drift/synaptic-noise-matches-theory",
            &format!(
                "T3: at every m, synaptic-noise D_sim / ((m−1)ησ²/4) is in [0.85, 1.2] \
                 (per case; {how_s})"
            ),
            a,
            &cases(p3s, "m", |q| q.spec.m as f64, &ratio(p3s)),
            "in [0.85, 1.2]",
            |v| (0.85..=1.2).contains(&v),
        ),
    ]
}

/// D against m: learning noise with the theory ∝ (m−1)(n−m), synaptic noise with (m−1)ησ²/4.
pub fn figure(r: &OutputDimResult) -> Figure {
    let (p3, p3s) = (&r.learning, &r.synaptic);
    let dense_m: Vec<usize> = (2..=p3.last().map_or(10, |q| q.spec.m)).collect();
    let th_m = |p: &[Point]| -> (Vec<f64>, Vec<f64>) {
        let base = &p[0].spec;
        (
            dense_m.iter().map(|m| *m as f64).collect(),
            dense_m
                .iter()
                .map(|m| {
                    RunSpec {
                        m: *m,
                        ..base.clone()
                    }
                    .theory()
                })
                .collect(),
        )
    };
    let (lx, ly) = th_m(p3);
    let (sxm, sym) = th_m(p3s);
    Figure {
        caption: Some(
            "Drift rate D versus output dimension m (n = 12): learning noise against synaptic \
             noise"
                .into(),
        ),
        panels: vec![
            Panel {
                title: "Learning noise (λ⊥ = 0.5, σ = 0)".into(),
                x_label: "output dimension m".into(),
                y_label: "drift rate D (per step)".into(),
                legend: LegendAt::UpperRight,
                lines: vec![
                    theory_line("theory ∝ (m−1)(n−m)", 0, lx, ly),
                    points_line("Oja simulation", 0, m_of(p3), p3),
                ],
                ..Default::default()
            },
            Panel {
                title: "Synaptic noise (λ⊥ = 0, σ = 0.02)".into(),
                x_label: "output dimension m".into(),
                y_label: "drift rate D (per step)".into(),
                legend: LegendAt::UpperLeft,
                lines: vec![
                    theory_line("theory (m−1)ησ²/4", 1, sxm, sym),
                    points_line("Oja simulation", 1, m_of(p3s), p3s),
                ],
                ..Default::default()
            },
        ],
    }
}
