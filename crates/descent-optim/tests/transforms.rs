//! Transforms, combinators, hyperparameters, clipping, schedules and state.

use std::sync::{Arc, Mutex};

use descent_core::{Layout, Result, RngStreams, Spec};
use descent_optim::first_order::{
    Adam, AdamConfig, ClipByGlobalNorm, ClipByValue, DecoupledWeightDecay, Sgd, SgdConfig,
};
use descent_optim::optimizer::EXTRAS_CAPACITY;
use descent_optim::schedule::Scheduled;
use descent_optim::{Chain, Extras, Partition, Schedule, Transform, TransformState};

fn sgd(lr: f64) -> Box<dyn Transform> {
    Box::new(
        Sgd::new(SgdConfig {
            lr,
            ..SgdConfig::default()
        })
        .unwrap(),
    )
}

fn adam() -> Box<dyn Transform> {
    Box::new(
        Adam::new(AdamConfig {
            lr: 0.1,
            ..AdamConfig::default()
        })
        .unwrap(),
    )
}

fn built(mut t: Box<dyn Transform>, layout: &Layout) -> Box<dyn Transform> {
    t.build(layout, &RngStreams::new(1)).unwrap();
    t
}

fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-14 * x.abs().max(1.0), "{a:?} vs {b:?}");
    }
}

#[test]
fn chain_pipes_members_in_order() {
    let layout = Layout::flat(2);
    let mut t = built(
        Box::new(Chain::new(vec![
            Box::new(ClipByGlobalNorm::new(1.0).unwrap()),
            sgd(0.5),
        ])),
        &layout,
    );
    let mut g = [3.0, 4.0];
    t.update(1, &mut g, &[0.0, 0.0]);
    close(&g, &[-0.3, -0.4]);
    // Reversed order: sgd first gives −1.5, −2 (norm 2.5), then clipped to norm 1.
    let mut t = built(
        Box::new(Chain::new(vec![
            sgd(0.5),
            Box::new(ClipByGlobalNorm::new(1.0).unwrap()),
        ])),
        &layout,
    );
    let mut g = [3.0, 4.0];
    t.update(1, &mut g, &[0.0, 0.0]);
    close(&g, &[-0.6, -0.8]);
}

#[test]
fn chain_set_hyper_forwards_to_every_member_that_knows_the_name() {
    let mut t = Chain::new(vec![
        sgd(0.1),
        Box::new(DecoupledWeightDecay::new(0.1, 0.5).unwrap()),
    ]);
    t.set_hyper("lr", 0.2).unwrap();
    assert_eq!(t.members()[0].hyper("lr"), Some(0.2));
    assert_eq!(t.members()[1].hyper("lr"), Some(0.2));
    t.set_hyper("momentum", 0.5).unwrap();
    assert_eq!(t.members()[0].hyper("momentum"), Some(0.5));
    assert_eq!(t.members()[1].hyper("momentum"), None);
    let err = t.set_hyper("beta1", 0.5).unwrap_err().to_string();
    assert_eq!(
        err,
        "unknown key 'beta1' for hyperparameters of 'chain(sgd(lr=0.2, momentum=0.5, dampening=0, \
         nesterov=false, weight_decay=0), decoupled_weight_decay(lr=0.2, weight_decay=0.5))'; \
         valid keys: lr, momentum, dampening, weight_decay"
    );
    // SGDW: x ← x − lr·g − lr·λ·x.
    t.set_hyper("momentum", 0.0).unwrap();
    t.build(&Layout::flat(1), &RngStreams::new(0)).unwrap();
    let mut g = [1.0];
    t.update(1, &mut g, &[2.0]);
    close(&g, &[-0.2 - 0.2 * 0.5 * 2.0]);
}

