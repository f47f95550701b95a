//! Unit tests of the pure claim functions on hand-built results (no estimates drawn): each
//! check's claims hold on a result where they should, fail where they should not, and fail on
//! a NaN (never read as zero error).

use descent_core::EvalCounts;

use super::curves::{self, Curve};
use super::extras::{self, ExtrasResult};
use super::z1_moments::{self, Z1Cell, Z1Result};
use super::z2_tau_mse::{self, TauMedians, Z2Result};
use super::z3_crossover::{self, Z3Result};
use super::z4_descent::{self, OneStep, Z4Result};
use crate::report::Claim;

const NAN: f64 = f64::NAN;

fn holds(claims: &[Claim], id: &str) -> bool {
    claims
        .iter()
        .find(|c| c.id == format!("zeroth-order/{id}"))
        .unwrap_or_else(|| panic!("no claim {id}"))
        .holds
}

fn failing(claims: &[Claim], id: &str) -> Vec<String> {
    let c = claims
        .iter()
        .find(|c| c.id == format!("zeroth-order/{id}"))
        .unwrap_or_else(|| panic!("no claim {id}"));
    c.measured["failing"]
        .as_array()
        .expect("a per-case claim")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Z1 cells at the closed forms (ratios 1, deviations small, DAP along-gradient at rounding).
fn z1_good() -> Z1Result {
    let mut cells = Vec::new();
    for d in [8, 64] {
        for (label, _) in z1_moments::laws() {
            cells.push(Z1Cell {
                d,
                label,
                diag_dev: 0.01,
                off_dev: 0.01,
                total_ratio: 1.0,
                central_total_ratio: 1.0,
                coord_rel_dev: 0.01,
                along: if label.starts_with("dap") { 1e-31 } else { 2.0 },
                second_moment: if label == "gaussian" {
                    (d as f64 + 2.0) / d as f64
                } else {
                    1.0
                },
            });
        }
    }
    Z1Result {
        samples: 1000,
        cells,
        unscaled: vec![(8, 1.0), (64, 1.0)],
    }
}

const Z1_IDS: [&str; 7] = [
    "z1-second-moment",
    "z1-total-mse",
    "z1-central-quadratic",
    "z1-coord-mse",
    "z1-dap-along-gradient",
    "z1-gaussian-penalty",
    "z1-unscaled-coordinate-bias",
];

fn cell<'a>(r: &'a mut Z1Result, d: usize, label: &str) -> &'a mut Z1Cell {
    r.cells
        .iter_mut()
        .find(|c| c.d == d && c.label == label)
        .unwrap()
}

#[test]
fn z1_claims_hold_at_the_closed_forms_and_name_the_failing_case() {
    let good = z1_moments::claims(&z1_good());
    for id in Z1_IDS {
        assert!(holds(&good, id), "{id}");
    }
    // the coordinate law's diagonal may deviate by 0.05 at d = 64 (tolerance 0.1), not at d = 8
    let mut r = z1_good();
    cell(&mut r, 64, "coordinate").diag_dev = 0.05;
    assert!(holds(&z1_moments::claims(&r), "z1-second-moment"));
    cell(&mut r, 8, "coordinate").diag_dev = 0.05;
    let c = z1_moments::claims(&r);
    assert_eq!(failing(&c, "z1-second-moment"), ["d=8 coordinate"]);

    let mut r = z1_good();
    cell(&mut r, 64, "sphere").total_ratio = 1.05;
    cell(&mut r, 8, "dap(ii)").along = 1e-10;
    cell(&mut r, 64, "gaussian").second_moment = 1.2;
    r.unscaled[0].1 = 8.0; // a law scaled by sqrt(d) twice
    let c = z1_moments::claims(&r);
    assert_eq!(failing(&c, "z1-total-mse"), ["d=64 sphere"]);
    assert_eq!(failing(&c, "z1-dap-along-gradient"), ["d=8 dap(ii)"]);
    assert_eq!(failing(&c, "z1-gaussian-penalty"), ["d=64"]);
    assert_eq!(failing(&c, "z1-unscaled-coordinate-bias"), ["d=8"]);
    assert!(holds(&c, "z1-coord-mse") && holds(&c, "z1-central-quadratic"));
}

