//! E2, least squares with a solution manifold (spec §5 E2): f(x) = ½‖Ax − b‖² with
//! A = U diag(s) Vᵀ ∈ ℝ^{30×40}, s log-spaced from 1 to 1/√κ₀ (β_f = 1, μ_f = 1/κ₀, a
//! 10-dimensional affine solution set), x = (x₁, x₂) split 20/20 and x₂ eliminated by
//! (a) the exact argmin Ψ(x₁) = A₂⁺(b − A₁x₁), (b) the constant oracle Ψ ≡ x₂* and (c) a random
//! affine map through x* (negative controls). GD on f (step 1/β_f), GD on F (step 1/β_F^E)
//! and GeoPrecGD (step 1/β_F^R) run from 0 to f − f* ≤ 10⁻¹⁰(f₀ − f*).

use descent_core::linalg::{Trans, matmul, qr};
use descent_core::testfns::LeastSquares;
use descent_core::{EvalCounts, Layout, Problem, ReductionJacobian, Result};
use descent_optim::probes::{Curvature, CurvatureOptions, hessian_curvature, pullback_curvature};
use descent_optim::{AffineMap, Reduction, ReductionConfig, Split};
use serde_json::Value;

use super::config::E2Config;
use super::runs::{ToTolerance, normals, predicted_iterations, problem_seed, run_to_tolerance};
use crate::harness::par_grid;
use crate::report::{Claim, ClaimKind, num};

/// The three maps, in the order of [`E2Case::maps`].
pub const MAPS: [&str; 3] = ["argmin", "constant", "random affine"];

/// One map of one problem: F's curvature at x₁* and the two runs on F.
#[derive(Debug, Clone, PartialEq)]
pub struct MapCase {
    /// F's curvature at x₁* in the Euclidean metric.
    pub euclid: Curvature,
    /// F's curvature at x₁* in the pullback metric R = I + DΨᵀDΨ.
    pub pullback: Curvature,
    /// GD on F with step 1/β_F^E.
    pub gd: ToTolerance,
    /// GeoPrecGD with step 1/β_F^R.
    pub geoprec: ToTolerance,
}

/// One problem: κ₀, its seed, f's curvature, GD on f and the three maps.
#[derive(Debug, Clone, PartialEq)]
pub struct E2Case {
    /// The conditioning target κ₀.
    pub kappa0: f64,
    /// The problem's seed.
    pub seed: u64,
    /// f's curvature at its minimiser.
    pub f: Curvature,
    /// GD on f with step 1/β_f.
    pub gd_f: ToTolerance,
    /// One case per map of [`MAPS`].
    pub maps: Vec<MapCase>,
}

impl E2Case {
    /// `κ0=100 seed 3`.
    pub fn label(&self) -> String {
        format!("κ0={} seed {}", self.kappa0, self.seed)
    }
}

/// What E2 measured.
#[derive(Debug, Clone, PartialEq)]
pub struct E2Result {
    /// One case per κ₀.
    pub cases: Vec<E2Case>,
    /// The runs' tolerance: f − f* ≤ tol·(f₀ − f*).
    pub tol: f64,
    /// cols − rows, the dimension of the solution set.
    pub dim_s: usize,
    /// Oracle evaluations of all runs.
    pub evals: EvalCounts,
}

/// The problem of draw `seed`: A, b, x_true, with blocks x1 (n1) and x2.
fn problem(c: &E2Config, kappa0: f64, seed: u64) -> Result<(LeastSquares, Vec<f64>)> {
    let (m, n) = (c.rows, c.cols);
    let (u, _) = qr(&normals(seed, "e2-u", m * m), m, m);
    let (v, _) = qr(&normals(seed, "e2-v", n * m), n, m);
    let mut us = u;
    for i in 0..m {
        for j in 0..m {
            let t = j as f64 / (m - 1) as f64;
            us[i * m + j] *= kappa0.powf(-0.5 * t);
        }
    }
    let a = matmul(&us, Trans::N, &v, Trans::T, m, m, n);
    let x_true = normals(seed, "e2-x", n);
    let b = matmul(&a, Trans::N, &x_true, Trans::N, m, n, 1);
    let mut layout = Layout::new();
    layout.push("x1", &[c.n1]);
    layout.push("x2", &[n - c.n1]);
    Ok((LeastSquares::new(a, m, n, b)?.with_layout(layout)?, x_true))
}

