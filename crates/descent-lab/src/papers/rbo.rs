//! P6 — Rolling Ball Optimizer (Belgoumri et al., arXiv 2505.19527), with SAM and Entropy-SGD:
//! experiment `rbo` (spec `papers/P6-rbo.md` §5, checks R1–R7).
//!
//! Library parts used: [`descent_optim::rolling_ball`] (geometry, iterative and exact 1-D
//! projection, offset heights), [`descent_optim::Rbo`], [`descent_optim::SamOptimizer`],
//! [`descent_optim::EntropySgd`] (all from spec text), and the sharpness probe
//! [`descent_optim::probes::top_hessian_eigenvalue`].
//!
//! - R1 geometry: τ ⟂ ν, ‖ν‖ = 1; with the exact projection the recomputed centre stays at
//!   distance ρ from the graph.
//! - R2 affine losses: an RBO step equals a GD step for every ρ.
//! - R3 small-limit: on an MLP, RBO → GD as η → 0 (at ρ = 1e-6), with O(η) relative error.
//! - R4 wrinkled f(θ) = θ²/2 + 0.05 sin(50θ): GD sticks, RBO with ρ = 0.2 escapes.
//! - R5 unreachable minima (ρ > 1/f''(m) ⇒ m is never a contact point).
//! - R6 ironing: the offset surface flattens and loses minima as ρ grows.
//! - R7 RBO vs SGD vs SAM vs Entropy-SGD on a Gaussian mixture (and digits in `full`), with a
//!   learning-rate × radius grid, accuracy per gradient evaluation and per second, and sharpness.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use descent_core::{Error, EvalCounter, EvalCounts, Problem, Result, RngStreams, Spec};
use descent_data::{Dataset, GaussianMixture, MixtureConfig, Standardizer};
use descent_nn::{Loss, Objective};
use descent_optim::entropy_sgd::hashed_normal;
use descent_optim::probes::top_hessian_eigenvalue;
use descent_optim::rolling_ball::{
    centre, descent_tangent, grid_distance_1d, offset_height_1d, project_exact_1d,
    rbo_step_exact_1d, upward_normal,
};
use descent_optim::{Outcome, build_optimizer, parse_optimizer};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config;
use crate::experiment::{Experiment, Preset, RunContext, RunOutput};
use crate::plot::{Figure, LegendAt, Line, Panel};
use crate::report::{Claim, ClaimKind, Report, num};

/// The experiment.
pub struct Rbo;

/// The neural-network comparison (R7).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Comparison {
    /// Training (and, separately, test) samples per class of the 5-class mixture in 10-D.
    pub per_class: usize,
    /// Epochs of shuffled minibatches.
    pub epochs: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Hidden width of the 10-h-5 ReLU MLP.
    pub hidden: usize,
    /// Seeds per optimizer.
    pub seeds: usize,
    /// Seeds for the large-learning-rate stability check (R7a).
    pub stability_seeds: usize,
    /// The optimizers compared, as spec text.
    pub optimizers: Vec<String>,
    /// Lanczos iterations of the sharpness probe (0 skips it).
    pub lanczos: usize,
    /// RBO learning rates of the η × ρ grid.
    pub grid_lrs: Vec<f64>,
    /// RBO radii of the η × ρ grid.
    pub grid_radii: Vec<f64>,
    /// Seeds per grid point.
    pub grid_seeds: usize,
    /// Also run the comparison on the embedded 8×8 digits (64-h-10 MLP, reported only).
    pub digits: bool,
}

/// The optimizers of R7 with the spec's settings.
fn default_optimizers() -> Vec<String> {
    [
        "sgd(lr=0.01)",
        "sgd(lr=0.1)",
        "sgd(lr=6)",
        "sam(rho=0.05, base=sgd(lr=0.1))",
        "entropy_sgd(lr=1, inner_steps=5, inner_lr=0.1, noise=0.0001, alpha=0.75, gamma=0.03)",
        "rbo(lr=6, radius=1, inner_lr=0.01, inner_steps=20)",
        "rbo(lr=6, radius=3, inner_lr=0.01, inner_steps=20)",
        "rbo(lr=1, radius=10, inner_lr=0.001, inner_steps=100)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

impl Default for Comparison {
    fn default() -> Self {
        Comparison {
            per_class: 400,
            epochs: 5,
            batch: 64,
            hidden: 64,
            seeds: 3,
            stability_seeds: 5,
            optimizers: default_optimizers(),
            lanczos: 20,
            grid_lrs: vec![0.01, 0.1, 1.0, 6.0, 100.0],
            grid_radii: vec![0.01, 1.0, 3.0],
            grid_seeds: 1,
            digits: false,
        }
    }
}

/// The experiment's configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RboExperimentConfig {
    /// R3: learning rates of the small-limit check (ρ = 1e-6, K = 400, γ = 0.5/(1+‖g‖²)).
    pub small_limit_lrs: Vec<f64>,
    /// R4: steps of GD and RBO on the wrinkled function.
    pub wrinkled_steps: usize,
    /// R4: starting points.
    pub wrinkled_starts: Vec<f64>,
    /// R4: learning rate.
    pub wrinkled_lr: f64,
    /// R4: RBO radii (0 is "move along the tangent plane, then project").
    pub wrinkled_radii: Vec<f64>,
    /// R4: grid points of the exact projection.
    pub projection_grid: usize,
    /// R6: grid points on [−3, 3] for the offset heights.
    pub ironing_grid: usize,
    /// R7.
    pub comparison: Comparison,
}

impl Default for RboExperimentConfig {
    fn default() -> Self {
        RboExperimentConfig {
            small_limit_lrs: vec![1e-2, 1e-3, 1e-4],
            wrinkled_steps: 1500,
            wrinkled_starts: vec![3.0, 2.0, 1.5, -2.5, -3.0],
            wrinkled_lr: 0.01,
            wrinkled_radii: vec![0.0, 0.02, 0.05, 0.2],
            projection_grid: 4001,
            ironing_grid: 70_001,
            comparison: Comparison::default(),
        }
    }
}

/// The wrinkled quadratic of R4–R6: f(θ) = θ²/2 + 0.05 sin(50θ), with f' and f''.
fn wrinkled(x: f64) -> (f64, f64, f64) {
    (
        0.5 * x * x + 0.05 * (50.0 * x).sin(),
        x + 2.5 * (50.0 * x).cos(),
        1.0 - 125.0 * (50.0 * x).sin(),
    )
}

/// A smooth 1-D test function for R1 (curvature ≤ 1.9, so radii ≤ 0.5 keep every point reachable).
fn smooth(x: f64) -> (f64, f64, f64) {
    (
        0.5 * x * x + 0.1 * (3.0 * x).sin(),
        x + 0.3 * (3.0 * x).cos(),
        1.0 - 0.9 * (3.0 * x).sin(),
    )
}

impl Experiment for Rbo {
    fn name(&self) -> &'static str {
        "rbo"
    }
    fn paper(&self) -> &'static str {
        "P6 Rolling Ball Optimizer: learning by ironing out loss landscape wrinkles"
    }
    fn summary(&self) -> &'static str {
        "RBO geometry, GD limit, wrinkle escape, unreachable minima and ironing; RBO vs SGD/SAM/Entropy-SGD"
    }
    fn config(&self, preset: Preset) -> Value {
        let mut c = RboExperimentConfig::default();
        if preset == Preset::Full {
            c.comparison.seeds = 5;
            c.comparison.stability_seeds = 10;
            c.comparison.grid_lrs = vec![1e-3, 1e-2, 0.1, 1.0, 6.0, 30.0, 100.0, 300.0];
            c.comparison.grid_radii = vec![0.01, 0.1, 0.3, 1.0, 3.0, 10.0];
            c.comparison.grid_seeds = 3;
            c.comparison.digits = true;
        }
        config::to_value(&c)
    }

    fn run(&self, cfg: &Value, ctx: &RunContext<'_>) -> Result<RunOutput> {
        let c: RboExperimentConfig = config::from_value(cfg)?;
        validate(&c)?;
        let mut report = Report::default();
        let mut figures = Vec::new();
        (ctx.progress)(0.0, "geometry and 1-D checks");
        geometry(&mut report, ctx.seed);
        affine(&mut report)?;
        small_limit(&c, &mut report, ctx.seed)?;
        figures.push(("wrinkled".to_string(), wrinkled_checks(&c, &mut report)));
        unreachable_checks(&mut report);
        figures.push(("ironing".to_string(), ironing(&c, &mut report)));
        (ctx.progress)(0.2, "neural-network comparison");
        figures.extend(comparison(&c, &mut report, ctx)?);
        report.assume(
            "R1, R2 (n = 1), R4, R5 and R6 use the exact 1-D projection (grid over [x̃−D, x̃+D], \
             D = |ỹ − f(x̃)|, then Newton on the stationarity equation); R2 (n = 5), R3 and R7 \
             use the authors' iterative solver warm-started at θ_t on the same minibatch.",
        );
        report.assume(
            "RBO's cost is counted as 1 + K gradients per step (the outer gradient is not reused \
             as the first projection iterate), as in the authors' code.",
        );
        Ok(RunOutput { report, figures })
    }
}

