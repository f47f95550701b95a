//! Zeroth-order estimators (P10): laws, estimator formulas, query counts, minibatch sharing,
//! the spec syntax and its errors.

use descent_core::testfns::{Quadratic, Rosenbrock, SeparableQuadratic};
use descent_core::{
    Caps, EvalCounter, Function, Gradient, Layout, Problem, RngStreams, Stochastic,
};
use descent_optim::probes::{SecondMoment, probe_zo};
use descent_optim::zeroth_order::{DapConstruction, DapDirection};
use descent_optim::{
    Difference, PerturbationLaw, ZoConfig, ZoGradient, no_observer, parse_optimizer, run,
};

fn all_laws() -> Vec<PerturbationLaw> {
    let mut v = vec![
        PerturbationLaw::Gaussian,
        PerturbationLaw::Sphere,
        PerturbationLaw::Coordinate,
        PerturbationLaw::Rademacher,
    ];
    for c in [
        DapConstruction::GaussianComplement,
        DapConstruction::NormConstant,
        DapConstruction::SphereProject,
    ] {
        v.push(PerturbationLaw::Dap {
            construction: c,
            direction: DapDirection::Exact,
        });
    }
    v
}

#[test]
fn every_law_has_identity_second_moment_and_its_norm() {
    let d = 6;
    let u: Vec<f64> = {
        let a = [1.0, -2.0, 0.5, 0.0, 3.0, 1.0];
        let n = a.iter().map(|x: &f64| x * x).sum::<f64>().sqrt();
        a.iter().map(|x| x / n).collect()
    };
    let mut rng = RngStreams::new(1).stream("t");
    for law in all_laws() {
        let mut m = SecondMoment::new(d);
        let mut v = vec![0.0; d];
        for _ in 0..100_000 {
            law.sample(&mut rng, Some(&u), &mut v).unwrap();
            m.add(&v);
            let n2: f64 = v.iter().map(|x| x * x).sum();
            match law {
                PerturbationLaw::Gaussian
                | PerturbationLaw::Dap {
                    construction:
                        DapConstruction::GaussianComplement | DapConstruction::SphereProject,
                    ..
                } => {}
                _ => assert!((n2 - d as f64).abs() < 1e-12, "{law:?}: ‖v‖² = {n2}"),
            }
            if let PerturbationLaw::Dap { .. } = law {
                let along: f64 = v.iter().zip(&u).map(|(a, b)| a * b).sum();
                assert!((along.abs() - 1.0).abs() < 1e-14, "{law:?}: uᵀv = {along}");
            }
        }
        let (diag, off) = m.deviation_from_identity(1.0);
        assert!(diag < 0.03 && off < 0.02, "{law:?}: {diag} {off}");
    }
}

fn quad() -> SeparableQuadratic {
    SeparableQuadratic::new(&[1.0, 2.0, -0.5, 3.0], &[0.5, -1.0, 2.0, 0.0]).unwrap()
}

fn cfg(law: PerturbationLaw, q: usize, difference: Difference) -> ZoConfig {
    ZoConfig {
        law,
        q,
        mu: 1e-3,
        difference,
        ..ZoConfig::default()
    }
}

#[test]
fn central_is_exact_on_quadratics_and_forward_adds_the_curvature_term() {
    let x = [0.3, -0.2, 1.0, 0.7];
    let streams = RngStreams::new(5);
    for law in all_laws() {
        let mut lim = ZoGradient::new(quad(), cfg(law, 1, Difference::Limit), &streams).unwrap();
        let mut cen = ZoGradient::new(quad(), cfg(law, 1, Difference::Central), &streams).unwrap();
        let mut fwd = ZoGradient::new(quad(), cfg(law, 1, Difference::Forward), &streams).unwrap();
        let (mut gl, mut gc, mut gf) = ([0.0; 4], [0.0; 4], [0.0; 4]);
        for _ in 0..20 {
            let f = lim.value_grad(&x, &mut gl);
            assert_eq!(f, quad().value(&x));
            assert_eq!(cen.value_grad(&x, &mut gc), f);
            assert_eq!(fwd.value_grad(&x, &mut gf), f);
            // the limit writes (aᵀv)v: recover v up to sign from the same stream via gf − gc
            for i in 0..4 {
                assert!((gl[i] - gc[i]).abs() < 1e-9, "{law:?}: {gl:?} vs {gc:?}");
            }
            // forward − central = (μ/2)(vᵀWv)v: check it is parallel to the limit's direction
            // and of the predicted size via vᵀWv computed from v = g_limit/(aᵀv)
            let a: Vec<f64> = {
                let mut g = [0.0; 4];
                quad().value_grad(&x, &mut g);
                g.to_vec()
            };
            let av2: f64 = gl.iter().zip(&a).map(|(g, a)| g * a).sum(); // (aᵀv)²
            if av2 > 1e-6 {
                let av = av2.sqrt();
                for sign in [1.0, -1.0] {
                    let v: Vec<f64> = gl.iter().map(|g| sign * g / av).collect();
                    let vwv: f64 = v.iter().zip(&quad().w).map(|(vi, wi)| wi * vi * vi).sum();
                    let ok = (0..4).all(|i| {
                        (gf[i] - gc[i] - 0.5e-3 * vwv * v[i]).abs() < 1e-8 * (1.0 + gf[i].abs())
                    });
                    if ok {
                        break;
                    }
                    assert!(sign > 0.0, "{law:?}: forward − central is not (μ/2)(vᵀWv)v");
                }
            }
        }
    }
}

