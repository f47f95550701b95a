//! Checks 1–3 (the derivatives every ENGD step relies on, paper §2.1 and the forward-Laplacian
//! Jacobian of the authors' code): the Taylor-mode input Laplacian, the per-sample residual
//! Jacobian for Poisson, heat and general (log-Fokker–Planck style) seeds, and the gradient Jᵀr̃,
//! each against central finite differences.

use descent_core::linalg::{Trans, gemm};
use descent_core::rng::Rng;
use descent_core::{Gradient, Residuals, Result, RngStreams};
use descent_nn::pinn::{Pde, Poisson, PoissonSolution};
use descent_nn::{Activation, Init, Mlp, Out, Streams, TaylorMlp};

use super::config::{Config, ProblemConfig};
use super::problems::{Which, problem};
use crate::harness::stats;
use crate::report::{Claim, ClaimKind};

/// Step of the central differences of check 1 (second derivatives in x).
const H_LAPLACIAN: f64 = 1e-4;
/// Step of the central differences of checks 2 and 3 (first derivatives in θ).
const H_PARAMS: f64 = 1e-6;
/// Points of checks 1 and 2.
const LAPLACIAN_POINTS: usize = 8;
const JACOBIAN_POINTS: usize = 4;

/// What checks 1–3 measured.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivativeResult {
    /// Check 1: the largest relative error of the Laplacian over the points.
    pub laplacian: f64,
    /// Check 2: per seed case (`poisson`, `heat`, `general`), max |J − J_FD| / max |J|.
    pub jacobian: Vec<(String, f64)>,
    /// Check 3: the larger relative L2 error of Jᵀr̃ and of the GEMM gradient against FD.
    pub gradient: f64,
}

/// Runs checks 1–3; the random nets and points derive from `seed`.
pub fn measure(cfg: &Config, seed: u64) -> Result<DerivativeResult> {
    let streams = RngStreams::new(seed);
    Ok(DerivativeResult {
        laplacian: check_laplacian(&streams)?,
        jacobian: check_jacobian(&streams)?,
        gradient: check_gradient(cfg, seed)?,
    })
}

/// The claims of checks 1–3 (bounds of the paper's reproduction plan, with margins over the
/// prototype's 2e-7, 9e-11 and 2e-8).
pub fn claims(r: &DerivativeResult) -> Vec<Claim> {
    vec![
        Claim::at_most(
            "engd/laplacian-fd",
            "the Taylor-mode input Laplacian matches central finite differences (h = 1e-4): the \
             largest relative error over 8 random points of one random 3-7-5-1 tanh net (check 1)",
            ClaimKind::Asserted,
            r.laplacian,
            1e-5,
        ),
        Claim::for_every(
            "engd/jacobian-fd",
            "per seed case (Poisson, heat, general log-FP style), one random 3-7-5-1 tanh net at 4 \
             points: the per-sample residual Jacobian matches central finite differences \
             (h = 1e-6), max |J − J_FD| / max |J| (check 2)",
            ClaimKind::Asserted,
            &r.jacobian,
            "<= 1e-7 in every case",
            |e| e <= 1e-7,
        ),
        Claim::at_most(
            "engd/gradient-fd",
            "Jᵀr̃ and the GEMM gradient each equal the finite-difference gradient of the PINN loss: \
             the larger relative L2 error of the two, problem A's net at initialisation with a \
             30 + 12 batch (check 3)",
            ClaimKind::Asserted,
            r.gradient,
            1e-6,
        ),
    ]
}

/// max over points of |FD − Taylor| / max(|Taylor|, 1e-3) (the floor keeps points where the
/// Laplacian nearly vanishes from dominating); NaN if any value is not finite.
pub fn laplacian_rel_error(fd: &[f64], taylor: &[f64]) -> f64 {
    if fd.len() != taylor.len() {
        return f64::NAN;
    }
    let per_point: Vec<f64> = fd
        .iter()
        .zip(taylor)
        .map(|(f, t)| (f - t).abs() / if t.abs() > 1e-3 { t.abs() } else { 1e-3 })
        .collect();
    stats::max(&per_point)
}

/// max |J_FD − J| / max |J| over all entries; NaN if any value is not finite.
pub fn jacobian_rel_error(fd: &[f64], jac: &[f64]) -> f64 {
    stats::max_abs_diff(fd, jac) / stats::max_abs(jac)
}

/// `n` points of the PDE's interior sampler.
fn points(pde: &dyn Pde, n: usize, rng: &mut Rng) -> Vec<f64> {
    let d = pde.dim();
    let mut x = vec![0.0; n * d];
    for p in x.chunks_mut(d) {
        pde.sample_interior(rng, p);
    }
    x
}

/// A random 3→7→5→1 tanh net (Xavier init), its parameters and points in [0, 1]³.
fn random_net(streams: &RngStreams, name: &str, n: usize) -> Result<(Mlp, Vec<f64>, Vec<f64>)> {
    let mlp = Mlp::new(vec![3, 7, 5, 1], Activation::Tanh, true)?;
    let p = mlp.init_params(Init::Xavier, &mut streams.stream(&format!("{name}-net")));
    let pde = Poisson::new(3, PoissonSolution::SinProduct)?;
    let x = points(&pde, n, &mut streams.stream(&format!("{name}-points")));
    Ok((mlp, p, x))
}

