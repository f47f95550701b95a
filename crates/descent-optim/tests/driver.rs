//! The driver loop: divergence, capability errors, update fields, evaluation counts, early stop.

use std::ops::ControlFlow;

use descent_core::testfns::Quadratic;
use descent_core::{Function, Gradient, Layout, Problem, RngStreams, Stochastic, UpdateField};
use descent_optim::conformance::stop_below;
use descent_optim::{Optimizer, Outcome, no_observer, parse_optimizer, run};

fn init(text: &str, layout: &Layout) -> Box<dyn Optimizer> {
    let mut o = parse_optimizer(text).unwrap();
    o.init(layout, &RngStreams::new(3)).unwrap();
    o
}

#[test]
fn large_lr_diverges_instead_of_panicking() {
    let mut q = Quadratic::diagonal(&[1.0, 10.0], &[1.0, -1.0]).unwrap();
    let mut opt = init("sgd(lr=10)", q.layout());
    let mut x = vec![0.0, 0.0];
    let out = run(opt.as_mut(), &mut x, &mut q, 10_000, no_observer).unwrap();
    match out {
        Outcome::Diverged {
            step,
            last_finite_loss,
        } => {
            // |1 − 10·10| = 99 per step: the loss ~ 99^(2k) overflows f64 at k ≈ 308/(2·log10 99) ≈ 77.
            assert!((70..=80).contains(&step), "diverged at {step}");
            let l = last_finite_loss.unwrap();
            assert!(l.is_finite() && l > 1e200, "last finite loss {l}");
        }
        other => panic!("expected divergence, got {other:?}"),
    }
    assert!(out.diverged());
}

#[test]
fn a_stable_lr_completes_with_the_final_loss() {
    let mut q = Quadratic::diagonal(&[1.0, 10.0], &[1.0, -1.0]).unwrap();
    let mut opt = init("sgd(lr=0.1)", q.layout());
    let mut x = vec![0.0, 0.0];
    let out = run(opt.as_mut(), &mut x, &mut q, 200, no_observer).unwrap();
    let Outcome::Completed {
        steps,
        final_loss: Some(l),
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(steps, 200);
    assert_eq!(l, q.value(&x));
    assert!(l < 1e-16);
}

/// A problem that offers only values.
struct ValuesOnly(Layout);

impl Function for ValuesOnly {
    fn dim(&self) -> usize {
        self.0.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        x.iter().map(|v| v * v).sum()
    }
}

impl Problem for ValuesOnly {
    fn name(&self) -> String {
        "values-only".into()
    }
    fn layout(&self) -> &Layout {
        &self.0
    }
    descent_core::problem_views!(function);
}

#[test]
fn capability_mismatch_names_both_sides() {
    let mut p = ValuesOnly(Layout::flat(2));
    let mut opt = init("sgd(lr=0.1)", p.layout());
    let err = run(opt.as_mut(), &mut [1.0, 1.0], &mut p, 5, no_observer).unwrap_err();
    assert_eq!(
        err.to_string(),
        "'sgd(lr=0.1)' needs one of Gradient or UpdateField; values-only offers Function"
    );
    // Stepping directly gives the same error.
    let err = opt.step(&mut [1.0, 1.0], &mut p).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("'sgd(lr=0.1)' needs one of Gradient or UpdateField")
    );
}

#[test]
fn shape_errors() {
    let mut q = Quadratic::diagonal(&[1.0, 2.0], &[0.0, 0.0]).unwrap();
    let mut opt = init("adam", q.layout());
    assert_eq!(
        run(opt.as_mut(), &mut [1.0, 2.0, 3.0], &mut q, 1, no_observer)
            .unwrap_err()
            .to_string(),
        "shape mismatch in starting point: expected 2, got 3"
    );
    let mut fresh = parse_optimizer("adam").unwrap();
    assert_eq!(
        fresh.step(&mut [1.0, 2.0], &mut q).unwrap_err().to_string(),
        "shape mismatch in parameters of 'adam' (was init called with this layout?): expected 0, got 2"
    );
}

/// Oja-like field with fixed point c: d(x) = x − c (minus a Hebbian increment), no loss.
struct Field {
    layout: Layout,
    c: Vec<f64>,
}

impl UpdateField for Field {
    fn dim(&self) -> usize {
        self.c.len()
    }
    fn field(&mut self, x: &[f64], d: &mut [f64]) {
        for ((di, xi), ci) in d.iter_mut().zip(x).zip(&self.c) {
            *di = xi - ci;
        }
    }
}

