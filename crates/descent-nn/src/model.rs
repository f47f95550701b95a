//! The [`Model`] trait: what the objective, federated clients, active learning and DP-SGD need
//! from a differentiable model, so that a new architecture plugs in without touching them.
//!
//! A model maps a row of `n_inputs` features to `n_outputs` outputs (logits for the losses of
//! [`Loss`]), with parameters in one flat vector described by [`Model::layout`]. It answers
//! through a [`Model::Workspace`] sized once ([`Model::workspace`]), so no evaluation allocates.
//!
//! Required: the shape (`layout`, `n_params`, `n_inputs`, `n_outputs`, `describe`,
//! `init_params`) and four derivative primitives:
//!
//! - [`Model::forward`]: the outputs oₖ of every sample;
//! - [`Model::backward`]: g = Σₖ Jₖᵀ dₖ for output cotangents dₖ that a closure writes from oₖ
//!   (Jₖ = ∂oₖ/∂p, the reverse-mode vector–Jacobian product);
//! - [`Model::tangent_backward`]: the same after a forward-mode pass that also gives Jₖ v, so
//!   dₖ may depend on it (the building block of Gauss–Newton products);
//! - [`Model::hvp`]: the exact Hessian-vector product of a mean loss (it needs the model's
//!   second derivatives, which the primitives above do not carry).
//!
//! Provided from them (and overridden by [`Mlp`] with its batched engine): mean loss, batch
//! gradient, weighted per-sample gradient sums, per-sample gradient norms (ghost clipping), the
//! per-sample gradients themselves as a B × P matrix (what BackPACK's `BatchGrad` gives), and
//! generalised Gauss–Newton / Fisher-vector products (curvlinops' `GGNLinearOperator`).
//!
//! Why generic and not `dyn`: the consumers ([`crate::Objective`], `descent_dist::Client`,
//! `descent_active::TrainedModel`) are generic over `M: Model` with `Mlp` as the default type, so
//! every call is monomorphised, the workspace is an associated type held by value, and the hot
//! path (one minibatch gradient per step) is exactly the engine's code with no dispatch.
//!
//! Conventions as in [`crate::engine`]: samples are rows, the batch objective is the MEAN of the
//! per-sample losses f = (1/B) Σₖ ℓₖ, and "per-sample gradient" means ∇ℓₖ (not divided by B).

use std::fmt;

use descent_core::Layout;
use descent_data::Dataset;
use rand::Rng;

use crate::engine::{Eval, predicted_class, target_of};
use crate::loss::{Loss, Target};
use crate::mlp::{Init, Mlp};

/// The rows a model is evaluated on: raw row-major inputs or samples of a dataset.
#[derive(Debug, Clone, Copy)]
pub enum Inputs<'a> {
    /// Row-major rows of `width` features each.
    Rows {
        /// The features, `len() × width`.
        x: &'a [f64],
        /// Features per row.
        width: usize,
    },
    /// The samples `indices` of `data`, in that order.
    Samples {
        /// The dataset.
        data: &'a Dataset,
        /// Which samples (position k of the batch is sample `indices[k]`).
        indices: &'a [usize],
    },
}

impl<'a> Inputs<'a> {
    /// Row-major rows of `width` features. Panics when `x.len()` is not a multiple of `width`
    /// (a programming error: shapes are validated where user input enters).
    pub fn rows(x: &'a [f64], width: usize) -> Self {
        assert!(
            width > 0 && x.len().is_multiple_of(width),
            "inputs are rows of the input width"
        );
        Inputs::Rows { x, width }
    }

    /// The samples `indices` of `data`.
    pub fn samples(data: &'a Dataset, indices: &'a [usize]) -> Self {
        Inputs::Samples { data, indices }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Inputs::Rows { x, width } => x.len() / width,
            Inputs::Samples { indices, .. } => indices.len(),
        }
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Features per row.
    pub fn width(&self) -> usize {
        match self {
            Inputs::Rows { width, .. } => *width,
            Inputs::Samples { data, .. } => data.n_features,
        }
    }

