//! `descent.minimize`: any descent optimizer over a Python function, in the manner of
//! `scipy.optimize.minimize`. The loop is descent-optim's driver ([`descent_optim::run_with`]:
//! divergence is a result, not an exception); the function is a descent problem whose value and
//! gradient call back into Python, so the methods that evaluate at several points per step (RBO,
//! SAM, Entropy-SGD, L-BFGS's line search, zeroth-order estimates) work unchanged.

use std::ops::ControlFlow;

use descent_core::{Function, Gradient, Layout, Problem, RngStreams};
use descent_optim::{Outcome, RunOptions, StopReason, parse_optimizer, run_with};
use numpy::{PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::value_error;

/// A Python function `fun(x) -> loss | (loss, grad)` as a descent problem. The first exception
/// it raises is kept (and returned by [`minimize`]); later evaluations return NaN without calling
/// Python, so the driver ends the run as diverged at once.
struct PyFunction {
    fun: Py<PyAny>,
    method: String,
    shape: Vec<usize>,
    layout: Layout,
    error: Option<PyErr>,
    nfev: u64,
    njev: u64,
}

impl PyFunction {
    /// Calls `fun` at `x`; writes the gradient to `grad` when asked (then `fun` must return one).
    fn call(&mut self, x: &[f64], grad: Option<&mut [f64]>) -> f64 {
        if self.error.is_some() {
            return f64::NAN;
        }
        self.nfev += 1;
        let wants_grad = grad.is_some();
        if wants_grad {
            self.njev += 1;
        }
        let out = Python::attach(|py| self.call_py(py, x, grad));
        out.unwrap_or_else(|e| {
            self.error = Some(e);
            f64::NAN
        })
    }

    fn call_py(&self, py: Python<'_>, x: &[f64], grad: Option<&mut [f64]>) -> PyResult<f64> {
        let arg = PyArray1::from_slice(py, x).reshape(self.shape.as_slice())?;
        let r = self.fun.bind(py).call1((arg,))?;
        let (loss, g) = match r.cast::<PyTuple>() {
            Ok(t) if t.len() == 2 => (t.get_item(0)?, Some(t.get_item(1)?)),
            Ok(t) => {
                return Err(PyValueError::new_err(format!(
                    "fun(x) returned a tuple of {} items (expected loss or (loss, grad))",
                    t.len()
                )));
            }
            Err(_) => (r, None),
        };
        let loss: f64 = loss.extract().map_err(|_| {
            PyValueError::new_err(format!(
                "fun(x) returned a loss of type {} (expected a float)",
                loss.get_type()
            ))
        })?;
        let Some(out) = grad else { return Ok(loss) };
        let Some(g) = g else {
            return Err(PyValueError::new_err(format!(
                "{} needs the gradient: fun(x) must return (loss, grad), not only the loss",
                self.method
            )));
        };
        let g = py
            .import("numpy")?
            .call_method1("asarray", (g, "float64"))?
            .cast_into::<PyArrayDyn<f64>>()?;
        let g: PyReadonlyArrayDyn<f64> = g.try_readonly()?;
        if g.len() != out.len() {
            return Err(PyValueError::new_err(format!(
                "fun(x) returned a gradient of shape {:?} (expected {:?})",
                g.shape(),
                self.shape
            )));
        }
        for (o, v) in out.iter_mut().zip(g.as_array().iter()) {
            *o = *v;
        }
        Ok(loss)
    }
}

impl Function for PyFunction {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.call(x, None)
    }
}

impl Gradient for PyFunction {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        self.call(x, Some(g))
    }
}

impl Problem for PyFunction {
    fn name(&self) -> String {
        "python function".into()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(function, gradient);
}

/// What `descent.minimize` wraps into its `OptimizeResult`: x, fun, nit, nfev, njev, success,
/// message.
type Minimized<'py> = (Bound<'py, PyAny>, Option<f64>, u64, u64, u64, bool, String);

/// Minimizes `fun` from `x0` with the optimizer of `method` for at most `steps` steps.
///
/// `fun(x)` gets a fresh float64 array of `x0`'s shape and returns the loss, or `(loss, grad)`
/// (required by every method that uses gradients). `callback(x)` runs after each step; returning
/// True stops. Returns (x, fun, nit, nfev, njev, success, message); `fun` is f at the final x
/// (one evaluation, counted in nfev).
#[pyfunction]
#[pyo3(signature = (fun, x0, method, steps, callback = None, seed = 0))]
pub fn minimize<'py>(
    py: Python<'py>,
    fun: Bound<'py, PyAny>,
    x0: PyReadonlyArrayDyn<'py, f64>,
    method: &str,
    steps: u64,
    callback: Option<Bound<'py, PyAny>>,
    seed: u64,
) -> PyResult<Minimized<'py>> {
    let shape = x0.shape().to_vec();
    let mut x: Vec<f64> = x0.as_array().iter().copied().collect();
    let mut layout = Layout::new();
    layout.push("x", &shape);
    let mut opt = parse_optimizer(method).map_err(value_error)?;
    opt.init(&layout, &RngStreams::new(seed))
        .map_err(value_error)?;
    let mut problem = PyFunction {
        fun: fun.unbind(),
        method: method.to_string(),
        shape: shape.clone(),
        layout,
        error: None,
        nfev: 0,
        njev: 0,
    };
    let mut callback_error = None;
    let observer = |r: &descent_optim::StepRecord<'_>| {
        let Some(cb) = &callback else {
            return ControlFlow::Continue(());
        };
        let stop = PyArray1::from_slice(py, r.x)
            .reshape(shape.as_slice())
            .and_then(|a| cb.call1((a,)))
            .and_then(|v| v.is_truthy());
        match stop {
            Ok(false) => ControlFlow::Continue(()),
            Ok(true) => ControlFlow::Break(()),
            Err(e) => {
                callback_error = Some(e);
                ControlFlow::Break(())
            }
        }
    };
    let end = run_with(
        opt.as_mut(),
        &mut x,
        &mut problem,
        RunOptions::steps(steps),
        observer,
    );
    if let Some(e) = problem.error.take().or(callback_error) {
        return Err(e);
    }
    let end = end.map_err(value_error)?;
    let (nit, final_loss, success, message) = match end.outcome {
        Outcome::Completed { steps, final_loss } => {
            let why = match end.reason {
                StopReason::Observer => "the callback stopped the run",
                _ => "all steps ran",
            };
            (steps, final_loss, true, why.to_string())
        }
        Outcome::Diverged {
            step,
            last_finite_loss,
        } => (
            step,
            last_finite_loss,
            false,
            format!("diverged at step {step} (a NaN or infinite loss or x)"),
        ),
    };
    let xr = PyArray1::from_vec(py, x)
        .reshape(shape.as_slice())?
        .into_any();
    Ok((
        xr,
        final_loss,
        nit,
        problem.nfev,
        problem.njev,
        success,
        message,
    ))
}
