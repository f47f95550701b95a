//! `descent dist` over MPI (feature `mpi`): 4 ranks under `mpirun` give the in-process results
//! bit for bit, and a rank that dies or hangs stops the run with an error naming it. Skipped
//! (with a note) when `mpirun` is not on PATH; `.ci/run` installs Open MPI and runs these.
#![cfg(feature = "mpi")]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_descent");

fn have_mpirun() -> bool {
    let ok = Command::new("mpirun")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("mpirun not found: MPI test skipped");
    }
    ok
}

fn mpirun(np: usize) -> Command {
    let mut c = Command::new("mpirun");
    c.args([
        "--allow-run-as-root",
        "--oversubscribe",
        "-np",
        &np.to_string(),
        BIN,
    ]);
    c
}

/// Runs `cmd` with `args` + `--out dir`, failing the test with its stderr if it fails.
fn run(mut cmd: Command, args: &[&str], dir: &Path) {
    let out = cmd
        .args(args)
        .arg("--out")
        .arg(dir)
        .output()
        .expect("the command starts");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

fn table<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("table {name}"))
}

/// The rounds table without its wall times (round, phase, messages, bytes, accuracies).
fn rounds_without_time(r: &Value) -> Vec<Value> {
    table(r, "rounds")["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let mut row = row.as_array().unwrap().clone();
            row.remove(2);
            Value::Array(row)
        })
        .collect()
}

/// Runs `args` in process and on 4 MPI ranks; the final parameters must be the same bits (the
/// JSON text of shortest round-trip floats is equal exactly when the bits are) and the rounds
/// the same messages, bytes and accuracies. Returns the MPI report.
fn same_on_four_ranks(args: &[&str]) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("in-process"), tmp.path().join("mpi"));
    run(Command::new(BIN), args, &a);
    let mut mpi_args = args.to_vec();
    mpi_args.extend(["--backend", "mpi"]);
    run(mpirun(4), &mpi_args, &b);
    let params = |d: &Path| std::fs::read_to_string(d.join("params.json")).unwrap();
    assert_eq!(params(&a), params(&b), "{args:?}: final parameters differ");
    let (ra, rb) = (report(&a), report(&b));
    assert_eq!(rounds_without_time(&ra), rounds_without_time(&rb));
    let totals = table(&rb, "rank_totals")["rows"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(totals.len(), 4, "one row per rank");
    for row in &totals {
        assert!(row[3].as_u64().unwrap() > 0, "every rank sent bytes: {row}");
    }
    rb
}

#[test]
fn four_ranks_give_the_in_process_results_bit_for_bit() {
    if !have_mpirun() {
        return;
    }
    // FedAvg with drop-outs, PUF-Special, recovery: 6 + 1 + 2 rounds, 10 clients on ranks 1-3
    let r = same_on_four_ranks(&[
        "dist",
        "puf",
        "--set",
        "rounds=6",
        "--set",
        "horizon=2",
        "--dropout",
        "0.1",
        "--target",
        "3",
    ]);
    let totals = table(&r, "rank_totals")["rows"].as_array().unwrap().clone();
    // rank 0 served 9 rounds to 3 ranks (+ the stop frames, not logged)
    assert_eq!(totals[0][1], 9);
    assert_eq!(totals[0][2], 27);
    // ADP-VRSGP on the random time-varying digraph with failing links: 8 nodes, 2 per rank
    let r = same_on_four_ranks(&[
        "dist",
        "adp-vrsgp",
        "--set",
        "stage_steps=3",
        "--graph",
        "random-tv",
        "--link-failure",
        "0.2",
        "--dropout",
        "0.1",
    ]);
    let per_rank = table(&r, "rank_rounds")["rows"].as_array().unwrap().len();
    assert_eq!(per_rank, 4 * 12, "one row per rank and round");
}

