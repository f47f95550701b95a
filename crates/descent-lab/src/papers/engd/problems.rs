//! The PINN problems of the paper's small-scale reproduction, built from descent-nn's `pinn`
//! module: A (2-D Poisson, u* = sin(πx)sin(πy)), B (5-D Poisson, u* = Σcos(πxᵢ)) and C (heat in
//! 1+2 D, sin product), each a tanh MLP with a collocation batch resampled every step.

use descent_core::{Residuals, Result, RngStreams};
use descent_nn::pinn::{
    Heat, HeatSolution, Pde, PinnObjective, PinnSizes, Poisson, PoissonSolution,
};
use descent_nn::{Activation, Mlp};

use super::config::{Config, ProblemConfig};

/// Which PDE a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Poisson in 2-D with the sine-product solution.
    A,
    /// Poisson in 5-D with the cosine-sum solution.
    B,
    /// The heat equation in 2-D (plus time) with the sine-product solution.
    C,
}

impl Which {
    /// The PDE with its exact solution.
    pub fn pde(self) -> Box<dyn Pde> {
        match self {
            Which::A => Box::new(Poisson::new(2, PoissonSolution::SinProduct).expect("d >= 1")),
            Which::B => Box::new(Poisson::new(5, PoissonSolution::CosSum).expect("d >= 1")),
            Which::C => Box::new(Heat::new(2, HeatSolution::SinProduct).expect("d >= 1")),
        }
    }

    /// The problem's section of the config.
    pub fn config(self, c: &Config) -> &ProblemConfig {
        match self {
            Which::A => &c.a,
            Which::B => &c.b,
            Which::C => &c.c,
        }
    }

    /// "A", "B" or "C".
    pub fn tag(self) -> &'static str {
        match self {
            Which::A => "A",
            Which::B => "B",
            Which::C => "C",
        }
    }
}

/// Problem `which` with the sizes of `pc`; its batches and evaluation set come from the streams
/// of `data_seed` (`"batches"`, `"eval"`).
pub fn problem(which: Which, pc: &ProblemConfig, data_seed: u64) -> Result<PinnObjective> {
    let pde = which.pde();
    let mut sizes = vec![pde.dim()];
    sizes.extend(&pc.hidden);
    sizes.push(1);
    let mlp = Mlp::new(sizes, Activation::Tanh, true)?;
    PinnObjective::new(
        mlp,
        pde,
        PinnSizes {
            interior: pc.interior,
            condition: pc.condition,
            eval: pc.eval,
        },
        &RngStreams::new(data_seed),
    )
}

/// The scaled Jacobian J (row-major N × P) and residuals r̃ of `obj` on its first batch at the
/// initial parameters of `seed`.
pub fn jacobian_at_init(obj: &mut PinnObjective, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let x = obj.init_params(&RngStreams::new(seed));
    let n = obj.n_residuals();
    let mut r = vec![0.0; n];
    let mut j = vec![0.0; n * x.len()];
    obj.residual_jacobian(&x, &mut r, &mut j);
    (j, r)
}