#[test]
fn z1_claims_fail_on_nan() {
    let mut r = z1_good();
    for c in r
        .cells
        .iter_mut()
        .filter(|c| c.d == 8 && c.label == "dap(i)")
    {
        c.diag_dev = NAN;
        c.total_ratio = NAN;
        c.central_total_ratio = NAN;
        c.coord_rel_dev = NAN;
        c.along = NAN;
    }
    cell(&mut r, 64, "sphere").second_moment = NAN;
    r.unscaled[1].1 = NAN;
    let c = z1_moments::claims(&r);
    for id in Z1_IDS {
        assert!(!holds(&c, id), "{id} holds over a NaN");
    }
}

fn medians(batches: &[usize], per_law: [f64; 5], sphere_2b: f64) -> TauMedians {
    TauMedians {
        batches: batches.to_vec(),
        medians: per_law
            .iter()
            .map(|v| batches.iter().map(|&b| v / b as f64).collect())
            .collect(),
        sphere_2b: batches.iter().map(|&b| sphere_2b / b as f64).collect(),
    }
}

/// Z2 at the calibrated Monte Carlo numbers: A ordered 0.75 : 0.95 : 1.25, DAP-estimated at parity, Rademacher
/// = DAP-exact in the mean; B with DAP-exact and Rademacher at rounding, DAP-estimated 0.5x.
fn z2_good() -> Z2Result {
    Z2Result {
        quad_dim: 8,
        product_dim: 16,
        trials: 300,
        rademacher_trials: 1000,
        quad: medians(&[32, 128], [0.75, 0.95, 1.25, 0.76, 0.45], 0.475),
        rademacher_pooled: 0.75,
        dap_exact_pooled: 0.76,
        product: medians(&[2, 8], [1e-20, 4e-9, 4e-9, 1e-20, 2e-9], 2e-9),
        product_draws: 1,
        product_grad0: 0.1,
    }
}

#[test]
fn z2_claims_hold_on_the_calibrated_numbers_and_fail_per_batch() {
    let c = z2_tau_mse::claims(&z2_good());
    for claim in &c {
        assert!(claim.holds, "{}", claim.id);
    }
    let mut r = z2_good();
    r.quad.medians[2][1] = 0.9 / 128.0; // Gaussian below the sphere at B = 128
    r.quad.medians[4][0] = 0.6 / 32.0; // DAP-estimated 1.26x the sphere at 2B
    r.rademacher_pooled = 1.0;
    r.product.medians[0][1] = 1e-12; // DAP-exact only 2.5e-4 of the sphere
    let c = z2_tau_mse::claims(&r);
    assert_eq!(
        failing(&c, "z2-quadratic-ordering"),
        ["B=128 sphere/Gaussian"]
    );
    assert_eq!(failing(&c, "z2-dap-estimated-parity"), ["B=32"]);
    assert!(!holds(&c, "z2-rademacher-matches-dap"));
    assert_eq!(failing(&c, "z2-product-dap-exact"), ["B=8"]);
}

#[test]
fn z2_claims_fail_on_nan() {
    let mut r = z2_good();
    for law in r
        .quad
        .medians
        .iter_mut()
        .chain(r.product.medians.iter_mut())
    {
        law[0] = NAN;
    }
    r.quad.sphere_2b[0] = NAN;
    r.dap_exact_pooled = NAN;
    for claim in z2_tau_mse::claims(&r) {
        assert!(!claim.holds, "{} holds over a NaN", claim.id);
    }
}

/// Z3 at the μ → 0 closed forms (sphere, DAP, Gaussian, Rademacher).
fn z3_theory() -> Z3Result {
    let d = 16;
    let (t, a) = z3_crossover::gradient(d);
    let a2: f64 = a.iter().map(|x| x * x).sum();
    let df = d as f64;
    let per = |f: &dyn Fn(f64) -> f64| a.iter().map(|ai| f(ai * ai)).collect::<Vec<f64>>();
    Z3Result {
        dim: d,
        samples: 1000,
        t,
        a2,
        coord_mse: vec![
            per(&|ai2| (df * a2 + (df - 2.0) * ai2) / (df + 2.0)),
            per(&|ai2| a2 - ai2),
            per(&|ai2| a2 + ai2),
            per(&|ai2| a2 - ai2),
        ],
    }
}

