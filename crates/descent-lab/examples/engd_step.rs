//! Times the library's ENGD step on problem A of P8 (2-D Poisson, 2→32→32→1 tanh, N = 300 + 100,
//! P = 1185), as the `engd` experiment's quick preset builds it: one ENGD-W and one ENGD step
//! (Jacobian, Gram, Cholesky, Jᵀ·, 31-point line search) by phase, and the solve alone
//! (`Engd::solve_direction`, what check 6 times), for the JAX comparison in
//! bench/compare/engd_w_jax.py. Run: `cargo run --release -p descent-lab --example engd_step`.

use std::time::Instant;

use descent_core::{Problem, RngStreams};
use descent_lab::experiment::PaperConfig;
use descent_lab::papers::engd::Config;
use descent_lab::papers::engd::linear_algebra::engd_solver;
use descent_lab::papers::engd::problems::{Which, jacobian_at_init, problem};
use descent_optim::{Engd, EngdConfig, Optimizer, Solver};

fn main() -> descent_core::Result<()> {
    let cfg = Config::quick();
    let seed = 0;
    let mut obj = problem(Which::A, &cfg.a, seed)?;
    let streams = RngStreams::new(seed);
    let mut x = obj.init_params(&streams);
    for (name, solver, steps) in [
        ("engd_w", Solver::Sample, 40),
        ("engd", Solver::Parameter, 10),
    ] {
        let config = EngdConfig {
            solver,
            damping: cfg.a.damping,
            ..EngdConfig::default()
        };
        let mut opt = Engd::new(config, name)?;
        opt.init(&obj.layout().clone(), &streams)?;
        let t0 = Instant::now();
        for _ in 0..steps {
            opt.step(&mut x, &mut obj)?;
        }
        let per = t0.elapsed().as_secs_f64() / steps as f64;
        let t = opt.times();
        let ph: Vec<String> = [t.jacobian, t.gram, t.solve, t.line_search]
            .iter()
            .map(|p| format!("{:.4}", p / steps as f64))
            .collect();
        println!(
            "{name}(damping={:e}): {per:.4} s/step (P = {}, N = {}); jacobian/gram/solve/line-search s = {}",
            cfg.a.damping,
            x.len(),
            cfg.a.interior + cfg.a.condition,
            ph.join("/")
        );
    }
    println!("L2 after the steps: {:.3e}", obj.l2_error(&x));

    let (j, r) = jacobian_at_init(&mut obj, seed);
    for (name, solver) in [("sample", Solver::Sample), ("parameter", Solver::Parameter)] {
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
