//! The tables and series of `puf`: every case's numbers, accuracy per client, MIA per method,
//! the backdoor scenario, bytes per round, and the mean trajectories after the request. Pure
//! functions of the measurement.

use serde_json::{Value, json};

use super::config::Config;
use super::measure::{Case, DatasetRun, PufResult, Trajectory};
use crate::harness::stats;
use crate::report::{Series, Table, num};

const CASE_COLUMNS: &[&str] = &[
    "split",
    "targets",
    "n_target",
    "test_original",
    "test_retrain",
    "forget_original",
    "forget_retrain",
    "forget_special_after",
    "forget_special_recovered",
    "recovery_rounds_special",
    "test_special_recovered",
    "forget_regular_after",
    "forget_regular_recovered",
    "recovery_rounds_regular",
    "forget_natural",
    "yeom_original",
    "yeom_retrain",
    "yeom_special_recovered",
    "yeom_natural",
];

fn table(name: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> Table {
    Table {
        name: name.to_string(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

fn series(name: &str, columns: Vec<(String, Vec<f64>)>) -> Series {
    let (columns, data) = columns.into_iter().unzip();
    Series {
        name: name.to_string(),
        columns,
        data,
    }
}

fn case_row(k: &Case) -> Vec<Value> {
    let r = |x: Option<usize>| x.map_or(Value::Null, |v| json!(v));
    vec![
        json!(k.split),
        json!(format!("{:?}", k.targets)),
        json!(k.n_target),
        num(k.original.test),
        num(k.retrain.test),
        num(k.original.forget),
        num(k.retrain.forget),
        num(k.special_after.forget),
        num(k.special.forget),
        r(k.special_rounds),
        num(k.special.test),
        num(k.regular_after.forget),
        num(k.regular.forget),
        r(k.regular_rounds),
        num(k.natural.forget),
        num(k.original.mia.yeom_rate),
        num(k.retrain.mia.yeom_rate),
        num(k.special.mia.yeom_rate),
        num(k.natural.mia.yeom_rate),
    ]
}

/// Every table of the report, in report order.
pub fn tables(c: &Config, r: &PufResult) -> Vec<Table> {
    let d = &r.digits;
    let mut out = vec![
        table(
            "cases",
            CASE_COLUMNS,
            d.singles.iter().chain(&d.pairs).map(case_row).collect(),
        ),
        per_client(d),
    ];
    if let Some(m) = &r.mixture {
        out.push(table(
            "mixture_cases",
            CASE_COLUMNS,
            m.singles.iter().map(case_row).collect(),
        ));
    }
    out.push(mia(d));
    out.extend(backdoor(c, d));
    out.push(bytes_per_round(d));
    out
}

/// Accuracy on every client's own training data, per single-target case.
fn per_client(d: &DatasetRun) -> Table {
    let rows = d
        .singles
        .iter()
        .flat_map(|k| {
            (0..k.per_client[0].len()).map(move |i| {
                vec![
                    json!(k.split),
                    json!(k.targets[0]),
                    json!(i),
                    json!(k.targets.contains(&i)),
                    num(k.per_client[0][i]),
                    num(k.per_client[1][i]),
                    num(k.per_client[2][i]),
                ]
            })
        })
        .collect();
    table(
        "per_client_train_accuracy",
        &[
            "split",
            "target",
            "client",
            "forgotten",
            "original",
            "puf_special_after",
            "retrain",
        ],
        rows,
    )
}

/// Test and forget accuracy and the three MIA figures of every method, per single-target case.
fn mia(d: &DatasetRun) -> Table {
    let rows = d
        .singles
        .iter()
        .flat_map(|k| {
            [
                ("original", k.original),
                ("retrain", k.retrain),
                ("puf_special_after", k.special_after),
                ("puf_special_recovered", k.special),
                ("puf_regular_recovered", k.regular),
                ("natural", k.natural),
            ]
            .into_iter()
            .map(move |(m, p)| {
                vec![
                    json!(k.split),
                    json!(k.targets[0]),
                    json!(m),
                    num(p.test),
                    num(p.forget),
                    num(p.mia.yeom_rate),
                    num(p.mia.confidence_rate),
                    num(p.mia.auc),
                ]
            })
        })
        .collect();
    table(
        "mia",
        &[
            "split",
            "target",
            "method",
            "test_acc",
            "forget_acc",
            "yeom_member_rate",
            "confidence_member_rate",
            "auc",
        ],
        rows,
    )
}

/// The backdoor scenario per case (every case, memorised or not); none without backdoor runs.
fn backdoor(c: &Config, d: &DatasetRun) -> Option<Table> {
    let rows: Vec<Vec<Value>> = d
        .singles
        .iter()
        .filter_map(|k| k.backdoor.as_ref().map(|b| (k, b)))
        .map(|(k, b)| {
            let mut row = vec![
                json!(k.split),
                json!(k.targets[0]),
                num(b.original),
                num(b.retrain),
                num(b.natural),
                num(b.ratio(b.natural)),
            ];
            for x in &b.puf {
                row.push(num(*x));
                row.push(num(b.ratio(*x)));
            }
            row
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let mut cols: Vec<String> = [
        "split",
        "target",
        "backdoor_acc_original",
        "backdoor_acc_retrain",
        "backdoor_acc_natural",
        "ratio_natural",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for eta in &c.backdoor_etas {
        cols.push(format!("backdoor_acc_puf_eta{eta}"));
        cols.push(format!("ratio_puf_eta{eta}"));
    }
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    Some(table("backdoor", &cols, rows))
}

/// Bytes of a normal, a PUF-Special and a PUF-Regular round (the first case).
fn bytes_per_round(d: &DatasetRun) -> Table {
    let rows = d
        .singles
        .iter()
        .take(1)
        .flat_map(|k| {
            [
                ("fedavg round", k.bytes[0]),
                ("puf-special round", k.bytes[1]),
                ("puf-regular round", k.bytes[2]),
            ]
            .into_iter()
            .map(|(n, b)| vec![json!(n), json!(b)])
        })
        .collect();
    table("bytes_per_round", &["round", "bytes"], rows)
}

/// Every series of the report: the mean trajectories after the request (the figure's data)
/// and the original federations' training curves.
pub fn all_series(c: &Config, r: &PufResult) -> Vec<Series> {
    let d = &r.digits;
    let h = c.horizon + 1;
    let x: Vec<f64> = (0..h).map(|i| i as f64).collect();
    let after = std::iter::once(("round_after_request".to_string(), x))
        .chain(trajectory_means(d, h))
        .collect();
    let rounds: Vec<f64> = (1..=c.rounds).map(|r| r as f64).collect();
    let training = std::iter::once(("round".to_string(), rounds))
        .chain(d.originals.iter().map(|o| {
            (
                format!("test_acc_original_split{}", o.split),
                o.test_curve.clone(),
            )
        }))
        .collect();
    vec![
        series("after_request", after),
        series("fedavg_training", training),
    ]
}

/// Per index i < h: the mean, smallest and largest of `rows[·][i]` (NaN where a value is not
/// finite or a row is shorter than h).
pub fn columns(rows: &[Vec<f64>], h: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let col = |i: usize| -> Vec<f64> {
        rows.iter()
            .map(|r| r.get(i).copied().unwrap_or(f64::NAN))
            .collect()
    };
    let cols: Vec<Vec<f64>> = (0..h).map(col).collect();
    (
        cols.iter().map(|v| stats::mean(v)).collect(),
        cols.iter().map(|v| stats::min(v)).collect(),
        cols.iter().map(|v| stats::max(v)).collect(),
    )
}

/// Mean, min and max over the single-target cases of each method's first h trajectory points,
/// and the retrained model's mean as a constant line.
pub fn trajectory_means(d: &DatasetRun, h: usize) -> Vec<(String, Vec<f64>)> {
    type Pick = fn(&Case) -> &Trajectory;
    let methods: [(&str, Pick); 3] = [
        ("puf_special", |k| &k.special_traj),
        ("puf_regular", |k| &k.regular_traj),
        ("natural", |k| &k.natural_traj),
    ];
    let mut out = Vec::new();
    for (name, get) in methods {
        for (what, pick) in [
            ("test", (|t| &t.test) as fn(&Trajectory) -> &Vec<f64>),
            ("forget", |t| &t.forget),
        ] {
            let rows: Vec<Vec<f64>> = d.singles.iter().map(|k| pick(get(k)).clone()).collect();
            let (m, lo, hi) = columns(&rows, h);
            out.push((format!("{name}_{what}_mean"), m));
            out.push((format!("{name}_{what}_min"), lo));
            out.push((format!("{name}_{what}_max"), hi));
        }
    }
    for (what, pick) in [
        ("test", (|k| k.retrain.test) as fn(&Case) -> f64),
        ("forget", |k| k.retrain.forget),
    ] {
        let v = stats::mean(&d.singles.iter().map(pick).collect::<Vec<_>>());
        out.push((format!("retrain_{what}_mean"), vec![v; h]));
    }
    out
}
