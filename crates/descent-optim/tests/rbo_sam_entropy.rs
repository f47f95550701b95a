//! RBO, SAM and Entropy-SGD against hand-computed reference numbers, their evaluation costs as
//! counted by the driver, and their spec errors.

use descent_core::testfns::Quadratic;
use descent_core::{Function, Gradient, Layout, Problem, RngStreams, Stochastic};
use descent_optim::rolling_ball::rbo_step_exact_1d;
use descent_optim::{no_observer, parse_optimizer, run};

/// f(x) = a·x + b + shift, where `resample` changes the shift (a stochastic affine problem).
struct Affine {
    a: Vec<f64>,
    b: f64,
    shift: f64,
    layout: Layout,
}

impl Function for Affine {
    fn dim(&self) -> usize {
        self.a.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.a.iter().zip(x).map(|(a, x)| a * x).sum::<f64>() + self.b + self.shift
    }
}
impl Gradient for Affine {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        g.copy_from_slice(&self.a);
        self.value(x)
    }
}
impl Stochastic for Affine {
    fn resample(&mut self) {
        self.shift += 1.0;
    }
}
impl Problem for Affine {
    fn name(&self) -> String {
        "affine".into()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(function, gradient, stochastic);
}

fn affine(a: &[f64]) -> Affine {
    Affine {
        a: a.to_vec(),
        b: 0.3,
        shift: 0.0,
        layout: Layout::flat(a.len()),
    }
}

fn one_step(spec: &str, p: &mut dyn Problem, x: &mut [f64]) -> descent_core::EvalCounts {
    let mut opt = parse_optimizer(spec).unwrap();
    opt.init(p.layout(), &RngStreams::new(1)).unwrap();
    let mut evals = None;
    run(opt.as_mut(), x, p, 1, |r| {
        evals = Some(r.info.evals);
        no_observer(r)
    })
    .unwrap();
    evals.unwrap()
}

#[test]
fn rbo_on_an_affine_loss_is_gd_for_every_radius_and_costs_one_plus_k() {
    let a = [0.7, -0.2, 1.1, 0.4, -0.9];
    let a2: f64 = a.iter().map(|v| v * v).sum();
    for rho in [1e-3, 0.1, 1.0, 10.0] {
        let mut p = affine(&a);
        let mut x = vec![0.5, -1.0, 2.0, 0.0, 1.5];
        let x0 = x.clone();
        let c = 0.5 / (1.0 + a2);
        // inner_c = 0.5 gives γ = 0.5/(1+‖a‖²) (spec R2).
        let spec = format!("rbo(lr=0.1, radius={rho}, inner_c=0.5, inner_steps=200)");
        let evals = one_step(&spec, &mut p, &mut x);
        assert!(c > 0.0);
        for i in 0..5 {
            assert!(
                (x[i] - (x0[i] - 0.1 * a[i])).abs() < 1e-10,
                "rho={rho}: {x:?}"
            );
        }
        assert_eq!((evals.gradients, evals.resamples), (201, 1));
    }
}

#[test]
fn rbo_on_a_parabola_matches_the_exact_projection() {
    // f = x² (a diagonal quadratic ½·2·x²), θ = 1, η = 0.1, ρ = 1e-4: the spec's prototype gives
    // 0.782 against GD's 0.800 (T1).
    let f = |x: f64| (x * x, 2.0 * x, 2.0);
    let exact = rbo_step_exact_1d(&f, 1.0, 0.1, 1e-4, 4001, 20);
    assert!((exact - 0.782).abs() < 5e-4, "{exact}");
    let mut q = Quadratic::diagonal(&[2.0], &[0.0]).unwrap();
    let mut x = [1.0];
    let evals = one_step(
        "rbo(lr=0.1, radius=0.0001, inner_c=0.5, inner_steps=400)",
        &mut q,
        &mut x,
    );
    assert!((x[0] - exact).abs() < 1e-10, "{} vs {exact}", x[0]);
    assert_eq!(evals.gradients, 401);
    // A tolerance stops the projection early.
    let mut x = [1.0];
    let evals = one_step(
        "rbo(lr=0.1, radius=0.0001, inner_c=0.5, inner_steps=400, tol=1e-9)",
        &mut q,
        &mut x,
    );
    assert!((x[0] - exact).abs() < 1e-8);
    assert!(evals.gradients < 100, "{evals:?}");
}

#[test]
fn sam_step_is_the_base_step_on_the_ascent_gradient() {
    let mut q = Quadratic::diagonal(&[1.0, 4.0], &[0.0, 0.0]).unwrap();
    let mut x = [1.0, 1.0];
    let evals = one_step("sam(rho=0.1, base=sgd(lr=0.1))", &mut q, &mut x);
    let s = 0.1 / 17f64.sqrt();
    let g = [1.0 + s, 4.0 * (1.0 + 4.0 * s)];
    assert!((x[0] - (1.0 - 0.1 * g[0])).abs() < 1e-14);
    assert!((x[1] - (1.0 - 0.1 * g[1])).abs() < 1e-14);
    assert_eq!(evals.gradients, 2);
    // SAM + Adam: the first Adam step moves each coordinate by lr against the gradient sign.
    let mut x = [1.0, 1.0];
    one_step("sam(rho=0.1, base=adam(lr=0.01))", &mut q, &mut x);
    assert!(
        (x[0] - 0.99).abs() < 1e-9 && (x[1] - 0.99).abs() < 1e-9,
        "{x:?}"
    );
}

#[test]
fn entropy_sgd_matches_a_hand_computed_step() {
    // f = x² at x = 1, L = 2, η′ = 0.1, γ = 0.03, α = 0.75, no noise:
    // x′: 1 → 0.8 → 0.6406, μ: 1 → 0.85 → 0.69295.
    let mut q = Quadratic::diagonal(&[2.0], &[0.0]).unwrap();
    let mut x = [1.0];
    let evals = one_step("entropy_sgd(inner_steps=2, noise=0)", &mut q, &mut x);
    assert!((x[0] - 0.69295).abs() < 1e-14, "{x:?}");
    assert_eq!(evals.gradients, 2);
    let mut x = [1.0];
    one_step(
        "entropy_sgd(inner_steps=2, noise=0, outer=scaled)",
        &mut q,
        &mut x,
    );
    assert!(
        (x[0] - (1.0 - 0.03 * (1.0 - 0.69295))).abs() < 1e-14,
        "{x:?}"
    );
    // A fresh minibatch per inner step.
    let mut p = affine(&[1.0]);
    let evals = one_step("entropy_sgd(inner_steps=7)", &mut p, &mut [0.0]);
    assert_eq!((evals.gradients, evals.resamples), (7, 7));
}

#[test]
fn bad_specs_name_the_field() {
    let err = |s: &str| parse_optimizer(s).err().unwrap().to_string();
    assert_eq!(
        err("rbo(inner_steps=0)"),
        "invalid value for 'rbo.inner_steps': got 0, expected an integer >= 1"
    );
    assert!(err("rbo(inner_lr=0.1, inner_c=0.5)").starts_with("invalid value for 'rbo.inner_c'"));
    assert_eq!(
        err("rbo(warm_start=middle)"),
        "invalid value for 'rbo.warm_start': got middle, expected one of contact, target"
    );
    assert_eq!(
        err("entropy_sgd(alpha=2)"),
        "invalid value for 'entropy_sgd.alpha': got 2, expected a number in (0, 1]"
    );
    assert!(err("sam(base=rbo)").starts_with("invalid value for 'sam.base': got rbo"));
    assert_eq!(
        err("sam(rho=-1)"),
        "invalid value for 'sam.rho': got -1, expected a finite number >= 0"
    );
    assert!(err("rbo(radius=1, foo=2)").starts_with("unknown key 'foo'"));
}
