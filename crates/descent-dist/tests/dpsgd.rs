//! DP-SGD for any model (`descent train --privacy`): the `dp(...)` spec and its named errors,
//! the resolved schedule against P9's calibration table, and the problem adapter (one
//! accounted private release per gradient, identical to the private-gradient oracle it wraps,
//! no Function view).

mod common;

use descent_core::{Caps, Gradient, Problem, RngStreams};
use descent_dist::privacy::{
    Conversion, DpSgdConfig, DpSgdProblem, PrivateGradient, ReleaseSpec, epsilon_of_schedule,
};
use descent_nn::{Init, Loss, Objective};

fn err(text: &str) -> String {
    DpSgdConfig::parse(text).unwrap_err().to_string()
}

#[test]
fn dp_specs_parse_with_defaults_and_bad_ones_are_named_errors() {
    let c = DpSgdConfig::parse("dp(epsilon=4)").unwrap();
    assert_eq!(c.epsilon, Some(4.0));
    assert_eq!(c.noise_multiplier, None);
    assert_eq!(
        (c.delta, c.clip, c.noise_decay, c.clip_decay, c.stages),
        (1e-5, 1.0, 1.0, 1.0, 1)
    );
    assert_eq!(c.conversion, Conversion::Improved);
    let c = DpSgdConfig::parse(
        "dp(noise_multiplier=1.1, delta=1e-6, clip=0.5, noise_decay=0.9, clip_decay=0.5, \
         stages=4, conversion=classic)",
    )
    .unwrap();
    assert_eq!(c.noise_multiplier, Some(1.1));
    assert_eq!(c.clip_decay, 0.5);
    assert_eq!(c.conversion, Conversion::Classic);
    assert_eq!(
        err("dp(epsilon=4, noise_multiplier=1)"),
        "invalid value for 'dp.noise_multiplier': got 1, expected no noise_multiplier= together \
         with epsilon= (give a target ε to calibrate the noise, or the noise multiplier itself)"
    );
    assert!(err("dp(delta=1e-5)").starts_with("invalid value for 'dp': got neither"));
    assert_eq!(
        err("dp(epsilon=4, delta=1)"),
        "invalid value for 'dp.delta': got 1, expected a number in (0, 1)"
    );
    assert_eq!(
        err("dp(noise_multiplier=-1)"),
        "invalid value for 'dp.noise_multiplier': got -1, expected a noise multiplier >= 0 (noise std / \
         clipping norm)"
    );
    assert_eq!(
        err("dp(epsilon=0)"),
        "invalid value for 'dp.epsilon': got 0, expected a finite target ε > 0"
    );
    assert_eq!(
        err("dp(epsilon=1, clip=0)"),
        "invalid value for 'dp.clip': got 0, expected a finite clipping norm C > 0"
    );
    assert_eq!(
        err("dp(epsilon=1, clip_decay=1.5)"),
        "invalid value for 'dp.clip_decay': got 1.5, expected a clipping decay factor κ in (0, 1] \
         (C_s = C·κ^s)"
    );
    assert_eq!(
        err("dp(epsilon=1, stages=0)"),
        "invalid value for 'dp.stages': got 0, expected an integer >= 1"
    );
    assert!(err("dp(epsilon=1, sigma=2)").starts_with("unknown key 'sigma' for 'dp'; valid keys"));
    assert_eq!(
        err("gdp(epsilon=1)"),
        "unknown privacy mechanism 'gdp'; valid: dp"
    );
    assert!(err("dp(epsilon=1, conversion=prv)").contains("dp.conversion"));
}

/// The calibrated schedule reproduces P9 §3's calibration table (q = 0.2, 4 × 75 steps,
/// δ = 1e-5): constant σ for ε = 4 is 4.1487, σ₀ with γ = 0.9 for ε = 2 is 8.9906.
#[test]
fn schedules_split_stages_and_calibrate_the_whole_run() {
    let constant = DpSgdConfig::parse("dp(epsilon=4, stages=4)")
        .unwrap()
        .schedule(0.2, 300)
        .unwrap();
    assert!(
        (constant.sigma0 - 4.1487).abs() / 4.1487 < 1e-3,
        "{constant:?}"
    );
    assert!(constant.planned.epsilon <= 4.0 && constant.planned.epsilon > 4.0 - 1e-3);
    let decaying = DpSgdConfig::parse("dp(epsilon=2, stages=4, noise_decay=0.9)")
        .unwrap()
        .schedule(0.2, 300)
        .unwrap();
    assert!((decaying.sigma0 - 8.9906).abs() / 8.9906 < 1e-3);
    let mult: Vec<f64> = decaying.stages.iter().map(|s| s.noise_multiplier).collect();
    assert!((mult[3] - decaying.sigma0 * 0.729).abs() < 1e-12);
    assert_eq!(decaying.total_steps(), 300);
    assert_eq!(decaying.multiplier_at(74), mult[0]);
    assert_eq!(decaying.multiplier_at(75), mult[1]);
    assert_eq!(decaying.multiplier_at(10_000), mult[3]);
    // 10 steps in 3 stages: 4, 3, 3; a given multiplier is used as is
    let given = DpSgdConfig::parse("dp(noise_multiplier=2, stages=3, noise_decay=0.5)")
        .unwrap()
        .schedule(0.1, 10)
        .unwrap();
    let steps: Vec<u64> = given.stages.iter().map(|s| s.steps).collect();
    assert_eq!(steps, [4, 3, 3]);
    assert_eq!(given.sigma0, 2.0);
    assert_eq!(given.stages[2].noise_multiplier, 0.5);
    let e = epsilon_of_schedule(&given.stages, 1e-5, Conversion::Improved).unwrap();
    assert_eq!(given.planned, e);
    // named errors: more stages than steps, a bad rate, an unreachable target
    let c = DpSgdConfig::parse("dp(epsilon=1, stages=5)").unwrap();
    assert_eq!(
        c.schedule(0.1, 4).unwrap_err().to_string(),
        "invalid value for 'dp.stages': got 5, expected at most the run's 4 steps"
    );
    assert_eq!(
        c.schedule(1.5, 100).unwrap_err().to_string(),
        "invalid value for 'sampling rate': got 1.5, expected a sampling rate in (0, 1]"
    );
    let tiny = DpSgdConfig::parse("dp(epsilon=0.01)").unwrap();
    assert!(
        tiny.schedule(0.1, 100)
            .unwrap_err()
            .to_string()
            .contains("unreachable")
    );
}

