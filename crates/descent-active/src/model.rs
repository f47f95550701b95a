//! The recipe every round's fresh models are trained with, and a trained model's outputs.
//!
//! P2 §2.2 trains every model from a fresh initialisation in every round (pitfall 6): a
//! [`Recipe`] is a model spec, an optimizer spec, epochs and a batch size, and
//! [`Recipe::fit`] is a pure function of the data and a seed (initialisation from its
//! `"init"` stream, minibatch order from its `"batches"` stream), so no state carries over
//! between rounds and two fits with one seed start from the same weights and see the same
//! batches (the shared-init ablation, pitfall 7).

use std::sync::Arc;

use descent_core::{Error, Problem, Result, RngStreams, Spec};
use descent_data::Dataset;
use descent_nn::{Loss, Mlp, Model, ModelSpec, Objective, build_model};
use descent_optim::{Outcome, RunOptions, build_optimizer, no_observer, run_with};
use serde::{Deserialize, Serialize};

use crate::scores::softmax_rows;

/// How every model of the loop is trained: the spec's §5.2 defaults are a d-64-out ReLU MLP
/// (W1 ~ N(0, 2/d), W2 ~ N(0, 1/64)), 60 epochs of batches of 32, SGD with lr 0.05, heavy-ball
/// momentum 0.9 and L2 5e-4 added to the gradient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Recipe {
    /// Model spec with hidden widths only (input and output widths come from the data), e.g.
    /// `mlp(hidden=[64], act=relu, out_init=lecun)`.
    pub model: String,
    /// Optimizer spec of the SGD models (A and C); SAMOSA's model B runs
    /// `sam(rho=ρ, base=<this>)`.
    pub optimizer: String,
    /// Passes over the training set.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
}

impl Default for Recipe {
    fn default() -> Self {
        Recipe {
            model: "mlp(hidden=[64], act=relu, out_init=lecun)".into(),
            optimizer: "sgd(lr=0.05, momentum=0.9, weight_decay=5e-4)".into(),
            epochs: 60,
            batch_size: 32,
        }
    }
}

impl Recipe {
    /// Checks the specs and sizes before any training: errors name the field.
    ///
    /// # Errors
    ///
    /// Zero epochs or batch size, or a model or optimizer spec that does not build, naming the field.
    pub fn validate(&self, n_features: usize) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::invalid("recipe.epochs", 0, "an integer >= 1"));
        }
        if self.batch_size == 0 {
            return Err(Error::invalid("recipe.batch_size", 0, "an integer >= 1"));
        }
        self.model_spec(n_features, 2)?;
        build_optimizer(&Spec::parse(&self.optimizer)?)?;
        Ok(())
    }

    /// The model for `n_features` inputs and `n_outputs` outputs.
    ///
    /// # Errors
    ///
    /// A model spec that does not parse or build for these sizes.
    pub fn model_spec(&self, n_features: usize, n_outputs: usize) -> Result<ModelSpec> {
        build_model(&Spec::parse(&self.model)?, n_features, n_outputs)
    }

    /// Trains a fresh model on `data` (class labels; as many outputs as classes) with the
    /// recipe's optimizer, from the initialisation and batch order of `seed`.
    ///
    /// # Errors
    ///
    /// As [`Recipe::fit_with`].
    pub fn fit(&self, data: Arc<Dataset>, seed: u64) -> Result<TrainedModel> {
        self.fit_with(data, &self.optimizer, seed)
    }

    /// [`Recipe::fit`] with another optimizer spec (SAMOSA's SAM model). A run that diverges
    /// is an error naming the optimizer, the step and the last finite loss.
    ///
    /// # Errors
    ///
    /// A model or optimizer spec that does not build, data without class labels, or a diverged run (naming the optimizer, the step and the last finite loss).
    pub fn fit_with(&self, data: Arc<Dataset>, optimizer: &str, seed: u64) -> Result<TrainedModel> {
        let spec = self.model_spec(data.n_features, data.n_outputs())?;
        let params = spec.init_params(&mut RngStreams::new(seed).stream("init"));
        self.fit_from(spec.mlp, params, data, optimizer, seed)
    }

    /// Trains any [`Model`] from the initial parameters `params` with the recipe's epochs and
    /// batch size, the optimizer spec `optimizer` and the batch order of `seed`'s `"batches"`
    /// stream: the part of [`Recipe::fit_with`] after the model is built, for a model that is
    /// not an MLP from the recipe's spec. Errors: shapes that do not fit, a bad optimizer spec,
    /// divergence (naming the optimizer, the step and the last finite loss).
    pub fn fit_from<M: Model>(
        &self,
        model: M,
        mut params: Vec<f64>,
        data: Arc<Dataset>,
        optimizer: &str,
        seed: u64,
    ) -> Result<TrainedModel<M>> {
        let streams = RngStreams::new(seed);
        let mut objective = Objective::new(
            model.clone(),
            data,
            Loss::SoftmaxCe,
            self.batch_size,
            &streams,
        )?;
        objective
            .layout()
            .check_len("initial parameters", params.len())?;
        let mut opt = build_optimizer(&Spec::parse(optimizer)?)?;
        opt.init(objective.layout(), &streams)?;
        let steps = (self.epochs * objective.batches_per_epoch()) as u64;
        let options = RunOptions::steps(steps).without_final_evaluation();
        let end = run_with(
            opt.as_mut(),
            &mut params,
            &mut objective,
            options,
            no_observer,
        )?;
        if let Outcome::Diverged {
            step,
            last_finite_loss,
        } = end.outcome
        {
            return Err(Error::Diverged {
                method: optimizer.to_string(),
                step,
                last_finite_loss,
            });
        }
        Ok(TrainedModel { model, params })
    }
}

