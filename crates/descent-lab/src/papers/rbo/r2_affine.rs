//! R2 — affine exactness (P6 spec T2, §5 R2): on f(θ) = a·θ + b the graph is a hyperplane, so
//! the ball rolls along it and an RBO step equals the GD step θ − ηa for every radius ρ.

use descent_core::testfns::Affine;
use descent_core::{Problem, Result, RngStreams};
use descent_optim::parse_optimizer;
use descent_optim::rolling_ball::rbo_step_exact_1d;

use crate::harness::stats;
use crate::report::{Claim, ClaimKind};

/// Learning rate and radii of the spec.
pub const LR: f64 = 0.1;
/// The radii ρ of the spec.
pub const RADII: [f64; 4] = [1e-3, 0.1, 1.0, 10.0];

/// What R2 measured: |θ_RBO − θ_GD| per coordinate and case.
#[derive(Debug, Clone, PartialEq)]
pub struct AffineResult {
    /// Exact 1-D projection, f = 0.7θ + 0.3 from θ = 1.3, one value per radius.
    pub exact: Vec<f64>,
    /// The iterative solver (K = 200, γ = 0.5/(1+‖a‖²)) for n = 1 and n = 5, every coordinate.
    pub iterative: Vec<f64>,
}

/// Runs one RBO step per radius and case.
pub fn measure() -> Result<AffineResult> {
    let (mut exact, mut iterative) = (Vec::new(), Vec::new());
    for rho in RADII {
        let (a, b) = (0.7, 0.3);
        let f = move |x: f64| (a * x + b, a, 0.0);
        let t = rbo_step_exact_1d(&f, 1.3, LR, rho, 4001, 20);
        exact.push((t - (1.3 - LR * a)).abs());
        for a in [vec![0.7], vec![0.7, -0.2, 1.1, 0.4, -0.9]] {
            let n = a.len();
            let mut p = Affine::new(&a, 0.3)?;
            let mut opt = parse_optimizer(&format!(
                "rbo(lr={LR}, radius={rho}, inner_c=0.5, inner_steps=200)"
            ))?;
            opt.init(p.layout(), &RngStreams::new(0))?;
            let mut x: Vec<f64> = (0..n).map(|i| 0.5 - 0.3 * i as f64).collect();
            let x0 = x.clone();
            opt.step(&mut x, &mut p)?;
            iterative.extend((0..n).map(|i| (x[i] - (x0[i] - LR * a[i])).abs()));
        }
    }
    Ok(AffineResult { exact, iterative })
}

/// The R2 claim.
pub fn claims(r: &AffineResult) -> Vec<Claim> {
    let all: Vec<f64> = r.exact.iter().chain(&r.iterative).copied().collect();
    vec![Claim::at_most(
        "rbo/affine-exact",
        "on an affine loss an RBO step equals the GD step for every radius \
         (ρ ∈ {1e-3, 0.1, 1, 10}, η = 0.1; exact 1-D projection and iterative solver, n = 1 and 5)",
        ClaimKind::Asserted,
        stats::max(&all),
        1e-10,
    )]
}
