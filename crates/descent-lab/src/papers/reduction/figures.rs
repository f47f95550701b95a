//! The paper-style figures (pure functions of the results): iterations to tolerance per method
//! (E2 per κ₀, E3 per σ), loss curves (E2, E3, the neural case against steps and seconds) and
//! Hessian spectra before and after reduction (log scale; zero and negative eigenvalues marked).

use descent_optim::probes::Curvature;

use super::e2_least_squares::E2Result;
use super::e3_factorization::E3Result;
use super::neural::NeuralResult;
use super::runs::ToTolerance;
use crate::harness::stats;
use crate::plot::{Figure, LegendAt, Line, Panel};

/// A bar at `x` of the median with a min–max whisker.
fn bar(label: &str, x: f64, values: &[f64], color: usize) -> Line {
    Line {
        label: label.to_string(),
        x: vec![x],
        y: vec![stats::median(values)],
        band: Some((vec![stats::min(values)], vec![stats::max(values)])),
        bar_width: Some(0.36),
        color: Some(color),
        ..Default::default()
    }
}

fn iterations(runs: &[&ToTolerance]) -> Vec<f64> {
    runs.iter().map(|r| r.iterations).collect()
}

/// E2's bars for one κ₀: GD on f, then GD and GeoPrecGD on F for each map.
fn e2_panel(r: &E2Result, kappa0: f64) -> Panel {
    let cases: Vec<_> = r.cases.iter().filter(|c| c.kappa0 == kappa0).collect();
    let mut lines = vec![bar(
        "GD (step 1/β, Euclidean)",
        0.0,
        &iterations(&cases.iter().map(|c| &c.gd_f).collect::<Vec<_>>()),
        0,
    )];
    for i in 0..3 {
        let of = |pick: &dyn Fn(&super::e2_least_squares::MapCase) -> &ToTolerance| {
            iterations(
                &cases
                    .iter()
                    .filter_map(|c| c.maps.get(i).map(pick))
                    .collect::<Vec<_>>(),
            )
        };
        let x = i as f64 + 1.0;
        let mut gd = bar("", x - 0.19, &of(&|m| &m.gd), 0);
        let geo_label = if i == 0 {
            "GeoPrecGD (step 1/β^R)"
        } else {
            ""
        };
        let geo = bar(geo_label, x + 0.19, &of(&|m| &m.geoprec), 1);
        gd.label.clear();
        lines.push(gd);
        lines.push(geo);
    }
    Panel {
        title: format!("E2 least squares, κ0 = {kappa0}"),
        x_label: "problem (f) or reduction map of F".into(),
        y_label: "iterations to 1e-10 (median, min–max)".into(),
        log_y: true,
        // every corner holds a tall bar: the E3 panels carry the shared legend
        legend: LegendAt::Hidden,
        lines,
        x_ticks: vec![
            "f".into(),
            "F argmin".into(),
            "F constant".into(),
            "F random".into(),
        ],
        ..Default::default()
    }
}

/// E3's bars for one σ: GD on f, GD on F, GeoPrecGD.
fn e3_panel(r: &E3Result, sigma: [f64; 2]) -> Panel {
    let cases: Vec<_> = r.cases.iter().filter(|c| c.sigma == sigma).collect();
    let pick = |f: &dyn Fn(&super::e3_factorization::E3Case) -> &ToTolerance| {
        iterations(&cases.iter().map(|c| f(c)).collect::<Vec<_>>())
    };
    Panel {
        title: format!("E3 matrix factorisation, σ = ({}, {})", sigma[0], sigma[1]),
        x_label: "problem".into(),
        y_label: "iterations to 1e-12 (median, min–max)".into(),
        log_y: true,
        legend: LegendAt::UpperRight,
        lines: vec![
            bar("GD (step 1/β, Euclidean)", 0.0, &pick(&|c| &c.gd_f), 0),
            bar("", 0.81, &pick(&|c| &c.gd_big_f), 0),
            bar("GeoPrecGD (step 1/β^R)", 1.19, &pick(&|c| &c.geoprec), 1),
        ],
        x_ticks: vec!["f (U, V)".into(), "F (V eliminated)".into()],
        ..Default::default()
    }
}

