//! The four figures (pure functions of the measurements): test accuracy against iteration per
//! method, accuracy against ε, consensus error against iteration (log), and each node's ε
//! spent against its budget.

use super::comparison::{ComparisonResult, SCENARIOS, mean_final, scenario_name, select};
use super::config::Config;
use super::consensus::ConsensusResult;
use super::runs::{Budgets, Graph, Method, RunResult, Split};
use crate::harness::stats;
use crate::plot::{Figure, LegendAt, Line, Panel};

/// The pointwise mean over replicas of a per-run curve, against the evaluation rounds
/// (`per_round = false`) or against rounds 1, 2, … (`per_round = true`).
fn mean_curve(
    runs: &[&RunResult],
    per_round: bool,
    f: impl Fn(&RunResult) -> &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let Some(first) = runs.first() else {
        return (Vec::new(), Vec::new());
    };
    let len = f(first).len();
    let y = (0..len)
        .map(|k| stats::mean(&runs.iter().map(|r| f(r)[k]).collect::<Vec<_>>()))
        .collect();
    let x = if per_round {
        (1..=len).map(|k| k as f64).collect()
    } else {
        first.rounds.clone()
    };
    (x, y)
}

const ALL_METHODS: [Method; 5] = [
    Method::Sgp,
    Method::DpSgp,
    Method::Adp,
    Method::AdpNoFusion,
    Method::AdpStrong,
];

/// Mean test accuracy against iteration, one panel per ablation ε, one line per method.
pub fn accuracy_curves(r: &ComparisonResult, c: &Config) -> Figure {
    let panels = c
        .ablation_epsilons
        .iter()
        .map(|&e| {
            let lines = ALL_METHODS
                .iter()
                .enumerate()
                .filter_map(|(i, &m)| {
                    let runs = select(r, m, Split::Iid, Graph::Exp, Budgets::Uniform(e));
                    let (x, y) = mean_curve(&runs, false, |r| &r.accuracy);
                    (!x.is_empty()).then(|| Line {
                        color: Some(i),
                        dashed: matches!(m, Method::AdpNoFusion | Method::AdpStrong),
                        ..Line::new(m.label(c), x, y)
                    })
                })
                .collect();
            Panel {
                title: format!("ε = {e} per node, IID, one-peer exp graph"),
                x_label: "iteration k".into(),
                y_label: "mean test accuracy of the 8 de-biased models".into(),
                legend: LegendAt::LowerRight,
                lines,
                ..Panel::default()
            }
        })
        .collect();
    Figure {
        caption: Some(format!(
            "Test accuracy against iteration (mean of {} replicas)",
            c.replicas
        )),
        panels,
    }
}

fn acc_vs_eps(r: &ComparisonResult, m: Method, split: Split, graph: Graph, eps: &[f64]) -> Line {
    let y = eps
        .iter()
        .map(|&e| mean_final(&select(r, m, split, graph, Budgets::Uniform(e))))
        .collect();
    Line {
        markers: true,
        ..Line::new("", eps.to_vec(), y)
    }
}

/// Final accuracy against ε (log x): the main setting with SGP as a dashed level, and the
/// other scenarios.
pub fn accuracy_vs_epsilon(r: &ComparisonResult, c: &Config) -> Figure {
    let eps = &c.epsilons;
    let sgp = mean_final(&select(
        r,
        Method::Sgp,
        Split::Iid,
        Graph::Exp,
        Budgets::Uniform(0.0),
    ));
    let mut main = vec![Line {
        dashed: true,
        color: Some(0),
        ..Line::new(
            Method::Sgp.label(c),
            vec![stats::min(eps), stats::max(eps)],
            vec![sgp, sgp],
        )
    }];
    for (i, m) in [(1, Method::DpSgp), (2, Method::Adp)] {
        main.push(Line {
            label: m.label(c),
            color: Some(i),
            ..acc_vs_eps(r, m, Split::Iid, Graph::Exp, eps)
        });
    }
    let mut other = Vec::new();
    for (k, (split, graph)) in SCENARIOS.into_iter().enumerate() {
        for m in [Method::Adp, Method::DpSgp] {
            other.push(Line {
                // one legend entry per scenario: the dashed DP-SGP line shares its colour
                label: if m == Method::Adp {
                    scenario_name(split, graph)
                } else {
                    String::new()
                },
                color: Some(3 + k),
                dashed: m == Method::DpSgp,
                ..acc_vs_eps(r, m, split, graph, &c.scenario_epsilons)
            });
        }
    }
    let panel = |title: &str, lines| Panel {
        title: title.into(),
        x_label: "ε per node (δ = 1e-5)".into(),
        y_label: "final mean test accuracy".into(),
        log_x: true,
        legend: LegendAt::LowerRight,
        lines,
        ..Panel::default()
    };
    Figure {
        caption: Some("Accuracy against the privacy budget ε".into()),
        panels: vec![
            panel("IID, one-peer exp graph", main),
            panel("other scenarios: ADP-VRSGP solid, DP-SGP dashed", other),
        ],
    }
}

/// Only the positive points (a log axis cannot show an exact 0).
fn positive(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    x.iter()
        .zip(y)
        .filter(|(_, v)| **v > 0.0)
        .map(|(a, b)| (*a, *b))
        .unzip()
}

