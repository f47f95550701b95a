//! Golden values from an independent implementation of the published equations
//! (`tests/reference/first_order.py`, numpy): every iterate of every case must match to 1e-12
//! relative.

use descent_core::{Function, Gradient, Layout, Problem, RngStreams, Spec};
use descent_optim::{Outcome, Schedule, no_observer, parse_optimizer, run};
use serde_json::Value;

const JSON: &str = include_str!("reference/first_order.json");

/// f(x) = ½ (x − c)ᵀ A (x − c) with an explicit A.
struct Quad {
    a: Vec<Vec<f64>>,
    c: Vec<f64>,
    layout: Layout,
}

impl Function for Quad {
    fn dim(&self) -> usize {
        self.c.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        let mut g = vec![0.0; x.len()];
        self.value_grad(x, &mut g)
    }
}

impl Gradient for Quad {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let n = self.c.len();
        let d: Vec<f64> = (0..n).map(|i| x[i] - self.c[i]).collect();
        for (gi, row) in g.iter_mut().zip(&self.a) {
            *gi = row.iter().zip(&d).map(|(a, d)| a * d).sum();
        }
        0.5 * (0..n).map(|i| d[i] * g[i]).sum::<f64>()
    }
}

impl Problem for Quad {
    fn name(&self) -> String {
        "reference-quadratic".into()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(function, gradient);
}

fn vec_of(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()) + 1e-300
}

#[test]
fn transforms_reproduce_the_published_equations() {
    let root: Value = serde_json::from_str(JSON).unwrap();
    let a: Vec<Vec<f64>> = root["a"].as_array().unwrap().iter().map(vec_of).collect();
    let c = vec_of(&root["c"]);
    let x0 = vec_of(&root["x0"]);
    let cases = root["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 16);
    for case in cases {
        let spec = case["spec"].as_str().unwrap();
        let traj: Vec<Vec<f64>> = case["trajectory"]
            .as_array()
            .unwrap()
            .iter()
            .map(vec_of)
            .collect();
        let mut problem = Quad {
            a: a.clone(),
            c: c.clone(),
            layout: Layout::flat(3),
        };
        let mut opt = parse_optimizer(spec).unwrap();
        opt.init(problem.layout(), &RngStreams::new(0)).unwrap();
        let mut x = x0.clone();
        assert_eq!(traj[0], x);
        let mut seen = 0;
        let outcome = run(
            opt.as_mut(),
            &mut x,
            &mut problem,
            traj.len() as u64 - 1,
            |r| {
                seen += 1;
                let want = &traj[r.step as usize];
                for (i, (got, w)) in r.x.iter().zip(want).enumerate() {
                    assert!(
                        close(*got, *w),
                        "{spec}: step {} x[{i}] = {got:e}, reference {w:e}",
                        r.step
                    );
                }
                std::ops::ControlFlow::Continue(())
            },
        )
        .unwrap();
        assert_eq!(seen, traj.len() - 1, "{spec}");
        assert!(matches!(outcome, Outcome::Completed { .. }), "{spec}");
    }
}

#[test]
fn schedules_reproduce_the_torch_closed_forms() {
    let root: Value = serde_json::from_str(JSON).unwrap();
    let scheds = root["schedules"].as_array().unwrap();
    assert_eq!(scheds.len(), 7);
    for s in scheds {
        let text = s["spec"].as_str().unwrap();
        let sched = Schedule::from_spec(&Spec::parse(text).unwrap()).unwrap();
        for (t, want) in vec_of(&s["factors"]).iter().enumerate() {
            let got = sched.factor(t as u64 + 1);
            assert!(
                close(got, *want),
                "{text}: factor({}) = {got}, reference {want}",
                t + 1
            );
        }
    }
}

#[test]
fn reference_quadratic_is_checked_against_no_observer_too() {
    // The same first case without an observer ends at the same point (observer is passive).
    let root: Value = serde_json::from_str(JSON).unwrap();
    let case = &root["cases"][0];
    let last = vec_of(case["trajectory"].as_array().unwrap().last().unwrap());
    let mut problem = Quad {
        a: root["a"].as_array().unwrap().iter().map(vec_of).collect(),
        c: vec_of(&root["c"]),
        layout: Layout::flat(3),
    };
    let mut opt = parse_optimizer(case["spec"].as_str().unwrap()).unwrap();
    opt.init(problem.layout(), &RngStreams::new(0)).unwrap();
    let mut x = vec_of(&root["x0"]);
    run(opt.as_mut(), &mut x, &mut problem, 8, no_observer).unwrap();
    for (g, w) in x.iter().zip(&last) {
        assert!(close(*g, *w));
    }
}
