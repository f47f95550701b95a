//! E1, the paper's Figure 1 toy (spec §3.5): f(x₁, x₂) = x₁² + 2(x₂ − x₁)², ∇²f = [[6, −4],
//! [−4, 4]] with eigenvalues 5 ± √17, reduced by Ψ₁(x₁) = x₁, Ψ₂(x₁) = 0 and
//! Ψ₃(x₁) = x₁ + 2 sin x₁. At 0: F₁'' = 2, F₂'' = 6, F₃'' = 18 (above β_f: a poorly designed
//! nonlinear reduction), pullback curvatures F''/R = 1, 6, 1.8, each inside [λ_min, λ_max]
//! (interlacing). Deterministic.

use descent_core::testfns::Quadratic;
use descent_core::{Layout, ReductionJacobian, Result};
use descent_optim::probes::{CurvatureOptions, hessian_curvature, pullback_curvature};
use descent_optim::{AffineMap, FnMap, Reduction, ReductionConfig, ReductionMap};
use serde_json::{Value, json};

use crate::report::{Claim, ClaimKind, num};

/// One reduction of the toy at x₁ = 0.
#[derive(Debug, Clone, PartialEq)]
pub struct ToyMap {
    /// The map's name.
    pub name: String,
    /// F''(0) (Euclidean) and F''(0)/R(0) (pullback), measured by the curvature probe.
    pub euclid: f64,
    /// F''(0)/R(0) in the pullback metric.
    pub pullback: f64,
    /// The closed forms of the spec.
    pub expected_euclid: f64,
    /// The closed form of the pullback curvature.
    pub expected_pullback: f64,
}

/// What E1 measured.
#[derive(Debug, Clone, PartialEq)]
pub struct E1Result {
    /// Eigenvalues of ∇²f (ascending) and their closed forms 5 ∓ √17.
    pub h_eigs: [f64; 2],
    /// One entry per map.
    pub maps: Vec<ToyMap>,
}

/// The toy with blocks x1 and x2.
fn toy() -> Result<Quadratic> {
    let mut layout = Layout::new();
    layout.push("x1", &[1]);
    layout.push("x2", &[1]);
    Quadratic::from_matrix(vec![6.0, -4.0, -4.0, 4.0], &[0.0, 0.0])?.with_layout(layout)
}

/// Ψ₃(x₁) = x₁ + 2 sin x₁ with DΨ₃ = 1 + 2 cos x₁ and Ψ₃'' = −2 sin x₁.
fn psi3() -> FnMap {
    FnMap::new(
        "x1 + 2 sin x1",
        1,
        1,
        |x, y| y[0] = x[0] + 2.0 * x[0].sin(),
        |x, j| j[0] = 1.0 + 2.0 * x[0].cos(),
    )
    .with_curvature(|x, w, v, out| out[0] = -2.0 * x[0].sin() * w[0] * v[0])
}

/// F''(0) and the pullback curvature of one map.
fn curvatures(map: Box<dyn ReductionMap>) -> Result<(f64, f64)> {
    let mut red = Reduction::new(toy()?, map, ReductionConfig::eliminate(&["x2"]))?;
    let opts = CurvatureOptions::default();
    let euclid = hessian_curvature(&mut red, &[0.0], &opts)?.beta;
    let mut jac = [0.0];
    red.map_jacobian(&[0.0], &mut jac);
    let pullback = pullback_curvature(&mut red, &[0.0], &jac, 1, &opts)?.beta;
    Ok((euclid, pullback))
}

/// Measures the toy (no randomness).
pub fn measure() -> Result<E1Result> {
    let mut f = toy()?;
    let c = hessian_curvature(&mut f, &[0.0, 0.0], &CurvatureOptions::default())?;
    let cases: [(Box<dyn ReductionMap>, f64, f64); 3] = [
        (
            Box::new(AffineMap::new("Ψ1 = x1", vec![0.0], vec![1.0], 1)?),
            2.0,
            1.0,
        ),
        (
            Box::new(AffineMap::new("Ψ2 = 0", vec![0.0], vec![0.0], 1)?),
            6.0,
            6.0,
        ),
        (Box::new(psi3()), 18.0, 1.8),
    ];
    let mut maps = Vec::new();
    for (map, expected_euclid, expected_pullback) in cases {
        let name = map.name();
        let (euclid, pullback) = curvatures(map)?;
        maps.push(ToyMap {
            name,
            euclid,
            pullback,
            expected_euclid,
            expected_pullback,
        });
    }
    Ok(E1Result {
        h_eigs: [c.eigenvalues[0], c.eigenvalues[1]],
        maps,
    })
}

