//! The synthetic hierarchical problems of P4 (Gong, Hao & Liu, "Adaptive Algorithms with Sharp
//! Convergence Rates for Stochastic Hierarchical Optimization", NeurIPS 2025; spec §5): the
//! paper's 1-D nonconvex–strongly-concave minimax function (Fig. 1) in any dimension, and a
//! nonconvex–strongly-convex bilevel problem with an exact hypergradient (R2). Both know their
//! primal function Φ in closed form, so experiments record ‖∇Φ(x_t)‖ exactly.

use crate::oracle::{BilevelProblem, MinimaxProblem, Problem};
use crate::{Error, Layout, Result};

fn xy_layout(dx: usize, dy: usize) -> Layout {
    let mut l = Layout::new();
    l.push("x", &[dx]);
    l.push("y", &[dy]);
    l
}

/// f(x, y) = Σⱼ [c·cos xⱼ + xⱼyⱼ − yⱼ²/2] for x, y ∈ ℝⁿ: nonconvex in x (for c > 0), 1-strongly
/// concave in y, with y*(x) = x, Φ(x) = Σⱼ c·cos xⱼ + xⱼ²/2 and ∇Φ(x) = x − c·sin x.
/// With n = 1 and c = 1 it is the paper's Fig. 1 function; c = 0 gives the quadratic
/// Φ = ½‖x‖² with the unique saddle point 0 (the conformance problem).
/// Layout: blocks `x` and `y` of length n.
#[derive(Debug, Clone)]
pub struct CosineMinimax {
    /// The weight c of the cosine term.
    pub cos_weight: f64,
    n: usize,
    layout: Layout,
}

impl CosineMinimax {
    /// The problem in `n ≥ 1` dimensions per player with cosine weight `cos_weight` (finite).
    ///
    /// # Errors
    ///
    /// A dimension of 0 or a weight that is not finite.
    pub fn new(n: usize, cos_weight: f64) -> Result<Self> {
        if n == 0 {
            return Err(Error::invalid("cosine_minimax.dim", 0, "an integer >= 1"));
        }
        if !cos_weight.is_finite() {
            return Err(Error::invalid(
                "cosine_minimax.cos_weight",
                cos_weight,
                "a finite number",
            ));
        }
        Ok(CosineMinimax {
            cos_weight,
            n,
            layout: xy_layout(n, n),
        })
    }

    /// The paper's Fig. 1 function cos x + xy − y²/2 (n = 1, c = 1).
    pub fn paper() -> Self {
        Self::new(1, 1.0).expect("n = 1, c = 1 are valid")
    }

    /// Φ(x) = Σⱼ c·cos xⱼ + xⱼ²/2.
    pub fn primal_value(&self, x: &[f64]) -> f64 {
        x.iter()
            .map(|v| self.cos_weight * v.cos() + 0.5 * v * v)
            .sum()
    }
}

impl MinimaxProblem for CosineMinimax {
    fn dims(&self) -> (usize, usize) {
        (self.n, self.n)
    }
    fn value_xy(&mut self, x: &[f64], y: &[f64]) -> f64 {
        x.iter()
            .zip(y)
            .map(|(a, b)| self.cos_weight * a.cos() + a * b - 0.5 * b * b)
            .sum()
    }
    fn grads_xy(&mut self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        for j in 0..self.n {
            gx[j] = -self.cos_weight * x[j].sin() + y[j];
            gy[j] = x[j] - y[j];
        }
        self.value_xy(x, y)
    }
    fn exact_primal_grad(&mut self, x: &[f64], out: &mut [f64]) -> bool {
        for (o, v) in out.iter_mut().zip(x) {
            *o = v - self.cos_weight * v.sin();
        }
        true
    }
}

