//! E4, the formula checks of spec §5 (also unit tests of descent-optim's reduction module), on
//! random matrices from the run seed: R⁻¹ = I − ½DΨᵀDΨ for an orthogonal-projection DΨ; the
//! small-slope κ(R_α) = (1 + α²λ_max)/(1 + α²λ_min) (Remark 3); the Woodbury solve against a
//! dense eigen-solve; and the envelope gradient against the chain rule for exact argmin maps
//! (least squares and matrix factorisation).

use descent_core::linalg::{Trans, matmul, qr, sym_eigen};
use descent_core::testfns::{LeastSquares, MatrixFactorization};
use descent_core::{Gradient, Layout, Problem, Result, RngStreams};
use descent_optim::reduction::metric::{
    projection_metric_inverse, pullback_metric, small_slope_condition,
};
use descent_optim::{
    AffineMap, FactorElimination, GradientRule, MetricSolve, PullbackSolver, Reduction,
    ReductionConfig, ReductionMap, Split,
};
use serde_json::json;

use super::runs::normals;
use crate::harness::stats::max_abs_diff;
use crate::report::{Claim, ClaimKind, num};

/// The slopes α of the small-slope check.
pub const ALPHAS: [f64; 3] = [1.0, 0.3, 0.1];

/// What E4 measured.
#[derive(Debug, Clone, PartialEq)]
pub struct E4Result {
    /// max |R⁻¹ (Woodbury and Cholesky solves) − (I − ½DΨᵀDΨ)|.
    pub projection_error: f64,
    /// (α, κ(R_α) from the eigenvalues of R_α, the formula).
    pub small_slope: Vec<(f64, f64, f64)>,
    /// max |Woodbury − dense| and |Cholesky − dense| of R⁻¹g.
    pub woodbury_error: f64,
    /// max |∇F envelope − ∇F chain| for least squares and for matrix factorisation.
    pub envelope_error_ls: f64,
    /// The same for matrix factorisation.
    pub envelope_error_mf: f64,
}

fn seed_of(run_seed: u64) -> u64 {
    RngStreams::new(run_seed).child_seed("e4", 0)
}

/// R⁻¹g by the eigen-decomposition of R (the dense reference).
fn dense_solve(jac: &[f64], n2: usize, n1: usize, g: &[f64]) -> Result<Vec<f64>> {
    let (vals, vecs) = sym_eigen(&pullback_metric(jac, n2, n1), n1)?;
    let qtg = matmul(&vecs, Trans::T, g, Trans::N, n1, n1, 1);
    let s: Vec<f64> = qtg.iter().zip(&vals).map(|(a, l)| a / l).collect();
    Ok(matmul(&vecs, Trans::N, &s, Trans::N, n1, n1, 1))
}

fn solve(how: MetricSolve, jac: &[f64], n2: usize, n1: usize, g: &[f64]) -> Result<Vec<f64>> {
    let mut z = g.to_vec();
    PullbackSolver::new(how).solve(jac, n2, n1, &mut z)?;
    Ok(z)
}

fn projection_error(seed: u64) -> Result<f64> {
    let (n1, n2) = (10, 4);
    let (q, _) = qr(&normals(seed, "e4-projection", n1 * n2), n1, n2);
    // DΨ = Qᵀ: orthonormal rows, so DΨᵀDΨ = QQᵀ is an orthogonal projector
    let jac: Vec<f64> = (0..n2)
        .flat_map(|i| (0..n1).map(move |j| (i, j)))
        .map(|(i, j)| q[j * n2 + i])
        .collect();
    let closed = projection_metric_inverse(&jac, n2, n1);
    let mut worst: f64 = 0.0;
    for how in [MetricSolve::Woodbury, MetricSolve::Cholesky] {
        for c in 0..n1 {
            let mut e = vec![0.0; n1];
            e[c] = 1.0;
            let z = solve(how, &jac, n2, n1, &e)?;
            let col: Vec<f64> = (0..n1).map(|r| closed[r * n1 + c]).collect();
            worst = crate::harness::stats::max(&[worst, max_abs_diff(&z, &col)]);
        }
    }
    Ok(worst)
}

fn small_slope(seed: u64) -> Result<Vec<(f64, f64, f64)>> {
    let (n2, n1) = (8, 6);
    let jac = normals(seed, "e4-slope", n2 * n1);
    let jtj = matmul(&jac, Trans::T, &jac, Trans::N, n1, n2, n1);
    let (lam, _) = sym_eigen(&jtj, n1)?;
    ALPHAS
        .iter()
        .map(|&alpha| {
            let scaled: Vec<f64> = jac.iter().map(|v| alpha * v).collect();
            let (r, _) = sym_eigen(&pullback_metric(&scaled, n2, n1), n1)?;
            Ok((
                alpha,
                r[n1 - 1] / r[0],
                small_slope_condition(lam[0], lam[n1 - 1], alpha),
            ))
        })
        .collect()
}

fn woodbury_error(seed: u64) -> Result<f64> {
    let (n2, n1) = (5, 12);
    let jac = normals(seed, "e4-woodbury", n2 * n1);
    let g = normals(seed, "e4-woodbury-g", n1);
    let dense = dense_solve(&jac, n2, n1, &g)?;
    let w = solve(MetricSolve::Woodbury, &jac, n2, n1, &g)?;
    let c = solve(MetricSolve::Cholesky, &jac, n2, n1, &g)?;
    Ok(crate::harness::stats::max(&[
        max_abs_diff(&w, &dense),
        max_abs_diff(&c, &dense),
    ]))
}

