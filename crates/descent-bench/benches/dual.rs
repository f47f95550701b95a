//! Forward-mode derivatives ([`descent_core::dual::DualProblem`]) against the hand-written ones
//! of the same function (Rosenbrock), by dimension: the gradient costs n dual passes of f, so
//! the ratio grows linearly with n. `cargo bench -p descent-bench --bench dual`; the README's
//! "As a library" section quotes the table.

use descent_core::dual::{DualNum, DualProblem, ScalarFn};
use descent_core::testfns::Rosenbrock;
use descent_core::{Gradient, HessianVector};
use divan::{Bencher, black_box};

fn main() {
    divan::main();
}

const DIMS: [usize; 4] = [10, 100, 300, 1000];

/// Rosenbrock written once, generically.
struct GenericRosenbrock;
impl ScalarFn for GenericRosenbrock {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        x.windows(2)
            .map(|w| (w[1] - w[0] * w[0]).powi(2) * 100.0 + (-w[0] + 1.0).powi(2))
            .sum()
    }
}

/// The gradient by n forward passes over dual numbers.
#[divan::bench(args = DIMS)]
fn dual_gradient(bencher: Bencher, n: usize) {
    let mut p = DualProblem::new("rosenbrock", n, GenericRosenbrock).expect("dim");
    let x = vec![0.5; n];
    let mut g = vec![0.0; n];
    bencher.bench_local(|| p.value_grad(black_box(&x), &mut g));
}

/// The hand-written gradient of the same function.
#[divan::bench(args = DIMS)]
fn exact_gradient(bencher: Bencher, n: usize) {
    let mut p = Rosenbrock::new(n).expect("dim");
    let x = vec![0.5; n];
    let mut g = vec![0.0; n];
    bencher.bench_local(|| p.value_grad(black_box(&x), &mut g));
}

/// A Hessian-vector product by n forward passes over hyper-dual numbers.
#[divan::bench(args = DIMS)]
fn dual_hvp(bencher: Bencher, n: usize) {
    let mut p = DualProblem::new("rosenbrock", n, GenericRosenbrock).expect("dim");
    let (x, v) = (vec![0.5; n], vec![1.0; n]);
    let mut out = vec![0.0; n];
    bencher.bench_local(|| p.hvp(black_box(&x), &v, &mut out));
}

/// The hand-written Hessian-vector product.
#[divan::bench(args = DIMS)]
fn exact_hvp(bencher: Bencher, n: usize) {
    let mut p = Rosenbrock::new(n).expect("dim");
    let (x, v) = (vec![0.5; n], vec![1.0; n]);
    let mut out = vec![0.0; n];
    bencher.bench_local(|| p.hvp(black_box(&x), &v, &mut out));
}
