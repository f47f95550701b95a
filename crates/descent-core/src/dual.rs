//! Forward-mode derivatives for your own objective: write f(x) (or residuals r(x)) once, generic
//! over the number type, and [`DualProblem`] (or [`DualResiduals`]) turns it into a problem with
//! exact values, gradients and Hessian-vector products (or residual Jacobians), computed with
//! the dual numbers of [`num_dual`] (re-exported).
//!
//! The derivatives are exact to rounding (no step size): the gradient takes n passes of f over
//! [`Dual64`] (seeding eᵢ, ∂f/∂xᵢ in the ε part), the Hessian-vector product n passes over
//! [`HyperDual64`] (x + ε₁eᵢ + ε₂v gives (∇²f·v)ᵢ in the ε₁ε₂ part and ∂f/∂xᵢ in ε₁), the
//! residual Jacobian n passes over [`Dual64`] (one column each). The cost is thus n times a
//! few evaluations of f: right for the tens to hundreds of parameters of a test function, a
//! small model or a calibration problem; beyond that write the gradient by hand (reverse mode,
//! as descent-nn's models do), since a gradient then costs a few evaluations instead of n.
//!
//! ```
//! use descent_core::dual::{DualNum, DualProblem, ScalarFn};
//! use descent_core::{Gradient, HessianVector};
//!
//! /// f(x) = Σ (xᵢ − i)² + x₀x₁, written once for every number type.
//! struct Bowl;
//! impl ScalarFn for Bowl {
//!     fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
//!         let mut s = x[0] * x[1];
//!         for (i, &xi) in x.iter().enumerate() {
//!             s += (xi - i as f64).powi(2);
//!         }
//!         s
//!     }
//! }
//!
//! let mut p = DualProblem::new("bowl", 3, Bowl)?;
//! let mut g = [0.0; 3];
//! let f = p.value_grad(&[1.0, 1.0, 1.0], &mut g);
//! assert_eq!((f, g), (3.0, [3.0, 1.0, -2.0])); // ∂f/∂x₀ = x₁ + 2x₀
//! let mut hv = [0.0; 3];
//! p.hvp(&[1.0, 1.0, 1.0], &[1.0, 0.0, 0.0], &mut hv);
//! assert_eq!(hv, [2.0, 1.0, 0.0]); // the first column of ∇²f
//! # Ok::<(), descent_core::Error>(())
//! ```

pub use num_dual::{Dual64, DualNum, HyperDual64};

use crate::oracle::{Function, Gradient, HessianVector, Problem, Residuals};
use crate::{Error, Layout, Result};

/// A scalar function written once for every number type `D` (`f64` for values, dual numbers for
/// derivatives). Use only arithmetic and the functions of [`DualNum`] (`powi`, `sqrt`, `exp`,
/// `ln`, `sin`, `tanh`, ...) on `D`, and plain `f64` constants mixed in freely.
pub trait ScalarFn: Send {
    /// f(x).
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D;
}

/// A residual vector r(x) ∈ ℝᴺ written once for every number type, for least-squares problems
/// f(x) = ½ Σₖ rₖ(x)² (Gauss–Newton, the natural-gradient methods of P8).
pub trait ResidualFn: Send {
    /// N, the number of residuals.
    fn len(&self) -> usize;
    /// True when there are no residuals.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Writes r(x) into `r` (length N).
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D], r: &mut [D]);
}

/// A [`ScalarFn`] as a problem offering [`Function`], [`Gradient`] and [`HessianVector`] by
/// forward-mode dual numbers (see the module docs for the cost). The scratch vectors are
/// allocated once, so an evaluation allocates only what f itself does.
pub struct DualProblem<F> {
    f: F,
    name: String,
    layout: Layout,
    dual: Vec<Dual64>,
    hyper: Vec<HyperDual64>,
}

fn check_dim(dim: usize) -> Result<()> {
    if dim == 0 {
        return Err(Error::invalid("dual problem dim", dim, "at least 1"));
    }
    Ok(())
}

impl<F: ScalarFn> DualProblem<F> {
    /// `f` over `dim` parameters with a flat layout, reported as `name`.
    ///
    /// # Errors
    ///
    /// `dim == 0`.
    pub fn new(name: impl Into<String>, dim: usize, f: F) -> Result<Self> {
        check_dim(dim)?;
        Self::with_layout(name, Layout::flat(dim), f)
    }

    /// `f` over the parameters of `layout` (named blocks, so matrix-aware methods see them).
    ///
    /// # Errors
    ///
    /// An empty layout.
    pub fn with_layout(name: impl Into<String>, layout: Layout, f: F) -> Result<Self> {
        check_dim(layout.len())?;
        let n = layout.len();
        Ok(DualProblem {
            f,
            name: name.into(),
            layout,
            dual: vec![Dual64::from(0.0); n],
            hyper: vec![HyperDual64::from(0.0); n],
        })
    }

    /// The wrapped function.
    pub fn function(&self) -> &F {
        &self.f
    }
}

impl<F: ScalarFn> Function for DualProblem<F> {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.f.eval(x)
    }
}

