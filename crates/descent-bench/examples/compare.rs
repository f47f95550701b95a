//! The Rust side of `bench/compare/run.sh`: the divan benchmarks' step, gradient and dgemm
//! measurements with the Python scripts' protocol (median over 15 repeats of the mean time of
//! one call, each repeat lasting about 0.2 s), printed as one JSON line each.
//!
//! `cargo run --release -p descent-bench --example compare`

use std::hint::black_box;
use std::time::Instant;

use descent_bench::{step_flops, step_products, step_setup};
use descent_core::Gradient;
use descent_core::linalg::{Trans, gemm};

const NETS: [(&str, &[usize], usize); 3] = [
    ("784-256-10/128", &[784, 256, 10], 128),
    ("2-64-64-1/16", &[2, 64, 64, 1], 16),
    ("2-64-64-1/256", &[2, 64, 64, 1], 256),
];

/// Median over 15 repeats of the mean seconds per call (after 20 warm-up calls).
fn measure(mut f: impl FnMut()) -> f64 {
    (0..20).for_each(|_| f());
    let t = Instant::now();
    let mut k = 0;
    while t.elapsed().as_secs_f64() < 0.05 {
        f();
        k += 1;
    }
    let per = t.elapsed().as_secs_f64() / k as f64;
    let n = ((0.2 / per) as usize).max(5);
    let mut times: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            (0..n).for_each(|_| f());
            t.elapsed().as_secs_f64() / n as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[7]
}

fn main() {
    for (name, sizes, batch) in NETS {
        let mut s = step_setup(sizes, batch).expect("setup");
        let step = measure(|| {
            black_box(
                s.optimizer
                    .step(&mut s.params, &mut s.objective)
                    .expect("step"),
            );
        });
        let mut g = vec![0.0; s.params.len()];
        let grad = measure(|| {
            black_box(s.objective.value_grad(&s.params, &mut g));
        });
        let prods = step_products(sizes, batch);
        let mut bufs: Vec<_> = prods
            .iter()
            .map(|&(m, n, k)| (vec![0.5; m * k], vec![0.25; k * n], vec![0.0; m * n]))
            .collect();
        let trans: Vec<(Trans, Trans)> = (0..sizes.len() - 1)
            .flat_map(|l| {
                let mut t = vec![(Trans::N, Trans::T), (Trans::T, Trans::N)];
                if l > 0 {
                    t.push((Trans::N, Trans::N));
                }
                t
            })
            .collect();
        let dgemm = measure(|| {
            for ((&(m, n, k), (a, b, c)), &(ta, tb)) in prods.iter().zip(&mut bufs).zip(&trans) {
                gemm(c, m, n, k, 1.0, a, ta, b, tb, 0.0);
            }
        });
        let flops = step_flops(sizes, batch);
        println!(
            "{{\"framework\": \"descent\", \"net\": \"{name}\", \"median_step_us\": {:.3}, \
             \"median_grad_us\": {:.3}, \"median_dgemm_us\": {:.3}, \"step_gflops\": {:.3}, \
             \"dgemm_gflops\": {:.3}}}",
            step * 1e6,
            grad * 1e6,
            dgemm * 1e6,
            flops / step * 1e-9,
            flops / dgemm * 1e-9
        );
    }
}
