//! Deep AUC maximisation as a minimax problem (the AUC-M square loss of Ying et al. 2016 and
//! Yuan et al. 2021, LibAUC; P4's Fig. 2 task, spec R3): for a scorer h(w; x) = σ(model(x)) and
//! the positive fraction p,
//!
//! ```text
//! F(w, a, b, α; x, y) = (1 − p)(h − a)²·1[y=1] + p(h − b)²·1[y=0]
//!                     + 2(1 + α)(p·h·1[y=0] − (1 − p)·h·1[y=1]) − p(1 − p)α²
//! ```
//!
//! minimised over x = (w, a, b) and maximised over y = α (strongly concave, modulus 2p(1 − p)).
//! Its saddle value is the square-loss surrogate of 1 − AUC; [`roc_auc`] measures the AUC.

use std::sync::Arc;

use descent_core::{Error, Layout, MinimaxProblem, Problem, Result, RngStreams, Stochastic};
use descent_data::{BatchSampler, Dataset, SamplingMode, Targets};

use crate::engine::Workspace;
use crate::mlp::Mlp;

/// The area under the ROC curve of `scores` for the labels `positive` (Mann–Whitney U with
/// average ranks for ties). Errors when the lengths differ or a class is missing.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Result<f64> {
    if scores.len() != positive.len() {
        return Err(Error::shape("roc_auc labels", scores.len(), positive.len()));
    }
    let n_pos = positive.iter().filter(|p| **p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Err(Error::invalid(
            "roc_auc labels",
            format!("{n_pos} positives and {n_neg} negatives"),
            "at least one of each",
        ));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&i, &j| scores[i].total_cmp(&scores[j]));
    let mut rank_sum = 0.0;
    let mut k = 0;
    while k < order.len() {
        let mut e = k;
        while e + 1 < order.len() && scores[order[e + 1]] == scores[order[k]] {
            e += 1;
        }
        let avg = 0.5 * ((k + 1) + (e + 1)) as f64;
        rank_sum += avg * order[k..=e].iter().filter(|&&i| positive[i]).count() as f64;
        k = e + 1;
    }
    let u = rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Ok(u / (n_pos * n_neg) as f64)
}

/// The AUC-M minimax problem of a one-output model on a two-class dataset (class 1 positive).
/// Layout: the model's blocks, then `a`, `b` (x ends there) and `alpha` (y). Stochastic over
/// shuffled minibatches of the training data from the run's `"batches"` stream (full batch when
/// the batch size is ≥ n). Offers MinimaxProblem and Stochastic.
#[derive(Debug, Clone)]
pub struct AucMinimax {
    model: Mlp,
    data: Arc<Dataset>,
    p: f64,
    sampler: Option<BatchSampler>,
    batch: Vec<usize>,
    ws: Workspace,
    layout: Layout,
    n_model: usize,
    /// Model-gradient scratch of value-only passes.
    scratch: Vec<f64>,
    name: String,
}

fn positives(data: &Dataset) -> Result<Vec<bool>> {
    match &data.targets {
        Targets::Classes {
            labels,
            n_classes: 2,
        } => Ok(labels.iter().map(|l| *l == 1).collect()),
        _ => Err(Error::invalid(
            format!("dataset '{}' for the AUC loss", data.name),
            "not two classes",
            "a two-class dataset (class 1 is positive)",
        )),
    }
}

impl AucMinimax {
    /// The problem for `model` (one output) on `data` with minibatches of `batch_size`; p is the
    /// positive fraction of `data`. Errors name what does not fit.
    pub fn new(
        model: Mlp,
        data: Arc<Dataset>,
        batch_size: usize,
        streams: &RngStreams,
    ) -> Result<Self> {
        let pos = positives(&data)?;
        if model.n_outputs() != 1 || model.n_inputs() != data.n_features {
            return Err(Error::shape(
                format!("{} for the AUC loss on '{}'", model.describe(), data.name),
                format!("{} inputs and 1 output", data.n_features),
                format!(
                    "{} inputs and {} outputs",
                    model.n_inputs(),
                    model.n_outputs()
                ),
            ));
        }
        let n_pos = pos.iter().filter(|p| **p).count();
        if n_pos == 0 || n_pos == pos.len() {
            return Err(Error::invalid(
                format!("dataset '{}' for the AUC loss", data.name),
                format!("{n_pos} positives of {}", pos.len()),
                "both classes present",
            ));
        }
        if batch_size == 0 {
            return Err(Error::invalid("batch_size", 0, "an integer >= 1"));
        }
        let n = data.len();
        let sampler = (batch_size < n)
            .then(|| {
                BatchSampler::new(
                    n,
                    batch_size,
                    SamplingMode::ShuffledEpochs,
                    streams.stream("batches"),
                )
            })
            .transpose()?;
        let mut layout = model.layout();
        let n_model = layout.len();
        layout.push("a", &[1]);
        layout.push("b", &[1]);
        layout.push("alpha", &[1]);
        let mut batch: Vec<usize> = (0..n).collect();
        if let Some(s) = &sampler {
            batch = s.clone().next_batch().to_vec();
        }
        let name = format!("AUC-M square loss of {} on {}", model.describe(), data.name);
        Ok(AucMinimax {
            ws: Workspace::new(&model, batch_size.min(n)),
            p: n_pos as f64 / n as f64,
            model,
            data,
            sampler,
            batch,
            layout,
            n_model,
            scratch: vec![0.0; n_model],
            name,
        })
    }

