//! Taylor-mode derivatives and the PINN objective against finite differences and num-dual.

use descent_core::testfns::finite_diff_grad;
use descent_core::{Function, Gradient, Problem, Residuals, RngStreams, Stochastic};
use descent_nn::pinn::{
    Heat, HeatSolution, Pde, PinnObjective, PinnSizes, Poisson, PoissonSolution,
};
use descent_nn::{Activation, Init, Mlp, Out, Streams, TaylorMlp};
use num_dual::{Dual2, Dual64, DualNum};
use rand::RngExt;

fn net(sizes: &[usize], seed: u64) -> (Mlp, Vec<f64>) {
    let mlp = Mlp::new(sizes.to_vec(), Activation::Tanh, true).unwrap();
    let p = mlp.init_params(Init::Xavier, &mut RngStreams::new(seed).stream("init"));
    (mlp, p)
}

fn points(n: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut rng = RngStreams::new(seed).stream("pts");
    (0..n * d)
        .map(|_| rng.random::<f64>() * 2.0 - 1.0)
        .collect()
}

/// The network evaluated in any dual number type (the independent reference).
fn eval_generic<T: DualNum<Primitive = f64> + Copy>(mlp: &Mlp, p: &[T], x: &[T]) -> T {
    let mut z: Vec<T> = x.to_vec();
    let layers = mlp.layer_params();
    for (l, lp) in layers.iter().enumerate() {
        let mut h = vec![T::from(0.0); lp.fan_out];
        for o in 0..lp.fan_out {
            let mut acc = lp.bias.map_or(T::from(0.0), |b| p[b + o]);
            for i in 0..lp.fan_in {
                acc += p[lp.weight + o * lp.fan_in + i] * z[i];
            }
            h[o] = if l + 1 < layers.len() {
                acc.tanh()
            } else {
                acc
            };
        }
        z = h;
    }
    z[0]
}

/// (u, ∇u, Δ_S u) and the directional derivative of Δ_S u along parameter direction v, all by
/// num-dual: Dual2 over the input coordinate, Dual64 over the parameter direction.
fn num_dual_taylor(
    mlp: &Mlp,
    p: &[f64],
    v: &[f64],
    x: &[f64],
    mask: &[bool],
) -> (f64, Vec<f64>, f64, f64) {
    type D = Dual2<Dual64>;
    let pd: Vec<D> = p
        .iter()
        .zip(v)
        .map(|(&a, &b)| Dual2::from_re(Dual64::new(a, b)))
        .collect();
    let mut grad = vec![0.0; x.len()];
    let (mut u, mut lap, mut lap_dir) = (0.0, 0.0, 0.0);
    for k in 0..x.len() {
        let xd: Vec<D> = x
            .iter()
            .enumerate()
            .map(|(j, &xj)| {
                let base = Dual2::from_re(Dual64::from_re(xj));
                if j == k { base.derivative() } else { base }
            })
            .collect();
        let out = eval_generic(mlp, &pd, &xd);
        u = out.re.re;
        grad[k] = out.v1.re;
        if mask[k] {
            lap += out.v2.re;
            lap_dir += out.v2.eps;
        }
    }
    (u, grad, lap, lap_dir)
}

#[test]
fn taylor_forward_matches_num_dual_and_finite_differences() {
    let (mlp, p) = net(&[3, 7, 5, 1], 1);
    let n = 6;
    let x = points(n, 3, 2);
    let mask = vec![true, false, true];
    let mut t = TaylorMlp::new(mlp.clone(), mask.clone(), n).unwrap();
    t.forward(&p, &x, n, Streams::Taylor);
    let zero = vec![0.0; p.len()];
    let h = 1e-4;
    for s in 0..n {
        let xs = &x[s * 3..(s + 1) * 3];
        let (u, g, lap, _) = num_dual_taylor(&mlp, &p, &zero, xs, &mask);
        assert!((t.value(s) - u).abs() < 1e-14);
        for (k, gk) in g.iter().enumerate().take(3) {
            assert!((t.input_grad(s, k) - gk).abs() < 1e-13, "grad {s} {k}");
        }
        assert!(
            (t.laplacian(s) - lap).abs() < 1e-12 * lap.abs().max(1.0),
            "lap {s}"
        );
        // central finite differences of u (spec check 1: rel. err <= 1e-5)
        let f = |y: &[f64]| eval_generic::<f64>(&mlp, &p, y);
        let mut fd = 0.0;
        for k in [0usize, 2] {
            let mut a = xs.to_vec();
            let mut b = xs.to_vec();
            a[k] += h;
            b[k] -= h;
            fd += (f(&a) - 2.0 * f(xs) + f(&b)) / (h * h);
        }
        assert!(
            (fd - lap).abs() <= 1e-5 * lap.abs().max(1e-2),
            "FD lap {fd} vs {lap}"
        );
    }
    // a value pass gives the same values
    t.forward(&p, &x, n, Streams::Value);
    let u0 = eval_generic::<f64>(&mlp, &p, &x[..3]);
    assert!((t.value(0) - u0).abs() < 1e-15);
}

