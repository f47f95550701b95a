//! P4's minimax and bilevel methods: trajectories against the independent Python reference of
//! the spec's equations (`reference/hierarchical.py`), the spec's A6 unit checks, the Neumann
//! estimator's exactness and bias (B1), oracle-call counts and named errors.

use std::ops::ControlFlow;

use descent_core::testfns::{CosineBilevel, CosineMinimax, GaussianGradientNoise};
use descent_core::{BilevelProblem, Caps, Layout, MinimaxProblem, Problem, RngStreams, Stochastic};
use descent_optim::hierarchical::{Neumann, NeumannScratch, Truncation, neumann_terms};
use descent_optim::{Outcome, StepRecord, parse_optimizer, run};
use serde_json::Value;

const JSON: &str = include_str!("reference/hierarchical.json");

/// The reference's scripted noise: entry j of oracle o at sample k is 0.3 sin(1.3k + 0.7j + 2.1o)
/// (o = 0: ∇ₓf, 1: ∇ᵧf, 2: ∇ᵧg); second-order products exact.
struct Scripted<P> {
    inner: P,
    k: u64,
}

fn noise(k: u64, o: usize, g: &mut [f64]) {
    for (j, gj) in g.iter_mut().enumerate() {
        *gj += 0.3 * (1.3 * k as f64 + 0.7 * j as f64 + 2.1 * o as f64).sin();
    }
}

impl<P: Problem> Stochastic for Scripted<P> {
    fn resample(&mut self) {
        self.k += 1;
    }
}

impl<P: Problem> MinimaxProblem for Scripted<P> {
    fn dims(&self) -> (usize, usize) {
        let n = self.inner.layout().len() / 2;
        (n, n)
    }
    fn value_xy(&mut self, x: &[f64], y: &[f64]) -> f64 {
        self.inner.as_minimax().unwrap().value_xy(x, y)
    }
    fn grads_xy(&mut self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        let f = self.inner.as_minimax().unwrap().grads_xy(x, y, gx, gy);
        noise(self.k, 0, gx);
        noise(self.k, 1, gy);
        f
    }
}

impl<P: Problem> BilevelProblem for Scripted<P> {
    fn dims(&self) -> (usize, usize) {
        let n = self.inner.layout().len() / 2;
        (n, n)
    }
    fn upper_value(&mut self, x: &[f64], y: &[f64]) -> f64 {
        self.inner.as_bilevel().unwrap().upper_value(x, y)
    }
    fn upper_grads(&mut self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        let f = self.inner.as_bilevel().unwrap().upper_grads(x, y, gx, gy);
        noise(self.k, 0, gx);
        noise(self.k, 1, gy);
        f
    }
    fn lower_grad_y(&mut self, x: &[f64], y: &[f64], gy: &mut [f64]) -> f64 {
        let g = self.inner.as_bilevel().unwrap().lower_grad_y(x, y, gy);
        noise(self.k, 2, gy);
        g
    }
    fn lower_hvp_yy(&mut self, x: &[f64], y: &[f64], v: &[f64], out: &mut [f64]) {
        self.inner.as_bilevel().unwrap().lower_hvp_yy(x, y, v, out)
    }
    fn lower_jvp_xy(&mut self, x: &[f64], y: &[f64], v: &[f64], out: &mut [f64]) {
        self.inner.as_bilevel().unwrap().lower_jvp_xy(x, y, v, out)
    }
}

impl<P: Problem> Problem for Scripted<P> {
    fn name(&self) -> String {
        format!("scripted {}", self.inner.name())
    }
    fn layout(&self) -> &Layout {
        self.inner.layout()
    }
    fn caps(&self) -> Caps {
        (self.inner.caps() & (Caps::MINIMAX | Caps::BILEVEL)) | Caps::STOCHASTIC
    }
    fn as_stochastic(&mut self) -> Option<&mut dyn Stochastic> {
        Some(self)
    }
    fn as_minimax(&mut self) -> Option<&mut dyn MinimaxProblem> {
        self.caps().contains(Caps::MINIMAX).then_some(self as _)
    }
    fn as_bilevel(&mut self) -> Option<&mut dyn BilevelProblem> {
        self.caps().contains(Caps::BILEVEL).then_some(self as _)
    }
}

