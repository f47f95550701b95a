//! Unit tests of the pure claim functions on hand-built results: a result where each claim
//! holds, one where it fails, and one with a NaN (which must fail, never read as zero error).

use descent_optim::{SolveLog, Solver, StepTimes};
use serde_json::json;

use super::comparisons::{
    F64_DIGITS, TrajectoryPair, accuracy_claims, agreement_digits, baseline_claims,
    equivalence_claims, trajectory_claim,
};
use super::config::Config;
use super::derivatives::{self, DerivativeResult, jacobian_rel_error, laplacian_rel_error};
use super::linear_algebra::{self, LinearAlgebraResult, WoodburyCase};
use super::problems::Which;
use super::training::{Role, RunResult, TrainingResult};
use crate::report::Claim;

const NAN: f64 = f64::NAN;

fn holds(claims: &[Claim], id: &str) -> bool {
    claims
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("claim {id}"))
        .holds
}

fn derivative_result(lap: f64, jac: [f64; 3], grad: f64) -> DerivativeResult {
    DerivativeResult {
        laplacian: lap,
        jacobian: ["poisson", "heat", "general"]
            .iter()
            .zip(jac)
            .map(|(n, e)| (n.to_string(), e))
            .collect(),
        gradient: grad,
    }
}

#[test]
fn derivative_claims_hold_fail_and_fail_on_nan() {
    let good = derivatives::claims(&derivative_result(3e-7, [1e-10, 2e-10, 1e-10], 3e-8));
    assert!(good.iter().all(|c| c.holds), "{good:#?}");
    let bad = derivatives::claims(&derivative_result(2e-5, [1e-10, 2e-7, 1e-10], 2e-6));
    assert!(bad.iter().all(|c| !c.holds), "{bad:#?}");
    let jac = &bad[1];
    assert_eq!(jac.measured["failing"], json!(["heat"]));
    let nan = derivatives::claims(&derivative_result(NAN, [1e-10, NAN, 1e-10], NAN));
    assert!(nan.iter().all(|c| !c.holds), "{nan:#?}");
}

/// The aggregations of checks 1 and 2 propagate a NaN at any position (the old `max` folds
/// skipped it and read a broken point as zero error).
#[test]
fn laplacian_and_jacobian_errors_propagate_nan() {
    assert!((laplacian_rel_error(&[1.0, 2.0], &[1.0, 2.0 + 2e-7]) - 1e-7).abs() < 1e-12);
    // below the 1e-3 floor the error is absolute over 1e-3
    assert!((laplacian_rel_error(&[1e-5], &[0.0]) - 1e-2).abs() < 1e-15);
    for (fd, t) in [
        (vec![NAN, 1.0, 1.0], vec![1.0, 1.0, 1.0]),
        (vec![1.0, 1.0, 1.0], vec![1.0, 1.0, NAN]),
        (vec![1.0, 1.0], vec![1.0, 1.0, 1.0]),
    ] {
        assert!(laplacian_rel_error(&fd, &t).is_nan(), "{fd:?} {t:?}");
        assert!(jacobian_rel_error(&fd, &t).is_nan(), "{fd:?} {t:?}");
    }
    assert_eq!(jacobian_rel_error(&[1.0, -3.0], &[1.0, -4.0]), 0.25);
}

fn algebra(rel: [f64; 3], recon: [f64; 4], full: f64) -> LinearAlgebraResult {
    LinearAlgebraResult {
        woodbury: [1e-6, 1e-8, 1e-2]
            .iter()
            .zip(rel)
            .map(|(&lambda, rel_diff)| WoodburyCase {
                n: 140,
                lambda,
                rel_diff,
            })
            .collect(),
        seconds_parameter: 0.1,
        seconds_sample: 0.01,
        nystrom_full_rank: full,
        nystrom_reconstruction: [50, 100, 200, 400].into_iter().zip(recon).collect(),
    }
}

#[test]
fn linear_algebra_claims_hold_fail_and_fail_on_nan() {
    let good = algebra([1e-10, 7e-9, 2e-14], [1e-6, 5e-7, 3e-7, 1e-13], 1e-9);
    assert!(linear_algebra::woodbury_claim(&good).holds);
    assert!(
        linear_algebra::nystrom_claims(&good)
            .iter()
            .all(|c| c.holds)
    );
    assert!(linear_algebra::speed_claim(&good, 6.0).holds);
    // λ = 1e-2 must meet 1e-12, a bound the other dampings' values would pass
    let bad = algebra([1e-10, 7e-9, 2e-11], [1e-6, 5e-7, 6e-7, 1e-13], 2e-6);
    assert!(!linear_algebra::woodbury_claim(&bad).holds);
    assert!(
        linear_algebra::nystrom_claims(&bad)
            .iter()
            .all(|c| !c.holds)
    );
    let nan = algebra([1e-10, NAN, 2e-14], [1e-6, NAN, 3e-7, 1e-13], NAN);
    assert!(!linear_algebra::woodbury_claim(&nan).holds);
    assert!(
        linear_algebra::nystrom_claims(&nan)
            .iter()
            .all(|c| !c.holds)
    );
    let mut slow = good.clone();
    slow.seconds_sample = NAN;
    assert!(!linear_algebra::speed_claim(&slow, 6.0).holds);
    let mut empty = good;
    empty.woodbury.clear();
    assert!(!linear_algebra::woodbury_claim(&empty).holds);
}

