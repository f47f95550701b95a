//! `descent.Optimizer`: a descent transform (any spec `descent list` shows as a transform:
//! sgd, adam, adamw, muon, chain(..), partition(..), ...) stepping a list of float64 numpy
//! arrays in place, as torch.optim's `step()` does.
//!
//! Copies per call: the gradients are copied once into the optimizer's buffer (a transform
//! rewrites its gradient into the update); with one C-contiguous parameter array the update is
//! applied to that array's memory directly, with several arrays the parameters are gathered into
//! one flat buffer and scattered back (a transform sees the whole layout, for global norms and
//! per-block rules). The buffers are allocated once, at construction.

use std::sync::Mutex;

use descent_core::{Layout, RngStreams, Spec};
use descent_optim::registry::{build_transform, entry};
use descent_optim::{Transform, TransformState};
use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::{from_py, to_py, value_error};

/// The mutable part: the transform, its step counter and the two scratch buffers.
struct Inner {
    transform: Box<dyn Transform>,
    /// Updates applied so far (the next update has 1-based index `step + 1`, for schedules).
    step: u64,
    x: Vec<f64>,
    g: Vec<f64>,
}

/// A descent transform over arrays of fixed shapes: `Optimizer("adam(lr=1e-3)", shapes=[(3, 4),
/// (4,)])`, then `opt.step(params, grads)` updates `params` in place.
#[pyclass(name = "Optimizer", module = "descent")]
pub struct PyOptimizer {
    spec: String,
    layout: Layout,
    seed: u64,
    inner: Mutex<Inner>,
}

/// A shape given as an int or a sequence of ints.
fn shape_of(i: usize, obj: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    if let Ok(n) = obj.extract::<usize>() {
        return Ok(vec![n]);
    }
    obj.extract::<Vec<usize>>().map_err(|_| {
        PyValueError::new_err(format!(
            "shapes[{i}]: {obj} is not a shape (expected an int or a tuple of non-negative ints)"
        ))
    })
}

/// The layout of `shapes`, blocks named by `names` (default "0", "1", ...).
fn layout_of(shapes: &[Bound<'_, PyAny>], names: Option<Vec<String>>) -> PyResult<Layout> {
    if let Some(n) = &names
        && n.len() != shapes.len()
    {
        return Err(PyValueError::new_err(format!(
            "names: {} names for {} shapes (expected one name per shape)",
            n.len(),
            shapes.len()
        )));
    }
    let mut layout = Layout::new();
    for (i, s) in shapes.iter().enumerate() {
        let name = names
            .as_ref()
            .map_or_else(|| i.to_string(), |n| n[i].clone());
        layout.push(&name, &shape_of(i, s)?);
    }
    Ok(layout)
}

/// The transform of `spec`; methods that choose where to evaluate are pointed to `minimize`.
fn transform_of(spec: &str) -> PyResult<Box<dyn Transform>> {
    let parsed = Spec::parse(spec).map_err(value_error)?;
    if entry(&parsed.name).is_some_and(|e| !e.is_transform()) {
        return Err(PyValueError::new_err(format!(
            "{spec}: {} evaluates the objective itself (at several points per step or along a \
             line search), so it cannot step from given gradients; use \
             descent.minimize(fun, x0, method=\"{spec}\")",
            parsed.name
        )));
    }
    build_transform(&parsed).map_err(value_error)
}

/// `what[i]` as a C-contiguous float64 array of the block's shape.
fn array_of<'a, 'py>(
    what: &str,
    i: usize,
    obj: &'a Bound<'py, PyAny>,
    shape: &[usize],
) -> PyResult<&'a Bound<'py, PyArrayDyn<f64>>> {
    let a = obj.cast::<PyArrayDyn<f64>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{what}[{i}]: expected a float64 numpy array, got {}",
            describe(obj)
        ))
    })?;
    if a.shape() != shape {
        return Err(PyValueError::new_err(format!(
            "{what}[{i}]: shape {:?}, but the optimizer was built for {shape:?}",
            a.shape()
        )));
    }
    if !a.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{what}[{i}]: not C-contiguous (pass numpy.ascontiguousarray(..))"
        )));
    }
    Ok(a)
}