/// 5 ∓ √17.
pub fn closed_form_eigs() -> [f64; 2] {
    [5.0 - 17f64.sqrt(), 5.0 + 17f64.sqrt()]
}

/// The largest of the absolute errors (NaN if any is NaN).
fn max_error(pairs: impl Iterator<Item = (f64, f64)>) -> f64 {
    let errs: Vec<f64> = pairs.map(|(a, b)| (a - b).abs()).collect();
    crate::harness::stats::max(&errs)
}

/// The claims of E1 (asserted: closed forms of the spec).
pub fn claims(r: &E1Result) -> Vec<Claim> {
    let want = closed_form_eigs();
    let eig_err = max_error(r.h_eigs.iter().copied().zip(want));
    let euclid_err = max_error(r.maps.iter().map(|m| (m.euclid, m.expected_euclid)));
    let pull_err = max_error(r.maps.iter().map(|m| (m.pullback, m.expected_pullback)));
    let [lo, hi] = r.h_eigs;
    let inside: Vec<(String, f64)> = r
        .maps
        .iter()
        .map(|m| (m.name.clone(), m.pullback))
        .collect();
    let psi3 = r.maps.get(2).map_or(f64::NAN, |m| m.euclid);
    let k = ClaimKind::Asserted;
    vec![
        Claim::at_most(
            "reduction/e1-hessian-eigenvalues",
            "toy f = x1² + 2(x2 − x1)²: the probe's Hessian eigenvalues equal 5 ∓ √17 (max \
             absolute error)",
            k,
            eig_err,
            1e-9,
        ),
        Claim::at_most(
            "reduction/e1-euclidean-curvatures",
            "toy: F''(0) of the reductions Ψ1 = x1, Ψ2 = 0, Ψ3 = x1 + 2 sin x1 equals 2, 6, 18 \
             (max absolute error over the three maps; HVPs of the Reduction adapter, with the \
             correction term for Ψ3)",
            k,
            euclid_err,
            1e-9,
        ),
        Claim::at_most(
            "reduction/e1-pullback-curvatures",
            "toy: the pullback curvatures F''(0)/R(0) equal 1, 6, 1.8 (max absolute error)",
            k,
            pull_err,
            1e-9,
        ),
        Claim::for_every(
            "reduction/e1-interlacing",
            &format!(
                "toy: every map's pullback curvature lies in [λ_min, λ_max] = [{lo:.4}, {hi:.4}] \
                 of ∇²f (interlacing of the compression onto the graph's tangent)"
            ),
            k,
            &inside,
            "every value in [λ_min, λ_max] (1e-12 slack)",
            |v| v >= lo - 1e-12 && v <= hi + 1e-12,
        ),
        Claim::judged(
            "reduction/e1-nonlinear-exceeds-beta",
            "toy: the nonlinear Ψ3 raises the Euclidean curvature above β_f: F3''(0) > λ_max(∇²f) \
             (a poorly designed reduction)",
            k,
            json!({"F3''(0)": num(psi3), "beta_f": num(hi)}),
            "F3''(0) > beta_f",
            psi3 > hi,
        ),
    ]
}

/// Table rows: map, F''(0), expected, pullback, expected.
pub fn rows(r: &E1Result) -> Vec<Vec<Value>> {
    r.maps
        .iter()
        .map(|m| {
            vec![
                Value::String(m.name.clone()),
                num(m.euclid),
                num(m.expected_euclid),
                num(m.pullback),
                num(m.expected_pullback),
            ]
        })
        .collect()
}

/// The columns of [`rows`].
pub const COLUMNS: [&str; 5] = [
    "map",
    "F''(0)",
    "spec F''(0)",
    "pullback F''(0)/R(0)",
    "spec pullback",
];
