//! Unit tests of the pure claim functions on hand-built results (no training): for each check a
//! result where the claims hold, one where they fail, and one with a NaN, which must fail.

use descent_core::EvalCounts;

use super::runs::{FP, Opt, Setting, SettingRuns, Sweep, set, sweep_keys};
use super::theory::{self, TheoryResult};
use super::z1_matrix_quadratic::{self as z1, Z1Result};
use super::z2_rosenbrock::{self as z2, Z2Result};
use super::z3_digits::{self as z3, Z3Result};
use crate::report::{Claim, ClaimKind};

fn claim<'a>(claims: &'a [Claim], id: &str) -> &'a Claim {
    claims
        .iter()
        .find(|c| c.id == format!("quantized/{id}"))
        .unwrap_or_else(|| panic!("claim {id}"))
}

fn failing(c: &Claim) -> Vec<String> {
    c.measured["failing"]
        .as_array()
        .expect("a per-case claim")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn asserted_failures(claims: &[Claim]) -> Vec<String> {
    claims
        .iter()
        .filter(|c| c.kind == ClaimKind::Asserted && !c.holds)
        .map(|c| c.id.clone())
        .collect()
}

/// Full-precision finals of Z1: Adam 1e-5, Muon 3e-5, shifted per seed.
fn fp_loss(opt: Opt, k: usize) -> f64 {
    let base = if opt == Opt::Adam { 1e-5 } else { 3e-5 };
    base * (1.0 + 0.01 * k as f64)
}

/// A Z1 result in which every claim the spec calibrated holds: the RTN-V stall at 500x, every
/// other state setting at full precision (1 + 1e-9), weights at M = 10 at 3x (Adam) as measured,
/// Muon's M = 23 at 2e-3 relative and its jitter control at 1e-3.
fn z1_holding() -> impl Fn(Opt, &Setting, usize) -> f64 {
    |opt, s, k| {
        let fp = fp_loss(opt, k);
        if s.comps.is_empty() {
            fp
        } else if z1::ADAM_STALL.contains(s) && opt == Opt::Adam {
            500.0 * fp
        } else if s.bits == 10 && s.comps.contains('W') {
            3.0 * fp
        } else if opt == Opt::Muon && s.bits == 23 {
            fp * (1.0 + 2e-3)
        } else {
            fp * (1.0 + 1e-9)
        }
    }
}

fn z1_result(loss: impl Fn(Opt, &Setting, usize) -> f64) -> Z1Result {
    let seeds = 3;
    let runs = |opt, s: Setting| SettingRuns {
        opt,
        setting: s,
        finals: (0..seeds).map(|k| loss(opt, &s, k)).collect(),
    };
    let checks = z1::check_keys()
        .into_iter()
        .map(|(o, s)| runs(o, s))
        .collect();
    let control = [
        (0..seeds).map(|k| fp_loss(Opt::Adam, k)).collect(),
        (0..seeds)
            .map(|k| fp_loss(Opt::Muon, k) * (1.0 + 1e-3))
            .collect(),
    ];
    let bits = vec![1, 7];
    let points = sweep_keys(&bits)
        .into_iter()
        .map(|(o, s)| runs(o, s))
        .collect();
    Z1Result {
        seeds,
        checks,
        control,
        curves: vec![vec![(0.0, 1.0), (200.0, 1e-5)]; 6],
        sweep: Sweep {
            bits,
            seeds,
            points,
            fp: [1e-5, 3e-5],
        },
        evals: EvalCounts::default(),
    }
}

#[test]
fn z1_claims_hold_on_a_result_that_meets_the_spec() {
    let claims = z1::claims(&z1_result(z1_holding()));
    assert_eq!(asserted_failures(&claims), Vec::<String>::new());
    assert_eq!(claims.len(), 11);
    let stall = claim(&claims, "adam-rtn-v7-stalls");
    assert_eq!(stall.measured["values"]["V nearest M=7"], 500.0);
    assert!(claim(&claims, "muon-perturbation-control").holds);
    // the two reported checks the spec states but the measurements do not reproduce
    assert!(!claim(&claims, "m10-within-1.5x-with-w").holds);
    assert!(!claim(&claims, "m23-recovers-fp-muon").holds);
    let rows = z1::checks_rows(&z1_result(z1_holding()));
    assert_eq!(rows.len(), z1::check_keys().len());
    assert_eq!(rows[0][1], "none");
}

#[test]
fn z1_claims_fail_and_name_the_failing_case() {
    let holding = z1_holding();
    // Adam's RTN stall only 50x with G, M and V; M = 23 on V off by 1e-5 at one seed
    let r = z1_result(|opt, s, k| {
        if opt == Opt::Adam && *s == set("GMV", 7, "nearest") {
            50.0 * fp_loss(opt, k)
        } else if opt == Opt::Adam && *s == set("V", 23, "nearest") && k == 2 {
            fp_loss(opt, k) * (1.0 + 1e-5)
        } else {
            holding(opt, s, k)
        }
    });
    let claims = z1::claims(&r);
    let stall = claim(&claims, "adam-rtn-v7-stalls");
    assert!(!stall.holds);
    assert_eq!(failing(stall), ["GMV nearest M=7"]);
    let rec = claim(&claims, "m23-recovers-fp");
    assert!(!rec.holds);
    assert_eq!(failing(rec), ["Adam V"]);
}

#[test]
fn z1_claims_fail_on_a_nan_never_read_as_zero_error() {
    let holding = z1_holding();
    // one seed of SR-V at M = 7 and of M = 23 on G diverged; with three seeds the old median
    // and max(fold) would have hidden both
    let r = z1_result(|opt, s, k| {
        let bad = opt == Opt::Adam
            && k == 0
            && (*s == set("V", 7, "stochastic") || *s == set("G", 23, "nearest"));
        if bad { f64::NAN } else { holding(opt, s, k) }
    });
    let claims = z1::claims(&r);
    let sr = claim(&claims, "sr-cures-adam");
    assert!(!sr.holds);
    assert_eq!(failing(sr), ["V stochastic M=7"]);
    let rec = claim(&claims, "m23-recovers-fp");
    assert_eq!(failing(rec), ["Adam G"]);
    // a NaN full-precision run fails every ratio claim of its optimizer
    let r = z1_result(|opt, s, k| {
        if opt == Opt::Muon && *s == FP && k == 1 {
            f64::NAN
        } else {
            holding(opt, s, k)
        }
    });
    let claims = z1::claims(&r);
    assert!(!claim(&claims, "muon-rtn-m-benign").holds);
    assert!(!claim(&claims, "z1-fp-baselines").holds);
    assert!(!claim(&claims, "muon-perturbation-control").holds);
}

fn theory_result() -> TheoryResult {
    let cases = |v: &[f64]| -> Vec<(String, f64)> {
        v.iter()
            .enumerate()
            .map(|(i, x)| (format!("case{i}"), *x))
            .collect()
    };
    TheoryResult {
        predicates: theory::predicates(),
        bounds: cases(&[0.99, 0.5]),
        sr_bias: cases(&[1.2, 0.3]),
        frozen: cases(&[0.0, 0.0]),
        sr_decay: cases(&[1.02, 0.97]),
    }
}

#[test]
fn theory_claims_hold_fail_and_reject_nan() {
    let r = theory_result();
    let claims = theory::claims(&r);
    assert!(claims.iter().all(|c| c.holds), "{claims:#?}");
    assert_eq!(claims[0].measured["rtn"], 3.0);
    assert_eq!(claims[1].measured["sr"], 5.0);
    assert_eq!(theory::predicate_rows(&r).len(), 23);
    let mut bad = theory_result();
    bad.bounds[1].1 = 1.001;
    bad.frozen[0].1 = 1e-3;
    bad.sr_decay[1].1 = 0.9;
    bad.sr_bias[0].1 = 3.5;
    let claims = theory::claims(&bad);
    for id in [
        "quantizer-error-bounds",
        "rtn-ema-freezes",
        "sr-ema-decays",
        "sr-unbiased",
    ] {
        assert!(!claim(&claims, id).holds, "{id}");
    }
    assert_eq!(failing(claim(&claims, "quantizer-error-bounds")), ["case1"]);
    let mut nan = theory_result();
    nan.frozen[1].1 = f64::NAN;
    nan.sr_decay[0].1 = f64::NAN;
    nan.bounds[0].1 = f64::NAN;
    nan.sr_bias[1].1 = f64::NAN;
    let claims = theory::claims(&nan);
    assert_eq!(
        asserted_failures(&claims).len(),
        4,
        "a NaN must fail each asserted theory claim"
    );
    // a predicate that never holds reads as threshold 0, not a pass
    let mut none = theory_result();
    for p in &mut none.predicates {
        p.adam_sr = false;
    }
    assert!(!theory::claims(&none)[0].holds);
}

/// A Z2 result whose all-component SR medians are `adam`, `muon` at bits [1, 2, 3, 10] (every
/// other point 1), full precision 1e-3 for both.
fn z2_result(adam: [f64; 4], muon: [f64; 4]) -> Z2Result {
    let bits = vec![1, 2, 3, 10];
    let points = sweep_keys(&bits)
        .into_iter()
        .map(|(opt, s)| {
            let i = bits.iter().position(|b| *b == s.bits).unwrap();
            let all_sr = s.comps == "WGMV" && s.round == "stochastic";
            let v = match (all_sr, opt) {
                (true, Opt::Adam) => adam[i],
                (true, Opt::Muon) => muon[i],
                _ => 1.0,
            };
            SettingRuns {
                opt,
                setting: s,
                finals: vec![v, v, v],
            }
        })
        .collect();
    Z2Result {
        seeds: 3,
        sweep: Sweep {
            bits,
            seeds: 3,
            points,
            fp: [1e-3, 1e-3],
        },
        evals: EvalCounts::default(),
    }
}

#[test]
fn z2_claims_hold_fail_and_reject_nan() {
    let claims = z2::claims(&z2_result(
        [13.0, 11.0, 3.0, 1.5e-3],
        [13.0, 10.0, 0.4, 1.1e-3],
    ));
    assert!(claims.iter().all(|c| c.holds), "{claims:#?}");
    assert_eq!(claims.len(), 3);
    // Adam at M = 10 3x FP and Muon at M = 2 only 50x; Muon worse than Adam at M = 3
    let claims = z2::claims(&z2_result(
        [13.0, 11.0, 0.3, 3e-3],
        [13.0, 0.05, 0.4, 1.1e-3],
    ));
    assert!(claims.iter().all(|c| !c.holds));
    assert_eq!(failing(claim(&claims, "z2-high-precision")), ["Adam M=10"]);
    assert_eq!(failing(claim(&claims, "z2-low-precision")), ["Muon M=2"]);
    // a diverged M = 1 run is not "at least 100x worse": it is reported as failing
    let claims = z2::claims(&z2_result(
        [f64::NAN, 11.0, f64::NAN, 1.5e-3],
        [13.0, 10.0, 0.4, f64::NAN],
    ));
    assert!(claims.iter().all(|c| !c.holds));
    assert_eq!(failing(claim(&claims, "z2-low-precision")), ["Adam M=1"]);
}

fn z3_result(adam_fp: f64, adam_m3: f64, muon_fp: f64, muon_m3: f64) -> Z3Result {
    let bits = vec![3, 7];
    let runs = z3::keys(&bits)
        .into_iter()
        .map(|(opt, s)| {
            let v = match (opt, s.comps.is_empty(), s.bits) {
                (Opt::Adam, true, _) => adam_fp,
                (Opt::Muon, true, _) => muon_fp,
                (Opt::Adam, false, 3) => adam_m3,
                (Opt::Muon, false, 3) => muon_m3,
                _ => 0.5,
            };
            SettingRuns {
                opt,
                setting: s,
                finals: vec![v, v],
            }
        })
        .collect();
    Z3Result {
        seeds: 2,
        bits,
        runs,
        evals: EvalCounts::default(),
    }
}

#[test]
fn z3_claim_holds_fails_and_rejects_nan() {
    assert!(z3::claims(&z3_result(0.04, 0.05, 1e-3, 1.1e-3))[0].holds);
    assert!(!z3::claims(&z3_result(0.04, 0.04, 1e-3, 2e-3))[0].holds);
    assert!(!z3::claims(&z3_result(0.04, f64::NAN, 1e-3, 1.1e-3))[0].holds);
    let r = z3_result(0.04, 0.05, 1e-3, 1.1e-3);
    assert_eq!(z3::rows(&r).len(), 4);
    assert_eq!(z3::figure(&r).panels[0].lines.len(), 4);
}

/// Issue #14: Z1's target W* follows the run seed, the rotation U (hence H) does not.
#[test]
fn z1_target_follows_the_run_seed_and_the_rotation_does_not() {
    let c = super::Z1Config::default();
    let (p0, p1) = (z1::problem(&c, 0).unwrap(), z1::problem(&c, 1).unwrap());
    assert_eq!(p0.h(), p1.h(), "H = U diag(h) Uᵀ is fixed by rotation_seed");
    assert_ne!(p0.target(), p1.target(), "W* must change with the run seed");
    assert_eq!(p0.target(), z1::problem(&c, 0).unwrap().target());
    let other_rotation = super::Z1Config {
        rotation_seed: 7,
        ..c.clone()
    };
    let q0 = z1::problem(&other_rotation, 0).unwrap();
    assert_ne!(q0.h(), p0.h());
    assert_eq!(q0.target(), p0.target(), "W* depends on the run seed only");
}
