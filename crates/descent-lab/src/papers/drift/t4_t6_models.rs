//! T4–T6 of P1 §5: the other learning rules over λ⊥ against their theory — similarity matching
//! at Oja's rate (P1-b), the linear autoencoder with weight decay (P1-c) and the supervised
//! two-layer net (P1-d, leading order only) — and, reported, their dependence on n − m
//! (P1-h). Figures: D against λ⊥ and against n − m for all four models (Oja's points from
//! T1/T2).

use descent_core::Result;
use serde_json::json;

use super::config::{Config, Sweep};
use super::points::{
    cases, d, per_point, points_line, ratio, set, theory_line, theory_vs_n, theory_vs_var, values,
};
use super::simulate::{Model, Point, RunSpec, Runs};
use super::t1_t2_oja::{OjaResult, irrelevant_dim};
use crate::harness::stats::loglog_slope;
use crate::plot::{Figure, LegendAt, Panel};
use crate::report::{Claim, ClaimKind};

/// The three models with their config settings.
fn models(c: &Config) -> [(Model, &Sweep); 3] {
    [
        (Model::Sm { tau: c.sm_tau }, &c.t4_sm_var),
        (Model::Ae { wd: c.ae_wd }, &c.t5_ae_var),
        (Model::Sup { gamma: c.sup_gamma }, &c.t6_sup_var),
    ]
}

/// The λ⊥ of each model's n − m sweep: SM and the supervised net at their largest λ⊥, the
/// autoencoder at its second (0.5 in the presets).
fn dim_var_irr(c: &Config) -> [f64; 3] {
    [
        *c.t4_sm_var.var_irr.last().unwrap_or(&0.6),
        c.t5_ae_var.var_irr.get(1).copied().unwrap_or(0.5),
        *c.t6_sup_var.var_irr.last().unwrap_or(&1.0),
    ]
}

/// The run specs: T4, T5, T6's λ⊥ points, then SM's, AE's and the supervised net's n − m
/// points (their sweep's n with `other_dims.n` added; the added n run `other_dims.steps`).
pub fn specs(c: &Config) -> [Vec<RunSpec>; 6] {
    let var = |(model, s): (Model, &Sweep)| -> Vec<RunSpec> {
        s.var_irr
            .iter()
            .map(|l| RunSpec::new(model, s, s.n[0], s.m[0], *l))
            .collect()
    };
    let dim = |(model, s): (Model, &Sweep), l: f64| -> Vec<RunSpec> {
        let n0 = s.n[0];
        let mut ns: Vec<usize> = c.other_dims.n.clone();
        ns.push(n0);
        ns.sort_unstable();
        ns.dedup();
        ns.iter()
            .map(|n| {
                let mut sp = RunSpec::new(model, s, *n, s.m[0], l);
                if *n != n0 {
                    sp.steps = c.other_dims.steps;
                }
                sp
            })
            .collect()
    };
    let [sm, ae, sup] = models(c);
    let [l_sm, l_ae, l_sup] = dim_var_irr(c);
    [
        var(sm),
        var(ae),
        var(sup),
        dim(sm, l_sm),
        dim(ae, l_ae),
        dim(sup, l_sup),
    ]
}

/// T4–T6's points.
#[derive(Debug, Clone)]
pub struct ModelsResult {
    /// T4, T5, T6: one point per λ⊥ for similarity matching, the autoencoder and the
    /// supervised net.
    pub var: [Vec<Point>; 3],
    /// The same models' n − m sweeps at one λ⊥.
    pub dim: [Vec<Point>; 3],
}

/// Reads T4–T6's points from the shared runs.
pub fn measure(c: &Config, runs: &Runs) -> Result<ModelsResult> {
    let [a, b, cc, da, db, dc] = specs(c);
    let p = |s: &[RunSpec]| runs.points(s);
    Ok(ModelsResult {
        var: [p(&a)?, p(&b)?, p(&cc)?],
        dim: [p(&da)?, p(&db)?, p(&dc)?],
    })
}

