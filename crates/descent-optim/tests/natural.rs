//! The ENGD family's linear algebra against the published identities (P8 spec §2.3, §2.5, §5.3
//! checks 4 and 10) and its input validation.

use descent_core::linalg::{Trans, matmul};
use descent_core::{Layout, Problem, RngStreams};
use descent_optim::conformance::RosenbrockResiduals;
use descent_optim::{
    Engd, EngdConfig, Optimizer, Solver, StepRule, nystrom_factor, nystrom_solve, parse_optimizer,
    solve_psd,
};
use rand_distr::{Distribution, StandardNormal};

fn randn(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = RngStreams::new(seed).stream("t");
    (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
}

/// A rank-deficient-ish J (n × p) with a decaying spectrum, like a PINN Jacobian.
fn jacobian(n: usize, p: usize) -> Vec<f64> {
    let r = n.min(p);
    let u = randn(n * r, 1);
    let v = randn(r * p, 2);
    let mut us = u.clone();
    for i in 0..n {
        for k in 0..r {
            us[i * r + k] *= 10f64.powf(-6.0 * k as f64 / r as f64);
        }
    }
    // scale so that λ_max(JJᵀ) = O(1), like the 1/√N-scaled PINN Jacobian
    let scale = 1.0 / ((n * p) as f64).sqrt();
    let mut j = matmul(&us, Trans::N, &v, Trans::N, n, r, p);
    j.iter_mut().for_each(|x| *x *= scale);
    j
}

fn rel(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den).sqrt()
}

/// −(JᵀJ + λI)⁻¹Jᵀr (parameter space) and Jᵀ(JJᵀ + λI)⁻¹(−r) (sample space).
fn both_directions(j: &[f64], n: usize, p: usize, r: &[f64], lam: f64) -> (Vec<f64>, Vec<f64>) {
    let mut g = matmul(j, Trans::T, j, Trans::N, p, n, p);
    for i in 0..p {
        g[i * p + i] += lam;
    }
    let mut x = matmul(j, Trans::T, r, Trans::N, p, n, 1);
    x.iter_mut().for_each(|v| *v = -*v);
    solve_psd(&g, p, &mut x, 1, 1e-3).unwrap();
    let mut k = matmul(j, Trans::N, j, Trans::T, n, p, n);
    for i in 0..n {
        k[i * n + i] += lam;
    }
    let mut y: Vec<f64> = r.iter().map(|v| -v).collect();
    solve_psd(&k, n, &mut y, 1, 1e-3).unwrap();
    (x, matmul(j, Trans::T, &y, Trans::N, p, n, 1))
}

/// The library's own solve (the one every step runs) with `solver` and damping λ on J (n × p)
/// and r.
fn library_direction(solver: Solver, lam: f64, j: &[f64], r: &[f64], p: usize) -> Vec<f64> {
    let cfg = EngdConfig {
        solver,
        damping: lam,
        ..EngdConfig::default()
    };
    let mut opt = Engd::new(cfg, "engd").unwrap();
    opt.init(&Layout::flat(p), &RngStreams::new(0)).unwrap();
    opt.solve_direction(j, r).unwrap().to_vec()
}

#[test]
fn woodbury_direction_equals_parameter_space_direction() {
    for (n, p) in [(140, 337), (500, 337)] {
        let j = jacobian(n, p);
        let r = randn(n, 3);
        for (lam, tol) in [(1e-2, 1e-12), (1e-6, 1e-8)] {
            let dp = library_direction(Solver::Parameter, lam, &j, &r, p);
            let dw = library_direction(Solver::Sample, lam, &j, &r, p);
            let e = rel(&dw, &dp);
            assert!(e <= tol, "n={n} p={p} λ={lam}: rel diff {e:e} > {tol:e}");
            // and both equal the textbook formulas written out independently here
            let (a, b) = both_directions(&j, n, p, &r, lam);
            assert!(rel(&dp, &a) <= 1e-12 && rel(&dw, &b) <= 1e-12);
        }
    }
}

#[test]
fn solve_direction_is_the_step_the_optimizer_takes() {
    let (n, p) = (12, 30);
    let j = jacobian(n, p);
    let b = randn(n, 8);
    for (spec, solver) in [
        ("engd(damping=1e-6, lr=1)", Solver::Parameter),
        ("engd_w(damping=1e-6, lr=1)", Solver::Sample),
    ] {
        let mut problem = Linear::new(j.clone(), b.clone());
        let step = direction(spec, &mut problem);
        // at x = 0 the residual is −b
        let r: Vec<f64> = b.iter().map(|v| -v).collect();
        assert_eq!(library_direction(solver, 1e-6, &j, &r, p), step, "{spec}");
    }
    let mut opt = Engd::new(EngdConfig::default(), "engd_w").unwrap();
    opt.init(&Layout::flat(p), &RngStreams::new(0)).unwrap();
    let e = opt
        .solve_direction(&j[..n * p - 1], &b)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Jacobian for 'engd_w'"), "{e}");
}

