//! The privacy accountant (descent-dist's, through descent-lab), float formats (descent-core)
//! and the experiments (descent-lab) from Python.

use std::path::PathBuf;

use descent_core::{Quantizer, Rounding, Spec};
use descent_lab::experiment::{
    Preset, RunContext, registry, resolve_config, run_and_write, run_report,
};
use descent_lab::index::Index;
use descent_lab::privacy::{Conversion, Stage, calibrate, decaying_shape, epsilon_of_schedule};
use descent_lab::report::Report;
use numpy::{PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, ToPyArray};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde_json::json;

use crate::{to_py, value_error};

/// ε spent by a schedule of the Poisson-subsampled Gaussian mechanism (RDP accountant,
/// `descent privacy epsilon --json`). `noise_multiplier` holds one multiplier per stage of
/// `steps`, or one for every stage. Returns {"epsilon", "delta", "order", "conversion"}.
#[pyfunction]
#[pyo3(signature = (noise_multiplier, sampling_rate, steps, delta, conversion = "improved"))]
fn privacy_epsilon<'py>(
    py: Python<'py>,
    noise_multiplier: Vec<f64>,
    sampling_rate: f64,
    steps: Vec<u64>,
    delta: f64,
    conversion: &str,
) -> PyResult<Bound<'py, PyAny>> {
    if noise_multiplier.len() != 1 && noise_multiplier.len() != steps.len() {
        return Err(PyValueError::new_err(format!(
            "noise_multiplier: {} values (expected 1 value or one per stage of steps ({}))",
            noise_multiplier.len(),
            steps.len()
        )));
    }
    let stages: Vec<Stage> = steps
        .iter()
        .enumerate()
        .map(|(i, &t)| Stage {
            q: sampling_rate,
            noise_multiplier: noise_multiplier[if noise_multiplier.len() == 1 { 0 } else { i }],
            steps: t,
        })
        .collect();
    let conversion = Conversion::parse(conversion).map_err(value_error)?;
    let e = epsilon_of_schedule(&stages, delta, conversion).map_err(value_error)?;
    to_py(py, &json!(e))
}

/// The noise multiplier σ₀ that spends at most `epsilon` (calibration by bisection on the
/// accountant, `descent privacy noise --json`); stage s of `steps` gets σ₀·noise_decay^s.
/// Returns {"noise_multiplier", "noise_multipliers", "epsilon", "delta", "order", "conversion",
/// "target_epsilon"}.
#[pyfunction]
#[pyo3(signature = (epsilon, sampling_rate, steps, delta, noise_decay = 1.0, conversion = "improved"))]
fn privacy_noise<'py>(
    py: Python<'py>,
    epsilon: f64,
    sampling_rate: f64,
    steps: Vec<u64>,
    delta: f64,
    noise_decay: f64,
    conversion: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let conversion = Conversion::parse(conversion).map_err(value_error)?;
    let shape = decaying_shape(sampling_rate, &steps, noise_decay).map_err(value_error)?;
    let c = calibrate(epsilon, delta, &shape, conversion).map_err(value_error)?;
    let mut v = json!(c.epsilon);
    v["noise_multiplier"] = json!(c.sigma0);
    v["noise_multipliers"] = json!(
        c.stages
            .iter()
            .map(|s| s.noise_multiplier)
            .collect::<Vec<_>>()
    );
    v["target_epsilon"] = json!(epsilon);
    to_py(py, &v)
}

/// A copy of `array` rounded to a float format (`bf16`, `fp16`, `e4m3`, `fmt(e=8, m=7)`, ...;
/// descent-core's formats, P7). `rounding` is nearest, stochastic or toward_zero (default: the
/// spec's `round=`, else nearest); stochastic rounding of element i (C order) at `step` draws
/// from a hash of (seed, step, i), so equal arguments give equal bits.
#[pyfunction]
#[pyo3(signature = (array, format, rounding = None, seed = 0, step = 0))]
fn quantize<'py>(
    py: Python<'py>,
    array: PyReadonlyArrayDyn<'py, f64>,
    format: &str,
    rounding: Option<&str>,
    seed: u64,
    step: u64,
) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    let spec = Spec::parse(format).map_err(value_error)?;
    let mut q = Quantizer::from_spec(&spec).map_err(value_error)?;
    if let Some(r) = rounding {
        q.rounding = Rounding::parse("rounding", r).map_err(value_error)?;
    }
    let q = q.with_seed(seed);
    let out = array.as_array().to_pyarray(py);
    {
        let mut rw = out.readwrite();
        let xs = rw.as_slice_mut().expect("a new array is C-contiguous");
        q.quantize_slice(xs, step, 0);
    }
    Ok(out)
}