fn toy() -> (Objective, Vec<f64>) {
    let n = 40;
    let (model, data) = common::toy_data(n);
    let streams = RngStreams::new(0);
    let obj = Objective::new(model, data, Loss::SoftmaxCe, n, &streams).unwrap();
    let x = obj.init_params(Init::Xavier, &streams);
    (obj, x)
}

#[test]
fn every_gradient_is_one_accounted_release_of_the_private_gradient_oracle() {
    let (obj, x0) = toy();
    let cfg = DpSgdConfig::parse("dp(epsilon=3, clip=0.5, stages=2, noise_decay=0.8)").unwrap();
    let q = 0.25;
    let schedule = cfg.schedule(q, 20).unwrap();
    let mut dp = DpSgdProblem::new(obj.clone(), schedule.clone(), 1e-5, cfg.conversion, 7).unwrap();
    assert_eq!(dp.caps(), Caps::GRADIENT | Caps::STOCHASTIC);
    assert!(dp.as_function().is_none());
    // a method that needs function values is refused by its requirements
    let zo = descent_optim::parse_optimizer("zo(base=sgd(lr=0.1))").unwrap();
    assert!(zo.requires().check("zo", &dp).is_err());
    // release k equals the oracle's release k with the same seed and node 0
    let mut reference = PrivateGradient::new(obj, q, 7, 0).unwrap();
    let (mut g, mut r) = (vec![0.0; x0.len()], vec![0.0; x0.len()]);
    for k in 0..3 {
        dp.value_grad(&x0, &mut g);
        let spec = ReleaseSpec::private(0.5, schedule.multiplier_at(k));
        reference.release_at(k, &x0, spec, &mut r).unwrap();
        assert_eq!(g, r, "release {k}");
    }
    assert_eq!(dp.releases(), 3);
    // SGD on the problem: one release per step; after the planned 20 the spent ε is the plan's
    let mut dp = DpSgdProblem::new(toy().0, schedule.clone(), 1e-5, cfg.conversion, 7).unwrap();
    let mut sgd = descent_optim::parse_optimizer("sgd(lr=0.5)").unwrap();
    sgd.init(dp.layout(), &RngStreams::new(7)).unwrap();
    let mut x = x0.clone();
    descent_optim::run(sgd.as_mut(), &mut x, &mut dp, 20, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(dp.releases(), 20);
    let spent = dp.epsilon();
    assert_eq!(spent, schedule.planned);
    assert!(spent.epsilon <= 3.0 && spent.epsilon > 3.0 - 1e-3);
    let [classic, improved] = dp.epsilon_bracket();
    assert!(classic.epsilon > improved.epsilon);
    assert_ne!(x, x0);
    let last = dp.last_release().unwrap();
    assert_eq!(last.divisor, 10.0);
    assert_eq!(last.std, 0.5 * schedule.stages[1].noise_multiplier);
}

/// A decaying clip (C_s = C·κ^s) changes each release's clip and noise std σ_s·C_s but not the
/// accountant's multipliers: the spent ε equals the constant-clip run's (P9 §5.3 check 7).
#[test]
fn a_decaying_clip_scales_the_noise_std_and_leaves_epsilon_alone() {
    let (obj, x0) = toy();
    let base = DpSgdConfig::parse("dp(noise_multiplier=2, stages=4)").unwrap();
    let decay = DpSgdConfig::parse("dp(noise_multiplier=2, stages=4, clip_decay=0.5)").unwrap();
    let (sb, sd) = (
        base.schedule(0.2, 8).unwrap(),
        decay.schedule(0.2, 8).unwrap(),
    );
    assert_eq!(sd.clips, [1.0, 0.5, 0.25, 0.125]);
    assert_eq!(sb.stages, sd.stages);
    assert_eq!(sb.planned, sd.planned);
    assert_eq!(
        (sd.clip_at(1), sd.clip_at(2), sd.clip_at(99)),
        (1.0, 0.5, 0.125)
    );
    let mut dp = DpSgdProblem::new(obj, sd, 1e-5, Conversion::Improved, 3).unwrap();
    let mut g = vec![0.0; x0.len()];
    let mut stds = Vec::new();
    for _ in 0..8 {
        dp.value_grad(&x0, &mut g);
        stds.push(dp.last_release().unwrap().std);
    }
    assert_eq!(stds, [2.0, 2.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]);
    assert_eq!(dp.epsilon(), sb.planned);
}
