//! The privacy engine against the P9 spec: every accountant fixture of §3 item 4 (both
//! conversions), the q = 1 continuous closed form, the calibration table, check 7 (decaying
//! clip), per-sample clipping against explicit per-sample gradients, the Gaussian mechanism's
//! noise scale and streams, the Poisson sampler, the fusion EMA's variance, and the named
//! errors.

mod common;

use std::sync::Arc;

use descent_core::{Gradient, RngStreams};
use descent_data::Dataset;
use descent_dist::adp::fuse;
use descent_dist::privacy::{
    Budget, Conversion, PerSampleClip, PoissonSampler, PrivateGradient, RdpAccountant, ReleaseSpec,
    Stage, calibrate, decaying_shape, epsilon_of_schedule, full_batch_epsilon_closed_form,
    full_batch_rdp, node_rng,
};
use descent_dist::{NodePlan, NodeRule, NoiseSpec, Sampling};
use descent_nn::{Init, Loss, Mlp, Objective};

const DELTA: f64 = 1e-5;

fn stages(q: f64, sigmas: &[f64], steps: u64) -> Vec<Stage> {
    sigmas
        .iter()
        .map(|&s| Stage::new(q, s, steps).unwrap())
        .collect()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// Check 2, first table: (schedule, classic ε, improved ε) of P9 §3 item 4.
fn fixtures() -> Vec<(&'static str, Vec<Stage>, f64, f64)> {
    vec![
        (
            "σ = 20, 14, 9.8, 6.86 ×75, q = 1",
            stages(1.0, &[20.0, 14.0, 9.8, 6.86], 75),
            9.7272,
            8.9775,
        ),
        (
            "σ = 4.0, 3.6, 3.24, 2.916 ×75, q = 0.2",
            stages(0.2, &[4.0, 3.6, 3.24, 2.916], 75),
            5.7838,
            5.1583,
        ),
        (
            "σ = 8.0, 5.6, 3.92, 2.744 ×75, q = 0.2",
            stages(0.2, &[8.0, 5.6, 3.92, 2.744], 75),
            4.7831,
            4.2424,
        ),
        (
            "σ = 2.0 ×300, q = 0.2",
            stages(0.2, &[2.0], 300),
            11.0908,
            10.1361,
        ),
        (
            "σ = 1.1 ×10000, q = 0.01",
            stages(0.01, &[1.1], 10_000),
            6.2798,
            5.6543,
        ),
    ]
}

#[test]
fn accountant_reproduces_every_fixture_with_both_conversions() {
    for (name, st, classic, improved) in fixtures() {
        let c = epsilon_of_schedule(&st, DELTA, Conversion::Classic).unwrap();
        let i = epsilon_of_schedule(&st, DELTA, Conversion::Improved).unwrap();
        eprintln!(
            "check 2 {name}: classic {:.6} (order {}, rel err {:.1e}), improved {:.6} (order {}, \
             rel err {:.1e})",
            c.epsilon,
            c.order,
            rel(c.epsilon, classic),
            i.epsilon,
            i.order,
            rel(i.epsilon, improved)
        );
        assert!(
            rel(c.epsilon, classic) <= 1e-3,
            "{name} classic {}",
            c.epsilon
        );
        assert!(
            rel(i.epsilon, improved) <= 1e-3,
            "{name} improved {}",
            i.epsilon
        );
        // the accountant fed step by step gives the same numbers
        let mut acc = RdpAccountant::new();
        for s in &st {
            for _ in 0..s.steps {
                acc.step(s.q, s.noise_multiplier).unwrap();
            }
        }
        assert_eq!(acc.history(), &st[..]);
        assert_eq!(acc.epsilon(DELTA, Conversion::Classic).unwrap(), c);
    }
}

/// q = 1 with continuous α: minimising RDP(α) + log(1/δ)/(α−1) numerically over α equals
/// ρ + 2√(ρ log(1/δ)) to 1e-9; first fixture ρ = 1.472401, ε = 9.706874.
#[test]
fn full_batch_continuous_closed_form() {
    let st = stages(1.0, &[20.0, 14.0, 9.8, 6.86], 75);
    let (closed, alpha_star) = full_batch_epsilon_closed_form(&st, DELTA).unwrap();
    let rho = full_batch_rdp(&st, 2.0).unwrap() / 2.0;
    let f = |a: f64| full_batch_rdp(&st, a).unwrap() + (1.0 / DELTA).ln() / (a - 1.0);
    // golden-section search on (1, 100]
    let (mut lo, mut hi) = (1.0 + 1e-9, 100.0);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..300 {
        let (a, b) = (hi - g * (hi - lo), lo + g * (hi - lo));
        if f(a) < f(b) {
            hi = b;
        } else {
            lo = a;
        }
    }
    let numeric = f(0.5 * (lo + hi));
    eprintln!(
        "check 2 q = 1: ρ = {rho:.6}, closed form ε = {closed:.9} at α* = {alpha_star:.4}, \
         numeric min {numeric:.9}, rel diff {:.1e}",
        rel(numeric, closed)
    );
    assert!(rel(numeric, closed) <= 1e-9);
    assert!((rho - 1.472401).abs() < 1e-6);
    assert!((closed - 9.706874).abs() < 1e-6);
    // the integer grid costs +0.2 %
    let grid = epsilon_of_schedule(&st, DELTA, Conversion::Classic)
        .unwrap()
        .epsilon;
    assert!(grid > closed && grid < closed * 1.003);
}

#[test]
fn calibration_matches_the_table_and_hits_the_target() {
    // (target ε, constant σ, σ₀ with γ = 0.9, σ₀ with γ = 0.7): q = 0.2, 4 × 75, improved
    let table = [
        (1.0, 14.1220, 16.7767, 28.1002),
        (2.0, 7.5645, 8.9906, 15.1185),
        (4.0, 4.1487, 4.9360, 8.3754),
        (8.0, 2.3840, 2.8434, 4.9220),
    ];
    let mut worst = 0.0f64;
    for (eps, s1, s9, s7) in table {
        for (gamma, expected) in [(1.0, s1), (0.9, s9), (0.7, s7)] {
            let shape = decaying_shape(0.2, &[75; 4], gamma).unwrap();
            let cal = calibrate(eps, DELTA, &shape, Conversion::Improved).unwrap();
            let r = rel(cal.sigma0, expected);
            worst = worst.max(r);
            assert!(
                r <= 1e-3,
                "ε = {eps}, γ = {gamma}: σ₀ = {} vs {expected}",
                cal.sigma0
            );
            assert!(cal.epsilon.epsilon <= eps, "{:?}", cal.epsilon);
            assert!(eps - cal.epsilon.epsilon <= 1e-3, "{:?}", cal.epsilon);
            assert_eq!(cal.stages[3].noise_multiplier, cal.sigma0 * gamma.powi(3));
        }
    }
    eprintln!("check 2 calibration table: max relative error of σ {worst:.1e}");
    // classic conversion needs more noise for the same ε
    let shape = decaying_shape(0.2, &[300], 1.0).unwrap();
    let c = calibrate(2.0, DELTA, &shape, Conversion::Classic).unwrap();
    assert!(c.sigma0 > 7.5645 && (c.epsilon.epsilon - 2.0).abs() < 1e-3);
}

/// Check 7: with C_s = 1, 0.5, 0.25, 0.125 and noise std 2.0·C_s the multiplier is 2 in every
/// stage, and ε is exactly that of constant σ = 2 for 300 steps; with the std fixed at 2.0 the
/// multiplier becomes 2.0/C_s.
#[test]
fn decaying_clip_with_proportional_noise_costs_exactly_constant_noise() {
    let clips = [1.0, 0.5, 0.25, 0.125];
    let direct: Vec<Stage> = clips
        .iter()
        .map(|c| Stage::new(0.2, 2.0 * c / c, 75).unwrap())
        .collect();
    let constant = stages(0.2, &[2.0], 300);
    for conv in Conversion::ALL {
        let a = epsilon_of_schedule(&direct, DELTA, conv).unwrap();
        let b = epsilon_of_schedule(&constant, DELTA, conv).unwrap();
        assert_eq!(a, b);
    }
    let rule = NodeRule {
        sampling: Sampling::Rate(0.2),
        clip: 1.0,
        clip_decay: 0.5,
        noise_decay: 1.0,
        ..NodeRule::adp_vrsgp()
    };
    let plan = NodePlan::new(&rule, 0, 160, NoiseSpec::Multiplier { sigma0: 2.0 }).unwrap();
    let clip: Vec<f64> = plan.stages.iter().map(|s| s.clip.unwrap()).collect();
    let std: Vec<f64> = plan.stages.iter().map(|s| s.std).collect();
    let mult: Vec<f64> = plan.stages.iter().map(|s| s.noise_multiplier).collect();
    assert_eq!(clip, clips);
    assert_eq!(std, [2.0, 1.0, 0.5, 0.25]);
    assert_eq!(mult, [2.0; 4]);
    let eps = plan.planned_epsilon.unwrap();
    assert_eq!(
        eps,
        epsilon_of_schedule(&constant, DELTA, Conversion::Improved).unwrap()
    );
    assert!(rel(eps.epsilon, 10.1361) <= 1e-3);
    let classic = epsilon_of_schedule(&plan.accountant_stages(), DELTA, Conversion::Classic)
        .unwrap()
        .epsilon;
    assert!(rel(classic, 11.0908) <= 1e-3);
    eprintln!(
        "check 7: decaying clip, std 2·C_s: classic {classic:.4}, improved {:.4} (= constant σ = 2)",
        eps.epsilon
    );
    // absolute std held at 2.0 while C decays: multipliers 2, 4, 8, 16
    let fixed = NodePlan::new(&rule, 0, 160, NoiseSpec::AbsoluteStd { std0: 2.0 }).unwrap();
    let mult: Vec<f64> = fixed.stages.iter().map(|s| s.noise_multiplier).collect();
    let std: Vec<f64> = fixed.stages.iter().map(|s| s.std).collect();
    assert_eq!(mult, [2.0, 4.0, 8.0, 16.0]);
    assert_eq!(std, [2.0; 4]);
    assert!(fixed.planned_epsilon.unwrap().epsilon < eps.epsilon);
}

/// A tiny classification set and an MLP objective over it (full batch).
fn toy() -> (Mlp, Arc<Dataset>, Vec<f64>) {
    let (model, data) = common::toy_data(12);
    let x = model.init_params(Init::Xavier, &mut RngStreams::new(3).stream("init"));
    (model, data, x)
}

fn objective(model: &Mlp, data: Arc<Dataset>) -> Objective {
    let b = data.len();
    Objective::new(model.clone(), data, Loss::SoftmaxCe, b, &RngStreams::new(0)).unwrap()
}

/// The per-sample gradients, each from an objective over that one sample.
fn explicit_per_sample(model: &Mlp, data: &Dataset, x: &[f64]) -> Vec<(f64, Vec<f64>)> {
    (0..data.len())
        .map(|i| {
            let mut o = objective(model, Arc::new(data.subset(&[i])));
            let mut g = vec![0.0; x.len()];
            let l = o.value_grad(x, &mut g);
            (l, g)
        })
        .collect()
}

#[test]
fn per_sample_clip_equals_explicit_per_sample_gradients() {
    let (model, data, x) = toy();
    let per = explicit_per_sample(&model, &data, &x);
    let norms: Vec<f64> = per
        .iter()
        .map(|(_, g)| g.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    let mut sorted = norms.clone();
    sorted.sort_by(f64::total_cmp);
    let c = sorted[6]; // the median: about half the samples are clipped
    let mut clip = PerSampleClip::new(objective(&model, data.clone()), c).unwrap();
    let expect = |subset: &[usize], b: f64| {
        let mut g = vec![0.0; x.len()];
        let mut loss = 0.0;
        for &i in subset {
            let f = (c / norms[i]).min(1.0);
            loss += f * per[i].0 / b;
            for (g, v) in g.iter_mut().zip(&per[i].1) {
                *g += f * v / b;
            }
        }
        (loss, g)
    };
    let check = |clip: &mut PerSampleClip<Objective>, subset: &[usize], b: f64| {
        let mut g = vec![0.0; x.len()];
        let loss = clip.value_grad(&x, &mut g);
        let (el, eg) = expect(subset, b);
        let scale = eg.iter().map(|v| v.abs()).fold(0.0, f64::max);
        let err = g
            .iter()
            .zip(&eg)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
            / scale;
        assert!(err <= 1e-12, "relative error {err}");
        assert!((loss - el).abs() <= 1e-12 * el.abs());
        err
    };
    let all: Vec<usize> = (0..12).collect();
    let e1 = check(&mut clip, &all, 12.0);
    for (a, b) in clip.last_norms().iter().zip(&norms) {
        assert!((a - b).abs() <= 1e-12 * b);
    }
    let stats = clip.last_stats();
    assert_eq!(stats.selected, 12);
    assert_eq!(stats.clipped, norms.iter().filter(|&&n| n > c).count());
    assert!(stats.clipped >= 5 && stats.clipped <= 6);
    // a Poisson-like subset divided by an expected batch size
    clip.select(&[1, 4, 7, 8, 11], 3.0).unwrap();
    let e2 = check(&mut clip, &[1, 4, 7, 8, 11], 3.0);
    eprintln!(
        "PerSampleClip vs explicit per-sample gradients: rel err {e1:.1e} (all), {e2:.1e} (subset)"
    );
    // a huge C clips nothing: the plain batch gradient
    clip.select_all();
    clip.set_clip(1e9).unwrap();
    let mut g = vec![0.0; x.len()];
    let mut plain = vec![0.0; x.len()];
    clip.value_grad(&x, &mut g);
    objective(&model, data.clone()).value_grad(&x, &mut plain);
    for (a, b) in g.iter().zip(&plain) {
        assert!((a - b).abs() <= 1e-14);
    }
    let e = clip.select(&[12], 1.0).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid value for 'clip subset position': got 12, expected a position in the current \
         batch 0..12"
    );
    assert_eq!(
        PerSampleClip::new(objective(&model, data), 0.0)
            .unwrap_err()
            .to_string(),
        "invalid value for 'clip': got 0, expected a finite clipping norm C > 0"
    );
}

/// The Gaussian mechanism: the noise is N(0, (σC)²) on the clipped SUM, then divided by the
/// expected batch size (so the mean gets std σC/(qm)); streams are keyed by (seed, node, k).
#[test]
fn gaussian_mechanism_noise_scale_and_streams() {
    let (model, data, x) = toy();
    let (q, sigma, c) = (0.5, 1.3, 0.2);
    let mut dp = PrivateGradient::new(objective(&model, data.clone()), q, 21, 3).unwrap();
    let mut ref_clip = PerSampleClip::new(objective(&model, data.clone()), c).unwrap();
    let b = q * 12.0;
    let (mut s2, mut count) = (0.0, 0usize);
    let mut out = vec![0.0; x.len()];
    let mut clean = vec![0.0; x.len()];
    for k in 0..300 {
        let r = dp
            .release_at(k, &x, ReleaseSpec::private(c, sigma), &mut out)
            .unwrap();
        assert_eq!(r.std, sigma * c);
        assert_eq!(r.divisor, b);
        ref_clip.select(dp.last_batch(), b).unwrap();
        ref_clip.value_grad(&x, &mut clean);
        for (o, g) in out.iter().zip(&clean) {
            let noise_on_sum = (o - g) * b;
            s2 += noise_on_sum * noise_on_sum;
            count += 1;
        }
    }
    let std = (s2 / count as f64).sqrt();
    eprintln!(
        "Gaussian mechanism: measured std of the noise on the sum {std:.4} vs σC = {:.4} ({count} draws)",
        sigma * c
    );
    // standard error of a std estimate: σ/√(2N) ≈ 0.8 %
    assert!(rel(std, sigma * c) < 0.04, "{std}");
    assert_eq!(dp.accountant().steps(), 300);
    // same (seed, node, k): identical; other node or seed: different
    let mut again = PrivateGradient::new(objective(&model, data.clone()), q, 21, 3).unwrap();
    let mut other = PrivateGradient::new(objective(&model, data.clone()), q, 21, 4).unwrap();
    let mut reseeded = PrivateGradient::new(objective(&model, data), q, 22, 3).unwrap();
    let spec = ReleaseSpec::private(c, sigma);
    let (mut a, mut b2, mut o, mut r) =
        (vec![0.0; 32], vec![0.0; 32], vec![0.0; 32], vec![0.0; 32]);
    dp.release_at(17, &x, spec, &mut a).unwrap();
    again.release_at(17, &x, spec, &mut b2).unwrap();
    other.release_at(17, &x, spec, &mut o).unwrap();
    reseeded.release_at(17, &x, spec, &mut r).unwrap();
    assert_eq!(a, b2);
    assert_ne!(a, o);
    assert_ne!(a, r);
    // a budget check before the step (Flower's "would this exceed")
    let budget = Budget::new(
        dp.epsilon(DELTA, Conversion::Improved).unwrap().epsilon,
        DELTA,
    )
    .unwrap();
    assert!(dp.would_exceed(spec, budget, Conversion::Improved).unwrap());
    assert!(
        !dp.would_exceed(ReleaseSpec::non_private(), budget, Conversion::Improved)
            .unwrap()
    );
}

#[test]
fn poisson_batches_have_mean_qm() {
    let s = PoissonSampler::new(1000, 0.05).unwrap();
    let draws = 2000;
    let (mut sum, mut sq) = (0.0, 0.0);
    let mut rng = node_rng(8, "dp-batch", 0, 0);
    let mut batch = Vec::new();
    for _ in 0..draws {
        s.sample_into(&mut rng, &mut batch);
        assert!(batch.windows(2).all(|w| w[0] < w[1]));
        let b = batch.len() as f64;
        sum += b;
        sq += b * b;
    }
    let mean = sum / draws as f64;
    let var = sq / draws as f64 - mean * mean;
    // mean q·m = 50, variance m·q(1−q) = 47.5; SE of the mean √(47.5/2000) = 0.154
    eprintln!(
        "Poisson sampler: mean batch {mean:.3} (expected 50, SE 0.154), variance {var:.2} (47.5)"
    );
    assert!((mean - 50.0).abs() < 0.62, "{mean}");
    assert!(rel(var, 47.5) < 0.15, "{var}");
    assert_eq!(s.expected_batch(), 50.0);
    let full = PoissonSampler::new(7, 1.0).unwrap();
    assert_eq!(full.sample(&mut rng), (0..7).collect::<Vec<_>>());
    assert_eq!(
        PoissonSampler::with_expected_batch(160, 200.0)
            .unwrap_err()
            .to_string(),
        "invalid value for 'expected_batch': got 200, expected an expected batch size in (0, 160] \
         (the local dataset size)"
    );
}

/// P9 §3 item 5: on i.i.d. zero-mean noise of variance V the fusion EMA's stationary variance
/// is V(1−β)/(1+β).
#[test]
fn fusion_ema_stationary_variance() {
    let d = 20_000;
    let v_noise: f64 = 4.0;
    let mut rng = node_rng(1, "noise", 0, 0);
    for beta in [0.8, 0.4] {
        let mut v = vec![0.0; d];
        let mut g = vec![0.0; d];
        for _ in 0..80 {
            g.iter_mut().for_each(|x| *x = 0.0);
            descent_dist::privacy::add_gaussian_noise(&mut g, v_noise.sqrt(), &mut rng);
            fuse(&mut v, &g, beta);
        }
        let var = v.iter().map(|x| x * x).sum::<f64>() / d as f64;
        let expected = v_noise * (1.0 - beta) / (1.0 + beta);
        // d independent coordinates: SE of the variance ≈ √(2/d) = 1 %
        eprintln!("fusion β = {beta}: variance {var:.4} vs V(1−β)/(1+β) = {expected:.4}");
        assert!(rel(var, expected) < 0.04, "{var} vs {expected}");
    }
}

#[test]
fn bad_inputs_are_named_errors() {
    let msg = |r: descent_core::Result<Stage>| r.unwrap_err().to_string();
    assert_eq!(
        msg(Stage::new(1.5, 1.0, 10)),
        "invalid value for 'q': got 1.5, expected a sampling rate in (0, 1]"
    );
    assert_eq!(
        msg(Stage::new(0.0, 1.0, 10)),
        "invalid value for 'q': got 0, expected a sampling rate in (0, 1]"
    );
    assert_eq!(
        msg(Stage::new(0.2, -0.5, 10)),
        "invalid value for 'noise_multiplier': got -0.5, expected a noise multiplier >= 0 (noise \
         std / clipping norm)"
    );
    assert_eq!(
        msg(Stage::new(0.2, 1.0, 0)),
        "invalid value for 'steps': got 0, expected at least 1 step"
    );
    let ok = stages(0.2, &[1.0], 10);
    for bad in [0.0, 1.0, -1e-5] {
        assert_eq!(
            epsilon_of_schedule(&ok, bad, Conversion::Improved)
                .unwrap_err()
                .to_string(),
            format!("invalid value for 'delta': got {bad}, expected a number in (0, 1)")
        );
    }
    let schedule = [
        Stage::new(0.2, 1.0, 10).unwrap(),
        Stage {
            q: 2.0,
            noise_multiplier: 1.0,
            steps: 5,
        },
    ];
    assert_eq!(
        epsilon_of_schedule(&schedule, DELTA, Conversion::Classic)
            .unwrap_err()
            .to_string(),
        "invalid value for 'stages[1].q': got 2, expected a sampling rate in (0, 1]"
    );
    // unreachable: below what orders up to 256 certify even with infinite noise
    let shape = decaying_shape(0.2, &[75; 4], 0.9).unwrap();
    let e = calibrate(0.01, DELTA, &shape, Conversion::Improved)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "invalid value for 'target_epsilon': got 0.01, expected a value above 0.019489"
        ),
        "{e}"
    );
    assert!(e.ends_with("this target is unreachable"), "{e}");
    assert_eq!(
        calibrate(-1.0, DELTA, &shape, Conversion::Improved)
            .unwrap_err()
            .to_string(),
        "invalid value for 'target_epsilon': got -1, expected a finite number > 0"
    );
    assert_eq!(
        decaying_shape(0.2, &[75, 0], 0.9).unwrap_err().to_string(),
        "invalid value for 'stages[1].steps': got 0, expected at least 1 step"
    );
    assert_eq!(
        Conversion::parse("fancy").unwrap_err().to_string(),
        "unknown RDP conversion 'fancy'; valid: classic, improved"
    );
    // the node rule
    let plan = |rule: NodeRule, noise| NodePlan::new(&rule, 0, 160, noise).unwrap_err().to_string();
    let budget = NoiseSpec::Budget { epsilon: 2.0 };
    assert_eq!(
        plan(
            NodeRule {
                fusion: vec![0.8, 0.6],
                ..NodeRule::adp_vrsgp()
            },
            budget
        ),
        "invalid value for 'fusion': got [0.8, 0.6], expected one weight β_s per stage (4 stages), \
         or [] for no fusion"
    );
    assert_eq!(
        plan(
            NodeRule {
                fusion: vec![0.8, 0.6, 1.0, 0.2],
                ..NodeRule::adp_vrsgp()
            },
            budget
        ),
        "invalid value for 'fusion[2]': got 1, expected a fusion weight β in [0, 1)"
    );
    assert_eq!(
        plan(
            NodeRule {
                sampling: Sampling::ExpectedBatch(200.0),
                ..NodeRule::adp_vrsgp()
            },
            budget
        ),
        "invalid value for 'sampling.expected_batch': got 200, expected an expected batch size in \
         (0, 160] (the node's 160 samples)"
    );
    assert_eq!(
        plan(
            NodeRule {
                lr_decay: 0.9,
                transform: "clip_norm(max=1)".into(),
                ..NodeRule::adp_vrsgp()
            },
            budget
        )
        .split(" (it has")
        .next()
        .unwrap(),
        "invalid value for 'lr_decay': got 0.9, expected 1 for transform 'clip_norm(max=1)', which \
         has no 'lr' hyperparameter"
    );
    assert_eq!(
        plan(NodeRule::adp_vrsgp(), NoiseSpec::Budget { epsilon: 0.001 })
            .split(": the smallest")
            .next()
            .unwrap(),
        "invalid value for 'target_epsilon': got 0.001, expected a value above 0.019489"
    );
    assert_eq!(
        PrivateGradient::new(objective(&toy().0, toy().1), 0.0, 0, 0)
            .unwrap_err()
            .to_string(),
        "invalid value for 'q': got 0, expected a sampling rate in (0, 1]"
    );
    let (model, data, x) = toy();
    let mut dp = PrivateGradient::new(objective(&model, data), 0.5, 0, 0).unwrap();
    let mut g = vec![0.0; x.len()];
    assert_eq!(
        dp.release(&x, ReleaseSpec::private(1.0, -2.0), &mut g)
            .unwrap_err()
            .to_string(),
        "invalid value for 'noise_multiplier': got -2, expected a noise multiplier >= 0 (noise \
         std / clipping norm)"
    );
    assert_eq!(
        dp.release(
            &x,
            ReleaseSpec {
                clip: None,
                noise_multiplier: 1.0
            },
            &mut g
        )
        .unwrap_err()
        .to_string(),
        "invalid value for 'noise_multiplier': got 1, expected 0 without clipping (the noise is \
         calibrated to the clipping norm)"
    );
}
