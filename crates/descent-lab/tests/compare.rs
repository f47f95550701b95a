//! The optimizer-comparison protocol: same data, init and batches per seed; parallel equals
//! serial; divergence is recorded; tuning picks from the grid on a validation split.

use descent_lab::compare::{CompareConfig, TuneGrid, compare, report, with_key};
use descent_lab::train::TrainConfig;

fn config(optimizers: &[&str], seeds: usize) -> CompareConfig {
    CompareConfig {
        base: TrainConfig {
            data: "iris".into(),
            model: "mlp:4-8-3".into(),
            epochs: 4,
            batch_size: 16,
            ..TrainConfig::default()
        },
        optimizers: optimizers.iter().map(|s| s.to_string()).collect(),
        seeds,
        target_accuracy: Some(0.8),
        tune: None,
    }
}

/// One epoch record without its wall-clock time.
type Record = (u64, u64, f64, f64, Option<f64>);

/// Every run's records (None for a diverged run), by optimizer then seed.
fn fingerprint(cfg: &CompareConfig) -> Vec<Vec<Option<Vec<Record>>>> {
    compare(cfg)
        .unwrap()
        .iter()
        .map(|o| {
            o.runs
                .iter()
                .map(|r| {
                    r.as_ref().ok().map(|run| {
                        run.history
                            .iter()
                            .map(|h| {
                                (
                                    h.steps,
                                    h.grad_evals,
                                    h.train_loss,
                                    h.test_loss,
                                    h.test_accuracy,
                                )
                            })
                            .collect()
                    })
                })
                .collect()
        })
        .collect()
}

#[test]
fn parallel_runs_equal_serial_runs_and_seeds_are_shared() {
    let cfg = config(&["sgd(lr=0.1)", "adam(lr=1e-2)"], 3);
    let serial = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| fingerprint(&cfg));
    let parallel = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
        .install(|| fingerprint(&cfg));
    assert_eq!(serial, parallel);
    // same seed, same split and init: the epoch-0 records agree across optimizers
    for (a, b) in serial[0].iter().zip(&serial[1]) {
        assert_eq!(a.as_ref().unwrap()[0], b.as_ref().unwrap()[0]);
    }
    // different seeds differ
    assert_ne!(
        serial[0][0].as_ref().unwrap()[0],
        serial[0][1].as_ref().unwrap()[0]
    );
}

#[test]
fn divergence_is_recorded_and_the_summary_counts_it() {
    let mut cfg = config(&["sgd(lr=0.1)", "sgd(lr=1000)"], 2);
    cfg.base.loss = "mse".into();
    cfg.base.data = "digits".into();
    cfg.base.model = "mlp:64-32-10".into();
    let results = compare(&cfg).unwrap();
    assert!(results[0].runs.iter().all(|r| r.is_ok()));
    assert!(results[1].runs.iter().all(|r| r.is_err()));
    let (rep, figs) = report(&cfg, &results);
    let table = &rep.tables[0];
    assert_eq!(table.name, "summary");
    assert_eq!(table.rows.len(), 2);
    let diverged_col = table
        .columns
        .iter()
        .position(|c| c == "diverged runs")
        .unwrap();
    assert_eq!(table.rows[0][diverged_col], 0);
    assert_eq!(table.rows[1][diverged_col], 2);
    assert_eq!(figs.len(), 1);
    assert_eq!(
        rep.series.len(),
        1,
        "only the optimizer with finished runs has curves"
    );
}

#[test]
fn tuning_picks_the_best_grid_value_on_validation() {
    let grid = TuneGrid::parse("lr=1e-3:1e-1:3").unwrap();
    assert_eq!(grid.values.len(), 3);
    assert!((grid.values[1] - 1e-2).abs() < 1e-15);
    let mut cfg = config(&["sgd(lr=0.5, momentum=0.9)"], 1);
    cfg.tune = Some(grid.clone());
    let results = compare(&cfg).unwrap();
    let tuning = results[0].tuning.clone().unwrap();
    let (value, pts) = (tuning.value, tuning.grid);
    assert_eq!(pts.len(), 3);
    let best = pts
        .iter()
        .filter_map(|(v, s)| s.map(|s| (*v, s)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.total_cmp(&a.0)))
        .unwrap();
    assert_eq!(value, best.0);
    assert!(
        results[0].spec.contains(&format!("lr={value}")),
        "{}",
        results[0].spec
    );
    assert!(results[0].spec.contains("momentum=0.9"));
    let (rep, _) = report(&cfg, &results);
    assert_eq!(rep.tables[1].name, "tuning");
    assert_eq!(rep.tables[1].rows.len(), 3);
}

#[test]
fn bad_comparisons_are_named_errors() {
    let e = TuneGrid::parse("lr=1e-1:1e-3:3").unwrap_err().to_string();
    assert!(e.contains("0 < lo < hi"), "{e}");
    assert!(TuneGrid::parse("lr").is_err());
    let e = compare(&config(&["sgd(lr=0.1)", "nadam(lr=1)"], 1))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("unknown optimizer 'nadam'"), "{e}");
    let e = compare(&config(&[], 1)).unwrap_err().to_string();
    assert!(e.contains("at least one optimizer"), "{e}");
    assert_eq!(
        with_key("adam(beta1=0.8)", "lr", 0.5).unwrap(),
        "adam(beta1=0.8, lr=0.5)"
    );
}
