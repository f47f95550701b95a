//! The `puf` experiment's quick preset: schema, files, asserted claims, and specific numbers.

use descent_lab::experiment::run_quick_checked;
use descent_lab::papers::puf::Puf;

#[test]
fn puf_quick_preset_holds_its_checks() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_quick_checked(&Puf, 0, dir.path());
    let claim = |id: &str| {
        report
            .claims
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("claim {id}"))
    };
    // check 1: FedAvg on Dirichlet(0.3) digits clients reaches >= 0.90
    let acc = claim("puf/fedavg-accuracy").measured.as_f64().unwrap();
    assert!((0.90..1.0).contains(&acc), "{acc}");
    // check 2: exact algebra
    assert!(claim("puf/update-algebra").measured.as_f64().unwrap() <= 1e-12);
    assert!(claim("puf/concurrent-linear").measured.as_f64().unwrap() <= 1e-12);
    // 9 single-target cases, each with a recovery count
    assert_eq!(claim("puf/recovery").measured.as_array().unwrap().len(), 9);
    let cases = report.tables.iter().find(|t| t.name == "cases").unwrap();
    assert_eq!(cases.rows.len(), 12); // 9 single + 3 concurrent
    // traffic: Regular = normal round; Special = 1/10 of it for one target
    let b = claim("puf/no-extra-traffic")
        .measured
        .as_array()
        .unwrap()
        .clone();
    let (normal, special, regular) = (
        b[0].as_u64().unwrap(),
        b[1].as_u64().unwrap(),
        b[2].as_u64().unwrap(),
    );
    assert_eq!(regular, normal);
    assert_eq!(special * 10, normal);
    // 4,810 parameters: each message carries them as f64 after a u64 count
    assert_eq!(
        normal,
        10 * (16 + 16 + 8 + 8 * 4810) + 10 * (16 + 24 + 8 + 8 * 4810)
    );
    // accuracy on every client's training data: 10 clients × 9 cases; right after PUF the
    // forgotten client loses more accuracy than the retained clients do on average
    let per_client = report
        .tables
        .iter()
        .find(|t| t.name == "per_client_train_accuracy")
        .unwrap();
    assert_eq!(per_client.rows.len(), 90);
    let drop = |row: &Vec<serde_json::Value>| {
        row[4].as_f64().unwrap() - row[5].as_f64().unwrap() // original − PUF right after
    };
    let (mut forgotten, mut retained) = (Vec::new(), Vec::new());
    for row in &per_client.rows {
        if row[3].as_bool().unwrap() {
            forgotten.push(drop(row));
        } else {
            retained.push(drop(row));
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert_eq!(forgotten.len(), 9);
    assert!(
        mean(&forgotten) > mean(&retained) + 0.1,
        "{} vs {}",
        mean(&forgotten),
        mean(&retained)
    );
    assert!(dir.path().join("accuracy_after_request.png").exists());
    assert!(dir.path().join("mia.png").exists());
    assert!(report.evals.gradients > 100_000);
}
