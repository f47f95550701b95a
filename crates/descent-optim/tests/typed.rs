//! The typed path and safe types (issue 22, points 2 and 5): misuse is an error or a documented
//! panic, never a silent wrong step; typed construction equals the spec path bit for bit; custom
//! transforms and optimizers need only their few required methods.

use std::ops::ControlFlow;

use descent_core::testfns::Rosenbrock;
use descent_core::{
    Caps, EvalCounter, Function, Gradient, HessianVector, Layout, Problem, Requires, Result,
    RngStreams, Stochastic,
};
use descent_optim::{
    Adam, AdamConfig, ClipByGlobalNorm, Label, Optimizer, OptimizerExt, Partition, Sam, SamConfig,
    Schedule, Sgd, SgdConfig, StepInfo, Transform, TransformExt, parse_optimizer, run,
};

fn adam() -> Adam {
    Adam::new(AdamConfig {
        lr: 0.01,
        ..Default::default()
    })
    .unwrap()
}

#[test]
#[should_panic(
    expected = "adam: update with a gradient of length 3 and parameters of length 3, \
                           but the transform was built for 0 parameters"
)]
fn adam_update_before_build_panics_instead_of_returning_the_raw_gradient() {
    let mut g = [1.0, 2.0, 3.0];
    adam().update(1, &mut g, &[0.0; 3]);
}

#[test]
#[should_panic(expected = "built for 3 parameters")]
fn adam_update_with_a_short_gradient_panics() {
    let mut t = adam();
    t.build(&Layout::flat(3), &RngStreams::new(0)).unwrap();
    let mut g = [1.0, 2.0];
    t.update(1, &mut g, &[0.0; 2]);
}

#[test]
#[should_panic(expected = "built for 2 parameters")]
fn fused_adam_apply_with_a_long_gradient_panics() {
    let mut t = adam();
    t.build(&Layout::flat(2), &RngStreams::new(0)).unwrap();
    let mut x = [0.0; 3];
    t.apply(1, &mut [1.0; 3], &mut x);
}

#[test]
#[should_panic(expected = "sgd: update with a gradient of length 2")]
fn sgd_update_before_build_panics() {
    let mut t = Sgd::new(SgdConfig::default()).unwrap();
    t.update(1, &mut [1.0, 1.0], &[0.0, 0.0]);
}

#[test]
#[should_panic(expected = "partition (never built)")]
fn partition_update_before_build_panics_instead_of_skipping() {
    let mut t = Partition::named(vec![(Label::Default, adam().boxed())]).unwrap();
    t.update(1, &mut [1.0, 1.0], &[0.0, 0.0]);
}

#[test]
#[should_panic(expected = "partition: update with a gradient of length 4")]
fn partition_update_with_a_wrong_length_panics() {
    let mut t = Partition::named(vec![(Label::Default, adam().boxed())]).unwrap();
    t.build(&Layout::flat(3), &RngStreams::new(0)).unwrap();
    t.update(1, &mut [1.0; 4], &[0.0; 4]);
}

/// f(x) = Σ xᵢ⁴, answering only values (a black box for zeroth-order methods).
struct ValuesOnly(Layout);
impl Function for ValuesOnly {
    fn dim(&self) -> usize {
        self.0.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        x.iter().map(|v| v.powi(4)).sum()
    }
}
impl Problem for ValuesOnly {
    fn name(&self) -> String {
        "quartic (values only)".into()
    }
    fn layout(&self) -> &Layout {
        &self.0
    }
    descent_core::problem_views!(function);
}

#[test]
fn sam_over_a_problem_without_gradients_is_an_error_naming_both_sides() {
    let e = Sam::new(ValuesOnly(Layout::flat(2)), SamConfig::default())
        .err()
        .expect("no gradient, no SAM")
        .to_string();
    assert_eq!(
        e,
        "'sam' needs Gradient; quartic (values only) offers Function"
    );
}

