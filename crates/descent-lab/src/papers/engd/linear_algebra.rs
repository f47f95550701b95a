//! Checks 4, 6 and 10 (paper §3, the Woodbury/push-through identity and the randomized Nyström
//! solve): the ENGD-W direction equals the ENGD direction, the sample-space solve is faster than
//! the parameter-space one at N < P, and the Nyström solve is exact at full rank and its kernel
//! reconstruction improves with the sketch size. Checks 4 and 6 go through the library's own
//! solve, [`Engd::solve_direction`], the very solve every ENGD step runs.

use std::time::Instant;

use descent_core::linalg::{Trans, gemm};
use descent_core::{Layout, Result, RngStreams};
use descent_optim::{
    Engd, EngdConfig, Optimizer, Solver, nystrom_factor, nystrom_solve, solve_psd,
};
use rand_distr::{Distribution, StandardNormal};
use serde_json::{Value, json};

use super::config::{Config, ProblemConfig};
use super::problems::{Which, jacobian_at_init, problem};
use crate::harness::stats;
use crate::report::{Claim, ClaimKind, num};

/// The absolute shift ν of the GPU-efficient Nyström variant (the paper's Algorithm 2; the
/// registry's default for `nystrom`).
pub const NYSTROM_SHIFT: f64 = 1e-7;
/// (N_Ω, N_∂) of check 4: N < P and N > P for the 2-16-16-1 net (P = 337).
const WOODBURY_BATCHES: [(usize, usize); 2] = [(100, 40), (400, 100)];
/// Dampings of check 4.
const WOODBURY_DAMPINGS: [f64; 3] = [1e-6, 1e-8, 1e-2];
/// Repeats of each timed solve in check 6 (the median is reported).
pub const TIMING_REPEATS: usize = 7;
/// Damping λ of check 10's full-rank solve.
const NYSTROM_CHECK_DAMPING: f64 = 1e-4;

/// One case of check 4.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WoodburyCase {
    /// Residuals N = N_Ω + N_∂.
    pub n: usize,
    /// Damping λ.
    pub lambda: f64,
    /// ‖d_W − d_ENGD‖ / ‖d_ENGD‖.
    pub rel_diff: f64,
}

/// What checks 4, 6 and 10 measured.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearAlgebraResult {
    /// Check 4: ENGD-W against ENGD, one case per (N, λ).
    pub woodbury: Vec<WoodburyCase>,
    /// Check 6: median seconds of the parameter-space and of the sample-space solve.
    pub seconds_parameter: f64,
    /// Check 6: median seconds of the sample-space solve.
    pub seconds_sample: f64,
    /// Check 10: relative difference of the Nyström solve at ℓ = N from the exact solve of
    /// K + (λ+ν)I.
    pub nystrom_full_rank: f64,
    /// Check 10: (ℓ, ‖K + νI − BBᵀ‖_F / ‖K‖_F) for ℓ = N/8, N/4, N/2, N.
    pub nystrom_reconstruction: Vec<(usize, f64)>,
}

/// The bound check 4 puts on the relative difference at damping λ: about κ·1e-16 with
/// κ = (λ_max(K) + λ)/λ, with margins over the prototype's 2e-14, 1e-10 and 7e-9.
pub fn woodbury_bound(lambda: f64) -> f64 {
    if lambda >= 1e-2 {
        1e-12
    } else if lambda >= 1e-6 {
        1e-8
    } else {
        1e-6
    }
}

/// An [`Engd`] with `solver` and damping λ (everything else the library's default), ready for
/// [`Engd::solve_direction`] on Jacobians with `p` columns.
pub fn engd_solver(solver: Solver, damping: f64, p: usize, seed: u64) -> Result<Engd> {
    let cfg = EngdConfig {
        solver,
        damping,
        ..EngdConfig::default()
    };
    let mut opt = Engd::new(cfg, "engd")?;
    opt.init(&Layout::flat(p), &RngStreams::new(seed))?;
    Ok(opt)
}

