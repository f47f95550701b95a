//! `descent active` checkpoints through the library: a study stopped midway by its flag and
//! resumed ends bit-identical to an uninterrupted one; a checkpoint of other settings or with a
//! damaged labelling is refused, naming what differs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use descent_lab::active::resume::{ActiveCheckpoint, KIND};
use descent_lab::active::{self, ActiveStudy, ComparisonResult};
use descent_lab::checkpoint;
use descent_lab::train::RunControl;

/// A study of `strategies` at `seeds.0` seeds from seed `seeds.1`: on iris 10 initial samples,
/// 10 per round, 3 rounds of 5 epochs; otherwise 20, 20, 6 rounds of 30 epochs.
fn study(data: &str, known: &[usize], strategies: [&str; 2], seeds: (usize, u64)) -> ActiveStudy {
    let mut s = ActiveStudy {
        data: data.into(),
        known: known.to_vec(),
        strategies: strategies.map(String::from).to_vec(),
        seeds: seeds.0,
        seed: seeds.1,
        ..ActiveStudy::default()
    };
    let small = data == "iris";
    let size = if small { 10 } else { 20 };
    (s.active.initial, s.active.budget) = (size, size);
    s.active.rounds = if small { 3 } else { 6 };
    s.active.recipe.epochs = if small { 5 } else { 30 };
    s
}

/// Two strategies at one seed on five digit classes, six rounds of 20 samples.
fn digits_study() -> ActiveStudy {
    study("digits", &[0, 1, 2, 3, 4], ["random", "margin"], (1, 3))
}

/// Two strategies at two seeds on iris (classes 0 and 1 known), three short rounds.
fn iris_study() -> ActiveStudy {
    study("iris", &[0, 1], ["random", "entropy"], (2, 0))
}

fn control(dir: &Path, every: Option<u64>) -> RunControl {
    RunControl {
        checkpoint_dir: Some(dir.to_path_buf()),
        every,
        stop: Some(Arc::new(AtomicBool::new(false))),
        ..RunControl::default()
    }
}

fn resuming(dir: &Path) -> RunControl {
    RunControl {
        resume: Some(dir.to_path_buf()),
        ..control(dir, None)
    }
}

/// The run checkpoint files under `dir` (`<run>/checkpoint.json`).
fn checkpoints(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(checkpoint::FILE_NAME))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Every record of every run, with the bits of its floats.
fn fingerprint(r: &ComparisonResult) -> Vec<String> {
    r.strategies
        .iter()
        .flat_map(|s| &s.runs)
        .flat_map(|run| &run.records)
        .map(|x| {
            let f = [x.precision, x.recall, x.test_accuracy].map(f64::to_bits);
            format!("{x:?} {f:?}")
        })
        .collect()
}

#[test]
fn a_study_stopped_midway_resumes_bit_identically() {
    let s = digits_study();
    let whole = active::study(&s).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let c = control(dir.path(), Some(1));
    let stop = c.stop.clone().unwrap();
    // raise the stop flag as soon as the first query round is on disk
    let watcher = {
        let (dir, stop) = (dir.path().to_path_buf(), stop.clone());
        std::thread::spawn(move || {
            while checkpoints(&dir).is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            stop.store(true, Ordering::SeqCst);
        })
    };
    let stopped = active::study_with(&s, &c).unwrap();
    watcher.join().unwrap();
    assert!(
        stopped.is_none(),
        "the study ran to its end before the stop"
    );
    let saved: Vec<ActiveCheckpoint> = checkpoints(dir.path())
        .iter()
        .map(|p| checkpoint::read(p, KIND).unwrap())
        .collect();
    assert!(!saved.is_empty());
    assert!(
        saved.iter().any(|ck| ck.progress.rounds_done < 6),
        "{:?}",
        saved
            .iter()
            .map(|c| c.progress.rounds_done)
            .collect::<Vec<_>>()
    );

    let resumed = active::study_with(&s, &resuming(dir.path()))
        .unwrap()
        .unwrap();
    assert_eq!(fingerprint(&resumed), fingerprint(&whole));
    assert_eq!(resumed.strategies.len(), 2);
    // every run has its finished checkpoint now; resuming again only reads them back
    let again = active::study_with(&s, &resuming(dir.path()))
        .unwrap()
        .unwrap();
    assert_eq!(fingerprint(&again), fingerprint(&whole));
}

