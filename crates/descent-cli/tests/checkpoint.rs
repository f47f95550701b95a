//! `descent train` and `descent active` checkpoints through the binary: a real SIGINT to a
//! child process writes a checkpoint and exits 130, `--resume` then ends bit-identically to an
//! uninterrupted run;
//! `weights.safetensors` read by an independent parser of the format (8-byte little-endian
//! header length, JSON header, little-endian data) holds the library run's parameters, and
//! `--init` starts from them.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use descent_lab::train::{self, TrainConfig};
use serde_json::Value;

fn descent() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("descent"))
}

/// Runs `descent args`; panics unless it succeeds.
fn succeed(args: &[String]) {
    let o = descent().args(args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Starts `descent args` with its stderr piped.
fn spawn(args: &[String]) -> std::process::Child {
    descent()
        .args(args)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

/// Sends `child` a real SIGINT (Ctrl-C).
fn interrupt(child: &std::process::Child) {
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
}

/// `descent train` on iris with a small MLP, plus `extra` flags; panics unless it succeeds.
fn train_cli(out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "train",
        "--data",
        "iris",
        "--model",
        "mlp:4-8-3",
        "--optimizer",
        "adam(lr=0.01)",
        "--epochs",
        "5",
        "--batch-size",
        "16",
        "--seed",
        "3",
        "--out",
    ];
    args.push(out.to_str().unwrap());
    args.extend_from_slice(extra);
    let o = descent().args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{args:?}: {stderr}");
    stderr
}

/// A tensor as the file has it: name, dtype, shape, values.
type Tensor = (String, String, Vec<usize>, Vec<f64>);

/// The tensors of a safetensors file by an independent reading of the format, and the
/// header's `__metadata__`.
fn parse_safetensors(path: &Path) -> (Vec<Tensor>, Value) {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let data = &bytes[8 + n..];
    let mut tensors = Vec::new();
    for (name, t) in header.as_object().unwrap() {
        if name == "__metadata__" {
            continue;
        }
        let dtype = t["dtype"].as_str().unwrap().to_string();
        let shape: Vec<usize> = t["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let off = &t["data_offsets"];
        let (b, e) = (
            off[0].as_u64().unwrap() as usize,
            off[1].as_u64().unwrap() as usize,
        );
        let values = data[b..e]
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        tensors.push((name.clone(), dtype, shape, values));
    }
    (tensors, header["__metadata__"].clone())
}

/// `metrics.csv` without the wall-clock `seconds` column.
fn metrics_without_seconds(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    text.lines()
        .map(|l| {
            let mut cols: Vec<&str> = l.split(',').collect();
            cols.remove(3);
            cols.join(",")
        })
        .collect()
}

#[test]
fn weights_safetensors_hold_the_runs_parameters_block_by_block() {
    let dir = tempfile::tempdir().unwrap();
    train_cli(dir.path(), &[]);
    let (tensors, meta) = parse_safetensors(&dir.path().join("weights.safetensors"));
    let cfg = TrainConfig {
        data: "iris".into(),
        model: "mlp:4-8-3".into(),
        optimizer: "adam(lr=0.01)".into(),
        epochs: 5,
        batch_size: 16,
        seed: 3,
        ..TrainConfig::default()
    };
    let run = train::train(&cfg, |_| {}).unwrap();
    let blocks = run.layout.blocks();
    assert_eq!(tensors.len(), blocks.len());
    for b in blocks {
        let (_, dtype, shape, values) = tensors.iter().find(|t| t.0 == b.name).unwrap();
        assert_eq!(dtype, "F64");
        assert_eq!(shape, &b.shape, "{}", b.name);
        let want: Vec<u64> = run.params[b.range()].iter().map(|v| v.to_bits()).collect();
        let got: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want, "{}", b.name);
    }
    let shapes: Vec<(&str, &[usize])> = tensors
        .iter()
        .map(|t| (t.0.as_str(), t.2.as_slice()))
        .collect();
    assert!(
        shapes.contains(&("layer0.weight", &[8, 4][..])),
        "{shapes:?}"
    );
    let about: Value = serde_json::from_str(meta["descent"].as_str().unwrap()).unwrap();
    assert_eq!(about["model"], "mlp:4-8-3");
    assert_eq!(about["seed"], 3);

    // --init starts there: epoch 0 of the new run measures the old run's final losses
    let next = tempfile::tempdir().unwrap();
    let w = dir.path().join("weights.safetensors");
    train_cli(next.path(), &["--init", w.to_str().unwrap()]);
    let last = metrics_without_seconds(dir.path()).pop().unwrap();
    let first = metrics_without_seconds(next.path())[1].clone();
    let losses = |row: &str| row.split(',').skip(3).collect::<Vec<_>>().join(",");
    assert_eq!(losses(&first), losses(&last));
}

#[test]
fn sigint_writes_a_checkpoint_and_resume_ends_bit_identically() {
    let args = |out: &Path| {
        vec![
            "train".to_string(),
            "--data".into(),
            "digits".into(),
            "--model".into(),
            "mlp:64-64-10".into(),
            "--optimizer".into(),
            "sgd(lr=0.05, momentum=0.9)".into(),
            "--epochs".into(),
            "150".into(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let whole = tempfile::tempdir().unwrap();
    succeed(&args(whole.path()));

    let cut = tempfile::tempdir().unwrap();
    let mut child = spawn(&args(cut.path()));
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("epoch 1/") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no epoch line");
    }
    interrupt(&child);
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    let checkpoint = cut.path().join("checkpoint").join("checkpoint.json");
    assert!(
        rest.contains("stopped after step") && rest.contains(&checkpoint.display().to_string()),
        "{rest}"
    );
    assert!(!cut.path().join("weights.safetensors").exists());

    let resume = ["--resume".to_string(), cut.path().display().to_string()];
    let o = descent()
        .args(args(cut.path()))
        .args(resume)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (a, _) = parse_safetensors(&whole.path().join("weights.safetensors"));
    let (b, _) = parse_safetensors(&cut.path().join("weights.safetensors"));
    let bits = |t: &[Tensor]| -> Vec<Vec<u64>> {
        t.iter()
            .map(|x| x.3.iter().map(|v| v.to_bits()).collect())
            .collect()
    };
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(
        metrics_without_seconds(whole.path()),
        metrics_without_seconds(cut.path())
    );
}

/// `descent active` on five digit classes, two strategies, eight rounds, into `out`.
fn active_args(out: &Path) -> Vec<String> {
    let flags = "active --data digits --known 0,1,2,3,4 --strategy random --strategy margin \
                 --seeds 1 --seed 2 --rounds 8 --budget 20 --initial 20 --epochs 60 --out";
    let mut a: Vec<String> = flags.split_whitespace().map(String::from).collect();
    a.push(out.display().to_string());
    a
}

#[test]
fn sigint_stops_descent_active_between_rounds_and_resume_ends_bit_identically() {
    let whole = tempfile::tempdir().unwrap();
    succeed(&active_args(whole.path()));

    let cut = tempfile::tempdir().unwrap();
    let mut args = active_args(cut.path());
    args.extend(["--checkpoint-every".into(), "1".into()]);
    let mut child = spawn(&args);
    // the first query round of a run is on disk: the study is midway
    let folder = cut.path().join("checkpoint");
    let first = |f: &Path| {
        std::fs::read_dir(f).ok().is_some_and(|mut d| {
            d.any(|e| e.is_ok_and(|e| e.path().join("checkpoint.json").is_file()))
        })
    };
    while !first(&folder) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    interrupt(&child);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    let said = format!(
        "stopped its runs: checkpoint written to {}; continue with the same flags and --resume {}",
        folder.display(),
        cut.path().display()
    );
    assert!(stderr.contains(&said), "{stderr}");
    assert!(!cut.path().join("per_round.csv").exists());

    let mut resume = active_args(cut.path());
    resume.truncate(resume.len() - 2); // no --out: the run folder of --resume
    resume.extend(["--resume".into(), cut.path().display().to_string()]);
    succeed(&resume);
    let rows = |d: &Path| std::fs::read_to_string(d.join("per_round.csv")).unwrap();
    assert_eq!(rows(cut.path()), rows(whole.path()));
    assert_eq!(rows(whole.path()).lines().count(), 1 + 2 * 9);
}
