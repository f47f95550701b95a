//! The pure claim functions on hand-built results (no simulation): each claim holds on a
//! result that agrees with the theory, fails on one that does not, and fails on a NaN (a
//! diverged run must never read as agreement).

use serde_json::json;

use super::config::Sweep;
use super::simulate::{Model, Point, RunSpec};
use super::speed::{self, SpeedResult};
use super::t1_t2_oja::{self, OjaResult};
use super::t3_output_dim::{self, OutputDimResult};
use super::t4_t6_models::{self, ModelsResult};
use super::t7_anisotropy::{self, AnisotropyResult};
use crate::report::Claim;

const NAN: f64 = f64::NAN;

fn sweep(eta: f64, sigma: f64) -> Sweep {
    Sweep {
        eta,
        sigma,
        ..Sweep::default()
    }
}

/// A point whose D is `factor` times its theory.
fn pt(spec: RunSpec, factor: f64) -> Point {
    let theory = spec.theory();
    let m = spec.m;
    Point {
        runs: 1,
        d: factor * theory,
        se: 0.03 * theory,
        theory,
        fit_d: theory,
        fit_se: 0.01 * theory,
        steps_per_s: 1e6,
        msd: vec![(100.0, 200.0 * theory)],
        plane_rates: vec![0.0; m * m],
        stimulus_rates: vec![0.0; m],
        mean_sq_angle: 0.01,
        spec,
    }
}

fn find<'a>(claims: &'a [Claim], id: &str) -> &'a Claim {
    claims
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no claim {id}"))
}

fn verdicts(claims: &[Claim]) -> Vec<(&str, bool)> {
    claims.iter().map(|c| (c.id.as_str(), c.holds)).collect()
}

fn oja_result(var_factors: [f64; 4], dim_factors: [f64; 3]) -> OjaResult {
    let s = sweep(0.01, 0.0);
    OjaResult {
        var: [0.3, 0.4, 0.5, 0.6]
            .iter()
            .zip(var_factors)
            .map(|(l, f)| pt(RunSpec::new(Model::Oja, &s, 10, 2, *l), f))
            .collect(),
        dim: [6, 10, 18]
            .iter()
            .zip(dim_factors)
            .map(|(n, f)| pt(RunSpec::new(Model::Oja, &s, *n, 2, 0.5), f))
            .collect(),
    }
}

#[test]
fn t1_t2_hold_near_the_theory_and_fail_off_it_or_on_nan() {
    let good = t1_t2_oja::claims(&oja_result([1.05, 1.1, 1.0, 1.08], [1.05, 1.0, 1.1]));
    assert_eq!(good.len(), 6);
    assert!(good.iter().all(|c| c.holds), "{:?}", verdicts(&good));
    let s = &find(&good, "drift/oja-increases-with-irrelevant-variance").statement;
    assert!(
        s.contains("{0.3, 0.4, 0.5, 0.6}") && s.contains("D from one run per point"),
        "{s}"
    );

    let bad = t1_t2_oja::claims(&oja_result([1.05, 1.4, 1.0, 1.08], [1.05, 1.4, 1.1]));
    let each = find(&bad, "drift/oja-matches-theory");
    assert!(!each.holds);
    assert_eq!(each.measured["failing"], json!(["λ⊥=0.4"]));
    assert!(!find(&bad, "drift/oja-ratio-flat").holds);
    assert!(!find(&bad, "drift/oja-per-dimension-agrees").holds);
    assert!(find(&bad, "drift/oja-increases-with-irrelevant-variance").holds);

    let nan = t1_t2_oja::claims(&oja_result([1.05, 1.1, NAN, 1.08], [1.05, NAN, 1.1]));
    assert!(nan.iter().all(|c| !c.holds), "{:?}", verdicts(&nan));
    assert_eq!(
        find(&nan, "drift/oja-matches-theory").measured["failing"],
        json!(["λ⊥=0.5"])
    );
}