impl<F: ScalarFn> Gradient for DualProblem<F> {
    /// n forward passes over [`Dual64`], one per coordinate.
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let n = self.layout.len();
        assert_eq!(
            g.len(),
            n,
            "DualProblem::value_grad: g has the problem's dimension"
        );
        for (d, &xi) in self.dual.iter_mut().zip(x) {
            *d = Dual64::from(xi);
        }
        let mut value = 0.0;
        for (i, gi) in g.iter_mut().enumerate() {
            self.dual[i].eps = 1.0;
            let out = self.f.eval(&self.dual);
            self.dual[i].eps = 0.0;
            *gi = out.eps;
            value = out.re;
        }
        value
    }
}

impl<F: ScalarFn> HessianVector for DualProblem<F> {
    /// n forward passes over [`HyperDual64`]: x + ε₁eᵢ + ε₂v gives (∇²f·v)ᵢ.
    fn hvp(&mut self, x: &[f64], v: &[f64], out: &mut [f64]) {
        let n = self.layout.len();
        assert_eq!(
            out.len(),
            n,
            "DualProblem::hvp: out has the problem's dimension"
        );
        for ((h, &xi), &vi) in self.hyper.iter_mut().zip(x).zip(v) {
            *h = HyperDual64::new(xi, 0.0, vi, 0.0);
        }
        for (i, o) in out.iter_mut().enumerate() {
            self.hyper[i].eps1 = 1.0;
            *o = self.f.eval(&self.hyper).eps1eps2;
            self.hyper[i].eps1 = 0.0;
        }
    }
}

impl<F: ScalarFn> Problem for DualProblem<F> {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(function, gradient, hvp);
}

/// A [`ResidualFn`] as a least-squares problem f(x) = ½‖r(x)‖² offering [`Function`],
/// [`Gradient`] (Jᵀr) and [`Residuals`] (r and its Jacobian by n forward passes over
/// [`Dual64`]), so the Gauss–Newton and natural-gradient methods run on it.
pub struct DualResiduals<R> {
    r: R,
    name: String,
    layout: Layout,
    dual: Vec<Dual64>,
    out: Vec<Dual64>,
    plain: Vec<f64>,
    jac: Vec<f64>,
}

impl<R: ResidualFn> DualResiduals<R> {
    /// `r` over `dim` parameters with a flat layout, reported as `name`.
    ///
    /// # Errors
    ///
    /// `dim == 0` or no residuals.
    pub fn new(name: impl Into<String>, dim: usize, r: R) -> Result<Self> {
        check_dim(dim)?;
        if r.is_empty() {
            return Err(Error::invalid(
                "dual residuals len",
                0,
                "at least 1 residual",
            ));
        }
        let m = r.len();
        Ok(DualResiduals {
            r,
            name: name.into(),
            layout: Layout::flat(dim),
            dual: vec![Dual64::from(0.0); dim],
            out: vec![Dual64::from(0.0); m],
            plain: vec![0.0; m],
            jac: vec![0.0; m * dim],
        })
    }

    /// The wrapped residual function.
    pub fn residual_fn(&self) -> &R {
        &self.r
    }

    /// Writes r(x) into `r` and the row-major N × n Jacobian into `jac`, column by column.
    fn jacobian_into(&mut self, x: &[f64], r: &mut [f64], jac: &mut [f64]) {
        let (m, n) = (self.r.len(), self.layout.len());
        assert_eq!(jac.len(), m * n, "DualResiduals: the Jacobian is N × dim");
        for (d, &xi) in self.dual.iter_mut().zip(x) {
            *d = Dual64::from(xi);
        }
        for j in 0..n {
            self.dual[j].eps = 1.0;
            self.r.eval(&self.dual, &mut self.out);
            self.dual[j].eps = 0.0;
            for (k, o) in self.out.iter().enumerate() {
                jac[k * n + j] = o.eps;
            }
        }
        for (ri, o) in r.iter_mut().zip(&self.out) {
            *ri = o.re;
        }
    }
}

impl<R: ResidualFn> Function for DualResiduals<R> {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.r.eval(x, &mut self.plain);
        0.5 * self.plain.iter().map(|v| v * v).sum::<f64>()
    }
}

impl<R: ResidualFn> Gradient for DualResiduals<R> {
    /// ∇f = Jᵀr from the forward-mode Jacobian.
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let n = self.layout.len();
        let mut r = std::mem::take(&mut self.plain);
        let mut jac = std::mem::take(&mut self.jac);
        self.jacobian_into(x, &mut r, &mut jac);
        for (j, gj) in g.iter_mut().enumerate() {
            *gj = r
                .iter()
                .enumerate()
                .map(|(k, rk)| jac[k * n + j] * rk)
                .sum();
        }
        let f = 0.5 * r.iter().map(|v| v * v).sum::<f64>();
        self.plain = r;
        self.jac = jac;
        f
    }
}

impl<R: ResidualFn> Residuals for DualResiduals<R> {
    fn n_residuals(&mut self) -> usize {
        self.r.len()
    }
    fn residuals(&mut self, x: &[f64], r: &mut [f64]) {
        self.r.eval(x, r);
    }
    fn residual_jacobian(&mut self, x: &[f64], r: &mut [f64], jac: &mut [f64]) {
        self.jacobian_into(x, r, jac);
    }
}

impl<R: ResidualFn> Problem for DualResiduals<R> {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    crate::problem_views!(function, gradient, residuals);
}
