//! A truncated, corrupted or foreign checkpoint (other model, optimizer, data, seed, privacy)
//! and mismatched weights are refused before anything is used, with a message naming what
//! differs; a crash mid-write leaves the previous checkpoint readable.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use descent_core::Layout;
use descent_lab::checkpoint::{self, weights};
use descent_lab::train::{self, RunControl, TrainConfig, Trained};

fn config() -> TrainConfig {
    TrainConfig {
        data: "iris".into(),
        model: "mlp:4-8-3".into(),
        optimizer: "adam(lr=0.01)".into(),
        epochs: 2,
        batch_size: 16,
        seed: 1,
        ..TrainConfig::default()
    }
}

/// Runs `cfg` until the step after epoch 1 and leaves its checkpoint in `dir`.
fn checkpointed(cfg: &TrainConfig, dir: &Path) {
    let stop = Arc::new(AtomicBool::new(false));
    let control = RunControl {
        checkpoint_dir: Some(dir.to_path_buf()),
        stop: Some(stop.clone()),
        ..RunControl::default()
    };
    let r = train::train_with(cfg, &control, |r| {
        if r.epoch == 1 {
            stop.store(true, Ordering::SeqCst);
        }
    })
    .unwrap();
    assert!(matches!(r, Trained::Stopped { .. }));
}

/// The error message of resuming `cfg` from `dir`.
fn resume_error(cfg: &TrainConfig, dir: &Path) -> String {
    let control = RunControl {
        resume: Some(dir.to_path_buf()),
        ..RunControl::default()
    };
    match train::train_with(cfg, &control, |_| {}) {
        Ok(_) => panic!("resuming {cfg:?} should fail"),
        Err(e) => e.to_string(),
    }
}

fn assert_says(message: &str, parts: &[&str]) {
    for p in parts {
        assert!(message.contains(p), "'{message}' should say '{p}'");
    }
}

#[test]
fn a_checkpoint_of_another_run_names_what_differs() {
    let dir = tempfile::tempdir().unwrap();
    checkpointed(&config(), dir.path());
    let cases: [(TrainConfig, &[&str]); 6] = [
        (
            TrainConfig {
                model: "mlp:4-16-3".into(),
                ..config()
            },
            &["--model 'mlp:4-8-3'", "this run has 'mlp:4-16-3'"],
        ),
        (
            TrainConfig {
                optimizer: "sgd(lr=0.1)".into(),
                ..config()
            },
            &["--optimizer 'adam(lr=0.01)'", "this run has 'sgd(lr=0.1)'"],
        ),
        (
            TrainConfig {
                data: "wine".into(),
                model: "mlp:13-8-3".into(),
                ..config()
            },
            &["--data 'iris'", "this run has 'wine'"],
        ),
        (
            TrainConfig {
                seed: 2,
                ..config()
            },
            &["--seed 1", "this run has 2"],
        ),
        (
            TrainConfig {
                batch_size: 8,
                ..config()
            },
            &["--batch-size 16", "this run has 8"],
        ),
        (
            TrainConfig {
                epochs: 1,
                ..config()
            },
            &["progress at step 9", "--epochs 1"],
        ),
    ];
    for (cfg, parts) in cases {
        let m = resume_error(&cfg, dir.path());
        assert_says(&m, parts);
        assert_says(&m, &["checkpoint.json", "resume with the same settings"]);
    }
    // a plain checkpoint is not a DP-SGD one
    let control = RunControl {
        resume: Some(dir.path().to_path_buf()),
        ..RunControl::default()
    };
    let dp = "dp(noise_multiplier=1, clip=1)";
    let Err(e) = train::train_private_with(&config(), dp, &control, |_, _| {}) else {
        panic!("a plain checkpoint resumed a DP-SGD run");
    };
    let m = e.to_string();
    assert_says(
        &m,
        &[
            "--privacy none",
            "this run has 'dp(noise_multiplier=1, clip=1)'",
        ],
    );
}

#[test]
fn changed_data_under_the_same_spec_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("data.csv");
    let rows: String = (0..60)
        .map(|i| format!("{},{},{}\n", i as f64 * 0.1, (i % 7) as f64, i % 2))
        .collect();
    std::fs::write(&csv, format!("a,b,label\n{rows}")).unwrap();
    let cfg = TrainConfig {
        data: format!("csv:{}", csv.display()),
        model: "mlp:2-4-2".into(),
        ..config()
    };
    let ck = dir.path().join("ck");
    checkpointed(&cfg, &ck);
    std::fs::write(
        &csv,
        format!("a,b,label\n{}", rows.replacen("0.1,", "0.7,", 1)),
    )
    .unwrap();
    let m = resume_error(&cfg, &ck);
    assert_says(
        &m,
        &[
            "written with the data csv:",
            "as 48 training and 12 test samples of 2 features with CRC-32",
            "(the data changed since)",
        ],
    );
}

