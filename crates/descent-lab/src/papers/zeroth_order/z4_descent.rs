//! Z4: ZO-SGD (the paper's §3 algorithm, x ← x − ηĝ) with every law on a quadratic and on a separable
//! nonconvex function at equal function-query budgets — (a) every law converges, (b) the
//! one-step expectation E f(x − ηg) against its closed form, (c) DAP-exact's deterministic
//! first-order decrease aᵀg = ‖a‖², and the laws' relative speed (reported).

use descent_core::testfns::{CosineWell, SeparableQuadratic};
use descent_core::{EvalCounts, Function, Gradient, Result, RngStreams};
use descent_optim::zeroth_order::DapConstruction;
use descent_optim::{Difference, PerturbationLaw, ZoConfig, ZoGradient};
use serde_json::{Value, json};

use super::config::Z4Config;
use super::curves::{self, Curve, DAP_ESTIMATED, ZoLaw};
use super::{dap_exact_with, dot};
use crate::harness::{par_map, par_range, stats};
use crate::plot::{Figure, LegendAt, Line, Panel};
use crate::report::{Claim, ClaimKind, num};

/// The two test functions of Z4, in job order.
pub const FUNCTIONS: [&str; 2] = ["quadratic", "nonconvex"];

/// Draws of the DAP-exact aᵀg check (c).
pub const DESCENT_DRAWS: usize = 1000;

/// One law's one-step expectation at x = 1: Monte Carlo over closed form.
#[derive(Debug, Clone, PartialEq)]
pub struct OneStep {
    /// The law's legend label.
    pub law: &'static str,
    /// E\[gᵀWg\], Monte Carlo / closed form.
    pub gwg_ratio: f64,
    /// E f(x − ηg) − f(x), Monte Carlo / closed form.
    pub delta_ratio: f64,
}

/// Z4's measurements.
#[derive(Debug, Clone, PartialEq)]
pub struct Z4Result {
    /// The dimension d.
    pub dim: usize,
    /// ZO-SGD steps per run.
    pub steps: usize,
    /// Seeds per law.
    pub seeds: usize,
    /// Directions q per step.
    pub q: usize,
    /// The forward-difference μ.
    pub mu: f64,
    /// Per function of [`FUNCTIONS`], per law, the curves over seeds: f(x) on the quadratic,
    /// ‖∇f(x)‖ on the nonconvex function, against function queries.
    pub groups: [Vec<(String, Vec<Curve>)>; 2],
    /// Every evaluation of the ZO-SGD runs.
    pub evals: EvalCounts,
    /// Monte Carlo samples of each one-step expectation.
    pub one_step_samples: usize,
    /// One entry per law.
    pub one_step: Vec<OneStep>,
    /// DAP-exact: the largest |aᵀg/‖a‖² − 1| over [`DESCENT_DRAWS`] draws, μ → 0 and central.
    pub dap_descent_dev: [f64; 2],
}

/// The quadratic's diagonal W = diag(linspace(0.1, 1, d)).
fn weights(d: usize) -> Vec<f64> {
    (0..d)
        .map(|i| 0.1 + 0.9 * i as f64 / (d - 1).max(1) as f64)
        .collect()
}