/// Consensus error against iteration (log y): pure push-sum, and the trained models.
pub fn consensus(g: &ConsensusResult, r: &ComparisonResult, c: &Config) -> Figure {
    let mut gossip = Vec::new();
    for (i, curve) in g.curves.iter().enumerate() {
        let x: Vec<f64> = (1..=curve.z_error.len()).map(|k| k as f64).collect();
        let (xz, yz) = positive(&x, &curve.z_error);
        gossip.push(Line {
            color: Some(i),
            markers: xz.len() < 10,
            ..Line::new(format!("{}: z = x/w", curve.topology), xz, yz)
        });
        if curve.topology == "random-tv" {
            let (xx, yx) = positive(&x, &curve.x_error);
            gossip.push(Line {
                color: Some(i),
                dashed: true,
                ..Line::new("random-tv: x (no de-biasing)", xx, yx)
            });
        }
    }
    let e = c.ablation_epsilons.first().copied().unwrap_or(f64::NAN);
    let trained = |graph: Graph, title: &str, legend: LegendAt| {
        let lines = [Method::Sgp, Method::DpSgp, Method::Adp]
            .into_iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let runs = select(r, m, Split::Iid, graph, Budgets::Uniform(e));
                let (x, y) = mean_curve(&runs, true, |r| &r.consensus);
                let name = if m == Method::Sgp {
                    m.label(c)
                } else {
                    format!("{} ε={e}", m.label(c))
                };
                (!x.is_empty()).then(|| Line {
                    color: Some(i),
                    ..Line::new(name, x, y)
                })
            })
            .collect();
        Panel {
            title: title.into(),
            x_label: "iteration k".into(),
            y_label: "max_i ‖z_i − z̄‖ / ‖z̄‖".into(),
            log_y: true,
            legend,
            lines,
            ..Panel::default()
        }
    };
    Figure {
        caption: Some("Consensus error against iteration".into()),
        panels: vec![
            Panel {
                title: format!("push-sum without gradients, n = {}", c.nodes),
                x_label: "round k".into(),
                y_label: "max_i |z_i − average| (∞-norm)".into(),
                log_y: true,
                legend: LegendAt::LowerLeft,
                lines: gossip,
                ..Panel::default()
            },
            trained(
                Graph::Exp,
                "trained models, IID, one-peer exp graph",
                LegendAt::UpperRight,
            ),
            trained(
                Graph::RandomTv,
                "trained models, IID, random TV digraph",
                LegendAt::LowerLeft,
            ),
        ],
    }
}

/// Each node's spent ε against its budget (personalised ADP-VRSGP run): bars at the end with
/// the budgets as markers, and the spent ε along the run.
pub fn budgets(r: &ComparisonResult, c: &Config) -> Figure {
    let run = r
        .runs
        .iter()
        .find(|x| x.job.method == Method::Adp && x.job.budgets == Budgets::Personalised);
    let Some(run) = run else {
        return Figure::default();
    };
    let idx: Vec<f64> = (0..run.nodes.len()).map(|i| i as f64).collect();
    let spent: Vec<f64> = run
        .nodes
        .iter()
        .map(|n| n.spent.unwrap_or(f64::NAN))
        .collect();
    let classic: Vec<f64> = run
        .nodes
        .iter()
        .map(|n| n.spent_classic.unwrap_or(f64::NAN))
        .collect();
    let target: Vec<f64> = run
        .nodes
        .iter()
        .map(|n| n.target.unwrap_or(f64::NAN))
        .collect();
    let bars = vec![
        Line {
            bar_width: Some(0.6),
            color: Some(0),
            ..Line::new("spent ε (improved conversion)", idx.clone(), spent)
        },
        Line {
            scatter: true,
            markers: true,
            color: Some(1),
            ..Line::new("spent ε (classic conversion)", idx.clone(), classic)
        },
        Line {
            scatter: true,
            markers: true,
            color: Some(3),
            ..Line::new("budget ε_i", idx, target)
        },
    ];
    let levels: Vec<f64> = {
        let mut v: Vec<f64> = run.nodes.iter().filter_map(|n| n.target).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let curves = run
        .spent_curve
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0 || run.nodes.len() < 4)
        .map(|(i, y)| {
            let level = levels
                .iter()
                .position(|l| Some(*l) == run.nodes[i].target)
                .unwrap_or(0);
            Line {
                color: Some(level),
                ..Line::new(
                    format!(
                        "node {i} (ε_i = {})",
                        run.nodes[i].target.unwrap_or(f64::NAN)
                    ),
                    run.rounds.clone(),
                    y.clone(),
                )
            }
        })
        .collect();
    Figure {
        caption: Some(format!(
            "Personalised budgets, {} (δ = {:e})",
            Method::Adp.label(c),
            c.delta
        )),
        panels: vec![
            Panel {
                title: "ε spent after K rounds vs budget".into(),
                x_label: "node i".into(),
                y_label: "ε".into(),
                legend: LegendAt::UpperLeft,
                lines: bars,
                x_ticks: (0..run.nodes.len()).map(|i| i.to_string()).collect(),
                ..Panel::default()
            },
            Panel {
                title: "ε spent along the run (improved; one node per budget)".into(),
                x_label: "iteration k".into(),
                y_label: "ε spent".into(),
                legend: LegendAt::UpperLeft,
                lines: curves,
                ..Panel::default()
            },
        ],
    }
}