impl Problem for CosineMinimax {
    fn name(&self) -> String {
        format!("cosine minimax (n={}, c={})", self.n, self.cos_weight)
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(minimax);
}

/// P4's R2: lower level g(x, y) = ½(y − x)ᵀA(y − x) with A = diag(a), a > 0, so y*(x) = x,
/// ∇²ᵧᵧg = A and ∇²ₓᵧg = −A; upper level f(x, y) = Σⱼ c·cos xⱼ + ½‖y‖². Then
/// Φ(x) = Σⱼ c·cos xⱼ + xⱼ²/2 and ∇Φ(x) = x − c·sin x. With c = 2 (the spec's choice) Φ is
/// nonconvex with non-degenerate minimisers at ±1.8955; c = 0 gives Φ = ½‖x‖² (the conformance
/// problem). µ_g = min a and l_{g,1} = max a. Layout: blocks `x` and `y` of length d.
#[derive(Debug, Clone)]
pub struct CosineBilevel {
    /// The diagonal of A.
    pub a: Vec<f64>,
    /// The weight c of the cosine term.
    pub cos_weight: f64,
    layout: Layout,
}

impl CosineBilevel {
    /// The problem with A = diag(`a`) (every entry finite and > 0) and cosine weight c.
    ///
    /// # Errors
    ///
    /// An empty `a`, or entries or a weight out of range.
    pub fn new(a: &[f64], cos_weight: f64) -> Result<Self> {
        if a.is_empty() {
            return Err(Error::invalid(
                "cosine_bilevel.a",
                "[]",
                "at least one entry",
            ));
        }
        if let Some(bad) = a.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            return Err(Error::invalid(
                "cosine_bilevel.a",
                bad,
                "finite numbers > 0 (g must be strongly convex in y)",
            ));
        }
        if !cos_weight.is_finite() {
            return Err(Error::invalid(
                "cosine_bilevel.cos_weight",
                cos_weight,
                "a finite number",
            ));
        }
        Ok(CosineBilevel {
            a: a.to_vec(),
            cos_weight,
            layout: xy_layout(a.len(), a.len()),
        })
    }

    /// The spec's instance: A = diag(linspace(0.5, 2, d)), c = 2 (d ≥ 2).
    ///
    /// # Errors
    ///
    /// d < 2.
    pub fn paper(d: usize) -> Result<Self> {
        if d < 2 {
            return Err(Error::invalid("cosine_bilevel.dim", d, "an integer >= 2"));
        }
        let a: Vec<f64> = (0..d)
            .map(|j| 0.5 + 1.5 * j as f64 / (d - 1) as f64)
            .collect();
        Self::new(&a, 2.0)
    }

