//! The `puf` experiment's quick preset at run seeds 0 and 1: schema, files, asserted claims,
//! the seed changing the data, and specific numbers; and its configuration errors.

use descent_lab::experiment::{check_quick_seeds, quick_config_error};
use descent_lab::papers::puf::PufPaper;
use descent_lab::report::Report;

fn table<'a>(report: &'a Report, name: &str) -> &'a descent_lab::report::Table {
    report
        .tables
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("table {name}"))
}

#[test]
fn puf_quick_preset_holds_its_checks_at_two_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let [report, other] = check_quick_seeds(&PufPaper, dir.path());
    // the run seed moves the partitions: the forgotten clients' sizes differ
    let sizes = |r: &Report| -> Vec<u64> {
        table(r, "cases")
            .rows
            .iter()
            .map(|row| row[2].as_u64().unwrap())
            .collect()
    };
    assert_ne!(sizes(&report), sizes(&other));
    assert_eq!(
        report.seed, 0,
        "the checks of specific numbers below read the seed-0 report"
    );
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
    let cases = table(&report, "cases");
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
    let per_client = table(&report, "per_client_train_accuracy");
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
    // check 7 per case: every backdoor case is either judged or named as not memorised
    let bd = claim("puf/backdoor-eta4-per-case");
    let judged = bd.measured["values"].as_object().unwrap().len();
    let named = bd.measured["not_memorised"].as_object().unwrap().len();
    assert_eq!(judged + named, 9);
    assert!(
        claim("puf/backdoor-eta4")
            .statement
            .contains(&format!("{judged} of 9 cases"))
    );
    let seed0 = dir.path().join("seed0");
    assert!(seed0.join("accuracy_after_request.png").exists());
    assert!(seed0.join("mia.png").exists());
    assert!(report.evals.gradients > 100_000);
    assert!(
        report
            .assumptions
            .iter()
            .all(|a| !a.contains("only labels the report"))
    );
}

#[test]
fn puf_config_errors_name_the_field() {
    let err = |sets: &[&str]| quick_config_error(&PufPaper, sets).expect("an error");
    assert_eq!(
        err(&["targets=[0, 12]"]),
        "invalid value for 'targets': got 12, expected client ids in 0..10"
    );
    assert!(err(&["eta_regular=0"]).contains("'eta_regular'"));
    assert!(err(&["concurrent=[4]"]).contains("'concurrent'"));
    assert!(err(&["backdoor_etas=[2, -4]"]).contains("'backdoor_etas[1]'"));
    assert!(err(&["horizon=40"]).contains("'recovery_cap'"));
    assert!(err(&["no_such_field=1"]).contains("no_such_field"));
}