fn out_dim_result(learning: [f64; 5], synaptic: [f64; 5]) -> OutputDimResult {
    let (sl, ss) = (sweep(0.01, 0.0), sweep(0.01, 0.02));
    let ms = [2, 4, 6, 8, 10];
    OutputDimResult {
        learning: ms
            .iter()
            .zip(learning)
            .map(|(m, f)| pt(RunSpec::new(Model::Oja, &sl, 12, *m, 0.5), f))
            .collect(),
        synaptic: ms
            .iter()
            .zip(synaptic)
            .map(|(m, f)| pt(RunSpec::new(Model::Oja, &ss, 12, *m, 0.0), f))
            .collect(),
    }
}

#[test]
fn t3_holds_with_the_spec_shape_and_fails_on_a_shifted_peak_or_nan() {
    let good = t3_output_dim::claims(&out_dim_result([1.1; 5], [1.0, 0.95, 1.05, 1.0, 1.1]));
    assert!(good.iter().all(|c| c.holds), "{:?}", verdicts(&good));
    let shape = find(&good, "drift/learning-noise-nonmonotonic-in-m");
    assert_eq!(shape.measured["argmax_m"], json!(6.0));

    // theory ∝ (m−1)(12−m) = 10, 24, 30, 28, 18: D(10) tripled moves the peak to m = 10
    let bad = t3_output_dim::claims(&out_dim_result(
        [1.1, 1.1, 1.1, 1.1, 3.0],
        [1.0, 0.95, 1.3, 1.0, 1.1],
    ));
    assert!(!find(&bad, "drift/learning-noise-nonmonotonic-in-m").holds);
    assert!(!find(&bad, "drift/learning-noise-m-scaling").holds);
    let each = find(&bad, "drift/synaptic-noise-matches-theory");
    assert!(!each.holds);
    assert_eq!(each.measured["failing"], json!(["m=6"]));

    // a NaN at m = 4 leaves the argmax at 6 for a NaN-skipping fold; it must fail here
    let nan = t3_output_dim::claims(&out_dim_result(
        [1.1, NAN, 1.1, 1.1, 1.1],
        [1.0, NAN, 1.0, 1.0, 1.0],
    ));
    assert!(nan.iter().all(|c| !c.holds), "{:?}", verdicts(&nan));
}

fn models_result(var: [[f64; 3]; 3], dim: [[f64; 3]; 3]) -> ModelsResult {
    let models = [
        (
            Model::Sm { tau: 1.0 },
            sweep(0.01, 0.0),
            vec![0.3, 0.6],
            0.6,
        ),
        (
            Model::Ae { wd: 0.05 },
            sweep(0.02, 0.0),
            vec![0.3, 0.5, 0.7],
            0.5,
        ),
        (
            Model::Sup { gamma: 0.25 },
            sweep(0.025, 0.0),
            vec![0.0, 0.5, 1.0],
            1.0,
        ),
    ];
    let var_points = |i: usize| -> Vec<Point> {
        let (model, s, ls, _) = &models[i];
        ls.iter()
            .zip(var[i])
            .map(|(l, f)| pt(RunSpec::new(*model, s, 10, 2, *l), f))
            .collect()
    };
    let dim_points = |i: usize| -> Vec<Point> {
        let (model, s, _, l) = &models[i];
        [6, 10, 18]
            .iter()
            .zip(dim[i])
            .map(|(n, f)| pt(RunSpec::new(*model, s, *n, 2, *l), f))
            .collect()
    };
    ModelsResult {
        var: [var_points(0), var_points(1), var_points(2)],
        dim: [dim_points(0), dim_points(1), dim_points(2)],
    }
}