#[test]
fn set_hyper_validates_and_names_the_field() {
    let mut s = Sgd::new(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        nesterov: true,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        s.set_hyper("lr", -1.0).unwrap_err().to_string(),
        "invalid value for 'sgd.lr': got -1, expected a finite number >= 0"
    );
    assert!(
        s.set_hyper("momentum", 0.0)
            .unwrap_err()
            .to_string()
            .contains("sgd.nesterov")
    );
    assert_eq!(
        s.hyper("momentum"),
        Some(0.9),
        "a rejected value leaves the old one"
    );
    let mut a = Adam::new(AdamConfig::default()).unwrap();
    assert_eq!(
        a.set_hyper("beta2", 1.0).unwrap_err().to_string(),
        "invalid value for 'adam.beta2': got 1, expected a number in [0, 1)"
    );
    assert!(a.set_hyper("momentum", 0.5).unwrap_err().to_string().contains(
        "unknown key 'momentum' for hyperparameters of 'adam'; valid keys: lr, beta1, beta2, eps, weight_decay"
    ));
    a.set_hyper("lr", 0.5).unwrap();
    assert_eq!(a.config().lr, 0.5);
}

type Seen<T> = Arc<Mutex<Vec<T>>>;

/// A transform that records the layout it was built on and the slices it sees.
struct Probe {
    seen_layout: Seen<String>,
    seen_params: Seen<f64>,
    scale: f64,
}

impl Transform for Probe {
    fn name(&self) -> String {
        "probe".into()
    }
    fn build(&mut self, layout: &Layout, _: &RngStreams) -> Result<()> {
        *self.seen_layout.lock().unwrap() = layout
            .blocks()
            .iter()
            .map(|b| format!("{}{:?}@{}", b.name, b.shape, b.offset))
            .collect();
        Ok(())
    }
    fn update(&mut self, _: u64, grad: &mut [f64], params: &[f64]) {
        *self.seen_params.lock().unwrap() = params.to_vec();
        grad.iter_mut().for_each(|g| *g *= self.scale);
    }
    fn hyper_names(&self) -> Vec<&'static str> {
        vec![]
    }
    fn hyper(&self, _: &str) -> Option<f64> {
        None
    }
    fn set_hyper(&mut self, name: &str, _: f64) -> Result<()> {
        Err(descent_optim::transform::unknown_hyper("probe", name, &[]))
    }
    fn state(&self) -> TransformState {
        TransformState::new("probe")
    }
    fn load_state(&mut self, s: &TransformState) -> Result<()> {
        s.expect_kind("probe")
    }
}

fn probe(scale: f64) -> (Box<dyn Transform>, Seen<String>, Seen<f64>) {
    let l = Arc::new(Mutex::new(vec![]));
    let p = Arc::new(Mutex::new(vec![]));
    let t = Probe {
        seen_layout: l.clone(),
        seen_params: p.clone(),
        scale,
    };
    (Box::new(t), l, p)
}

fn three_blocks() -> Layout {
    let mut l = Layout::new();
    l.push("layer0.weight", &[2, 2]);
    l.push("layer0.bias", &[2]);
    l.push("layer1.weight", &[1, 2]);
    l
}

#[test]
fn partition_hands_each_member_its_sub_layout_and_slices() {
    let layout = three_blocks();
    let (pm, lm, xm) = probe(10.0);
    let (pb, lb, xb) = probe(-1.0);
    let mut t = Partition::by_predicate(|b| b.shape.len() == 2, pm, pb);
    t.build(&layout, &RngStreams::new(0)).unwrap();
    assert_eq!(
        *lm.lock().unwrap(),
        vec!["layer0.weight[2, 2]@0", "layer1.weight[1, 2]@4"]
    );
    assert_eq!(*lb.lock().unwrap(), vec!["layer0.bias[2]@0"]);
    let x: Vec<f64> = (0..8).map(|i| i as f64).collect();
    let mut g: Vec<f64> = (0..8).map(|i| 1.0 + i as f64).collect();
    t.update(1, &mut g, &x);
    assert_eq!(*xm.lock().unwrap(), vec![0.0, 1.0, 2.0, 3.0, 6.0, 7.0]);
    assert_eq!(*xb.lock().unwrap(), vec![4.0, 5.0]);
    assert_eq!(g, vec![10.0, 20.0, 30.0, 40.0, -5.0, -6.0, 70.0, 80.0]);
}

