//! [`Objective`]: a model, a dataset, a loss and a batch size bound into a problem that answers
//! descent-core's oracles (value, gradient, per-sample gradients, Hessian-vector products).

use std::sync::Arc;

use descent_core::{
    Error, Function, Gradient, HessianVector, Layout, PerSampleGradients, Problem, Result,
    RngStreams, Stochastic,
};
use descent_data::{BatchSampler, Dataset, SamplingMode, Stream, Targets};

use crate::engine::Eval;
use crate::loss::Loss;
use crate::mlp::{Init, Mlp};
use crate::model::Model;

/// The output width a model needs to fit `data` under `loss`: the number of classes
/// (softmax-ce, and mse on one-hot labels), the target dimension (mse), or 1 (logistic, which
/// needs 2 classes or a single real target in [0, 1]). Errors name the loss and the dataset.
pub fn output_width(loss: Loss, data: &Dataset) -> Result<usize> {
    let name = &data.name;
    match (loss, &data.targets) {
        (Loss::SoftmaxCe, Targets::Classes { n_classes, .. }) => Ok(*n_classes),
        (Loss::SoftmaxCe, Targets::Real { dim, .. }) => Err(Error::invalid(
            "loss",
            "softmax-ce",
            format!(
                "a dataset with class labels ('{name}' has real targets of dimension {dim}; use mse)"
            ),
        )),
        (Loss::Mse, Targets::Classes { n_classes, .. }) => Ok(*n_classes),
        (Loss::Mse, Targets::Real { dim, .. }) => Ok(*dim),
        (Loss::Logistic, Targets::Classes { n_classes, .. }) => {
            if *n_classes == 2 {
                Ok(1)
            } else {
                Err(Error::invalid(
                    "loss",
                    "logistic",
                    format!("2 classes ('{name}' has {n_classes}; use softmax-ce)"),
                ))
            }
        }
        (Loss::Logistic, Targets::Real { values, dim }) => {
            if *dim != 1 {
                return Err(Error::invalid(
                    "loss",
                    "logistic",
                    format!(
                        "a single real target in [0, 1] ('{name}' has targets of dimension {dim})"
                    ),
                ));
            }
            if let Some((i, y)) = values
                .iter()
                .enumerate()
                .find(|(_, y)| !(0.0..=1.0).contains(*y))
            {
                return Err(Error::invalid(
                    format!("target of sample {i} of '{name}' for the logistic loss"),
                    y,
                    "a value in [0, 1]",
                ));
            }
            Ok(1)
        }
    }
}

/// Checks that `model` fits `data` under `loss`: input width = number of features, output width
/// = [`output_width`]. Errors name what mismatched, the expected and the given size.
pub fn check_compatible<M: Model>(model: &M, loss: Loss, data: &Dataset) -> Result<()> {
    if data.is_empty() {
        return Err(Error::invalid(
            format!("dataset '{}'", data.name),
            "0 samples",
            "at least one sample",
        ));
    }
    if model.n_inputs() != data.n_features {
        return Err(Error::shape(
            format!(
                "input width of {} for dataset '{}' (its number of features)",
                model.describe(),
                data.name
            ),
            data.n_features,
            model.n_inputs(),
        ));
    }
    let width = output_width(loss, data)?;
    if model.n_outputs() != width {
        return Err(Error::shape(
            format!(
                "output width of {} for {loss} on dataset '{}'",
                model.describe(),
                data.name
            ),
            width,
            model.n_outputs(),
        ));
    }
    Ok(())
}