/// A trained model (an [`Mlp`] unless trained by [`Recipe::fit_from`]): the model and its
/// parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedModel<M: Model = Mlp> {
    /// The model (an MLP: its shape and activations).
    pub model: M,
    /// Its trained parameters.
    pub params: Vec<f64>,
}

impl<M: Model> TrainedModel<M> {
    /// Number of outputs (classes).
    pub fn n_outputs(&self) -> usize {
        self.model.n_outputs()
    }

    fn workspace(&self, rows: usize) -> M::Workspace {
        self.model.workspace(rows.clamp(1, 256))
    }

    /// Softmax probabilities (rows × outputs) of row-major inputs (rows × features).
    pub fn probabilities(&self, inputs: &[f64]) -> Vec<f64> {
        let rows = inputs.len() / self.model.n_inputs();
        let mut out = vec![0.0; rows * self.n_outputs()];
        let mut ws = self.workspace(rows);
        self.model.predict(&self.params, inputs, &mut ws, &mut out);
        softmax_rows(&mut out, self.n_outputs());
        out
    }

    /// Penultimate-layer features (rows × last hidden width; [`Model::embed`]) of row-major
    /// inputs: the embedding coresets use.
    pub fn embeddings(&self, inputs: &[f64]) -> Vec<f64> {
        let rows = inputs.len() / self.model.n_inputs();
        let width = self.model.embedding_width();
        let mut out = vec![0.0; rows * width];
        let mut ws = self.workspace(rows);
        self.model.embed(&self.params, inputs, &mut ws, &mut out);
        out
    }

    /// Fraction of `data`'s samples whose label is the argmax of the outputs.
    pub fn accuracy(&self, data: &Dataset) -> f64 {
        let mut ws = self.workspace(data.len());
        let eval = self
            .model
            .evaluate(&self.params, data, Loss::SoftmaxCe, &mut ws);
        eval.accuracy.unwrap_or(f64::NAN)
    }
}

/// The rows `indices` of `data`'s features, row-major.
pub fn gather_rows(data: &Dataset, indices: &[usize]) -> Vec<f64> {
    let mut out = Vec::with_capacity(indices.len() * data.n_features);
    for &i in indices {
        out.extend_from_slice(data.row(i));
    }
    out
}