#[test]
fn nystrom_at_full_rank_is_the_exact_shifted_solve_and_its_error_falls_with_rank() {
    let (n, p) = (60, 150);
    let j = jacobian(n, p);
    let (lam, nu) = (1e-3, 1e-7);
    let z = randn(n, 4);
    let omega = randn(n * n, 5);
    let (b, _, _) = nystrom_factor(&j, n, p, &omega, n, nu, 1e-3).unwrap();
    let mut got = z.clone();
    nystrom_solve(&b, n, n, lam, &mut got, 1e-3).unwrap();
    let mut k = matmul(&j, Trans::N, &j, Trans::T, n, p, n);
    for i in 0..n {
        k[i * n + i] += lam + nu;
    }
    let mut want = z.clone();
    solve_psd(&k, n, &mut want, 1, 1e-3).unwrap();
    let e = rel(&got, &want);
    assert!(e <= 1e-6, "Nyström(ℓ=N) vs exact: {e:e}");
    let kk = matmul(&j, Trans::N, &j, Trans::T, n, p, n);
    let errs: Vec<f64> = [n / 8, n / 4, n / 2, n]
        .iter()
        .map(|&l| {
            let om = randn(n * l, 6);
            let (b, _, _) = nystrom_factor(&j, n, p, &om, l, nu, 1e-3).unwrap();
            let bbt = matmul(&b, Trans::N, &b, Trans::T, n, l, n);
            rel(&bbt, &kk)
        })
        .collect();
    assert!(errs.windows(2).all(|w| w[1] < w[0]), "{errs:?}");
    assert!(errs[3] < 1e-6, "{errs:?}");
}

#[test]
fn a_singular_system_falls_back_to_the_min_norm_solution() {
    // rank-1 PSD matrix with no damping and a tiny jitter cap: Cholesky gives up, SVD answers
    let v = [1.0, 2.0, 2.0];
    let a: Vec<f64> = (0..9).map(|k| v[k / 3] * v[k % 3]).collect();
    let mut b = vec![9.0, 18.0, 18.0]; // = A·(1, 0, 0)·... lies in range(A)
    let (jit, fallback) = solve_psd(&a, 3, &mut b, 1, 1e-14).unwrap();
    assert!(fallback && jit == 0.0);
    // min-norm solution of v vᵀ x = 9 v is x = v (since ‖v‖² = 9)
    for (x, want) in b.iter().zip(v) {
        assert!((x - want).abs() < 1e-12, "{b:?}");
    }
    // NaN input is an error, not a panic
    let mut c = vec![1.0];
    assert!(solve_psd(&[f64::NAN], 1, &mut c, 1, 1e-3).is_err());
}