/// One ZO-SGD run: function `p` of [`FUNCTIONS`], step 0.5/(L d) with L = 1 (quadratic, from
/// x = 1) or 3 (nonconvex, from x = 0.5), its randomness from `seed`.
fn run(c: &Z4Config, w: &[f64], p: usize, law: &ZoLaw, seed: u64) -> Result<Curve> {
    let d = c.dim;
    let (lipschitz, start) = if p == 0 { (1.0, 1.0) } else { (3.0, 0.5) };
    let lr = 0.5 / (lipschitz * d as f64);
    let spec = format!(
        "zo(law={}, q={}, mu={}, base=sgd(lr={lr}))",
        law.law, law.q, c.mu
    );
    let x0 = vec![start; d];
    if p == 0 {
        let mut prob = SeparableQuadratic::new(w, &vec![0.0; d])?;
        curves::zo_curve(
            &spec,
            &mut prob,
            &x0,
            c.steps,
            c.record_every,
            seed,
            |p, x| p.value(x),
        )
    } else {
        let mut prob = CosineWell::new(d)?;
        let mut g = vec![0.0; d];
        curves::zo_curve(
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
}

/// (b): the one-step expectation at x = 1 on the quadratic, η = 0.5/d, μ → 0, for
/// Gaussian, the sphere and DAP construction (i), against the closed forms
/// E f(x − ηg) = f(x) − η‖a‖² + (η²/2)·E[gᵀWg] with E[gᵀWg] = ‖a‖²tr W + 2aᵀWa (Gaussian),
/// d/(d+2) of it (sphere) and aᵀWa + ‖a‖²(tr W − âᵀWâ) (DAP (i)).
fn one_step(c: &Z4Config, w: &[f64], streams: &RngStreams) -> Result<Vec<OneStep>> {
    let d = c.dim;
    let quad = SeparableQuadratic::new(w, &vec![0.0; d])?;
    let eta = 0.5 / d as f64;
    let x0 = vec![1.0; d];
    let a = w.to_vec(); // ∇f(1) = W·1
    let a2 = dot(&a, &a);
    let tr: f64 = w.iter().sum();
    let awa: f64 = a.iter().zip(w).map(|(ai, wi)| wi * ai * ai).sum();
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
            dap_exact_with(DapConstruction::GaussianComplement),
            awa + a2 * (tr - awa / a2),
        ),
    ];
    par_range(theory.len(), |i| {
        let (name, law, gwg_t) = theory[i];
        let cfg = ZoConfig {
            law,
            q: 1,
            difference: Difference::Limit,
            ..ZoConfig::default()
        };
        let s = RngStreams::new(streams.child_seed("z4b", i as u64));
        let mut zo = ZoGradient::new(quad.clone(), cfg, &s)?;
        let mut f = quad.clone();
        let f0 = f.value(&x0);
        let mut g = vec![0.0; d];
        let mut xs = vec![0.0; d];
        let (mut gwg, mut delta) = (0.0, 0.0);
        for _ in 0..c.one_step_samples {
            zo.value_grad(&x0, &mut g);
            gwg += g.iter().zip(w).map(|(gi, wi)| wi * gi * gi).sum::<f64>();
            xs.iter_mut()
                .zip(x0.iter().zip(&g))
                .for_each(|(s, (xi, gi))| *s = xi - eta * gi);
            delta += f.value(&xs) - f0;
        }
        let n = c.one_step_samples as f64;
        let delta_t = -eta * a2 + 0.5 * eta * eta * gwg_t;
        Ok(OneStep {
            law: name,
            gwg_ratio: gwg / n / gwg_t,
            delta_ratio: delta / n / delta_t,
        })
    })
}

/// (c): DAP-exact at x = 1 on the quadratic, the largest |aᵀg/‖a‖² − 1| over
/// [`DESCENT_DRAWS`] draws, in the μ → 0 limit and with central differences (μ = 1e-3).
fn dap_descent(c: &Z4Config, w: &[f64], streams: &RngStreams) -> Result<[f64; 2]> {
    let d = c.dim;
    let quad = SeparableQuadratic::new(w, &vec![0.0; d])?;
    let x0 = vec![1.0; d];
    let a2 = dot(w, w);
    let mut out = [f64::NAN; 2];
    for (k, diff) in [Difference::Limit, Difference::Central].iter().enumerate() {
        let cfg = ZoConfig {
            law: PerturbationLaw::DAP_EXACT,
            q: 1,
            difference: *diff,
            ..ZoConfig::default()
        };
        let s = RngStreams::new(streams.child_seed("z4c", k as u64));
        let mut zo = ZoGradient::new(quad.clone(), cfg, &s)?;
        let mut g = vec![0.0; d];
        let devs: Vec<f64> = (0..DESCENT_DRAWS)
            .map(|_| {
                zo.value_grad(&x0, &mut g);
                dot(w, &g) / a2 - 1.0
            })
            .collect();
        out[k] = stats::max_abs(&devs);
    }
    Ok(out)
}