/// The three maps of the spec for this problem.
fn maps(c: &E2Config, ls: &LeastSquares, x_true: &[f64], seed: u64) -> Result<Vec<AffineMap>> {
    let split = Split::from_globs(ls.layout(), &["x2".to_string()])?;
    let (m, n) = ls.shape();
    let (n1, n2) = (c.n1, n - c.n1);
    let (x1, x2) = x_true.split_at(n1);
    let scale = c.random_scale / (n1 as f64).sqrt();
    let random: Vec<f64> = normals(seed, "e2-map", n2 * n1)
        .iter()
        .map(|g| scale * g)
        .collect();
    Ok(vec![
        AffineMap::least_squares_argmin(ls.a(), m, n, ls.b(), &split)?,
        AffineMap::constant(x2, n1)?,
        AffineMap::through("random affine", x1, x2, random)?,
    ])
}

fn gd(lr: f64) -> String {
    format!("sgd(lr={lr})")
}

/// One map: curvature at x₁*, then GD and GeoPrecGD from x₁ = 0.
fn map_case(
    c: &E2Config,
    ls: &LeastSquares,
    map: AffineMap,
    x1_star: &[f64],
    opts: &CurvatureOptions,
) -> Result<MapCase> {
    let mut red = Reduction::new(ls.clone(), map, ReductionConfig::eliminate(&["x2"]))?;
    let n2 = red.eliminated_dim();
    let mut jac = vec![0.0; n2 * c.n1];
    red.map_jacobian(x1_star, &mut jac);
    let euclid = hessian_curvature(&mut red, x1_star, opts)?;
    let pullback = pullback_curvature(&mut red, x1_star, &jac, n2, opts)?;
    let x0 = vec![0.0; c.n1];
    let gd = run_to_tolerance(&gd(1.0 / euclid.beta), &mut red, &x0, c.tol, c.max_steps)?;
    let spec = format!("geoprec(lr={})", 1.0 / pullback.beta);
    let geoprec = run_to_tolerance(&spec, &mut red, &x0, c.tol, c.max_steps)?;
    Ok(MapCase {
        euclid,
        pullback,
        gd,
        geoprec,
    })
}

fn measure_case(c: &E2Config, kappa0: f64, seed: u64, zero_tol: f64) -> Result<E2Case> {
    let (mut ls, x_true) = problem(c, kappa0, seed)?;
    let opts = CurvatureOptions {
        zero_tol,
        ..CurvatureOptions::default()
    };
    let f = hessian_curvature(&mut ls, &x_true, &opts)?;
    let gd_f = run_to_tolerance(
        &gd(1.0 / f.beta),
        &mut ls,
        &vec![0.0; c.cols],
        c.tol,
        c.max_steps,
    )?;
    let x1_star = &x_true[..c.n1];
    let maps = maps(c, &ls, &x_true, seed)?
        .into_iter()
        .map(|m| map_case(c, &ls, m, x1_star, &opts))
        .collect::<Result<Vec<_>>>()?;
    Ok(E2Case {
        kappa0,
        seed,
        f,
        gd_f,
        maps,
    })
}

/// Every κ₀ × problem draw, in parallel.
pub fn measure(c: &E2Config, run_seed: u64, zero_tol: f64) -> Result<E2Result> {
    let grid = par_grid(c.kappas.len(), c.seeds, |i, k| {
        measure_case(c, c.kappas[i], problem_seed(run_seed, c.seeds, k), zero_tol)
    })?;
    let cases: Vec<E2Case> = grid.into_iter().flatten().collect();
    let mut evals = EvalCounts::default();
    for case in &cases {
        evals = evals + case.gd_f.evals;
        evals.hvps += case.f.hvps as u64;
        for m in &case.maps {
            evals = evals + m.gd.evals + m.geoprec.evals;
            evals.hvps += (m.euclid.hvps + m.pullback.hvps) as u64;
        }
    }
    Ok(E2Result {
        cases,
        tol: c.tol,
        dim_s: c.cols - c.rows,
        evals,
    })
}

/// (case label, value) for every problem.
fn per_case(r: &E2Result, value: impl Fn(&E2Case) -> f64) -> Vec<(String, f64)> {
    r.cases.iter().map(|c| (c.label(), value(c))).collect()
}

/// The argmin map of a case.
fn argmin(c: &E2Case) -> Option<&MapCase> {
    c.maps.first()
}