/// A finished study's checkpoints in a fresh folder.
fn finished(s: &ActiveStudy) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = active::study_with(s, &control(dir.path(), Some(2))).unwrap();
    assert!(r.is_some());
    assert_eq!(checkpoints(dir.path()).len(), 4);
    dir
}

fn resume_error(s: &ActiveStudy, dir: &Path) -> String {
    active::study_with(s, &resuming(dir))
        .unwrap_err()
        .to_string()
}

/// A changed setting: its name, the change, and what the refusal must say.
type Case = (
    &'static str,
    Box<dyn Fn(&mut ActiveStudy)>,
    &'static [&'static str],
);

#[test]
fn a_checkpoint_of_other_settings_names_what_differs() {
    let s = iris_study();
    let dir = finished(&s);
    let cases: [Case; 6] = [
        (
            "budget",
            Box::new(|s| s.active.budget = 12),
            &["--budget 10", "this run has 12"],
        ),
        (
            "strategy",
            Box::new(|s| s.strategies = vec!["margin".into(), "entropy".into()]),
            &["--strategy 'random'", "this run has 'margin'"],
        ),
        (
            "seed",
            Box::new(|s| s.seed = 5),
            &["written with seed 0", "this run has 5"],
        ),
        (
            "model",
            Box::new(|s| s.active.recipe.model = "mlp(hidden=[32], act=relu)".into()),
            &["--model", "mlp(hidden=[32], act=relu)"],
        ),
        (
            "rounds",
            Box::new(|s| s.active.rounds = 4),
            &["--rounds 3", "this run has 4"],
        ),
        (
            "known",
            Box::new(|s| s.known = vec![1, 2]),
            &["--known [0, 1]", "this run has [1, 2]"],
        ),
    ];
    for (what, change, parts) in cases {
        let mut other = s.clone();
        change(&mut other);
        let e = resume_error(&other, dir.path());
        assert!(e.contains("checkpoint.json"), "{what}: {e}");
        for p in parts {
            assert!(e.contains(p), "{what}: '{p}' not in: {e}");
        }
    }
    // the same settings read the finished runs back
    let again = active::study_with(&s, &resuming(dir.path())).unwrap();
    assert_eq!(
        fingerprint(&again.unwrap()),
        fingerprint(&active::study(&s).unwrap())
    );
}

#[test]
fn a_damaged_labelling_is_refused_before_anything_runs() {
    let s = iris_study();
    let dir = finished(&s);
    let path = checkpoints(dir.path())[0].clone();
    let mut ck: ActiveCheckpoint = checkpoint::read(&path, KIND).unwrap();
    ck.progress.labelled.pop();
    checkpoint::write(&path, KIND, &ck).unwrap();
    let e = resume_error(&s, dir.path());
    assert!(
        e.contains("damaged progress") && e.contains("checkpoint labelled"),
        "{e}"
    );

    let mut ck: ActiveCheckpoint = checkpoint::read(&path, KIND).unwrap();
    ck.progress.labelled.push(10_000);
    checkpoint::write(&path, KIND, &ck).unwrap();
    let e = resume_error(&s, dir.path());
    assert!(e.contains("'labelled sample': got 10000"), "{e}");

    // a training checkpoint where an active one belongs
    let train_ck = std::fs::read(&path).unwrap();
    let text = String::from_utf8(train_ck)
        .unwrap()
        .replacen(" active ", " train ", 1);
    std::fs::write(&path, text).unwrap();
    let e = resume_error(&s, dir.path());
    assert!(
        e.contains("a checkpoint of a 'train' run; this is a 'active' run"),
        "{e}"
    );
}