/// The check, claim-id stem and band of D_sim/D_theory of a model (P1 §5 T4–T6).
fn check_of(model: Model, eta: f64) -> (String, &'static str, f64, f64) {
    match model {
        Model::Sm { tau } => (
            format!("T4: similarity matching (τ = {tau}, η = {eta})"),
            "drift/sm",
            0.8,
            1.3,
        ),
        Model::Ae { wd } => (
            format!("T5: linear autoencoder (wd = {wd}, η = {eta})"),
            "drift/autoencoder",
            0.7,
            1.3,
        ),
        Model::Sup { gamma } => (
            format!("T6: supervised two-layer net (γ = {gamma}, η = {eta})"),
            "drift/supervised",
            1.0,
            2.2,
        ),
        Model::Oja => (format!("Oja (η = {eta})"), "drift/oja", 0.85, 1.25),
    }
}

/// Per model: D strictly increases with λ⊥, and D_sim / D_theory is in the spec's band at
/// every λ⊥.
fn var_claims(p: &[Point]) -> Vec<Claim> {
    let a = ClaimKind::Asserted;
    let Some(q0) = p.first() else {
        return Vec::new();
    };
    let (stmt, id, lo, hi) = check_of(q0.spec.model, q0.spec.eta);
    let how = per_point(p);
    vec![
        Claim::strictly_increasing(
            &format!("{id}-increases-with-irrelevant-variance"),
            &format!(
                "{stmt}: D strictly increases with λ⊥ over {} (n = {}, m = {}; {how})",
                set(&values(p, |q| q.spec.var_irr)),
                q0.spec.n,
                q0.spec.m
            ),
            a,
            &d(p),
        ),
        Claim::for_every(
            &format!("{id}-matches-theory"),
            &format!("{stmt}: at every λ⊥, D_sim / D_theory is in [{lo}, {hi}] (per case; {how})"),
            a,
            &cases(p, "λ⊥", |q| q.spec.var_irr, &ratio(p)),
            &format!("in [{lo}, {hi}]"),
            move |v| v >= lo && v <= hi,
        ),
    ]
}

/// Reported: a model's D grows with n − m as its theory does.
fn dim_claim(id: &str, name: &str, p: &[Point]) -> Claim {
    let nm = irrelevant_dim(p);
    let dd = d(p);
    let th = values(p, |q| q.theory);
    let (slope, theory_slope) = (loglog_slope(&nm, &dd), loglog_slope(&nm, &th));
    let l = p.first().map_or(f64::NAN, |q| q.spec.var_irr);
    Claim::judged(
        id,
        &format!(
            "{name} (λ⊥ = {l}): D strictly increases with n − m over {} and the least-squares \
             log-log slope of D against n − m is within ±0.15 (Oja's T2 band) of the theory's \
             ({}; steps per point {})",
            set(&nm),
            per_point(p),
            set(&values(p, |q| q.spec.steps as f64))
        ),
        ClaimKind::Reported,
        json!({"n_minus_m": nm, "D": dd, "se": values(p, |q| q.se),
               "slope": slope, "theory_slope": theory_slope}),
        "strictly increasing in n − m, slope within ±0.15 of the theory's",
        dd.windows(2).all(|w| w[1] > w[0]) && (slope - theory_slope).abs() <= 0.15,
    )
}

/// T4, T5, T6 (asserted), then the three n − m sweeps (reported).
pub fn claims(r: &ModelsResult) -> Vec<Claim> {
    let mut out: Vec<Claim> = r.var.iter().flat_map(|p| var_claims(p)).collect();
    for ((id, name), p) in [
        ("drift/sm-dimension", "similarity matching"),
        ("drift/autoencoder-dimension", "autoencoder"),
        ("drift/supervised-dimension", "supervised net"),
    ]
    .iter()
    .zip(&r.dim)
    {
        out.push(dim_claim(id, name, p));
    }
    out
}