/// The preset and the run context shared by `run` and `reproduce`.
fn context(preset: &str, seed: u64) -> PyResult<RunContext<'static>> {
    Ok(RunContext {
        preset: Preset::parse(preset).map_err(value_error)?,
        seed,
        progress: &|_, _| {},
    })
}

/// Runs one experiment of `descent list` (`drift`, `rbo`, ...), as `descent run`: the preset's
/// config, then each "key=value" of `sets`. Returns the report as a dict (claims with measured
/// values and verdicts, tables, series); with `out`, also writes report.json/.md and the
/// figures there. The GIL is released while it runs.
#[pyfunction]
#[pyo3(signature = (experiment, preset = "quick", seed = 0, sets = Vec::new(), out = None))]
fn run<'py>(
    py: Python<'py>,
    experiment: &str,
    preset: &str,
    seed: u64,
    sets: Vec<String>,
    out: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    let ctx = context(preset, seed)?;
    let reg = registry();
    let exp = reg.get(experiment).map_err(value_error)?;
    let config = resolve_config(exp, ctx.preset, None, &sets).map_err(value_error)?;
    let report = py
        .detach(|| match &out {
            Some(dir) => run_and_write(exp, &config, &ctx, dir).map(|(r, _)| r),
            None => run_report(exp, &config, &ctx).map(|o| o.report),
        })
        .map_err(value_error)?;
    to_py(py, &json!(report))
}

/// Runs every experiment (or those named in `experiments`), as `descent reproduce`. Returns
/// {"reports": [...], "index": {"claims": [...]}}; with `out`, writes each report to
/// `out/<experiment>/` and the index to `out/`.
#[pyfunction]
#[pyo3(signature = (preset = "quick", seed = 0, out = None, experiments = None))]
fn reproduce<'py>(
    py: Python<'py>,
    preset: &str,
    seed: u64,
    out: Option<PathBuf>,
    experiments: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyAny>> {
    let ctx = context(preset, seed)?;
    let reg = registry();
    let chosen = match &experiments {
        Some(names) => names
            .iter()
            .map(|n| reg.get(n))
            .collect::<Result<Vec<_>, _>>()
            .map_err(value_error)?,
        None => reg.iter().collect(),
    };
    let reports = py
        .detach(|| -> descent_core::Result<Vec<Report>> {
            let mut reports = Vec::new();
            for exp in &chosen {
                let config = resolve_config(*exp, ctx.preset, None, &[])?;
                reports.push(match &out {
                    Some(dir) => run_and_write(*exp, &config, &ctx, &dir.join(exp.name()))?.0,
                    None => run_report(*exp, &config, &ctx)?.report,
                });
            }
            let index = Index::from_reports(&reports);
            if let Some(dir) = &out {
                index.write(dir)?;
            }
            Ok(reports)
        })
        .map_err(value_error)?;
    let index = Index::from_reports(&reports);
    to_py(py, &json!({"reports": reports, "index": index}))
}

/// The experiments' names, as `descent list` shows them.
#[pyfunction]
fn experiments(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    PyList::new(py, registry().names())
}

/// Adds the functions of this module to the extension.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(privacy_epsilon, m)?)?;
    m.add_function(wrap_pyfunction!(privacy_noise, m)?)?;
    m.add_function(wrap_pyfunction!(quantize, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(reproduce, m)?)?;
    m.add_function(wrap_pyfunction!(experiments, m)?)?;
    Ok(())
}
