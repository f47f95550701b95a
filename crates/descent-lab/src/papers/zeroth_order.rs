//! P10, Ma & Huang (ICLR 2025): minimum-variance two-point estimators and directionally aligned
//! perturbations (DAP). Experiment `zeroth-order`, spec `papers/P10-zeroth-order.md` §5:
//!
//! - Z1: the μ → 0 moments of every law (E[vvᵀ] = I, total and per-coordinate MSE, E‖g‖², DAP's
//!   zero along-gradient error) against the closed forms of spec §2.3, plus the same moments
//!   from exact central differences on a quadratic, and the 1/d bias of the authors' unscaled
//!   coordinate law (pitfall Z2).
//! - Z2: τ-MSE replication of the authors' Synthetic A (quadratic) and B (product function).
//! - Z3: per-coordinate crossover of DAP against the uniform sphere at a_i² = ‖a‖²/d.
//! - Z4: ZO-SGD on a quadratic and a separable nonconvex function per law, with loss against
//!   function queries, the one-step expectation of spec claim 6, and aᵀg = ‖a‖² for DAP.
//! - Extras (reported): Rosenbrock and softmax regression on digits (d = 650) at equal query
//!   budgets.
//!
//! Every estimate comes from the library's [`ZoGradient`] / `zo(...)` optimizer; the moments come
//! from [`descent_optim::probes`].

use std::ops::ControlFlow;
use std::sync::Arc;

use descent_core::testfns::{CosineWell, Product, Rosenbrock, SeparableQuadratic};
use descent_core::{EvalCounts, Function, Gradient, Problem, Result, RngStreams, Spec};
use descent_optim::probes::{EstimatorProbe, SecondMoment, probe_zo, tau_mse};
use descent_optim::zeroth_order::{DapConstruction, DapDirection};
use descent_optim::{Difference, PerturbationLaw, ZoConfig, ZoGradient, build_optimizer};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config;
use crate::experiment::{Experiment, Preset, RunContext, RunOutput};
use crate::plot::{Figure, LegendAt, Line, Panel};
use crate::report::{Claim, ClaimKind, Report, num};

/// The experiment.
pub struct ZerothOrder;

/// Z1: moment tests.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z1Config {
    /// Dimensions d.
    pub dims: Vec<usize>,
    /// Samples per law and dimension.
    pub samples: usize,
}

impl Default for Z1Config {
    fn default() -> Self {
        Z1Config {
            dims: vec![8, 64],
            samples: 200_000,
        }
    }
}

/// Z2: τ-MSE replication.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z2Config {
    /// Trials (independent estimates) per law and batch size for the medians.
    pub trials: usize,
    /// Synthetic A batch sizes B (directions per estimate).
    pub batches: Vec<usize>,
    /// Synthetic A dimension.
    pub quad_dim: usize,
    /// Synthetic A coordinates of x set to zero (zero gradient there).
    pub quad_zeroed: usize,
    /// Synthetic A smoothing μ (central differences: exact for a quadratic).
    pub quad_mu: f64,
    /// Synthetic A threshold τ.
    pub quad_tau: f64,
    /// Trials for the mean Rademacher-vs-DAP comparison (a mean needs more than a median).
    pub rademacher_trials: usize,
    /// Synthetic B (product function) dimension.
    pub product_dim: usize,
    /// Synthetic B batch sizes.
    pub product_batches: Vec<usize>,
    /// Synthetic B smoothing μ (central differences).
    pub product_mu: f64,
    /// Synthetic B threshold τ.
    pub product_tau: f64,
}

impl Default for Z2Config {
    fn default() -> Self {
        Z2Config {
            trials: 1000,
            batches: vec![32, 128, 512],
            quad_dim: 8,
            quad_zeroed: 4,
            quad_mu: 1e-3,
            quad_tau: 0.01,
            rademacher_trials: 4000,
            product_dim: 16,
            product_batches: vec![2, 8, 32],
            product_mu: 1e-4,
            product_tau: 1e-4,
        }
    }
}

/// Z3: per-coordinate crossover.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z3Config {
    /// Dimension.
    pub dim: usize,
    /// Samples per law.
    pub samples: usize,
}

impl Default for Z3Config {
    fn default() -> Self {
        Z3Config {
            dim: 16,
            samples: 100_000,
        }
    }
}

/// Z4: ZO-SGD on the test functions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z4Config {
    /// Dimension.
    pub dim: usize,
    /// ZO-SGD steps.
    pub steps: usize,
    /// Seeds per law.
    pub seeds: usize,
    /// Directions per step (DAP-estimated gets q/2, so every law uses q + 1 values a step).
    pub q: usize,
    /// Forward-difference μ.
    pub mu: f64,
    /// Record the loss every this many steps.
    pub record_every: usize,
    /// Monte Carlo repeats for the one-step expectation (claim 6).
    pub one_step_samples: usize,
}

impl Default for Z4Config {
    fn default() -> Self {
        Z4Config {
            dim: 32,
            steps: 3000,
            seeds: 5,
            q: 4,
            mu: 1e-6,
            record_every: 25,
            one_step_samples: 100_000,
        }
    }
}

/// Reported extras at equal function-query budgets.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtrasConfig {
    /// Run the extras at all.
    pub run: bool,
    /// Rosenbrock dimension.
    pub rosenbrock_dim: usize,
    /// Function queries per Rosenbrock run.
    pub rosenbrock_queries: usize,
    /// Function queries per digits run (softmax regression, d = 650).
    pub digits_queries: usize,
    /// Minibatch size on digits.
    pub digits_batch: usize,
    /// Adam learning rate on digits (ZO-Adam).
    pub digits_lr: f64,
    /// Directions per step.
    pub q: usize,
    /// Seeds per law.
    pub seeds: usize,
}

impl Default for ExtrasConfig {
    fn default() -> Self {
        ExtrasConfig {
            run: true,
            rosenbrock_dim: 4,
            rosenbrock_queries: 60_000,
            digits_queries: 30_000,
            digits_batch: 64,
            digits_lr: 0.01,
            q: 4,
            seeds: 2,
        }
    }
}

/// The `zeroth-order` config.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZoExperimentConfig {
    pub z1: Z1Config,
    pub z2: Z2Config,
    pub z3: Z3Config,
    pub z4: Z4Config,
    pub extras: ExtrasConfig,
}

const K: ClaimKind = ClaimKind::Asserted;
const R: ClaimKind = ClaimKind::Reported;

fn dap(construction: DapConstruction) -> PerturbationLaw {
    PerturbationLaw::Dap {
        construction,
        direction: DapDirection::Exact,
    }
}

/// The Z1 laws with their labels.
fn z1_laws() -> Vec<(&'static str, PerturbationLaw)> {
    vec![
        ("gaussian", PerturbationLaw::Gaussian),
        ("sphere", PerturbationLaw::Sphere),
        ("rademacher", PerturbationLaw::Rademacher),
        ("coordinate", PerturbationLaw::Coordinate),
        ("dap(i)", dap(DapConstruction::GaussianComplement)),
        ("dap(ii)", dap(DapConstruction::NormConstant)),
        ("dap(iii)", dap(DapConstruction::SphereProject)),
    ]
}

/// Closed-form μ → 0 per-coordinate MSE of g = (aᵀv)v (spec §2.3).
fn coord_mse_theory(label: &str, d: usize, a2: f64, ai2: f64) -> f64 {
    let df = d as f64;
    match label {
        "gaussian" => a2 + ai2,
        "sphere" => (df * a2 + (df - 2.0) * ai2) / (df + 2.0),
        "coordinate" => (df - 1.0) * ai2,
        _ => a2 - ai2, // rademacher and every DAP
    }
}

fn total_mse_theory(label: &str, d: usize) -> f64 {
    if label == "gaussian" {
        d as f64 + 1.0
    } else {
        d as f64 - 1.0
    }
}

