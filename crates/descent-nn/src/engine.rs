//! The batched derivative engine of [`Mlp`]: forward pass, backpropagation, per-sample gradient
//! norms, weighted gradients, exact Hessian-vector products (Pearlmutter's R-operator), input
//! Jacobians and predictions.
//!
//! Conventions. Samples are rows: the activations of a batch of B samples at a layer of width n
//! are a row-major B × n matrix, so a dense layer is `Z = A Wᵀ + 1 bᵀ` (one GEMM) and its weight
//! gradient is `Δᵀ A` (one GEMM). The batch objective is the MEAN of the per-sample losses,
//! f = (1/B) Σᵢ ℓᵢ; "per-sample gradient" always means ∇ℓᵢ, not divided by B.
//!
//! Every routine processes its batch in chunks of the [`Workspace`]'s `max_batch` rows and
//! accumulates, so any batch size works with any workspace, and no evaluation allocates.
//!
//! Panics: the routines here assert that slice lengths match the model and that the dataset's
//! widths fit it; these are programming errors. User input is validated where it enters
//! ([`crate::Objective::new`], [`crate::build_model`]).

use descent_core::linalg::{Trans, gemm};
use descent_data::{Dataset, Targets};

use crate::loss::{Loss, Target};
use crate::mlp::{LayerParams, Mlp};
use crate::model::{scores_classes, true_class};

/// Scratch space for one model, sized once for batches of up to `max_batch` rows.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub(crate) sizes: Vec<usize>,
    pub(crate) layers: Vec<LayerParams>,
    pub(crate) max_batch: usize,
    /// a[l]: input of layer l (a[0] = the features), B × sizes[l].
    pub(crate) a: Vec<Vec<f64>>,
    /// z[l]: pre-activation of layer l, B × sizes[l+1]; z[L−1] is the model output.
    pub(crate) z: Vec<Vec<f64>>,
    /// d[l] = ∂(objective)/∂z[l].
    pub(crate) d: Vec<Vec<f64>>,
    /// R-operator images R{a[l]}, R{z[l]}, R{d[l]} (Hessian-vector products).
    pub(crate) ra: Vec<Vec<f64>>,
    pub(crate) rz: Vec<Vec<f64>>,
    pub(crate) rd: Vec<Vec<f64>>,
    /// Per-sample loss values and squared gradient norms of a chunk.
    pub(crate) losses: Vec<f64>,
    pub(crate) sq_norms: Vec<f64>,
    /// Two (max width) × (input width) buffers for the input Jacobian.
    pub(crate) jac: [Vec<f64>; 2],
}

impl Workspace {
    /// Scratch space for `model` and batches of up to `max_batch` rows (at least 1); larger
    /// batches are processed in chunks of this size.
    pub fn new(model: &Mlp, max_batch: usize) -> Workspace {
        let bmax = max_batch.max(1);
        let s = &model.sizes;
        let n_layers = model.n_layers();
        let per_input = |l: usize| vec![0.0; bmax * s[l]];
        let per_output = |l: usize| vec![0.0; bmax * s[l + 1]];
        Workspace {
            sizes: s.clone(),
            layers: model.layer_params(),
            max_batch: bmax,
            a: (0..n_layers).map(per_input).collect(),
            z: (0..n_layers).map(per_output).collect(),
            d: (0..n_layers).map(per_output).collect(),
            ra: (0..n_layers).map(per_input).collect(),
            rz: (0..n_layers).map(per_output).collect(),
            rd: (0..n_layers).map(per_output).collect(),
            losses: vec![0.0; bmax],
            sq_norms: vec![0.0; bmax],
            jac: [
                vec![0.0; model.max_width() * s[0]],
                vec![0.0; model.max_width() * s[0]],
            ],
        }
    }

    /// The largest chunk processed at once.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    pub(crate) fn check(&self, model: &Mlp) {
        assert_eq!(
            self.sizes, model.sizes,
            "workspace was built for another model"
        );
    }
}

/// The target of sample `i` of a dataset.
#[inline]
pub fn target_of(data: &Dataset, i: usize) -> Target<'_> {
    match &data.targets {
        Targets::Classes { labels, .. } => Target::Class(labels[i]),
        Targets::Real { values, dim } => Target::Real(&values[i * dim..(i + 1) * dim]),
    }
}