#[test]
fn z3_crossover_holds_at_the_closed_forms_and_fails_per_coordinate() {
    let r = z3_theory();
    let mean: f64 = r.t.iter().sum::<f64>() / r.t.len() as f64;
    assert!((mean - 1.0).abs() < 1e-12 && r.t[15] > 3.0 && r.t[0] == 0.0);
    assert!(holds(&z3_crossover::claims(&r), "z3-crossover"));
    // DAP no better than the sphere on the largest coordinate
    let mut r = z3_theory();
    r.coord_mse[1][15] = r.coord_mse[0][15];
    let c = z3_crossover::claims(&r);
    assert_eq!(failing(&c, "z3-crossover").len(), 1);
    assert!(failing(&c, "z3-crossover")[0].starts_with("i=15 "));
    let mut r = z3_theory();
    r.coord_mse[1][0] = NAN;
    assert!(!holds(&z3_crossover::claims(&r), "z3-crossover"));
}

/// A recorded run whose objective falls by `rate` per record from `start`.
fn curve(start: f64, rate: f64, records: usize) -> Curve {
    Curve {
        queries: (0..records).map(|i| 100.0 * i as f64).collect(),
        values: (0..records).map(|i| start * rate.powi(i as i32)).collect(),
        evals: EvalCounts {
            values: 100 * (records as u64 - 1),
            ..EvalCounts::default()
        },
        diverged: false,
    }
}

fn z4_groups(seeds: usize, rate: f64) -> [Vec<(String, Vec<Curve>)>; 2] {
    let group = |start: f64| -> Vec<(String, Vec<Curve>)> {
        curves::laws(4)
            .iter()
            .map(|l| {
                let r = if l.label == "Gaussian" {
                    rate.powf(0.95)
                } else {
                    rate
                };
                (
                    l.label.to_string(),
                    (0..seeds).map(|_| curve(start, r, 60)).collect(),
                )
            })
            .collect()
    };
    [group(16.0), group(3.0)]
}

fn z4_good() -> Z4Result {
    Z4Result {
        dim: 32,
        steps: 3000,
        seeds: 3,
        q: 4,
        mu: 1e-6,
        groups: z4_groups(3, 0.8),
        evals: EvalCounts::default(),
        one_step_samples: 1000,
        one_step: ["gaussian", "sphere", "dap(i)"]
            .iter()
            .map(|law| OneStep {
                law,
                gwg_ratio: 1.01,
                delta_ratio: 0.99,
            })
            .collect(),
        dap_descent_dev: [1e-15, 1e-13],
    }
}

#[test]
fn z4_claims_hold_on_converging_runs() {
    let r = z4_good();
    let c = z4_descent::claims(&r);
    for claim in &c {
        assert!(claim.holds, "{}: {}", claim.id, claim.measured);
    }
    // the Gaussian law is slower by 1/0.95 in log space: the speed table shows it
    let speed = z4_descent::relative_speed(&r);
    let g = speed.iter().find(|(l, _)| l == "Gaussian").unwrap().1;
    assert!(g[0] > 1.0 && g[0] < 1.1, "{g:?}");
    assert_eq!(z4_descent::speed_rows(&r).len(), 6);
}

#[test]
fn z4_claims_fail_on_a_slow_or_diverged_run_and_on_nan() {
    let mut r = z4_good();
    r.groups[0][2].1[1] = curve(16.0, 0.99, 60); // a Rademacher seed stalls on the quadratic
    r.groups[1][3].1[0].diverged = true; // a coordinate run diverges
    r.one_step[1].gwg_ratio = 1.05;
    r.dap_descent_dev[0] = 1e-9;
    let c = z4_descent::claims(&r);
    assert_eq!(
        failing(&c, "z4a-all-laws-converge"),
        ["quadratic Rademacher", "nonconvex coordinate"]
    );
    assert_eq!(
        failing(&c, "z4b-one-step-expectation"),
        ["sphere E[g^T W g]"]
    );
    assert!(!holds(&c, "z4c-dap-exact-descent"));

    let mut r = z4_good();
    r.groups[0][0].1[0].values[59] = NAN;
    r.one_step[0].delta_ratio = NAN;
    r.dap_descent_dev = [NAN, NAN];
    let c = z4_descent::claims(&r);
    assert_eq!(failing(&c, "z4a-all-laws-converge"), ["quadratic Gaussian"]);
    assert!(!holds(&c, "z4b-one-step-expectation"));
    assert!(!holds(&c, "z4c-dap-exact-descent"));
    assert!(!holds(&c, "z4c-dap-exact-central"));
}