#[test]
fn partition_of_elementwise_transforms_equals_the_whole() {
    // Adam is elementwise, so Adam on two interleaved groups equals one Adam on everything.
    let layout = three_blocks();
    let mut parts = built(
        Box::new(Partition::by_labels(vec![adam(), adam()], vec![0, 1, 0])),
        &layout,
    );
    let mut whole = built(adam(), &layout);
    let mut x: Vec<f64> = (0..8).map(|i| 0.3 * i as f64 - 1.0).collect();
    let mut y = x.clone();
    for step in 1..=5 {
        let mut g1: Vec<f64> = x.iter().map(|v| 2.0 * v + 0.1 * step as f64).collect();
        let mut g2: Vec<f64> = y.iter().map(|v| 2.0 * v + 0.1 * step as f64).collect();
        parts.update(step, &mut g1, &x);
        whole.update(step, &mut g2, &y);
        x.iter_mut().zip(&g1).for_each(|(a, b)| *a += b);
        y.iter_mut().zip(&g2).for_each(|(a, b)| *a += b);
    }
    assert_eq!(x, y);
    // State round-trip of the partition.
    let s = parts.state();
    assert_eq!(s.kind, "partition");
    assert_eq!(s.children[0].state["m"].as_array().unwrap().len(), 6);
    assert_eq!(s.children[1].state["m"].as_array().unwrap().len(), 2);
    let mut fresh = built(
        Box::new(Partition::by_labels(vec![adam(), adam()], vec![0, 1, 0])),
        &layout,
    );
    fresh.load_state(&s).unwrap();
    assert_eq!(fresh.state(), s);
}

#[test]
fn partition_clips_each_group_by_its_own_norm() {
    let layout = three_blocks();
    let clip = || -> Box<dyn Transform> { Box::new(ClipByGlobalNorm::new(1.0).unwrap()) };
    let mut t = built(
        Box::new(Partition::by_labels(vec![clip(), clip()], vec![0, 1, 0])),
        &layout,
    );
    let mut g = vec![3.0, 0.0, 0.0, 0.0, 0.3, 0.4, 4.0, 0.0];
    t.update(1, &mut g, &[0.0; 8]);
    close(&g, &[0.6, 0.0, 0.0, 0.0, 0.3, 0.4, 0.8, 0.0]);
}

#[test]
fn partition_rejects_bad_labels() {
    let layout = three_blocks();
    let mut t = Partition::new(
        vec![sgd(0.1)],
        |b| if b.name.ends_with("bias") { 1 } else { 0 },
    );
    let err = t
        .build(&layout, &RngStreams::new(0))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "invalid value for 'partition label of block 'layer0.bias'': got 1, expected < 1 (the number of transforms)"
    );
    let mut t = Partition::by_labels(vec![sgd(0.1)], vec![0, 0]);
    let err = t
        .build(&layout, &RngStreams::new(0))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "shape mismatch in partition labels (one per layout block): expected 3, got 2"
    );
}

#[test]
fn clipping() {
    let mut v = ClipByValue::new(0.5).unwrap();
    let mut g = [-2.0, 0.25, 0.7, -0.5];
    v.update(1, &mut g, &[0.0; 4]);
    assert_eq!(g, [-0.5, 0.25, 0.5, -0.5]);
    let mut n = ClipByGlobalNorm::new(5.0).unwrap();
    let mut g = [3.0, 4.0];
    n.update(1, &mut g, &[0.0; 2]);
    assert_eq!(g, [3.0, 4.0], "at the threshold nothing changes");
    let mut g = [6.0, 8.0];
    n.update(1, &mut g, &[0.0; 2]);
    close(&g, &[3.0, 4.0]);
    assert!(ClipByGlobalNorm::new(0.0).is_err());
    assert_eq!(
        ClipByValue::new(-1.0).unwrap_err().to_string(),
        "invalid value for 'clip_value.max': got -1, expected a finite number > 0"
    );
}