#[test]
fn eval_counter_offers_only_the_inner_views_and_panics_naming_a_missing_one() {
    let mut c = EvalCounter::new(ValuesOnly(Layout::flat(2)));
    assert!(c.as_gradient().is_none() && c.as_hvp().is_none());
    assert_eq!(c.value(&[1.0, 2.0]), 17.0);
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        c.hvp(&[1.0, 2.0], &[1.0, 0.0], &mut [0.0; 2]);
    }))
    .expect_err("a direct hvp on a values-only problem");
    let msg = err.downcast_ref::<String>().expect("a formatted message");
    assert!(
        msg.starts_with("EvalCounter: the wrapped problem does not offer HessianVector"),
        "{msg}"
    );
}

/// One type that is a `Function`, a `Stochastic` problem and a `Problem`: `dim` and `resample`
/// have one meaning each, with no qualified calls.
struct Noisy {
    layout: Layout,
    draws: u64,
}
impl Function for Noisy {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        x.iter().sum::<f64>() + self.draws as f64
    }
}
impl Stochastic for Noisy {
    fn resample(&mut self) {
        self.draws += 1;
    }
}
impl Problem for Noisy {
    fn name(&self) -> String {
        "noisy".into()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(function, stochastic);
}

#[test]
fn dim_and_resample_do_not_clash_between_the_traits() {
    let mut p = Noisy {
        layout: Layout::flat(3),
        draws: 0,
    };
    p.resample();
    assert_eq!((p.dim(), p.draws), (3, 1));
    let d: &mut dyn Problem = &mut p;
    d.resample();
    assert_eq!(d.dim(), 3);
    assert_eq!(p.draws, 2);
}

/// The spec path and the typed path build the same optimizer and take the same steps.
#[test]
fn typed_construction_equals_the_spec_bit_for_bit() -> Result<()> {
    let mut typed = Adam::new(AdamConfig {
        lr: 0.01,
        ..Default::default()
    })?
    .with_schedule(Schedule::Cosine {
        total: 100,
        min: 0.1,
    })?
    .with_clip_norm(1.0)?
    .with_clip_value(0.5)?
    .into_optimizer();
    let mut text = parse_optimizer(
        "adam(lr=0.01, clip_norm=1, clip_value=0.5, schedule=cosine(total=100, min=0.1))",
    )?;
    assert_eq!(typed.state(), text.state());
    let mut xs = Vec::new();
    for opt in [&mut typed as &mut dyn Optimizer, text.as_mut()] {
        let mut p = Rosenbrock::new(4)?;
        let mut x = p.start();
        opt.init(p.layout(), &RngStreams::new(7))?;
        run(opt, &mut x, &mut p, 100, |_| ControlFlow::Continue(()))?;
        xs.push(x);
    }
    assert_eq!(xs[0], xs[1]);
    assert_ne!(xs[0], Rosenbrock::new(4)?.start());
    Ok(())
}

/// Generic code over `O: Optimizer` accepts the `Box<dyn Optimizer>` the registry returns.
fn loss_after<O: Optimizer>(opt: &mut O, steps: u64) -> Result<f64> {
    let mut p = Rosenbrock::new(2)?;
    let mut x = p.start();
    opt.init(p.layout(), &RngStreams::new(0))?;
    let out = run(opt, &mut x, &mut p, steps, |_| ControlFlow::Continue(()))?;
    Ok(out.final_loss().expect("completed"))
}

#[test]
fn a_boxed_optimizer_is_an_optimizer() -> Result<()> {
    let mut boxed = parse_optimizer("adam(lr=0.01)")?;
    let mut typed = adam().into_optimizer();
    let (a, b) = (loss_after(&mut boxed, 200)?, loss_after(&mut typed, 200)?);
    assert_eq!(a, b);
    assert!(a < 24.2 * 0.5, "{a}"); // f(start) = 24.2
    let mut twice = typed.boxed();
    assert_eq!(loss_after(&mut twice, 200)?, a);
    Ok(())
}

/// A transform written with the two required methods: u = −lr·sign(g).
struct SignSgd(f64);
impl Transform for SignSgd {
    fn name(&self) -> String {
        format!("sign_sgd(lr={})", self.0)
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], _params: &[f64]) {
        grad.iter_mut().for_each(|g| *g = -self.0 * g.signum());
    }
}

