//! T7 of P1 §5 (optional, full preset): the geometry of drift. With distinct relevant
//! variances λ_i, learning-noise drift is anisotropic as P1-g predicts (Oja's oblique
//! projection, per-plane rates E\[Ω_ij²\]); with synaptic noise and equal λ_i it is isotropic.

use descent_core::Result;
use descent_nn::drift_theory as theory;
use serde_json::json;

use super::config::Config;
use super::points::{per_point, set};
use super::simulate::{Model, Point, RunSpec, Runs};
use crate::harness::stats::spread_ratio;
use crate::report::{Claim, ClaimKind, Report};

/// The anisotropy point (learning noise, λ = `t7_var_rel`) and the isotropy point (synaptic
/// noise, equal λ_i), each only when its sweep has steps.
pub fn specs(c: &Config) -> (Option<RunSpec>, Option<RunSpec>) {
    let s7 = &c.t7_aniso;
    let aniso = (s7.steps > 0).then(|| RunSpec {
        var_rel: c.t7_var_rel.clone(),
        ..RunSpec::new(Model::Oja, s7, s7.n[0], c.t7_var_rel.len(), s7.var_irr[0])
    });
    let s7s = &c.t7_synaptic;
    let iso =
        (s7s.steps > 0).then(|| RunSpec::new(Model::Oja, s7s, s7s.n[0], s7s.m[0], s7s.var_irr[0]));
    (aniso, iso)
}

/// T7's points (absent when skipped).
#[derive(Debug, Clone)]
pub struct AnisotropyResult {
    /// The point with anisotropic relevant variances.
    pub aniso: Option<Point>,
    /// The isotropic point it is compared with.
    pub iso: Option<Point>,
}

/// Reads T7's points from the shared runs.
pub fn measure(c: &Config, runs: &Runs) -> Result<AnisotropyResult> {
    let (aniso, iso) = specs(c);
    Ok(AnisotropyResult {
        aniso: aniso.map(|s| runs.point(&s)).transpose()?,
        iso: iso.map(|s| runs.point(&s)).transpose()?,
    })
}

/// P1-g's per-stimulus rates D_i of the anisotropy point.
fn predicted_stimulus_rates(p: &Point) -> Vec<f64> {
    theory::oja_stimulus_rates(&p.spec.var_rel, p.spec.n, p.spec.eta, p.spec.var_irr)
}

/// Reported (the spec's optional check): plane (2,3) rotates slowest and D_3 is the smallest
/// D_i; with synaptic noise, the per-plane rates agree within 15 %.
pub fn claims(r: &AnisotropyResult) -> Vec<Claim> {
    let rep = ClaimKind::Reported;
    let mut out = Vec::new();
    if let Some(p) = &r.aniso {
        let mm = p.spec.m;
        let planes = theory::oja_plane_rates(&p.spec.var_rel, p.spec.n, p.spec.eta, p.spec.var_irr);
        let plane = |i: usize, j: usize| p.plane_rates[i * mm + j];
        let slowest = mm == 3 && plane(1, 2) < plane(0, 1) && plane(1, 2) < plane(0, 2);
        let order = mm == 3
            && p.stimulus_rates[2] < p.stimulus_rates[0]
            && p.stimulus_rates[2] < p.stimulus_rates[1];
        out.push(Claim::judged(
            "drift/anisotropy-learning-noise",
            &format!(
                "T7: with λ = {} learning-noise drift is anisotropic: plane (2,3) rotates \
                 slowest and D_3 < D_1, D_2 as P1-g predicts (n = {}, λ⊥ = {}; {})",
                set(&p.spec.var_rel),
                p.spec.n,
                p.spec.var_irr,
                per_point(std::slice::from_ref(p))
            ),
            rep,
            json!({"D_i": p.stimulus_rates, "D_i_theory": predicted_stimulus_rates(p),
                   "plane_rates": p.plane_rates, "plane_rates_theory": planes}),
            "plane (2,3) slowest and D_3 smallest",
            slowest && order,
        ));
    }
    if let Some(p) = &r.iso {
        let mm = p.spec.m;
        let off: Vec<f64> = (0..mm)
            .flat_map(|i| (i + 1..mm).map(move |j| (i, j)))
            .map(|(i, j)| p.plane_rates[i * mm + j])
            .collect();
        out.push(Claim::at_most(
            "drift/isotropy-synaptic-noise",
            &format!(
                "T7: synaptic-noise drift with equal λ_i is isotropic: max/min of the {} \
                 per-plane rates (m = {}, σ = {}; {})",
                off.len(),
                mm,
                p.spec.sigma,
                per_point(std::slice::from_ref(p))
            ),
            rep,
            spread_ratio(&off),
            1.15,
        ));
    }
    out
}

/// The anisotropy point's D_i against P1-g, when T7 ran.
pub fn add_series(report: &mut Report, r: &AnisotropyResult) {
    if let Some(p) = &r.aniso {
        report.add_series(
            "anisotropy",
            &[
                ("stimulus", (1..=p.spec.m).map(|i| i as f64).collect()),
                ("D_i", p.stimulus_rates.clone()),
                ("D_i_theory", predicted_stimulus_rates(p)),
            ],
        );
    }
}