fn sched(text: &str) -> Schedule {
    Schedule::from_spec(&Spec::parse(text).unwrap()).unwrap()
}

fn factors(s: &Schedule, n: u64) -> Vec<f64> {
    (1..=n).map(|t| s.factor(t)).collect()
}

#[test]
fn schedule_formulas() {
    use std::f64::consts::PI;
    assert_eq!(factors(&sched("constant"), 3), vec![1.0; 3]);
    assert_eq!(
        factors(&sched("step(step_size=2, gamma=0.5)"), 5),
        vec![1.0, 1.0, 0.5, 0.5, 0.25]
    );
    assert_eq!(
        factors(&sched("exponential(gamma=0.5)"), 3),
        vec![1.0, 0.5, 0.25]
    );
    close(
        &factors(&sched("cosine(total=4)"), 6),
        &[
            1.0,
            (1.0 + (PI / 4.0).cos()) / 2.0,
            0.5,
            (1.0 + (3.0 * PI / 4.0).cos()) / 2.0,
            0.0,
            0.0,
        ],
    );
    close(
        &factors(&sched("cosine(total=2, min=0.2)"), 4),
        &[1.0, 0.6, 0.2, 0.2],
    );
    close(
        &factors(&sched("warmup_cosine(warmup=2, total=6, min=0)"), 7),
        &[
            0.5,
            1.0,
            (1.0 + (PI / 4.0).cos()) / 2.0,
            0.5,
            (1.0 + (3.0 * PI / 4.0).cos()) / 2.0,
            0.0,
            0.0,
        ],
    );
    close(
        &factors(&sched("linear(total=4, end=0)"), 6),
        &[1.0, 0.75, 0.5, 0.25, 0.0, 0.0],
    );
    close(
        &factors(&sched("inv_sqrt"), 4),
        &[1.0, 1.0 / 2f64.sqrt(), 1.0 / 3f64.sqrt(), 0.5],
    );
    // Display reads back.
    for text in [
        "step(step_size=2, gamma=0.5)",
        "warmup_cosine(warmup=2, total=6, min=0.1)",
        "inv_sqrt",
    ] {
        assert_eq!(sched(text).to_string(), text);
    }
}

#[test]
fn schedule_spec_errors() {
    let err = |t: &str| {
        Schedule::from_spec(&Spec::parse(t).unwrap())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("cosine(min=0.1)"),
        "invalid value for 'cosine.total': got nothing, expected an integer >= 1 (required)"
    );
    assert_eq!(
        err("cosin(total=3)"),
        "unknown schedule 'cosin'; valid: constant, step, exponential, cosine, warmup_cosine, linear, inv_sqrt"
    );
    assert_eq!(
        err("warmup_cosine(warmup=10, total=10)"),
        "invalid value for 'warmup_cosine.total': got 10, expected an integer > warmup = 10"
    );
    assert_eq!(
        err("exponential(gamma=1.5)"),
        "invalid value for 'exponential.gamma': got 1.5, expected a number in [0, 1]"
    );
    assert_eq!(
        err("inv_sqrt(t=1)"),
        "unknown key 't' for 'inv_sqrt'; valid keys: "
    );
}