#[test]
fn median_bands_keep_nan() {
    let mut runs = vec![curve(1.0, 0.5, 4), curve(1.0, 0.5, 4)];
    runs[1].values[2] = NAN;
    let lines = curves::band_lines(&[("x".to_string(), runs)], 1e-300);
    let l = &lines[0];
    assert!(l.y[2].is_nan(), "{:?}", l.y);
    let (lo, hi) = l.band.as_ref().unwrap();
    assert!(lo[2].is_nan() && hi[2].is_nan());
    assert_eq!(l.y[3], 0.125);
    // 0.6 is crossed between the first two points, interpolated in log y
    let q = curves::queries_to(l, 0.6);
    assert!((q - 100.0 * 0.6f64.ln() / 0.5f64.ln()).abs() < 1e-12, "{q}");
    // the crossing of 0.3 lies behind the NaN: unknown, not the next finite point
    assert!(curves::queries_to(l, 0.3).is_nan());
}

fn extras_result(dap_final: f64) -> ExtrasResult {
    let group = |start: f64| -> Vec<(String, Vec<Curve>)> {
        curves::laws(4)
            .iter()
            .filter(|l| l.law != "dap_exact")
            .map(|l| {
                let mut c = curve(start, 0.9, 10);
                if l.label == curves::DAP_ESTIMATED {
                    *c.values.last_mut().unwrap() = dap_final * start;
                }
                (l.label.to_string(), vec![c.clone(), c])
            })
            .collect()
    };
    ExtrasResult {
        rosenbrock_dim: 4,
        digits_lr: 0.01,
        digits_batch: 64,
        q: 4,
        seeds: 2,
        groups: [group(10.0), group(2.0)],
        evals: EvalCounts::default(),
    }
}

#[test]
fn extras_claim_judges_dap_against_the_best_law_per_task() {
    let best = 0.9f64.powi(9);
    assert!(holds(
        &extras::claims(&extras_result(1.5 * best)),
        "extras-equal-budget"
    ));
    let c = extras::claims(&extras_result(3.0 * best));
    assert_eq!(failing(&c, "extras-equal-budget"), extras::TASKS);
    assert_eq!(extras::final_rows(&extras_result(best)).len(), 5);
    // a diverged run makes its law's median NaN: the claim fails instead of skipping it
    let mut r = extras_result(best);
    r.groups[1][0].1[1].diverged = true;
    let c = extras::claims(&r);
    assert_eq!(failing(&c, "extras-equal-budget"), ["digits train loss"]);
}

#[test]
fn tolerances_and_closed_forms() {
    assert_eq!(
        z1_moments::second_moment_tolerances(8, "coordinate"),
        (0.02, 0.02)
    );
    assert_eq!(
        z1_moments::second_moment_tolerances(64, "coordinate"),
        (0.1, 0.03)
    );
    assert_eq!(
        z1_moments::second_moment_tolerances(64, "sphere"),
        (0.03, 0.03)
    );
    assert!((z1_moments::coord_mse_tolerance(256, "coordinate") - 0.2).abs() < 1e-15);
    assert_eq!(z1_moments::coord_mse_tolerance(256, "dap(i)"), 0.06);
    // the closed forms at d = 8, |a|^2 = 1, a_i^2 = 0.25
    assert_eq!(z1_moments::coord_mse_theory("gaussian", 8, 1.0, 0.25), 1.25);
    assert_eq!(z1_moments::coord_mse_theory("dap(iii)", 8, 1.0, 0.25), 0.75);
    assert_eq!(z1_moments::total_mse_theory("sphere", 8), 7.0);
}
