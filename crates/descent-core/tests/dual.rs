//! The forward-mode adapter against the hand-written derivatives of the test functions.

use descent_core::dual::{DualNum, DualProblem, DualResiduals, ResidualFn, ScalarFn};
use descent_core::testfns::{CosineWell, Rosenbrock};
use descent_core::{Function, Gradient, HessianVector, Problem, Residuals};

/// Rosenbrock written once, generically: Σ a(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)².
struct GenericRosenbrock;
impl ScalarFn for GenericRosenbrock {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        x.windows(2)
            .map(|w| (w[1] - w[0] * w[0]).powi(2) * 100.0 + (-w[0] + 1.0).powi(2))
            .sum()
    }
}

/// P10's cosine well Σ 2 cos xᵢ + xᵢ²/2.
struct GenericCosineWell;
impl ScalarFn for GenericCosineWell {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        x.iter().map(|&v| v.cos() * 2.0 + v * v * 0.5).sum()
    }
}

/// Rosenbrock's residuals: r₂ᵢ = √(2a)(xᵢ₊₁ − xᵢ²), r₂ᵢ₊₁ = √2(1 − xᵢ), so ½‖r‖² = f.
struct RosenbrockResiduals(usize);
impl ResidualFn for RosenbrockResiduals {
    fn len(&self) -> usize {
        2 * (self.0 - 1)
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], r: &mut [D]) {
        let (s, t) = (200f64.sqrt(), 2f64.sqrt());
        for i in 0..self.0 - 1 {
            r[2 * i] = (x[i + 1] - x[i] * x[i]) * s;
            r[2 * i + 1] = (-x[i] + 1.0) * t;
        }
    }
}

fn point(n: usize, phase: f64) -> Vec<f64> {
    (0..n)
        .map(|i| 1.3 * (0.7 * i as f64 + phase).sin())
        .collect()
}

/// |a − b| ≤ tol·(1 + |b|) entry by entry.
fn close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{a:?} vs {b:?}");
    }
}

fn check_against(dual: &mut impl HessianVector, exact: &mut impl HessianVector, n: usize) {
    for phase in [0.0, 0.4, 1.9] {
        let x = point(n, phase);
        let v = point(n, phase + 2.5);
        let (mut g1, mut g2) = (vec![0.0; n], vec![0.0; n]);
        let f1 = dual.value_grad(&x, &mut g1);
        let f2 = exact.value_grad(&x, &mut g2);
        assert!((f1 - f2).abs() <= 1e-13 * f2.abs().max(1.0));
        assert_eq!(dual.value(&x), f1);
        close(&g1, &g2, 1e-13);
        dual.hvp(&x, &v, &mut g1);
        exact.hvp(&x, &v, &mut g2);
        close(&g1, &g2, 1e-13);
    }
}

#[test]
fn gradients_and_hvps_equal_the_hand_written_ones() {
    for n in [2, 7, 30] {
        let mut dual = DualProblem::new("rosenbrock", n, GenericRosenbrock).unwrap();
        check_against(&mut dual, &mut Rosenbrock::new(n).unwrap(), n);
        let mut dual = DualProblem::new("cosine-well", n, GenericCosineWell).unwrap();
        check_against(&mut dual, &mut CosineWell::new(n).unwrap(), n);
    }
}

#[test]
fn the_adapter_is_a_problem_with_three_views() {
    let mut p = DualProblem::new("rosenbrock", 4, GenericRosenbrock).unwrap();
    assert_eq!(p.caps().to_string(), "Function, Gradient, HessianVector");
    assert!(p.as_residuals().is_none());
    assert_eq!(p.name(), "rosenbrock");
    let e = DualProblem::new("empty", 0, GenericRosenbrock)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        e,
        "invalid value for 'dual problem dim': got 0, expected at least 1"
    );
}

#[test]
fn residual_jacobians_equal_the_hand_written_ones() {
    let n = 5;
    let mut p = DualResiduals::new("rosenbrock-ls", n, RosenbrockResiduals(n)).unwrap();
    assert_eq!(p.caps().to_string(), "Function, Gradient, Residuals");
    let m = p.n_residuals();
    assert_eq!(m, 8);
    let x = point(n, 0.3);
    let (mut r, mut jac) = (vec![0.0; m], vec![0.0; m * n]);
    p.residual_jacobian(&x, &mut r, &mut jac);
    let mut exact = vec![0.0; m * n];
    let (s, t) = (200f64.sqrt(), 2f64.sqrt());
    for i in 0..n - 1 {
        exact[2 * i * n + i] = -2.0 * s * x[i];
        exact[2 * i * n + i + 1] = s;
        exact[(2 * i + 1) * n + i] = -t;
    }
    close(&jac, &exact, 1e-14);
    let mut r2 = vec![0.0; m];
    p.residuals(&x, &mut r2);
    assert_eq!(r, r2);
    // ½‖r‖² is Rosenbrock, and Jᵀr its gradient
    let mut rosen = Rosenbrock::new(n).unwrap();
    let (mut g1, mut g2) = (vec![0.0; n], vec![0.0; n]);
    let f1 = p.value_grad(&x, &mut g1);
    let f2 = rosen.value_grad(&x, &mut g2);
    assert!((f1 - f2).abs() < 1e-12 * f2);
    assert!((p.value(&x) - f2).abs() < 1e-12 * f2);
    close(&g1, &g2, 1e-12);
}