fn trajectory(spec: &str, problem: &mut dyn Problem, start: &[f64], steps: u64) -> Vec<Vec<f64>> {
    let mut opt = parse_optimizer(spec).unwrap();
    opt.init(problem.layout(), &RngStreams::new(0)).unwrap();
    let mut x = start.to_vec();
    let mut out = Vec::new();
    let end = run(
        opt.as_mut(),
        &mut x,
        problem,
        steps,
        |r: &StepRecord<'_>| {
            out.push(r.x.to_vec());
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert!(matches!(end, Outcome::Completed { .. }), "{spec}: {end:?}");
    out
}

#[test]
fn trajectories_match_the_python_reference_of_the_published_equations() {
    let root: Value = serde_json::from_str(JSON).unwrap();
    let steps = root["steps"].as_u64().unwrap();
    for (spec, expected) in root["runs"].as_object().unwrap() {
        let bilevel = spec.starts_with("stocbio") || spec.starts_with("ada_bio");
        let got = if bilevel {
            let inner = CosineBilevel::new(&[0.5, 1.25, 2.0], 2.0).unwrap();
            let mut p = Scripted { inner, k: 0 };
            trajectory(spec, &mut p, &[0.5, 0.6, -0.4, 0.0, 0.1, 0.0], steps)
        } else {
            let inner = CosineMinimax::new(2, 1.0).unwrap();
            let mut p = Scripted { inner, k: 0 };
            trajectory(spec, &mut p, &[1.0, -0.5, 0.0, 0.2], steps)
        };
        let expected = expected.as_array().unwrap();
        assert_eq!(got.len(), expected.len(), "{spec}");
        for (t, (g, e)) in got.iter().zip(expected).enumerate() {
            for (a, b) in g.iter().zip(e.as_array().unwrap()) {
                let b = b.as_f64().unwrap();
                assert!(
                    (a - b).abs() <= 1e-11 * b.abs().max(1.0),
                    "{spec} step {}: {a} vs {b}",
                    t + 1
                );
            }
        }
    }
}

/// Runs `spec` on R1 with noise σ for `steps` steps from (x, y) = (2, 0); returns each step's
/// extras `alpha_t` and `noise_sum` and the final z.
fn r1_run(spec: &str, sigma: f64, steps: u64, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut p =
        GaussianGradientNoise::new(CosineMinimax::paper(), sigma, &RngStreams::new(seed)).unwrap();
    let mut opt = parse_optimizer(spec).unwrap();
    opt.init(p.layout(), &RngStreams::new(seed)).unwrap();
    let mut z = vec![2.0, 0.0];
    let (mut alpha, mut sums, mut bounded) = (Vec::new(), Vec::new(), true);
    run(opt.as_mut(), &mut z, &mut p, steps, |r: &StepRecord<'_>| {
        alpha.push(r.info.extras.get("alpha_t").unwrap());
        sums.push(r.info.extras.get("noise_sum").unwrap());
        bounded &= r.x.iter().all(|v| v.is_finite() && v.abs() < 100.0);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert!(bounded, "{spec} at sigma {sigma}: |z| >= 100 or NaN");
    (alpha, sums, z)
}

/// A6: without noise α_t is exactly 1 at every step; with σ = 1 the online estimate S_t
/// tracks E‖g − g̃‖² t = 2σ²t within 5 % at t = 10⁴; iterates stay finite and below 100.
#[test]
fn a6_alpha_is_one_without_noise_and_the_noise_sum_tracks_two_sigma_squared_t() {
    let spec = "ada_minimax(alpha=2, eta_x=1, eta_y=1, gamma=1)";
    let (alpha, sums, _) = r1_run(spec, 0.0, 5_000, 0);
    assert!(alpha.iter().all(|a| *a == 1.0), "alpha_t != 1 at sigma 0");
    assert!(sums.iter().all(|s| *s == 0.0));
    for seed in 0..3 {
        let (alpha, sums, _) = r1_run(spec, 1.0, 10_000, seed);
        let ratio = sums[9_999] / (2.0 * 10_000.0);
        assert!(
            (ratio - 1.0).abs() < 0.05,
            "seed {seed}: S_t/(2t) = {ratio}"
        );
        // α_t = α/√(α² + S_t) decreases like 1/√t
        assert!(
            alpha[9_999] < 0.02 && alpha[9_999] > 0.0,
            "{}",
            alpha[9_999]
        );
    }
    for sigma in [10.0, 100.0] {
        r1_run(spec, sigma, 5_000, 1);
    }
}

/// P1: the two-sample variant draws two upper samples per step (two minimax gradients), the
/// practical one a single one; Ada-BiO's step costs two Neumann chains and one lower gradient.
#[test]
fn oracle_calls_per_step_are_counted() {
    let counts = |spec: &str, p: &mut dyn Problem, z: Vec<f64>| {
        let mut opt = parse_optimizer(spec).unwrap();
        opt.init(p.layout(), &RngStreams::new(0)).unwrap();
        let mut z = z;
        let mut per_step = Vec::new();
        run(opt.as_mut(), &mut z, p, 3, |r: &StepRecord<'_>| {
            per_step.push((r.info.evals.pair_grads, r.info.evals.hvps));
            ControlFlow::Continue(())
        })
        .unwrap();
        per_step
    };
    let mut m = CosineMinimax::paper();
    assert_eq!(
        counts("ada_minimax", &mut m, vec![2.0, 0.0]),
        vec![(2, 0); 3]
    );
    assert_eq!(
        counts("ada_minimax(variant=practical)", &mut m, vec![2.0, 0.0]),
        vec![(1, 0); 3]
    );
    assert_eq!(counts("tiada", &mut m, vec![2.0, 0.0]), vec![(1, 0); 3]);
    let mut b = CosineBilevel::paper(4).unwrap();
    let z = vec![0.5; 8];
    // 2 upper + 1 lower gradients; 2 × (N − 1) Hessian and 2 mixed products
    assert_eq!(
        counts("ada_bio(l=2, terms=5)", &mut b, z.clone()),
        vec![(3, 10); 3]
    );
    assert_eq!(
        counts("stocbio(l=2, terms=5, inner_steps=3)", &mut b, z),
        vec![(4, 5); 3]
    );
}

/// B1: without noise the deterministic Neumann estimate equals
/// ∇ₓf − ∇²ₓᵧg (1/l) Σ_{q<N} (I − A/l)^q ∇ᵧf, its bias against the exact-inverse hypergradient
/// is ∇²ₓᵧg A⁻¹ (I − A/l)^N ∇ᵧf, and with the paper's N that bias is ≤ ‖∇ᵧf‖ (l/µ) T^{−3/2}.
#[test]
fn b1_neumann_estimate_and_bias_are_exact_on_the_quadratic_lower_level() {
    let mut p = CosineBilevel::paper(10).unwrap();
    let (mu, l) = (p.mu(), p.l());
    let horizon = 16_000;
    let n = neumann_terms(horizon, mu, l);
    assert_eq!(n, 51, "the spec's N for T = 16k");
    assert_eq!(neumann_terms(32_000, mu, l), 55);
    assert!((1.0 - mu / l).powi(n as i32) <= (horizon as f64).powf(-1.5));
    let x: Vec<f64> = (0..10).map(|j| 0.5 + 0.01 * j as f64).collect();
    let y: Vec<f64> = (0..10).map(|j| (j as f64 * 0.7).sin()).collect();
    let z: Vec<f64> = x.iter().chain(&y).copied().collect();
    let est = Neumann {
        l,
        terms: n,
        truncation: Truncation::Deterministic,
    };
    let mut out = vec![0.0; 10];
    let info = est
        .estimate(
            "test",
            &mut p,
            &z,
            10,
            0,
            &mut NeumannScratch::default(),
            &mut out,
        )
        .unwrap();
    assert_eq!(info.products, n - 1);
    assert!(info.max_rayleigh <= l);
    let a = p.a.clone();
    for j in 0..10 {
        // ∇ₓf = −2 sin x, ∇ᵧf = y, ∇²ₓᵧg = −A: the closed form of the truncated series
        let series: f64 = (0..n).map(|q| (1.0 - a[j] / l).powi(q as i32)).sum::<f64>() / l;
        let closed = -2.0 * x[j].sin() + a[j] * series * y[j];
        assert!((out[j] - closed).abs() < 1e-10, "{} vs {closed}", out[j]);
        let exact = -2.0 * x[j].sin() + y[j];
        // estimate − exact = ∇²ₓᵧg A⁻¹ (I − A/l)^N ∇ᵧf with ∇²ₓᵧg = −A
        let bias = -a[j] / a[j] * (1.0 - a[j] / l).powi(n as i32) * y[j];
        assert!(
            (out[j] - exact - bias).abs() < 1e-12,
            "bias {}",
            out[j] - exact
        );
        assert!(bias.abs() <= y[j].abs() * (l / mu) * (horizon as f64).powf(-1.5));
    }
}

#[test]
fn a_scale_below_an_observed_eigenvalue_is_a_named_error() {
    let mut p = CosineBilevel::paper(4).unwrap();
    let mut opt = parse_optimizer("ada_bio(l=1, terms=5)").unwrap();
    opt.init(p.layout(), &RngStreams::new(0)).unwrap();
    let mut z = vec![0.5, 0.6, 0.7, 0.8, 0.0, 0.0, 0.0, 1.0];
    let e = opt.step(&mut z, &mut p).unwrap_err().to_string();
    assert!(
        e.starts_with("invalid value for 'ada_bio.l': got 1, expected l >= the largest eigenvalue"),
        "{e}"
    );
    assert!(e.contains("Rayleigh quotient 2.000000"), "{e}");
}

#[test]
fn methods_need_their_view_and_their_keys() {
    let mut r = descent_core::testfns::Rosenbrock::new(2).unwrap();
    let mut opt = parse_optimizer("ada_minimax").unwrap();
    opt.init(r.layout(), &RngStreams::new(0)).unwrap();
    let e = run(
        opt.as_mut(),
        &mut [0.0, 0.0],
        &mut r,
        1,
        |_: &StepRecord<'_>| ControlFlow::Continue(()),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "'ada_minimax' needs MinimaxProblem; rosenbrock(dim=2) offers Function, Gradient, \
         HessianVector"
    );
    let err = |s: &str| parse_optimizer(s).err().unwrap().to_string();
    assert_eq!(
        err("ada_bio(l=0)"),
        "invalid value for 'ada_bio.l': got 0, expected a finite number > 0"
    );
    assert!(err("ada_minimax(variant=fast)").contains("one of two_sample, practical"));
    assert!(err("sgda(theta=0)").contains("sgda.theta"));
    assert!(err("tiada(eta_x=-1)").contains("tiada.eta_x"));
    // the minimax methods reject a bilevel problem and vice versa
    let mut b = CosineBilevel::paper(2).unwrap();
    let mut sg = parse_optimizer("sgda").unwrap();
    sg.init(b.layout(), &RngStreams::new(0)).unwrap();
    assert!(sg.step(&mut [0.0; 4], &mut b).is_err());
    // pdsm is sgda with θ = 0.1 by default
    let pdsm = parse_optimizer("pdsm").unwrap();
    assert_eq!(pdsm.hyper("theta"), Some(0.1));
    let listing = descent_optim::registry::listing(descent_optim::OPTIMIZERS);
    for name in ["sgda", "pdsm", "tiada", "ada_minimax", "stocbio", "ada_bio"] {
        assert!(
            listing.contains(&format!("  {name}  ")),
            "{name} not listed"
        );
    }
    assert!(listing.contains("alpha_prime=with_lower_grad"));
}