/// A per-sample loss of the model output for [`Mlp::custom_loss_grad`]: `(sample index, output,
/// ∂ℓ/∂output written here) -> ℓ`.
pub type OutputLoss<'a> = dyn FnMut(usize, &[f64], &mut [f64]) -> f64 + 'a;

/// How the backward signal of each sample is scaled.
#[derive(Clone, Copy)]
pub(crate) enum Weights<'a> {
    /// Every sample by the same factor (1/B for the mean).
    Uniform(f64),
    /// Sample k of the batch by `w[k]`.
    PerSample(&'a [f64]),
}

impl Weights<'_> {
    #[inline]
    pub(crate) fn get(&self, k: usize) -> f64 {
        match self {
            Weights::Uniform(c) => *c,
            Weights::PerSample(w) => w[k],
        }
    }
}

/// Model outputs and loss over a whole dataset (see [`Mlp::evaluate`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eval {
    /// Mean per-sample loss.
    pub loss: f64,
    /// Fraction of correctly classified samples, for class targets (argmax of the outputs, or
    /// output > 0 for a single output) and for a single real target in [0, 1] (output > 0 vs
    /// target > ½); `None` otherwise.
    pub accuracy: Option<f64>,
}

impl Mlp {
    /// A workspace for this model (see [`Workspace::new`]).
    pub fn workspace(&self, max_batch: usize) -> Workspace {
        Workspace::new(self, max_batch)
    }

    pub(crate) fn check_params(&self, p: &[f64]) {
        assert_eq!(
            p.len(),
            self.n_params(),
            "parameter vector length does not match the model"
        );
    }

    /// Copies the features of `indices` into a[0].
    pub(crate) fn load_indices(&self, data: &Dataset, indices: &[usize], ws: &mut Workspace) {
        let n0 = self.sizes[0];
        assert_eq!(
            data.n_features, n0,
            "dataset width does not match the model"
        );
        for (k, &i) in indices.iter().enumerate() {
            ws.a[0][k * n0..(k + 1) * n0].copy_from_slice(data.row(i));
        }
    }

    /// Forward pass over the first `b` rows of a[0]: fills z[l] and a[l].
    pub(crate) fn forward_loaded(&self, p: &[f64], b: usize, ws: &mut Workspace) {
        let n_layers = self.n_layers();
        for l in 0..n_layers {
            let lp = ws.layers[l];
            let (fi, fo) = (lp.fan_in, lp.fan_out);
            let w = &p[lp.weight..lp.weight + fi * fo];
            let z = &mut ws.z[l][..b * fo];
            gemm(
                z,
                b,
                fo,
                fi,
                1.0,
                &ws.a[l][..b * fi],
                Trans::N,
                w,
                Trans::T,
                0.0,
            );
            if let Some(bo) = lp.bias {
                add_to_rows(z, &p[bo..bo + fo]);
            }
            if l + 1 < n_layers {
                let act = self.activation;
                let (z, a) = (&ws.z[l][..b * fo], &mut ws.a[l + 1][..b * fo]);
                act.apply(z, a);
            }
        }
    }

    /// Given d[L−1] for `b` rows, accumulates the parameter gradient into `g` and propagates the
    /// signal down (d[l−1] = (d[l] W_l) ⊙ σ'(z[l−1])).
    pub(crate) fn backward_loaded(&self, p: &[f64], b: usize, ws: &mut Workspace, g: &mut [f64]) {
        for l in (0..self.n_layers()).rev() {
            let lp = ws.layers[l];
            let (fi, fo) = (lp.fan_in, lp.fan_out);
            let d = &ws.d[l][..b * fo];
            let gw = &mut g[lp.weight..lp.weight + fi * fo];
            gemm(
                gw,
                fo,
                fi,
                b,
                1.0,
                d,
                Trans::T,
                &ws.a[l][..b * fi],
                Trans::N,
                1.0,
            );
            if let Some(bo) = lp.bias {
                add_column_sums(&mut g[bo..bo + fo], d, fo);
            }
            if l > 0 {
                self.propagate_delta(p, b, l, ws);
            }
        }
    }

