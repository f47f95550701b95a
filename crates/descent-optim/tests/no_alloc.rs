//! `update` and `step` never allocate: a counting global allocator watches them.

use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use descent_core::testfns::Quadratic;
use descent_core::{Layout, RngStreams, Spec};
use descent_optim::first_order::{Adam, AdamConfig};
use descent_optim::schedule::Scheduled;
use descent_optim::{Chain, Partition, Schedule, Transform, build_transform, parse_optimizer};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCS.load(Ordering::SeqCst);
    f();
    ALLOCS.load(Ordering::SeqCst) - before
}

// One test function: the counter is global, so nothing may run beside it.
#[test]
fn updates_and_steps_do_not_allocate() {
    let mut layout = Layout::new();
    layout.push("w", &[3, 2]);
    layout.push("b", &[3]);
    let streams = RngStreams::new(0);
    let adam = || -> Box<dyn Transform> { Box::new(Adam::new(AdamConfig::default()).unwrap()) };
    let mut transforms: Vec<Box<dyn Transform>> = vec![
        build_transform(
            &Spec::parse("sgd(lr=0.1, momentum=0.9, nesterov=true, weight_decay=0.1)").unwrap(),
        )
        .unwrap(),
        build_transform(
            &Spec::parse(
                "adamw(clip_norm=1, clip_value=0.5, schedule=warmup_cosine(warmup=2, total=9))",
            )
            .unwrap(),
        )
        .unwrap(),
        Box::new(
            Scheduled::new(
                Box::new(Chain::new(vec![adam(), adam()])),
                Schedule::InvSqrt,
            )
            .unwrap(),
        ),
        Box::new(Partition::by_predicate(
            |b| b.shape.len() == 2,
            adam(),
            adam(),
        )),
    ];
    // P1's synaptic noise, P7's quantized states and Muon's Newton–Schulz
    for text in [
        "synaptic_noise(lr=0.01, sigma=0.1)",
        "adam(lr=1e-3, m=bf16, v=fmt(e=8, m=7, round=stochastic))",
        "muon(lr=0.02, m=bf16)",
    ] {
        transforms.push(build_transform(&Spec::parse(text).unwrap()).unwrap());
    }
    // optax's blocks, folded chains, named partitions
    for text in [
        "chain(of=[scale_by_adam, scale_by_lr(lr=0.1)])",
        "chain(of=[add_decayed_weights(weight_decay=0.1), trace(decay=0.9, nesterov=true), \
         scale(factor=-0.5)])",
        "partition(groups=[group(match=\"*b\", opt=sgd(lr=0.1))], matrix=muon(ns_format=bf16))",
    ] {
        transforms.push(build_transform(&Spec::parse(text).unwrap()).unwrap());
    }
    for t in &mut transforms {
        t.build(&layout, &streams).unwrap();
        let x = vec![0.5; 9];
        let mut g = vec![1.0; 9];
        let mut y = x.clone();
        // set_hyper writes a value back to each hyperparameter it has, validated
        let hypers: Vec<(&str, f64)> = t
            .hyper_names()
            .into_iter()
            .filter_map(|n| t.hyper(n).map(|v| (n, v)))
            .collect();
        assert!(
            !hypers.is_empty() || t.name().starts_with("quantize"),
            "{}",
            t.name()
        );
        let n = allocations(|| {
            for step in 1..=10 {
                t.update(step, &mut g, &x);
                t.apply(step + 10, &mut g, &mut y);
                for &(name, value) in &hypers {
                    t.set_hyper(name, value).unwrap();
                }
            }
        });
        assert_eq!(n, 0, "{} allocated", t.name());
    }

    let mut q = Quadratic::diagonal(&[1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]).unwrap();
    let mut opt = parse_optimizer("adam(lr=0.1, schedule=cosine(total=5))").unwrap();
    opt.init(&Layout::flat(3), &streams).unwrap();
    let mut x = vec![0.0; 3];
    let n = allocations(|| {
        for _ in 0..10 {
            opt.step(&mut x, &mut q).unwrap();
        }
    });
    assert_eq!(n, 0, "TransformOptimizer::step allocated");

    // the optimizers' own hyperparameters too
    for text in [
        "rbo(inner_c=0.5)",
        "entropy_sgd",
        "lbfgs",
        "engd_w(lr=0.5)",
        "sam(rho=0.1, base=adam)",
        "zo(mu=1e-4)",
    ] {
        let mut opt = parse_optimizer(text).unwrap();
        opt.init(&Layout::flat(3), &streams).unwrap();
        let hypers: Vec<(&str, f64)> = opt
            .hyper_names()
            .into_iter()
            .filter_map(|n| opt.hyper(n).map(|v| (n, v)))
            .collect();
        assert!(hypers.len() >= 2, "{text}: {hypers:?}");
        let n = allocations(|| {
            for &(name, value) in &hypers {
                opt.set_hyper(name, value).unwrap();
            }
        });
        assert_eq!(n, 0, "{text}: set_hyper allocated");
    }
}