/// r_s(θ) = Σ_j seeds_sj · (u, ∂u, Δu)_j for one sample.
fn residual(t: &mut TaylorMlp, p: &[f64], x: &[f64], seeds: &[f64], s: usize) -> f64 {
    let d = t.mlp().n_inputs();
    t.forward(p, &x[s * d..(s + 1) * d], 1, Streams::Taylor);
    let m = d + 2;
    let sd = &seeds[s * m..(s + 1) * m];
    let mut r = sd[0] * t.value(0) + sd[m - 1] * t.laplacian(0);
    for k in 0..d {
        r += sd[1 + k] * t.input_grad(0, k);
    }
    r
}

fn check_jacobian(mask: Vec<bool>, seeds_for: impl Fn(usize, usize) -> Vec<f64>) -> (f64, f64) {
    let (mlp, p) = net(&[3, 7, 5, 1], 3);
    let d = 3;
    let n = 5;
    let x = points(n, d, 4);
    let seeds: Vec<f64> = (0..n).flat_map(|s| seeds_for(s, d)).collect();
    let np = p.len();
    let mut t = TaylorMlp::new(mlp.clone(), mask.clone(), n).unwrap();
    t.forward(&p, &x, n, Streams::Taylor);
    let mut jac = vec![0.0; n * np];
    t.backward(&p, &seeds, Out::Rows(&mut jac, np));
    // gradient mode equals the sum of the rows
    let mut sum = vec![0.0; np];
    t.backward(&p, &seeds, Out::Sum(&mut sum));
    for i in 0..np {
        let rows: f64 = (0..n).map(|s| jac[s * np + i]).sum();
        assert!((rows - sum[i]).abs() < 1e-12 * (1.0 + rows.abs()));
    }
    let mut one = TaylorMlp::new(mlp.clone(), mask.clone(), 1).unwrap();
    let h = 1e-6;
    let (mut max_err, mut max_j) = (0.0f64, 0.0f64);
    let mut pp = p.clone();
    for s in 0..n {
        for i in 0..np {
            pp[i] = p[i] + h;
            let a = residual(&mut one, &pp, &x, &seeds, s);
            pp[i] = p[i] - h;
            let b = residual(&mut one, &pp, &x, &seeds, s);
            pp[i] = p[i];
            let fd = (a - b) / (2.0 * h);
            max_err = max_err.max((fd - jac[s * np + i]).abs());
            max_j = max_j.max(jac[s * np + i].abs());
        }
    }
    // num-dual: J·v along a random direction equals the dual part of the residual
    let v = points(1, np, 9);
    let mut nd_err = 0.0f64;
    for s in 0..n {
        let (_, g, lap, lap_dir) = num_dual_taylor(&mlp, &p, &v, &x[s * d..(s + 1) * d], &mask);
        let _ = (g, lap);
        let sd = &seeds[s * (d + 2)..(s + 1) * (d + 2)];
        let jv: f64 = (0..np).map(|i| jac[s * np + i] * v[i]).sum();
        // seeds on u and ∂u: directional derivatives by Dual64 alone
        let pd: Vec<Dual64> = p.iter().zip(&v).map(|(&a, &b)| Dual64::new(a, b)).collect();
        let xs: Vec<Dual64> = x[s * d..(s + 1) * d]
            .iter()
            .map(|&y| Dual64::from_re(y))
            .collect();
        let u_dir = eval_generic(&mlp, &pd, &xs).eps;
        let mut grad_dir = 0.0;
        for k in 0..d {
            type D = Dual2<Dual64>;
            let pq: Vec<D> = pd.iter().map(|&q| Dual2::from_re(q)).collect();
            let xq: Vec<D> = (0..d)
                .map(|j| {
                    let b = Dual2::from_re(xs[j]);
                    if j == k { b.derivative() } else { b }
                })
                .collect();
            grad_dir += sd[1 + k] * eval_generic(&mlp, &pq, &xq).v1.eps;
        }
        let want = sd[0] * u_dir + grad_dir + sd[d + 1] * lap_dir;
        nd_err = nd_err.max((jv - want).abs() / want.abs().max(1e-3));
    }
    (max_err / max_j, nd_err)
}