    /// µ_g, the strong-convexity modulus of g in y (the smallest entry of A).
    pub fn mu(&self) -> f64 {
        self.a.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// l_{g,1}, the smoothness of g in y (the largest entry of A).
    pub fn l(&self) -> f64 {
        self.a.iter().copied().fold(0.0, f64::max)
    }

    /// Φ(x) = Σⱼ c·cos xⱼ + xⱼ²/2.
    pub fn primal_value(&self, x: &[f64]) -> f64 {
        x.iter()
            .map(|v| self.cos_weight * v.cos() + 0.5 * v * v)
            .sum()
    }
}

impl BilevelProblem for CosineBilevel {
    fn dims(&self) -> (usize, usize) {
        (self.a.len(), self.a.len())
    }
    fn upper_value(&mut self, x: &[f64], y: &[f64]) -> f64 {
        let c = self.cos_weight;
        x.iter().map(|v| c * v.cos()).sum::<f64>() + 0.5 * y.iter().map(|v| v * v).sum::<f64>()
    }
    fn upper_grads(&mut self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        for (g, v) in gx.iter_mut().zip(x) {
            *g = -self.cos_weight * v.sin();
        }
        gy.copy_from_slice(y);
        self.upper_value(x, y)
    }
    fn lower_grad_y(&mut self, x: &[f64], y: &[f64], gy: &mut [f64]) -> f64 {
        let mut g = 0.0;
        for j in 0..self.a.len() {
            let d = y[j] - x[j];
            gy[j] = self.a[j] * d;
            g += 0.5 * self.a[j] * d * d;
        }
        g
    }
    fn lower_hvp_yy(&mut self, _x: &[f64], _y: &[f64], v: &[f64], out: &mut [f64]) {
        for ((o, a), vi) in out.iter_mut().zip(&self.a).zip(v) {
            *o = a * vi;
        }
    }
    fn lower_jvp_xy(&mut self, _x: &[f64], _y: &[f64], v: &[f64], out: &mut [f64]) {
        for ((o, a), vi) in out.iter_mut().zip(&self.a).zip(v) {
            *o = -a * vi;
        }
    }
    fn exact_hypergradient(&mut self, x: &[f64], out: &mut [f64]) -> bool {
        for (o, v) in out.iter_mut().zip(x) {
            *o = v - self.cos_weight * v.sin();
        }
        true
    }
}

impl Problem for CosineBilevel {
    fn name(&self) -> String {
        format!("cosine bilevel (d={}, c={})", self.a.len(), self.cos_weight)
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(bilevel);
}

/// Central finite differences of a minimax problem's gradients at (x, y) with step `h`:
/// (∇ₓf, ∇ᵧf) from [`MinimaxProblem::value_xy`] (for tests).
pub fn finite_diff_minimax(
    p: &mut dyn MinimaxProblem,
    x: &[f64],
    y: &[f64],
    h: f64,
) -> (Vec<f64>, Vec<f64>) {
    let mut value = |x: &[f64], y: &[f64]| p.value_xy(x, y);
    central_pair(&mut value, x, y, h)
}

/// (∂/∂x, ∂/∂y) of `f` at (x, y) by central differences.
fn central_pair(
    f: &mut dyn FnMut(&[f64], &[f64]) -> f64,
    x: &[f64],
    y: &[f64],
    h: f64,
) -> (Vec<f64>, Vec<f64>) {
    let (mut xp, mut yp) = (x.to_vec(), y.to_vec());
    let gx = (0..x.len())
        .map(|i| {
            xp[i] = x[i] + h;
            let fp = f(&xp, y);
            xp[i] = x[i] - h;
            let fm = f(&xp, y);
            xp[i] = x[i];
            (fp - fm) / (2.0 * h)
        })
        .collect();
    let gy = (0..y.len())
        .map(|i| {
            yp[i] = y[i] + h;
            let fp = f(x, &yp);
            yp[i] = y[i] - h;
            let fm = f(x, &yp);
            yp[i] = y[i];
            (fp - fm) / (2.0 * h)
        })
        .collect();
    (gx, gy)
}

/// Every derivative of a bilevel problem at (x, y) by central finite differences (for tests).
#[derive(Debug, Clone, PartialEq)]
pub struct BilevelFiniteDiff {
    /// ∇ₓf and ∇ᵧf of the upper level, from [`BilevelProblem::upper_value`].
    pub upper_gx: Vec<f64>,
    /// (∇ᵧf of the upper level.)
    pub upper_gy: Vec<f64>,
    /// ∇ᵧg of the lower level, from the value [`BilevelProblem::lower_grad_y`] returns.
    pub lower_gy: Vec<f64>,
    /// ∇²ᵧᵧg·v: the difference of ∇ᵧg along v in y.
    pub hvp_yy: Vec<f64>,
    /// ∇²ₓᵧg·v: the gradient in x of ⟨∇ᵧg(x, y), v⟩.
    pub jvp_xy: Vec<f64>,
}

/// Central finite differences of every derivative of `p` at (x, y), products along `v`, with
/// step `h` (for tests of exact derivatives).
pub fn finite_diff_bilevel(
    p: &mut dyn BilevelProblem,
    x: &[f64],
    y: &[f64],
    v: &[f64],
    h: f64,
) -> BilevelFiniteDiff {
    let dy = y.len();
    let (upper_gx, upper_gy) = {
        let mut f = |x: &[f64], y: &[f64]| p.upper_value(x, y);
        central_pair(&mut f, x, y, h)
    };
    let mut scratch = vec![0.0; dy];
    let (_, lower_gy) = {
        let mut g = |x: &[f64], y: &[f64]| p.lower_grad_y(x, y, &mut scratch);
        central_pair(&mut g, x, y, h)
    };
    let yp: Vec<f64> = y.iter().zip(v).map(|(a, b)| a + h * b).collect();
    let ym: Vec<f64> = y.iter().zip(v).map(|(a, b)| a - h * b).collect();
    let (mut gp, mut gm) = (vec![0.0; dy], vec![0.0; dy]);
    p.lower_grad_y(x, &yp, &mut gp);
    p.lower_grad_y(x, &ym, &mut gm);
    let hvp_yy = gp
        .iter()
        .zip(&gm)
        .map(|(a, b)| (a - b) / (2.0 * h))
        .collect();
    let (jvp_xy, _) = {
        let mut inner = |x: &[f64], y: &[f64]| {
            p.lower_grad_y(x, y, &mut scratch);
            scratch.iter().zip(v).map(|(a, b)| a * b).sum::<f64>()
        };
        central_pair(&mut inner, x, y, h)
    };
    BilevelFiniteDiff {
        upper_gx,
        upper_gy,
        lower_gy,
        hvp_yy,
        jvp_xy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RngStreams;
    use crate::Stochastic;
    use crate::testfns::GaussianGradientNoise;

    fn close(a: &[f64], b: &[f64], tol: f64) {
        for (u, v) in a.iter().zip(b) {
            assert!((u - v).abs() <= tol * v.abs().max(1.0), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn minimax_gradients_and_primal_match_finite_differences() {
        let mut p = CosineMinimax::new(3, 1.3).unwrap();
        let (x, y) = ([0.4, -1.1, 2.0], [0.3, 0.7, -0.5]);
        let (mut gx, mut gy) = ([0.0; 3], [0.0; 3]);
        let f = p.grads_xy(&x, &y, &mut gx, &mut gy);
        assert_eq!(f, p.value_xy(&x, &y));
        let (fx, fy) = finite_diff_minimax(&mut p, &x, &y, 1e-6);
        close(&gx, &fx, 1e-8);
        close(&gy, &fy, 1e-8);
        // ∇Φ(x) is ∇ₓf at y*(x) = x, where ∇ᵧf = 0
        let mut dphi = [0.0; 3];
        assert!(p.exact_primal_grad(&x, &mut dphi));
        p.grads_xy(&x, &x, &mut gx, &mut gy);
        close(&dphi, &gx, 1e-15);
        assert_eq!(gy, [0.0; 3]);
        // Φ(x) = f(x, y*(x)) and its derivative
        let h = 1e-6;
        let fd = (p.primal_value(&[0.4 + h]) - p.primal_value(&[0.4 - h])) / (2.0 * h);
        assert!((fd - dphi[0]).abs() < 1e-8);
        assert_eq!(p.primal_value(&x), p.value_xy(&x, &x));
        assert_eq!(CosineMinimax::paper().dims(), (1, 1));
        assert_eq!(p.layout().blocks()[1].name, "y");
    }

    /// B1: the analytic ∇Φ equals central differences of Φ(x) = f(x, y*(x)) with y*(x) from a
    /// linear solve of ∇ᵧg = 0, to 1e-10; every derivative matches finite differences.
    #[test]
    fn bilevel_derivatives_and_hypergradient_match_finite_differences() {
        let mut p = CosineBilevel::paper(5).unwrap();
        assert_eq!((p.mu(), p.l()), (0.5, 2.0));
        let x = [0.5, 0.51, -0.3, 1.7, 2.2];
        let y = [0.1, -0.4, 0.9, 0.0, 1.3];
        let v = [1.0, -2.0, 0.5, 0.25, -1.0];
        let fd = finite_diff_bilevel(&mut p, &x, &y, &v, 1e-5);
        let (mut gx, mut gy) = ([0.0; 5], [0.0; 5]);
        p.upper_grads(&x, &y, &mut gx, &mut gy);
        close(&gx, &fd.upper_gx, 1e-8);
        close(&gy, &fd.upper_gy, 1e-8);
        p.lower_grad_y(&x, &y, &mut gy);
        close(&gy, &fd.lower_gy, 1e-8);
        let mut out = [0.0; 5];
        p.lower_hvp_yy(&x, &y, &v, &mut out);
        close(&out, &fd.hvp_yy, 1e-8);
        p.lower_jvp_xy(&x, &y, &v, &mut out);
        close(&out, &fd.jvp_xy, 1e-8);
        // y*(x) from the linear system A y = A x (A diagonal), then Φ by central differences
        let mut phi = |x: &[f64]| {
            let ystar: Vec<f64> = x.iter().zip(&p.a).map(|(xi, a)| a * xi / a).collect();
            p.upper_value(x, &ystar)
        };
        // the five-point stencil (error O(h⁴)), so 1e-10 is within reach of rounding
        let h = 1e-3;
        let mut xp = x;
        let num: Vec<f64> = (0..5)
            .map(|i| {
                let mut at = |t: f64| {
                    xp[i] = x[i] + t;
                    let f = phi(&xp);
                    xp[i] = x[i];
                    f
                };
                (at(-2.0 * h) - 8.0 * at(-h) + 8.0 * at(h) - at(2.0 * h)) / (12.0 * h)
            })
            .collect();
        let mut exact = [0.0; 5];
        assert!(p.exact_hypergradient(&x, &mut exact));
        for (a, b) in exact.iter().zip(&num) {
            assert!((a - b).abs() < 1e-10, "{a} vs {b}");
        }
        // the non-degenerate minimiser of 2 cos x + x²/2
        p.exact_hypergradient(&[1.895_494_267; 5], &mut exact);
        assert!(exact.iter().all(|g| g.abs() < 1e-8));
    }

    #[test]
    fn bad_settings_are_named_errors() {
        let e = |r: Result<CosineBilevel>| r.unwrap_err().to_string();
        assert_eq!(
            e(CosineBilevel::new(&[1.0, -0.5], 2.0)),
            "invalid value for 'cosine_bilevel.a': got -0.5, expected finite numbers > 0 (g \
             must be strongly convex in y)"
        );
        assert!(e(CosineBilevel::paper(1)).contains("cosine_bilevel.dim"));
        assert!(e(CosineBilevel::new(&[1.0], f64::NAN)).contains("cos_weight"));
        assert!(
            CosineMinimax::new(0, 1.0)
                .unwrap_err()
                .to_string()
                .contains("cosine_minimax.dim")
        );
    }

    #[test]
    fn minimax_noise_is_per_sample_shared_by_both_gradients_and_unbiased() {
        let mut p = GaussianGradientNoise::new(
            CosineMinimax::new(2, 1.0).unwrap(),
            0.5,
            &RngStreams::new(3),
        )
        .unwrap();
        assert_eq!(p.caps().to_string(), "Stochastic, MinimaxProblem");
        let (x, y) = ([0.3, -0.2], [0.1, 0.4]);
        let (mut ex, mut ey) = ([0.0; 2], [0.0; 2]);
        CosineMinimax::new(2, 1.0)
            .unwrap()
            .grads_xy(&x, &y, &mut ex, &mut ey);
        let (mut gx, mut gy, mut hx, mut hy) = ([0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]);
        p.grads_xy(&x, &y, &mut gx, &mut gy);
        assert_eq!((gx, gy), (ex, ey), "no noise before the first resample");
        let reps = 20_000;
        let (mut mean, mut sq) = (0.0, 0.0);
        for _ in 0..reps {
            p.resample();
            p.grads_xy(&x, &y, &mut gx, &mut gy);
            p.grads_xy(&x, &y, &mut hx, &mut hy);
            assert_eq!((gx, gy), (hx, hy), "one sample, one noise");
            assert_ne!(
                gx[0] - ex[0],
                gy[0] - ey[0],
                "x and y noise are independent"
            );
            mean += (gx[0] - ex[0]) / reps as f64;
            sq += (gx[1] - ex[1]).powi(2) / reps as f64;
        }
        assert!(mean.abs() < 4.0 * 0.5 / (reps as f64).sqrt(), "{mean}");
        assert!((sq / 0.25 - 1.0).abs() < 0.05, "variance {sq}");
        let mut dphi = [0.0; 2];
        assert!(p.exact_primal_grad(&x, &mut dphi), "exact and noise-free");
        assert_eq!(dphi[0], 0.3 - 0.3f64.sin());
    }

    #[test]
    fn bilevel_noise_covers_every_oracle_with_symmetric_hessian_samples() {
        let exact = CosineBilevel::paper(4).unwrap();
        let make = |seed| {
            GaussianGradientNoise::new(exact.clone(), 1.0, &RngStreams::new(seed))
                .unwrap()
                .with_second_order_noise(0.3)
                .unwrap()
        };
        let mut p = make(7);
        assert!(p.name().contains("Hessian noise"), "{}", p.name());
        let (x, y) = ([0.5, 0.6, 0.7, 0.8], [0.0; 4]);
        let mut clean = exact.clone();
        let (mut gx, mut gy, mut cx, mut cy) = ([0.0; 4], [0.0; 4], [0.0; 4], [0.0; 4]);
        p.resample();
        p.upper_grads(&x, &y, &mut gx, &mut gy);
        clean.upper_grads(&x, &y, &mut cx, &mut cy);
        assert!(gx != cx && gy != cy);
        // the Hessian sample is linear in v and symmetric: ⟨u, H v⟩ = ⟨v, H u⟩
        let (u, v) = ([1.0, -0.5, 0.2, 0.3], [0.4, 0.1, -1.0, 2.0]);
        let (mut hu, mut hv, mut h2v) = ([0.0; 4], [0.0; 4], [0.0; 4]);
        p.lower_hvp_yy(&x, &y, &u, &mut hu);
        p.lower_hvp_yy(&x, &y, &v, &mut hv);
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
        assert!((dot(&u, &hv) - dot(&v, &hu)).abs() < 1e-12);
        let v2: Vec<f64> = v.iter().map(|t| 2.0 * t).collect();
        p.lower_hvp_yy(&x, &y, &v2, &mut h2v);
        assert!(
            hv.iter()
                .zip(&h2v)
                .all(|(a, b)| (2.0 * a - b).abs() < 1e-12)
        );
        let mut av = [0.0; 4];
        clean.lower_hvp_yy(&x, &y, &v, &mut av);
        assert_ne!(hv, av, "the sample carries Hessian noise");
        // a new sample redraws it; the same seed gives the same sequence
        p.resample();
        let mut again = [0.0; 4];
        p.lower_hvp_yy(&x, &y, &v, &mut again);
        assert_ne!(again, hv);
        let mut q = make(7);
        q.resample();
        let (mut qx, mut qy) = ([0.0; 4], [0.0; 4]);
        q.upper_grads(&x, &y, &mut qx, &mut qy);
        assert_eq!((qx, qy), (gx, gy));
        let e = GaussianGradientNoise::new(CosineMinimax::paper(), 1.0, &RngStreams::new(0))
            .unwrap()
            .with_second_order_noise(0.1)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("needs BilevelProblem"), "{e}");
    }
}