#[test]
fn dap_exact_puts_no_error_along_the_gradient() {
    let x = [0.3, -0.2, 1.0, 0.7];
    let mut zo = ZoGradient::new(
        quad(),
        cfg(PerturbationLaw::DAP_EXACT, 1, Difference::Limit),
        &RngStreams::new(2),
    )
    .unwrap();
    let s = probe_zo(&mut zo, &x, 20_000).unwrap();
    assert!(s.along_mse <= 1e-20 * s.truth_sq_norm, "{}", s.along_mse);
    // total MSE (d − 1)‖a‖² for every DAP construction
    let r = s.total_mse / s.truth_sq_norm;
    assert!((r - 3.0).abs() < 0.1, "{r}");
    let mut g = [0.0; 4];
    let mut a = [0.0; 4];
    quad().value_grad(&x, &mut a);
    zo.value_grad(&x, &mut g);
    let ag: f64 = a.iter().zip(&g).map(|(a, g)| a * g).sum();
    let aa: f64 = a.iter().map(|a| a * a).sum();
    assert!((ag / aa - 1.0).abs() < 1e-12);
}

#[test]
fn every_query_is_counted_at_the_documented_cost() {
    let x = [0.3, -0.2, 1.0, 0.7];
    let cases = [
        (PerturbationLaw::Gaussian, Difference::Forward, 6, 0),
        (PerturbationLaw::Sphere, Difference::Central, 11, 0),
        (PerturbationLaw::DAP, Difference::Forward, 11, 0),
        (PerturbationLaw::DAP, Difference::Central, 21, 0),
        (PerturbationLaw::DAP_EXACT, Difference::Forward, 5, 1),
        (PerturbationLaw::Rademacher, Difference::Limit, 0, 1),
    ];
    for (law, diff, values, grads) in cases {
        let c = cfg(law, 5, diff);
        let mut zo = ZoGradient::new(EvalCounter::new(quad()), c, &RngStreams::new(0)).unwrap();
        let mut g = [0.0; 4];
        zo.value_grad(&x, &mut g);
        let n = zo.inner().counts();
        assert_eq!((n.values, n.gradients), (values, grads), "{law:?} {diff:?}");
        assert_eq!(c.queries_per_estimate() as u64, values);
        assert_eq!(zo.estimator().last_queries(), values);
    }
}

/// f(x) = c_k·½‖x‖² where c_k changes with every minibatch: the two points of a difference must
/// see the same c_k or the estimate is off by O(1/μ).
struct Batched {
    layout: Layout,
    batch: u64,
}

impl Batched {
    fn c(&self) -> f64 {
        1.0 + (self.batch % 3) as f64
    }
}

impl Function for Batched {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        0.5 * self.c() * x.iter().map(|v| v * v).sum::<f64>()
    }
}

impl Stochastic for Batched {
    fn resample(&mut self) {
        self.batch += 1;
    }
}