#[test]
fn t4_t6_hold_in_their_bands_and_fail_outside_or_on_nan() {
    let good = t4_t6_models::claims(&models_result(
        [[1.0, 1.1, 0.0], [0.9, 0.9, 0.9], [1.5, 1.4, 1.5]],
        [[1.0; 3], [1.0, 0.95, 1.0], [1.5; 3]],
    ));
    assert_eq!(good.len(), 9);
    assert!(good.iter().all(|c| c.holds), "{:?}", verdicts(&good));
    let s = &find(&good, "drift/supervised-matches-theory").statement;
    assert!(
        s.starts_with("T6: supervised two-layer net (γ = 0.25, η = 0.025)"),
        "{s}"
    );

    // the autoencoder at half its theory and the supervised net at 0.9 times its formula
    // (below the [1.0, 2.2] band), both at λ⊥ = 0.5; the autoencoder's n − m slope too flat
    let bad = t4_t6_models::claims(&models_result(
        [[1.0, 1.1, 0.0], [0.9, 0.5, 0.9], [1.5, 0.9, 1.5]],
        [[1.0; 3], [1.0, 0.5, 0.4], [1.5; 3]],
    ));
    let ae = find(&bad, "drift/autoencoder-matches-theory");
    assert!(!ae.holds);
    assert_eq!(ae.measured["failing"], json!(["λ⊥=0.5"]));
    assert_eq!(
        find(&bad, "drift/supervised-matches-theory").measured["failing"],
        json!(["λ⊥=0.5"])
    );
    assert!(!find(&bad, "drift/autoencoder-dimension").holds);
    assert!(find(&bad, "drift/sm-matches-theory").holds);

    let nan = t4_t6_models::claims(&models_result(
        [[1.0, NAN, 0.0], [NAN, 0.9, 0.9], [1.5, 1.4, NAN]],
        [[1.0, NAN, 1.0], [NAN, 1.0, 1.0], [1.5, 1.5, NAN]],
    ));
    assert!(nan.iter().all(|c| !c.holds), "{:?}", verdicts(&nan));
}

fn geometry(planes: Vec<f64>, stimuli: Vec<f64>, iso_planes: Vec<f64>) -> AnisotropyResult {
    let s = sweep(0.01, 0.0);
    let mut aniso = pt(
        RunSpec {
            var_rel: vec![4.0, 2.0, 1.0],
            ..RunSpec::new(Model::Oja, &s, 10, 3, 0.5)
        },
        1.0,
    );
    aniso.plane_rates = planes;
    aniso.stimulus_rates = stimuli;
    let mut iso = pt(
        RunSpec::new(Model::Oja, &sweep(0.01, 0.02), 10, 3, 0.0),
        1.0,
    );
    iso.plane_rates = iso_planes;
    AnisotropyResult {
        aniso: Some(aniso),
        iso: Some(iso),
    }
}

#[test]
fn t7_judges_the_geometry_and_fails_on_nan() {
    // plane rates row-major 3 × 3; plane (2,3) is entries (1,2) and (2,1)
    let planes = |a: f64, b: f64, c: f64| vec![0.0, a, b, a, 0.0, c, b, c, 0.0];
    let good = t7_anisotropy::claims(&geometry(
        planes(2.0, 1.5, 1.0),
        vec![1.2, 1.1, 0.9],
        planes(1.0, 1.05, 0.98),
    ));
    assert!(good.iter().all(|c| c.holds), "{:?}", verdicts(&good));
    let bad = t7_anisotropy::claims(&geometry(
        planes(1.0, 1.5, 2.0),
        vec![0.9, 1.1, 1.2],
        planes(1.0, 1.3, 0.98),
    ));
    assert!(bad.iter().all(|c| !c.holds), "{:?}", verdicts(&bad));
    let nan = t7_anisotropy::claims(&geometry(
        planes(2.0, NAN, 1.0),
        vec![1.2, 1.1, NAN],
        planes(1.0, NAN, 0.98),
    ));
    assert!(nan.iter().all(|c| !c.holds), "{:?}", verdicts(&nan));
    let skipped = t7_anisotropy::claims(&AnisotropyResult {
        aniso: None,
        iso: None,
    });
    assert!(skipped.is_empty());
}

#[test]
fn the_step_cost_claim_fails_on_nan() {
    let at = |ns: f64| {
        speed::claims(&SpeedResult {
            steps: 1000,
            ns_per_step: ns,
        })[0]
            .holds
    };
    assert!(at(120.0));
    assert!(!at(400.0));
    assert!(!at(NAN));
}

#[test]
fn round_numbers_read_as_powers_of_ten() {
    assert_eq!(super::round_number(50_000), "5·10⁴");
    assert_eq!(super::round_number(10_000_000), "1·10⁷");
    assert_eq!(super::round_number(25_000_000_000), "25·10⁹");
    assert_eq!(super::round_number(100), "100");
    assert_eq!(super::round_number(12_345), "12345");
    assert_eq!(super::round_number(0), "0");
}