/// A model, a dataset, a loss and a batch size as a descent problem: f(x) is the mean loss over
/// the current minibatch. The minibatch is drawn by a [`BatchSampler`] from the run's `"batches"`
/// stream and stays fixed until [`Stochastic::resample`]. Before the first resample the problem
/// shows the batch that the first resample will draw, so `batches_per_epoch()` steps of an
/// optimizer that resamples once per step are exactly one pass over the data.
/// With a batch size ≥ n the batch is the whole dataset in order and resampling is a no-op
/// (deterministic full-batch mode).
///
/// With [`Objective::streaming`] the data is an endless [`Stream`] from a generator instead:
/// every resample draws a fresh batch (online learning, P1).
///
/// Offers Function, Gradient, Stochastic, PerSampleGradients and HessianVector, and beyond the
/// oracles the per-sample gradients themselves ([`Objective::per_sample_gradients`]) and
/// Gauss–Newton products ([`Objective::ggn_vector`]). Per-sample gradients are those of each
/// sample's own loss ℓᵢ, so f = (1/B) Σᵢ ℓᵢ.
///
/// Any [`Model`] binds (the default is [`Mlp`]): the objective is generic, so every evaluation
/// calls the model's own code with its workspace held by value (no dispatch, no allocation).
#[derive(Debug, Clone)]
pub struct Objective<M: Model = Mlp> {
    model: M,
    layout: Layout,
    data: Arc<Dataset>,
    /// In streaming mode the batches come from here and `data` is unused.
    stream: Option<Stream>,
    loss: Loss,
    sampler: Option<BatchSampler>,
    batch: Vec<usize>,
    /// Scratch: the data indices of a subset of the batch (subset evaluations).
    subset: Vec<usize>,
    ws: M::Workspace,
    name: String,
}

impl<M: Model> Objective<M> {
    /// Binds the parts with shuffled-epoch sampling (every sample once per epoch).
    pub fn new(
        model: M,
        data: Arc<Dataset>,
        loss: Loss,
        batch_size: usize,
        streams: &RngStreams,
    ) -> Result<Objective<M>> {
        Objective::with_sampling(
            model,
            data,
            loss,
            batch_size,
            SamplingMode::ShuffledEpochs,
            streams,
        )
    }

    /// Binds the parts with the given sampling mode. Errors when the shapes do not fit
    /// ([`check_compatible`]) or the batch size is 0.
    pub fn with_sampling(
        model: M,
        data: Arc<Dataset>,
        loss: Loss,
        batch_size: usize,
        mode: SamplingMode,
        streams: &RngStreams,
    ) -> Result<Objective<M>> {
        check_compatible(&model, loss, &data)?;
        if batch_size == 0 {
            return Err(Error::invalid("batch_size", 0, "an integer >= 1"));
        }
        let n = data.len();
        let sampler = if batch_size >= n {
            None
        } else {
            Some(BatchSampler::new(
                n,
                batch_size,
                mode,
                streams.stream("batches"),
            )?)
        };
        let batch = if sampler.is_some() {
            Vec::with_capacity(batch_size)
        } else {
            (0..n).collect()
        };
        let name = format!("{} + {loss} on {}", model.describe(), data.name);
        let mut obj = Objective {
            layout: model.layout(),
            ws: model.workspace(batch_size.min(n)),
            model,
            data,
            stream: None,
            loss,
            sampler,
            batch,
            subset: Vec::new(),
            name,
        };
        // Show the batch the first resample will draw (a peek on a copy of the sampler), so the
        // problem can be evaluated at once and an optimizer that resamples at the start of every
        // step still sees batch 1 of epoch 1 at step 1: epochs stay aligned with steps.
        if let Some(s) = &obj.sampler {
            obj.batch.extend_from_slice(s.clone().next_batch());
        }
        Ok(obj)
    }

    /// Binds a model to an endless stream of fresh batches (one generator draw of the stream's
    /// batch size per [`Stochastic::resample`]); shapes are checked against the stream's batch.
    pub fn streaming(model: M, stream: Stream, loss: Loss) -> Result<Objective<M>> {
        let first = stream.batch();
        check_compatible(&model, loss, first)?;
        let b = first.len();
        let name = format!(
            "{} + {loss} on a stream of {}",
            model.describe(),
            stream.generator().name()
        );
        Ok(Objective {
            layout: model.layout(),
            ws: model.workspace(b),
            model,
            data: Arc::new(first.subset(&[])),
            stream: Some(stream),
            loss,
            sampler: None,
            batch: (0..b).collect(),
            subset: Vec::new(),
            name,
        })
    }

    /// The stream, in streaming mode.
    pub fn stream(&self) -> Option<&Stream> {
        self.stream.as_ref()
    }