/// Check 1: the Taylor-mode Laplacian against the central-FD Laplacian of u.
fn check_laplacian(streams: &RngStreams) -> Result<f64> {
    let n = LAPLACIAN_POINTS;
    let (mlp, p, x) = random_net(streams, "laplacian", n)?;
    let mut t = TaylorMlp::new(mlp.clone(), vec![true; 3], n)?;
    t.forward(&p, &x, n, Streams::Taylor);
    let taylor: Vec<f64> = (0..n).map(|s| t.laplacian(s)).collect();
    let mut one = TaylorMlp::new(mlp, vec![true; 3], 1)?;
    let mut u = |y: &[f64]| {
        one.forward(&p, y, 1, Streams::Value);
        one.value(0)
    };
    let h = H_LAPLACIAN;
    let fd: Vec<f64> = x
        .chunks(3)
        .map(|xs| {
            let u0 = u(xs);
            (0..3)
                .map(|k| {
                    let (mut a, mut b) = (xs.to_vec(), xs.to_vec());
                    a[k] += h;
                    b[k] -= h;
                    (u(&a) - 2.0 * u0 + u(&b)) / (h * h)
                })
                .sum::<f64>()
        })
        .collect();
    Ok(laplacian_rel_error(&fd, &taylor))
}

/// Check 2: the interior residual Jacobian r = a0·u + Σ c_k ∂_k u + s·Δ_S u against central FD
/// in every parameter, for Poisson seeds (s = 1), heat seeds (c_t = 1, s = −¼, S = space) and
/// per-sample general seeds (log-FP style).
fn check_jacobian(streams: &RngStreams) -> Result<Vec<(String, f64)>> {
    let n = JACOBIAN_POINTS;
    let (mlp, p, x) = random_net(streams, "jacobian", n)?;
    let np = p.len();
    let m = 5;
    let cases: Vec<(&str, Vec<bool>, Vec<f64>)> = vec![
        (
            "poisson",
            vec![true; 3],
            (0..n).flat_map(|_| [0.0, 0.0, 0.0, 0.0, 1.0]).collect(),
        ),
        (
            "heat",
            vec![false, true, true],
            (0..n).flat_map(|_| [0.0, 1.0, 0.0, 0.0, -0.25]).collect(),
        ),
        (
            "general",
            vec![false, true, true],
            (0..n * m)
                .map(|i| 0.4 * ((i * 7) as f64).sin() - 0.1)
                .collect(),
        ),
    ];
    let mut out = Vec::new();
    for (name, mask, seeds) in cases {
        let mut t = TaylorMlp::new(mlp.clone(), mask.clone(), n)?;
        t.forward(&p, &x, n, Streams::Taylor);
        let mut jac = vec![0.0; n * np];
        t.backward(&p, &seeds, Out::Rows(&mut jac, np));
        let mut one = TaylorMlp::new(mlp.clone(), mask, 1)?;
        let mut r = |q: &[f64], s: usize| {
            one.forward(q, &x[s * 3..(s + 1) * 3], 1, Streams::Taylor);
            let sd = &seeds[s * m..(s + 1) * m];
            sd[0] * one.value(0)
                + (0..3)
                    .map(|k| sd[1 + k] * one.input_grad(0, k))
                    .sum::<f64>()
                + sd[4] * one.laplacian(0)
        };
        let h = H_PARAMS;
        let mut q = p.clone();
        let mut fd = vec![0.0; n * np];
        for s in 0..n {
            for i in 0..np {
                q[i] = p[i] + h;
                let a = r(&q, s);
                q[i] = p[i] - h;
                let b = r(&q, s);
                q[i] = p[i];
                fd[s * np + i] = (a - b) / (2.0 * h);
            }
        }
        out.push((name.to_string(), jacobian_rel_error(&fd, &jac)));
    }
    Ok(out)
}

/// Check 3: Jᵀr̃ (from the residual Jacobian) and the GEMM gradient against the FD gradient of L
/// on problem A's net with a 30 + 12 batch.
fn check_gradient(cfg: &Config, seed: u64) -> Result<f64> {
    let pc = ProblemConfig {
        interior: 30,
        condition: 12,
        eval: 10,
        ..cfg.a.clone()
    };
    let mut obj = problem(Which::A, &pc, seed)?;
    let x = obj.init_params(&RngStreams::new(seed));
    let n = obj.n_residuals();
    let np = x.len();
    let mut r = vec![0.0; n];
    let mut jac = vec![0.0; n * np];
    obj.residual_jacobian(&x, &mut r, &mut jac);
    let mut g = vec![0.0; np];
    gemm(&mut g, np, 1, n, 1.0, &jac, Trans::T, &r, Trans::N, 0.0);
    let fd = descent_core::testfns::finite_diff_grad(&mut obj, &x, H_PARAMS);
    let mut g2 = vec![0.0; np];
    obj.value_grad(&x, &mut g2);
    Ok(stats::max(&[
        stats::rel_l2_diff(&g, &fd),
        stats::rel_l2_diff(&g2, &fd),
    ]))
}