/// −(JᵀJ + λI)⁻¹Jᵀr by the library's `solver` (the increment of one ENGD step without momentum)
/// for the row-major N × P Jacobian `jac` and residuals `r`.
pub fn direction(solver: Solver, damping: f64, jac: &[f64], r: &[f64]) -> Result<Vec<f64>> {
    let p = jac.len() / r.len().max(1);
    let mut opt = engd_solver(solver, damping, p, 0)?;
    Ok(opt.solve_direction(jac, r)?.to_vec())
}

/// Runs checks 4, 10 and the timing of check 6 (serially, before the training runs, so that no
/// other work of this run shares the cores).
pub fn measure(cfg: &Config, seed: u64) -> Result<LinearAlgebraResult> {
    let mut woodbury = Vec::new();
    for (ni, nc) in WOODBURY_BATCHES {
        for lambda in WOODBURY_DAMPINGS {
            woodbury.push(WoodburyCase {
                n: ni + nc,
                lambda,
                rel_diff: woodbury_difference(seed, ni, nc, lambda)?,
            });
        }
    }
    let (nystrom_full_rank, nystrom_reconstruction) = check_nystrom(cfg, seed)?;
    let (seconds_parameter, seconds_sample) = time_solves(cfg, seed)?;
    Ok(LinearAlgebraResult {
        woodbury,
        seconds_parameter,
        seconds_sample,
        nystrom_full_rank,
        nystrom_reconstruction,
    })
}

/// Check 4: relative difference of the sample-space (ENGD-W) and the parameter-space (ENGD)
/// direction on a 2→16→16→1 net at initialisation with N_Ω + N_∂ residuals.
fn woodbury_difference(seed: u64, ni: usize, nc: usize, lambda: f64) -> Result<f64> {
    let pc = ProblemConfig {
        hidden: vec![16, 16],
        interior: ni,
        condition: nc,
        eval: 10,
        ..ProblemConfig::default()
    };
    let mut obj = problem(Which::A, &pc, seed)?;
    let (j, r) = jacobian_at_init(&mut obj, seed);
    let dp = direction(Solver::Parameter, lambda, &j, &r)?;
    let dw = direction(Solver::Sample, lambda, &j, &r)?;
    Ok(stats::rel_l2_diff(&dw, &dp))
}

/// Check 6: median seconds of [`Engd::solve_direction`] with the parameter-space and with the
/// sample-space solver on problem A's Jacobian at initialisation (N = 400, P = 1185).
fn time_solves(cfg: &Config, seed: u64) -> Result<(f64, f64)> {
    let mut obj = problem(Which::A, &cfg.a, seed)?;
    let (j, r) = jacobian_at_init(&mut obj, seed);
    let p = j.len() / r.len();
    let median_seconds = |solver: Solver| -> Result<f64> {
        let mut opt = engd_solver(solver, cfg.a.damping, p, seed)?;
        let t: Vec<f64> = (0..TIMING_REPEATS)
            .map(|_| {
                let t0 = Instant::now();
                opt.solve_direction(&j, &r)
                    .map(|_| t0.elapsed().as_secs_f64())
            })
            .collect::<Result<_>>()?;
        Ok(stats::median(&t))
    };
    Ok((
        median_seconds(Solver::Parameter)?,
        median_seconds(Solver::Sample)?,
    ))
}