impl Problem for Field {
    fn name(&self) -> String {
        "field".into()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(update_field);
}

#[test]
fn update_fields_are_used_like_gradients() {
    let mut p = Field {
        layout: Layout::flat(2),
        c: vec![2.0, -3.0],
    };
    let mut opt = init("sgd(lr=0.5)", p.layout());
    let mut x = vec![0.0, 0.0];
    let mut fields = 0;
    let out = run(opt.as_mut(), &mut x, &mut p, 60, |r| {
        assert_eq!(r.info.loss, None);
        fields += r.info.evals.fields;
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(
        out,
        Outcome::Completed {
            steps: 60,
            final_loss: None
        }
    );
    assert_eq!(fields, 60);
    assert!(
        (x[0] - 2.0).abs() < 1e-15 && (x[1] + 3.0).abs() < 1e-15,
        "{x:?}"
    );
}

/// f(x) = ½‖x − bₖ‖² where the batch index k changes on resample.
struct Batches {
    layout: Layout,
    batch: u64,
}

impl Function for Batches {
    fn dim(&self) -> usize {
        1
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        0.5 * (x[0] - (self.batch % 2) as f64).powi(2)
    }
}

impl Gradient for Batches {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        g[0] = x[0] - (self.batch % 2) as f64;
        self.value(x)
    }
}

impl Stochastic for Batches {
    fn resample(&mut self) {
        self.batch += 1;
    }
}

impl Problem for Batches {
    fn name(&self) -> String {
        "batches".into()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(function, gradient, stochastic);
}

#[test]
fn the_driver_counts_evaluations_per_step_and_the_optimizer_resamples_once() {
    let mut p = Batches {
        layout: Layout::flat(1),
        batch: 0,
    };
    let mut opt = init("sgd(lr=1)", p.layout());
    let mut x = vec![0.5];
    let mut xs = vec![];
    run(opt.as_mut(), &mut x, &mut p, 4, |r| {
        assert_eq!(r.info.evals.gradients, 1);
        assert_eq!(r.info.evals.resamples, 1);
        assert_eq!(r.info.evals.values, 0);
        xs.push(r.x[0]);
        ControlFlow::Continue(())
    })
    .unwrap();
    // lr = 1 jumps to the current batch's target: 1, 0, 1, 0.
    assert_eq!(xs, vec![1.0, 0.0, 1.0, 0.0]);
    assert_eq!(p.batch, 4);
}

#[test]
fn the_observer_can_stop_early() {
    let mut q = Quadratic::diagonal(&[1.0, 2.0], &[1.0, 1.0]).unwrap();
    let mut opt = init("sgd(lr=0.4, momentum=0.5)", q.layout());
    let mut x = vec![0.0, 0.0];
    let out = run(opt.as_mut(), &mut x, &mut q, 10_000, stop_below(1e-10)).unwrap();
    let Outcome::Completed { steps, .. } = out else {
        panic!()
    };
    assert!(steps > 5 && steps < 200, "stopped after {steps}");
}

#[test]
fn resuming_from_a_state_matches_an_uninterrupted_run() {
    let mut q = Quadratic::rotated(&[0.5, 1.0, 4.0], &[1.0, 2.0, 3.0], 5).unwrap();
    let spec = "adamw(lr=0.05, clip_norm=2, schedule=warmup_cosine(warmup=5, total=40))";
    let mut a = init(spec, q.layout());
    let mut xa = vec![0.0; 3];
    run(a.as_mut(), &mut xa, &mut q, 40, no_observer).unwrap();

    let mut b = init(spec, q.layout());
    let mut xb = vec![0.0; 3];
    run(b.as_mut(), &mut xb, &mut q, 17, no_observer).unwrap();
    let saved = serde_json::to_string_pretty(&b.state()).unwrap();
    let mut c = init(spec, q.layout());
    c.load_state(&serde_json::from_str(&saved).unwrap())
        .unwrap();
    run(c.as_mut(), &mut xb, &mut q, 23, no_observer).unwrap();
    assert_eq!(xa, xb);
    assert!(saved.contains("\"step\": 17"), "{saved}");
}

#[test]
fn run_with_says_why_it_stopped_and_can_skip_the_final_evaluation() {
    use descent_core::EvalCounter;
    use descent_optim::{RunOptions, StopReason, run_with};

    // the budget ran out: the final loss is f at the final x, one value the driver does not
    // count but the problem sees
    let mut q = EvalCounter::new(Quadratic::diagonal(&[1.0, 10.0], &[1.0, -1.0]).unwrap());
    let mut opt = init("sgd(lr=0.1)", q.layout());
    let mut x = vec![0.0, 0.0];
    let end = run_with(
        opt.as_mut(),
        &mut x,
        &mut q,
        RunOptions::steps(50),
        no_observer,
    )
    .unwrap();
    assert_eq!(end.reason, StopReason::Budget);
    let Outcome::Completed {
        steps: 50,
        final_loss: Some(l),
    } = end.outcome
    else {
        panic!("{end:?}")
    };
    assert_eq!(l, q.inner_mut().value(&x));
    assert_eq!((q.counts().values, q.counts().gradients), (1, 50));

    // without the final evaluation the final loss is the one the last step saw, at its start
    let mut q = EvalCounter::new(Quadratic::diagonal(&[1.0, 10.0], &[1.0, -1.0]).unwrap());
    let mut opt = init("sgd(lr=0.1)", q.layout());
    let mut x = vec![0.0, 0.0];
    let mut last = None;
    let end = run_with(
        opt.as_mut(),
        &mut x,
        &mut q,
        RunOptions::steps(50).without_final_evaluation(),
        |r| {
            last = r.info.loss;
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    let Outcome::Completed { final_loss, .. } = end.outcome else {
        panic!("{end:?}")
    };
    assert_eq!(final_loss, last);
    assert!(final_loss.unwrap() > q.inner_mut().value(&x));
    assert_eq!((q.counts().values, q.counts().gradients), (0, 50));

    // the observer stopped it, even at the very last step
    let mut q = Quadratic::diagonal(&[1.0, 10.0], &[1.0, -1.0]).unwrap();
    let mut opt = init("sgd(lr=0.1)", q.layout());
    let end = run_with(
        opt.as_mut(),
        &mut [0.0, 0.0],
        &mut q,
        RunOptions::steps(5),
        |r| {
            if r.step == 5 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .unwrap();
    assert_eq!(end.reason, StopReason::Observer);
    assert!(matches!(end.outcome, Outcome::Completed { steps: 5, .. }));

    // it diverged
    let mut opt = init("sgd(lr=10)", q.layout());
    let end = run_with(
        opt.as_mut(),
        &mut [0.0, 0.0],
        &mut q,
        RunOptions::steps(1000),
        no_observer,
    )
    .unwrap();
    assert_eq!(end.reason, StopReason::Diverged);
    assert!(end.outcome.diverged());
}