fn validate(c: &RboExperimentConfig) -> Result<()> {
    let cc = &c.comparison;
    for (field, v) in [
        ("comparison.per_class", cc.per_class),
        ("comparison.epochs", cc.epochs),
        ("comparison.batch", cc.batch),
        ("comparison.hidden", cc.hidden),
        ("comparison.seeds", cc.seeds),
        ("comparison.stability_seeds", cc.stability_seeds),
        ("comparison.grid_seeds", cc.grid_seeds),
        ("wrinkled_steps", c.wrinkled_steps),
    ] {
        if v == 0 {
            return Err(Error::invalid(field, 0, "an integer >= 1"));
        }
    }
    if c.projection_grid < 101 {
        return Err(Error::invalid(
            "projection_grid",
            c.projection_grid,
            "an integer >= 101",
        ));
    }
    if c.ironing_grid < 1001 {
        return Err(Error::invalid(
            "ironing_grid",
            c.ironing_grid,
            "an integer >= 1001",
        ));
    }
    if c.small_limit_lrs.len() < 2 || c.small_limit_lrs.iter().any(|v| v.is_nan() || *v <= 0.0) {
        return Err(Error::invalid(
            "small_limit_lrs",
            format!("{:?}", c.small_limit_lrs),
            "at least two learning rates > 0, decreasing by decades",
        ));
    }
    for (field, empty) in [
        ("wrinkled_starts", c.wrinkled_starts.is_empty()),
        ("wrinkled_radii", c.wrinkled_radii.is_empty()),
        ("comparison.grid_lrs", cc.grid_lrs.is_empty()),
        ("comparison.grid_radii", cc.grid_radii.is_empty()),
        ("comparison.optimizers", cc.optimizers.is_empty()),
    ] {
        if empty {
            return Err(Error::invalid(field, "[]", "at least one value"));
        }
    }
    for s in &cc.optimizers {
        build_optimizer(&Spec::parse(s)?)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// R1 — geometry
// ---------------------------------------------------------------------------------------------

fn geometry(report: &mut Report, seed: u64) {
    let (mut worst_dot, mut worst_norm) = (0.0f64, 0.0f64);
    for k in 0..1000u64 {
        let n = 1 + (k % 19) as usize;
        let scale = 10f64.powf(-2.0 + 4.0 * (k as f64 / 999.0));
        let g: Vec<f64> = (0..n as u64)
            .map(|i| scale * hashed_normal(seed, k, 0, i))
            .collect();
        let mut nu = vec![0.0; n + 1];
        let mut tau = vec![0.0; n + 1];
        upward_normal(&g, &mut nu);
        descent_tangent(&g, &mut tau);
        let d: f64 = nu.iter().zip(&tau).map(|(a, b)| a * b).sum();
        let tn: f64 = tau.iter().map(|v| v * v).sum::<f64>().sqrt();
        worst_dot = worst_dot.max(d.abs() / tn.max(1.0));
        let nn: f64 = nu.iter().map(|v| v * v).sum::<f64>().sqrt();
        worst_norm = worst_norm.max((nn - 1.0).abs());
    }
    report.claim(Claim::at_most(
        "rbo/tangent-normal",
        "the descent tangent τ = (g, ‖g‖²) is orthogonal to the unit normal ν = (−g, 1)/√(1+‖g‖²) \
         (max |τ·ν|/max(1, ‖τ‖) and max |‖ν‖ − 1| over 1000 random gradients)",
        ClaimKind::Asserted,
        worst_dot.max(worst_norm),
        1e-12,
    ));
    // The centre invariant d(c_{t+1}, Γ) = ρ along exact RBO steps on a smooth function.
    let f = |x: f64| smooth(x).0;
    let mut worst = 0.0f64;
    for rho in [0.05, 0.2, 0.5] {
        let mut theta = 2.5;
        for _ in 0..20 {
            theta = rbo_step_exact_1d(&smooth, theta, 0.1, rho, 4001, 20);
            let (y, g, _) = smooth(theta);
            let mut cx = [0.0];
            let cy = centre(&[theta], y, &[g], rho, &mut cx);
            let d = grid_distance_1d(&f, cx[0], cy, cx[0] - 2.0 * rho, cx[0] + 2.0 * rho, 400_001);
            worst = worst.max((d - rho).abs());
        }
    }
    report.claim(Claim::at_most(
        "rbo/centre-on-offset",
        "with the exact projection the recomputed centre stays at distance ρ from the graph \
         (max |d(c_t, Γ) − ρ| over 20 steps at ρ ∈ {0.05, 0.2, 0.5}, dense-grid distance)",
        ClaimKind::Asserted,
        worst,
        1e-6,
    ));
}

// ---------------------------------------------------------------------------------------------
// R2 — affine exactness
// ---------------------------------------------------------------------------------------------

/// f(θ) = a·θ + b as a problem.
struct AffineLoss {
    a: Vec<f64>,
    b: f64,
    layout: descent_core::Layout,
}

impl descent_core::Function for AffineLoss {
    fn dim(&self) -> usize {
        self.a.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.a.iter().zip(x).map(|(a, x)| a * x).sum::<f64>() + self.b
    }
}
impl descent_core::Gradient for AffineLoss {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        g.copy_from_slice(&self.a);
        descent_core::Function::value(self, x)
    }
}
impl Problem for AffineLoss {
    fn name(&self) -> String {
        "affine".into()
    }
    fn layout(&self) -> &descent_core::Layout {
        &self.layout
    }
    descent_core::problem_views!(function, gradient);
}

fn affine(report: &mut Report) -> Result<()> {
    let (lr, radii) = (0.1, [1e-3, 0.1, 1.0, 10.0]);
    let mut worst_exact = 0.0f64;
    let mut worst_iter = 0.0f64;
    for rho in radii {
        // n = 1, exact projection.
        let (a, b) = (0.7, 0.3);
        let f = move |x: f64| (a * x + b, a, 0.0);
        let t = rbo_step_exact_1d(&f, 1.3, lr, rho, 4001, 20);
        worst_exact = worst_exact.max((t - (1.3 - lr * a)).abs());
        // n = 1 and n = 5, iterative solver with K = 200, γ = 0.5/(1+‖a‖²).
        for a in [vec![0.7], vec![0.7, -0.2, 1.1, 0.4, -0.9]] {
            let n = a.len();
            let mut p = AffineLoss {
                a: a.clone(),
                b: 0.3,
                layout: descent_core::Layout::flat(n),
            };
            let mut opt = parse_optimizer(&format!(
                "rbo(lr={lr}, radius={rho}, inner_c=0.5, inner_steps=200)"
            ))?;
            opt.init(p.layout(), &RngStreams::new(0))?;
            let mut x: Vec<f64> = (0..n).map(|i| 0.5 - 0.3 * i as f64).collect();
            let x0 = x.clone();
            opt.step(&mut x, &mut p)?;
            for i in 0..n {
                worst_iter = worst_iter.max((x[i] - (x0[i] - lr * a[i])).abs());
            }
        }
    }
    report.claim(Claim::at_most(
        "rbo/affine-exact",
        "on an affine loss an RBO step equals the GD step for every radius \
         (ρ ∈ {1e-3, 0.1, 1, 10}, η = 0.1; exact 1-D projection and iterative solver, n = 1 and 5)",
        ClaimKind::Asserted,
        worst_exact.max(worst_iter),
        1e-10,
    ));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// R3 — small limit on an MLP
// ---------------------------------------------------------------------------------------------

/// The R7 mixture: 5 classes in 10-D, sub-clusters 0.7/0.2/0.1, centre norm 2·√10/2, noise 1.
fn mixture(per_class: usize, seed: u64) -> Result<(Arc<Dataset>, Arc<Dataset>)> {
    let streams = RngStreams::new(seed);
    let cfg = MixtureConfig {
        classes: 5,
        dim: 10,
        weights: vec![0.7, 0.2, 0.1],
        sep: 2.0,
        spread: 1.0,
        noise: 1.0,
        class_weights: Vec::new(),
    };
    let mix = GaussianMixture::new(cfg, &mut streams.stream("mixture"))?;
    let mut train = mix
        .sample_per_class(&[per_class; 5], &mut streams.stream("train"))?
        .data;
    let mut test = mix
        .sample_per_class(&[per_class; 5], &mut streams.stream("test"))?
        .data;
    let s = Standardizer::fit(&train)?;
    s.transform(&mut train)?;
    s.transform(&mut test)?;
    Ok((Arc::new(train), Arc::new(test)))
}

fn mlp_objective(
    data: Arc<Dataset>,
    hidden: usize,
    batch: usize,
    seed: u64,
) -> Result<(Objective, Vec<f64>)> {
    let streams = RngStreams::new(seed);
    let k = data.n_outputs();
    let model = descent_nn::build_model(
        &Spec::parse(&format!(
            "mlp(sizes=[{},{hidden},{k}], act=relu)",
            data.n_features
        ))?,
        data.n_features,
        k,
    )?;
    let obj = Objective::new(model.mlp, data, Loss::SoftmaxCe, batch, &streams)?;
    let x0 = obj.init_params(model.init, &streams);
    Ok((obj, x0))
}

fn small_limit(c: &RboExperimentConfig, report: &mut Report, seed: u64) -> Result<()> {
    let (train, _) = mixture(100, seed)?;
    let idx: Vec<usize> = (0..64).map(|i| (i * 7) % train.len()).collect();
    let batch = Arc::new(train.subset(&idx));
    let mut ratios = Vec::new();
    for &lr in &c.small_limit_lrs {
        let (mut obj, x0) = mlp_objective(batch.clone(), 64, 64, seed)?;
        let mut g = vec![0.0; x0.len()];
        obj.resample();
        descent_core::Gradient::value_grad(&mut obj, &x0, &mut g);
        let mut opt = parse_optimizer(&format!(
            "rbo(lr={lr}, radius=0.000001, inner_c=0.5, inner_steps=400)"
        ))?;
        opt.init(obj.layout(), &RngStreams::new(seed))?;
        let mut x = x0.clone();
        opt.step(&mut x, &mut obj)?;
        let (mut diff, mut gd) = (0.0, 0.0);
        for i in 0..x.len() {
            let d_rbo = x[i] - x0[i];
            let d_gd = -lr * g[i];
            diff += (d_rbo - d_gd).powi(2);
            gd += d_gd * d_gd;
        }
        ratios.push((diff / gd).sqrt());
    }
    let bounds = [0.05, 5e-3, 1e-3];
    for (i, (&lr, &r)) in c.small_limit_lrs.iter().zip(&ratios).enumerate() {
        let bound = bounds
            .get(i)
            .copied()
            .unwrap_or(1e-3 / 10f64.powi(i as i32 - 2));
        report.claim(Claim::at_most(
            &format!("rbo/gd-limit-lr{lr:e}"),
            &format!(
                "as η → 0 (ρ = 1e-6) an RBO step approaches the GD step on a 10-64-5 MLP: \
                 ‖Δ_RBO − Δ_GD‖/‖Δ_GD‖ at η = {lr:e}"
            ),
            ClaimKind::Asserted,
            r,
            bound,
        ));
    }
    let fall = ratios
        .windows(2)
        .map(|w| w[0] / w[1])
        .fold(f64::INFINITY, f64::min);
    report.claim(Claim::at_least(
        "rbo/gd-limit-order",
        "the relative gap to GD is O(η): it falls by at least 5× per decade of η (smallest fall)",
        ClaimKind::Asserted,
        fall,
        5.0,
    ));
    report.add_series(
        "gd_limit",
        &[("lr", c.small_limit_lrs.clone()), ("relative_gap", ratios)],
    );
    report.assume(
        "R3 takes one step from the He-initialised 10-64-5 ReLU MLP on a fixed batch of 64 \
         mixture samples; ρ → 0 at finite η is not GD (T1), so only the joint limit is asserted.",
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// R4 — wrinkled function
// ---------------------------------------------------------------------------------------------

fn wrinkled_checks(c: &RboExperimentConfig, report: &mut Report) -> Figure {
    let steps = c.wrinkled_steps;
    let lr = c.wrinkled_lr;
    let grid = c.projection_grid;
    // GD trajectories.
    let gd: Vec<Vec<f64>> = c
        .wrinkled_starts
        .iter()
        .map(|&t0| {
            let mut t = t0;
            let mut path = vec![t];
            for _ in 0..steps {
                t -= lr * wrinkled(t).1;
                path.push(t);
            }
            path
        })
        .collect();
    // RBO trajectories for each radius and start (parallel, collected in order).
    let jobs: Vec<(f64, f64)> = c
        .wrinkled_radii
        .iter()
        .flat_map(|&r| c.wrinkled_starts.iter().map(move |&s| (r, s)))
        .collect();
    let rbo: Vec<Vec<f64>> = jobs
        .par_iter()
        .map(|&(rho, t0)| {
            let mut t = t0;
            let mut path = vec![t];
            for _ in 0..steps {
                t = rbo_step_exact_1d(&wrinkled, t, lr, rho, grid, 20);
                path.push(t);
            }
            path
        })
        .collect();
    let finals = |paths: &[Vec<f64>]| -> Vec<f64> { paths.iter().map(|p| p[steps]).collect() };
    let gd_final = finals(&gd);
    let n_starts = c.wrinkled_starts.len();
    let rbo_final = |rho: f64| -> Option<Vec<f64>> {
        let i = c.wrinkled_radii.iter().position(|r| *r == rho)?;
        Some(finals(&rbo[i * n_starts..(i + 1) * n_starts]))
    };
    let min_abs = |v: &[f64]| v.iter().map(|x| x.abs()).fold(f64::INFINITY, f64::min);
    let max_abs = |v: &[f64]| v.iter().map(|x| x.abs()).fold(0.0, f64::max);
    report.claim(Claim::at_least(
        "rbo/wrinkled-gd-stuck",
        "GD (η = 0.01) on θ²/2 + 0.05 sin(50θ) stays in a far wrinkle from every start \
         (smallest final |θ|)",
        ClaimKind::Asserted,
        min_abs(&gd_final),
        1.4,
    ));
    let big = rbo_final(0.2).unwrap_or_default();
    let big_f = big
        .iter()
        .map(|t| wrinkled(*t).0)
        .fold(f64::NEG_INFINITY, f64::max);
    report.claim(Claim::at_most(
        "rbo/wrinkled-rbo-escapes",
        "RBO with ρ = 0.2 (exact projection) irons the wrinkles and reaches the central basin \
         from every start (largest final |θ|)",
        ClaimKind::Asserted,
        if big.is_empty() {
            f64::NAN
        } else {
            max_abs(&big)
        },
        0.3,
    ));
    report.claim(Claim::at_most(
        "rbo/wrinkled-rbo-loss",
        "RBO with ρ = 0.2 ends with a low loss from every start (largest final f)",
        ClaimKind::Asserted,
        if big.is_empty() { f64::NAN } else { big_f },
        0.1,
    ));
    let small = rbo_final(0.02).unwrap_or_default();
    report.claim(Claim::at_least(
        "rbo/wrinkled-small-ball-stuck",
        "a small ball (ρ = 0.02) does not iron the wrinkles (smallest final |θ|)",
        ClaimKind::Asserted,
        if small.is_empty() {
            f64::NAN
        } else {
            min_abs(&small)
        },
        1.0,
    ));
    let mut rows = Vec::new();
    for (i, &s) in c.wrinkled_starts.iter().enumerate() {
        let mut row = vec![num(s), num(gd_final[i])];
        for k in 0..c.wrinkled_radii.len() {
            row.push(num(rbo[k * n_starts + i][steps]));
        }
        rows.push(row);
    }
    let mut cols = vec!["start".to_string(), "gd".to_string()];
    cols.extend(c.wrinkled_radii.iter().map(|r| format!("rbo_rho_{r}")));
    let col_refs: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
    report.add_table("wrinkled_final_theta", &col_refs, rows);
    // Figure: the function with final points, and trajectories from θ0 = 3.
    let xs: Vec<f64> = (0..=1200).map(|i| -3.0 + 6.0 * i as f64 / 1200.0).collect();
    let fx: Vec<f64> = xs.iter().map(|x| wrinkled(*x).0).collect();
    let step_axis: Vec<f64> = (0..=steps).map(|i| i as f64).collect();
    let mut traj = vec![Line::new("GD", step_axis.clone(), gd[0].clone())];
    for (k, r) in c.wrinkled_radii.iter().enumerate() {
        traj.push(Line::new(
            format!("RBO ρ = {r}"),
            step_axis.clone(),
            rbo[k * n_starts].clone(),
        ));
    }
    let names: Vec<String> = c
        .wrinkled_radii
        .iter()
        .map(|r| format!("rbo_rho_{r}"))
        .collect();
    let mut cols: Vec<(&str, Vec<f64>)> = vec![("step", step_axis.clone()), ("gd", gd[0].clone())];
    for (k, n) in names.iter().enumerate() {
        cols.push((n.as_str(), rbo[k * n_starts].clone()));
    }
    report.add_series("wrinkled_trajectories_from_first_start", &cols);
    let mut finals_line = Line::new(
        "RBO ρ = 0.2 final points",
        big.clone(),
        big.iter().map(|t| wrinkled(*t).0).collect(),
    );
    finals_line.scatter = true;
    let mut gd_line = Line::new(
        "GD final points",
        gd_final.clone(),
        gd_final.iter().map(|t| wrinkled(*t).0).collect(),
    );
    gd_line.scatter = true;
    Figure {
        caption: Some(format!(
            "R4: f(θ) = θ²/2 + 0.05 sin(50θ), η = {lr}, {steps} steps, exact projection"
        )),
        panels: vec![
            Panel {
                title: "Loss and where each method stops".into(),
                x_label: "θ (parameter)".into(),
                y_label: "f(θ) (loss)".into(),
                legend: LegendAt::UpperLeft,
                lines: vec![Line::new("f", xs, fx), gd_line, finals_line],
                ..Default::default()
            },
            Panel {
                title: format!("Trajectories from θ₀ = {}", c.wrinkled_starts[0]),
                x_label: "step".into(),
                y_label: "θ (parameter)".into(),
                legend: LegendAt::UpperRight,
                lines: traj,
                ..Default::default()
            },
        ],
    }
}

// ---------------------------------------------------------------------------------------------
// R5 — unreachable minima
// ---------------------------------------------------------------------------------------------

/// The local minima of the wrinkled function on [−3, 3] (grid of 600 001, Newton-polished).
fn wrinkled_minima() -> Vec<f64> {
    let n = 600_001;
    let h = 6.0 / (n - 1) as f64;
    let v: Vec<f64> = (0..n).map(|i| wrinkled(-3.0 + h * i as f64).0).collect();
    let mut mins = Vec::new();
    for i in 1..n - 1 {
        if v[i] < v[i - 1] && v[i] <= v[i + 1] {
            let mut m = -3.0 + h * i as f64;
            for _ in 0..30 {
                let (_, d1, d2) = wrinkled(m);
                m -= d1 / d2;
            }
            mins.push(m);
        }
    }
    mins
}

/// True when the minimum m is the global foot point of its offset point (m, f(m) + ρ).
fn reachable(m: f64, rho: f64) -> bool {
    let cy = wrinkled(m).0 + rho;
    let foot = project_exact_1d(&wrinkled, m, cy, 40_001, 30);
    let v = wrinkled(foot).0 - cy;
    let d = ((foot - m).powi(2) + v * v).sqrt();
    d >= rho * (1.0 - 1e-12)
}

fn unreachable_checks(report: &mut Report) {
    let mins = wrinkled_minima();
    let radii = [0.005, 0.0075, 0.0085, 0.01, 0.02, 0.03, 0.05];
    let results: Vec<(usize, usize)> = radii
        .par_iter()
        .map(|&rho| {
            let mut n_reach = 0;
            let mut violations = 0;
            for &m in &mins {
                let r = reachable(m, rho);
                if r {
                    n_reach += 1;
                    if rho > 1.0 / wrinkled(m).2 {
                        violations += 1;
                    }
                }
            }
            (n_reach, violations)
        })
        .collect();
    let sigma: Vec<f64> = mins.iter().map(|m| wrinkled(*m).2).collect();
    let lo = sigma.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = sigma.iter().copied().fold(0.0, f64::max);
    let checked = [0.0085, 0.01, 0.02, 0.03];
    let viol: usize = radii
        .iter()
        .zip(&results)
        .filter(|(r, _)| checked.contains(r))
        .map(|(_, (_, v))| v)
        .sum();
    report.claim(Claim::at_most(
        "rbo/unreachable-violations",
        "a minimum with curvature σ = f''(m) is never its own offset point's foot when ρ > 1/σ \
         (violations at ρ ∈ {0.0085, 0.01, 0.02, 0.03})",
        ClaimKind::Asserted,
        viol as f64,
        0.0,
    ));
    report.claim(Claim::in_range(
        "rbo/reachable-small-ball",
        "every local minimum is reachable by a small ball (ρ = 0.005 < 1/max σ): count",
        ClaimKind::Asserted,
        results[0].0 as f64,
        mins.len() as f64,
        mins.len() as f64,
    ));
    report.claim(Claim::at_most(
        "rbo/reachable-large-ball",
        "no local minimum is reachable by a ball with ρ = 0.05 > 1/min σ: count",
        ClaimKind::Asserted,
        results[radii.len() - 1].0 as f64,
        0.0,
    ));
    report.claim(Claim::in_range(
        "rbo/minima-count",
        "the wrinkled function has 40 local minima on [−3, 3]",
        ClaimKind::Reported,
        mins.len() as f64,
        40.0,
        40.0,
    ));
    report.add_series(
        "reachable_minima",
        &[
            ("rho", radii.to_vec()),
            ("reachable", results.iter().map(|r| r.0 as f64).collect()),
            ("violations", results.iter().map(|r| r.1 as f64).collect()),
        ],
    );
    report.assume(format!(
        "R5: {} minima with curvature σ in [{lo:.1}, {hi:.1}]; a minimum m is reachable at ρ when \
         the exact nearest point of (m, f(m)+ρ) on the graph is at distance ρ (within 1e-12 \
         relative).",
        mins.len()
    ));
}

// ---------------------------------------------------------------------------------------------
// R6 — ironing
// ---------------------------------------------------------------------------------------------

/// Counts the local minima of a sampled curve, ignoring differences below `tol` (plateaus and
/// round-off of the discrete max).
fn count_minima(h: &[f64], tol: f64) -> usize {
    let mut count = 0;
    let mut dir = 0i32; // -1 descending, +1 ascending
    let mut anchor = h[0];
    for &v in &h[1..] {
        if v < anchor - tol {
            dir = -1;
            anchor = v;
        } else if v > anchor + tol {
            if dir == -1 {
                count += 1;
            }
            dir = 1;
            anchor = v;
        } else if (dir == -1 && v < anchor) || (dir == 1 && v > anchor) {
            anchor = v;
        }
    }
    count
}

fn ironing(c: &RboExperimentConfig, report: &mut Report) -> Figure {
    let n = c.ironing_grid;
    let sin_radii = [0.01, 0.05, 0.2, 1.0];
    let quad_radii = [0.01, 0.05, 0.1, 0.2, 0.5, 1.0];
    let sin_phi = |x: f64| 0.05 * (50.0 * x).sin();
    let quad_phi = |x: f64| wrinkled(x).0;
    let jobs: Vec<(bool, f64)> = sin_radii
        .iter()
        .map(|r| (true, *r))
        .chain(quad_radii.iter().map(|r| (false, *r)))
        .collect();
    let heights: Vec<Vec<f64>> = jobs
        .par_iter()
        .map(|&(is_sin, rho)| {
            if is_sin {
                offset_height_1d(&sin_phi, -3.0, 3.0, n, rho)
            } else {
                offset_height_1d(&quad_phi, -3.0, 3.0, n, rho)
            }
        })
        .collect();
    let osc: Vec<f64> = heights[..sin_radii.len()]
        .iter()
        .map(|h| {
            let hi = h.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lo = h.iter().copied().fold(f64::INFINITY, f64::min);
            hi - lo
        })
        .collect();
    let minima: Vec<f64> = heights[sin_radii.len()..]
        .iter()
        .map(|h| count_minima(h, 1e-9) as f64)
        .collect();
    report.claim(Claim::strictly_decreasing(
        "rbo/ironing-oscillation",
        "weak ironing: the oscillation of h_ρ − ρ for φ = 0.05 sin(50x) shrinks as ρ grows \
         (ρ = 0.01, 0.05, 0.2, 1)",
        ClaimKind::Asserted,
        &osc,
    ));
    report.claim(Claim::at_most(
        "rbo/ironing-flat",
        "at ρ = 1 the offset of 0.05 sin(50x) is flat to within 0.003",
        ClaimKind::Asserted,
        *osc.last().expect("radii"),
        0.003,
    ));
    let nonincreasing = minima.windows(2).all(|w| w[1] <= w[0]);
    report.claim(Claim::judged(
        "rbo/ironing-minima",
        "strong ironing (a conjecture in the paper): the offset of θ²/2 + 0.05 sin(50θ) has no \
         more local minima as ρ grows (ρ = 0.01, 0.05, 0.1, 0.2, 0.5, 1)",
        ClaimKind::Asserted,
        Value::Array(minima.iter().map(|v| num(*v)).collect()),
        "non-increasing",
        nonincreasing,
    ));
    let large = minima[quad_radii.len() - 2..]
        .iter()
        .copied()
        .fold(0.0, f64::max);
    report.claim(Claim::at_most(
        "rbo/ironing-few-minima",
        "at ρ ≥ 0.5 the offset surface has at most 2 local minima",
        ClaimKind::Asserted,
        large,
        2.0,
    ));
    report.add_series(
        "ironing_oscillation",
        &[("rho", sin_radii.to_vec()), ("oscillation", osc.clone())],
    );
    report.add_series(
        "ironing_minima",
        &[
            ("rho", quad_radii.to_vec()),
            ("local_minima", minima.clone()),
        ],
    );
    report.assume(
        "R6: h_ρ is the exact upper envelope of circles over a grid (φ sampled on the grid's \
         spacing over [−3−ρ, 3+ρ]); local minima are counted ignoring changes below 1e-9.",
    );
    // Figure: offset curves (h_ρ − ρ) near the centre, and the two summaries.
    let stride = (n / 2000).max(1);
    let xs: Vec<f64> = (0..n)
        .step_by(stride)
        .map(|i| -3.0 + 6.0 * i as f64 / (n - 1) as f64)
        .collect();
    let mut lines = vec![Line::new(
        "f (ρ = 0)",
        xs.clone(),
        xs.iter().map(|x| wrinkled(*x).0).collect(),
    )];
    for (k, r) in quad_radii.iter().enumerate() {
        if [0.05, 0.2, 1.0].contains(r) {
            let h = &heights[sin_radii.len() + k];
            lines.push(Line::new(
                format!("h_ρ − ρ, ρ = {r}"),
                xs.clone(),
                (0..n).step_by(stride).map(|i| h[i] - r).collect(),
            ));
        }
    }
    let mut osc_line = Line::new("oscillation of h_ρ − ρ", sin_radii.to_vec(), osc);
    osc_line.markers = true;
    let mut min_line = Line::new("local minima of h_ρ", quad_radii.to_vec(), minima);
    min_line.markers = true;
    Figure {
        caption: Some("R6: ironing — the ρ-offset of the graph flattens as the ball grows".into()),
        panels: vec![
            Panel {
                title: "Offset height of θ²/2 + 0.05 sin(50θ)".into(),
                x_label: "θ (parameter)".into(),
                y_label: "height − ρ (loss units)".into(),
                legend: LegendAt::UpperLeft,
                lines,
                ..Default::default()
            },
            Panel {
                title: "Weak ironing of 0.05 sin(50x)".into(),
                x_label: "ball radius ρ".into(),
                y_label: "max − min of h_ρ − ρ".into(),
                log_x: true,
                log_y: true,
                legend: LegendAt::UpperRight,
                lines: vec![osc_line],
                ..Default::default()
            },
            Panel {
                title: "Minima of the wrinkled quadratic's offset".into(),
                x_label: "ball radius ρ".into(),
                y_label: "number of local minima".into(),
                log_x: true,
                legend: LegendAt::UpperRight,
                lines: vec![min_line],
                ..Default::default()
            },
        ],
    }
}

// ---------------------------------------------------------------------------------------------
// R7 — neural-network comparison
// ---------------------------------------------------------------------------------------------

/// One training run's record.
#[derive(Debug, Clone)]
struct RunRecord {
    diverged: bool,
    /// Per epoch (0 = before training): gradient evaluations, seconds, train acc, test acc.
    evals: Vec<f64>,
    seconds: Vec<f64>,
    train_acc: Vec<f64>,
    test_acc: Vec<f64>,
    train_loss: f64,
    sharpness: f64,
    counts: EvalCounts,
    steps: u64,
}

fn train_one(
    spec: &str,
    train: &Arc<Dataset>,
    test: &Arc<Dataset>,
    cc: &Comparison,
    seed: u64,
) -> Result<RunRecord> {
    let (obj, mut x) = mlp_objective(train.clone(), cc.hidden, cc.batch, seed)?;
    let mut problem = EvalCounter::new(obj);
    let mut opt = parse_optimizer(spec)?;
    opt.init(problem.layout(), &RngStreams::new(seed))?;
    let steps_per_epoch = problem.inner().batches_per_epoch() as u64;
    let mut rec = RunRecord {
        diverged: false,
        evals: Vec::new(),
        seconds: Vec::new(),
        train_acc: Vec::new(),
        test_acc: Vec::new(),
        train_loss: f64::NAN,
        sharpness: f64::NAN,
        counts: EvalCounts::default(),
        steps: 0,
    };
    let mut seconds = 0.0;
    let measure = |problem: &mut EvalCounter<Objective>, x: &[f64], rec: &mut RunRecord, s| {
        let tr = problem.inner_mut().evaluate(x, train)?;
        let te = problem.inner_mut().evaluate(x, test)?;
        rec.evals.push(problem.counts().gradient_like() as f64);
        rec.seconds.push(s);
        rec.train_acc.push(tr.accuracy.unwrap_or(f64::NAN));
        rec.test_acc.push(te.accuracy.unwrap_or(f64::NAN));
        rec.train_loss = tr.loss;
        Ok::<_, Error>(())
    };
    measure(&mut problem, &x, &mut rec, 0.0)?;
    for _ in 0..cc.epochs {
        let start = Instant::now();
        let out = descent_optim::run(opt.as_mut(), &mut x, &mut problem, steps_per_epoch, |_| {
            ControlFlow::Continue(())
        })?;
        seconds += start.elapsed().as_secs_f64();
        if let Outcome::Diverged { .. } = out {
            rec.diverged = true;
            break;
        }
        rec.steps += steps_per_epoch;
        measure(&mut problem, &x, &mut rec, seconds)?;
        if !rec.train_loss.is_finite() {
            rec.diverged = true;
            break;
        }
    }
    rec.counts = problem.counts();
    if !rec.diverged && cc.lanczos > 0 {
        // Sharpness on the whole training set (one full batch).
        let (mut full, _) = mlp_objective(train.clone(), cc.hidden, train.len(), seed)?;
        full.resample();
        let s = top_hessian_eigenvalue(&mut full, &x, cc.lanczos, 1e-6, seed)?;
        rec.sharpness = s.lambda_max;
    }
    Ok(rec)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn std(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len().max(2) - 1) as f64).sqrt()
}

/// A legend label: the method's name and its distinguishing settings.
fn short_label(spec: &str) -> String {
    let Ok(s) = Spec::parse(spec) else {
        return spec.to_string();
    };
    let get = |k: &str, d: &str| {
        s.args
            .iter()
            .find(|(key, _)| key == k)
            .map_or_else(|| d.to_string(), |(_, v)| v.to_string())
    };
    match s.name.as_str() {
        "sgd" => format!("SGD η={}", get("lr", "0.01")),
        "sam" => format!("SAM ρ={}", get("rho", "0.05")),
        "entropy_sgd" => format!("Entropy-SGD L={}", get("inner_steps", "5")),
        "rbo" => format!(
            "RBO η={}, ρ={}, K={}",
            get("lr", "0.1"),
            get("radius", "0.5"),
            get("inner_steps", "10")
        ),
        _ => spec.to_string(),
    }
}

fn lr_of(spec: &str) -> f64 {
    Spec::parse(spec)
        .ok()
        .and_then(|s| {
            s.args.iter().find_map(|(k, v)| match (k.as_str(), v) {
                ("lr", descent_core::Value::Number(x)) => Some(*x),
                _ => None,
            })
        })
        .unwrap_or(f64::NAN)
}

/// Runs every (optimizer, seed) pair of a data set; results in optimizer-major order.
fn run_all(
    specs: &[String],
    seeds: usize,
    data: &dyn Fn(u64) -> Result<(Arc<Dataset>, Arc<Dataset>)>,
    cc: &Comparison,
    base_seed: u64,
) -> Result<Vec<Vec<RunRecord>>> {
    let sets: Vec<(Arc<Dataset>, Arc<Dataset>)> = (0..seeds)
        .map(|s| data(base_seed + s as u64))
        .collect::<Result<_>>()?;
    let jobs: Vec<(usize, usize)> = (0..specs.len())
        .flat_map(|o| (0..seeds).map(move |s| (o, s)))
        .collect();
    let recs: Vec<RunRecord> = jobs
        .par_iter()
        .map(|&(o, s)| {
            let (tr, te) = &sets[s];
            train_one(&specs[o], tr, te, cc, base_seed + s as u64)
        })
        .collect::<Result<_>>()?;
    Ok(recs.chunks(seeds).map(|c| c.to_vec()).collect())
}

fn comparison(
    c: &RboExperimentConfig,
    report: &mut Report,
    ctx: &RunContext<'_>,
) -> Result<Vec<(String, Figure)>> {
    let cc = &c.comparison;
    let seed = ctx.seed;
    let per_class = cc.per_class;
    let mix = |s: u64| mixture(per_class, s);
    let specs = &cc.optimizers;
    let results = run_all(specs, cc.seeds, &mix, cc, seed)?;
    (ctx.progress)(0.5, "large-learning-rate stability");
    // R7a: stability at η = 100.
    let stab_specs = vec![
        "rbo(lr=100, radius=3, inner_lr=0.001, inner_steps=20)".to_string(),
        "sgd(lr=100)".to_string(),
    ];
    let stab = run_all(&stab_specs, cc.stability_seeds, &mix, cc, seed)?;
    (ctx.progress)(0.7, "learning-rate × radius grid");
    let grid_specs: Vec<String> = cc
        .grid_radii
        .iter()
        .flat_map(|r| {
            cc.grid_lrs
                .iter()
                .map(move |lr| format!("rbo(lr={lr}, radius={r}, inner_lr=0.001, inner_steps=20)"))
        })
        .collect();
    let grid = run_all(&grid_specs, cc.grid_seeds, &mix, cc, seed)?;

    let mut total = EvalCounts::default();
    for r in results.iter().chain(&stab).chain(&grid).flatten() {
        total = total + r.counts;
    }

    // Table per optimizer.
    let mut rows = Vec::new();
    let finals =
        |recs: &[RunRecord], f: fn(&RunRecord) -> f64| -> Vec<f64> { recs.iter().map(f).collect() };
    for (spec, recs) in specs.iter().zip(&results) {
        let tr = finals(recs, |r| {
            if r.diverged {
                f64::NAN
            } else {
                *r.train_acc.last().unwrap()
            }
        });
        let te = finals(recs, |r| {
            if r.diverged {
                f64::NAN
            } else {
                *r.test_acc.last().unwrap()
            }
        });
        let sh = finals(recs, |r| r.sharpness);
        let per_step = recs[0].counts.gradients as f64 / recs[0].steps.max(1) as f64;
        rows.push(vec![
            json!(spec),
            num(mean(&tr)),
            num(std(&tr)),
            num(mean(&te)),
            num(std(&te)),
            num(mean(&sh)),
            num(per_step),
            num(mean(&finals(recs, |r| {
                r.seconds.last().copied().unwrap_or(f64::NAN)
            }))),
            json!(recs.iter().filter(|r| r.diverged).count()),
        ]);
    }
    report.add_table(
        "comparison_mixture",
        &[
            "optimizer",
            "train_acc_mean",
            "train_acc_std",
            "test_acc_mean",
            "test_acc_std",
            "sharpness_mean",
            "grads_per_step",
            "seconds_mean",
            "diverged_runs",
        ],
        rows,
    );

    // R7a.
    let rbo_finite = stab[0].iter().filter(|r| !r.diverged).count();
    let sgd_div = stab[1].iter().filter(|r| r.diverged).count();
    report.claim(Claim::at_least(
        "rbo/large-lr-stable",
        &format!(
            "RBO at η = 100 (ρ = 3, γ = 1e-3, K = 20) finishes with a finite loss on every seed \
             (finite runs of {})",
            cc.stability_seeds
        ),
        ClaimKind::Asserted,
        rbo_finite as f64,
        cc.stability_seeds as f64,
    ));
    report.claim(Claim::at_least(
        "rbo/sgd-large-lr-diverges",
        &format!(
            "SGD at η = 100 diverges on every seed (diverged runs of {})",
            cc.stability_seeds
        ),
        ClaimKind::Asserted,
        sgd_div as f64,
        cc.stability_seeds as f64,
    ));
    let rbo100_acc: Vec<f64> = stab[0]
        .iter()
        .filter(|r| !r.diverged)
        .map(|r| *r.train_acc.last().unwrap())
        .collect();
    report.add_series(
        "large_lr_rbo_train_acc",
        &[
            ("seed", (0..rbo100_acc.len()).map(|i| i as f64).collect()),
            ("train_acc", rbo100_acc.clone()),
        ],
    );
    // R7b: everyone learns except SGD at η ≥ 6 (means over seeds, as the spec's prototype
    // reports them), and the worst single run as a reported figure.
    let mut min_mean = f64::INFINITY;
    let mut min_run = f64::INFINITY;
    let (mut who_mean, mut who_run) = (String::new(), String::new());
    for (spec, recs) in specs.iter().zip(&results) {
        if spec.starts_with("sgd") && lr_of(spec) >= 6.0 {
            continue;
        }
        let accs: Vec<f64> = recs
            .iter()
            .map(|r| {
                if r.diverged {
                    0.0
                } else {
                    *r.train_acc.last().unwrap()
                }
            })
            .collect();
        let m = mean(&accs);
        if m < min_mean {
            min_mean = m;
            who_mean = spec.clone();
        }
        for a in accs {
            if a < min_run {
                min_run = a;
                who_run = spec.clone();
            }
        }
    }
    if who_mean.is_empty() {
        // no optimizer was eligible: nothing was measured, so the claim must not hold
        (min_mean, min_run) = (f64::NAN, f64::NAN);
    }
    report.claim(Claim::at_least(
        "rbo/all-learn",
        &format!(
            "every optimizer except SGD at η ≥ 6 reaches a mean train accuracy (over {} seeds) \
             ≥ 0.80 on the mixture (lowest: {who_mean})",
            cc.seeds
        ),
        ClaimKind::Asserted,
        min_mean,
        0.80,
    ));
    report.claim(Claim::at_least(
        "rbo/all-learn-every-seed",
        &format!(
            "the same on every single seed (lowest run: {who_run}); reported, since one mixture \
             draw is harder for slow SGD"
        ),
        ClaimKind::Reported,
        min_run,
        0.80,
    ));
    // Reported: the paper's ranking claim and the sharpness of each solution.
    let test_mean = |pred: &dyn Fn(&str) -> bool| -> f64 {
        specs
            .iter()
            .zip(&results)
            .filter(|(s, _)| pred(s))
            .map(|(_, recs)| {
                mean(
                    &recs
                        .iter()
                        .map(|r| {
                            if r.diverged {
                                0.0
                            } else {
                                *r.test_acc.last().unwrap()
                            }
                        })
                        .collect::<Vec<_>>(),
                )
            })
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let best_rbo = test_mean(&|s| s.starts_with("rbo"));
    let best_sam = test_mean(&|s| s.starts_with("sam"));
    let best_esgd = test_mean(&|s| s.starts_with("entropy_sgd"));
    let best_sgd = test_mean(&|s| s.starts_with("sgd"));
    report.claim(Claim::judged(
        "rbo/beats-baselines",
        "paper (Table 1): RBO reaches higher test accuracy than SAM and Entropy-SGD \
         (best mean test accuracy of each family on the mixture; the spec found it does not at \
         this scale)",
        ClaimKind::Reported,
        json!({"rbo": num(best_rbo), "sam": num(best_sam), "entropy_sgd": num(best_esgd),
               "sgd": num(best_sgd)}),
        "rbo > sam and rbo > entropy_sgd",
        best_rbo > best_sam && best_rbo > best_esgd,
    ));
    let sharp: Vec<(String, f64)> = specs
        .iter()
        .zip(&results)
        .map(|(s, recs)| (s.clone(), mean(&finals(recs, |r| r.sharpness))))
        .collect();
    let sharp_rbo = sharp
        .iter()
        .filter(|(s, _)| s.starts_with("rbo"))
        .map(|(_, v)| *v)
        .fold(f64::INFINITY, f64::min);
    let sharp_sgd = sharp
        .iter()
        .filter(|(s, _)| s.starts_with("sgd") && lr_of(s) < 6.0)
        .map(|(_, v)| *v)
        .fold(f64::INFINITY, f64::min);
    report.claim(Claim::judged(
        "rbo/flatter-solutions",
        "RBO (like SAM) finds flatter solutions: the smallest mean top Hessian eigenvalue \
         (full training set, Lanczos) of the RBO runs is below that of SGD with η ≤ 0.1",
        ClaimKind::Reported,
        Value::Object(sharp.iter().map(|(s, v)| (s.clone(), num(*v))).collect()),
        "min over rbo < min over sgd(lr<=0.1)",
        sharp_rbo < sharp_sgd,
    ));
    // Grid: train accuracy per (ρ, η), diverged = 0.
    let nl = cc.grid_lrs.len();
    let mut grid_lines = Vec::new();
    let mut grid_rows = Vec::new();
    for (ri, r) in cc.grid_radii.iter().enumerate() {
        let accs: Vec<f64> = (0..nl)
            .map(|li| {
                let recs = &grid[ri * nl + li];
                mean(
                    &recs
                        .iter()
                        .map(|r| {
                            if r.diverged {
                                0.0
                            } else {
                                *r.train_acc.last().unwrap()
                            }
                        })
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        for (li, a) in accs.iter().enumerate() {
            grid_rows.push(vec![num(*r), num(cc.grid_lrs[li]), num(*a)]);
        }
        let mut l = Line::new(format!("ρ = {r}"), cc.grid_lrs.clone(), accs);
        l.markers = true;
        grid_lines.push(l);
    }
    report.add_table("lr_radius_grid", &["radius", "lr", "train_acc"], grid_rows);
    if let Some(li) = cc.grid_lrs.iter().position(|l| *l == 100.0) {
        let at100: Vec<f64> = (0..cc.grid_radii.len())
            .map(|ri| {
                mean(
                    &grid[ri * nl + li]
                        .iter()
                        .map(|r| {
                            if r.diverged {
                                0.0
                            } else {
                                *r.train_acc.last().unwrap()
                            }
                        })
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let spread = at100.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - at100.iter().copied().fold(f64::INFINITY, f64::min);
        report.claim(Claim::at_most(
            "rbo/large-lr-radius-insensitive",
            "spec finding: at η = 100 RBO's train accuracy hardly depends on ρ (its stability \
             comes from the bounded inner solver, not the radius): spread over the grid's radii",
            ClaimKind::Reported,
            spread,
            0.1,
        ));
    }
    // Figures: accuracy curves per gradient evaluation and per second; the grid.
    let mut per_eval = Vec::new();
    let mut per_sec = Vec::new();
    for (k, (spec, recs)) in specs.iter().zip(&results).enumerate() {
        if recs.iter().any(|r| r.diverged) {
            continue;
        }
        let len = recs.iter().map(|r| r.test_acc.len()).min().unwrap_or(0);
        let avg = |f: fn(&RunRecord) -> &Vec<f64>| -> (Vec<f64>, Vec<f64>) {
            let m: Vec<f64> = (0..len)
                .map(|i| mean(&recs.iter().map(|r| f(r)[i]).collect::<Vec<_>>()))
                .collect();
            let s: Vec<f64> = (0..len)
                .map(|i| std(&recs.iter().map(|r| f(r)[i]).collect::<Vec<_>>()))
                .collect();
            (m, s)
        };
        let (acc, sd) = avg(|r| &r.test_acc);
        let (ev, _) = avg(|r| &r.evals);
        let (sec, _) = avg(|r| &r.seconds);
        let band = (
            acc.iter().zip(&sd).map(|(a, s)| a - s).collect::<Vec<_>>(),
            acc.iter().zip(&sd).map(|(a, s)| a + s).collect::<Vec<_>>(),
        );
        let ev1: Vec<f64> = ev.iter().map(|e| e.max(1.0)).collect();
        let mut l = Line::new(short_label(spec), ev1.clone(), acc.clone());
        l.band = Some(band.clone());
        per_eval.push(l);
        let sec1: Vec<f64> = sec.iter().map(|s| s.max(1e-4)).collect();
        let mut l2 = Line::new(short_label(spec), sec1.clone(), acc.clone());
        l2.band = Some(band);
        per_sec.push(l2);
        report.add_series(
            &format!("curve_{k}"),
            &[
                ("grad_evals", ev),
                ("seconds", sec),
                ("test_acc_mean", acc),
                ("test_acc_std", sd),
            ],
        );
    }
    let mut figs = vec![
        (
            "accuracy_curves".to_string(),
            Figure {
                caption: Some(format!(
                    "R7: 10-{}-5 MLP, 5-class mixture, batch {}, {} epochs, mean ± sd of {} seeds",
                    cc.hidden, cc.batch, cc.epochs, cc.seeds
                )),
                panels: vec![
                    Panel {
                        title: "Test accuracy per gradient evaluation".into(),
                        x_label: "gradient evaluations (minibatch of 64)".into(),
                        y_label: "test accuracy (fraction)".into(),
                        log_x: true,
                        legend: LegendAt::LowerRight,
                        lines: per_eval,
                        ..Default::default()
                    },
                    Panel {
                        title: "Test accuracy per second".into(),
                        x_label: "wall-clock seconds (optimization only)".into(),
                        y_label: "test accuracy (fraction)".into(),
                        log_x: true,
                        legend: LegendAt::LowerRight,
                        lines: per_sec,
                        ..Default::default()
                    },
                ],
            },
        ),
        (
            "lr_radius_grid".to_string(),
            Figure {
                caption: Some(format!(
                    "RBO η × ρ grid (γ=1e-3, K=20), {} epochs, {} seed(s)",
                    cc.epochs, cc.grid_seeds
                )),
                panels: vec![Panel {
                    title: "Final train accuracy (diverged = 0)".into(),
                    x_label: "learning rate η".into(),
                    y_label: "train accuracy (fraction)".into(),
                    log_x: true,
                    legend: LegendAt::UpperLeft,
                    lines: grid_lines,
                    ..Default::default()
                }],
            },
        ),
    ];
    // Digits (full preset): reported only.
    if cc.digits {
        (ctx.progress)(0.85, "digits");
        let digits = |s: u64| -> Result<(Arc<Dataset>, Arc<Dataset>)> {
            let data = descent_data::digits()?;
            let streams = RngStreams::new(s);
            let (mut tr, mut te) = descent_data::split(&data, 0.2, &mut streams.stream("split"))?;
            let st = Standardizer::fit(&tr)?;
            st.transform(&mut tr)?;
            st.transform(&mut te)?;
            Ok((Arc::new(tr), Arc::new(te)))
        };
        let dres = run_all(specs, cc.seeds, &digits, cc, seed)?;
        let mut drows = Vec::new();
        let mut dbest = serde_json::Map::new();
        for (spec, recs) in specs.iter().zip(&dres) {
            let te: Vec<f64> = recs
                .iter()
                .map(|r| {
                    if r.diverged {
                        0.0
                    } else {
                        *r.test_acc.last().unwrap()
                    }
                })
                .collect();
            dbest.insert(spec.clone(), num(mean(&te)));
            drows.push(vec![
                json!(spec),
                num(mean(&te)),
                num(std(&te)),
                num(mean(&finals(recs, |r| r.sharpness))),
            ]);
        }
        report.add_table(
            "comparison_digits",
            &[
                "optimizer",
                "test_acc_mean",
                "test_acc_std",
                "sharpness_mean",
            ],
            drows,
        );
        let fam = |p: &str| {
            specs
                .iter()
                .filter(|s| s.starts_with(p))
                .filter_map(|s| dbest.get(s).and_then(|v| v.as_f64()))
                .fold(f64::NEG_INFINITY, f64::max)
        };
        report.claim(Claim::judged(
            "rbo/digits-beats-baselines",
            "paper (Table 1, MNIST/MLP): RBO reaches higher test accuracy than SAM and \
             Entropy-SGD — here on the embedded 8×8 digits",
            ClaimKind::Reported,
            Value::Object(dbest.clone()),
            "best rbo > best sam and best entropy_sgd",
            fam("rbo") > fam("sam") && fam("rbo") > fam("entropy_sgd"),
        ));
        for r in dres.iter().flatten() {
            total = total + r.counts;
        }
    }
    report.evals = total;
    report.assume(
        "R7: the RBO grid uses the spec's large-η solver settings (γ = 1e-3, K = 20) at every η; \
         at small η this solver barely moves (z moves about γKη‖g‖ per step), which the grid shows.",
    );
    report.assume(
        "R7: Entropy-SGD uses the outer step x ← x − η(x − μ) without γ, μ ← (1−α)μ + αx′ and \
         noise √η′·ε (the convention the spec calibrated with); SAM's base is plain SGD η = 0.1.",
    );
    report.assume(
        "R7b's calibrated assert ('every optimizer reaches train accuracy >= 0.80 except SGD at \
         eta >= 6') is read on the mean over seeds, as the spec's prototype numbers are means; \
         the worst single run is reported separately (rbo/all-learn-every-seed).",
    );
    report.assume(
        "Sharpness is the top Hessian eigenvalue of the full training loss at the final \
         parameters by 20 Lanczos steps on exact HVPs (reported only).",
    );
    let _ = &mut figs;
    Ok(figs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minima_counting_ignores_plateaus() {
        assert_eq!(count_minima(&[3.0, 2.0, 2.0, 2.0, 3.0, 1.0, 4.0], 1e-9), 2);
        assert_eq!(count_minima(&[1.0, 2.0, 3.0], 1e-9), 0);
    }

    #[test]
    fn wrinkled_derivatives_match_finite_differences() {
        for x in [-2.1, 0.3, 1.7] {
            let h = 1e-6;
            let (_, d1, d2) = wrinkled(x);
            let fd1 = (wrinkled(x + h).0 - wrinkled(x - h).0) / (2.0 * h);
            let fd2 = (wrinkled(x + h).1 - wrinkled(x - h).1) / (2.0 * h);
            assert!((d1 - fd1).abs() < 1e-6 && (d2 - fd2).abs() < 1e-4);
            let (_, s1, s2) = smooth(x);
            assert!((s1 - (smooth(x + h).0 - smooth(x - h).0) / (2.0 * h)).abs() < 1e-7);
            assert!((s2 - (smooth(x + h).1 - smooth(x - h).1) / (2.0 * h)).abs() < 1e-7);
        }
    }

    #[test]
    fn bad_config_names_the_field() {
        let mut c = RboExperimentConfig::default();
        c.comparison.seeds = 0;
        assert_eq!(
            validate(&c).unwrap_err().to_string(),
            "invalid value for 'comparison.seeds': got 0, expected an integer >= 1"
        );
        let mut c = RboExperimentConfig::default();
        c.comparison.optimizers = vec!["rbo(radius=-1)".into()];
        assert_eq!(
            validate(&c).unwrap_err().to_string(),
            "invalid value for 'rbo.radius': got -1, expected a finite number >= 0"
        );
    }
}