/// The pid of MPI rank `rank` among the children of `mpirun`, once it exists.
fn rank_pid(mpirun: u32, rank: usize) -> Option<u32> {
    let want = format!("OMPI_COMM_WORLD_RANK={rank}");
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        let ppid: u32 = stat
            .rsplit(')')
            .next()?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        let env = std::fs::read(e.path().join("environ")).ok()?;
        let has = env.split(|&b| b == 0).any(|v| v == want.as_bytes());
        (ppid == mpirun && has).then_some(pid)
    })
}

/// Starts a long 4-rank push-sum run, waits for its third round, sends `signal` to rank 2 and
/// returns the exit success, stderr and the seconds until the run ended.
fn hurt_rank_two(signal: &str) -> (bool, String, f64) {
    let tmp = tempfile::tempdir().unwrap();
    let mut child: Child = mpirun(4)
        .args([
            "dist",
            "adp-vrsgp",
            "--backend",
            "mpi",
            "--set",
            "stage_steps=1000000",
            "--timeout",
            "3",
            "--out",
        ])
        .arg(tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.starts_with("round 3/") => break,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let pid = rank_pid(child.id(), 2).expect("rank 2 runs under mpirun");
    let hurt = Instant::now();
    assert!(
        Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if hurt.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the run did not stop within 60 s of {signal} to rank 2");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let secs = hurt.elapsed().as_secs_f64();
    // a stopped rank that mpirun could not end
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
    (status.success(), reader.join().unwrap(), secs)
}

/// The rounds that "stopped by mpirun in round N" lines name.
fn stopped_rounds(err: &str) -> Vec<u64> {
    err.split("stopped by mpirun in round ")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

/// The ranks that the survivors' "stopped by mpirun ... while waiting for ..." lines name.
fn waited_for(err: &str) -> Vec<usize> {
    let mut ranks = Vec::new();
    for line in err.lines().filter(|l| l.contains("stopped by mpirun")) {
        let Some(waiting) = line.split("while waiting").nth(1) else {
            continue;
        };
        let words: Vec<&str> = waiting.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            if *w == "rank" || *w == "ranks" {
                let numbers = words[i + 1..]
                    .iter()
                    .map_while(|n| n.trim_end_matches(',').parse::<usize>().ok());
                ranks.extend(numbers);
            }
        }
    }
    ranks
}

/// A hung rank (SIGSTOP) is named with the round by descent's timeout; a dead one (SIGKILL) by
/// mpirun, which ends the job as soon as a rank dies ("mpirun noticed that process rank 2 ...
/// exited on signal 9") and sends the others SIGTERM, to which each survivor answers with the
/// round and the ranks it was waiting for.
#[test]
fn a_rank_that_hangs_or_dies_stops_the_run_naming_it_and_the_round() {
    if !have_mpirun() {
        return;
    }
    let (ok, err, secs) = hurt_rank_two("-STOP");
    assert!(!ok, "a hung rank must fail the run:\n{err}");
    // whichever wait notices first names rank 2 and the round: a message it never sent, or
    // one of the survivor's it never took
    assert!(
        err.lines().any(|l| {
            (l.contains("MPI rank 2: sent nothing for a push-sum message of round")
                || (l.contains("MPI rank 2: did not take the message of round")))
                && l.contains("within 3.0 s")
        }),
        "{err}"
    );
    assert!(secs < 30.0, "stopped after {secs} s");
    let (ok, err, secs) = hurt_rank_two("-KILL");
    assert!(!ok, "a dead rank must fail the run:\n{err}");
    assert!(
        err.contains("process rank 2"),
        "mpirun names the dead rank:\n{err}"
    );
    let rounds = stopped_rounds(&err);
    // rank 2 died after "round 3/" (push-sum round index 2) was reported, so the survivors
    // name index 3 or later
    assert!(!rounds.is_empty(), "no survivor named the round:\n{err}");
    assert!(rounds.iter().all(|&r| r >= 3), "{rounds:?}\n{err}");
    assert!(
        waited_for(&err).contains(&2),
        "a survivor waited for rank 2:\n{err}"
    );
    assert!(secs < 10.0, "stopped after {secs} s");
}