fn normal(rng: &mut descent_core::rng::Rng) -> f64 {
    StandardNormal.sample(rng)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// One Z1 cell: moments of a law at dimension d.
struct Z1Cell {
    d: usize,
    label: &'static str,
    diag_dev: f64,
    off_dev: f64,
    total_ratio: f64,
    central_total_ratio: f64,
    coord_rel_dev: f64,
    along: f64,
    second_moment: f64,
}

fn z1_truth(d: usize, streams: &RngStreams) -> Vec<f64> {
    let mut rng = streams.indexed("z1-a", d as u64);
    let mut a: Vec<f64> = (0..d).map(|_| 3.0 * normal(&mut rng)).collect();
    a.iter_mut().take(d / 3).for_each(|x| *x = 0.0);
    a
}

fn z1_cell(
    d: usize,
    idx: usize,
    label: &'static str,
    law: PerturbationLaw,
    n: usize,
    streams: &RngStreams,
) -> Result<Z1Cell> {
    let a = z1_truth(d, streams);
    let a2 = dot(&a, &a);
    let u: Vec<f64> = a.iter().map(|x| x / a2.sqrt()).collect();
    let mut rng = streams.indexed("z1-v", (d * 100 + idx) as u64);
    let mut m = SecondMoment::new(d);
    let mut probe = EstimatorProbe::new(&a);
    let mut v = vec![0.0; d];
    let mut g = vec![0.0; d];
    for _ in 0..n {
        law.sample(&mut rng, Some(&u), &mut v)?;
        m.add(&v);
        let c = dot(&a, &v);
        g.iter_mut().zip(&v).for_each(|(gi, vi)| *gi = c * vi);
        probe.add(&g);
    }
    let s = probe.stats();
    let (diag_dev, off_dev) = m.deviation_from_identity(1.0);
    let mut coord_rel_dev = 0.0f64;
    for (ai, mse) in a.iter().zip(&s.coord_mse) {
        if *ai != 0.0 {
            let t = coord_mse_theory(label, d, a2, ai * ai);
            coord_rel_dev = coord_rel_dev.max((mse / t - 1.0).abs());
        }
    }
    // The same law through the library's estimator: exact central differences on the quadratic
    // f(x) = aᵀx + ½ Σ wᵢxᵢ² at x = 0, where ∇f = a.
    let w: Vec<f64> = (0..d).map(|i| 0.5 + (i % 5) as f64 * 0.25).collect();
    let quad = SeparableQuadratic::new(&w, &a)?;
    let cfg = ZoConfig {
        law,
        q: 1,
        mu: 1e-3,
        difference: Difference::Central,
        ..ZoConfig::default()
    };
    let mut zo = ZoGradient::new(quad, cfg, &streams.indexed_streams("z1-central", idx))?;
    let central = probe_zo(&mut zo, &vec![0.0; d], n / 2)?;
    Ok(Z1Cell {
        d,
        label,
        diag_dev,
        off_dev,
        total_ratio: s.total_mse / a2 / total_mse_theory(label, d),
        central_total_ratio: central.total_mse / a2 / total_mse_theory(label, d),
        coord_rel_dev,
        along: s.along_mse / a2,
        second_moment: s.second_moment / a2,
    })
}

/// The tolerance on the coordinate law's diagonal second moment and per-coordinate MSE: the
/// spec's 0.1, calibrated at d = 64, scaled by √(d/64) beyond it. Each diagonal entry is
/// d·(count of e_i)/n, whose relative standard error √((d−1)/n) grows like √d at a fixed sample
/// count (0.036 at d = 256, n = 2·10⁵, where the maximum over 256 entries is ≈ 3.3 of them).
fn coordinate_law_tolerance(d: usize) -> f64 {
    0.1 * (d as f64 / 64.0).sqrt().max(1.0)
}

/// The authors' coordinate law without √d: E[(aᵀe_J)e_J] = a/d. The draws come from the
/// library's (scaled) coordinate law v = √d·e_J, unscaled here: g = (aᵀv)v/d. Returns
/// d·aᵀE[g]/‖a‖² (1 when the library law carries exactly √d).
fn unscaled_coordinate_coefficient(d: usize, n: usize, streams: &RngStreams) -> Result<f64> {
    let a = z1_truth(d, streams);
    let mut rng = streams.indexed("z1-unscaled", d as u64);
    let mut probe = EstimatorProbe::new(&a);
    let (mut v, mut g) = (vec![0.0; d], vec![0.0; d]);
    for _ in 0..n {
        PerturbationLaw::Coordinate.sample(&mut rng, None, &mut v)?;
        let av = dot(&a, &v);
        for (gi, vi) in g.iter_mut().zip(&v) {
            *gi = av * vi / d as f64;
        }
        probe.add(&g);
    }
    let s = probe.stats();
    Ok(d as f64 * dot(&a, &s.mean) / dot(&a, &a))
}

fn z1(c: &Z1Config, streams: &RngStreams, report: &mut Report) -> Result<()> {
    let laws = z1_laws();
    let jobs: Vec<(usize, usize)> = c
        .dims
        .iter()
        .flat_map(|&d| (0..laws.len()).map(move |i| (d, i)))
        .collect();
    let cells: Vec<Z1Cell> = jobs
        .par_iter()
        .map(|&(d, i)| z1_cell(d, i, laws[i].0, laws[i].1, c.samples, streams))
        .collect::<Result<_>>()?;
    let mut rows = Vec::new();
    let (mut sm_ok, mut tot_ok, mut coord_ok, mut central_ok) = (true, true, true, true);
    let mut sm_meas = serde_json::Map::new();
    let mut tot_meas = serde_json::Map::new();
    let mut coord_meas = serde_json::Map::new();
    let mut central_meas = serde_json::Map::new();
    let mut along_max = 0.0f64;
    for cell in &cells {
        let key = format!("d={} {}", cell.d, cell.label);
        let coordinate_tol = coordinate_law_tolerance(cell.d);
        let (diag_tol, off_tol) = match (cell.d <= 8, cell.label) {
            (true, _) => (0.02, 0.02),
            (false, "coordinate") => (coordinate_tol, 0.03),
            (false, _) => (0.03, 0.03),
        };
        sm_ok &= cell.diag_dev <= diag_tol && cell.off_dev <= off_tol;
        sm_meas.insert(key.clone(), num(cell.diag_dev.max(cell.off_dev)));
        tot_ok &= (cell.total_ratio - 1.0).abs() <= 0.03;
        tot_meas.insert(key.clone(), num(cell.total_ratio));
        central_ok &= (cell.central_total_ratio - 1.0).abs() <= 0.03;
        central_meas.insert(key.clone(), num(cell.central_total_ratio));
        let tol = if cell.label == "coordinate" {
            coordinate_tol
        } else {
            0.06
        };
        coord_ok &= cell.coord_rel_dev <= tol;
        coord_meas.insert(key.clone(), num(cell.coord_rel_dev));
        if cell.label.starts_with("dap") {
            along_max = along_max.max(cell.along);
        }
        rows.push(vec![
            json!(cell.d),
            json!(cell.label),
            num(cell.diag_dev),
            num(cell.off_dev),
            num(cell.total_ratio * total_mse_theory(cell.label, cell.d)),
            num(total_mse_theory(cell.label, cell.d)),
            num(cell.coord_rel_dev),
            num(cell.along),
            num(cell.second_moment),
        ]);
    }
    report.add_table(
        "z1_moments",
        &[
            "d",
            "law",
            "max |E[vv^T]_ii - 1|",
            "max |E[vv^T]_ij|",
            "total MSE / |a|^2",
            "theory",
            "max rel. dev. per-coord MSE",
            "along-gradient MSE / |a|^2",
            "E|g|^2 / |a|^2",
        ],
        rows,
    );
    report
        .claim(Claim::judged(
            "zeroth-order/z1-second-moment",
            "every law has E[vv^T] = I (max entry deviation per d and law)",
            K,
            Value::Object(sm_meas),
            "<= 0.02 (d = 8); <= 0.03 (d >= 64; coordinate diagonal <= 0.1·sqrt(d/64))",
            sm_ok,
        ))
        .claim(Claim::judged(
            "zeroth-order/z1-total-mse",
            "total MSE of g = (a^T v)v is (d+1)|a|^2 for Gaussian and (d-1)|a|^2 for the sphere, \
             Rademacher, coordinate and DAP laws (measured / theory)",
            K,
            Value::Object(tot_meas),
            "every ratio in [0.97, 1.03]",
            tot_ok,
        ))
        .claim(Claim::judged(
            "zeroth-order/z1-central-quadratic",
            "the same total MSE from exact central differences (mu = 1e-3) on a quadratic through \
             ZoGradient (measured / theory)",
            K,
            Value::Object(central_meas),
            "every ratio in [0.97, 1.03]",
            central_ok,
        ))
        .claim(Claim::judged(
            "zeroth-order/z1-coord-mse",
            "per-coordinate MSE matches spec §2.3 on coordinates with a_i != 0 (max relative \
             deviation)",
            K,
            Value::Object(coord_meas),
            "<= 0.06 (coordinate law <= 0.1·sqrt(d/64))",
            coord_ok,
        ))
        .claim(Claim::at_most(
            "zeroth-order/z1-dap-along-gradient",
            "DAP (constructions i, ii, iii) puts no error on the gradient direction: max \
             E(a_hat^T e)^2 / |a|^2",
            K,
            along_max,
            1e-20,
        ));
    // E‖g‖²: Gaussian over the sphere, against (d+2)/d
    let mut ratio_meas = serde_json::Map::new();
    let mut ratio_ok = true;
    for &d in &c.dims {
        let get = |l: &str| {
            cells
                .iter()
                .find(|x| x.d == d && x.label == l)
                .map(|x| x.second_moment)
                .unwrap_or(f64::NAN)
        };
        let r = get("gaussian") / get("sphere") / ((d as f64 + 2.0) / d as f64);
        ratio_ok &= (r - 1.0).abs() <= 0.03;
        ratio_meas.insert(format!("d={d}"), num(r));
    }
    report.claim(Claim::judged(
        "zeroth-order/z1-gaussian-penalty",
        "E|g|^2 of Gaussian over the uniform sphere equals (d+2)/d (measured / (d+2)/d)",
        K,
        Value::Object(ratio_meas),
        "every ratio in [0.97, 1.03]",
        ratio_ok,
    ));
    let mut coef = serde_json::Map::new();
    let mut coef_ok = true;
    for &d in &c.dims {
        let k = unscaled_coordinate_coefficient(d, c.samples, streams)?;
        coef_ok &= (k - 1.0).abs() <= 0.05;
        coef.insert(format!("d={d}"), num(k));
    }
    report.claim(Claim::judged(
        "zeroth-order/z1-unscaled-coordinate-bias",
        "regression guard (pitfall Z2): the coordinate law without sqrt(d), as in the authors' \
         notebook, has mean a/d (measured d a^T E[g] / |a|^2)",
        K,
        Value::Object(coef),
        "every value in [0.95, 1.05]",
        coef_ok,
    ));
    Ok(())
}

/// Draws `trials` estimates with `cfg` at `x` on `problem` and returns each trial's τ-MSE.
fn tau_trials<P: Problem + Clone>(
    problem: &P,
    cfg: ZoConfig,
    x: &[f64],
    truth: &[f64],
    tau: f64,
    trials: usize,
    streams: &RngStreams,
) -> Result<Vec<f64>> {
    let mut zo = ZoGradient::new(problem.clone(), cfg, streams)?;
    let mut g = vec![0.0; x.len()];
    let mut out = Vec::with_capacity(trials);
    for _ in 0..trials {
        zo.value_grad(x, &mut g);
        out.push(tau_mse(&g, truth, tau).unwrap_or(f64::NAN));
    }
    Ok(out)
}

const Z2_LAWS: [&str; 5] = ["dap_exact", "sphere", "gaussian", "rademacher", "dap"];

/// Z2 for one function: the median τ-MSE per law and batch (DAP-estimated at nominal B, sphere
/// at 2B in `sphere_2b`), and the trials' means for the Rademacher check.
struct Z2Result {
    /// medians[law][batch]
    medians: Vec<Vec<f64>>,
    sphere_2b: Vec<f64>,
}

#[allow(clippy::too_many_arguments)]
fn z2_run<P: Problem + Clone + Sync>(
    problem: &P,
    x: &[f64],
    truth: &[f64],
    tau: f64,
    mu: f64,
    batches: &[usize],
    trials: usize,
    streams: &RngStreams,
    tag: &str,
) -> Result<Z2Result> {
    let mut jobs: Vec<(usize, usize)> = Vec::new();
    for l in 0..=Z2_LAWS.len() {
        for b in 0..batches.len() {
            jobs.push((l, b));
        }
    }
    let meds: Vec<f64> = jobs
        .par_iter()
        .map(|&(l, b)| {
            let (law, q) = if l == Z2_LAWS.len() {
                (PerturbationLaw::Sphere, 2 * batches[b])
            } else {
                (PerturbationLaw::parse("law", Z2_LAWS[l])?, batches[b])
            };
            let cfg = ZoConfig {
                law,
                q,
                mu,
                difference: Difference::Central,
                ..ZoConfig::default()
            };
            let s = streams.indexed_streams(tag, l * 100 + b);
            let mut t = tau_trials(problem, cfg, x, truth, tau, trials, &s)?;
            Ok(median(&mut t))
        })
        .collect::<Result<_>>()?;
    let nb = batches.len();
    let medians = (0..Z2_LAWS.len())
        .map(|l| meds[l * nb..(l + 1) * nb].to_vec())
        .collect();
    Ok(Z2Result {
        medians,
        sphere_2b: meds[Z2_LAWS.len() * nb..].to_vec(),
    })
}

fn z2(c: &Z2Config, streams: &RngStreams, report: &mut Report) -> Result<Vec<Panel>> {
    // Synthetic A: f(x) = xᵀWx, W = diag(U(−1, 1)), x ~ N(0, 10²I) with coordinates zeroed.
    let n = c.quad_dim;
    let mut rng = streams.stream("z2-a");
    let w: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut x: Vec<f64> = (0..n).map(|_| 10.0 * normal(&mut rng)).collect();
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..c.quad_zeroed.min(n) {
        let j = rng.random_range(i..n);
        idx.swap(i, j);
        x[idx[i]] = 0.0;
    }
    let two_w: Vec<f64> = w.iter().map(|v| 2.0 * v).collect();
    let mut quad = SeparableQuadratic::new(&two_w, &vec![0.0; n])?;
    let mut a = vec![0.0; n];
    quad.value_grad(&x, &mut a);
    let ra = z2_run(
        &quad, &x, &a, c.quad_tau, c.quad_mu, &c.batches, c.trials, streams, "z2-quad",
    )?;
    // Rademacher vs DAP-exact: the mean of B·τ-MSE over many trials, pooled over batches.
    let pooled = |law: &str, tag: u64| -> Result<f64> {
        let mut total = 0.0;
        for (bi, &b) in c.batches.iter().enumerate() {
            let cfg = ZoConfig {
                law: PerturbationLaw::parse("law", law)?,
                q: b,
                mu: c.quad_mu,
                difference: Difference::Central,
                ..ZoConfig::default()
            };
            let s = RngStreams::new(streams.child_seed("z2-rad", tag * 100 + bi as u64));
            let t = tau_trials(&quad, cfg, &x, &a, c.quad_tau, c.rademacher_trials, &s)?;
            total += b as f64 * mean(&t);
        }
        Ok(total / c.batches.len() as f64)
    };
    let (rad, dapx) = rayon::join(|| pooled("rademacher", 1), || pooled("dap_exact", 2));
    let (rad, dapx) = (rad?, dapx?);
    let ord_ok = (0..c.batches.len())
        .all(|b| ra.medians[0][b] < ra.medians[1][b] && ra.medians[1][b] < ra.medians[2][b]);
    let parity: Vec<f64> = (0..c.batches.len())
        .map(|b| ra.medians[4][b] / ra.sphere_2b[b])
        .collect();
    let mut ord = serde_json::Map::new();
    for (b, &bs) in c.batches.iter().enumerate() {
        ord.insert(
            format!("B={bs}"),
            json!([ra.medians[0][b], ra.medians[1][b], ra.medians[2][b]]),
        );
    }
    report
        .claim(Claim::judged(
            "zeroth-order/z2-quadratic-ordering",
            "Synthetic A (quadratic, n = 8): median tau-MSE [DAP-exact, uniform sphere, Gaussian] \
             at each B",
            K,
            Value::Object(ord),
            "DAP-exact < sphere < Gaussian at every B",
            ord_ok,
        ))
        .claim(Claim::judged(
            "zeroth-order/z2-dap-estimated-parity",
            "Synthetic A: DAP-estimated at nominal B (2B directions) against the sphere at 2B, \
             median tau-MSE ratio per B (equal-budget parity, not superiority)",
            K,
            json!(parity),
            "every ratio <= 1.1",
            parity.iter().all(|r| *r <= 1.1),
        ))
        .claim(Claim::in_range(
            "zeroth-order/z2-rademacher-matches-dap",
            "Synthetic A: Rademacher (no gradient knowledge) has the per-coordinate MSE of \
             DAP-exact: mean B*tau-MSE ratio Rademacher / DAP-exact",
            K,
            rad / dapx,
            0.9,
            1.1,
        ));
    let mut rows = Vec::new();
    for (b, &bs) in c.batches.iter().enumerate() {
        let mut r = vec![json!(bs)];
        r.extend((0..Z2_LAWS.len()).map(|l| num(ra.medians[l][b])));
        r.push(num(ra.sphere_2b[b]));
        rows.push(r);
    }
    let cols = [
        "B",
        "DAP-exact",
        "sphere",
        "Gaussian",
        "Rademacher",
        "DAP-estimated (2B directions)",
        "sphere at 2B",
    ];
    report.add_table("z2_synthetic_a_median_tau_mse", &cols, rows);

    // Synthetic B: f(x) = Π xᵢ with x₀ = 0 (1-sparse gradient); redraw x until |∂₀f| ≥ τ.
    let m = c.product_dim;
    let mut prod = Product::new(m)?;
    let mut rng = streams.stream("z2-b");
    let mut xb = vec![0.0; m];
    let mut ab = vec![0.0; m];
    let mut draws = 0;
    loop {
        draws += 1;
        for v in xb.iter_mut() {
            *v = normal(&mut rng);
        }
        xb[0] = 0.0;
        prod.value_grad(&xb, &mut ab);
        if ab[0].abs() >= c.product_tau || draws >= 10_000 {
            break;
        }
    }
    let rb = z2_run(
        &prod,
        &xb,
        &ab,
        c.product_tau,
        c.product_mu,
        &c.product_batches,
        c.trials,
        streams,
        "z2-prod",
    )?;
    let ratios: Vec<f64> = (0..c.product_batches.len())
        .map(|b| rb.medians[0][b] / rb.medians[1][b])
        .collect();
    let est_ratios: Vec<f64> = (0..c.product_batches.len())
        .map(|b| rb.medians[4][b] / rb.medians[1][b])
        .collect();
    let rademacher_ratios: Vec<f64> = (0..c.product_batches.len())
        .map(|b| rb.medians[3][b] / rb.medians[1][b])
        .collect();
    report
        .claim(Claim::judged(
            "zeroth-order/z2-product-dap-exact",
            "Synthetic B (product, n = 16, x_0 = 0): median tau-MSE DAP-exact / uniform sphere \
             per B (machine-precision advantage)",
            K,
            json!(ratios),
            "every ratio <= 1e-6",
            ratios.iter().all(|r| *r <= 1e-6),
        ))
        .claim(Claim::judged(
            "zeroth-order/z2-product-dap-estimated",
            "Synthetic B: median tau-MSE DAP-estimated (2B directions) / sphere at B (spec's mc: \
             about 0.5)",
            R,
            json!(est_ratios),
            "every ratio in [0.25, 1] (spec's mc: about 0.5)",
            est_ratios.iter().all(|r| (0.25..=1.0).contains(r)),
        ))
        .claim(Claim::judged(
            "zeroth-order/z2-product-rademacher",
            "Synthetic B: median tau-MSE Rademacher / uniform sphere per B (Rademacher's \
             per-coordinate MSE |a|^2 - a_i^2 is also 0 for a 1-sparse gradient, so DAP's \
             machine-precision advantage is shared by a law that needs no gradient)",
            R,
            json!(rademacher_ratios),
            "every ratio <= 1e-6 (DAP-exact's bound)",
            rademacher_ratios.iter().all(|r| *r <= 1e-6),
        ))
        .assume(format!(
            "Synthetic B: x ~ N(0, I) with x_0 = 0 is redrawn until |df/dx_0| >= tau so that \
             tau-MSE is defined ({draws} draw(s); |df/dx_0| = {:.3e})",
            ab[0].abs()
        ));
    let mut rows = Vec::new();
    for (b, &bs) in c.product_batches.iter().enumerate() {
        let mut r = vec![json!(bs)];
        r.extend((0..Z2_LAWS.len()).map(|l| num(rb.medians[l][b])));
        r.push(num(rb.sphere_2b[b]));
        rows.push(r);
    }
    report.add_table("z2_synthetic_b_median_tau_mse", &cols, rows);

    let panel = |title: &str, batches: &[usize], r: &Z2Result, legend| {
        let xs: Vec<f64> = batches.iter().map(|&b| b as f64).collect();
        let x2: Vec<f64> = xs.iter().map(|b| 2.0 * b).collect();
        let mut lines: Vec<Line> = [
            "DAP (exact gradient)",
            "uniform sphere",
            "Gaussian",
            "Rademacher",
        ]
        .iter()
        .enumerate()
        .map(|(l, name)| Line {
            markers: true,
            ..Line::new(*name, xs.clone(), r.medians[l].clone())
        })
        .collect();
        lines.push(Line {
            markers: true,
            ..Line::new("DAP (estimated), at 2B", x2, r.medians[4].clone())
        });
        Panel {
            title: title.into(),
            x_label: "function-query directions per estimate (B)".into(),
            y_label: "median tau-MSE over trials".into(),
            log_x: true,
            log_y: true,
            legend,
            lines,
            ..Default::default()
        }
    };
    for (name, r, bs) in [
        ("quadratic", &ra, &c.batches),
        ("product", &rb, &c.product_batches),
    ] {
        let s: Vec<(&str, Vec<f64>)> = vec![("B", bs.iter().map(|&b| b as f64).collect())];
        let mut cols = s;
        for (l, law) in Z2_LAWS.iter().enumerate() {
            cols.push((law, r.medians[l].clone()));
        }
        cols.push(("sphere_2B", r.sphere_2b.clone()));
        report.add_series(&format!("z2_{name}_tau_mse"), &cols);
    }
    Ok(vec![
        panel(
            "Synthetic A: quadratic, n = 8, central diff.",
            &c.batches,
            &ra,
            LegendAt::LowerLeft,
        ),
        panel(
            "Synthetic B: product, n = 16 (legend as left)",
            &c.product_batches,
            &rb,
            LegendAt::Hidden,
        ),
    ])
}

fn z3(c: &Z3Config, streams: &RngStreams, report: &mut Report) -> Result<[Panel; 2]> {
    let d = c.dim;
    // a_i² = t_i ‖a‖²/d with t_i ∝ (i/(d−1))³, mean 1: spans 0 .. about 4‖a‖²/d.
    let s3: Vec<f64> = (0..d)
        .map(|i| (i as f64 / (d - 1).max(1) as f64).powi(3))
        .collect();
    let m = mean(&s3);
    let t: Vec<f64> = s3.iter().map(|s| s / m).collect();
    let a: Vec<f64> = t
        .iter()
        .enumerate()
        .map(|(i, ti)| if i % 2 == 0 { ti.sqrt() } else { -ti.sqrt() })
        .collect();
    let a2 = dot(&a, &a);
    let f = SeparableQuadratic::new(&vec![0.0; d], &a)?;
    let x = vec![0.0; d];
    let laws = [
        ("uniform sphere", PerturbationLaw::Sphere),
        ("DAP (exact)", PerturbationLaw::DAP_EXACT),
        ("Gaussian", PerturbationLaw::Gaussian),
        ("Rademacher", PerturbationLaw::Rademacher),
    ];
    let stats: Vec<_> = laws
        .par_iter()
        .enumerate()
        .map(|(i, (_, law))| {
            let cfg = ZoConfig {
                law: *law,
                q: 1,
                difference: Difference::Limit,
                ..ZoConfig::default()
            };
            let mut zo = ZoGradient::new(f.clone(), cfg, &streams.indexed_streams("z3", i))?;
            probe_zo(&mut zo, &x, c.samples)
        })
        .collect::<Result<_>>()?;
    let (sph, dap) = (&stats[0], &stats[1]);
    let mut above = Vec::new();
    let mut below = Vec::new();
    let mut ok = true;
    for (i, ti) in t.iter().enumerate() {
        let diff = dap.coord_mse[i] - sph.coord_mse[i];
        if *ti > 1.2 {
            ok &= diff < 0.0;
            above.push(num(diff / a2));
        } else if *ti < 0.8 {
            ok &= diff > 0.0;
            below.push(num(diff / a2));
        }
    }
    report.claim(Claim::judged(
        "zeroth-order/z3-crossover",
        "d = 16: (DAP - sphere) per-coordinate MSE / |a|^2 on coordinates with a_i^2 > 1.2|a|^2/d \
         (above) and a_i^2 < 0.8|a|^2/d (below)",
        K,
        json!({"above": above, "below": below}),
        "every 'above' < 0 and every 'below' > 0",
        ok,
    ));
    let rel: Vec<f64> = t.clone();
    let mut cols: Vec<(&str, Vec<f64>)> = vec![("a_i^2 d / |a|^2", rel.clone())];
    let names = ["sphere", "dap_exact", "gaussian", "rademacher"];
    for (k, s) in stats.iter().enumerate() {
        cols.push((names[k], s.coord_mse.iter().map(|v| v / a2).collect()));
    }
    report.add_series("z3_per_coordinate_mse", &cols);
    let lines = laws
        .iter()
        .zip(&stats)
        .map(|((name, _), s)| Line {
            markers: true,
            ..Line::new(
                *name,
                rel.clone(),
                s.coord_mse.iter().map(|v| v / a2).collect(),
            )
        })
        .collect();
    // bars: each law's per-coordinate MSE relative to the sphere's, coordinate by coordinate
    // (a_i² grows with i), negative where the law beats the sphere
    let sphere = &stats[0].coord_mse;
    let others: Vec<usize> = (1..laws.len()).collect();
    let width = 0.8 / others.len() as f64;
    let bars = others
        .iter()
        .enumerate()
        .map(|(k, &l)| Line {
            bar_width: Some(width),
            color: Some(l),
            ..Line::new(
                format!("{} / sphere − 1", laws[l].0),
                (0..d)
                    .map(|i| i as f64 - 0.4 + width * (k as f64 + 0.5))
                    .collect(),
                stats[l]
                    .coord_mse
                    .iter()
                    .zip(sphere)
                    .map(|(m, s)| m / s - 1.0)
                    .collect(),
            )
        })
        .collect();
    Ok([
        Panel {
            title: format!("Per-coordinate MSE, d = {d}, mu -> 0"),
            x_label: "relative squared gradient a_i^2 d / |a|^2".into(),
            y_label: "per-coordinate MSE / |a|^2".into(),
            legend: LegendAt::LowerLeft,
            lines,
            ..Default::default()
        },
        Panel {
            title: "Per-coordinate MSE relative to the sphere".into(),
            x_label: "coordinate i (a_i^2 increasing with i)".into(),
            y_label: "MSE_i(law) / MSE_i(sphere) − 1".into(),
            legend: LegendAt::LowerLeft,
            lines: bars,
            ..Default::default()
        },
    ])
}

/// Extension used above: an independent stream set per index.
trait IndexedStreams {
    fn indexed_streams(&self, name: &str, index: usize) -> RngStreams;
}

impl IndexedStreams for RngStreams {
    fn indexed_streams(&self, name: &str, index: usize) -> RngStreams {
        RngStreams::new(self.child_seed(name, index as u64))
    }
}

/// A ZO run's curve: (function queries, objective) every `every` steps.
struct Curve {
    queries: Vec<f64>,
    values: Vec<f64>,
    evals: EvalCounts,
    diverged: bool,
}

/// Runs the optimizer `spec` on `problem` from `x0` for `steps` steps, measuring `measure(x)`
/// (uncounted) every `every` steps; queries count function values only.
fn zo_curve<P: Problem>(
    spec: &str,
    problem: &mut P,
    x0: &[f64],
    steps: usize,
    every: usize,
    seed: u64,
    mut measure: impl FnMut(&mut P, &[f64]) -> f64,
) -> Result<Curve> {
    let mut opt = build_optimizer(&Spec::parse(spec)?)?;
    opt.init(problem.layout(), &RngStreams::new(seed))?;
    let mut x = x0.to_vec();
    let mut evals = EvalCounts::default();
    let mut queries = vec![0.0];
    let mut values = vec![measure(problem, &x)];
    let mut done = 0;
    let mut diverged = false;
    while done < steps {
        let k = every.min(steps - done);
        let out = descent_optim::run(opt.as_mut(), &mut x, problem, k as u64, |r| {
            evals = evals + r.info.evals;
            ControlFlow::Continue(())
        })?;
        done += k;
        if out.diverged() {
            diverged = true;
            break;
        }
        queries.push(evals.values as f64);
        values.push(measure(problem, &x));
    }
    Ok(Curve {
        queries,
        values,
        evals,
        diverged,
    })
}

/// The Z4/extras laws: (label, spec law, directions) at q + 1 values per step for every law.
fn z4_laws(q: usize) -> Vec<(&'static str, &'static str, usize)> {
    vec![
        ("Gaussian", "gaussian", q),
        ("uniform sphere", "sphere", q),
        ("Rademacher", "rademacher", q),
        ("coordinate", "coordinate", q),
        ("DAP (exact gradient)", "dap_exact", q),
        ("DAP (estimated), q/2", "dap", (q / 2).max(1)),
    ]
}

/// Per-law curves across seeds: median and min/max band at common query points.
fn band_lines(curves: &[(String, Vec<Curve>)], floor: f64) -> Vec<Line> {
    curves
        .iter()
        .map(|(label, cs)| {
            let n = cs.iter().map(|c| c.values.len()).min().unwrap_or(0);
            let q = cs[0].queries[..n].to_vec();
            let (mut med, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
            for i in 0..n {
                let mut v: Vec<f64> = cs.iter().map(|c| c.values[i].max(floor)).collect();
                lo.push(v.iter().cloned().fold(f64::INFINITY, f64::min));
                hi.push(v.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
                med.push(median(&mut v));
            }
            Line {
                band: Some((lo, hi)),
                ..Line::new(label.clone(), q, med)
            }
        })
        .collect()
}

/// Queries until the median curve reaches `target`, interpolated linearly in log y between the
/// two recorded points around the crossing (the curves are recorded every few steps, coarser
/// than the few-percent differences between laws); NaN if it never does.
fn queries_to(line: &Line, target: f64) -> f64 {
    let Some(i) = line.y.iter().position(|y| *y <= target) else {
        return f64::NAN;
    };
    if i == 0 {
        return line.x[0];
    }
    let (x0, x1) = (line.x[i - 1], line.x[i]);
    let (l0, l1) = (line.y[i - 1].ln(), line.y[i].ln());
    let t = if l0 > l1 {
        (l0 - target.ln()) / (l0 - l1)
    } else {
        1.0
    };
    x0 + t * (x1 - x0)
}

fn z4(c: &Z4Config, streams: &RngStreams, report: &mut Report) -> Result<(Figure, EvalCounts)> {
    let d = c.dim;
    let w: Vec<f64> = (0..d)
        .map(|i| 0.1 + 0.9 * i as f64 / (d - 1).max(1) as f64)
        .collect();
    let quad = SeparableQuadratic::new(&w, &vec![0.0; d])?;
    let well = CosineWell::new(d)?;
    let laws = z4_laws(c.q);
    let jobs: Vec<(usize, usize, usize)> = (0..2)
        .flat_map(|p| (0..laws.len()).flat_map(move |l| (0..c.seeds).map(move |s| (p, l, s))))
        .collect();
    let curves: Vec<Curve> = jobs
        .par_iter()
        .map(|&(p, l, s)| {
            let (lr_l, x0) = if p == 0 { (1.0, 1.0) } else { (3.0, 0.5) };
            let lr = 0.5 / (lr_l * d as f64);
            let spec = format!(
                "zo(law={}, q={}, mu={}, base=sgd(lr={lr}))",
                laws[l].1, laws[l].2, c.mu
            );
            let seed = streams.child_seed("z4", (p * 1000 + l * 100 + s) as u64);
            let x0 = vec![x0; d];
            if p == 0 {
                let mut prob = quad.clone();
                zo_curve(
                    &spec,
                    &mut prob,
                    &x0,
                    c.steps,
                    c.record_every,
                    seed,
                    |p, x| p.value(x),
                )
            } else {
                let mut prob = well.clone();
                let mut g = vec![0.0; d];
                zo_curve(
                    &spec,
                    &mut prob,
                    &x0,
                    c.steps,
                    c.record_every,
                    seed,
                    |p, x| {
                        p.value_grad(x, &mut g);
                        dot(&g, &g).sqrt()
                    },
                )
            }
        })
        .collect::<Result<_>>()?;
    let mut evals = EvalCounts::default();
    let mut grouped: [Vec<(String, Vec<Curve>)>; 2] = [Vec::new(), Vec::new()];
    let mut it = curves.into_iter();
    for group in grouped.iter_mut() {
        for (label, _, _) in &laws {
            let cs: Vec<Curve> = (0..c.seeds).map(|_| it.next().expect("curve")).collect();
            for cv in &cs {
                evals = evals + cv.evals;
            }
            group.push((label.to_string(), cs));
        }
    }
    // (a)
    let mut worst = [0.0f64; 2];
    let mut any_div = false;
    let mut per_law = serde_json::Map::new();
    for (p, group) in grouped.iter().enumerate() {
        for (label, cs) in group {
            let r = cs
                .iter()
                .map(|cv| cv.values.last().unwrap() / cv.values[0])
                .fold(
                    0.0f64,
                    |m, v| if v.is_nan() { f64::INFINITY } else { m.max(v) },
                );
            any_div |= cs.iter().any(|cv| cv.diverged);
            worst[p] = worst[p].max(r);
            per_law.insert(
                format!("{} {label}", if p == 0 { "quadratic" } else { "nonconvex" }),
                num(r),
            );
        }
    }
    report.claim(Claim::judged(
        "zeroth-order/z4a-all-laws-converge",
        &format!(
            "ZO-SGD (T = {}, eta = 0.5/(L d), forward mu = {:e}, {} seeds): worst f_T/f_0 on \
             the quadratic and worst |grad f_T|/|grad f_0| on the nonconvex function, per law",
            c.steps, c.mu, c.seeds
        ),
        K,
        Value::Object(per_law),
        "every quadratic ratio <= 1e-2, every nonconvex ratio <= 1e-2, no divergence",
        worst[0] <= 1e-2 && worst[1] <= 1e-2 && !any_div,
    ));
    // (b) one-step expectation (claim 6) at x = x0 on the quadratic, μ → 0
    let eta = 0.5 / d as f64;
    let x0 = vec![1.0; d];
    let a: Vec<f64> = w.clone(); // ∇f(1) = W·1
    let a2 = dot(&a, &a);
    let tr: f64 = w.iter().sum();
    let awa: f64 = a.iter().zip(&w).map(|(ai, wi)| wi * ai * ai).sum();
    let df = d as f64;
    let theory = [
        ("gaussian", PerturbationLaw::Gaussian, a2 * tr + 2.0 * awa),
        (
            "sphere",
            PerturbationLaw::Sphere,
            df / (df + 2.0) * (a2 * tr + 2.0 * awa),
        ),
        (
            "dap(i)",
            dap(DapConstruction::GaussianComplement),
            awa + a2 * (tr - awa / a2),
        ),
    ];
    let one: Vec<(f64, f64)> = theory
        .par_iter()
        .enumerate()
        .map(|(i, (_, law, _))| {
            let cfg = ZoConfig {
                law: *law,
                q: 1,
                difference: Difference::Limit,
                ..ZoConfig::default()
            };
            let mut zo = ZoGradient::new(quad.clone(), cfg, &streams.indexed_streams("z4b", i))?;
            let mut f = quad.clone();
            let f0 = f.value(&x0);
            let mut g = vec![0.0; d];
            let mut xs = vec![0.0; d];
            let (mut gwg, mut delta) = (0.0, 0.0);
            for _ in 0..c.one_step_samples {
                zo.value_grad(&x0, &mut g);
                gwg += g.iter().zip(&w).map(|(gi, wi)| wi * gi * gi).sum::<f64>();
                xs.iter_mut()
                    .zip(x0.iter().zip(&g))
                    .for_each(|(s, (xi, gi))| *s = xi - eta * gi);
                delta += f.value(&xs) - f0;
            }
            let n = c.one_step_samples as f64;
            Ok((gwg / n, delta / n))
        })
        .collect::<Result<_>>()?;
    let mut meas = serde_json::Map::new();
    let mut ok = true;
    for ((name, _, gwg_t), (gwg, delta)) in theory.iter().zip(&one) {
        let delta_t = -eta * a2 + 0.5 * eta * eta * gwg_t;
        let (r1, r2) = (gwg / gwg_t, delta / delta_t);
        ok &= (r1 - 1.0).abs() <= 0.03 && (r2 - 1.0).abs() <= 0.03;
        meas.insert(
            name.to_string(),
            json!({"E[g^T W g]": r1, "E f(x - eta g) - f(x)": r2}),
        );
    }
    report.claim(Claim::judged(
        "zeroth-order/z4b-one-step-expectation",
        "claim 6 at x = 1 on the quadratic (eta = 0.5/d, mu -> 0): Monte Carlo / closed form of \
         E[g^T W g] and of the expected one-step change",
        K,
        Value::Object(meas),
        "every ratio in [0.97, 1.03]",
        ok,
    ));
    // (c) DAP-exact: aᵀg = ‖a‖² in the μ → 0 limit, and with exact central differences
    let mut worst_c = [0.0f64; 2];
    for (k, diff) in [Difference::Limit, Difference::Central].iter().enumerate() {
        let cfg = ZoConfig {
            law: PerturbationLaw::DAP_EXACT,
            q: 1,
            difference: *diff,
            ..ZoConfig::default()
        };
        let mut zo = ZoGradient::new(quad.clone(), cfg, &streams.indexed_streams("z4c", k))?;
        let mut g = vec![0.0; d];
        for _ in 0..1000 {
            zo.value_grad(&x0, &mut g);
            worst_c[k] = worst_c[k].max((dot(&a, &g) / a2 - 1.0).abs());
        }
    }
    report
        .claim(Claim::at_most(
            "zeroth-order/z4c-dap-exact-descent",
            "DAP-exact single step, mu -> 0: max over 1000 draws of |a^T g / |a|^2 - 1|",
            K,
            worst_c[0],
            1e-10,
        ))
        .claim(Claim::at_most(
            "zeroth-order/z4c-dap-exact-central",
            "the same with central differences (mu = 1e-3, exact on the quadratic up to rounding)",
            R,
            worst_c[1],
            1e-8,
        ));
    // relative speed (reported)
    let lines_q = band_lines(&grouped[0], 1e-300);
    let lines_n = band_lines(&grouped[1], 1e-300);
    let f0q = quad.clone().value(&x0);
    let mut speed = serde_json::Map::new();
    let sphere_q = queries_to(&lines_q[1], 1e-2 * f0q);
    let sphere_n = queries_to(&lines_n[1], 1e-2 * lines_n[1].y[0]);
    let mut speed_ok = true;
    for (lq, ln) in lines_q.iter().zip(&lines_n) {
        let rel = [
            queries_to(lq, 1e-2 * f0q) / sphere_q,
            queries_to(ln, 1e-2 * ln.y[0]) / sphere_n,
        ];
        let band = match lq.label.as_str() {
            "Gaussian" => Some(1.0..=1.15),
            "Rademacher" | "coordinate" | "DAP (estimated), q/2" => Some(0.85..=1.15),
            _ => None, // the sphere itself, and DAP-exact (an oracle baseline)
        };
        if let Some(band) = band {
            speed_ok &= rel.iter().all(|r| band.contains(r));
        }
        speed.insert(
            lq.label.clone(),
            json!({"quadratic": num(rel[0]), "nonconvex": num(rel[1])}),
        );
    }
    report
        .claim(Claim::judged(
            "zeroth-order/z4-relative-speed",
            &format!(
                "function queries to reach 1e-2 of the initial f (quadratic) or |grad f| \
                 (nonconvex), median over seeds, relative to the uniform sphere (theory: parity \
                 for the laws with E[vv^T] = I and (d-1)|a|^2 total MSE, Gaussian slower by about \
                 (d+2)/d = {:.3})",
                (d as f64 + 2.0) / d as f64
            ),
            R,
            Value::Object(speed),
            "Gaussian in [1, 1.15]; Rademacher, coordinate and DAP (estimated) in [0.85, 1.15]",
            speed_ok,
        ))
        .assume(format!(
            "Z4: every law spends q + 1 = {} function values per step: q = {} directions, and \
             DAP-estimated q/2 = {} pilot + {} aligned directions; DAP-exact spends {} values \
             plus one exact gradient per step (an oracle baseline, plotted against its function \
             values only)",
            c.q + 1,
            c.q,
            c.q / 2,
            c.q / 2,
            c.q
        ));
    for (name, lines) in [("quadratic", &lines_q), ("nonconvex", &lines_n)] {
        let mut cols: Vec<(&str, Vec<f64>)> = vec![("queries", lines[0].x.clone())];
        for l in lines.iter() {
            cols.push((l.label.as_str(), l.y.clone()));
        }
        report.add_series(&format!("z4_{name}_median"), &cols);
    }
    let fig = Figure {
        caption: Some(format!(
            "ZO-SGD, d = {d}, q + 1 = {} function values per step, median and min-max over {} seeds",
            c.q + 1,
            c.seeds
        )),
        panels: vec![
            Panel {
                title: "Quadratic, W = diag(0.1 .. 1)".into(),
                x_label: "function queries".into(),
                y_label: "f(x)".into(),
                log_y: true,
                legend: LegendAt::LowerLeft,
                lines: lines_q,
                ..Default::default()
            },
            Panel {
                title: "Nonconvex sum of 2cos(x_i) + x_i^2/2".into(),
                x_label: "function queries".into(),
                y_label: "|grad f(x)|".into(),
                log_y: true,
                legend: LegendAt::LowerLeft,
                lines: lines_n,
                ..Default::default()
            },
        ],
    };
    Ok((fig, evals))
}

fn extras(
    c: &ExtrasConfig,
    streams: &RngStreams,
    report: &mut Report,
) -> Result<Option<(Figure, EvalCounts)>> {
    if !c.run {
        return Ok(None);
    }
    let laws = z4_laws(c.q);
    let laws: Vec<_> = laws.into_iter().filter(|l| l.1 != "dap_exact").collect();
    let steps_r = c.rosenbrock_queries / (c.q + 1);
    // Digits: softmax regression (d = 650) on the standardized training split, minibatch c.digits_batch.
    let tc = crate::train::TrainConfig {
        data: "digits".into(),
        model: "softmax-regression".into(),
        batch_size: c.digits_batch,
        seed: streams.seed(),
        ..Default::default()
    };
    let data = crate::train::prepare_data(&tc)?;
    let steps_d = c.digits_queries / (c.q + 1);
    let jobs: Vec<(usize, usize, usize)> = (0..2)
        .flat_map(|p| (0..laws.len()).flat_map(move |l| (0..c.seeds).map(move |s| (p, l, s))))
        .collect();
    let train = Arc::clone(&data.train);
    let curves: Vec<Curve> = jobs
        .par_iter()
        .map(|&(p, l, s)| {
            let seed = streams.child_seed("extras", (p * 1000 + l * 100 + s) as u64);
            if p == 0 {
                let mut r = Rosenbrock::new(c.rosenbrock_dim)?;
                let x0 = r.start();
                let spec = format!(
                    "zo(law={}, q={}, mu=1e-6, base=adam(lr=0.01, \
                     schedule=cosine(total={steps_r}, min=0.01)))",
                    laws[l].1, laws[l].2
                );
                zo_curve(&spec, &mut r, &x0, steps_r, 100, seed, |p, x| p.value(x))
            } else {
                let mut cfg = tc.clone();
                cfg.seed = seed;
                let (mut obj, x0) = crate::train::build_objective(&cfg, Arc::clone(&train))?;
                let spec = format!(
                    "zo(law={}, q={}, mu=1e-4, base=adam(lr={}))",
                    laws[l].1, laws[l].2, c.digits_lr
                );
                let full = Arc::clone(&train);
                zo_curve(&spec, &mut obj, &x0, steps_d, 200, seed, move |o, x| {
                    o.evaluate(x, &full).map_or(f64::NAN, |e| e.loss)
                })
            }
        })
        .collect::<Result<_>>()?;
    let mut evals = EvalCounts::default();
    let mut grouped: [Vec<(String, Vec<Curve>)>; 2] = [Vec::new(), Vec::new()];
    let mut it = curves.into_iter();
    for group in grouped.iter_mut() {
        for (label, _, _) in &laws {
            let cs: Vec<Curve> = (0..c.seeds).map(|_| it.next().expect("curve")).collect();
            for cv in &cs {
                evals = evals + cv.evals;
            }
            group.push((label.to_string(), cs));
        }
    }
    let lines_r = band_lines(&grouped[0], 1e-300);
    let lines_d = band_lines(&grouped[1], 1e-300);
    let final_of = |lines: &[Line], label: &str| -> f64 {
        lines
            .iter()
            .find(|l| l.label == label)
            .and_then(|l| l.y.last().copied())
            .unwrap_or(f64::NAN)
    };
    let best = |lines: &[Line]| -> f64 {
        lines
            .iter()
            .filter_map(|l| l.y.last().copied())
            .fold(f64::INFINITY, f64::min)
    };
    let dap = "DAP (estimated), q/2";
    let dap_competitive = final_of(&lines_r, dap) <= 2.0 * best(&lines_r)
        && final_of(&lines_d, dap) <= 2.0 * best(&lines_d);
    let mut finals = serde_json::Map::new();
    for (lr, ld) in lines_r.iter().zip(&lines_d) {
        finals.insert(
            lr.label.clone(),
            json!({"rosenbrock": num(*lr.y.last().unwrap()), "digits train loss": num(*ld.y.last().unwrap())}),
        );
    }
    report.claim(Claim::judged(
        "zeroth-order/extras-equal-budget",
        "ZO-Adam at equal function-query budgets: median final Rosenbrock value and digits \
         softmax-regression (d = 650) full training loss per law; the paper presents DAP as \
         competitive on practical tasks",
        R,
        Value::Object(finals),
        "DAP (estimated) ends within 2x of the best law on both tasks",
        dap_competitive,
    ));
    for (name, lines) in [("rosenbrock", &lines_r), ("digits", &lines_d)] {
        let mut cols: Vec<(&str, Vec<f64>)> = vec![("queries", lines[0].x.clone())];
        for l in lines.iter() {
            cols.push((l.label.as_str(), l.y.clone()));
        }
        report.add_series(&format!("extras_{name}_median"), &cols);
    }
    report.assume(format!(
        "Extras: ZO-Adam (lr 0.01 with a cosine decay to 1e-4 on Rosenbrock from (-1.2, 1, ...), lr {} on digits) with q = {} \
         directions (DAP-estimated q/2) so every law spends {} function values per step; digits \
         uses softmax regression on the standardized 80% training split with minibatch {} (the \
         same minibatch for every query of a step)",
        c.digits_lr,
        c.q,
        c.q + 1,
        c.digits_batch
    ));
    let fig = Figure {
        caption: Some(format!(
            "ZO-Adam at equal function-query budgets, median and min-max over {} seeds",
            c.seeds
        )),
        panels: vec![
            Panel {
                title: format!("Rosenbrock, d = {}", c.rosenbrock_dim),
                x_label: "function queries".into(),
                y_label: "f(x)".into(),
                log_y: true,
                legend: LegendAt::LowerLeft,
                lines: lines_r,
                ..Default::default()
            },
            Panel {
                title: "Digits, softmax regression (d = 650)".into(),
                x_label: "function queries".into(),
                y_label: "training cross-entropy".into(),
                log_y: true,
                legend: LegendAt::UpperRight,
                lines: lines_d,
                ..Default::default()
            },
        ],
    };
    Ok(Some((fig, evals)))
}

impl Experiment for ZerothOrder {
    fn name(&self) -> &'static str {
        "zeroth-order"
    }
    fn paper(&self) -> &'static str {
        "P10 minimum-variance two-point estimators and directionally aligned perturbations"
    }
    fn summary(&self) -> &'static str {
        "ZO estimator moments per perturbation law, tau-MSE, DAP crossover, ZO-SGD per law"
    }
    fn config(&self, preset: Preset) -> Value {
        let mut c = ZoExperimentConfig::default();
        if preset == Preset::Full {
            c.z1.dims = vec![8, 64, 256];
            c.z2.trials = 3000;
            c.z3.samples = 400_000;
            c.z4.seeds = 10;
            c.z4.one_step_samples = 400_000;
            c.extras.seeds = 5;
            c.extras.digits_queries = 100_000;
        }
        config::to_value(&c)
    }
    fn run(&self, cfg: &Value, ctx: &RunContext<'_>) -> Result<RunOutput> {
        let c: ZoExperimentConfig = config::from_value(cfg)?;
        validate(&c)?;
        let streams = RngStreams::new(ctx.seed);
        let mut report = Report::default();
        (ctx.progress)(0.0, "Z1 moments");
        z1(&c.z1, &streams, &mut report)?;
        (ctx.progress)(0.3, "Z2 tau-MSE");
        let z2_panels = z2(&c.z2, &streams, &mut report)?;
        (ctx.progress)(0.45, "Z3 crossover");
        let z3_panels = z3(&c.z3, &streams, &mut report)?;
        (ctx.progress)(0.55, "Z4 ZO-SGD");
        let (z4_fig, mut evals) = z4(&c.z4, &streams, &mut report)?;
        (ctx.progress)(0.75, "extras");
        let extra = extras(&c.extras, &streams, &mut report)?;
        report.assume(
            "All laws are scaled to E[vv^T] = I (delta = 1), so every estimator targets grad f \
             itself; the coordinate law carries sqrt(d) and 'rademacher' is Rademacher (the \
             authors' code bugs Z2 and Z3 are not copied)",
        );
        report.assume(
            "Z1 uses the mu -> 0 form g = (a^T v)v with u = a/|a| for DAP; the central-difference \
             rerun uses half the samples",
        );
        report.assume(
            "Z2 uses 1000 trials per median instead of the spec's 300: at 300 trials the \
             DAP-estimated/sphere-at-2B median ratio has a seed-to-seed spread of about 7% (seeds \
             0..11 gave a mean of 0.93, but seeds 0 and 11 exceeded 1.1 once each, at B = 128: \
             1.103 and 1.104), so the 1.1 bound was decided by noise; the bound itself is the \
             spec's",
        );
        report.assume(
            "Z1 tolerances at d > 64 (full preset): the spec calibrates d = 8 and 64; the \
             coordinate law's 0.1 is scaled by sqrt(d/64), the growth of its per-entry sampling \
             error at a fixed sample count (0.2 at d = 256), the other laws keep 0.03 and 0.06",
        );
        report.assume(
            "Z2 uses central differences for every law; DAP-estimated averages its sphere pilot \
             and its aligned estimate (notebook `empirical_grad`), so at nominal B it spends 2B \
             directions and is compared with the sphere at 2B",
        );
        let mut figures = vec![
            (
                "tau_mse".to_string(),
                Figure {
                    caption: Some(
                        "Median tau-MSE over trials against directions per estimate (Z2)".into(),
                    ),
                    panels: z2_panels,
                },
            ),
            (
                "per_coordinate_mse".to_string(),
                Figure {
                    caption: Some(
                        "Z3: DAP beats the sphere exactly where a_i^2 > |a|^2/d (x > 1)".into(),
                    ),
                    panels: z3_panels.to_vec(),
                },
            ),
            ("zo_sgd".to_string(), z4_fig),
        ];
        if let Some((fig, e)) = extra {
            figures.push(("extras".to_string(), fig));
            evals = evals + e;
        }
        report.evals = evals;
        (ctx.progress)(1.0, "done");
        Ok(RunOutput { report, figures })
    }
}