    /// The positive fraction p.
    pub fn positive_fraction(&self) -> f64 {
        self.p
    }

    /// Minibatches per pass over the data.
    pub fn batches_per_epoch(&self) -> usize {
        self.sampler
            .as_ref()
            .map_or(1, BatchSampler::batches_per_epoch)
    }

    /// The AUC of the scorer at z (the model part of z) on `data`.
    pub fn auc(&mut self, z: &[f64], data: &Dataset) -> Result<f64> {
        self.layout.check_len("parameters", z.len())?;
        let pos = positives(data)?;
        let mut scores = vec![0.0; data.len()];
        self.model.predict(
            &z[..self.n_model],
            &data.features,
            &mut self.ws,
            &mut scores,
        );
        roc_auc(&scores, &pos)
    }

    /// The mean of F over all of the training data at z (the full objective, no minibatch).
    pub fn full_value(&mut self, z: &[f64]) -> f64 {
        let all: Vec<usize> = (0..self.data.len()).collect();
        let saved = std::mem::replace(&mut self.batch, all);
        let (x, y) = z.split_at(self.n_model + 2);
        let f = self.value_xy(x, y);
        self.batch = saved;
        f
    }

    /// Mean F over the batch; with `grads` = Some((gx, gy)) also its gradients.
    fn pass(&mut self, x: &[f64], alpha: f64, grads: Option<(&mut [f64], &mut [f64])>) -> f64 {
        let (w, ab) = x.split_at(self.n_model);
        let (a, b, p) = (ab[0], ab[1], self.p);
        let labels = match &self.data.targets {
            Targets::Classes { labels, .. } => labels,
            Targets::Real { .. } => unreachable!("checked two classes"),
        };
        let (mut ga, mut gb, mut gal) = (0.0, 0.0, 0.0);
        let mut per_sample = |i: usize, o: &[f64], d: &mut [f64]| {
            let h = 1.0 / (1.0 + (-o[0]).exp());
            let (f, dh) = if labels[i] == 1 {
                ga += -2.0 * (1.0 - p) * (h - a);
                gal += -2.0 * (1.0 - p) * h - 2.0 * p * (1.0 - p) * alpha;
                (
                    (1.0 - p) * (h - a).powi(2) - 2.0 * (1.0 + alpha) * (1.0 - p) * h,
                    2.0 * (1.0 - p) * (h - a) - 2.0 * (1.0 + alpha) * (1.0 - p),
                )
            } else {
                gb += -2.0 * p * (h - b);
                gal += 2.0 * p * h - 2.0 * p * (1.0 - p) * alpha;
                (
                    p * (h - b).powi(2) + 2.0 * (1.0 + alpha) * p * h,
                    2.0 * p * (h - b) + 2.0 * (1.0 + alpha) * p,
                )
            };
            d[0] = dh * h * (1.0 - h);
            f - p * (1.0 - p) * alpha * alpha
        };
        let nb = self.batch.len().max(1) as f64;
        match grads {
            Some((gx, gy)) => {
                let f = self.model.custom_loss_grad(
                    w,
                    &self.data,
                    &self.batch,
                    &mut self.ws,
                    &mut gx[..self.n_model],
                    &mut per_sample,
                );
                gx[self.n_model] = ga / nb;
                gx[self.n_model + 1] = gb / nb;
                gy[0] = gal / nb;
                f
            }
            None => self.model.custom_loss_grad(
                w,
                &self.data,
                &self.batch,
                &mut self.ws,
                &mut self.scratch,
                &mut per_sample,
            ),
        }
    }
}

impl MinimaxProblem for AucMinimax {
    fn dims(&self) -> (usize, usize) {
        (self.n_model + 2, 1)
    }
    fn value_xy(&mut self, x: &[f64], y: &[f64]) -> f64 {
        self.pass(x, y[0], None)
    }
    fn grads_xy(&mut self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        self.pass(x, y[0], Some((gx, gy)))
    }
}

impl Stochastic for AucMinimax {
    fn resample(&mut self) {
        if let Some(s) = &mut self.sampler {
            self.batch.clear();
            self.batch.extend_from_slice(s.next_batch());
        }
    }
}

impl Problem for AucMinimax {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(minimax, stochastic);
}
