//! The [`crate::Model`] primitives of [`Mlp`] over [`Inputs`] (forward with a visitor, backward
//! from output cotangents, forward-mode tangents for Gauss–Newton products) and its per-sample
//! gradient matrix, on the batched engine of [`crate::engine`] and its [`Workspace`].

use descent_data::Dataset;

use crate::engine::{Weights, Workspace};
use crate::loss::Loss;
use crate::mlp::Mlp;
use crate::model::{Cotangent, Inputs, TangentCotangent, Visit};

impl Mlp {
    /// Copies rows `start..start + b` of `inputs` into a[0].
    fn load_inputs(&self, inputs: Inputs<'_>, start: usize, b: usize, ws: &mut Workspace) {
        let n0 = self.n_inputs();
        assert_eq!(inputs.width(), n0, "input width does not match the model");
        match inputs {
            Inputs::Rows { x, .. } => {
                ws.a[0][..b * n0].copy_from_slice(&x[start * n0..(start + b) * n0]);
            }
            Inputs::Samples { data, indices } => {
                self.load_indices(data, &indices[start..start + b], ws);
            }
        }
    }

    /// [`crate::Model::forward`]: the outputs of every row, in chunks of the workspace size.
    pub fn forward_inputs(
        &self,
        p: &[f64],
        inputs: Inputs<'_>,
        ws: &mut Workspace,
        visit: &mut Visit,
    ) {
        ws.check(self);
        self.check_params(p);
        let (out_l, no) = (self.n_layers() - 1, self.n_outputs());
        let n = inputs.len();
        let mut start = 0;
        while start < n {
            let b = (n - start).min(ws.max_batch);
            self.load_inputs(inputs, start, b, ws);
            self.forward_loaded(p, b, ws);
            for k in 0..b {
                visit(start + k, &ws.z[out_l][k * no..(k + 1) * no]);
            }
            start += b;
        }
    }

    /// [`crate::Model::backward`]: g = Σₖ Jₖᵀ dₖ with dₖ from `cot`; one forward pass and one
    /// backpropagation per chunk.
    pub fn backward_inputs(
        &self,
        p: &[f64],
        inputs: Inputs<'_>,
        ws: &mut Workspace,
        g: &mut [f64],
        cot: &mut Cotangent,
    ) -> f64 {
        self.tangent_pass(p, None, inputs, ws, g, &mut |k, o, _, d| cot(k, o, d))
    }

    /// [`crate::Model::tangent_backward`]: as [`Mlp::backward_inputs`] with the output tangent
    /// J v of the R-operator forward pass (`Mlp::r_forward`) handed to `cot`.
    #[allow(clippy::too_many_arguments)]
    pub fn tangent_backward_inputs(
        &self,
        p: &[f64],
        v: &[f64],
        inputs: Inputs<'_>,
        ws: &mut Workspace,
        g: &mut [f64],
        cot: &mut TangentCotangent,
    ) -> f64 {
        assert_eq!(v.len(), p.len(), "direction length");
        self.tangent_pass(p, Some(v), inputs, ws, g, cot)
    }

    fn tangent_pass(
        &self,
        p: &[f64],
        v: Option<&[f64]>,
        inputs: Inputs<'_>,
        ws: &mut Workspace,
        g: &mut [f64],
        cot: &mut TangentCotangent,
    ) -> f64 {
        ws.check(self);
        self.check_params(p);
        assert_eq!(g.len(), p.len(), "gradient buffer length");
        g.fill(0.0);
        let (out_l, no) = (self.n_layers() - 1, self.n_outputs());
        let n = inputs.len();
        let (mut start, mut total) = (0, 0.0);
        while start < n {
            let b = (n - start).min(ws.max_batch);
            self.load_inputs(inputs, start, b, ws);
            self.forward_loaded(p, b, ws);
            if let Some(v) = v {
                self.r_forward(p, v, b, ws);
            }
            for k in 0..b {
                let r = k * no..(k + 1) * no;
                let jv = if v.is_some() {
                    &ws.rz[out_l][r.clone()]
                } else {
                    &[][..]
                };
                total += cot(start + k, &ws.z[out_l][r.clone()], jv, &mut ws.d[out_l][r]);
            }
            self.backward_loaded(p, b, ws, g);
            start += b;
        }
        total
    }

    /// Writes the per-sample gradients ∇ℓₖ as the rows of the row-major B × P matrix `out` and
    /// returns the mean loss. A dense layer's per-sample weight gradient is the outer product
    /// δₖ aₖᵀ and its bias gradient δₖ, so after one batched forward pass and one propagation of
    /// the output signals (no weight-gradient GEMMs) every row is written directly: cost one
    /// gradient plus B·P writes.
    pub fn per_sample_gradients(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        ws: &mut Workspace,
        out: &mut [f64],
    ) -> f64 {
        ws.check(self);
        self.check_params(p);
        let np = self.n_params();
        assert_eq!(out.len(), indices.len() * np, "output is B × P");
        let mut total = 0.0;
        for (c, chunk) in indices.chunks(ws.max_batch).enumerate() {
            let b = chunk.len();
            total += self.forward_loss_chunk(p, data, chunk, loss, Weights::Uniform(1.0), 0, ws);
            let rows = &mut out[c * ws.max_batch * np..(c * ws.max_batch + b) * np];
            for l in (0..self.n_layers()).rev() {
                let lp = ws.layers[l];
                let (fi, fo) = (lp.fan_in, lp.fan_out);
                for (k, row) in rows.chunks_exact_mut(np).enumerate() {
                    let (dk, ak) = (
                        &ws.d[l][k * fo..(k + 1) * fo],
                        &ws.a[l][k * fi..(k + 1) * fi],
                    );
                    let gw = &mut row[lp.weight..lp.weight + fi * fo];
                    for (gr, &dr) in gw.chunks_exact_mut(fi).zip(dk) {
                        gr.iter_mut().zip(ak).for_each(|(g, a)| *g = dr * a);
                    }
                    if let Some(bo) = lp.bias {
                        row[bo..bo + fo].copy_from_slice(dk);
                    }
                }
                if l > 0 {
                    self.propagate_delta(p, b, l, ws);
                }
            }
        }
        if indices.is_empty() {
            0.0
        } else {
            total / indices.len() as f64
        }
    }
}