#[test]
fn spring_with_zero_momentum_is_engd_w_bit_for_bit_and_reports_its_phases() {
    let run = |spec: &str| {
        let mut opt = parse_optimizer(spec).unwrap();
        let mut p = RosenbrockResiduals::new();
        opt.init(p.layout(), &RngStreams::new(1)).unwrap();
        let mut x = vec![-1.2, 1.0];
        let mut alphas = Vec::new();
        for _ in 0..8 {
            let info = opt.step(&mut x, &mut p).unwrap();
            alphas.push(info.extras.get("alpha").unwrap());
            assert!(info.extras.get("t_line_search").unwrap() >= 0.0);
        }
        (x, alphas)
    };
    let (a, aa) = run("engd_w(damping=1e-9)");
    let (b, ab) = run("spring(damping=1e-9, momentum=0)");
    assert_eq!(
        a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    assert_eq!(aa, ab);
    // every line-searched step is a power of two in [2^-30, 1]
    assert!(
        aa.iter()
            .all(|a| *a == 0.0 || (a.log2().fract() == 0.0 && *a <= 1.0 && *a >= 2f64.powi(-30)))
    );
    let (c, _) = run("engd(damping=1e-9)");
    assert!(rel(&c, &a) < 1e-6, "{c:?} vs {a:?}");
}

#[test]
fn bad_hyperparameters_are_named_errors() {
    let cases = [
        (
            "spring(momentum=1)",
            "invalid value for 'spring.momentum': got 1, expected a number in [0, 1)",
        ),
        (
            "nystrom(rank=0)",
            "invalid value for 'nystrom.rank': got 0, expected a sketch size >= 1",
        ),
        (
            "engd_w(damping=-1)",
            "invalid value for 'engd_w.damping': got -1, expected a finite number >= 0",
        ),
        (
            "engd_w(norm_constraint=0.001)",
            "invalid value for 'engd_w.norm_constraint': got 0.001, expected a fixed lr=.. as well (the line search has no norm constraint)",
        ),
        (
            "engd_w(threads=0)",
            "invalid value for 'engd_w.threads': got 0, expected an integer >= 1",
        ),
        (
            "lbfgs(history=0)",
            "invalid value for 'lbfgs.history': got 0, expected at least 1 pair",
        ),
        (
            "engd(rank=3)",
            "unknown key 'rank' for 'engd'; valid keys: damping, lr, norm_constraint, momentum, threads",
        ),
    ];
    for (spec, want) in cases {
        let e = parse_optimizer(spec)
            .err()
            .unwrap_or_else(|| panic!("{spec} built"))
            .to_string();
        assert_eq!(e, want, "{spec}");
    }
    // a problem without residuals is a capability error naming both sides
    let mut opt = parse_optimizer("engd_w").unwrap();
    let mut q = descent_core::testfns::Rosenbrock::new(2).unwrap();
    opt.init(q.layout(), &RngStreams::new(0)).unwrap();
    let e = descent_optim::run(
        opt.as_mut(),
        &mut [0.0, 0.0],
        &mut q,
        1,
        descent_optim::no_observer,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "'engd_w' needs Residuals; rosenbrock(dim=2) offers Function, Gradient, HessianVector"
    );
}

/// Linear least squares r = Jx − b with a fixed n × p Jacobian.
struct Linear {
    j: Vec<f64>,
    b: Vec<f64>,
    layout: Layout,
}

impl Linear {
    fn new(j: Vec<f64>, b: Vec<f64>) -> Self {
        let p = j.len() / b.len();
        Linear {
            j,
            b,
            layout: Layout::flat(p),
        }
    }
}

impl descent_core::Function for Linear {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        let mut r = vec![0.0; self.b.len()];
        descent_core::Residuals::residuals(self, x, &mut r);
        0.5 * r.iter().map(|v| v * v).sum::<f64>()
    }
}

impl descent_core::Residuals for Linear {
    fn n_residuals(&mut self) -> usize {
        self.b.len()
    }
    fn residuals(&mut self, x: &[f64], r: &mut [f64]) {
        let p = x.len();
        for (i, ri) in r.iter_mut().enumerate() {
            *ri = self.j[i * p..(i + 1) * p]
                .iter()
                .zip(x)
                .map(|(a, b)| a * b)
                .sum::<f64>()
                - self.b[i];
        }
    }
    fn residual_jacobian(&mut self, x: &[f64], r: &mut [f64], jac: &mut [f64]) {
        self.residuals(x, r);
        jac.copy_from_slice(&self.j);
    }
}