/// Iterations to tolerance per method: E2 per κ₀, E3 per σ.
pub fn iterations_figure(e2: &E2Result, e3: &E3Result) -> Figure {
    let mut kappas: Vec<f64> = e2.cases.iter().map(|c| c.kappa0).collect();
    kappas.dedup();
    let mut sigmas: Vec<[f64; 2]> = e3.cases.iter().map(|c| c.sigma).collect();
    sigmas.dedup();
    let mut panels: Vec<Panel> = kappas.iter().map(|k| e2_panel(e2, *k)).collect();
    panels.extend(sigmas.iter().map(|s| e3_panel(e3, *s)));
    Figure {
        caption: Some(
            "Iterations to tolerance (5 problem draws per setting): blue GD on f and on the \
             reduced F, orange GeoPrecGD on F"
                .into(),
        ),
        panels,
    }
}

/// The largest κ₀ of E2 (the hardest problems).
fn largest_kappa(e2: &E2Result) -> f64 {
    stats::max(&e2.cases.iter().map(|c| c.kappa0).collect::<Vec<_>>())
}

/// The smallest σ₂ of E3.
fn smallest_sigma(e3: &E3Result) -> f64 {
    stats::min(&e3.cases.iter().map(|c| c.sigma[1]).collect::<Vec<_>>())
}

fn curve(label: &str, run: &ToTolerance, color: usize) -> Line {
    Line {
        label: label.to_string(),
        x: run.curve.iter().map(|p| p.0).collect(),
        y: run.curve.iter().map(|p| p.1).collect(),
        color: Some(color),
        ..Default::default()
    }
}

fn relative_panel(title: String, lines: Vec<Line>) -> Panel {
    Panel {
        title,
        x_label: "iteration".into(),
        y_label: "(f − f*) / (f0 − f*)".into(),
        log_y: true,
        log_x: true,
        legend: LegendAt::LowerLeft,
        lines,
        ..Default::default()
    }
}

/// The curves start at iteration 0, which a log axis drops; shift by one.
fn shifted(mut l: Line) -> Line {
    l.x.iter_mut().for_each(|x| *x += 1.0);
    l
}

/// Loss curves: E2 (largest κ₀, first draw), E3 (smallest σ₂, first draw), the neural case.
pub fn curves_figure(e2: &E2Result, e3: &E3Result, nn: Option<&NeuralResult>) -> Figure {
    let mut panels = Vec::new();
    let top = largest_kappa(e2);
    let hardest = e2
        .cases
        .iter()
        .find(|c| c.kappa0 == top && c.maps.len() == 3);
    if let Some(c) = hardest {
        let lines = vec![
            curve("GD on f", &c.gd_f, 0),
            curve("GD on F, argmin", &c.maps[0].gd, 1),
            curve("GeoPrecGD, argmin", &c.maps[0].geoprec, 2),
            curve("GD on F, constant", &c.maps[1].gd, 3),
            curve("GD on F, random affine", &c.maps[2].gd, 4),
        ];
        panels.push(relative_panel(
            format!("E2, κ0 = {}, seed {}", c.kappa0, c.seed),
            lines.into_iter().map(shifted).collect(),
        ));
    }
    let smallest = smallest_sigma(e3);
    if let Some(c) = e3.cases.iter().find(|c| c.sigma[1] == smallest) {
        let lines = vec![
            curve("GD on f", &c.gd_f, 0),
            curve("GD on F", &c.gd_big_f, 1),
            curve("GeoPrecGD", &c.geoprec, 2),
        ];
        panels.push(relative_panel(
            format!("E3, σ = ({}, {}), seed {}", c.sigma[0], c.sigma[1], c.seed),
            lines.into_iter().map(shifted).collect(),
        ));
    }
    if let Some(nn) = nn {
        panels.extend(neural_panels(nn));
    }
    Figure {
        caption: Some("Loss curves: plain problems against their reductions".into()),
        panels,
    }
}

/// The neural loss against steps and against seconds.
fn neural_panels(nn: &NeuralResult) -> [Panel; 2] {
    let line = |i: usize, x: &dyn Fn(&super::neural::NeuralRun) -> Vec<f64>| {
        let run = &nn.runs[i];
        Line {
            label: run.label.clone(),
            x: x(run),
            y: run.loss.clone(),
            color: Some(i),
            dashed: run.reduced,
            ..Default::default()
        }
    };
    let panel = |x_label: &str, x: &dyn Fn(&super::neural::NeuralRun) -> Vec<f64>| Panel {
        title: format!(
            "MLP regression ({} params, VarPro {})",
            nn.n_full, nn.n_reduced
        ),
        x_label: x_label.into(),
        y_label: "training loss f(θ, W) or F(θ)".into(),
        log_y: true,
        legend: LegendAt::UpperRight,
        lines: (0..nn.runs.len()).map(|i| line(i, x)).collect(),
        ..Default::default()
    };
    [
        panel("step", &|r| r.steps.clone()),
        panel("optimization seconds", &|r| r.seconds.clone()),
    ]
}