/// The items of a list or tuple; a numpy array stands for a list of one array.
fn list_of<'py>(what: &str, obj: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if obj.cast::<PyUntypedArray>().is_ok() {
        return Ok(vec![obj.clone()]);
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return Ok(l.iter().collect());
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return Ok(t.iter().collect());
    }
    Err(PyTypeError::new_err(format!(
        "{what}: expected a list of float64 numpy arrays, got {}",
        describe(obj)
    )))
}

/// "a numpy array of dtype float32" or the Python type's name.
fn describe(obj: &Bound<'_, PyAny>) -> String {
    match obj.getattr("dtype") {
        Ok(d) => format!("an array of dtype {d}"),
        Err(_) => obj
            .get_type()
            .name()
            .map_or_else(|_| "an object".into(), |n| format!("a {n}")),
    }
}

impl PyOptimizer {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[pymethods]
impl PyOptimizer {
    /// Builds the transform of `spec` for parameter arrays of these `shapes`.
    ///
    /// `names` names the blocks (for `partition(groups=[group(match="*.bias", ..)])`; default
    /// "0", "1", ...); `seed` seeds the transforms that draw noise. 2-D shapes are matrices
    /// (Muon orthogonalises them).
    #[new]
    #[pyo3(signature = (spec, shapes, names = None, seed = 0))]
    fn new(
        spec: &str,
        shapes: Vec<Bound<'_, PyAny>>,
        names: Option<Vec<String>>,
        seed: u64,
    ) -> PyResult<Self> {
        let layout = layout_of(&shapes, names)?;
        let mut transform = transform_of(spec)?;
        transform
            .build(&layout, &RngStreams::new(seed))
            .map_err(value_error)?;
        let n = layout.len();
        Ok(PyOptimizer {
            spec: spec.to_string(),
            layout,
            seed,
            inner: Mutex::new(Inner {
                transform,
                step: 0,
                x: if shapes.len() > 1 {
                    vec![0.0; n]
                } else {
                    Vec::new()
                },
                g: vec![0.0; n],
            }),
        })
    }

    /// One update: `params[i] += update(grads)[i]`, in place. `params` and `grads` are lists of
    /// C-contiguous float64 arrays of the constructor's shapes; `grads` is not modified.
    /// A single array stands for a one-element list.
    fn step(&self, params: &Bound<'_, PyAny>, grads: &Bound<'_, PyAny>) -> PyResult<()> {
        let (params, grads) = (list_of("params", params)?, list_of("grads", grads)?);
        let blocks = self.layout.blocks();
        for (what, list) in [("params", &params), ("grads", &grads)] {
            if list.len() != blocks.len() {
                return Err(PyValueError::new_err(format!(
                    "{what}: {} arrays, but the optimizer was built for {} shapes",
                    list.len(),
                    blocks.len()
                )));
            }
        }
        let mut inner = self.lock();
        let Inner {
            transform,
            step,
            x,
            g,
        } = &mut *inner;
        for (i, (b, obj)) in blocks.iter().zip(&grads).enumerate() {
            let a = array_of("grads", i, obj, &b.shape)?
                .try_readonly()
                .map_err(|e| PyValueError::new_err(format!("grads[{i}]: {e}")))?;
            g[b.range()].copy_from_slice(
                a.as_slice()
                    .map_err(|e| PyValueError::new_err(format!("grads[{i}]: {e}")))?,
            );
        }
        let mut borrowed = Vec::with_capacity(blocks.len());
        for (i, (b, obj)) in blocks.iter().zip(&params).enumerate() {
            let a = array_of("params", i, obj, &b.shape)?;
            borrowed.push(a.try_readwrite().map_err(|e| {
                PyValueError::new_err(format!("params[{i}]: {e} (is it also in grads?)"))
            })?);
        }
        *step += 1;
        if let [only] = borrowed.as_mut_slice() {
            let p = only
                .as_slice_mut()
                .map_err(|e| PyValueError::new_err(format!("params[0]: {e}")))?;
            transform.apply(*step, g, p);
            return Ok(());
        }
        for (b, a) in blocks.iter().zip(&borrowed) {
            x[b.range()].copy_from_slice(a.as_slice().expect("checked C-contiguous"));
        }
        transform.apply(*step, g, x);
        for (b, a) in blocks.iter().zip(&mut borrowed) {
            a.as_slice_mut()
                .expect("checked C-contiguous")
                .copy_from_slice(&x[b.range()]);
        }
        Ok(())
    }

