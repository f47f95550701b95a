//! Variable projection (P5): the reduced problem's envelope gradient and Schur-complement HVP
//! against finite differences, the head at the argmin, and the named errors.

use std::sync::Arc;

use descent_core::testfns::{finite_diff_grad, finite_diff_hvp};
use descent_core::{Function, Gradient, HessianVector, Problem, RngStreams};
use descent_data::generators::{Generator, Teacher, TeacherConfig};
use descent_data::{Dataset, Targets};
use descent_nn::{Activation, Init, Mlp, RidgeHead, VarPro};

fn teacher_data(outputs: usize) -> Arc<Dataset> {
    let s = RngStreams::new(3);
    let cfg = TeacherConfig {
        dim: 3,
        hidden: 4,
        outputs,
        noise: 0.05,
        ..TeacherConfig::default()
    };
    let t = Teacher::new(cfg, &mut s.stream("structure")).unwrap();
    Arc::new(t.sample(40, &mut s.stream("samples")))
}

fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().map(|x| x.abs()).fold(1e-3, f64::max);
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
        / scale
}

#[test]
fn varpro_derivatives_match_finite_differences() {
    for (bias, outputs) in [(true, 1), (false, 2), (true, 2)] {
        let model = Mlp::new(vec![3, 5, 4, outputs], Activation::Tanh, bias).unwrap();
        let data = teacher_data(outputs);
        let mut vp = VarPro::new(model.clone(), data.clone(), 1e-3).unwrap();
        let nt = Function::dim(&vp);
        let theta = {
            let full = model.init_params(Init::Xavier, &mut RngStreams::new(1).stream("init"));
            full[..nt].to_vec()
        };
        let last = if bias { "layer1.bias" } else { "layer1.weight" };
        assert_eq!(vp.layout().blocks().last().unwrap().name, last);
        let mut g = vec![0.0; nt];
        let f = vp.value_grad(&theta, &mut g);
        assert!((f - vp.value(&theta)).abs() < 1e-14);
        let fd = finite_diff_grad(&mut vp, &theta, 1e-6);
        assert!(rel_err(&g, &fd) < 1e-6, "gradient: {g:?} vs {fd:?}");
        let v: Vec<f64> = (0..nt).map(|i| ((i * 7 % 5) as f64 - 2.0) * 0.3).collect();
        let mut hv = vec![0.0; nt];
        vp.hvp(&theta, &v, &mut hv);
        let fd = finite_diff_hvp(&mut vp, &theta, &v, 1e-5);
        assert!(rel_err(&hv, &fd) < 1e-5, "hvp: {hv:?} vs {fd:?}");
        // the head is the argmin: the full gradient vanishes on the head's blocks, and F is
        // below f at any other head
        let full = vp.full_params(&theta);
        let mut rh = RidgeHead::new(model.clone(), data, 1e-3).unwrap();
        let mut gf = vec![0.0; full.len()];
        rh.value_grad(&full, &mut gf);
        assert!(gf[nt..].iter().all(|x| x.abs() < 1e-10), "{gf:?}");
        let mut other = full.clone();
        other[nt] += 0.1;
        assert!(rh.value(&other) > f);
        // the full problem's own derivatives
        let fdf = finite_diff_grad(&mut rh, &other, 1e-6);
        rh.value_grad(&other, &mut gf);
        assert!(rel_err(&gf, &fdf) < 1e-6);
        let w: Vec<f64> = (0..full.len()).map(|i| (i % 3) as f64 - 1.0).collect();
        let mut hw = vec![0.0; full.len()];
        rh.hvp(&other, &w, &mut hw);
        assert!(rel_err(&hw, &finite_diff_hvp(&mut rh, &other, &w, 1e-5)) < 1e-5);
    }
}

#[test]
fn bad_varpro_inputs_are_named_errors() {
    let data = teacher_data(1);
    let linear = Mlp::new(vec![3, 1], Activation::Tanh, true).unwrap();
    let e = VarPro::new(linear, data.clone(), 1e-3)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("at least one hidden layer"), "{e}");
    let model = Mlp::new(vec![3, 4, 1], Activation::Tanh, true).unwrap();
    let e = VarPro::new(model.clone(), data.clone(), 0.0)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        e,
        "invalid value for 'varpro.ridge': got 0, expected a finite number > 0"
    );
    let classes = Arc::new(
        Dataset::new(
            "two points",
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            3,
            Targets::Classes {
                labels: vec![0, 1],
                n_classes: 2,
            },
        )
        .unwrap(),
    );
    let e = RidgeHead::new(model.clone(), classes, 0.1)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("real targets"), "{e}");
    let wide = Mlp::new(vec![5, 4, 1], Activation::Tanh, true).unwrap();
    assert!(RidgeHead::new(wide, data, 0.1).is_err());
}