#[test]
fn truncated_corrupted_and_foreign_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    checkpointed(&config(), dir.path());
    let file = dir.path().join(checkpoint::FILE_NAME);
    let good = std::fs::read(&file).unwrap();
    let body = good.iter().position(|&b| b == b'\n').unwrap() + 1;
    let cases: [(Vec<u8>, &[&str]); 6] = [
        (
            good[..good.len() - 100].to_vec(),
            &["truncated: the header announces", "the file holds"],
        ),
        (
            {
                let mut b = good.clone();
                b[body + 200] ^= 0x01;
                b
            },
            &["corrupted: the state's CRC-32 is"],
        ),
        ([good.clone(), b"x".to_vec()].concat(), &["data appended?"]),
        (
            b"{\"params\": [1, 2]}".to_vec(),
            &["not a descent checkpoint"],
        ),
        (
            String::from_utf8(good.clone())
                .unwrap()
                .replacen(
                    "descent-checkpoint 1 train",
                    "descent-checkpoint 7 train",
                    1,
                )
                .into_bytes(),
            &["checkpoint format version 7", "reads version 1"],
        ),
        (
            String::from_utf8(good.clone())
                .unwrap()
                .replacen(
                    "descent-checkpoint 1 train",
                    "descent-checkpoint 1 compare",
                    1,
                )
                .into_bytes(),
            &["a checkpoint of a 'compare' run; this is a 'train' run"],
        ),
    ];
    for (bytes, parts) in cases {
        std::fs::write(&file, bytes).unwrap();
        let m = resume_error(&config(), dir.path());
        assert_says(&m, parts);
        assert_says(&m, &["checkpoint.json"]);
    }
    let empty = tempfile::tempdir().unwrap();
    assert_says(
        &resume_error(&config(), empty.path()),
        &["no checkpoint here", "checkpoint.json"],
    );
}

#[test]
fn a_crash_mid_write_leaves_the_previous_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    checkpointed(&config(), dir.path());
    let file = dir.path().join(checkpoint::FILE_NAME);
    let before = std::fs::read(&file).unwrap();
    // what a write killed before its rename leaves behind: a partial temporary file
    std::fs::write(dir.path().join(".checkpoint.json.tmp-99"), &before[..500]).unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), before);
    let control = RunControl {
        resume: Some(dir.path().to_path_buf()),
        ..RunControl::default()
    };
    let run = train::train_with(&config(), &control, |_| {})
        .unwrap()
        .finished();
    assert_eq!(run.unwrap().summary.steps, 16);
    // a failed write (the target is a folder) reports the path and leaves no temporary file
    let target = dir.path().join("sub");
    std::fs::create_dir_all(target.join("x")).unwrap();
    let e = checkpoint::atomic_write(&target, b"new")
        .unwrap_err()
        .to_string();
    assert_says(&e, &["sub"]);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".sub.tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn weights_of_another_model_are_refused_by_tensor() {
    let mut layout = Layout::new();
    layout.push("layer0.weight", &[2, 3]);
    layout.push("layer0.bias", &[2]);
    let params: Vec<f64> = (0..8).map(|i| i as f64 * 0.5 - 1.0).collect();
    let bytes = weights::encode(&layout, &params, "{}").unwrap();
    assert_eq!(weights::decode(&bytes, &layout).unwrap(), params);

    let mut wider = Layout::new();
    wider.push("layer0.weight", &[4, 3]);
    wider.push("layer0.bias", &[4]);
    let m = weights::decode(&bytes, &wider).unwrap_err();
    assert_says(
        &m,
        &[
            "tensor 'layer0.weight' has shape [2, 3]",
            "block has shape [4, 3]",
        ],
    );

    let mut deeper = layout.clone();
    deeper.push("layer1.weight", &[1, 2]);
    let m = weights::decode(&bytes, &deeper).unwrap_err();
    assert_says(
        &m,
        &[
            "no tensor 'layer1.weight' (shape [1, 2])",
            "layer0.bias, layer0.weight",
        ],
    );

    let mut fewer = Layout::new();
    fewer.push("layer0.weight", &[2, 3]);
    let m = weights::decode(&bytes, &fewer).unwrap_err();
    assert_says(
        &m,
        &["tensors layer0.bias are not blocks of this model (layer0.weight)"],
    );

    let m = weights::decode(&bytes[..bytes.len() - 3], &layout).unwrap_err();
    assert_says(&m, &["not a safetensors file"]);
}

#[test]
fn init_weights_of_the_wrong_model_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = train::train(&config(), |_| {}).unwrap();
    train::write_outputs(&run, dir.path()).unwrap();
    let control = RunControl {
        init: Some(dir.path().join(weights::FILE_NAME)),
        ..RunControl::default()
    };
    let cfg = TrainConfig {
        model: "mlp:4-5-3".into(),
        ..config()
    };
    let m = train::train_with(&cfg, &control, |_| {})
        .unwrap_err()
        .to_string();
    assert_says(
        &m,
        &[
            "weights.safetensors",
            "tensor 'layer0.weight' has shape [8, 4]",
            "[5, 4]",
        ],
    );
    let both = RunControl {
        resume: Some(dir.path().to_path_buf()),
        ..control
    };
    let m = train::train_with(&config(), &both, |_| {})
        .unwrap_err()
        .to_string();
    assert_says(&m, &["--init", "given with --resume"]);
}