/// Check 10 on problem A's Jacobian at initialisation: the library's Nyström factor and solve
/// (`nystrom_factor`, `nystrom_solve`, which the `nystrom` optimizer runs) at ℓ = N against the
/// exact solve of K + (λ+ν)I, and the reconstruction error at ℓ ∈ {N/8, N/4, N/2, N}, one
/// Gaussian sketch per ℓ from the run seed's `"nystrom-sketch"` streams.
fn check_nystrom(cfg: &Config, seed: u64) -> Result<(f64, Vec<(usize, f64)>)> {
    let mut obj = problem(Which::A, &cfg.a, seed)?;
    let (j, r) = jacobian_at_init(&mut obj, seed);
    let n = r.len();
    let p = j.len() / n;
    let (lam, nu) = (NYSTROM_CHECK_DAMPING, NYSTROM_SHIFT);
    let mut k = vec![0.0; n * n];
    gemm(&mut k, n, n, p, 1.0, &j, Trans::N, &j, Trans::T, 0.0);
    let knorm = k.iter().map(|v| v * v).sum::<f64>().sqrt();
    let streams = RngStreams::new(seed);
    let mut recon = Vec::new();
    let mut full_err = f64::NAN;
    for l in [n / 8, n / 4, n / 2, n] {
        let mut rng = streams.indexed("nystrom-sketch", l as u64);
        let om: Vec<f64> = (0..n * l)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let (b, _, _) = nystrom_factor(&j, n, p, &om, l, nu, 1e-3)?;
        let mut bbt = vec![0.0; n * n];
        gemm(&mut bbt, n, n, l, 1.0, &b, Trans::N, &b, Trans::T, 0.0);
        // the fast variant keeps the shift: BBᵀ approximates K + νI (paper, Algorithm 2)
        let e = (0..n * n)
            .map(|q| {
                let shift = if q % (n + 1) == 0 { nu } else { 0.0 };
                (bbt[q] - k[q] - shift).powi(2)
            })
            .sum::<f64>()
            .sqrt()
            / knorm;
        recon.push((l, e));
        if l == n {
            let mut got: Vec<f64> = r.iter().map(|v| -v).collect();
            nystrom_solve(&b, n, l, lam, &mut got, 1e-3)?;
            let mut ks = k.clone();
            for i in 0..n {
                ks[i * n + i] += lam + nu;
            }
            let mut want: Vec<f64> = r.iter().map(|v| -v).collect();
            solve_psd(&ks, n, &mut want, 1, 1e-3)?;
            full_err = stats::rel_l2_diff(&got, &want);
        }
    }
    Ok((full_err, recon))
}

/// The claim of check 4 (one per case, all of which must meet their bound).
pub fn woodbury_claim(r: &LinearAlgebraResult) -> Claim {
    let holds = !r.woodbury.is_empty()
        && r.woodbury
            .iter()
            .all(|c| c.rel_diff <= woodbury_bound(c.lambda));
    let measured: Vec<Value> = r
        .woodbury
        .iter()
        .map(|c| json!({"N": c.n, "lambda": c.lambda, "rel_diff": num(c.rel_diff)}))
        .collect();
    Claim::judged(
        "engd/woodbury-equals-engd",
        "per case (N = 140 < P and N = 500 > P, λ ∈ {1e-6, 1e-8, 1e-2}), on a 2-16-16-1 net at \
         initialisation: the Woodbury direction Jᵀ(K+λI)⁻¹ε equals the ENGD direction \
         −(G+λI)⁻¹g, both computed by the library's own solve (Engd::solve_direction with the \
         sample- and the parameter-space solver) (check 4)",
        ClaimKind::Asserted,
        Value::Array(measured),
        "rel diff <= 1e-12 (λ=1e-2), 1e-8 (λ=1e-6), 1e-6 (λ=1e-8) in every case",
        holds,
    )
}

/// The claim of check 6 (reported: timings depend on the machine and its load);
/// `in_runs_ratio` is the same ratio measured inside the training runs.
pub fn speed_claim(r: &LinearAlgebraResult, in_runs_ratio: f64) -> Claim {
    Claim::at_least(
        "engd/sample-space-speedup",
        &format!(
            "the sample-space solve (JJᵀ + Cholesky + Jᵀ·) is faster than the parameter-space \
             solve (JᵀJ + Cholesky) at N = 400, P = 1185; the ratio should grow like (P/N)² \
             (check 6). Both through the library's own solve (Engd::solve_direction) on one \
             Jacobian, timed alone, serially, median of {TIMING_REPEATS} ({:.1} ms vs {:.1} ms); \
             inside the training runs, which share the cores: {:.2}",
            1e3 * r.seconds_parameter,
            1e3 * r.seconds_sample,
            in_runs_ratio
        ),
        ClaimKind::Reported,
        r.seconds_parameter / r.seconds_sample,
        4.0,
    )
}