fn validate(c: &ZoExperimentConfig) -> Result<()> {
    use descent_core::Error;
    let pos = |field: &str, v: usize| {
        if v == 0 {
            Err(Error::invalid(field, 0, "an integer >= 1"))
        } else {
            Ok(())
        }
    };
    if c.z1.dims.is_empty() || c.z1.dims.iter().any(|&d| d < 2) {
        return Err(Error::invalid(
            "z1.dims",
            format!("{:?}", c.z1.dims),
            "a non-empty list of dimensions >= 2",
        ));
    }
    pos("z1.samples", c.z1.samples)?;
    pos("z2.trials", c.z2.trials)?;
    pos("z2.rademacher_trials", c.z2.rademacher_trials)?;
    if c.z2.batches.is_empty() || c.z2.product_batches.is_empty() {
        return Err(Error::invalid(
            "z2.batches",
            "[]",
            "at least one batch size",
        ));
    }
    if c.z2.batches.contains(&0) || c.z2.product_batches.contains(&0) {
        return Err(Error::invalid("z2.batches", 0, "batch sizes >= 1"));
    }
    if c.z2.quad_dim < 2 || c.z2.quad_zeroed >= c.z2.quad_dim {
        return Err(Error::invalid(
            "z2.quad_zeroed",
            c.z2.quad_zeroed,
            format!("fewer than z2.quad_dim = {}", c.z2.quad_dim),
        ));
    }
    if c.z2.product_dim < 2 {
        return Err(Error::invalid(
            "z2.product_dim",
            c.z2.product_dim,
            "at least 2",
        ));
    }
    if c.z3.dim < 2 {
        return Err(Error::invalid("z3.dim", c.z3.dim, "at least 2"));
    }
    pos("z3.samples", c.z3.samples)?;
    if c.z4.dim < 2 {
        return Err(Error::invalid("z4.dim", c.z4.dim, "at least 2"));
    }
    pos("z4.steps", c.z4.steps)?;
    pos("z4.seeds", c.z4.seeds)?;
    // DAP-estimated spends q/2 pilot + q/2 aligned directions: equal budgets need an even q
    for (field, q) in [("z4.q", c.z4.q), ("extras.q", c.extras.q)] {
        if q < 2 || q % 2 == 1 {
            return Err(Error::invalid(
                field,
                q,
                "an even number of directions >= 2 (DAP-estimated spends q/2 pilot + q/2 aligned)",
            ));
        }
    }
    pos("z4.record_every", c.z4.record_every)?;
    pos("z4.one_step_samples", c.z4.one_step_samples)?;
    pos("extras.seeds", c.extras.seeds)?;
    if c.extras.rosenbrock_dim < 2 {
        return Err(Error::invalid(
            "extras.rosenbrock_dim",
            c.extras.rosenbrock_dim,
            "at least 2",
        ));
    }
    for (f, v) in [
        ("z2.quad_mu", c.z2.quad_mu),
        ("z2.product_mu", c.z2.product_mu),
        ("z4.mu", c.z4.mu),
        ("extras.digits_lr", c.extras.digits_lr),
    ] {
        if !(v > 0.0 && v.is_finite()) {
            return Err(Error::invalid(f, v, "a finite number > 0"));
        }
    }
    Ok(())
}