/// max |envelope − chain| of a reduction built twice with the two rules.
fn envelope_vs_chain<P: Problem + Clone, M: ReductionMap + Clone>(
    f: &P,
    map: &M,
    eliminate: &str,
    x1: &[f64],
) -> Result<f64> {
    let grad = |rule: GradientRule| -> Result<Vec<f64>> {
        let mut cfg = ReductionConfig::eliminate(&[eliminate]);
        cfg.gradient = rule;
        let mut red = Reduction::new(f.clone(), map.clone(), cfg)?;
        let mut g = vec![0.0; x1.len()];
        red.value_grad(x1, &mut g);
        Ok(g)
    };
    Ok(max_abs_diff(
        &grad(GradientRule::Envelope)?,
        &grad(GradientRule::Chain)?,
    ))
}

fn envelope_errors(seed: u64) -> Result<(f64, f64)> {
    // least squares: A 12 × 10 of rank 8, consistent b, x₂ = the last 4 coordinates
    let (m, n, k) = (12, 10, 8);
    let a = matmul(
        &normals(seed, "e4-a1", m * k),
        Trans::N,
        &normals(seed, "e4-a2", k * n),
        Trans::N,
        m,
        k,
        n,
    );
    let b = matmul(&a, Trans::N, &normals(seed, "e4-x", n), Trans::N, m, n, 1);
    let mut layout = Layout::new();
    layout.push("x1", &[6]);
    layout.push("x2", &[4]);
    let ls = LeastSquares::new(a.clone(), m, n, b.clone())?.with_layout(layout)?;
    let split = Split::from_globs(ls.layout(), &["x2".to_string()])?;
    let map = AffineMap::least_squares_argmin(&a, m, n, &b, &split)?;
    let ls_err = envelope_vs_chain(&ls, &map, "x2", &normals(seed, "e4-x1", 6))?;
    // matrix factorisation 8 × 6 of rank 2, V eliminated
    let (m, n, r) = (8, 6, 2);
    let y = matmul(
        &normals(seed, "e4-u", m * r),
        Trans::N,
        &normals(seed, "e4-v", n * r),
        Trans::T,
        m,
        r,
        n,
    );
    let mf = MatrixFactorization::new(y.clone(), m, n, r)?;
    let elim = FactorElimination::new(&y, m, n, r)?;
    let mf_err = envelope_vs_chain(&mf, &elim, "V", &normals(seed, "e4-u0", m * r))?;
    Ok((ls_err, mf_err))
}

/// Measures the four formulas on matrices drawn from the run seed.
pub fn measure(run_seed: u64) -> Result<E4Result> {
    let seed = seed_of(run_seed);
    let (envelope_error_ls, envelope_error_mf) = envelope_errors(seed)?;
    Ok(E4Result {
        projection_error: projection_error(seed)?,
        small_slope: small_slope(seed)?,
        woodbury_error: woodbury_error(seed)?,
        envelope_error_ls,
        envelope_error_mf,
    })
}

/// The claims of E4 (asserted).
pub fn claims(r: &E4Result) -> Vec<Claim> {
    let k = ClaimKind::Asserted;
    let slope: Vec<(String, f64)> = r
        .small_slope
        .iter()
        .map(|(a, measured, formula)| (format!("α={a}"), (measured - formula).abs() / formula))
        .collect();
    vec![
        Claim::at_most(
            "reduction/e4-projection-inverse",
            "E4: for DΨ with orthonormal rows (DΨᵀDΨ an orthogonal projector, 4 × 10) the \
             Woodbury and Cholesky solves of R = I + DΨᵀDΨ give R⁻¹ = I − ½DΨᵀDΨ (max absolute \
             error over all entries)",
            k,
            r.projection_error,
            1e-12,
        ),
        Claim::for_every(
            "reduction/e4-small-slope",
            "E4: κ(R_α) of Ψ_α = αΨ (DΨ random 8 × 6) from R_α's eigenvalues equals \
             (1 + α²λ_max)/(1 + α²λ_min) of DΨᵀDΨ (relative error), per α",
            k,
            &slope,
            "every relative error <= 1e-10",
            |v| v <= 1e-10,
        ),
        Claim::at_most(
            "reduction/e4-woodbury",
            "E4: the Woodbury solve g − DΨᵀ(I + DΨDΨᵀ)⁻¹DΨg and the Cholesky solve of R match a \
             dense eigen-solve of R z = g (DΨ random 5 × 12; max absolute error)",
            k,
            r.woodbury_error,
            1e-10,
        ),
        Claim::judged(
            "reduction/e4-envelope-equals-chain",
            "E4: for exact argmin maps the envelope gradient ∇ₓ₁f equals the chain-rule gradient \
             ∇ₓ₁f + DΨᵀ∇ₓ₂f (max absolute difference; least squares 12 × 10 with 4 coordinates \
             eliminated, matrix factorisation 8 × 6 rank 2 with V eliminated)",
            k,
            json!({"least_squares": num(r.envelope_error_ls),
                   "matrix_factorization": num(r.envelope_error_mf)}),
            "both <= 1e-8",
            r.envelope_error_ls <= 1e-8 && r.envelope_error_mf <= 1e-8,
        ),
    ]
}