fn of_argmin(c: &E2Case, v: impl Fn(&MapCase) -> f64) -> f64 {
    argmin(c).map_or(f64::NAN, v)
}

/// The claims of E2: the spec's assertions per problem draw (asserted), the observed-only
/// pullback comparison and the negative controls (reported).
pub fn claims(r: &E2Result) -> Vec<Claim> {
    let n = r.cases.len();
    let over = format!(
        "per problem draw ({n} draws: every κ0 at 5 seeds derived from the run seed, run seed 0 \
         being the spec's seeds 0..4)"
    );
    let k = ClaimKind::Asserted;
    let mut out = vec![
        Claim::for_every(
            "reduction/e2-zero-counts",
            &format!(
                "E2: ∇²f and ∇²F (argmin) each have dim S = {} zero eigenvalues (|λ| ≤ \
                 1e-6·max|λ|), per problem and draw ({n} draws, run seed 0 = the spec's seeds \
                 0..4)",
                r.dim_s
            ),
            k,
            &zero_cases(r),
            &format!("every count = {}", r.dim_s),
            |v| v == r.dim_s as f64,
        ),
        Claim::for_every(
            "reduction/e2-beta-euclidean",
            &format!("E2 argmin: β_F^(E)/β_f ≤ 1 (Schur complement), {over}"),
            k,
            &per_case(r, |c| of_argmin(c, |m| m.euclid.beta) / c.f.beta),
            "<= 1 + 1e-12",
            |v| v <= 1.0 + 1e-12,
        ),
        Claim::for_every(
            "reduction/e2-mu-euclidean",
            &format!("E2 argmin: μ_F^(E)/μ_f ≥ 1 − 1e-8 (smallest positive eigenvalues), {over}"),
            k,
            &per_case(r, |c| of_argmin(c, |m| m.euclid.mu) / c.f.mu),
            ">= 1 - 1e-8",
            |v| v >= 1.0 - 1e-8,
        ),
        Claim::for_every(
            "reduction/e2-beta-pullback",
            &format!("E2 argmin: β_F^R/β_f ≤ 1 (pullback metric), {over}"),
            k,
            &per_case(r, |c| of_argmin(c, |m| m.pullback.beta) / c.f.beta),
            "<= 1 + 1e-12",
            |v| v <= 1.0 + 1e-12,
        ),
        Claim::for_every(
            "reduction/e2-kappa",
            &format!("E2 argmin: κ_F^(E)/κ_f ≤ 1/3, {over}"),
            k,
            &per_case(r, |c| of_argmin(c, |m| m.euclid.kappa) / c.f.kappa),
            "<= 1/3",
            |v| v <= 1.0 / 3.0,
        ),
        Claim::for_every(
            "reduction/e2-gd-speedup",
            &format!("E2: iterations of GD on F (argmin) / iterations of GD on f ≤ 1/4, {over}"),
            k,
            &per_case(r, |c| of_argmin(c, |m| m.gd.iterations) / c.gd_f.iterations),
            "<= 0.25",
            |v| v <= 0.25,
        ),
        Claim::for_every(
            "reduction/e2-geoprec-vs-gd",
            &format!(
                "E2: iterations of GeoPrecGD (step 1/β_F^R) / iterations of GD on F (argmin) ≤ 1.1, {over}"
            ),
            k,
            &per_case(r, |c| {
                of_argmin(c, |m| m.geoprec.iterations / m.gd.iterations)
            }),
            "<= 1.1",
            |v| v <= 1.1,
        ),
        Claim::for_every(
            "reduction/e2-rate-bound",
            &format!(
                "E2: each method's iterations to 1e-10 / ((κ/2)·ln 1e10) with its own κ (GD f: κ_f, \
                 GD F: κ_F^(E), GeoPrecGD: κ_F^R) ≤ 1.2, per method and problem draw ({n} draws)"
            ),
            k,
            &rate_cases(r),
            "every ratio <= 1.2",
            |v| v <= 1.2,
        ),
    ];
    out.extend(reported(r, &over));
    out
}

/// (case · problem, zero count) for f and F (argmin).
fn zero_cases(r: &E2Result) -> Vec<(String, f64)> {
    let mut cases = Vec::new();
    for c in &r.cases {
        cases.push((format!("{} f", c.label()), c.f.zero_count as f64));
        let big = of_argmin(c, |m| m.euclid.zero_count as f64);
        cases.push((format!("{} F", c.label()), big));
    }
    cases
}

