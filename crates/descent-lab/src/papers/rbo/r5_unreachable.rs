//! R5 — unreachable points (P6 spec T5, §5 R5; paper, Proposition on unreachable points): a
//! point where the graph's curvature σ exceeds 1/ρ can never be a contact point of a ball of
//! radius ρ. Checked at the 40 local minima of θ²/2 + 0.05 sin(50θ) on [−3, 3] (σ = f''(m)):
//! a minimum m is reachable at ρ when it is the global foot point of its offset point
//! (m, f(m) + ρ).

use descent_core::Result;
use descent_optim::rolling_ball::project_exact_1d;

use super::problems::wrinkled;
use crate::harness::{par_map, stats};
use crate::report::{Claim, ClaimKind, Report};

/// Radii of the count (the first is below 1/max σ, the last above 1/min σ).
pub const RADII: [f64; 7] = [0.005, 0.0075, 0.0085, 0.01, 0.02, 0.03, 0.05];
/// Radii at which "ρ > 1/σ ⇒ unreachable" is checked (spec R5).
pub const CHECKED: [f64; 4] = [0.0085, 0.01, 0.02, 0.03];
const SMALL: f64 = 0.005;
const LARGE: f64 = 0.05;

/// What R5 measured.
#[derive(Debug, Clone, PartialEq)]
pub struct UnreachableResult {
    /// The local minima on [−3, 3].
    pub minima: Vec<f64>,
    /// The radii ρ.
    pub radii: Vec<f64>,
    /// Reachable minima per radius.
    pub reachable: Vec<usize>,
    /// Reachable minima with ρ > 1/f''(m) per radius (violations of the proposition).
    pub violations: Vec<usize>,
}

/// The local minima of the wrinkled function on [−3, 3] (grid of 600 001, Newton-polished).
pub fn wrinkled_minima() -> Vec<f64> {
    let n = 600_001;
    let h = 6.0 / (n - 1) as f64;
    let v: Vec<f64> = (0..n).map(|i| wrinkled(-3.0 + h * i as f64).0).collect();
    let mut mins = Vec::new();
    for i in 1..n - 1 {
        if v[i] < v[i - 1] && v[i] <= v[i + 1] {
            let mut m = -3.0 + h * i as f64;
            for _ in 0..30 {
                let (_, d1, d2) = wrinkled(m);
                m -= d1 / d2;
            }
            mins.push(m);
        }
    }
    mins
}

/// True when the minimum m is the global foot point of its offset point (m, f(m) + ρ): the
/// exact nearest point of the graph is at distance ρ (within 1e-12 relative).
fn reachable(m: f64, rho: f64) -> bool {
    let cy = wrinkled(m).0 + rho;
    let foot = project_exact_1d(&wrinkled, m, cy, 40_001, 30);
    let v = wrinkled(foot).0 - cy;
    let d = ((foot - m).powi(2) + v * v).sqrt();
    d >= rho * (1.0 - 1e-12)
}

/// Finds the minima and counts the reachable ones at every radius (in parallel over radii).
pub fn measure() -> Result<UnreachableResult> {
    let minima = wrinkled_minima();
    let counts = par_map(&RADII, |&rho| {
        let reach: Vec<f64> = minima
            .iter()
            .copied()
            .filter(|m| reachable(*m, rho))
            .collect();
        let violations = reach.iter().filter(|m| rho > 1.0 / wrinkled(**m).2).count();
        Ok((reach.len(), violations))
    })?;
    Ok(UnreachableResult {
        minima,
        radii: RADII.to_vec(),
        reachable: counts.iter().map(|c| c.0).collect(),
        violations: counts.iter().map(|c| c.1).collect(),
    })
}

/// The count at `rho`, NaN when the radius was not measured.
fn at(r: &UnreachableResult, v: &[usize], rho: f64) -> f64 {
    r.radii
        .iter()
        .position(|x| *x == rho)
        .map_or(f64::NAN, |i| v[i] as f64)
}

/// The R5 claims.
pub fn claims(r: &UnreachableResult) -> Vec<Claim> {
    let viol: Vec<f64> = CHECKED
        .iter()
        .map(|rho| at(r, &r.violations, *rho))
        .collect();
    let n = r.minima.len() as f64;
    vec![
        Claim::at_most(
            "rbo/unreachable-violations",
            "a minimum with curvature σ = f''(m) is never its own offset point's foot when \
             ρ > 1/σ (violations at ρ ∈ {0.0085, 0.01, 0.02, 0.03})",
            ClaimKind::Asserted,
            viol.iter().sum(),
            0.0,
        ),
        Claim::in_range(
            "rbo/reachable-small-ball",
            "every local minimum is reachable by a small ball (ρ = 0.005 < 1/max σ): count",
            ClaimKind::Asserted,
            at(r, &r.reachable, SMALL),
            n,
            n,
        ),
        Claim::at_most(
            "rbo/reachable-large-ball",
            "no local minimum is reachable by a ball with ρ = 0.05 > 1/min σ: count",
            ClaimKind::Asserted,
            at(r, &r.reachable, LARGE),
            0.0,
        ),
        Claim::in_range(
            "rbo/minima-count",
            "the wrinkled function has 40 local minima on [−3, 3]",
            ClaimKind::Reported,
            n,
            40.0,
            40.0,
        ),
    ]
}

/// The counts per radius, and the curvature range of the minima.
pub fn record(r: &UnreachableResult, report: &mut Report) {
    let as_f64 = |v: &[usize]| v.iter().map(|c| *c as f64).collect::<Vec<f64>>();
    report.add_series(
        "reachable_minima",
        &[
            ("rho", r.radii.clone()),
            ("reachable", as_f64(&r.reachable)),
            ("violations", as_f64(&r.violations)),
        ],
    );
    let sigma: Vec<f64> = r.minima.iter().map(|m| wrinkled(*m).2).collect();
    report.assume(format!(
        "R5: {} minima with curvature σ in [{:.1}, {:.1}]; a minimum m is reachable at ρ when \
         the exact nearest point of (m, f(m)+ρ) on the graph is at distance ρ (within 1e-12 \
         relative).",
        r.minima.len(),
        stats::min(&sigma),
        stats::max(&sigma)
    ));
}