    /// The data the current minibatch indexes into: the training set, or the stream's batch.
    pub fn current_data(&self) -> &Dataset {
        self.stream.as_ref().map_or(&*self.data, Stream::batch)
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The loss.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// The training data (an empty dataset of the stream's shape in streaming mode).
    pub fn data(&self) -> &Arc<Dataset> {
        &self.data
    }

    /// The sample indices of the current minibatch.
    pub fn batch(&self) -> &[usize] {
        &self.batch
    }

    /// Minibatches per pass over the data: ⌈n / B⌉ (1 in full-batch mode).
    pub fn batches_per_epoch(&self) -> usize {
        self.sampler
            .as_ref()
            .map_or(1, BatchSampler::batches_per_epoch)
    }

    /// True when every evaluation sees the whole dataset.
    pub fn is_full_batch(&self) -> bool {
        self.sampler.is_none() && self.stream.is_none()
    }

    /// Epochs started by the sampler (1 after construction; 1 in full-batch mode).
    pub fn epoch(&self) -> usize {
        self.sampler.as_ref().map_or(1, BatchSampler::epoch)
    }

    /// Initial parameters from the `"init"` stream of `streams`.
    pub fn init_params(&self, init: Init, streams: &RngStreams) -> Vec<f64> {
        self.model.init_params(init, &mut streams.stream("init"))
    }

    /// Mean loss and accuracy of `params` over all of `data` (e.g. a test split), evaluated in
    /// chunks of the workspace size. Errors when `data` or `params` does not fit the model.
    pub fn evaluate(&mut self, params: &[f64], data: &Dataset) -> Result<Eval> {
        self.layout.check_len("parameters", params.len())?;
        check_compatible(&self.model, self.loss, data)?;
        Ok(self.model.evaluate(params, data, self.loss, &mut self.ws))
    }

    /// Model outputs (r × n_outputs) for row-major inputs (r × n_inputs).
    pub fn predict(&mut self, params: &[f64], inputs: &[f64]) -> Result<Vec<f64>> {
        self.layout.check_len("parameters", params.len())?;
        let n0 = self.model.n_inputs();
        if !inputs.len().is_multiple_of(n0) {
            return Err(Error::shape(
                "predict inputs",
                format!("a multiple of the input width {n0}"),
                inputs.len(),
            ));
        }
        let mut out = vec![0.0; inputs.len() / n0 * self.model.n_outputs()];
        self.model.predict(params, inputs, &mut self.ws, &mut out);
        Ok(out)
    }

    /// Writes the per-sample gradients ∇ℓᵢ of the current minibatch as the rows of the
    /// row-major B × P matrix `out` (B = [`Objective::batch`]'s length, P = the parameter count)
    /// and returns the mean loss: BackPACK's `BatchGrad` (times B) or Opacus' `grad_sample`.
    /// The mean of the rows is the batch gradient. Errors when a length does not fit.
    pub fn per_sample_gradients(&mut self, params: &[f64], out: &mut [f64]) -> Result<f64> {
        self.layout.check_len("parameters", params.len())?;
        let want = self.batch.len() * self.layout.len();
        if out.len() != want {
            return Err(Error::shape(
                "per-sample gradient matrix (B × P)",
                want,
                out.len(),
            ));
        }
        let data = self.stream.as_ref().map_or(&*self.data, Stream::batch);
        Ok(self
            .model
            .per_sample_gradients(params, data, &self.batch, self.loss, &mut self.ws, out))
    }

    /// Writes the generalised Gauss–Newton product G·v of the minibatch's mean loss into `out`
    /// (for these losses also the Fisher-vector product; see [`Model::ggn_vector`]) and returns
    /// the mean loss. Errors when a length does not fit.
    pub fn ggn_vector(&mut self, params: &[f64], v: &[f64], out: &mut [f64]) -> Result<f64> {
        self.layout.check_len("parameters", params.len())?;
        self.layout.check_len("direction", v.len())?;
        self.layout.check_len("output", out.len())?;
        let data = self.stream.as_ref().map_or(&*self.data, Stream::batch);
        Ok(self
            .model
            .ggn_vector(params, data, &self.batch, self.loss, v, &mut self.ws, out))
    }
}

impl Objective<Mlp> {
    /// The Jacobian ∂output/∂input (row-major n_outputs × n_inputs) at one input `x`.
    pub fn input_jacobian(&mut self, params: &[f64], x: &[f64]) -> Result<Vec<f64>> {
        self.layout.check_len("parameters", params.len())?;
        if x.len() != self.model.n_inputs() {
            return Err(Error::shape(
                "input_jacobian input",
                self.model.n_inputs(),
                x.len(),
            ));
        }
        let mut jac = vec![0.0; self.model.n_outputs() * x.len()];
        self.model.input_jacobian(params, x, &mut self.ws, &mut jac);
        Ok(jac)
    }
}

impl<M: Model> Function for Objective<M> {
    fn dim(&self) -> usize {
        self.layout.len()
    }