#[test]
fn poisson_jacobian_matches_finite_differences_and_num_dual() {
    let (fd, nd) = check_jacobian(vec![true; 3], |_, d| {
        let mut s = vec![0.0; d + 2];
        s[d + 1] = 1.0;
        s
    });
    assert!(fd <= 1e-7, "FD rel err {fd:e}");
    assert!(nd <= 1e-10, "num-dual rel err {nd:e}");
}

#[test]
fn heat_and_general_seed_jacobians_match() {
    // heat: c_t = 1, s = −1/4, S = space
    let (fd, nd) = check_jacobian(vec![false, true, true], |_, d| {
        let mut s = vec![0.0; d + 2];
        s[1] = 1.0;
        s[d + 1] = -0.25;
        s
    });
    assert!(fd <= 1e-7 && nd <= 1e-10, "heat: {fd:e} {nd:e}");
    // log-FP style: per-sample seeds on every stream
    let (fd, nd) = check_jacobian(vec![false, true, true], |s, d| {
        (0..d + 2)
            .map(|j| 0.3 * ((s * 7 + j * 3) as f64).sin() - 0.1)
            .collect()
    });
    assert!(fd <= 1e-7 && nd <= 1e-10, "general: {fd:e} {nd:e}");
}

#[test]
fn manufactured_solutions_solve_their_pdes() {
    let h = 1e-4;
    let pdes: Vec<Box<dyn Pde>> = vec![
        Box::new(Poisson::new(2, PoissonSolution::SinProduct).unwrap()),
        Box::new(Poisson::new(5, PoissonSolution::CosSum).unwrap()),
        Box::new(Heat::new(2, HeatSolution::SinProduct).unwrap()),
        Box::new(Heat::new(4, HeatSolution::SinSum).unwrap()),
    ];
    for pde in pdes {
        let d = pde.dim();
        let op = pde.operator().clone();
        let mut rng = RngStreams::new(5).stream("x");
        for _ in 0..5 {
            let mut x = vec![0.0; d];
            pde.sample_interior(&mut rng, &mut x);
            let u = pde.exact(&x);
            let mut g = vec![0.0; d];
            pde.exact_grad(&x, &mut g);
            let mut r = op.a0 * u + pde.source(&x);
            for k in 0..d {
                let mut a = x.clone();
                let mut b = x.clone();
                a[k] += h;
                b[k] -= h;
                let (fa, fb) = (pde.exact(&a), pde.exact(&b));
                let gk = (fa - fb) / (2.0 * h);
                assert!((gk - g[k]).abs() < 1e-5, "{}: grad {k}", pde.name());
                r += op.c[k] * gk;
                if op.lap_mask[k] {
                    r += op.s * (fa - 2.0 * u + fb) / (h * h);
                }
            }
            assert!(r.abs() < 1e-5, "{}: residual of u* = {r:e}", pde.name());
            // condition points lie on the boundary (or at t = 0)
            for i in 0..4 {
                pde.sample_condition(&mut rng, i, 4, &mut x);
                let on_face = x.iter().any(|&v| v == 0.0 || v == 1.0);
                assert!(on_face, "{}: {x:?} not on the boundary", pde.name());
            }
        }
    }
}

fn problem_a(ni: usize, nc: usize, seed: u64) -> (PinnObjective, Vec<f64>) {
    let mlp = Mlp::new(vec![2, 16, 16, 1], Activation::Tanh, true).unwrap();
    let pde = Box::new(Poisson::new(2, PoissonSolution::SinProduct).unwrap());
    let streams = RngStreams::new(seed);
    let sizes = PinnSizes {
        interior: ni,
        condition: nc,
        eval: 500,
    };
    let obj = PinnObjective::new(mlp, pde, sizes, &streams).unwrap();
    let x = obj.init_params(&streams);
    (obj, x)
}