fn pair(solvers: [Option<Solver>; 2], a: Vec<f64>, b: Vec<f64>) -> TrajectoryPair {
    TrajectoryPair {
        steps: a.len() - 1,
        solvers,
        l2: [a, b],
    }
}

const P: Option<Solver> = Some(Solver::Parameter);
const S: Option<Solver> = Some(Solver::Sample);

#[test]
fn f64_digits_is_what_an_f64_resolves() {
    assert!((F64_DIGITS + f64::EPSILON.log10()).abs() < 1e-12);
    assert_eq!(agreement_digits(1.0, 1.0), F64_DIGITS);
    assert_eq!(agreement_digits(1.0 + f64::EPSILON, 1.0), F64_DIGITS);
    assert!((agreement_digits(1.00001, 1.0) - 5.0).abs() < 1e-6);
    assert!(agreement_digits(NAN, 1.0).is_nan());
    assert!(agreement_digits(1.0, f64::INFINITY).is_nan());
    assert_eq!(agreement_digits(1.0, 0.0), f64::NEG_INFINITY);
}

/// Check 5 (issue: the old claim reported 16 digits whenever the two values were bit-equal, so
/// it passed if both runs shared one code path).
#[test]
fn trajectory_claim_needs_two_solvers_and_honest_digits() {
    let engd = vec![1.0, 0.5, 0.25, 1.2e-4];
    let engd_w = vec![1.0, 0.5000001, 0.2500003, 1.2000024e-4];
    let ok = trajectory_claim(&pair([P, S], engd.clone(), engd_w.clone()));
    assert!(ok.holds, "{ok:#?}");
    let digits = ok.measured["digits"].as_f64().unwrap();
    assert!((digits - agreement_digits(1.2e-4, 1.2000024e-4)).abs() < 1e-12);
    assert_eq!(ok.measured["solvers"], json!(["parameter", "sample"]));
    assert_eq!(ok.measured["bit_equal_steps"], 0);

    // one solver twice: proves nothing, whatever the digits
    let same = trajectory_claim(&pair([S, S], engd.clone(), engd_w.clone()));
    assert!(!same.holds);
    let unknown = trajectory_claim(&pair([None, S], engd.clone(), engd_w.clone()));
    assert!(!unknown.holds);

    // bit-identical at every step from "different" solvers: a shared code path, a red flag;
    // the digits are capped at f64's resolution, not 16
    let copy = trajectory_claim(&pair([P, S], engd.clone(), engd.clone()));
    assert!(!copy.holds);
    assert_eq!(copy.measured["digits"].as_f64().unwrap(), F64_DIGITS);
    assert_eq!(copy.measured["bit_equal_steps"], 3);

    // a bit-equal final value after different steps is a coincidence, capped and accepted
    let mut end_equal = engd_w.clone();
    end_equal[3] = engd[3];
    let coincidence = trajectory_claim(&pair([P, S], engd.clone(), end_equal));
    assert!(coincidence.holds);
    assert_eq!(coincidence.measured["digits"].as_f64().unwrap(), F64_DIGITS);

    // too few digits, and a NaN, fail
    let far = trajectory_claim(&pair([P, S], engd.clone(), vec![1.0, 0.6, 0.3, 1.3e-4]));
    assert!(!far.holds);
    let nan = trajectory_claim(&pair([P, S], engd.clone(), vec![1.0, 0.5, 0.25, NAN]));
    assert!(!nan.holds);
    assert!(nan.measured["digits"].is_null());
    // a trajectory shorter than the compared step fails
    let short = TrajectoryPair {
        steps: 3,
        solvers: [P, S],
        l2: [engd, vec![1.0, 0.5]],
    };
    assert!(!trajectory_claim(&short).holds);
}

fn run(which: Which, role: Role, solver: Option<Solver>, l2: Vec<f64>) -> RunResult {
    RunResult {
        role,
        which,
        label: format!("{role:?}"),
        optimizer: String::new(),
        solver,
        steps: (0..l2.len()).map(|k| k as f64).collect(),
        seconds: vec![0.0; l2.len()],
        l2,
        final_h1: NAN,
        times: StepTimes::default(),
        log: SolveLog::default(),
        evals: Default::default(),
        error: None,
        no_step: 0,
    }
}

