//! The online learning rules of `hebbian` (P1's drift hot loops) never allocate per step: a
//! counting global allocator watches N steps after a warm-up, sampling included — both the
//! direct loop of the drift runs (`SpectralGaussian::draw_with` + `OnlineRule::step`) and the
//! generic optimizer path (`OnlineProblem`: `resample` + `field`).

use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use descent_core::{RngStreams, Stochastic, UpdateField};
use descent_data::Stream;
use descent_data::generators::{Basis, SpectralGaussian, SpectralTarget};
use descent_nn::hebbian::{
    LinearAutoencoder, Oja, OnlineProblem, OnlineRule, SimilarityMatching, TwoLayerLinear,
};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: AllocLayout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
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

/// (rule, relevant dimension of its data, whether the data carries the projection target).
fn rules() -> Vec<(Box<dyn OnlineRule>, usize, bool)> {
    vec![
        (Box::new(Oja::new(10, 2).unwrap()), 2, false),
        (Box::new(Oja::new(8, 3).unwrap()), 3, false),
        // m = 2 takes the closed-form 2 × 2 solve, m = 3 the pivoted LU
        (
            Box::new(SimilarityMatching::new(10, 2, 1.0).unwrap()),
            2,
            false,
        ),
        (
            Box::new(SimilarityMatching::new(8, 3, 0.5).unwrap()),
            3,
            false,
        ),
        (
            Box::new(LinearAutoencoder::new(10, 2, 0.05).unwrap()),
            2,
            false,
        ),
        (Box::new(TwoLayerLinear::new(10, 2, 0.25).unwrap()), 2, true),
        (Box::new(TwoLayerLinear::new(8, 3, 0.1).unwrap()), 3, true),
    ]
}

fn generator(n: usize, m: usize, target: bool, basis: Basis) -> SpectralGaussian {
    let t = if target {
        SpectralTarget::Projection
    } else {
        SpectralTarget::None
    };
    SpectralGaussian::flat(
        n,
        m,
        1.0,
        0.5,
        basis,
        t,
        &mut RngStreams::new(4).stream("structure"),
    )
    .unwrap()
}

// One test function: the counter is global, so nothing may run beside it.
#[test]
fn online_rules_do_not_allocate_per_step() {
    const STEPS: usize = 200;
    let eta = 0.01;
    for (mut rule, m, target) in rules() {
        let name = rule.name();
        let n = rule.n_inputs();
        for basis in [Basis::Identity, Basis::Random] {
            let data = generator(n, m, target, basis);
            let mut rng = RngStreams::new(7).sim("samples", 0);
            let mut params = rule.fixed_point(1.0).unwrap();
            let start = params.clone();
            let mut x = vec![0.0; n];
            let mut y = vec![0.0; rule.n_targets()];
            let mut inc = vec![0.0; params.len()];
            let mut enc = vec![0.0; rule.code_dim() * n];
            // warm-up: anything lazily sized happens here
            for _ in 0..5 {
                data.draw_with(&mut rng, &mut x, &mut y);
                rule.step(&mut params, &x, &y, eta);
            }
            let count = allocations(|| {
                for _ in 0..STEPS {
                    data.draw_with(&mut rng, &mut x, &mut y);
                    rule.step(&mut params, &x, &y, eta);
                    rule.increment(&params, &x, &y, &mut inc);
                }
                rule.encoder(&params, &mut enc);
            });
            assert_eq!(count, 0, "{name} ({basis:?} basis) allocated {count} times");
            // the loop really ran: the parameters moved and stay finite
            assert!(params.iter().all(|v| v.is_finite()), "{name}");
            let moved: f64 = params.iter().zip(&start).map(|(a, b)| (a - b).abs()).sum();
            assert!(moved > 1e-4, "{name}: parameters moved only {moved}");
        }
    }

    // the generic path: OnlineProblem on a Stream (resample + field), as sgd(lr=η) drives it
    for (count, moved, name) in [
        problem_allocations(Oja::new(10, 2).unwrap(), 2, false),
        problem_allocations(SimilarityMatching::new(8, 3, 1.0).unwrap(), 3, false),
        problem_allocations(LinearAutoencoder::new(10, 2, 0.05).unwrap(), 2, false),
        problem_allocations(TwoLayerLinear::new(10, 2, 0.25).unwrap(), 2, true),
    ] {
        assert_eq!(count, 0, "OnlineProblem<{name}> allocated {count} times");
        assert!(moved > 1e-4, "{name}: parameters moved only {moved}");
    }
}

/// Allocations during `STEPS` resample + field + sgd steps of an [`OnlineProblem`] after a
/// warm-up, with how far the parameters moved and the rule's name.
fn problem_allocations<R: OnlineRule>(rule: R, m: usize, target: bool) -> (usize, f64, String) {
    const STEPS: usize = 200;
    let name = rule.name();
    let g = generator(rule.n_inputs(), m, target, Basis::Random);
    let stream = Stream::new(Arc::new(g), 1, RngStreams::new(2).stream("batches")).unwrap();
    let mut params = rule.fixed_point(1.0).unwrap();
    let start = params.clone();
    let mut prob = OnlineProblem::new(rule, stream).unwrap();
    let mut d = vec![0.0; params.len()];
    for _ in 0..3 {
        Stochastic::resample(&mut prob);
        prob.field(&params, &mut d);
    }
    let count = allocations(|| {
        for _ in 0..STEPS {
            Stochastic::resample(&mut prob);
            prob.field(&params, &mut d);
            params
                .iter_mut()
                .zip(&d)
                .for_each(|(p, di)| *p -= 0.01 * di);
        }
    });
    let moved = params.iter().zip(&start).map(|(a, b)| (a - b).abs()).sum();
    (count, moved, name)
}