#[test]
fn scheduled_lr_follows_the_schedule_and_outside_changes() {
    let mut t = Scheduled::new(sgd(1.0), sched("exponential(gamma=0.5)")).unwrap();
    t.build(&Layout::flat(1), &RngStreams::new(0)).unwrap();
    let mut g = [1.0];
    t.update(1, &mut g, &[0.0]);
    assert_eq!(g, [-1.0]);
    let mut g = [1.0];
    t.update(2, &mut g, &[0.0]);
    assert_eq!(g, [-0.5]);
    t.set_hyper("lr", 4.0).unwrap();
    assert_eq!(t.hyper("lr"), Some(4.0));
    let mut g = [1.0];
    t.update(3, &mut g, &[0.0]);
    assert_eq!(g, [-1.0], "new base 4 times 0.25");
    assert_eq!(t.lr_at(4), 0.5);
    // A schedule needs an lr to drive.
    let err = Scheduled::new(Box::new(ClipByValue::new(1.0).unwrap()), Schedule::InvSqrt);
    assert!(err.is_err());
}

#[test]
fn sgd_and_adam_state_round_trip_and_reject_mismatches() {
    let layout = Layout::flat(3);
    let mut a = built(
        Box::new(
            Sgd::new(SgdConfig {
                lr: 0.1,
                momentum: 0.9,
                ..Default::default()
            })
            .unwrap(),
        ),
        &layout,
    );
    let mut g = [1.0, -2.0, 0.5];
    a.update(1, &mut g, &[0.0; 3]);
    a.set_hyper("lr", 0.05).unwrap();
    let json = serde_json::to_string(&a.state()).unwrap();
    let s: TransformState = serde_json::from_str(&json).unwrap();
    let mut b = built(
        Box::new(
            Sgd::new(SgdConfig {
                lr: 0.1,
                momentum: 0.9,
                ..Default::default()
            })
            .unwrap(),
        ),
        &layout,
    );
    b.load_state(&s).unwrap();
    assert_eq!(
        b.hyper("lr"),
        Some(0.05),
        "hyperparameters are part of the state"
    );
    let (mut g1, mut g2) = ([0.3, 0.2, 0.1], [0.3, 0.2, 0.1]);
    a.update(2, &mut g1, &[0.0; 3]);
    b.update(2, &mut g2, &[0.0; 3]);
    assert_eq!(g1, g2);

    let mut wrong = built(
        Box::new(
            Sgd::new(SgdConfig {
                lr: 0.1,
                momentum: 0.9,
                ..Default::default()
            })
            .unwrap(),
        ),
        &Layout::flat(4),
    );
    assert_eq!(
        wrong.load_state(&s).unwrap_err().to_string(),
        "shape mismatch in sgd state vector 'momentum_buffer': expected 4, got 3"
    );
    let mut ad = built(adam(), &layout);
    assert_eq!(
        ad.load_state(&s).unwrap_err().to_string(),
        "invalid value for 'transform state': got a state of kind 'sgd', expected a state of kind 'adam'"
    );
    let mut adw = built(Box::new(Adam::new(AdamConfig::adamw()).unwrap()), &layout);
    assert!(
        adw.load_state(&ad.state()).is_err(),
        "adam and adamw states are different kinds"
    );
}

#[test]
fn adam_first_step_is_lr_times_sign() {
    // With m̂ = g and v̂ = g² at t = 1, the update is −lr·g/(|g| + ε).
    let mut t = built(adam(), &Layout::flat(3));
    let mut g = [2.0, -0.5, 1e-3];
    t.update(1, &mut g, &[0.0; 3]);
    close(
        &g,
        &[
            -0.1 * 2.0 / (2.0 + 1e-8),
            0.1 * 0.5 / (0.5 + 1e-8),
            -0.1 * 1e-3 / (1e-3 + 1e-8),
        ],
    );
}

#[test]
fn extras_hold_a_fixed_number_of_figures() {
    let mut e = Extras::new();
    assert!(e.is_empty());
    assert!(e.push("step_size", 0.5));
    assert!(e.push("step_size", 0.25), "same name replaces");
    assert_eq!(e.len(), 1);
    assert_eq!(e.get("step_size"), Some(0.25));
    const NAMES: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];
    for n in &NAMES[..EXTRAS_CAPACITY - 1] {
        assert!(e.push(n, 1.0));
    }
    assert_eq!(e.len(), EXTRAS_CAPACITY);
    assert!(!e.push("overflow", 1.0));
    assert_eq!(e.get("overflow"), None);
    assert_eq!(e.iter().next(), Some(("step_size", 0.25)));
}