#[test]
fn pinn_gradient_is_j_transpose_r_and_matches_finite_differences() {
    let (mut obj, x) = problem_a(30, 12, 1);
    assert_eq!(
        obj.caps().to_string(),
        "Function, Gradient, Stochastic, Residuals"
    );
    let np = x.len();
    let n = obj.n_residuals();
    let mut r = vec![0.0; n];
    let mut jac = vec![0.0; n * np];
    obj.residual_jacobian(&x, &mut r, &mut jac);
    let loss = obj.value(&x);
    assert!((0.5 * r.iter().map(|v| v * v).sum::<f64>() - loss).abs() < 1e-14 * loss);
    let mut g = vec![0.0; np];
    let f = obj.value_grad(&x, &mut g);
    assert_eq!(f, loss);
    let fd = finite_diff_grad(&mut obj, &x, 1e-6);
    let scale = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for i in 0..np {
        let jtr: f64 = (0..n).map(|k| jac[k * np + i] * r[k]).sum();
        assert!((jtr - g[i]).abs() < 1e-12 * scale, "Jᵀr vs gradient at {i}");
        assert!((fd[i] - g[i]).abs() < 1e-6 * scale, "FD gradient at {i}");
    }
    // same batch until resample; a resample changes it
    let before = obj.batch().0.to_vec();
    assert_eq!(obj.value(&x), loss);
    Stochastic::resample(&mut obj);
    assert_ne!(obj.batch().0, &before[..]);
    assert_ne!(obj.value(&x), loss);
    // errors at the exact solution's scale: an untrained net is O(1) off
    let l2 = obj.l2_error(&x);
    let h1 = obj.h1_error(&x);
    assert!(l2 > 0.05 && l2 < 2.0, "l2 {l2}");
    assert!(h1 > l2);
}

#[test]
fn bad_shapes_are_named_errors() {
    let mlp = Mlp::new(vec![3, 8, 1], Activation::Tanh, true).unwrap();
    let pde = Box::new(Poisson::new(2, PoissonSolution::SinProduct).unwrap());
    let sizes = PinnSizes {
        interior: 10,
        condition: 5,
        eval: 10,
    };
    let e = PinnObjective::new(mlp, pde.clone(), sizes, &RngStreams::new(0))
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        e,
        "invalid value for 'pinn model input width': got 3, expected 2 (the input dimension of poisson(d=2, sin_product))"
    );
    let mlp = Mlp::new(vec![2, 8, 2], Activation::Tanh, true).unwrap();
    let e = PinnObjective::new(mlp, pde.clone(), sizes, &RngStreams::new(0))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("'pinn model output width': got 2"), "{e}");
    let mlp = Mlp::new(vec![2, 8, 1], Activation::Tanh, true).unwrap();
    let e = PinnObjective::new(
        mlp,
        pde,
        PinnSizes {
            interior: 0,
            ..sizes
        },
        &RngStreams::new(0),
    )
    .err()
    .unwrap()
    .to_string();
    assert_eq!(
        e,
        "invalid value for 'pinn.interior': got 0, expected at least 1 point"
    );
    assert!(Poisson::new(0, PoissonSolution::CosSum).is_err());
}

fn poisson_with_eval(eval: usize) -> PinnObjective {
    let mlp = Mlp::new(vec![2, 16, 16, 1], Activation::Tanh, true).unwrap();
    let pde = Box::new(Poisson::new(2, PoissonSolution::SinProduct).unwrap());
    let sizes = PinnSizes {
        interior: 4,
        condition: 4,
        eval,
    };
    PinnObjective::new(mlp, pde, sizes, &RngStreams::new(3)).unwrap()
}