/// Positive eigenvalues of one spectrum as points (a dashed line for a pullback spectrum, which
/// can coincide with the Euclidean one), plus its zeros (at the threshold) and
/// negative eigenvalues (as |λ|) for the shared markers.
fn spectrum_lines(
    label: &str,
    c: &Curvature,
    color: usize,
    zeros: &mut Line,
    negatives: &mut Line,
) -> Line {
    let pullback = label.starts_with("pullback");
    let mut line = Line {
        label: label.to_string(),
        scatter: !pullback,
        dashed: pullback,
        color: Some(color),
        ..Default::default()
    };
    for (i, &v) in c.eigenvalues.iter().enumerate() {
        let x = (i + 1) as f64;
        if v.abs() <= c.zero_threshold {
            zeros.x.push(x);
            zeros.y.push(c.zero_threshold);
        } else if v < 0.0 {
            negatives.x.push(x);
            negatives.y.push(-v);
        } else {
            line.x.push(x);
            line.y.push(v);
        }
    }
    line
}

fn spectrum_panel(title: String, spectra: &[(&str, &Curvature)], legend: LegendAt) -> Panel {
    let mut zeros = Line {
        label: "zero eigenvalues, drawn at the threshold 1e-6·max|λ|".into(),
        scatter: true,
        color: Some(7),
        ..Default::default()
    };
    let mut negatives = Line {
        label: "negative eigenvalues, drawn as |λ|".into(),
        scatter: true,
        color: Some(3),
        ..Default::default()
    };
    let mut lines: Vec<Line> = spectra
        .iter()
        .enumerate()
        .map(|(i, (label, c))| spectrum_lines(label, c, i, &mut zeros, &mut negatives))
        .collect();
    if !zeros.x.is_empty() {
        lines.push(zeros);
    }
    if !negatives.x.is_empty() {
        lines.push(negatives);
    }
    Panel {
        title,
        x_label: "eigenvalue index (ascending)".into(),
        y_label: "eigenvalue".into(),
        log_y: true,
        legend,
        lines,
        ..Default::default()
    }
}

/// Hessian spectra before (f) and after reduction (F, Euclidean and pullback).
pub fn spectra_figure(e2: &E2Result, e3: &E3Result, nn: Option<&NeuralResult>) -> Figure {
    let mut panels = Vec::new();
    let top = largest_kappa(e2);
    if let Some(c) = e2
        .cases
        .iter()
        .find(|c| c.kappa0 == top && !c.maps.is_empty())
    {
        panels.push(spectrum_panel(
            format!("E2 at x*, κ0 = {}, seed {}", c.kappa0, c.seed),
            &[
                ("∇²f", &c.f),
                ("∇²F, argmin", &c.maps[0].euclid),
                ("pullback, argmin", &c.maps[0].pullback),
            ],
            LegendAt::LowerRight,
        ));
    }
    let low = smallest_sigma(e3);
    if let Some(c) = e3.cases.iter().find(|c| c.sigma[1] == low) {
        panels.push(spectrum_panel(
            format!(
                "E3 at the balanced minimiser, σ = ({}, {})",
                c.sigma[0], c.sigma[1]
            ),
            &[("∇²f", &c.f), ("∇²F", &c.big_f), ("pullback", &c.pullback)],
            LegendAt::LowerRight,
        ));
    }
    if let Some(nn) = nn
        && let (Some(f), Some(big)) = (nn.run("GD", false), nn.run("GD", true))
    {
        panels.push(spectrum_panel(
            "MLP at the end of GD (not minimisers: negative eigenvalues)".into(),
            &[("∇²f", &f.curvature), ("∇²F (VarPro)", &big.curvature)],
            LegendAt::UpperLeft,
        ));
    }
    Figure {
        caption: Some(
            "Hessian spectra before (f) and after reduction (F; pullback: R^-1/2 ∇²F R^-1/2)"
                .into(),
        ),
        panels,
    }
}