/// `apply` (fused for plain Adam, forwarded by chains and schedules) moves the parameters
/// exactly as `update` followed by `params += update`, bit for bit, over several steps.
#[test]
fn fused_apply_equals_update_then_add_bit_for_bit() {
    let layout = Layout::flat(37);
    let specs = [
        "adam(lr=0.01)",
        "adamw(lr=0.01, weight_decay=0.1)",
        "adam(lr=0.01, weight_decay=0.01)",
        "adam(lr=0.01, v=fmt(e=8, m=7, round=nearest))",
        "adam(lr=0.01, clip_norm=0.5)",
        "adam(lr=0.01, schedule=cosine(total=10, min=0))",
        "sgd(lr=0.1, momentum=0.9)",
    ];
    for text in specs {
        let spec = Spec::parse(text).unwrap();
        let mut fused = descent_optim::build_transform(&spec).unwrap();
        let mut split = descent_optim::build_transform(&spec).unwrap();
        fused.build(&layout, &RngStreams::new(3)).unwrap();
        split.build(&layout, &RngStreams::new(3)).unwrap();
        let mut x_fused: Vec<f64> = (0..37).map(|i| (i as f64 * 0.31).sin()).collect();
        let mut x_split = x_fused.clone();
        for step in 1..=6u64 {
            let grad: Vec<f64> = x_fused
                .iter()
                .enumerate()
                .map(|(i, x)| x * (1.0 + i as f64 * 0.1) + 0.01 * step as f64)
                .collect();
            let mut g = grad.clone();
            fused.apply(step, &mut g, &mut x_fused);
            let mut u = grad;
            split.update(step, &mut u, &x_split);
            for (x, u) in x_split.iter_mut().zip(&u) {
                *x += u;
            }
            for (a, b) in x_fused.iter().zip(&x_split) {
                assert_eq!(a.to_bits(), b.to_bits(), "{text} at step {step}");
            }
        }
    }
}

fn four_blocks() -> Layout {
    let mut l = Layout::new();
    l.push("layer0.weight", &[2, 2]);
    l.push("layer0.bias", &[2]);
    l.push("layer1.weight", &[1, 2]);
    l.push("layer1.bias", &[1]);
    l
}

#[test]
fn named_groups_take_blocks_by_first_matching_glob_then_shape_then_default() {
    use descent_optim::Label;
    let layout = four_blocks();
    let (p1, l1, _) = probe(1.0);
    let (pb, lb, _) = probe(2.0);
    let (pd, ld, _) = probe(3.0);
    let mut t = Partition::named(vec![
        (Label::Glob("layer1.*".into()), p1),
        (Label::Glob("*.bias".into()), pb),
        (Label::Default, pd),
    ])
    .unwrap();
    t.build(&layout, &RngStreams::new(0)).unwrap();
    // layer1.bias matches both globs: the first one wins
    assert_eq!(
        *l1.lock().unwrap(),
        vec!["layer1.weight[1, 2]@0", "layer1.bias[1]@2"]
    );
    assert_eq!(*lb.lock().unwrap(), vec!["layer0.bias[2]@0"]);
    assert_eq!(*ld.lock().unwrap(), vec!["layer0.weight[2, 2]@0"]);
    let mut g = vec![1.0; 9];
    t.update(1, &mut g, &[0.0; 9]);
    assert_eq!(g, [3.0, 3.0, 3.0, 3.0, 2.0, 2.0, 1.0, 1.0, 1.0]);

    // by shape class: matrices and the rest
    let (pm, lm, _) = probe(1.0);
    let (pv, lv, _) = probe(1.0);
    let mut t = Partition::named(vec![(Label::Matrix, pm), (Label::Vector, pv)]).unwrap();
    t.build(&layout, &RngStreams::new(0)).unwrap();
    assert_eq!(
        *lm.lock().unwrap(),
        vec!["layer0.weight[2, 2]@0", "layer1.weight[1, 2]@4"]
    );
    assert_eq!(
        *lv.lock().unwrap(),
        vec!["layer0.bias[2]@0", "layer1.bias[1]@2"]
    );
}