impl Problem for Batched {
    fn name(&self) -> String {
        "batched".into()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(function, stochastic);
}

#[test]
fn one_step_resamples_once_and_all_queries_share_the_batch() {
    let p = Batched {
        layout: Layout::flat(3),
        batch: 0,
    };
    let mut opt = parse_optimizer("zo(law=dap, q=3, diff=central, base=sgd(lr=0.1))").unwrap();
    let mut counted = EvalCounter::new(p);
    opt.init(counted.layout(), &RngStreams::new(0)).unwrap();
    let mut x = vec![1.0, -1.0, 0.5];
    let outcome = run(opt.as_mut(), &mut x, &mut counted, 4, no_observer).unwrap();
    assert!(!outcome.diverged());
    let n = counted.counts();
    assert_eq!(n.resamples, 4);
    assert_eq!(n.values, 4 * (4 * 3 + 1) + 1); // + the driver's final f(x)
    // With a shared batch the DAP-estimated central estimate of c·x is exact along x when the
    // pilot is exact: check one estimate directly.
    let mut zo = ZoGradient::new(
        Batched {
            layout: Layout::flat(3),
            batch: 1,
        },
        cfg(PerturbationLaw::Sphere, 200_000, Difference::Central),
        &RngStreams::new(3),
    )
    .unwrap();
    descent_core::resample_if_stochastic(&mut zo);
    let mut g = [0.0; 3];
    zo.value_grad(&[1.0, -1.0, 0.5], &mut g);
    let c = 3.0; // batch 2
    for (gi, xi) in g.iter().zip([1.0, -1.0, 0.5]) {
        assert!((gi - c * xi).abs() < 0.05, "{g:?}");
    }
    assert_eq!(
        zo.caps(),
        Caps::FUNCTION | Caps::GRADIENT | Caps::STOCHASTIC
    );
}

#[test]
fn zo_sgd_and_zo_adam_from_text_minimise_a_quadratic() {
    let eigs = [0.5, 1.0, 2.0, 4.0];
    for spec in [
        "zo(law=gaussian, q=10, mu=1e-3, base=sgd(lr=0.01))",
        "zo(law=sphere, q=4, mu=1e-4, diff=central, base=adam(lr=0.05))",
        "zo(law=dap, q=2, base=sgd(lr=0.05, momentum=0.5))",
        "zo(law=dap_exact, dap=norm_constant, base=sgd(lr=0.05))",
        "zo(law=coordinate, q=2, base=sgd(lr=0.05))",
        "zo(law=rademacher, q=2, mu=1e-5, base=sgd(lr=0.05))",
    ] {
        let mut q = Quadratic::diagonal(&eigs, &[1.0, -1.0, 2.0, 0.5]).unwrap();
        let mut opt = parse_optimizer(spec).unwrap();
        opt.init(q.layout(), &RngStreams::new(4)).unwrap();
        let mut x = vec![0.0; 4];
        let f0 = q.value(&x);
        let out = run(opt.as_mut(), &mut x, &mut q, 3000, no_observer).unwrap();
        let f = q.value(&x);
        assert!(!out.diverged(), "{spec}");
        assert!(f < 1e-3 * f0, "{spec}: {f0} -> {f}");
    }
}

#[test]
fn bad_specs_and_missing_oracles_are_named_errors() {
    let e = |s: &str| parse_optimizer(s).err().unwrap().to_string();
    assert_eq!(
        e("zo(law=gauss)"),
        "invalid value for 'zo.law': got gauss, expected one of gaussian, sphere, coordinate, \
         rademacher, dap, dap_exact"
    );
    assert_eq!(
        e("zo(q=0)"),
        "invalid value for 'zo.q': got 0, expected an integer >= 1"
    );
    assert_eq!(
        e("zo(mu=-1)"),
        "invalid value for 'zo.mu': got -1, expected a finite number > 0"
    );
    assert!(e("zo(law=sphere, dap=norm_constant)").contains("'zo.dap'"));
    assert!(e("zo(diff=backward)").contains("forward, central, limit"));
    assert!(e("zo(lr=0.1)").starts_with("unknown key 'lr' for 'zo'"));
    assert!(e("zo(base=zo(q=2))").starts_with("invalid value for 'zo.base': got zo(q=2)"));
    // dap_exact needs a gradient: a Function-only problem is refused with both sides named
    let p = Batched {
        layout: Layout::flat(2),
        batch: 0,
    };
    let mut opt = parse_optimizer("zo(law=dap_exact)").unwrap();
    opt.init(p.layout(), &RngStreams::new(0)).unwrap();
    let mut p = p;
    let err = run(opt.as_mut(), &mut [1.0, 1.0], &mut p, 1, no_observer)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        "'zo(law=dap_exact)' needs Function, Gradient; batched offers Function, Stochastic"
    );
    let err = ZoGradient::new(
        Rosenbrock::new(2).unwrap(),
        ZoConfig {
            q: 0,
            ..ZoConfig::default()
        },
        &RngStreams::new(0),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("zo.q"), "{err}");
}

#[test]
fn dap_sample_rejects_a_missing_short_or_non_unit_direction() {
    let mut rng = RngStreams::new(2).stream("t");
    let mut v = vec![0.0; 4];
    let law = PerturbationLaw::DAP;
    let e = law.sample(&mut rng, None, &mut v).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid value for 'perturbation direction u': got none, expected a unit vector of \
         length 4 (law 'dap' aligns its samples with u)"
    );
    let e = law
        .sample(&mut rng, Some(&[1.0, 0.0]), &mut v)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "shape mismatch in direction u of the 'dap' perturbation law: expected length 4 \
         (the length of v), got length 2"
    );
    let e = PerturbationLaw::DAP_EXACT
        .sample(&mut rng, Some(&[2.0, 0.0, 0.0, 0.0]), &mut v)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("got a vector of norm 2, expected a unit vector"),
        "{e}"
    );
    // v untouched by a rejected draw; the other laws ignore u entirely
    assert_eq!(v, [0.0; 4]);
    PerturbationLaw::Rademacher
        .sample(&mut rng, None, &mut v)
        .unwrap();
    assert!(v.iter().all(|x| x.abs() == 1.0), "{v:?}");
    // a unit u of the right length gives the aligned sample: |uᵀv| = 1
    let u = [0.0, 0.6, 0.8, 0.0];
    law.sample(&mut rng, Some(&u), &mut v).unwrap();
    let along: f64 = u.iter().zip(&v).map(|(a, b)| a * b).sum();
    assert!((along.abs() - 1.0).abs() < 1e-12, "uᵀv = {along}");
}