    fn value(&mut self, x: &[f64]) -> f64 {
        let data = self.stream.as_ref().map_or(&*self.data, Stream::batch);
        self.model
            .loss(x, data, &self.batch, self.loss, &mut self.ws)
    }
}

impl<M: Model> Gradient for Objective<M> {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let data = self.stream.as_ref().map_or(&*self.data, Stream::batch);
        self.model
            .loss_grad(x, data, &self.batch, self.loss, &mut self.ws, g)
    }
}

impl<M: Model> Stochastic for Objective<M> {
    fn resample(&mut self) {
        if let Some(s) = &mut self.stream {
            s.resample();
        }
        if let Some(s) = &mut self.sampler {
            self.batch.clear();
            self.batch.extend_from_slice(s.next_batch());
        }
    }
}

impl<M: Model> PerSampleGradients for Objective<M> {
    fn batch_len(&mut self) -> usize {
        self.batch.len()
    }

    fn per_sample_grad_norms(&mut self, x: &[f64], norms: &mut [f64]) {
        let data = self.stream.as_ref().map_or(&*self.data, Stream::batch);
        self.model
            .per_sample_grad_norms(x, data, &self.batch, self.loss, &mut self.ws, norms);
    }

    fn weighted_grad(&mut self, x: &[f64], weights: &[f64], g: &mut [f64]) -> f64 {
        let data = self.stream.as_ref().map_or(&*self.data, Stream::batch);
        self.model
            .weighted_grad(x, data, &self.batch, self.loss, weights, &mut self.ws, g)
    }

    /// Evaluates only the samples at `positions` (cost ∝ their number, not the batch's).
    fn subset_grad_norms(&mut self, x: &[f64], positions: &[usize], norms: &mut [f64]) {
        self.gather(positions);
        let data = self.stream.as_ref().map_or(&*self.data, Stream::batch);
        self.model
            .per_sample_grad_norms(x, data, &self.subset, self.loss, &mut self.ws, norms);
    }

    /// Evaluates only the samples at `positions` (cost ∝ their number, not the batch's).
    fn subset_weighted_grad(
        &mut self,
        x: &[f64],
        positions: &[usize],
        weights: &[f64],
        g: &mut [f64],
    ) -> f64 {
        self.gather(positions);
        let data = self.stream.as_ref().map_or(&*self.data, Stream::batch);
        self.model
            .weighted_grad(x, data, &self.subset, self.loss, weights, &mut self.ws, g)
    }
}

impl<M: Model> Objective<M> {
    /// The data indices of the batch positions `positions` into the scratch list.
    fn gather(&mut self, positions: &[usize]) {
        self.subset.clear();
        self.subset.extend(positions.iter().map(|&p| self.batch[p]));
    }
}

impl<M: Model> HessianVector for Objective<M> {
    fn hvp(&mut self, x: &[f64], v: &[f64], out: &mut [f64]) {
        let data = self.stream.as_ref().map_or(&*self.data, Stream::batch);
        self.model
            .hvp(x, data, &self.batch, self.loss, v, &mut self.ws, out);
    }
}

impl<M: Model> Problem for Objective<M> {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn layout(&self) -> &Layout {
        &self.layout
    }

    descent_core::problem_views!(function, gradient, stochastic, per_sample, hvp);
}