/// (case · method, iterations / prediction) for the three argmin-side methods.
fn rate_cases(r: &E2Result) -> Vec<(String, f64)> {
    let mut cases = Vec::new();
    for c in &r.cases {
        let ratio = |t: f64, kappa: f64| t / predicted_iterations(kappa, r.tol);
        cases.push((
            format!("{} GD f", c.label()),
            ratio(c.gd_f.iterations, c.f.kappa),
        ));
        let (gd, geo) = argmin(c).map_or((f64::NAN, f64::NAN), |m| {
            (
                ratio(m.gd.iterations, m.euclid.kappa),
                ratio(m.geoprec.iterations, m.pullback.kappa),
            )
        });
        cases.push((format!("{} GD F", c.label()), gd));
        cases.push((format!("{} GeoPrecGD", c.label()), geo));
    }
    cases
}

/// The observed-only pullback comparison and the negative controls.
fn reported(r: &E2Result, over: &str) -> Vec<Claim> {
    let k = ClaimKind::Reported;
    let map = |i: usize, c: &E2Case, v: &dyn Fn(&MapCase) -> f64| c.maps.get(i).map_or(f64::NAN, v);
    vec![
        Claim::for_every(
            "reduction/e2-pullback-not-worse",
            &format!("E2 argmin, observed only (no guarantee): κ_F^R/κ_F^(E) ≤ 1.05, {over}"),
            k,
            &per_case(r, |c| of_argmin(c, |m| m.pullback.kappa / m.euclid.kappa)),
            "<= 1.05",
            |v| v <= 1.05,
        ),
        Claim::for_every(
            "reduction/e2-constant-map-mu",
            &format!(
                "E2 negative control, constant map Ψ ≡ x2*: μ_F^(E)/μ_f ≥ 1 (no guarantee: the \
                 compression can lower μ; the spec's prototype had 0.92 at κ0 = 100), {over}"
            ),
            k,
            &per_case(r, |c| map(1, c, &|m| m.euclid.mu) / c.f.mu),
            ">= 1",
            |v| v >= 1.0,
        ),
        Claim::for_every(
            "reduction/e2-random-map-beta",
            &format!(
                "E2 negative control, random affine map through x*: β_F^(E)/β_f ≤ 1 (no \
                 guarantee in the Euclidean metric: β can grow by up to M(Φ) = λ_max(R)), {over}"
            ),
            k,
            &per_case(r, |c| map(2, c, &|m| m.euclid.beta) / c.f.beta),
            "<= 1",
            |v| v <= 1.0,
        ),
        Claim::for_every(
            "reduction/e2-controls-slower-than-argmin",
            &format!(
                "E2: GD on F with the constant or the random map needs more iterations than with \
                 the argmin map (measured: the smaller of the two ratios to the argmin's count), {over}"
            ),
            k,
            &per_case(r, |c| {
                let a = of_argmin(c, |m| m.gd.iterations);
                let s = map(1, c, &|m| m.gd.iterations) / a;
                let t = map(2, c, &|m| m.gd.iterations) / a;
                crate::harness::stats::min(&[s, t])
            }),
            "> 1",
            |v| v > 1.0,
        ),
    ]
}

/// The columns of [`rows`].
pub const COLUMNS: [&str; 12] = [
    "kappa0",
    "seed",
    "map",
    "beta_f",
    "mu_f",
    "kappa_f",
    "beta_F (E)",
    "mu_F (E)",
    "kappa_F (E)",
    "kappa_F (R)",
    "iterations GD f / GD F / GeoPrecGD",
    "zeros f / F",
];

/// One row per problem draw and map.
pub fn rows(r: &E2Result) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for c in &r.cases {
        for (name, m) in MAPS.iter().zip(&c.maps) {
            rows.push(vec![
                num(c.kappa0),
                Value::from(c.seed),
                Value::String(name.to_string()),
                num(c.f.beta),
                num(c.f.mu),
                num(c.f.kappa),
                num(m.euclid.beta),
                num(m.euclid.mu),
                num(m.euclid.kappa),
                num(m.pullback.kappa),
                Value::String(format!(
                    "{} / {} / {}",
                    c.gd_f.iterations, m.gd.iterations, m.geoprec.iterations
                )),
                Value::String(format!("{} / {}", c.f.zero_count, m.euclid.zero_count)),
            ]);
        }
    }
    rows
}