    /// Row `k`.
    #[inline]
    pub fn row(&self, k: usize) -> &'a [f64] {
        match *self {
            Inputs::Rows { x, width } => &x[k * width..(k + 1) * width],
            Inputs::Samples { data, indices } => data.row(indices[k]),
        }
    }
}

/// A per-sample visitor of model outputs: `(position k, output oₖ)`.
pub type Visit<'a> = dyn FnMut(usize, &[f64]) + 'a;

/// An output cotangent: `(position k, output oₖ, dₖ written here) -> value`. It must write every
/// entry of dₖ; [`Model::backward`] sums the returned values.
pub type Cotangent<'a> = dyn FnMut(usize, &[f64], &mut [f64]) -> f64 + 'a;

/// An output cotangent that also sees the tangent Jₖ v: `(k, oₖ, Jₖ v, dₖ) -> value`.
pub type TangentCotangent<'a> = dyn FnMut(usize, &[f64], &[f64], &mut [f64]) -> f64 + 'a;

/// A differentiable model with parameters in one flat vector (see the module docs).
///
/// Panics: like [`crate::engine`], implementations may assert that slice lengths match the
/// model (programming errors); user input is validated where it enters
/// ([`crate::Objective::new`], [`crate::check_compatible`]).
pub trait Model: Clone + fmt::Debug + Send + Sync + 'static {
    /// Scratch space sized once for batches of up to a given number of rows.
    type Workspace: Clone + fmt::Debug + Send + Sync;

    /// Scratch space for batches of up to `max_batch` rows (larger batches run in chunks).
    fn workspace(&self, max_batch: usize) -> Self::Workspace;

    /// Names, shapes and offsets of the parameter blocks (row-major).
    fn layout(&self) -> Layout;

    /// Number of parameters P.
    fn n_params(&self) -> usize;

    /// Input width.
    fn n_inputs(&self) -> usize;

    /// Output width.
    fn n_outputs(&self) -> usize;

    /// A short description for names and errors, e.g. `mlp:64-128-10(tanh)`.
    fn describe(&self) -> String;

    /// Draws initial parameters with `init` from `rng`.
    fn init_params(&self, init: Init, rng: &mut dyn Rng) -> Vec<f64>;

    /// Calls `visit(k, oₖ)` with the output of every row k of `inputs`.
    fn forward(&self, p: &[f64], inputs: Inputs<'_>, ws: &mut Self::Workspace, visit: &mut Visit);

    /// Writes g = Σₖ Jₖᵀ dₖ (Jₖ = ∂oₖ/∂p) into `g`, where `cot(k, oₖ, dₖ)` writes the cotangent
    /// dₖ of row k from its output; returns the sum of `cot`'s values. One forward and one
    /// reverse pass.
    fn backward(
        &self,
        p: &[f64],
        inputs: Inputs<'_>,
        ws: &mut Self::Workspace,
        g: &mut [f64],
        cot: &mut Cotangent,
    ) -> f64;

    /// Like [`Model::backward`], but `cot(k, oₖ, Jₖ v, dₖ)` also sees the forward-mode tangent
    /// Jₖ v of the output along the parameter direction `v`.
    #[allow(clippy::too_many_arguments)]
    fn tangent_backward(
        &self,
        p: &[f64],
        v: &[f64],
        inputs: Inputs<'_>,
        ws: &mut Self::Workspace,
        g: &mut [f64],
        cot: &mut TangentCotangent,
    ) -> f64;

    /// Writes the exact Hessian-vector product ∇²f(p)·v of the mean loss f = (1/B) Σₖ ℓₖ over
    /// the samples `indices` into `out`; returns f.
    #[allow(clippy::too_many_arguments)]
    fn hvp(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        v: &[f64],
        ws: &mut Self::Workspace,
        out: &mut [f64],
    ) -> f64;

    /// Model outputs (r × n_outputs) of row-major inputs (r × n_inputs).
    fn predict(&self, p: &[f64], inputs: &[f64], ws: &mut Self::Workspace, out: &mut [f64]) {
        let no = self.n_outputs();
        self.forward(p, Inputs::rows(inputs, self.n_inputs()), ws, &mut |k, o| {
            out[k * no..(k + 1) * no].copy_from_slice(o)
        });
    }

    /// Width of [`Model::embed`]'s features (the input width unless overridden).
    fn embedding_width(&self) -> usize {
        self.n_inputs()
    }

    /// The features the output layer reads, for row-major inputs (r × n_inputs) into `out`
    /// (r × [`Model::embedding_width`]): the embedding of k-center coresets. The provided body
    /// returns the inputs themselves (right for a model whose only layer is the output layer).
    fn embed(&self, _p: &[f64], inputs: &[f64], _ws: &mut Self::Workspace, out: &mut [f64]) {
        out.copy_from_slice(inputs);
    }

    /// Mean loss (1/B) Σₖ ℓₖ over the samples `indices` (0 for an empty batch).
    fn loss(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        ws: &mut Self::Workspace,
    ) -> f64 {
        if indices.is_empty() {
            return 0.0;
        }
        let mut total = 0.0;
        self.forward(p, Inputs::samples(data, indices), ws, &mut |k, o| {
            total += loss.value(o, target_of(data, indices[k]));
        });
        total / indices.len() as f64
    }

    /// Writes Σₖ wₖ ∇ℓₖ into `g` and returns Σₖ wₖ ℓₖ (`weights[k]` belongs to `indices[k]`):
    /// with wₖ = 1/B the batch gradient, with wₖ = min(1, C/‖∇ℓₖ‖)/B the per-sample-clipped
    /// mean. One backward pass.
    #[allow(clippy::too_many_arguments)]
    fn weighted_grad(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        weights: &[f64],
        ws: &mut Self::Workspace,
        g: &mut [f64],
    ) -> f64 {
        assert_eq!(weights.len(), indices.len(), "one weight per sample");
        weighted_backward(self, p, data, indices, loss, |k| weights[k], ws, g)
    }

    /// Writes the gradient of the mean loss into `g` and returns the mean loss.
    fn loss_grad(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        ws: &mut Self::Workspace,
        g: &mut [f64],
    ) -> f64 {
        if indices.is_empty() {
            g.fill(0.0);
            return 0.0;
        }
        let c = 1.0 / indices.len() as f64;
        weighted_backward(self, p, data, indices, loss, |_| c, ws, g)
    }

    /// Writes the per-sample gradients ∇ℓₖ (not divided by B) as the rows of the row-major
    /// B × P matrix `out` and returns the mean loss: what BackPACK's `BatchGrad` (times B) and
    /// Opacus' `grad_sample` hold. The provided body runs one backward pass per sample.
    fn per_sample_gradients(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        ws: &mut Self::Workspace,
        out: &mut [f64],
    ) -> f64 {
        let np = self.n_params();
        assert_eq!(out.len(), indices.len() * np, "output is B × P");
        let mut total = 0.0;
        for (k, row) in out.chunks_exact_mut(np).enumerate() {
            let one = &indices[k..k + 1];
            total += self.backward(p, Inputs::samples(data, one), ws, row, &mut |_, o, d| {
                loss.value_grad(o, target_of(data, one[0]), d)
            });
        }
        if indices.is_empty() {
            0.0
        } else {
            total / indices.len() as f64
        }
    }

    /// Writes ‖∇ℓₖ‖ into `norms[k]` and returns the mean loss. The provided body materialises
    /// each gradient in turn (one backward pass per sample, and it allocates one P-vector per
    /// call); models with structure override it ([`Mlp`]'s ghost norms need no per-sample
    /// gradient at all).
    fn per_sample_grad_norms(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        ws: &mut Self::Workspace,
        norms: &mut [f64],
    ) -> f64 {
        assert_eq!(norms.len(), indices.len(), "one norm per sample");
        let mut g = vec![0.0; self.n_params()];
        let mut total = 0.0;
        for (k, &i) in indices.iter().enumerate() {
            let one = [i];
            total += self.backward(
                p,
                Inputs::samples(data, &one),
                ws,
                &mut g,
                &mut |_, o, d| loss.value_grad(o, target_of(data, i), d),
            );
            norms[k] = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        }
        if indices.is_empty() {
            0.0
        } else {
            total / indices.len() as f64
        }
    }

    /// Writes the generalised Gauss–Newton product G·v = (1/B) Σₖ Jₖᵀ Hₖ Jₖ v into `out`
    /// (Hₖ = ∇²ₒℓₖ, the loss curvature in the output; Schraudolph 2002, "Fast curvature
    /// matrix-vector products for second-order gradient descent") and returns the mean loss.
    /// G is positive semi-definite for the convex losses of [`Loss`]; it drops the term
    /// Σₖ Σⱼ (∂ℓₖ/∂oₖⱼ) ∇²oₖⱼ of the Hessian, so G = ∇²f exactly when the outputs are linear in
    /// the parameters (softmax/logistic/linear regression). For these losses, all canonical
    /// exponential-family likelihoods in their natural parameter (softmax cross-entropy:
    /// H = diag(π) − ππᵀ; logistic: σ(1−σ); MSE: I), Hₖ is also the Fisher information of the
    /// model's predictive distribution in oₖ, so G·v is the Fisher-vector product
    /// (Martens 2020, "New insights and perspectives on the natural gradient method", §9.2).
    /// One forward pass with its tangent and one backward pass (about two gradients).
    #[allow(clippy::too_many_arguments)]
    fn ggn_vector(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        v: &[f64],
        ws: &mut Self::Workspace,
        out: &mut [f64],
    ) -> f64 {
        if indices.is_empty() {
            out.fill(0.0);
            return 0.0;
        }
        let c = 1.0 / indices.len() as f64;
        let total = self.tangent_backward(
            p,
            v,
            Inputs::samples(data, indices),
            ws,
            out,
            &mut |k, o, jv, d| {
                let t = target_of(data, indices[k]);
                loss.hvp(o, t, jv, d);
                d.iter_mut().for_each(|x| *x *= c);
                loss.value(o, t)
            },
        );
        total * c
    }

    /// Mean loss and accuracy (see [`Eval`]) over all of `data`.
    fn evaluate(&self, p: &[f64], data: &Dataset, loss: Loss, ws: &mut Self::Workspace) -> Eval {
        let scores = scores_classes(data, loss, self.n_outputs());
        let (mut total, mut correct) = (0.0, 0usize);
        self.forward(
            p,
            Inputs::rows(&data.features, data.n_features),
            ws,
            &mut |k, o| {
                let t = target_of(data, k);
                total += loss.value(o, t);
                if scores && predicted_class(o) == true_class(t) {
                    correct += 1;
                }
            },
        );
        let nf = data.len().max(1) as f64;
        Eval {
            loss: total / nf,
            accuracy: scores.then(|| correct as f64 / nf),
        }
    }
}