impl Problem for Linear {
    fn name(&self) -> String {
        "linear least squares".into()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(function, residuals);
}

/// One fixed-lr=1 step from 0, i.e. the direction d of `spec`.
fn direction(spec: &str, problem: &mut Linear) -> Vec<f64> {
    let mut opt = parse_optimizer(spec).unwrap();
    opt.init(problem.layout(), &RngStreams::new(4)).unwrap();
    let mut x = vec![0.0; problem.layout.len()];
    opt.step(&mut x, problem).unwrap();
    x
}

#[test]
fn sketch_and_project_at_full_rank_is_engd_w() {
    // With Ω square and invertible, Ω(ΩᵀKΩ + λI)⁻¹Ωᵀ = (K + λ(ΩΩᵀ)⁻¹)⁻¹ → K⁻¹ as λ → 0, so
    // at rank = N with tiny damping SAP's direction is ENGD-W's Jᵀ(JJᵀ + λI)⁻¹(−r).
    let (n, p) = (12, 30);
    let scale = 1.0 / ((n * p) as f64).sqrt();
    let j: Vec<f64> = randn(n * p, 7).iter().map(|v| v * scale).collect();
    let mut problem = Linear::new(j, randn(n, 8));
    let want = direction("engd_w(damping=1e-12, lr=1)", &mut problem);
    let got = direction("sap(rank=12, damping=1e-12, lr=1)", &mut problem);
    let e = rel(&got, &want);
    assert!(e < 1e-8, "SAP(ℓ=N) vs ENGD-W: rel diff {e:e}");
    // both solve Jd = b (d = J⁺b, the min-norm solution): the residual at x = d vanishes
    assert!(problem.value_at(&want) < 1e-18 && problem.value_at(&got) < 1e-18);
    // a smaller sketch projects onto a subspace: its direction differs
    let half = direction("sap(rank=6, damping=1e-12, lr=1)", &mut problem);
    assert!(rel(&half, &want) > 0.1, "{:e}", rel(&half, &want));
}

impl Linear {
    fn value_at(&mut self, x: &[f64]) -> f64 {
        descent_core::Function::value(self, x)
    }
}

#[test]
fn nystrom_rank_above_the_residual_count_is_a_named_error() {
    let mut problem = Linear::new(randn(5 * 8, 9), randn(5, 10));
    let mut opt = parse_optimizer("nystrom(rank=6, lr=1)").unwrap();
    opt.init(problem.layout(), &RngStreams::new(1)).unwrap();
    let mut x = vec![0.0; 8];
    let e = opt.step(&mut x, &mut problem).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid value for 'nystrom.rank': got 6, expected a sketch size <= N = 5, the number \
         of residuals in the batch (a larger sketch of the N x N kernel is singular)"
    );
    assert_eq!(x, vec![0.0; 8]);
    // ℓ = N is fine
    let mut opt = parse_optimizer("nystrom(rank=5, lr=1)").unwrap();
    opt.init(problem.layout(), &RngStreams::new(1)).unwrap();
    opt.step(&mut x, &mut problem).unwrap();
    assert!(x.iter().any(|v| *v != 0.0));
}

#[test]
fn a_singular_nystrom_core_falls_back_to_the_pseudo_inverse() {
    // K = JJᵀ = e₁e₁ᵀ (only residual 0 depends on x) and Ω's first row ω = (1, 2, 2): ΩᵀKΩ =
    // ωωᵀ exactly (every product is exact), rank 1 of 3. With ν = 0 and a jitter cap below the
    // first jitter the Cholesky gives up; the fallback B = YQΛ^{+1/2} still reproduces
    // Y(ΩᵀY)⁺Yᵀ = e₁ωᵀ(ωωᵀ)⁺ωe₁ᵀ = e₁e₁ᵀ = K.
    let (n, p, l) = (4, 3, 3);
    let mut j = vec![0.0; n * p];
    j[0] = 1.0;
    let mut omega = randn(n * l, 11);
    omega[..3].copy_from_slice(&[1.0, 2.0, 2.0]);
    let (b, jitter, fallback) = nystrom_factor(&j, n, p, &omega, l, 0.0, 1e-14).unwrap();
    assert!(fallback && jitter == 0.0);
    let bbt = matmul(&b, Trans::N, &b, Trans::T, n, l, n);
    let mut k = vec![0.0; n * n];
    k[0] = 1.0;
    for (got, want) in bbt.iter().zip(&k) {
        assert!((got - want).abs() < 1e-12, "{bbt:?}");
    }
    // with the default jitter cap the same core is jittered, not a fallback
    let (_, jitter, fallback) = nystrom_factor(&j, n, p, &omega, l, 0.0, 1e-3).unwrap();
    assert!(!fallback && jitter > 0.0, "{jitter}");

    // in the optimizer: a zero Jacobian makes ΩᵀY = 0; the step falls back, logs it, and
    // leaves x where it is instead of stopping the run
    let mut problem = Linear::new(vec![0.0; 4 * 3], vec![1.0, -1.0, 2.0, 0.5]);
    let cfg = EngdConfig {
        solver: Solver::Nystrom {
            rank: 3,
            shift: 0.0,
        },
        damping: 1e-4,
        step: StepRule::Fixed {
            lr: 1.0,
            norm_constraint: None,
        },
        max_jitter: 1e-14,
        ..EngdConfig::default()
    };
    let mut opt = Engd::new(cfg, "nystrom(rank=3, shift=0, lr=1)").unwrap();
    opt.init(problem.layout(), &RngStreams::new(2)).unwrap();
    let mut x = vec![0.5, -0.5, 1.0];
    for step in 1..=2 {
        let info = opt.step(&mut x, &mut problem).unwrap();
        assert_eq!(info.extras.get("fallback"), Some(1.0));
        assert_eq!(opt.solve_log().fallbacks, step);
    }
    assert_eq!(x, vec![0.5, -0.5, 1.0]);
}
