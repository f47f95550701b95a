//! descent from Python (PyO3): the module `descent._descent`, wrapped by the pure-Python package
//! `descent` (python/descent). Every computation is descent's Rust code; this crate only converts
//! between numpy arrays, Python objects and descent's types:
//!
//! - `optimizer`: `descent.Optimizer`, any transform stepping lists of float64 arrays in place;
//! - `minimize`: `descent.minimize`, any optimizer over a Python function (scipy's convention);
//! - `lab`: the privacy accountant, float formats and the experiments.
//!
//! descent's errors become `ValueError` carrying descent's message; exceptions raised by Python
//! callbacks propagate unchanged.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;

mod lab;
mod minimize;
mod optimizer;

/// descent's error as a Python `ValueError` with descent's message.
pub(crate) fn value_error(e: descent_core::Error) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A JSON value (states, reports) as Python objects, through the `json` module: serde_json writes
/// the shortest text that reads back to the same f64, so floats keep every bit.
pub(crate) fn to_py<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (v.to_string(),))
}

/// Python objects (dicts, lists, numbers, strings) as a JSON value, through `json.dumps`.
pub(crate) fn from_py(what: &str, obj: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let py = obj.py();
    let text = py
        .import("json")?
        .call_method1("dumps", (obj,))
        .map_err(|e| PyValueError::new_err(format!("{what}: not JSON data ({e})")))?;
    let text = text.cast::<PyString>()?.to_str()?.to_owned();
    serde_json::from_str(&text).map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

/// The extension module; `python/descent/__init__.py` re-exports it with docs and wrappers.
#[pymodule]
fn _descent(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<optimizer::PyOptimizer>()?;
    m.add_function(wrap_pyfunction!(minimize::minimize, m)?)?;
    lab::register(m)?;
    Ok(())
}