/// Σₖ wₖ ∇ℓₖ into `g` and Σₖ wₖ ℓₖ by one backward pass with the cotangents wₖ ∇ₒℓₖ.
#[allow(clippy::too_many_arguments)]
fn weighted_backward<M: Model>(
    model: &M,
    p: &[f64],
    data: &Dataset,
    indices: &[usize],
    loss: Loss,
    weight: impl Fn(usize) -> f64,
    ws: &mut M::Workspace,
    g: &mut [f64],
) -> f64 {
    model.backward(p, Inputs::samples(data, indices), ws, g, &mut |k, o, d| {
        let l = loss.value_grad(o, target_of(data, indices[k]), d);
        let w = weight(k);
        d.iter_mut().for_each(|x| *x *= w);
        w * l
    })
}

/// Whether [`Eval::accuracy`] is defined: class targets, or one real target in [0, 1] under the
/// logistic loss with one output.
pub(crate) fn scores_classes(data: &Dataset, loss: Loss, n_outputs: usize) -> bool {
    match &data.targets {
        descent_data::Targets::Classes { .. } => true,
        descent_data::Targets::Real { dim, .. } => {
            loss == Loss::Logistic && *dim == 1 && n_outputs == 1
        }
    }
}

/// The class a target stands for (a real target in [0, 1] is class `y > ½`).
pub(crate) fn true_class(t: Target<'_>) -> usize {
    match t {
        Target::Class(c) => c,
        Target::Real(y) => usize::from(y[0] > 0.5),
    }
}

