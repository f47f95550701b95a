//! P5's reduction adapter, maps, pullback metric and GeoPrecGD: derivatives against finite
//! differences, the spec's closed forms (the toy's curvatures, the Schur complement, the
//! projection and small-slope formulas), Woodbury against a dense solve, and GeoPrecGD against
//! an independent implementation of x₁ ← x₁ − η R⁻¹∇F.

use descent_core::linalg::{Trans, matmul, sym_eigen};
use descent_core::testfns::{
    LeastSquares, MatrixFactorization, Quadratic, finite_diff_grad, finite_diff_hvp,
};
use descent_core::{
    EvalCounter, Gradient, HessianVector, Layout, Problem, ReductionJacobian, RngStreams,
};
use descent_optim::probes::{CurvatureOptions, hessian_curvature, pullback_curvature};
use descent_optim::reduction::metric::{
    projection_metric_inverse, pullback_metric, small_slope_condition,
};
use descent_optim::{
    AffineMap, FactorElimination, FnMap, MetricSolve, PullbackSolver, Reduction, ReductionConfig,
    ReductionMap, Split, no_observer, parse_optimizer, run,
};
use rand_distr::{Distribution, StandardNormal};

fn randn(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = RngStreams::new(seed).stream("test");
    (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
}

fn two_blocks(n1: usize, n2: usize) -> Layout {
    let mut l = Layout::new();
    l.push("x1", &[n1]);
    l.push("x2", &[n2]);
    l
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// f(x₁, x₂) = x₁² + 2(x₂ − x₁)² (spec §3.5), Hessian [[6, −4], [−4, 4]].
fn toy() -> Quadratic {
    Quadratic::from_matrix(vec![6.0, -4.0, -4.0, 4.0], &[0.0, 0.0])
        .unwrap()
        .with_layout(two_blocks(1, 1))
        .unwrap()
}

fn psi3() -> FnMap {
    FnMap::new(
        "x1 + 2 sin x1",
        1,
        1,
        |x, y| y[0] = x[0] + 2.0 * x[0].sin(),
        |x, j| j[0] = 1.0 + 2.0 * x[0].cos(),
    )
    .with_curvature(|x, w, v, out| out[0] = w[0] * (-2.0 * x[0].sin()) * v[0])
}

fn reduce<M: ReductionMap>(map: M) -> Reduction<Quadratic, M> {
    Reduction::new(toy(), map, ReductionConfig::eliminate(&["x2"])).unwrap()
}

#[test]
fn toy_curvatures_match_the_closed_forms() {
    let opts = CurvatureOptions::default();
    let cases: Vec<(Box<dyn ReductionMap>, f64, f64)> = vec![
        (
            Box::new(AffineMap::new("x1", vec![0.0], vec![1.0], 1).unwrap()),
            2.0,
            1.0,
        ),
        (Box::new(AffineMap::constant(&[0.0], 1).unwrap()), 6.0, 6.0),
        (Box::new(psi3()), 18.0, 1.8),
    ];
    for (map, euclid, pullback) in cases {
        let mut r = reduce(map);
        let c = hessian_curvature(&mut r, &[0.0], &opts).unwrap();
        assert!((c.beta - euclid).abs() < 1e-12, "{c:?}");
        let mut jac = [0.0];
        r.map_jacobian(&[0.0], &mut jac);
        let p = pullback_curvature(&mut r, &[0.0], &jac, 1, &opts).unwrap();
        assert!((p.beta - pullback).abs() < 1e-12, "{p:?}");
    }
    // the nonlinear map away from 0: chain-rule gradient and HVP (with the correction term)
    // against finite differences of F
    let mut r = reduce(psi3());
    for x in [0.7, -1.3] {
        let mut g = [0.0];
        r.value_grad(&[x], &mut g);
        let fd = finite_diff_grad(&mut r, &[x], 1e-6);
        assert!(
            (g[0] - fd[0]).abs() < 1e-7 * g[0].abs().max(1.0),
            "{g:?} vs {fd:?}"
        );
        let mut h = [0.0];
        r.hvp(&[x], &[1.0], &mut h);
        let fd = finite_diff_hvp(&mut r, &[x], &[1.0], 1e-6);
        assert!(
            (h[0] - fd[0]).abs() < 1e-6 * h[0].abs().max(1.0),
            "{h:?} vs {fd:?}"
        );
    }
    // without second derivatives a nonlinear map offers no HVP
    let plain = FnMap::new(
        "no curvature",
        1,
        1,
        |x, y| y[0] = x[0].sin(),
        |x, j| j[0] = x[0].cos(),
    );
    let r = reduce(plain);
    assert_eq!(
        r.caps().to_string(),
        "Function, Gradient, ReductionJacobian"
    );
}

/// ½‖Ax − b‖² with A 12 × 10 of rank 8 and a consistent b; x₂ = the last 4 coordinates.
fn least_squares() -> (LeastSquares, Vec<f64>) {
    let (m, n, k) = (12, 10, 8);
    let a = matmul(
        &randn(m * k, 1),
        Trans::N,
        &randn(k * n, 2),
        Trans::N,
        m,
        k,
        n,
    );
    let x_true = randn(n, 3);
    let b = matmul(&a, Trans::N, &x_true, Trans::N, m, n, 1);
    let ls = LeastSquares::new(a, m, n, b)
        .unwrap()
        .with_layout(two_blocks(6, 4))
        .unwrap();
    (ls, x_true)
}

fn ls_reduction(rule: &str) -> Reduction<LeastSquares, AffineMap> {
    let (ls, _) = least_squares();
    let mut cfg = ReductionConfig::eliminate(&["x2"]);
    cfg.gradient = descent_optim::GradientRule::parse("gradient", rule).unwrap();
    let split = Split::from_globs(ls.layout(), &cfg.eliminate).unwrap();
    let (m, n) = ls.shape();
    let map = AffineMap::least_squares_argmin(ls.a(), m, n, ls.b(), &split).unwrap();
    Reduction::new(ls, map, cfg).unwrap()
}

#[test]
fn least_squares_argmin_envelope_equals_chain_and_hessian_is_the_schur_complement() {
    let (mut env, mut chain) = (ls_reduction("envelope"), ls_reduction("chain"));
    assert!(env.uses_envelope() && !chain.uses_envelope());
    let x1 = randn(6, 9);
    let (mut ge, mut gc) = ([0.0; 6], [0.0; 6]);
    let fe = env.value_grad(&x1, &mut ge);
    let fc = chain.value_grad(&x1, &mut gc);
    assert_eq!(fe, fc);
    assert!(max_diff(&ge, &gc) < 1e-8, "{ge:?} vs {gc:?}");
    let fd = finite_diff_grad(&mut env, &x1, 1e-6);
    assert!(max_diff(&ge, &fd) < 1e-5, "{ge:?} vs {fd:?}");
    // ∇ₓ₂f = 0 on the graph of the argmin
    let full = env.lift(&x1);
    let mut g = vec![0.0; 10];
    env.inner_mut().value_grad(&full, &mut g);
    assert!(g[6..].iter().all(|v| v.abs() < 1e-10), "{g:?}");
    // ∇²F = H₁₁ − H₁₂H₂₂⁻¹H₂₁ with H = AᵀA
    let mut h_full = vec![0.0; 100];
    for i in 0..10 {
        let mut e = vec![0.0; 10];
        e[i] = 1.0;
        let mut col = vec![0.0; 10];
        env.inner_mut().hvp(&full, &e, &mut col);
        for j in 0..10 {
            h_full[j * 10 + i] = col[j];
        }
    }
    let block = |r: std::ops::Range<usize>, c: std::ops::Range<usize>| -> Vec<f64> {
        r.clone()
            .flat_map(|i| c.clone().map(move |j| (i, j)))
            .map(|(i, j)| h_full[i * 10 + j])
            .collect()
    };
    let (h11, h12, h22) = (block(0..6, 0..6), block(0..6, 6..10), block(6..10, 6..10));
    let mut sol = block(6..10, 0..6);
    descent_core::linalg::Cholesky::factor(&h22, 4, 0.0)
        .unwrap()
        .solve_in_place(&mut sol, 6);
    let corr = matmul(&h12, Trans::N, &sol, Trans::N, 6, 4, 6);
    for i in 0..6 {
        let mut e = [0.0; 6];
        e[i] = 1.0;
        let mut col = [0.0; 6];
        env.hvp(&x1, &e, &mut col);
        for j in 0..6 {
            let want = h11[j * 6 + i] - corr[j * 6 + i];
            assert!(
                (col[j] - want).abs() < 1e-9,
                "({j},{i}): {} vs {want}",
                col[j]
            );
        }
    }
    // the spec's guarantees for an argmin reduction: β_F ≤ β_f, μ_F ≥ μ_f, zeros = dim S
    let opts = CurvatureOptions::default();
    let cf = hessian_curvature(env.inner_mut(), &full, &opts).unwrap();
    let cr = hessian_curvature(&mut env, &x1, &opts).unwrap();
    assert_eq!(cf.zero_count, 2);
    assert!(
        cr.beta <= cf.beta * (1.0 + 1e-12) && cr.mu >= cf.mu * (1.0 - 1e-8),
        "{cf:?} {cr:?}"
    );
}

#[test]
fn factor_elimination_is_the_argmin_with_the_right_jacobian() {
    let (m, n, r) = (5, 4, 2);
    let y = matmul(
        &randn(m * r, 11),
        Trans::N,
        &randn(r * n, 12),
        Trans::T,
        m,
        r,
        n,
    );
    let mf = MatrixFactorization::new(y.clone(), m, n, r).unwrap();
    let mut map = FactorElimination::new(&y, m, n, r).unwrap();
    let u = randn(m * r, 13);
    let (n1, n2) = map.dims();
    let mut jac = vec![0.0; n2 * n1];
    map.jacobian(&u, &mut jac);
    let h = 1e-6;
    for c in 0..n1 {
        let (mut up, mut um) = (u.clone(), u.clone());
        up[c] += h;
        um[c] -= h;
        let (mut vp, mut vm) = (vec![0.0; n2], vec![0.0; n2]);
        map.map(&up, &mut vp);
        map.map(&um, &mut vm);
        for row in 0..n2 {
            let fd = (vp[row] - vm[row]) / (2.0 * h);
            assert!((jac[row * n1 + c] - fd).abs() < 1e-6, "({row},{c})");
        }
    }
    let cfg = ReductionConfig::eliminate(&["V"]);
    let mut red = Reduction::new(mf.clone(), map.clone(), cfg.clone()).unwrap();
    let mut chain_cfg = cfg;
    chain_cfg.gradient = descent_optim::GradientRule::Chain;
    let mut chain = Reduction::new(mf, map, chain_cfg).unwrap();
    let (mut ge, mut gc) = (vec![0.0; n1], vec![0.0; n1]);
    red.value_grad(&u, &mut ge);
    chain.value_grad(&u, &mut gc);
    assert!(max_diff(&ge, &gc) < 1e-8, "{ge:?} vs {gc:?}");
    let v = randn(n1, 14);
    let mut hv = vec![0.0; n1];
    red.hvp(&u, &v, &mut hv);
    let fd = finite_diff_hvp(&mut red, &u, &v, 1e-5);
    assert!(
        max_diff(&hv, &fd) < 1e-5 * hv.iter().map(|x| x.abs()).fold(1.0, f64::max),
        "{hv:?} vs {fd:?}"
    );
    // a singular UᵀU: Ψ undefined, NaN rather than a panic
    let mut x2 = vec![0.0; n2];
    red.map_mut().map(&vec![0.0; n1], &mut x2);
    assert!(x2.iter().all(|v| v.is_nan()));
}

#[test]
fn woodbury_projection_and_small_slope_formulas() {
    // Woodbury against Cholesky of R and a dense eigen-solve, n₂ < n₁ and n₂ > n₁
    for (n2, n1) in [(3, 8), (8, 3)] {
        let jac = randn(n2 * n1, 21);
        let g = randn(n1, 22);
        let r = pullback_metric(&jac, n2, n1);
        let (vals, vecs) = sym_eigen(&r, n1).unwrap();
        let qtg = matmul(&vecs, Trans::T, &g, Trans::N, n1, n1, 1);
        let scaled: Vec<f64> = qtg.iter().zip(&vals).map(|(a, l)| a / l).collect();
        let dense = matmul(&vecs, Trans::N, &scaled, Trans::N, n1, n1, 1);
        for how in [
            MetricSolve::Woodbury,
            MetricSolve::Cholesky,
            MetricSolve::Auto,
        ] {
            let mut z = g.clone();
            PullbackSolver::new(how)
                .solve(&jac, n2, n1, &mut z)
                .unwrap();
            assert!(max_diff(&z, &dense) < 1e-10, "{how:?} {n2}x{n1}");
        }
    }
    // orthonormal rows: DΨᵀDΨ a projector, R⁻¹ = I − ½DΨᵀDΨ
    let (q, _) = descent_core::linalg::qr(&randn(7 * 3, 23), 7, 3);
    let jac: Vec<f64> = (0..3)
        .flat_map(|i| (0..7).map(move |j| (i, j)))
        .map(|(i, j)| q[j * 3 + i])
        .collect();
    let inv = projection_metric_inverse(&jac, 3, 7);
    for c in 0..7 {
        let mut e = vec![0.0; 7];
        e[c] = 1.0;
        PullbackSolver::new(MetricSolve::Woodbury)
            .solve(&jac, 3, 7, &mut e)
            .unwrap();
        for r in 0..7 {
            assert!((e[r] - inv[r * 7 + c]).abs() < 1e-12);
        }
    }
    // κ(R_α) = (1 + α²λ_max)/(1 + α²λ_min) against the eigenvalues of I + α²DΨᵀDΨ
    let jac = randn(5 * 5, 24);
    let jtj = matmul(&jac, Trans::T, &jac, Trans::N, 5, 5, 5);
    let (lam, _) = sym_eigen(&jtj, 5).unwrap();
    for alpha in [1.0, 0.3, 0.1] {
        let scaled: Vec<f64> = jac.iter().map(|v| alpha * v).collect();
        let (rv, _) = sym_eigen(&pullback_metric(&scaled, 5, 5), 5).unwrap();
        let measured = rv[4] / rv[0];
        let formula = small_slope_condition(lam[0], lam[4], alpha);
        assert!(
            (measured - formula).abs() < 1e-10 * formula,
            "{alpha}: {measured} vs {formula}"
        );
    }
}

#[test]
fn geoprec_matches_an_independent_pullback_step() {
    let mut red = ls_reduction("auto");
    let x0 = vec![0.0; 6];
    let lr = 0.05;
    let mut opt = parse_optimizer(&format!("geoprec(lr={lr})")).unwrap();
    opt.init(red.layout(), &RngStreams::new(0)).unwrap();
    let mut x = x0.clone();
    let mut counted = EvalCounter::new(&mut red);
    run(opt.as_mut(), &mut x, &mut counted, 25, no_observer).unwrap();
    let counts = counted.counts();
    assert_eq!((counts.gradients, counts.jacobians), (25, 25));
    // reference: z = R⁻¹∇F by the eigen-decomposition of R, x ← x − η z
    let mut reference = ls_reduction("chain");
    let mut jac = vec![0.0; 4 * 6];
    reference.map_jacobian(&x0, &mut jac);
    let (vals, vecs) = sym_eigen(&pullback_metric(&jac, 4, 6), 6).unwrap();
    let mut xr = x0;
    let mut g = vec![0.0; 6];
    for _ in 0..25 {
        reference.value_grad(&xr, &mut g);
        let qtg = matmul(&vecs, Trans::T, &g, Trans::N, 6, 6, 1);
        let s: Vec<f64> = qtg.iter().zip(&vals).map(|(a, l)| a / l).collect();
        let z = matmul(&vecs, Trans::N, &s, Trans::N, 6, 6, 1);
        xr.iter_mut().zip(&z).for_each(|(xi, zi)| *xi -= lr * zi);
    }
    assert!(
        max_diff(&x, &xr) < 1e-12 * xr.iter().map(|v| v.abs()).fold(1.0, f64::max),
        "{x:?} vs {xr:?}"
    );
    // on a problem without the map's Jacobian the run is an error naming both sides
    let mut plain = Quadratic::diagonal(&[1.0, 2.0], &[0.0, 0.0]).unwrap();
    let mut opt = parse_optimizer("geoprec(lr=0.1)").unwrap();
    opt.init(plain.layout(), &RngStreams::new(0)).unwrap();
    let e = run(opt.as_mut(), &mut [1.0, 1.0], &mut plain, 1, no_observer)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "'geoprec(lr=0.1)' needs Gradient, ReductionJacobian; quadratic(dim=2) offers Function, \
         Gradient, HessianVector"
    );
    let e = parse_optimizer("geoprec(lr=0.1, solve=qr)")
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("geoprec.solve") && e.contains("auto, woodbury, cholesky"),
        "{e}"
    );
}

