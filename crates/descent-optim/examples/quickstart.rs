//! Quick start: your own objective, two optimizers, a run and its result.
//! `cargo run --release -p descent-optim --example quickstart`

use std::ops::ControlFlow::Continue;

use descent_optim::prelude::*;

/// The objective, written once for every number type, so gradients and Hessian-vector products
/// come from forward-mode dual numbers: Rosenbrock, f(x) = 100(x₂ − x₁²)² + (1 − x₁)².
struct MyRosenbrock;

impl ScalarFn for MyRosenbrock {
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, x: &[D]) -> D {
        (x[1] - x[0] * x[0]).powi(2) * 100.0 + (-x[0] + 1.0).powi(2)
    }
}

fn main() -> Result<()> {
    let mut problem = DualProblem::new("my-rosenbrock", 2, MyRosenbrock)?;
    let mut x = vec![-1.2, 1.0];
    let streams = RngStreams::new(0); // one seed fixes every random choice

    // 300 steps of Adam with a cosine schedule and gradient clipping ...
    let mut adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    })?
    .with_schedule(Schedule::Cosine {
        total: 300,
        min: 0.1,
    })?
    .with_clip_norm(10.0)?
    .into_optimizer();
    adam.init(problem.layout(), &streams)?;
    let warm = run(&mut adam, &mut x, &mut problem, 300, |_| Continue(()))?;

    // ... then L-BFGS (it chooses where to evaluate: a strong-Wolfe line search) to the minimum.
    let mut lbfgs = Lbfgs::new(LbfgsConfig::default(), "lbfgs")?;
    lbfgs.init(problem.layout(), &streams)?;
    let end = run(&mut lbfgs, &mut x, &mut problem, 50, |_| Continue(()))?;

    let (f_warm, f_end) = (warm.final_loss().unwrap(), end.final_loss().unwrap());
    println!("after Adam f = {f_warm:.3e}; after L-BFGS f = {f_end:.3e} at {x:.6?}");
    assert!(f_end < 1e-12 && f_end < f_warm);
    Ok(())
}