    /// The state as a dict: `{"spec", "step", "transform"}` (the transform's moments, counters
    /// and current hyperparameters, descent's `TransformState`; floats keep every bit).
    fn state_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let inner = self.lock();
        let d = PyDict::new(py);
        d.set_item("spec", &self.spec)?;
        d.set_item("step", inner.step)?;
        let state = serde_json::to_value(inner.transform.state())
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        d.set_item("transform", to_py(py, &state)?)?;
        Ok(d)
    }

    /// Restores a `state_dict()` of an optimizer with the same spec and shapes.
    fn load_state_dict(&self, state: &Bound<'_, PyDict>) -> PyResult<()> {
        let get = |key: &str| {
            state.get_item(key)?.ok_or_else(|| {
                PyValueError::new_err(format!(
                    "state_dict: no key '{key}' (expected the keys spec, step, transform)"
                ))
            })
        };
        let spec: String = get("spec")?.extract()?;
        if spec != self.spec {
            return Err(PyValueError::new_err(format!(
                "state_dict.spec: '{spec}', but this optimizer is '{}'",
                self.spec
            )));
        }
        let step: u64 = get("step")?
            .extract()
            .map_err(|_| PyValueError::new_err("state_dict.step: expected a non-negative int"))?;
        let ts: TransformState =
            serde_json::from_value(from_py("state_dict.transform", &get("transform")?)?)
                .map_err(|e| PyValueError::new_err(format!("state_dict.transform: {e}")))?;
        let mut inner = self.lock();
        inner.transform.load_state(&ts).map_err(value_error)?;
        inner.step = step;
        Ok(())
    }

    /// The current value of a hyperparameter (e.g. "lr").
    fn hyper(&self, name: &str) -> PyResult<f64> {
        let inner = self.lock();
        inner.transform.hyper(name).ok_or_else(|| {
            PyValueError::new_err(format!(
                "{}: no hyperparameter '{name}' (it has {:?})",
                self.spec,
                inner.transform.hyper_names()
            ))
        })
    }

    /// Changes a hyperparameter between steps (e.g. `set_hyper("lr", 1e-4)`).
    fn set_hyper(&self, name: &str, value: f64) -> PyResult<()> {
        self.lock()
            .transform
            .set_hyper(name, value)
            .map_err(value_error)
    }

    /// Rebuilds the state (zero moments, step 0).
    fn reset(&self) -> PyResult<()> {
        let mut inner = self.lock();
        inner
            .transform
            .build(&self.layout, &RngStreams::new(self.seed))
            .map_err(value_error)?;
        inner.step = 0;
        Ok(())
    }

    /// The spec text the optimizer was built from.
    #[getter]
    fn spec(&self) -> &str {
        &self.spec
    }

    /// The transform's name as descent writes it (defaults filled in).
    #[getter]
    fn name(&self) -> String {
        self.lock().transform.name()
    }

    /// The parameter shapes, in order.
    #[getter]
    fn shapes(&self) -> Vec<Vec<usize>> {
        self.layout
            .blocks()
            .iter()
            .map(|b| b.shape.clone())
            .collect()
    }

    /// Updates applied so far.
    #[getter]
    fn steps(&self) -> u64 {
        self.lock().step
    }

    fn __repr__(&self) -> String {
        format!(
            "descent.Optimizer({:?}, shapes={:?})",
            self.spec,
            self.shapes()
        )
    }
}
