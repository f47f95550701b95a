//! A custom architecture plugged into descent through the `Model` trait: softmax regression on
//! quadratic features φ(x) = (x, x⊙x), o = W φ(x) + b. The model writes its forward pass, the
//! backward pass from output cotangents and the forward-mode tangent; the `Objective` (and so
//! every optimizer, DP-SGD, federated clients) then takes it like the MLP, and the per-sample
//! gradient matrix and Gauss–Newton products come for free.
//! `cargo run --release -p descent-nn --example custom_model`

use std::sync::Arc;

use descent_core::prelude::*;
use descent_data::Dataset;
use descent_nn::prelude::*;
use descent_nn::{Cotangent, Inputs, TangentCotangent, Visit};

/// o = W φ(x) + b with φ(x) = (x, x⊙x): W is `[k, 2d]`, then b `[k]`.
#[derive(Debug, Clone)]
struct Quadratic {
    d: usize,
    k: usize,
}

/// Scratch: the features, output, tangent and cotangent of one row.
#[derive(Debug, Clone)]
struct Scratch {
    phi: Vec<f64>,
    o: Vec<f64>,
    jv: Vec<f64>,
    cot: Vec<f64>,
}

impl Quadratic {
    /// φ(x) = (x, x⊙x).
    fn features(&self, x: &[f64], phi: &mut [f64]) {
        let (lin, sq) = phi.split_at_mut(self.d);
        lin.copy_from_slice(x);
        sq.iter_mut().zip(x).for_each(|(q, x)| *q = x * x);
    }

    /// out = W φ + b for the parameters (or a direction) `w`.
    fn affine(&self, w: &[f64], phi: &[f64], out: &mut [f64]) {
        let f = 2 * self.d;
        for (j, o) in out.iter_mut().enumerate() {
            let row = &w[j * f..(j + 1) * f];
            *o = w[self.k * f + j] + row.iter().zip(phi).map(|(a, b)| a * b).sum::<f64>();
        }
    }

    /// One pass over the rows: φ, o (and J v = V φ + v_b), the cotangent, g += c φᵀ, c.
    fn pass(
        &self,
        p: &[f64],
        v: Option<&[f64]>,
        inputs: Inputs<'_>,
        s: &mut Scratch,
        g: &mut [f64],
        cot: &mut TangentCotangent,
    ) -> f64 {
        g.fill(0.0);
        let (f, mut total) = (2 * self.d, 0.0);
        for r in 0..inputs.len() {
            self.features(inputs.row(r), &mut s.phi);
            self.affine(p, &s.phi, &mut s.o);
            if let Some(v) = v {
                self.affine(v, &s.phi, &mut s.jv);
            }
            total += cot(r, &s.o, &s.jv, &mut s.cot);
            for (j, c) in s.cot.iter().enumerate() {
                let row = &mut g[j * f..(j + 1) * f];
                row.iter_mut().zip(&s.phi).for_each(|(g, q)| *g += c * q);
                g[self.k * f + j] += c;
            }
        }
        total
    }
}

impl Model for Quadratic {
    type Workspace = Scratch;

    fn workspace(&self, _max_batch: usize) -> Scratch {
        let (f, k) = (2 * self.d, self.k);
        Scratch {
            phi: vec![0.0; f],
            o: vec![0.0; k],
            jv: vec![0.0; k],
            cot: vec![0.0; k],
        }
    }
    fn layout(&self) -> Layout {
        let mut l = Layout::new();
        l.push("weight", &[self.k, 2 * self.d]);
        l.push("bias", &[self.k]);
        l
    }
    fn n_params(&self) -> usize {
        (2 * self.d + 1) * self.k
    }
    fn n_inputs(&self) -> usize {
        self.d
    }
    fn n_outputs(&self) -> usize {
        self.k
    }
    fn describe(&self) -> String {
        format!("quadratic:{}-{}", self.d, self.k)
    }
    fn init_params(&self, _init: Init, _rng: &mut dyn rand::Rng) -> Vec<f64> {
        vec![0.0; self.n_params()] // a convex model: start at zero
    }
    fn forward(&self, p: &[f64], inputs: Inputs<'_>, s: &mut Scratch, visit: &mut Visit) {
        for r in 0..inputs.len() {
            self.features(inputs.row(r), &mut s.phi);
            self.affine(p, &s.phi, &mut s.o);
            visit(r, &s.o);
        }
    }
    fn backward(
        &self,
        p: &[f64],
        inputs: Inputs<'_>,
        s: &mut Scratch,
        g: &mut [f64],
        cot: &mut Cotangent,
    ) -> f64 {
        self.pass(p, None, inputs, s, g, &mut |r, o, _, c| cot(r, o, c))
    }
    fn tangent_backward(
        &self,
        p: &[f64],
        v: &[f64],
        inputs: Inputs<'_>,
        s: &mut Scratch,
        g: &mut [f64],
        cot: &mut TangentCotangent,
    ) -> f64 {
        self.pass(p, Some(v), inputs, s, g, cot)
    }
    /// Linear in the parameters: the Hessian is the Gauss–Newton matrix.
    fn hvp(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        v: &[f64],
        s: &mut Scratch,
        out: &mut [f64],
    ) -> f64 {
        self.ggn_vector(p, data, indices, loss, v, s, out)
    }
}

fn main() -> Result<()> {
    let streams = RngStreams::new(0);
    let data = Arc::new(descent_data::iris()?);
    let model = Quadratic { d: 4, k: 3 };
    let mut objective = Objective::new(model, data.clone(), Loss::SoftmaxCe, 16, &streams)?;
    let mut x = objective.init_params(Init::Xavier, &streams);
    let mut g = vec![0.0; x.len()];

    // plain minibatch gradient descent: any descent optimizer drives the same oracles
    let before = objective.evaluate(&x, &data)?;
    for _ in 0..40 * objective.batches_per_epoch() {
        objective.resample();
        objective.value_grad(&x, &mut g);
        x.iter_mut().zip(&g).for_each(|(x, g)| *x -= 0.002 * g);
    }
    let after = objective.evaluate(&x, &data)?;
    println!(
        "{}: loss {:.3} -> {:.3}, accuracy {:.3}",
        objective.name(),
        before.loss,
        after.loss,
        after.accuracy.unwrap_or(f64::NAN)
    );
    assert!(after.loss < 0.5 * before.loss);

    // per-sample gradients (B × P) and a Gauss–Newton product, from the trait's provided bodies
    let (b, p) = (objective.batch().len(), x.len());
    let mut rows = vec![0.0; b * p];
    objective.per_sample_gradients(&x, &mut rows)?;
    objective.value_grad(&x, &mut g);
    let mean_row0: f64 = rows.iter().step_by(p).sum::<f64>() / b as f64;
    assert!((mean_row0 - g[0]).abs() < 1e-12);
    let mut gv = vec![0.0; p];
    objective.ggn_vector(&x, &g, &mut gv)?;
    let curvature: f64 = g.iter().zip(&gv).map(|(a, b)| a * b).sum();
    println!("gᵀ G g = {curvature:.4e} (>= 0: G is positive semi-definite)");
    assert!(curvature >= 0.0);
    Ok(())
}