/// D against λ⊥ for Oja (T1), similarity matching, the autoencoder and the supervised net.
pub fn var_figure(oja: &OjaResult, r: &ModelsResult) -> Figure {
    let var = |p: &[Point]| values(p, |q| q.spec.var_irr);
    let (p1, [p4, p5, p6]) = (&oja.var, &r.var);
    let (tx1, ty1) = theory_vs_var(p1, 0.25, 0.75);
    let (tx5, ty5) = theory_vs_var(p5, 0.25, 0.75);
    let (tx6, ty6) = theory_vs_var(p6, 0.0, 1.0);
    Figure {
        caption: Some(
            "Drift rate D versus irrelevant variance λ⊥ (points ± s.e., lines: theory)".into(),
        ),
        panels: vec![
            Panel {
                x_ticks: Vec::new(),
                title: "Unsupervised models (n = 10, m = 2)".into(),
                x_label: "irrelevant variance λ⊥".into(),
                y_label: "drift rate D (per step)".into(),
                log_x: false,
                log_y: true,
                legend: LegendAt::UpperLeft,
                lines: vec![
                    theory_line("Oja / SM theory, η = 0.01", 0, tx1, ty1),
                    points_line("Oja (T1)", 0, var(p1), p1),
                    points_line("similarity matching (T4)", 1, var(p4), p4),
                    theory_line("autoencoder theory, η = 0.02", 2, tx5, ty5),
                    points_line("autoencoder (T5)", 2, var(p5), p5),
                ],
            },
            Panel {
                title: "Supervised two-layer net (γ = 0.25, η = 0.025)".into(),
                x_label: "irrelevant variance λ⊥".into(),
                y_label: "drift rate D (per step)".into(),
                legend: LegendAt::UpperLeft,
                lines: vec![
                    theory_line("leading-order formula (P1-d)", 3, tx6, ty6),
                    points_line("simulation (T6)", 3, var(p6), p6),
                ],
                ..Default::default()
            },
        ],
    }
}

/// D against n − m for Oja (T2) and the other three models.
pub fn dim_figure(oja: &OjaResult, r: &ModelsResult) -> Figure {
    let (p2, [pd_sm, pd_ae, pd_sup]) = (&oja.dim, &r.dim);
    let ns: Vec<usize> = (4..=20).collect();
    let (ox, oy) = theory_vs_n(p2, &ns);
    let (sx, sy) = theory_vs_n(pd_sm, &ns);
    let (ax, ay) = theory_vs_n(pd_ae, &ns);
    let (ux, uy) = theory_vs_n(pd_sup, &ns);
    let nm = irrelevant_dim;
    Figure {
        caption: Some(
            "Drift rate D versus irrelevant dimension n − m (points ± s.e., lines: theory)".into(),
        ),
        panels: vec![Panel {
            x_ticks: Vec::new(),
            title: "m = 2".into(),
            x_label: "irrelevant dimension n − m".into(),
            y_label: "drift rate D (per step)".into(),
            log_x: true,
            log_y: true,
            legend: LegendAt::LowerRight,
            lines: vec![
                theory_line("Oja theory (λ⊥ = 0.5)", 0, ox, oy),
                points_line("Oja (T2)", 0, nm(p2), p2),
                theory_line("SM theory (λ⊥ = 0.6)", 1, sx, sy),
                points_line("similarity matching", 1, nm(pd_sm), pd_sm),
                theory_line("autoencoder theory (λ⊥ = 0.5)", 2, ax, ay),
                points_line("autoencoder", 2, nm(pd_ae), pd_ae),
                theory_line("supervised formula (λ⊥ = 1)", 3, ux, uy),
                points_line("supervised", 3, nm(pd_sup), pd_sup),
            ],
        }],
    }
}
