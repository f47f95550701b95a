//! One training step (resample, forward, backward, Adam) of the benchmarked nets, the same
//! step's gradient alone, and faer's single-threaded dgemm on the step's own products.
//! `cargo bench -p descent-bench`; the table in the README divides the dgemm time by the step
//! time (the step's fraction of dgemm FLOP/s).

use descent_bench::{step_products, step_setup};
use descent_core::Gradient;
use descent_core::linalg::{Trans, gemm};
use divan::{Bencher, black_box};

fn main() {
    divan::main();
}

const NETS: [&str; 3] = ["784-256-10/128", "2-64-64-1/16", "2-64-64-1/256"];

fn parse(net: &str) -> (Vec<usize>, usize) {
    let (sizes, batch) = net.split_once('/').expect("sizes/batch");
    (
        sizes
            .split('-')
            .map(|s| s.parse().expect("width"))
            .collect(),
        batch.parse().expect("batch"),
    )
}

/// A full optimizer step, as `descent train` runs it.
#[divan::bench(args = NETS, sample_count = 300)]
fn step(bencher: Bencher, net: &str) {
    let (sizes, batch) = parse(net);
    let mut s = step_setup(&sizes, batch).expect("setup");
    bencher.bench_local(|| {
        s.optimizer
            .step(&mut s.params, &mut s.objective)
            .expect("step")
    });
}

/// The minibatch gradient alone (no resample, no Adam).
#[divan::bench(args = NETS, sample_count = 300)]
fn gradient(bencher: Bencher, net: &str) {
    let (sizes, batch) = parse(net);
    let mut s = step_setup(&sizes, batch).expect("setup");
    let mut g = vec![0.0; s.params.len()];
    bencher.bench_local(|| s.objective.value_grad(black_box(&s.params), &mut g));
}

/// faer dgemm (`Par::Seq`) on every product of one step at its shapes and transposes.
#[divan::bench(args = NETS, sample_count = 300)]
fn dgemm_step_products(bencher: Bencher, net: &str) {
    let (sizes, batch) = parse(net);
    let prods = step_products(&sizes, batch);
    let mut bufs: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = prods
        .iter()
        .map(|&(m, n, k)| (vec![0.5; m * k], vec![0.25; k * n], vec![0.0; m * n]))
        .collect();
    // the engine's operand layouts: forward a·Wᵀ, weight gradient dᵀ·a, backward d·W
    let trans: Vec<(Trans, Trans)> = sizes
        .windows(2)
        .enumerate()
        .flat_map(|(l, _)| {
            let mut t = vec![(Trans::N, Trans::T), (Trans::T, Trans::N)];
            if l > 0 {
                t.push((Trans::N, Trans::N));
            }
            t
        })
        .collect();
    bencher.bench_local(|| {
        for ((&(m, n, k), (a, b, c)), &(ta, tb)) in prods.iter().zip(&mut bufs).zip(&trans) {
            gemm(c, m, n, k, 1.0, a, ta, b, tb, 0.0);
        }
    });
}

/// Peak reference: a square 512 dgemm.
#[divan::bench(sample_count = 30)]
fn dgemm_square_512(bencher: Bencher) {
    let n = 512;
    let (a, b) = (vec![0.5; n * n], vec![0.25; n * n]);
    let mut c = vec![0.0; n * n];
    bencher.bench_local(|| gemm(&mut c, n, n, n, 1.0, &a, Trans::N, &b, Trans::N, 0.0));
}