/// Runs every (function, law, seed) in parallel, then (b) and (c); all randomness from `seed`.
pub fn measure(c: &Z4Config, seed: u64) -> Result<Z4Result> {
    let streams = RngStreams::new(seed);
    let w = weights(c.dim);
    let laws = curves::laws(c.q);
    let jobs: Vec<(usize, usize, usize)> = (0..FUNCTIONS.len())
        .flat_map(|p| (0..laws.len()).flat_map(move |l| (0..c.seeds).map(move |s| (p, l, s))))
        .collect();
    let mut all = par_map(&jobs, |&(p, l, s)| {
        let run_seed = streams.child_seed("z4", (p * 1000 + l * 100 + s) as u64);
        run(c, &w, p, &laws[l], run_seed)
    })?;
    let per_function = laws.len() * c.seeds;
    let nonconvex = all.split_off(per_function);
    let (quad, e_q) = curves::group_by_law(&laws, c.seeds, all);
    let (well, e_n) = curves::group_by_law(&laws, c.seeds, nonconvex);
    Ok(Z4Result {
        dim: c.dim,
        steps: c.steps,
        seeds: c.seeds,
        q: c.q,
        mu: c.mu,
        groups: [quad, well],
        evals: e_q + e_n,
        one_step_samples: c.one_step_samples,
        one_step: one_step(c, &w, &streams)?,
        dap_descent_dev: dap_descent(c, &w, &streams)?,
    })
}

/// Per function, the median (over seeds) lines with min–max bands.
pub fn lines(r: &Z4Result) -> [Vec<Line>; 2] {
    [
        curves::band_lines(&r.groups[0], 1e-300),
        curves::band_lines(&r.groups[1], 1e-300),
    ]
}

/// Per law, the function queries for its median curve to reach 1e-2 of its initial value,
/// relative to the uniform sphere's, on each function: (label, [quadratic, nonconvex]).
pub fn relative_speed(r: &Z4Result) -> Vec<(String, [f64; 2])> {
    let ls = lines(r);
    let target = |l: &Line| curves::queries_to(l, 1e-2 * l.y[0]);
    let sphere: Vec<f64> = ls
        .iter()
        .map(|fl| {
            fl.iter()
                .find(|l| l.label == "uniform sphere")
                .map_or(f64::NAN, target)
        })
        .collect();
    ls[0]
        .iter()
        .zip(&ls[1])
        .map(|(lq, ln)| {
            (
                lq.label.clone(),
                [target(lq) / sphere[0], target(ln) / sphere[1]],
            )
        })
        .collect()
}

/// (a): per function and law, the largest over seeds of the final/initial ratio (NaN when a
/// run diverged or is not finite).
pub fn worst_reductions(r: &Z4Result) -> Vec<(String, f64)> {
    FUNCTIONS
        .iter()
        .zip(&r.groups)
        .flat_map(|(name, group)| {
            group.iter().map(move |(label, cs)| {
                let ratios: Vec<f64> = cs.iter().map(Curve::reduction).collect();
                (format!("{name} {label}"), stats::max(&ratios))
            })
        })
        .collect()
}

/// (a) and (b): convergence of every law, the one-step expectation.
fn convergence_claims(r: &Z4Result) -> Vec<Claim> {
    let one_step_cases: Vec<(String, f64)> = r
        .one_step
        .iter()
        .flat_map(|o| {
            [
                (format!("{} E[g^T W g]", o.law), o.gwg_ratio),
                (format!("{} E f(x - eta g) - f(x)", o.law), o.delta_ratio),
            ]
        })
        .collect();
    vec![
        Claim::for_every(
            "zeroth-order/z4a-all-laws-converge",
            &format!(
                "every law brings ZO-SGD (T = {}, eta = 0.5/(L d), forward mu = {:e}) to f_T <= \
                 1e-2 f_0 on the quadratic and |grad f_T| <= 1e-2 |grad f_0| on the nonconvex \
                 function in every run: per function and law, the largest ratio over {} seeds \
                 (a diverged run counts as NaN)",
                r.steps, r.mu, r.seeds
            ),
            ClaimKind::Asserted,
            &worst_reductions(r),
            "every ratio <= 1e-2 (no divergence)",
            |v| v <= 1e-2,
        ),
        Claim::for_every(
            "zeroth-order/z4b-one-step-expectation",
            &format!(
                "one-step expectation E f(x - eta g) = f(x) - eta|a|^2 + (eta^2/2) E[g^T W g] \
                 at x = 1 on the quadratic (eta = 0.5/d, mu -> 0): per law, the mean over {} \
                 draws / closed form of E[g^T W g] and of the expected one-step change",
                r.one_step_samples
            ),
            ClaimKind::Asserted,
            &one_step_cases,
            "every ratio in [0.97, 1.03]",
            |v| (0.97..=1.03).contains(&v),
        ),
    ]
}