    /// d[l−1] ← (d[l] W_l) ⊙ σ'(z[l−1]).
    pub(crate) fn propagate_delta(&self, p: &[f64], b: usize, l: usize, ws: &mut Workspace) {
        let lp = ws.layers[l];
        let (fi, fo) = (lp.fan_in, lp.fan_out);
        let w = &p[lp.weight..lp.weight + fi * fo];
        let (lower, upper) = ws.d.split_at_mut(l);
        let below = &mut lower[l - 1][..b * fi];
        gemm(
            below,
            b,
            fi,
            fo,
            1.0,
            &upper[0][..b * fo],
            Trans::N,
            w,
            Trans::N,
            0.0,
        );
        // a[l] = σ(z[l−1]) from the forward pass
        let act = self.activation;
        below
            .iter_mut()
            .zip(&ws.z[l - 1][..b * fi])
            .zip(&ws.a[l][..b * fi])
            .for_each(|((d, z), a)| *d *= act.d1_with_output(*z, *a));
    }

    /// Forward pass for the samples `indices`, then sets d[L−1] row k to w_k ∇ℓ and ws.losses[k]
    /// to ℓ. Returns Σₖ wₖ ℓₖ.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn forward_loss_chunk(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        weights: Weights<'_>,
        offset: usize,
        ws: &mut Workspace,
    ) -> f64 {
        let b = indices.len();
        self.load_indices(data, indices, ws);
        self.forward_loaded(p, b, ws);
        let out_l = self.n_layers() - 1;
        let no = self.n_outputs();
        let mut total = 0.0;
        for (k, &i) in indices.iter().enumerate() {
            let o = &ws.z[out_l][k * no..(k + 1) * no];
            let d = &mut ws.d[out_l][k * no..(k + 1) * no];
            let l = loss.value_grad(o, target_of(data, i), d);
            let w = weights.get(offset + k);
            d.iter_mut().for_each(|x| *x *= w);
            ws.losses[k] = l;
            total += w * l;
        }
        total
    }

    #[allow(clippy::too_many_arguments)]
    fn weighted_pass(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        weights: Weights<'_>,
        ws: &mut Workspace,
        g: &mut [f64],
    ) -> f64 {
        ws.check(self);
        self.check_params(p);
        assert_eq!(g.len(), p.len(), "gradient buffer length");
        g.fill(0.0);
        let mut total = 0.0;
        for (c, chunk) in indices.chunks(ws.max_batch).enumerate() {
            let offset = c * ws.max_batch;
            total += self.forward_loss_chunk(p, data, chunk, loss, weights, offset, ws);
            self.backward_loaded(p, chunk.len(), ws, g);
        }
        total
    }

    /// The gradient of a mean loss (1/B) Σₖ ℓₖ(oₖ) that is not one of [`Loss`]'s: `loss(i, o, d)`
    /// gets sample i's model output o, writes ∂ℓ/∂o into d and returns ℓ (a closure can keep
    /// sums for parameters outside the model, as the AUC loss's a, b, α). Writes the model
    /// gradient into `g` and returns the mean loss; one forward and one backward pass.
    #[allow(clippy::too_many_arguments)]
    pub fn custom_loss_grad(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        ws: &mut Workspace,
        g: &mut [f64],
        loss: &mut OutputLoss<'_>,
    ) -> f64 {
        if indices.is_empty() {
            g.fill(0.0);
            return 0.0;
        }
        let scale = 1.0 / indices.len() as f64;
        let inputs = crate::model::Inputs::samples(data, indices);
        let total = self.backward_inputs(p, inputs, ws, g, &mut |k, o, d| {
            let l = loss(indices[k], o, d);
            d.iter_mut().for_each(|x| *x *= scale);
            l
        });
        total * scale
    }

    /// Mean loss (1/B) Σᵢ ℓᵢ over the samples `indices` of `data` (0 for an empty batch).
    pub fn loss(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        ws: &mut Workspace,
    ) -> f64 {
        ws.check(self);
        self.check_params(p);
        if indices.is_empty() {
            return 0.0;
        }
        let out_l = self.n_layers() - 1;
        let no = self.n_outputs();
        let mut total = 0.0;
        for chunk in indices.chunks(ws.max_batch) {
            self.load_indices(data, chunk, ws);
            self.forward_loaded(p, chunk.len(), ws);
            for (k, &i) in chunk.iter().enumerate() {
                total += loss.value(&ws.z[out_l][k * no..(k + 1) * no], target_of(data, i));
            }
        }
        total / indices.len() as f64
    }

    /// Writes the gradient of the mean loss into `g` and returns the mean loss (forward pass and
    /// backpropagation: one GEMM per layer forward, two backward).
    pub fn loss_grad(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        ws: &mut Workspace,
        g: &mut [f64],
    ) -> f64 {
        if indices.is_empty() {
            g.fill(0.0);
            return 0.0;
        }
        let c = 1.0 / indices.len() as f64;
        self.weighted_pass(p, data, indices, loss, Weights::Uniform(c), ws, g)
    }

    /// Writes Σₖ wₖ ∇ℓₖ into `g` and returns Σₖ wₖ ℓₖ, where k runs over the batch `indices` and
    /// `weights[k]` belongs to `indices[k]`. Each sample's backward signal is scaled by wₖ, so it
    /// costs one gradient (one GEMM per layer for the weight gradient). With wₖ = 1/B this is
    /// [`Mlp::loss_grad`]; with wₖ = min(1, C/‖∇ℓₖ‖)/B it is the per-sample-clipped mean.
    #[allow(clippy::too_many_arguments)]
    pub fn weighted_grad(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        weights: &[f64],
        ws: &mut Workspace,
        g: &mut [f64],
    ) -> f64 {
        assert_eq!(weights.len(), indices.len(), "one weight per sample");
        self.weighted_pass(p, data, indices, loss, Weights::PerSample(weights), ws, g)
    }

    /// Writes ‖∇ℓₖ‖ (the gradient of sample k's own loss ℓₖ, NOT divided by the batch size) into
    /// `norms[k]` and returns the mean loss, without materialising per-sample gradients: a dense
    /// layer's per-sample weight gradient is the outer product δₖ aₖᵀ, whose squared Frobenius
    /// norm is ‖δₖ‖²‖aₖ‖², plus ‖δₖ‖² for the bias; the squares add over layers (Goodfellow 2015,
    /// "Efficient per-example gradient computations"). Costs one forward and one backward pass
    /// without the weight-gradient GEMMs.
    pub fn per_sample_grad_norms(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        ws: &mut Workspace,
        norms: &mut [f64],
    ) -> f64 {
        ws.check(self);
        self.check_params(p);
        assert_eq!(norms.len(), indices.len(), "one norm per sample");
        let mut total = 0.0;
        for (c, chunk) in indices.chunks(ws.max_batch).enumerate() {
            let b = chunk.len();
            total += self.forward_loss_chunk(p, data, chunk, loss, Weights::Uniform(1.0), 0, ws);
            ws.sq_norms[..b].fill(0.0);
            for l in (0..self.n_layers()).rev() {
                let lp = ws.layers[l];
                let (fi, fo) = (lp.fan_in, lp.fan_out);
                let bias = if lp.bias.is_some() { 1.0 } else { 0.0 };
                for k in 0..b {
                    let dk = sum_sq(&ws.d[l][k * fo..(k + 1) * fo]);
                    let ak = sum_sq(&ws.a[l][k * fi..(k + 1) * fi]);
                    ws.sq_norms[k] += dk * (ak + bias);
                }
                if l > 0 {
                    self.propagate_delta(p, b, l, ws);
                }
            }
            let out = &mut norms[c * ws.max_batch..c * ws.max_batch + b];
            out.iter_mut()
                .zip(&ws.sq_norms[..b])
                .for_each(|(n, s)| *n = s.sqrt());
        }
        if indices.is_empty() {
            0.0
        } else {
            total / indices.len() as f64
        }
    }

    /// Writes the exact Hessian-vector product ∇²f(p)·v of the mean loss into `out` and returns
    /// the mean loss, by Pearlmutter's R-operator (B. A. Pearlmutter, "Fast exact multiplication
    /// by the Hessian", Neural Computation 6(1), 1994), i.e. forward-over-reverse: R{·} is the
    /// directional derivative along v. Forward: R{z_l} = R{a_l} W_lᵀ + a_l V_lᵀ + v_b,l and
    /// R{a_{l+1}} = σ'(z_l) ⊙ R{z_l}; at the output R{δ} = ∇²ₒℓ · R{o} / B. Backward:
    /// R{∇W_l} = R{δ_l}ᵀ a_l + δ_lᵀ R{a_l}, R{∇b_l} = Σ R{δ_l} and
    /// R{δ_{l−1}} = (R{δ_l} W_l + δ_l V_l) ⊙ σ'(z_{l−1}) + (δ_l W_l) ⊙ σ''(z_{l−1}) ⊙ R{z_{l−1}}.
    /// Costs about three gradients.
    #[allow(clippy::too_many_arguments)]
    pub fn hvp(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        v: &[f64],
        ws: &mut Workspace,
        out: &mut [f64],
    ) -> f64 {
        ws.check(self);
        self.check_params(p);
        assert_eq!(v.len(), p.len(), "direction length");
        assert_eq!(out.len(), p.len(), "output length");
        out.fill(0.0);
        if indices.is_empty() {
            return 0.0;
        }
        let scale = 1.0 / indices.len() as f64;
        let n_layers = self.n_layers();
        let out_l = n_layers - 1;
        let no = self.n_outputs();
        let act = self.activation;
        let mut total = 0.0;
        for chunk in indices.chunks(ws.max_batch) {
            let b = chunk.len();
            total += self.forward_loss_chunk(p, data, chunk, loss, Weights::Uniform(scale), 0, ws);
            self.r_forward(p, v, b, ws);
            // R{δ} at the output: the loss curvature applied to R{o}
            for (k, &i) in chunk.iter().enumerate() {
                let r = k * no..(k + 1) * no;
                let rd = &mut ws.rd[out_l][r.clone()];
                loss.hvp(
                    &ws.z[out_l][r.clone()],
                    target_of(data, i),
                    &ws.rz[out_l][r],
                    rd,
                );
                rd.iter_mut().for_each(|x| *x *= scale);
            }
            // R-backward
            for l in (0..n_layers).rev() {
                let lp = ws.layers[l];
                let (fi, fo) = (lp.fan_in, lp.fan_out);
                let gw = &mut out[lp.weight..lp.weight + fi * fo];
                let (d, rd) = (&ws.d[l][..b * fo], &ws.rd[l][..b * fo]);
                gemm(
                    gw,
                    fo,
                    fi,
                    b,
                    1.0,
                    rd,
                    Trans::T,
                    &ws.a[l][..b * fi],
                    Trans::N,
                    1.0,
                );
                if l > 0 {
                    gemm(
                        gw,
                        fo,
                        fi,
                        b,
                        1.0,
                        d,
                        Trans::T,
                        &ws.ra[l][..b * fi],
                        Trans::N,
                        1.0,
                    );
                }
                if let Some(bo) = lp.bias {
                    add_column_sums(&mut out[bo..bo + fo], rd, fo);
                }
                if l == 0 {
                    continue;
                }
                let w = &p[lp.weight..lp.weight + fi * fo];
                let vw = &v[lp.weight..lp.weight + fi * fo];
                let (d_lo, d_hi) = ws.d.split_at_mut(l);
                let (rd_lo, rd_hi) = ws.rd.split_at_mut(l);
                let (d_up, rd_up) = (&d_hi[0][..b * fo], &rd_hi[0][..b * fo]);
                let (d_below, rd_below) = (&mut d_lo[l - 1][..b * fi], &mut rd_lo[l - 1][..b * fi]);
                // δ_l W_l (before the σ' factor), then R{δ_l} W_l + δ_l V_l
                gemm(d_below, b, fi, fo, 1.0, d_up, Trans::N, w, Trans::N, 0.0);
                gemm(rd_below, b, fi, fo, 1.0, rd_up, Trans::N, w, Trans::N, 0.0);
                gemm(rd_below, b, fi, fo, 1.0, d_up, Trans::N, vw, Trans::N, 1.0);
                let (z, rz) = (&ws.z[l - 1][..b * fi], &ws.rz[l - 1][..b * fi]);
                for j in 0..b * fi {
                    let s1 = act.d1(z[j]);
                    rd_below[j] = rd_below[j] * s1 + d_below[j] * act.d2(z[j]) * rz[j];
                    d_below[j] *= s1;
                }
            }
        }
        total
    }

    /// Forward-mode (R-operator) pass along the parameter direction `v` over the first `b` rows
    /// after [`Mlp::forward_loaded`]: R{z_l} = R{a_l} W_lᵀ + a_l V_lᵀ + v_b,l and
    /// R{a_{l+1}} = σ'(z_l) ⊙ R{z_l}; rz[L−1] is the output tangent J v.
    pub(crate) fn r_forward(&self, p: &[f64], v: &[f64], b: usize, ws: &mut Workspace) {
        let n_layers = self.n_layers();
        let act = self.activation;
        for l in 0..n_layers {
            let lp = ws.layers[l];
            let (fi, fo) = (lp.fan_in, lp.fan_out);
            let w = &p[lp.weight..lp.weight + fi * fo];
            let vw = &v[lp.weight..lp.weight + fi * fo];
            let rz = &mut ws.rz[l][..b * fo];
            gemm(
                rz,
                b,
                fo,
                fi,
                1.0,
                &ws.a[l][..b * fi],
                Trans::N,
                vw,
                Trans::T,
                0.0,
            );
            if l > 0 {
                gemm(
                    rz,
                    b,
                    fo,
                    fi,
                    1.0,
                    &ws.ra[l][..b * fi],
                    Trans::N,
                    w,
                    Trans::T,
                    1.0,
                );
            }
            if let Some(bo) = lp.bias {
                add_to_rows(rz, &v[bo..bo + fo]);
            }
            if l + 1 < n_layers {
                // a[l+1] = σ(z[l]) from the forward pass: σ' without a second tanh
                let (z, rz, ra) = (&ws.z[l][..b * fo], &ws.rz[l][..b * fo], &mut ws.ra[l + 1]);
                let a = &ws.a[l + 1][..b * fo];
                for (((ra, rz), z), a) in ra[..b * fo].iter_mut().zip(rz).zip(z).zip(a) {
                    *ra = act.d1_with_output(*z, *a) * rz;
                }
            }
        }
    }

    /// Writes the model outputs for the row-major inputs `inputs` (r × n_inputs) into `out`
    /// (r × n_outputs).
    pub fn predict(&self, p: &[f64], inputs: &[f64], ws: &mut Workspace, out: &mut [f64]) {
        ws.check(self);
        self.check_params(p);
        let (n0, no) = (self.n_inputs(), self.n_outputs());
        assert_eq!(inputs.len() % n0, 0, "inputs are rows of the input width");
        let rows = inputs.len() / n0;
        assert_eq!(out.len(), rows * no, "output buffer length");
        let out_l = self.n_layers() - 1;
        for (xc, oc) in inputs
            .chunks(ws.max_batch * n0)
            .zip(out.chunks_mut(ws.max_batch * no))
        {
            let b = xc.len() / n0;
            ws.a[0][..xc.len()].copy_from_slice(xc);
            self.forward_loaded(p, b, ws);
            oc.copy_from_slice(&ws.z[out_l][..b * no]);
        }
    }

    /// Writes the penultimate-layer features of the row-major inputs (r × n_inputs) into `out`
    /// (r × w, w = the last hidden width): the activations the output layer reads, i.e. the
    /// embedding that k-center coresets and embedding plots use. For a single-layer model they
    /// are the inputs themselves.
    pub fn penultimate(&self, p: &[f64], inputs: &[f64], ws: &mut Workspace, out: &mut [f64]) {
        ws.check(self);
        self.check_params(p);
        let n0 = self.n_inputs();
        let last = self.n_layers() - 1;
        let w = self.sizes[last];
        assert_eq!(inputs.len() % n0, 0, "inputs are rows of the input width");
        let rows = inputs.len() / n0;
        assert_eq!(out.len(), rows * w, "output buffer length");
        for (xc, oc) in inputs
            .chunks(ws.max_batch * n0)
            .zip(out.chunks_mut(ws.max_batch * w))
        {
            let b = xc.len() / n0;
            ws.a[0][..xc.len()].copy_from_slice(xc);
            self.forward_loaded(p, b, ws);
            oc.copy_from_slice(&ws.a[last][..b * w]);
        }
    }

    /// Writes the Jacobian ∂output/∂input of one sample `x` into `jac` (row-major
    /// n_outputs × n_inputs), by forward-mode propagation J ← W_l · diag(σ'(z_{l−1})) · J.
    pub fn input_jacobian(&self, p: &[f64], x: &[f64], ws: &mut Workspace, jac: &mut [f64]) {
        ws.check(self);
        self.check_params(p);
        let (n0, no) = (self.n_inputs(), self.n_outputs());
        assert_eq!(x.len(), n0, "input length");
        assert_eq!(jac.len(), no * n0, "Jacobian buffer length");
        ws.a[0][..n0].copy_from_slice(x);
        self.forward_loaded(p, 1, ws);
        let lp0 = ws.layers[0];
        let n1 = lp0.fan_out;
        ws.jac[0][..n1 * n0].copy_from_slice(&p[lp0.weight..lp0.weight + n1 * n0]);
        for l in 1..self.n_layers() {
            let lp = ws.layers[l];
            let (fi, fo) = (lp.fan_in, lp.fan_out);
            let [cur, next] = &mut ws.jac;
            for (r, row) in cur[..fi * n0].chunks_exact_mut(n0).enumerate() {
                let s = self.activation.d1(ws.z[l - 1][r]);
                row.iter_mut().for_each(|x| *x *= s);
            }
            let w = &p[lp.weight..lp.weight + fi * fo];
            gemm(
                &mut next[..fo * n0],
                fo,
                n0,
                fi,
                1.0,
                w,
                Trans::N,
                &cur[..fi * n0],
                Trans::N,
                0.0,
            );
            ws.jac.swap(0, 1);
        }
        jac.copy_from_slice(&ws.jac[0][..no * n0]);
    }

    /// Mean loss and accuracy (see [`Eval`]) over all of `data`, in chunks of the workspace size.
    pub fn evaluate(&self, p: &[f64], data: &Dataset, loss: Loss, ws: &mut Workspace) -> Eval {
        ws.check(self);
        self.check_params(p);
        let (n0, no) = (self.n_inputs(), self.n_outputs());
        assert_eq!(
            data.n_features, n0,
            "dataset width does not match the model"
        );
        let n = data.len();
        let out_l = self.n_layers() - 1;
        let scores = scores_classes(data, loss, no);
        let (mut total, mut correct) = (0.0, 0usize);
        let mut start = 0;
        while start < n {
            let b = (n - start).min(ws.max_batch);
            ws.a[0][..b * n0].copy_from_slice(&data.features[start * n0..(start + b) * n0]);
            self.forward_loaded(p, b, ws);
            for k in 0..b {
                let o = &ws.z[out_l][k * no..(k + 1) * no];
                let t = target_of(data, start + k);
                total += loss.value(o, t);
                if scores && predicted_class(o) == true_class(t) {
                    correct += 1;
                }
            }
            start += b;
        }
        let nf = n.max(1) as f64;
        Eval {
            loss: total / nf,
            accuracy: scores.then(|| correct as f64 / nf),
        }
    }
}

/// The predicted class: the argmax of the outputs, or `output > 0` for a single output.
pub fn predicted_class(o: &[f64]) -> usize {
    if o.len() == 1 {
        return usize::from(o[0] > 0.0);
    }
    let mut best = 0;
    for (j, x) in o.iter().enumerate() {
        if *x > o[best] {
            best = j;
        }
    }
    best
}

#[inline]
fn sum_sq(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum()
}

/// m[row, j] += v[j] for every row of a row-major matrix with `v.len()` columns (bias).
fn add_to_rows(m: &mut [f64], v: &[f64]) {
    for row in m.chunks_exact_mut(v.len()) {
        row.iter_mut().zip(v).for_each(|(x, b)| *x += b);
    }
}

/// g[j] += Σ_rows m[row, j] for a row-major matrix with `cols` columns.
fn add_column_sums(g: &mut [f64], m: &[f64], cols: usize) {
    for row in m.chunks_exact(cols) {
        g.iter_mut().zip(row).for_each(|(g, x)| *g += x);
    }
}