/// `Mlp`'s implementation delegates every method to the batched engine of [`crate::engine`].
impl Model for Mlp {
    type Workspace = crate::engine::Workspace;

    fn workspace(&self, max_batch: usize) -> Self::Workspace {
        crate::engine::Workspace::new(self, max_batch)
    }
    fn layout(&self) -> Layout {
        Mlp::layout(self)
    }
    fn n_params(&self) -> usize {
        Mlp::n_params(self)
    }
    fn n_inputs(&self) -> usize {
        Mlp::n_inputs(self)
    }
    fn n_outputs(&self) -> usize {
        Mlp::n_outputs(self)
    }
    fn describe(&self) -> String {
        Mlp::describe(self)
    }
    fn init_params(&self, init: Init, rng: &mut dyn Rng) -> Vec<f64> {
        Mlp::init_params(self, init, rng)
    }
    fn forward(&self, p: &[f64], inputs: Inputs<'_>, ws: &mut Self::Workspace, visit: &mut Visit) {
        Mlp::forward_inputs(self, p, inputs, ws, visit);
    }
    fn backward(
        &self,
        p: &[f64],
        inputs: Inputs<'_>,
        ws: &mut Self::Workspace,
        g: &mut [f64],
        cot: &mut Cotangent,
    ) -> f64 {
        Mlp::backward_inputs(self, p, inputs, ws, g, cot)
    }
    fn tangent_backward(
        &self,
        p: &[f64],
        v: &[f64],
        inputs: Inputs<'_>,
        ws: &mut Self::Workspace,
        g: &mut [f64],
        cot: &mut TangentCotangent,
    ) -> f64 {
        Mlp::tangent_backward_inputs(self, p, v, inputs, ws, g, cot)
    }
    fn hvp(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        v: &[f64],
        ws: &mut Self::Workspace,
        out: &mut [f64],
    ) -> f64 {
        Mlp::hvp(self, p, data, indices, loss, v, ws, out)
    }
    fn predict(&self, p: &[f64], inputs: &[f64], ws: &mut Self::Workspace, out: &mut [f64]) {
        Mlp::predict(self, p, inputs, ws, out);
    }
    fn embedding_width(&self) -> usize {
        self.sizes()[self.n_layers() - 1]
    }
    fn embed(&self, p: &[f64], inputs: &[f64], ws: &mut Self::Workspace, out: &mut [f64]) {
        Mlp::penultimate(self, p, inputs, ws, out);
    }
    fn loss(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        ws: &mut Self::Workspace,
    ) -> f64 {
        Mlp::loss(self, p, data, indices, loss, ws)
    }
    fn weighted_grad(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        weights: &[f64],
        ws: &mut Self::Workspace,
        g: &mut [f64],
    ) -> f64 {
        Mlp::weighted_grad(self, p, data, indices, loss, weights, ws, g)
    }
    fn loss_grad(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        ws: &mut Self::Workspace,
        g: &mut [f64],
    ) -> f64 {
        Mlp::loss_grad(self, p, data, indices, loss, ws, g)
    }
    fn per_sample_gradients(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        ws: &mut Self::Workspace,
        out: &mut [f64],
    ) -> f64 {
        Mlp::per_sample_gradients(self, p, data, indices, loss, ws, out)
    }
    fn per_sample_grad_norms(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        ws: &mut Self::Workspace,
        norms: &mut [f64],
    ) -> f64 {
        Mlp::per_sample_grad_norms(self, p, data, indices, loss, ws, norms)
    }
    fn evaluate(&self, p: &[f64], data: &Dataset, loss: Loss, ws: &mut Self::Workspace) -> Eval {
        Mlp::evaluate(self, p, data, loss, ws)
    }
}