/// (c) and the relative speed.
fn descent_and_speed_claims(r: &Z4Result) -> Vec<Claim> {
    let speed = relative_speed(r);
    let cases = |labels: &[&str]| -> Vec<(String, f64)> {
        speed
            .iter()
            .filter(|(l, _)| labels.contains(&l.as_str()))
            .flat_map(|(l, v)| {
                FUNCTIONS
                    .iter()
                    .zip(v)
                    .map(move |(f, x)| (format!("{f} {l}"), *x))
            })
            .collect()
    };
    let queries_text = format!(
        "function queries for the median curve over {} seeds to reach 1e-2 of the initial f \
         (quadratic) or |grad f| (nonconvex), relative to the uniform sphere",
        r.seeds
    );
    vec![
        Claim::at_most(
            "zeroth-order/z4c-dap-exact-descent",
            &format!(
                "DAP-exact single step, mu -> 0: the largest |a^T g / |a|^2 - 1| over \
                 {DESCENT_DRAWS} draws"
            ),
            ClaimKind::Asserted,
            r.dap_descent_dev[0],
            1e-10,
        ),
        Claim::at_most(
            "zeroth-order/z4c-dap-exact-central",
            &format!(
                "DAP-exact single step with central differences (mu = 1e-3, exact on the \
                 quadratic up to rounding): the largest |a^T g / |a|^2 - 1| over {DESCENT_DRAWS} \
                 draws"
            ),
            ClaimKind::Reported,
            r.dap_descent_dev[1],
            1e-8,
        ),
        Claim::for_every(
            "zeroth-order/z4-relative-speed",
            &format!(
                "{queries_text}, per function, for Rademacher, coordinate and DAP-estimated \
                 (theory: parity for the laws with E[vv^T] = I and (d-1)|a|^2 total MSE)"
            ),
            ClaimKind::Reported,
            &cases(&["Rademacher", "coordinate", DAP_ESTIMATED]),
            "every ratio in [0.85, 1.15]",
            |v| (0.85..=1.15).contains(&v),
        ),
        Claim::for_every(
            "zeroth-order/z4-gaussian-relative-speed",
            &format!(
                "{queries_text}, per function, for Gaussian (theory: slower by about (d+2)/d = \
                 {:.3})",
                (r.dim as f64 + 2.0) / r.dim as f64
            ),
            ClaimKind::Reported,
            &cases(&["Gaussian"]),
            "every ratio in [1, 1.15]",
            |v| (1.0..=1.15).contains(&v),
        ),
    ]
}

/// Z4's claims.
pub fn claims(r: &Z4Result) -> Vec<Claim> {
    let mut out = convergence_claims(r);
    out.extend(descent_and_speed_claims(r));
    out
}

/// How the budgets were equalised.
pub fn assumption(r: &Z4Result) -> String {
    format!(
        "Z4: every law spends q + 1 = {} function values per step: q = {} directions, and \
         DAP-estimated q/2 = {} pilot + {} aligned directions; DAP-exact spends {} values plus \
         one exact gradient per step (an oracle baseline, plotted against its function values \
         only)",
        r.q + 1,
        r.q,
        r.q / 2,
        r.q / 2,
        r.q
    )
}

/// Columns of [`speed_rows`].
pub const SPEED_COLUMNS: [&str; 3] = ["law", "quadratic", "nonconvex"];

/// The relative speed of every law (the sphere is 1; DAP-exact is the oracle baseline).
pub fn speed_rows(r: &Z4Result) -> Vec<Vec<Value>> {
    relative_speed(r)
        .into_iter()
        .map(|(l, v)| vec![json!(l), num(v[0]), num(v[1])])
        .collect()
}

/// The ZO-SGD figure: median and min–max over seeds against function queries, per function.
pub fn figure(r: &Z4Result) -> Figure {
    let [lines_q, lines_n] = lines(r);
    Figure {
        caption: Some(format!(
            "ZO-SGD, d = {}, q + 1 = {} function values per step, median and min-max over {} seeds",
            r.dim,
            r.q + 1,
            r.seeds
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
    }
}