#[test]
fn a_glob_matching_nothing_and_an_uncovered_block_are_errors_naming_them() {
    use descent_optim::Label;
    let layout = four_blocks();
    let build = |groups: Vec<(Label, Box<dyn Transform>)>| {
        let mut t = Partition::named(groups).unwrap();
        t.build(&layout, &RngStreams::new(0))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        build(vec![
            (Label::Glob("*.bais".into()), sgd(0.1)),
            (Label::Default, sgd(0.1))
        ]),
        "invalid value for 'partition group match': got \"*.bais\", expected a glob matching a \
         block of the layout (layer0.weight, layer0.bias, layer1.weight, layer1.bias); `*` \
         matches any run, `?` one character"
    );
    assert_eq!(
        build(vec![
            (Label::Glob("*.bias".into()), sgd(0.1)),
            (Label::Glob("layer0.*".into()), sgd(0.1))
        ]),
        "invalid value for 'partition': got block 'layer1.weight' (shape [1, 2]) in no group \
         (match=\"*.bias\", match=\"layer0.*\"), expected a group for every block: a \
         match=\"glob\" that covers it, matrix= or vector= for its shape, or default="
    );
    assert!(
        Partition::named(vec![(Label::Matrix, sgd(0.1)), (Label::Matrix, sgd(0.1))]).is_err(),
        "matrix twice"
    );
}

fn transform(text: &str) -> Box<dyn Transform> {
    descent_optim::build_transform(&Spec::parse(text).unwrap()).unwrap()
}

/// Runs `text` for `steps` steps of a fixed gradient field on 7 parameters and returns every
/// iterate's bits.
fn trajectory(text: &str, steps: u64) -> Vec<Vec<u64>> {
    let layout = Layout::flat(7);
    let mut t = transform(text);
    t.build(&layout, &RngStreams::new(5)).unwrap();
    let mut x: Vec<f64> = (0..7).map(|i| (i as f64 * 0.7).cos()).collect();
    let mut out = Vec::new();
    for step in 1..=steps {
        let mut g: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, v)| (1.0 + i as f64) * v - 0.3 + 0.01 * step as f64)
            .collect();
        t.apply(step, &mut g, &mut x);
        out.push(x.iter().map(|v| v.to_bits()).collect());
    }
    out
}