#[test]
fn predict_chunks_any_point_count_and_names_bad_lengths() {
    // eval = 7: 23 points go through the workspace as 7 + 7 + 7 + 2
    let mut small = poisson_with_eval(7);
    let mut large = poisson_with_eval(23);
    let x = small.init_params(&RngStreams::new(3));
    let pts = points(23, 2, 9);
    let chunked = small.predict(&x, &pts).unwrap();
    let whole = large.predict(&x, &pts).unwrap();
    assert_eq!(chunked.len(), 23);
    // the GEMM kernel's row blocking depends on the batch size, so agreement is to rounding
    for (i, (a, b)) in chunked.iter().zip(&whole).enumerate() {
        assert!(
            (a - b).abs() < 1e-14,
            "point {i}: chunked {a} vs unchunked {b}"
        );
    }
    // and both equal the independent scalar evaluation of the network
    for (i, p) in pts.chunks(2).enumerate() {
        let u = eval_generic(small.mlp(), &x, p);
        assert!(
            (chunked[i] - u).abs() < 1e-13,
            "point {i}: {} vs {u}",
            chunked[i]
        );
    }
    assert!(small.predict(&x, &[]).unwrap().is_empty());

    let e = small.predict(&x, &pts[..5]).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid value for 'pinn predict points length': got 5, expected a multiple of the \
         input dimension d = 2 (row-major n × d)"
    );
    let e = small.predict(&x[1..], &pts).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "shape mismatch in pinn predict parameters: expected {} parameters, got {}",
            x.len(),
            x.len() - 1
        )
    );
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn values_along_equals_value_at_the_trial_points_for_every_thread_count() {
    let (mut obj, x) = problem_a(40, 16, 3);
    let mut d = vec![0.0; x.len()];
    obj.value_grad(&x, &mut d);
    let alphas: Vec<f64> = (0..31).map(|e| 0.5f64.powi(e)).collect();
    let want: Vec<f64> = alphas
        .iter()
        .map(|a| {
            let t: Vec<f64> = x.iter().zip(&d).map(|(xi, di)| xi + a * di).collect();
            obj.value(&t)
        })
        .collect();
    for threads in [1, 2, 3, 5] {
        let budget = descent_core::par::Threads::new(threads, "threads").unwrap();
        let mut got = vec![0.0; alphas.len()];
        budget.install(|| obj.values_along(&x, &d, &alphas, &mut got));
        assert_eq!(bits(&got), bits(&want), "threads = {threads}");
    }
    // the trait's default (one `value` per step size) gives the same numbers
    struct Plain<'a>(&'a mut PinnObjective);
    impl Function for Plain<'_> {
        fn dim(&self) -> usize {
            self.0.dim()
        }
        fn value(&mut self, x: &[f64]) -> f64 {
            self.0.value(x)
        }
    }
    impl Residuals for Plain<'_> {
        fn n_residuals(&mut self) -> usize {
            self.0.n_residuals()
        }
        fn residuals(&mut self, x: &[f64], r: &mut [f64]) {
            self.0.residuals(x, r)
        }
        fn residual_jacobian(&mut self, x: &[f64], r: &mut [f64], jac: &mut [f64]) {
            self.0.residual_jacobian(x, r, jac)
        }
    }
    let mut got = vec![0.0; alphas.len()];
    Plain(&mut obj).values_along(&x, &d, &alphas, &mut got);
    assert_eq!(bits(&got), bits(&want));
}

#[test]
fn residual_jacobian_under_a_thread_budget_is_deterministic() {
    // large enough that the forward GEMMs and the Jacobian rows split
    let (mut obj, x) = problem_a(300, 100, 4);
    let (n, p) = (obj.n_residuals(), x.len());
    let run = |obj: &mut PinnObjective, threads: usize| {
        let budget = descent_core::par::Threads::new(threads, "threads").unwrap();
        let (mut r, mut jac) = (vec![0.0; n], vec![0.0; n * p]);
        budget.install(|| obj.residual_jacobian(&x, &mut r, &mut jac));
        (r, jac)
    };
    let (r1, j1) = run(&mut obj, 1);
    for threads in [2, 3] {
        let (r, j) = run(&mut obj, threads);
        let (r_again, j_again) = run(&mut obj, threads);
        assert_eq!(bits(&r), bits(&r_again), "threads = {threads}");
        assert_eq!(bits(&j), bits(&j_again), "threads = {threads}");
        let scale = j1.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        assert!(
            r.iter()
                .zip(&r1)
                .all(|(a, b)| (a - b).abs() <= 1e-13 * (1.0 + b.abs()))
        );
        assert!(
            j.iter()
                .zip(&j1)
                .all(|(a, b)| (a - b).abs() <= 1e-13 * scale)
        );
    }
}