#[test]
fn bad_reductions_are_named_errors() {
    let err = |cfg: ReductionConfig, map: Box<dyn ReductionMap>| {
        Reduction::new(toy(), map, cfg).err().unwrap().to_string()
    };
    let x1 = || Box::new(AffineMap::new("x1", vec![0.0], vec![1.0], 1).unwrap());
    assert_eq!(
        err(ReductionConfig::eliminate(&[]), x1()),
        "invalid value for 'reduction.eliminate': got [], expected at least one block glob such as [\"x2\"]"
    );
    let e = err(ReductionConfig::eliminate(&["w*"]), x1());
    assert!(
        e.contains("'reduction.eliminate': got \"w*\"") && e.contains("(x1, x2)"),
        "{e}"
    );
    let e = err(ReductionConfig::eliminate(&["x*"]), x1());
    assert!(e.contains("x1 has 0, x2 2"), "{e}");
    let mut cfg = ReductionConfig::eliminate(&["x2"]);
    cfg.gradient = descent_optim::GradientRule::Envelope;
    let e = err(cfg, x1());
    assert!(
        e.contains("needs an exact argmin map, and x1 is not one"),
        "{e}"
    );
    let wide = Box::new(AffineMap::constant(&[0.0, 0.0], 1).unwrap());
    let e = err(ReductionConfig::eliminate(&["x2"]), wide);
    assert!(
        e.contains("expected (1, 1)") && e.contains("got (1, 2)"),
        "{e}"
    );
    let spec = descent_core::Spec::parse("reduction(eliminate=[\"V\"], gradient=chain)").unwrap();
    let cfg = ReductionConfig::from_spec(&spec).unwrap();
    assert_eq!(cfg.eliminate, vec!["V".to_string()]);
    let bad = descent_core::Spec::parse("reduction(eliminate=[\"V\"], gradient=newton)").unwrap();
    assert!(ReductionConfig::from_spec(&bad).is_err());
    // a problem that offers no values at all cannot be reduced
    struct Field(Layout);
    impl Problem for Field {
        fn name(&self) -> String {
            "field".into()
        }
        fn layout(&self) -> &Layout {
            &self.0
        }
        descent_core::problem_views!();
    }
    let e = Reduction::new(
        Field(two_blocks(1, 1)),
        x1(),
        ReductionConfig::eliminate(&["x2"]),
    )
    .err()
    .unwrap()
    .to_string();
    assert_eq!(e, "'reduction' needs Function; field offers nothing");
}
