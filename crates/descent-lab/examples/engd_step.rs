//! Times one ENGD-W step (Jacobian, JJᵀ, Cholesky, Jᵀ·, 31-point line search) on problem A of
//! P8 (2-D Poisson, 2→32→32→1 tanh, N = 300 + 100, P = 1185), for the JAX comparison in
//! bench/compare/engd_w_jax.py. Run: `cargo run --release -p descent-lab --example engd_step`.

use std::time::Instant;

use descent_core::{Problem, RngStreams};
use descent_nn::pinn::{PinnObjective, PinnSizes, Poisson, PoissonSolution};
use descent_nn::{Activation, Mlp};
use descent_optim::parse_optimizer;

fn main() -> descent_core::Result<()> {
    let mlp = Mlp::new(vec![2, 32, 32, 1], Activation::Tanh, true)?;
    let pde = Box::new(Poisson::new(2, PoissonSolution::SinProduct)?);
    let sizes = PinnSizes {
        interior: 300,
        condition: 100,
        eval: 3000,
    };
    let streams = RngStreams::new(0);
    let mut obj = PinnObjective::new(mlp, pde, sizes, &streams)?;
    let mut x = obj.init_params(&streams);
    for spec in ["engd_w(damping=1e-8)", "engd(damping=1e-8)"] {
        let mut opt = parse_optimizer(spec)?;
        opt.init(&obj.layout().clone(), &streams)?;
        let steps = if spec.starts_with("engd(") { 10 } else { 40 };
        let mut phases = [0.0; 4];
        let t0 = Instant::now();
        for _ in 0..steps {
            let info = opt.step(&mut x, &mut obj)?;
            for (p, k) in
                phases
                    .iter_mut()
                    .zip(["t_jacobian", "t_gram", "t_solve", "t_line_search"])
            {
                *p += info.extras.get(k).unwrap_or(0.0);
            }
        }
        let per = t0.elapsed().as_secs_f64() / steps as f64;
        let ph: Vec<String> = phases
            .iter()
            .map(|p| format!("{:.4}", p / steps as f64))
            .collect();
        println!(
            "{spec}: {per:.4} s/step (P = {}, N = 400); jacobian/gram/solve/line-search s = {}",
            x.len(),
            ph.join("/")
        );
    }
    println!("L2 after the steps: {:.3e}", obj.l2_error(&x));
    Ok(())
}
