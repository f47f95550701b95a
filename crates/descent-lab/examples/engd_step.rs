//! Times the library's ENGD step on problem A of P8 (2-D Poisson, 2→32→32→1 tanh, N = 300 + 100,
//! P = 1185), as the `engd` experiment's quick preset builds it: ENGD-W and ENGD steps
//! (Jacobian, Gram, Cholesky, Jᵀ·, 31-point line search) by phase, and the solve alone
//! (`Engd::solve_direction`, what check 6 times), for the JAX comparisons in bench/compare
//! (engd_w_jax.py, the straightforward version; engd_w_jax_fast.py, the well-engineered one).
//!
//! ```text
//! cargo run --release -p descent-lab --example engd_step [-- --threads N] [--only engd_w]
//! ```
//!
//! Each optimizer runs `BLOCKS` blocks of steps (env `ENGD_STEP_BLOCKS`, default 5) and prints
//! the median over blocks of the wall-clock seconds per step and of this thread's CPU seconds per
//! step (from /proc/thread-self/schedstat, so a loaded machine shows in the wall time only; with
//! `--threads N` > 1 only the wall time is meaningful).

use std::time::Instant;

use descent_core::{Problem, RngStreams};
use descent_lab::experiment::PaperConfig;
use descent_lab::papers::engd::Config;
use descent_lab::papers::engd::linear_algebra::engd_solver;
use descent_lab::papers::engd::problems::{Which, jacobian_at_init, problem};
use descent_optim::{Engd, EngdConfig, Optimizer, Solver};

/// CPU nanoseconds this thread has run (0 where /proc is unavailable).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> descent_core::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let threads: usize = flag("--threads").map_or(1, |v| v.parse().expect("--threads N"));
    let only = flag("--only");
    let blocks: usize = std::env::var("ENGD_STEP_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let cfg = Config::quick();
    let seed = 0;
    let mut obj = problem(Which::A, &cfg.a, seed)?;
    let streams = RngStreams::new(seed);
    let mut x = obj.init_params(&streams);
    for (name, solver, steps) in [
        ("engd_w", Solver::Sample, 10),
        ("engd", Solver::Parameter, 3),
    ] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let config = EngdConfig {
            solver,
            damping: cfg.a.damping,
            threads,
            ..EngdConfig::default()
        };
        let mut opt = Engd::new(config, name)?;
        opt.init(&obj.layout().clone(), &streams)?;
        opt.step(&mut x, &mut obj)?; // warm-up: buffers sized, pages touched
        let before = opt.times();
        let (mut wall, mut cpu) = (Vec::new(), Vec::new());
        for _ in 0..blocks {
            let (t0, c0) = (Instant::now(), thread_cpu_ns());
            for _ in 0..steps {
                opt.step(&mut x, &mut obj)?;
            }
            wall.push(t0.elapsed().as_secs_f64() / steps as f64);
            cpu.push((thread_cpu_ns() - c0) as f64 * 1e-9 / steps as f64);
        }
        let t = opt.times();
        let total = (blocks * steps) as f64;
        let ph: Vec<String> = [
            t.jacobian - before.jacobian,
            t.gram - before.gram,
            t.solve - before.solve,
            t.line_search - before.line_search,
        ]
        .iter()
        .map(|p| format!("{:.4}", p / total))
        .collect();
        println!(
            "{name}(damping={:e}, threads={threads}): {:.4} s/step (cpu {:.4} s/step; P = {}, N = {}); \
             jacobian/gram/solve/line-search s = {} (means, wall)",
            cfg.a.damping,
            median(&mut wall),
            median(&mut cpu),
            x.len(),
            cfg.a.interior + cfg.a.condition,
            ph.join("/")
        );
    }
    println!("L2 after the steps: {:.3e}", obj.l2_error(&x));

    let (j, r) = jacobian_at_init(&mut obj, seed);
    for (name, solver) in [("sample", Solver::Sample), ("parameter", Solver::Parameter)] {
        if only.is_some() {
            break;
        }
        let mut opt = engd_solver(solver, cfg.a.damping, x.len(), seed)?;
        let reps = 7;
        let t0 = Instant::now();
        for _ in 0..reps {
            opt.solve_direction(&j, &r)?;
        }
        let per = t0.elapsed().as_secs_f64() / reps as f64;
        println!("solve_direction, {name} space: {:.2} ms", 1e3 * per);
    }
    Ok(())
}
