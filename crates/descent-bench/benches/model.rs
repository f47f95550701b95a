//! What a BackPACK or curvlinops user asks of an MLP, against the minibatch gradient of the same
//! net and batch: the per-sample gradient matrix (B × P), the generalised Gauss–Newton (Fisher)
//! vector product and the exact Hessian-vector product. `cargo bench -p descent-bench --bench
//! model`; the README's "As a library" section quotes the ratios.

use descent_bench::step_setup;
use descent_core::{Gradient, HessianVector};
use divan::{Bencher, black_box};

fn main() {
    divan::main();
}

/// Widths and batch: B × P stays small enough to write every row (64-128-10: P = 9 610).
const NETS: [&str; 2] = ["64-128-10/32", "2-64-64-1/16"];

fn parse(net: &str) -> (Vec<usize>, usize) {
    let (sizes, batch) = net.split_once('/').expect("sizes/batch");
    let sizes = sizes
        .split('-')
        .map(|s| s.parse().expect("width"))
        .collect();
    (sizes, batch.parse().expect("batch"))
}

/// The minibatch gradient (the unit of the ratios).
#[divan::bench(args = NETS, sample_count = 300)]
fn gradient(bencher: Bencher, net: &str) {
    let (sizes, batch) = parse(net);
    let mut s = step_setup(&sizes, batch).expect("setup");
    let mut g = vec![0.0; s.params.len()];
    bencher.bench_local(|| s.objective.value_grad(black_box(&s.params), &mut g));
}

/// Every per-sample gradient as the rows of a B × P matrix.
#[divan::bench(args = NETS, sample_count = 300)]
fn per_sample_matrix(bencher: Bencher, net: &str) {
    let (sizes, batch) = parse(net);
    let mut s = step_setup(&sizes, batch).expect("setup");
    let mut rows = vec![0.0; batch * s.params.len()];
    bencher.bench_local(|| {
        s.objective
            .per_sample_gradients(black_box(&s.params), &mut rows)
            .expect("lengths")
    });
}

/// One generalised Gauss–Newton (= Fisher, for these losses) vector product.
#[divan::bench(args = NETS, sample_count = 300)]
fn ggn_vector(bencher: Bencher, net: &str) {
    let (sizes, batch) = parse(net);
    let mut s = step_setup(&sizes, batch).expect("setup");
    let v = vec![0.01; s.params.len()];
    let mut out = vec![0.0; s.params.len()];
    bencher.bench_local(|| {
        s.objective
            .ggn_vector(black_box(&s.params), &v, &mut out)
            .expect("lengths")
    });
}

/// One exact Hessian-vector product (Pearlmutter).
#[divan::bench(args = NETS, sample_count = 300)]
fn hvp(bencher: Bencher, net: &str) {
    let (sizes, batch) = parse(net);
    let mut s = step_setup(&sizes, batch).expect("setup");
    let v = vec![0.01; s.params.len()];
    let mut out = vec![0.0; s.params.len()];
    bencher.bench_local(|| s.objective.hvp(black_box(&s.params), &v, &mut out));
}
