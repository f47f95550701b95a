//! The figures of `puf`: test and forgotten-client accuracy after the request (mean and
//! min–max band over the cases), MIA per method, and the FedAvg training curves. Pure
//! functions of the measurement.

use descent_dist::Mia;

use super::config::Config;
use super::measure::{Case, DatasetRun, Point, PufResult};
use super::tables::{columns, trajectory_means};
use crate::harness::stats;
use crate::plot::{Figure, LegendAt, Line, Panel};

/// (file stem, figure) of every figure.
pub fn figures(c: &Config, r: &PufResult) -> Vec<(String, Figure)> {
    let d = &r.digits;
    vec![
        ("accuracy_after_request".into(), after_request(c, d)),
        ("mia".into(), mia(d)),
        ("fedavg_training".into(), training(c, d)),
    ]
}

/// Test accuracy and accuracy on the forgotten client's data for `horizon` rounds after the
/// request, per method.
fn after_request(c: &Config, d: &DatasetRun) -> Figure {
    let h = c.horizon + 1;
    let x: Vec<f64> = (0..h).map(|i| i as f64).collect();
    let series = trajectory_means(d, h);
    let get = |n: &str| {
        series
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let panel = |what: &str, title: &str, y: &str| {
        let mut lines = Vec::new();
        for (name, label) in [
            (
                "puf_special",
                format!("PUF-Special (η_u = {})", c.eta_special),
            ),
            (
                "puf_regular",
                format!("PUF-Regular (η_u = {})", c.eta_regular),
            ),
            ("natural", "continue without client".to_string()),
        ] {
            lines.push(Line {
                band: Some((
                    get(&format!("{name}_{what}_min")),
                    get(&format!("{name}_{what}_max")),
                )),
                markers: true,
                ..Line::new(label, x.clone(), get(&format!("{name}_{what}_mean")))
            });
        }
        lines.push(Line::new(
            "retrain from scratch",
            x.clone(),
            get(&format!("retrain_{what}_mean")),
        ));
        Panel {
            title: title.into(),
            x_label: "rounds after the request (0 = original, 1 = unlearning round)".into(),
            y_label: y.into(),
            legend: LegendAt::LowerRight,
            lines,
            ..Default::default()
        }
    };
    Figure {
        caption: Some(format!(
            "Unlearning one of {} digits clients (Dirichlet α = {}): mean over {} cases, band = min–max",
            c.clients,
            c.alpha,
            d.singles.len()
        )),
        panels: vec![
            panel("test", "Test accuracy", "test accuracy"),
            panel(
                "forget",
                "Accuracy on the forgotten client's data",
                "forgotten client's train accuracy",
            ),
        ],
    }
}

/// MIA bars: groups = attacks, bars = methods, whiskers = min–max over the cases.
fn mia(d: &DatasetRun) -> Figure {
    type Pick = fn(&Case) -> Point;
    let methods: [(&str, Pick); 5] = [
        ("original", |k| k.original),
        ("retrain", |k| k.retrain),
        ("PUF-Special right after", |k| k.special_after),
        ("PUF-Special recovered", |k| k.special),
        ("continue without client", |k| k.natural),
    ];
    let attacks: [fn(&Mia) -> f64; 3] = [|m| m.yeom_rate, |m| m.confidence_rate, |m| m.auc];
    let width = 0.16;
    let bars: Vec<Line> = methods
        .iter()
        .enumerate()
        .map(|(j, (label, get))| {
            let per_attack: Vec<Vec<f64>> = attacks
                .iter()
                .map(|att| d.singles.iter().map(|k| att(&get(k).mia)).collect())
                .collect();
            let y = per_attack.iter().map(|v| stats::mean(v)).collect();
            let lo = per_attack.iter().map(|v| stats::min(v)).collect();
            let hi = per_attack.iter().map(|v| stats::max(v)).collect();
            let x: Vec<f64> = (0..3)
                .map(|i| i as f64 + (j as f64 - 2.0) * width)
                .collect();
            Line {
                bar_width: Some(width * 0.9),
                band: Some((lo, hi)),
                ..Line::new(*label, x, y)
            }
        })
        .collect();
    Figure {
        caption: Some(format!(
            "MIA on the forgotten data ({} cases, whiskers min–max)",
            d.singles.len()
        )),
        panels: vec![Panel {
            title: "MIA member rate and AUC (target vs test)".into(),
            x_label: "attack".into(),
            y_label: "member rate / AUC".into(),
            legend: LegendAt::UpperRight,
            lines: bars,
            x_ticks: vec![
                "Yeom member rate".into(),
                "confidence member rate".into(),
                "AUC".into(),
            ],
            ..Default::default()
        }],
    }
}

/// Test accuracy per round of each split's original federation and the mean retrained one.
fn training(c: &Config, d: &DatasetRun) -> Figure {
    let rounds: Vec<f64> = (1..=c.rounds).map(|r| r as f64).collect();
    let retrain_rows: Vec<Vec<f64>> = d.singles.iter().map(|k| k.retrain_curve.clone()).collect();
    let originals = d.originals.iter().map(|o| {
        Line::new(
            format!("all {} clients, split {}", c.clients, o.split),
            rounds.clone(),
            o.test_curve.clone(),
        )
    });
    let retrain = Line::new(
        format!("retrain without the target (mean of {})", d.singles.len()),
        rounds.clone(),
        columns(&retrain_rows, c.rounds).0,
    );
    Figure {
        caption: None,
        panels: vec![Panel {
            title: "FedAvg before the unlearning request".into(),
            x_label: "round".into(),
            y_label: "test accuracy".into(),
            legend: LegendAt::LowerRight,
            lines: originals.chain(std::iter::once(retrain)).collect(),
            ..Default::default()
        }],
    }
}