/// A trajectory of `steps` steps: 1 at step 0, then geometric from 9e-5 at step 0 to `end`.
fn curve(steps: usize, end: f64) -> Vec<f64> {
    let mut l2: Vec<f64> = (0..=steps)
        .map(|k| 9e-5 * (end / 9e-5).powf(k as f64 / steps as f64))
        .collect();
    l2[0] = 1.0;
    l2
}

/// Runs of the quick config on problem A with ENGD-W reaching `end[i]` at step 150 for seed i.
fn training(end: [f64; 3]) -> TrainingResult {
    let a = Which::A;
    let mut runs: Vec<RunResult> = (0..3)
        .map(|seed| run(a, Role::EngdW { seed }, S, curve(150, end[seed])))
        .collect();
    let w0 = runs[0].l2.clone();
    runs.push(run(a, Role::SpringMu0, S, w0[..=30].to_vec()));
    let w6 = curve(60, 2e-5);
    let mut e6 = w6[..=30].to_vec();
    e6.iter_mut().skip(1).for_each(|v| *v *= 1.0 + 2e-6);
    runs.push(run(a, Role::EngdWLambda1e6, S, w6));
    runs.push(run(a, Role::EngdLambda1e6, P, e6));
    runs.push(run(a, Role::Spring { mu: 0.5 }, S, curve(100, 1e-5)));
    runs.push(run(a, Role::Spring { mu: 0.9 }, S, curve(100, 2e-4)));
    runs.push(run(a, Role::Adam, None, curve(200, 0.07)));
    TrainingResult { runs }
}

#[test]
fn run_claims_hold_on_good_runs() {
    let c = Config::default();
    let t = training([1e-5, 6e-6, 3e-6]);
    let all: Vec<Claim> = equivalence_claims(&c, &t)
        .into_iter()
        .chain(accuracy_claims(&c, &t))
        .chain(baseline_claims(&c, &t))
        .collect();
    for c in &all {
        assert!(c.holds, "{c:#?}");
    }
    let digits = &all[1].measured["digits"];
    assert!((digits.as_f64().unwrap() - 5.7).abs() < 0.1, "{digits}");
}

#[test]
fn run_claims_fail_on_bad_runs_and_name_the_failing_seed() {
    let c = Config::default();
    // seed 1 stays at 5e-4: above 1e-4 at step 60 and at step 150, but the median is seed 0's
    let t = training([1e-5, 5e-4, 3e-6]);
    let acc = accuracy_claims(&c, &t);
    assert!(!holds(&acc, "engd/accuracy-step60"));
    assert_eq!(acc[0].measured["failing"], json!(["seed 1"]));
    assert!(holds(&acc, "engd/accuracy-step150"));
    // SPRING μ = 0 off by one bit at one step
    let mut t = training([1e-5, 6e-6, 3e-6]);
    let s0 = t
        .runs
        .iter_mut()
        .find(|r| r.role == Role::SpringMu0)
        .unwrap();
    s0.l2[7] = f64::from_bits(s0.l2[7].to_bits() + 1);
    assert!(!holds(
        &equivalence_claims(&c, &t),
        "engd/spring-mu0-is-engd-w"
    ));
    // both SPRING runs worse than 1.5 × ENGD-W
    let mut t = training([1e-5, 6e-6, 3e-6]);
    for r in t
        .runs
        .iter_mut()
        .filter(|r| matches!(r.role, Role::Spring { .. }))
    {
        r.l2 = curve(100, 1e-3);
    }
    assert!(!holds(&baseline_claims(&c, &t), "engd/spring-weak-form"));
}

#[test]
fn run_claims_fail_on_nan() {
    let c = Config::default();
    let mut t = training([1e-5, 6e-6, 3e-6]);
    for r in &mut t.runs {
        if matches!(
            r.role,
            Role::EngdW { seed: 2 } | Role::EngdWLambda1e6 | Role::Spring { mu: 0.9 }
        ) {
            r.l2.iter_mut().skip(1).for_each(|v| *v = NAN);
        }
    }
    let acc = accuracy_claims(&c, &t);
    assert!(acc.iter().all(|c| !c.holds), "{acc:#?}");
    assert!(!holds(
        &equivalence_claims(&c, &t),
        "engd/trajectories-agree"
    ));
    // the best SPRING over a NaN run is NaN (a min fold would have skipped it)
    assert!(!holds(&baseline_claims(&c, &t), "engd/spring-weak-form"));
    // a missing run fails its claims instead of panicking
    t.runs.retain(|r| r.role != Role::SpringMu0);
    assert!(!holds(
        &equivalence_claims(&c, &t),
        "engd/spring-mu0-is-engd-w"
    ));
}

#[test]
fn both_presets_validate() {
    use crate::experiment::PaperConfig;
    Config::quick().validate().unwrap();
    let full = Config::full();
    full.validate().unwrap();
    assert!(full.problems_bc && full.a.steps == 300);
}