#[test]
fn a_custom_transform_needs_two_methods_and_composes() -> Result<()> {
    let mut t = SignSgd(0.5).with_clip_norm(1.0)?;
    assert_eq!(t.name(), "chain(clip_norm(max=1), sign_sgd(lr=0.5))");
    t.build(&Layout::flat(2), &RngStreams::new(0))?;
    let mut g = [3.0, -4.0];
    t.update(1, &mut g, &[0.0; 2]);
    assert_eq!(g, [-0.5, 0.5]);
    // the default state round-trips; hyperparameters it does not have are named errors
    let s = t.state();
    t.load_state(&s)?;
    let e = SignSgd(0.5).set_hyper("lr", 0.1).unwrap_err().to_string();
    assert!(e.contains("'lr'") && e.contains("sign_sgd(lr=0.5)"), "{e}");
    let mut wrong = s.children[1].clone();
    wrong.kind = "adam".into();
    assert!(SignSgd(0.5).load_state(&wrong).is_err());
    // through the optimizer adapter it minimises a quadratic bowl to within one step size
    let mut q = descent_core::testfns::Quadratic::diagonal(&[1.0, 2.0], &[0.0, 0.0])?;
    let mut x = vec![3.3, -2.2];
    let mut opt = SignSgd(0.1).into_optimizer();
    opt.init(q.layout(), &RngStreams::new(0))?;
    run(&mut opt, &mut x, &mut q, 100, |_| ControlFlow::Continue(()))?;
    assert!(x.iter().all(|v| v.abs() <= 0.1 + 1e-12), "{x:?}");
    Ok(())
}

/// An optimizer written with its three required methods: gradient descent with a fixed step.
struct Gd(f64);
impl Optimizer for Gd {
    fn requires(&self) -> Requires {
        Requires::all(Caps::GRADIENT)
    }
    fn name(&self) -> String {
        format!("gd({})", self.0)
    }
    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        let grad = problem
            .as_gradient()
            .expect("the driver checked requires()");
        let mut g = vec![0.0; x.len()];
        let loss = grad.value_grad(x, &mut g);
        x.iter_mut().zip(&g).for_each(|(xi, gi)| *xi -= self.0 * gi);
        Ok(StepInfo {
            loss: Some(loss),
            ..StepInfo::default()
        })
    }
}

#[test]
fn a_custom_optimizer_needs_three_methods_and_is_checked_like_the_others() -> Result<()> {
    // gradient descent on f = ½(x₁² + 2x₂²) with step 0.25 contracts by 0.75 and 0.5 per step
    let mut q = descent_core::testfns::Quadratic::diagonal(&[1.0, 2.0], &[0.0, 0.0])?;
    let mut x = vec![1.0, 1.0];
    run(&mut Gd(0.25), &mut x, &mut q, 10, |_| {
        ControlFlow::Continue(())
    })?;
    assert!((x[0] - 0.75f64.powi(10)).abs() < 1e-15 && (x[1] - 0.5f64.powi(10)).abs() < 1e-15);
    let e = run(
        &mut Gd(0.1),
        &mut [0.0, 0.0],
        &mut ValuesOnly(Layout::flat(2)),
        1,
        |_| ControlFlow::Continue(()),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "'gd(0.1)' needs Gradient; quartic (values only) offers Function"
    );
    assert!(Gd(0.1).set_hyper("lr", 1.0).is_err());
    Ok(())
}

#[test]
fn clipping_wrappers_validate_their_bound() {
    let e = adam().with_clip_norm(-1.0).err().unwrap().to_string();
    assert_eq!(
        e,
        "invalid value for 'clip_norm.max': got -1, expected a finite number > 0"
    );
    assert!(ClipByGlobalNorm::new(0.0).is_err());
    let e = SignSgd(0.1)
        .with_schedule(Schedule::InvSqrt)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("a transform with an 'lr' hyperparameter"), "{e}");
}

#[test]
fn hvp_of_the_counter_is_counted() {
    let mut c = EvalCounter::new(Rosenbrock::new(2).unwrap());
    let mut out = [0.0; 2];
    c.hvp(&[1.0, 1.0], &[1.0, 0.0], &mut out);
    // ∇²f(1, 1) = [[802, −400], [−400, 200]]
    assert_eq!(out, [802.0, -400.0]);
    assert_eq!(c.counts().hvps, 1);
    let _ = c.value_grad(&[1.0, 1.0], &mut out);
    assert_eq!(c.counts().gradients, 1);
}