#[test]
fn optax_blocks_chain_into_the_fused_optimizers_bit_for_bit() {
    for (chain, fused) in [
        (
            "chain(of=[scale_by_adam, scale_by_lr(lr=0.001)])",
            "adam(lr=0.001)",
        ),
        (
            "chain(of=[scale_by_adam(beta1=0.8, beta2=0.99, eps=1e-6), scale_by_lr(lr=0.05)])",
            "adam(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6)",
        ),
        (
            "chain(of=[add_decayed_weights(weight_decay=0.1), scale_by_adam, \
             scale_by_lr(lr=0.01)])",
            "adam(lr=0.01, weight_decay=0.1)",
        ),
        (
            "chain(of=[trace(decay=0.9), scale_by_lr(lr=0.01)])",
            "sgd(lr=0.01, momentum=0.9)",
        ),
        (
            "chain(of=[trace(decay=0.9, nesterov=true), scale_by_lr(lr=0.01)])",
            "sgd(lr=0.01, momentum=0.9, nesterov=true)",
        ),
        (
            "chain(of=[add_decayed_weights(weight_decay=0.01), scale_by_lr(lr=0.1)])",
            "sgd(lr=0.1, weight_decay=0.01)",
        ),
    ] {
        assert_eq!(trajectory(chain, 40), trajectory(fused, 40), "{chain}");
    }
    // optax's adamw = chain(scale_by_adam, add_decayed_weights, scale_by_lr) equals the fused
    // AdamW up to rounding (the decay is added before the scaling, not after)
    let a = trajectory(
        "chain(of=[scale_by_adam, add_decayed_weights(weight_decay=0.1), scale_by_lr(lr=0.01)])",
        40,
    );
    let b = trajectory("adamw(lr=0.01, weight_decay=0.1)", 40);
    let mut differ = 0;
    for (ra, rb) in a.iter().zip(&b) {
        for (xa, xb) in ra.iter().zip(rb) {
            let (xa, xb) = (f64::from_bits(*xa), f64::from_bits(*xb));
            assert!((xa - xb).abs() <= 1e-14 * xb.abs().max(1.0), "{xa} vs {xb}");
            differ += usize::from(xa != xb);
        }
    }
    assert!(
        differ > 0,
        "the unfused arithmetic rounds differently somewhere"
    );
    // scale_by_adam alone is Adam's direction without the step size: at t = 1, g/(|g| + ε)
    let mut t = transform("scale_by_adam");
    t.build(&Layout::flat(2), &RngStreams::new(0)).unwrap();
    let mut g = [2.0, -0.5];
    t.update(1, &mut g, &[0.0; 2]);
    close(&g, &[2.0 / (2.0 + 1e-8), -0.5 / (0.5 + 1e-8)]);
}

#[test]
fn a_schedule_drives_the_lr_of_a_chain_of_blocks() {
    // the chain's lr is scale_by_lr's; set_hyper reaches it through the chain
    let mut t = transform("chain(of=[trace(decay=0.5), scale_by_lr(lr=0.1)])");
    assert_eq!(t.hyper("lr"), Some(0.1));
    assert_eq!(t.hyper_names(), vec!["decay", "lr"]);
    t.set_hyper("lr", 0.2).unwrap();
    t.build(&Layout::flat(1), &RngStreams::new(0)).unwrap();
    let mut g = [1.0];
    t.update(1, &mut g, &[0.0]);
    assert_eq!(g, [-0.2]);
    let mut g = [1.0];
    t.update(2, &mut g, &[0.0]);
    assert_eq!(g, [-0.2 * 1.5]);
}

#[test]
fn states_are_typed_plain_data() {
    let layout = Layout::flat(2);
    let mut t = transform("sgd(lr=0.1, momentum=0.9, nesterov=true, clip_norm=1)");
    t.build(&layout, &RngStreams::new(0)).unwrap();
    let mut g = [0.5, -0.25];
    t.update(1, &mut g, &[0.0; 2]);
    let s = t.state();
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(
        json,
        "{\"kind\":\"chain\",\"children\":[{\"kind\":\"clip_norm\",\"config\":{\"clip_norm\":1.0}},\
         {\"kind\":\"sgd\",\"config\":{\"dampening\":0.0,\"lr\":0.1,\"momentum\":0.9,\
         \"nesterov\":true,\"weight_decay\":0.0},\"state\":{\"has_buf\":true,\
         \"momentum_buffer\":[0.5,-0.25]}}]}"
    );
    let back: TransformState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    // the typed state reads back as its struct
    let sgd: descent_optim::first_order::SgdState =
        descent_optim::config::from_value(&s.children[1].state).unwrap();
    assert!(sgd.has_buf);
    // the resolved configuration without the buffers, for reports
    assert_eq!(
        s.resolved().to_string(),
        "{\"children\":[{\"config\":{\"clip_norm\":1.0},\"kind\":\"clip_norm\"},\
         {\"config\":{\"dampening\":0.0,\"lr\":0.1,\"momentum\":0.9,\"nesterov\":true,\
         \"weight_decay\":0.0},\"kind\":\"sgd\"}],\"kind\":\"chain\"}"
    );
}
