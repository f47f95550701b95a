//! [`SoftmaxRegression`]: the affine model o = W x + b as its own [`Model`], written sample by
//! sample in plain loops (no GEMM, no chunking): the second implementation of the trait, and
//! the model on which the generalised Gauss–Newton matrix equals the Hessian.

use descent_core::{Error, Layout, Result};
use descent_data::Dataset;
use rand::Rng;

use crate::engine::target_of;
use crate::loss::Loss;
use crate::mlp::{Init, Mlp};
use crate::model::{Cotangent, Inputs, Model, TangentCotangent, Visit};

/// Softmax (multinomial logistic) regression o = W x + b, W of shape `[n_outputs, n_features]`:
/// with the softmax cross-entropy loss the multinomial model, with one output and the logistic
/// loss binary logistic regression, with MSE linear least squares. Its parameter layout is that
/// of [`Mlp::softmax_regression`] (`layer0.weight`, `layer0.bias`), so the two are
/// interchangeable and give the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftmaxRegression {
    n_features: usize,
    n_outputs: usize,
}

/// Scratch space of [`SoftmaxRegression`]: one output, cotangent and tangent row.
#[derive(Debug, Clone)]
pub struct LinearWorkspace {
    o: Vec<f64>,
    d: Vec<f64>,
    jv: Vec<f64>,
}

impl SoftmaxRegression {
    /// The model `n_features → n_outputs`. Errors when a width is 0.
    pub fn new(n_features: usize, n_outputs: usize) -> Result<Self> {
        for (field, n) in [
            ("softmax_regression.n_features", n_features),
            ("softmax_regression.n_outputs", n_outputs),
        ] {
            if n == 0 {
                return Err(Error::invalid(field, 0, "a width >= 1"));
            }
        }
        Ok(SoftmaxRegression {
            n_features,
            n_outputs,
        })
    }

    /// o = W x + b; `w` is W followed by b.
    fn affine(&self, w: &[f64], x: &[f64], o: &mut [f64]) {
        let (d, k) = (self.n_features, self.n_outputs);
        let b = &w[k * d..];
        for (j, oj) in o.iter_mut().enumerate() {
            let row = &w[j * d..(j + 1) * d];
            *oj = b[j] + row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
        }
    }

    /// g[W] += d xᵀ, g[b] += d.
    fn accumulate(&self, d: &[f64], x: &[f64], g: &mut [f64]) {
        let nf = self.n_features;
        let (gw, gb) = g.split_at_mut(self.n_outputs * nf);
        for (j, &dj) in d.iter().enumerate() {
            gw[j * nf..(j + 1) * nf]
                .iter_mut()
                .zip(x)
                .for_each(|(g, xi)| *g += dj * xi);
            gb[j] += dj;
        }
    }

    fn check(&self, p: &[f64], inputs: Inputs<'_>) {
        assert_eq!(p.len(), self.n_params(), "parameter vector length");
        assert_eq!(inputs.width(), self.n_features, "input width");
    }

    fn pass(
        &self,
        p: &[f64],
        v: Option<&[f64]>,
        inputs: Inputs<'_>,
        ws: &mut LinearWorkspace,
        g: &mut [f64],
        cot: &mut TangentCotangent,
    ) -> f64 {
        self.check(p, inputs);
        assert_eq!(g.len(), p.len(), "gradient buffer length");
        g.fill(0.0);
        let mut total = 0.0;
        for k in 0..inputs.len() {
            let x = inputs.row(k);
            self.affine(p, x, &mut ws.o);
            if let Some(v) = v {
                self.affine(v, x, &mut ws.jv);
            }
            total += cot(k, &ws.o, &ws.jv, &mut ws.d);
            self.accumulate(&ws.d, x, g);
        }
        total
    }
}

impl Model for SoftmaxRegression {
    type Workspace = LinearWorkspace;

    /// One row at a time, whatever `max_batch`.
    fn workspace(&self, _max_batch: usize) -> LinearWorkspace {
        let k = self.n_outputs;
        LinearWorkspace {
            o: vec![0.0; k],
            d: vec![0.0; k],
            jv: vec![0.0; k],
        }
    }

    fn layout(&self) -> Layout {
        let mut l = Layout::new();
        l.push("layer0.weight", &[self.n_outputs, self.n_features]);
        l.push("layer0.bias", &[self.n_outputs]);
        l
    }

    fn n_params(&self) -> usize {
        (self.n_features + 1) * self.n_outputs
    }

    fn n_inputs(&self) -> usize {
        self.n_features
    }

    fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    fn describe(&self) -> String {
        format!("softmax-regression:{}-{}", self.n_features, self.n_outputs)
    }

    /// The draws of [`Mlp::softmax_regression`]'s [`Mlp::init_params`].
    fn init_params(&self, init: Init, rng: &mut dyn Rng) -> Vec<f64> {
        Mlp::softmax_regression(self.n_features, self.n_outputs)
            .expect("widths validated in SoftmaxRegression::new")
            .init_params(init, rng)
    }

    fn forward(&self, p: &[f64], inputs: Inputs<'_>, ws: &mut LinearWorkspace, visit: &mut Visit) {
        self.check(p, inputs);
        for k in 0..inputs.len() {
            self.affine(p, inputs.row(k), &mut ws.o);
            visit(k, &ws.o);
        }
    }

    fn backward(
        &self,
        p: &[f64],
        inputs: Inputs<'_>,
        ws: &mut LinearWorkspace,
        g: &mut [f64],
        cot: &mut Cotangent,
    ) -> f64 {
        self.pass(p, None, inputs, ws, g, &mut |k, o, _, d| cot(k, o, d))
    }

    fn tangent_backward(
        &self,
        p: &[f64],
        v: &[f64],
        inputs: Inputs<'_>,
        ws: &mut LinearWorkspace,
        g: &mut [f64],
        cot: &mut TangentCotangent,
    ) -> f64 {
        assert_eq!(v.len(), p.len(), "direction length");
        self.pass(p, Some(v), inputs, ws, g, cot)
    }

    /// The outputs are linear in the parameters, so the Hessian of the loss is exactly the
    /// generalised Gauss–Newton matrix: ∇²f·v = [`Model::ggn_vector`].
    fn hvp(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        v: &[f64],
        ws: &mut LinearWorkspace,
        out: &mut [f64],
    ) -> f64 {
        self.ggn_vector(p, data, indices, loss, v, ws, out)
    }

    /// ‖∇ℓₖ‖² = ‖dₖ‖² (‖xₖ‖² + 1) for the outer product dₖ xₖᵀ and the bias dₖ.
    fn per_sample_grad_norms(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        ws: &mut LinearWorkspace,
        norms: &mut [f64],
    ) -> f64 {
        let inputs = Inputs::samples(data, indices);
        self.check(p, inputs);
        assert_eq!(norms.len(), indices.len(), "one norm per sample");
        let mut total = 0.0;
        for (k, &i) in indices.iter().enumerate() {
            let x = data.row(i);
            self.affine(p, x, &mut ws.o);
            total += loss.value_grad(&ws.o, target_of(data, i), &mut ws.d);
            let sq = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>();
            norms[k] = (sq(&ws.d) * (sq(x) + 1.0)).sqrt();
        }
        if indices.is_empty() {
            0.0
        } else {
            total / indices.len() as f64
        }
    }
}
