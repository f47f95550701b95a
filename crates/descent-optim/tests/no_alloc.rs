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
    for t in &mut transforms {
        t.build(&layout, &streams).unwrap();
        let x = vec![0.5; 9];
        let mut g = vec![1.0; 9];
        let mut y = x.clone();
        let n = allocations(|| {
            for step in 1..=10 {
                t.update(step, &mut g, &x);
                t.apply(step + 10, &mut g, &mut y);
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
}