/// The claims of check 10.
pub fn nystrom_claims(r: &LinearAlgebraResult) -> Vec<Claim> {
    let errors: Vec<f64> = r.nystrom_reconstruction.iter().map(|e| e.1).collect();
    vec![
        Claim::at_most(
            "engd/nystrom-full-rank",
            "one Gaussian sketch on problem A's Jacobian at initialisation: Nyström with ℓ = N \
             solves K + (λ+ν)I exactly (λ = 1e-4, ν = 1e-7; check 10)",
            ClaimKind::Asserted,
            r.nystrom_full_rank,
            1e-6,
        ),
        Claim::strictly_decreasing(
            "engd/nystrom-reconstruction",
            "one Gaussian sketch per ℓ on problem A's Jacobian at initialisation: the Nyström \
             reconstruction error ‖K + νI − BBᵀ‖_F/‖K‖_F decreases in ℓ ∈ {N/8, N/4, N/2, N} \
             (check 10)",
            ClaimKind::Asserted,
            &errors,
        ),
    ]
}

/// The table of check 10's reconstruction errors.
pub fn reconstruction_rows(r: &LinearAlgebraResult) -> Vec<Vec<Value>> {
    r.nystrom_reconstruction
        .iter()
        .map(|&(l, e)| vec![json!(l), num(e)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_optim::StepRule;

    /// The direction check 4 compares is the step the ENGD optimizer takes: one step with a
    /// fixed unit step on problem A moves x by exactly `direction(..)` on that step's batch, for
    /// both solvers (a private copy of the solves in the experiment would not be tied to it).
    #[test]
    fn check_4_measures_the_step_the_optimizer_takes() {
        let pc = ProblemConfig {
            hidden: vec![5],
            interior: 12,
            condition: 6,
            eval: 4,
            ..ProblemConfig::default()
        };
        for solver in [Solver::Parameter, Solver::Sample] {
            let mut obj = problem(Which::A, &pc, 3).unwrap();
            let x0 = obj.init_params(&RngStreams::new(4));
            let cfg = EngdConfig {
                solver,
                damping: 1e-6,
                step: StepRule::Fixed {
                    lr: 1.0,
                    norm_constraint: None,
                },
                ..EngdConfig::default()
            };
            let mut opt = Engd::new(cfg, "engd").unwrap();
            opt.init(
                &descent_core::Problem::layout(&obj).clone(),
                &RngStreams::new(5),
            )
            .unwrap();
            let mut x = x0.clone();
            opt.step(&mut x, &mut obj).unwrap();
            // the step resampled the batch; the Jacobian at x0 on that batch
            let n = descent_core::Residuals::n_residuals(&mut obj);
            let (mut r, mut j) = (vec![0.0; n], vec![0.0; n * x0.len()]);
            descent_core::Residuals::residual_jacobian(&mut obj, &x0, &mut r, &mut j);
            let d = direction(solver, 1e-6, &j, &r).unwrap();
            let moved: Vec<f64> = x0.iter().zip(&d).map(|(a, b)| a + b).collect();
            assert_eq!(x, moved, "{solver:?}");
        }
    }

    #[test]
    fn the_two_solvers_differ_in_the_last_bits_but_agree_to_the_bound() {
        let pc = ProblemConfig {
            hidden: vec![6, 6],
            interior: 20,
            condition: 8,
            eval: 4,
            ..ProblemConfig::default()
        };
        let mut obj = problem(Which::A, &pc, 1).unwrap();
        let (j, r) = jacobian_at_init(&mut obj, 1);
        let dp = direction(Solver::Parameter, 1e-2, &j, &r).unwrap();
        let dw = direction(Solver::Sample, 1e-2, &j, &r).unwrap();
        assert_ne!(dp, dw, "two different solvers, bit-identical directions");
        assert!(stats::rel_l2_diff(&dw, &dp) <= woodbury_bound(1e-2));
    }
}
