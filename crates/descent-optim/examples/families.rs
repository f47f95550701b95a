//! One custom problem per optimizer family, each built on the typed path:
//! first-order transforms, methods that choose where to evaluate (RBO, SAM, L-BFGS), natural
//! gradient on residuals (ENGD), zeroth-order on a function-only problem, and Adam with its
//! moments stored in bf16 (P7). `cargo run --release -p descent-optim --example families`

use std::ops::ControlFlow::Continue;

use descent_core::{FloatFormat, Quantizer, Rounding};
use descent_optim::prelude::*;

/// A hand-written problem: the anisotropic bowl f(x) = ½ Σ λᵢ xᵢ² with λᵢ = i + 1, offering
/// values and exact gradients.
struct Bowl(Layout);

impl Function for Bowl {
    fn dim(&self) -> usize {
        self.0.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        x.iter()
            .enumerate()
            .map(|(i, v)| 0.5 * (i + 1) as f64 * v * v)
            .sum()
    }
}

impl Gradient for Bowl {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        for (i, (gi, v)) in g.iter_mut().zip(x).enumerate() {
            *gi = (i + 1) as f64 * v;
        }
        self.value(x)
    }
}

impl Problem for Bowl {
    fn name(&self) -> String {
        "bowl".into()
    }
    fn layout(&self) -> &Layout {
        &self.0
    }
    descent_core::problem_views!(function, gradient);
}

/// The same bowl seen as a black box: values only (zeroth-order methods need nothing else).
struct BlackBox(Bowl);

impl Function for BlackBox {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.0.value(x)
    }
}

impl Problem for BlackBox {
    fn name(&self) -> String {
        "bowl (values only)".into()
    }
    fn layout(&self) -> &Layout {
        &self.0.0
    }
    descent_core::problem_views!(function);
}

/// Residuals of a small curve fit, y ≈ a·exp(b·t) at five points, written once generically
/// (forward-mode Jacobians for ENGD).
struct ExpFit;

impl ResidualFn for ExpFit {
    fn len(&self) -> usize {
        5
    }
    fn eval<D: DualNum<Primitive = f64> + Copy>(&self, p: &[D], r: &mut [D]) {
        for (k, rk) in r.iter_mut().enumerate() {
            let t = 0.25 * k as f64;
            *rk = p[0] * (p[1] * t).exp() - 2.0 * (0.5 * t).exp();
        }
    }
}

/// Runs `opt` for `steps` from `x0` and returns the final loss.
fn minimise(
    opt: &mut dyn Optimizer,
    problem: &mut dyn Problem,
    x0: &[f64],
    steps: u64,
) -> Result<f64> {
    let mut x = x0.to_vec();
    opt.init(problem.layout(), &RngStreams::new(0))?;
    let end = run(opt, &mut x, problem, steps, |_| Continue(()))?;
    Ok(end.final_loss().expect("a completed run"))
}

fn main() -> Result<()> {
    let n = 10;
    let x0 = vec![1.0; n];
    let mut bowl = Bowl(Layout::flat(n));
    let start = bowl.value(&x0);

    // first order: SGD with Nesterov momentum, and AdamW with a schedule
    let sgd = Sgd::new(SgdConfig {
        lr: 0.05,
        momentum: 0.9,
        nesterov: true,
        ..Default::default()
    })?;
    let f_sgd = minimise(&mut sgd.into_optimizer(), &mut bowl, &x0, 200)?;
    let adamw = Adam::new(AdamConfig {
        lr: 0.05,
        ..AdamConfig::adamw()
    })?
    .with_schedule(Schedule::Cosine {
        total: 200,
        min: 0.01,
    })?;
    let f_adamw = minimise(&mut adamw.into_optimizer(), &mut bowl, &x0, 200)?;

    // methods that choose where to evaluate: rolling ball, SAM over any transform, L-BFGS
    let mut rbo = Rbo::new(
        RboConfig {
            lr: 0.05,
            radius: 0.1,
            ..Default::default()
        },
        "rbo",
    )?;
    let f_rbo = minimise(&mut rbo, &mut bowl, &x0, 200)?;
    let base = Sgd::new(SgdConfig {
        lr: 0.05,
        ..Default::default()
    })?
    .boxed();
    let mut sam = SamOptimizer::new(
        SamConfig {
            rho: 0.01,
            ..Default::default()
        },
        base,
        "sam",
    )?;
    let f_sam = minimise(&mut sam, &mut bowl, &x0, 200)?;
    let mut lbfgs = Lbfgs::new(LbfgsConfig::default(), "lbfgs")?;
    let f_lbfgs = minimise(&mut lbfgs, &mut bowl, &x0, 30)?;

    // natural gradient on residuals: ENGD (Gauss–Newton with the grid line search)
    let mut fit = DualResiduals::new("exp-fit", 2, ExpFit)?;
    let mut engd = Engd::new(
        EngdConfig {
            solver: descent_optim::Solver::Parameter,
            ..Default::default()
        },
        "engd",
    )?;
    let f_engd = minimise(&mut engd, &mut fit, &[1.0, 0.0], 20)?;

    // zeroth order on the black box: two-point Gaussian estimates fed to SGD
    let zo_base = Sgd::new(SgdConfig {
        lr: 0.01,
        ..Default::default()
    })?
    .boxed();
    let mut zo = ZoOptimizer::new(
        ZoConfig {
            q: 4,
            ..Default::default()
        },
        zo_base,
        "zo",
    )?;
    let f_zo = minimise(&mut zo, &mut BlackBox(Bowl(Layout::flat(n))), &x0, 500)?;

    // quantized optimizer state: Adam whose moments are stored in bf16 (P7's Q_M, Q_V)
    let bf16 = Quantizer::new(FloatFormat::BF16, Rounding::Nearest);
    let adam_bf16 = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    })?
    .with_state_quantizers(Some(bf16), Some(bf16));
    let f_bf16 = minimise(&mut adam_bf16.into_optimizer(), &mut bowl, &x0, 200)?;

    for (name, f) in [
        ("sgd-nesterov", f_sgd),
        ("adamw-cosine", f_adamw),
        ("rbo", f_rbo),
        ("sam-sgd", f_sam),
        ("lbfgs", f_lbfgs),
        ("zo-sgd", f_zo),
        ("adam-bf16-state", f_bf16),
    ] {
        println!("{name:>16}: f = {f:.3e} (from {start})");
        assert!(f < 1e-2 * start, "{name} did not reduce f: {f}");
    }
    println!("{:>16}: ½‖r‖² = {f_engd:.3e}", "engd");
    assert!(f_engd < 1e-20);
    Ok(())
}
