//! The one epoch loop of the lab (`descent train`, `compare`, P6 R7, P7 Z3 and every later
//! paper): run an optimizer for whole epochs, measure after each (and before the first), and
//! record steps, evaluations, optimization seconds, metrics and divergence as data.

use std::ops::ControlFlow;
use std::time::Instant;

use descent_core::{EvalCounter, EvalCounts, Problem, Result};
use descent_data::Dataset;
use descent_nn::Objective;
use descent_optim::{Optimizer, Outcome, RunOptions};
use serde::{Deserialize, Serialize};

/// What a measurement after an epoch tells the loop: the loss whose non-finiteness is
/// divergence.
pub trait EpochMetrics {
    /// The loss watched for divergence (e.g. the full training loss).
    fn loss(&self) -> f64;
}

/// One measurement (epoch 0 is before training).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord<M> {
    pub epoch: usize,
    /// Optimizer steps so far.
    pub steps: u64,
    /// Evaluations so far, counted by the problem's [`EvalCounter`].
    pub evals: EvalCounts,
    /// Wall-clock seconds of optimization so far (measurements excluded).
    pub seconds: f64,
    pub metrics: M,
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum EpochEnd {
    /// Every epoch ran.
    Completed,
    /// A step produced NaN/inf (`step`, 1-based over the whole run), or the measurement after an
    /// epoch did (`step` = the steps so far; that measurement is the last record).
    /// `last_finite_loss` is the last finite loss a step or a measurement reported.
    Diverged {
        step: u64,
        last_finite_loss: Option<f64>,
    },
}

/// The records of a run and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRun<M> {
    pub records: Vec<EpochRecord<M>>,
    pub end: EpochEnd,
}

impl<M> EpochRun<M> {
    /// True when the run diverged.
    pub fn diverged(&self) -> bool {
        matches!(self.end, EpochEnd::Diverged { .. })
    }

    /// The last record (there is always the one before training).
    pub fn last(&self) -> &EpochRecord<M> {
        self.records.last().expect("the epoch-0 record")
    }

    /// One value per record.
    pub fn column(&self, f: impl Fn(&EpochRecord<M>) -> f64) -> Vec<f64> {
        self.records.iter().map(f).collect()
    }
}

/// Runs `optimizer` (already initialised) from `x` for `epochs` epochs of `steps_per_epoch`
/// steps on `problem`; `measure` sees the uncounted inner problem and the parameters before
/// training and after each epoch; `on_epoch` sees each record as it is made (progress lines).
/// A diverged run stops at once and is returned as data ([`EpochEnd::Diverged`]); errors of the
/// optimizer or of a measurement are errors.
pub fn run_epochs<P: Problem, M: EpochMetrics>(
    optimizer: &mut dyn Optimizer,
    x: &mut [f64],
    problem: &mut EvalCounter<P>,
    epochs: usize,
    steps_per_epoch: u64,
    mut measure: impl FnMut(&mut P, &[f64]) -> Result<M>,
    mut on_epoch: impl FnMut(&EpochRecord<M>),
) -> Result<EpochRun<M>> {
    let mut records = Vec::with_capacity(epochs + 1);
    let first = EpochRecord {
        epoch: 0,
        steps: 0,
        evals: problem.counts(),
        seconds: 0.0,
        metrics: measure(problem.inner_mut(), x)?,
    };
    let mut last_finite = Some(first.metrics.loss()).filter(|l| l.is_finite());
    on_epoch(&first);
    records.push(first);
    let (mut steps, mut seconds) = (0u64, 0.0);
    for epoch in 1..=epochs {
        let start = Instant::now();
        // No final evaluation: the measurement below evaluates what the record needs.
        let options = RunOptions {
            steps: steps_per_epoch,
            final_evaluation: false,
        };
        let outcome =
            descent_optim::run_with(
                optimizer,
                x,
                problem,
                options,
                |_| ControlFlow::Continue(()),
            )?
            .outcome;
        seconds += start.elapsed().as_secs_f64();
        match outcome {
            Outcome::Completed { steps: s, .. } => steps += s,
            Outcome::Diverged {
                step,
                last_finite_loss,
            } => {
                let end = EpochEnd::Diverged {
                    step: steps + step,
                    last_finite_loss: last_finite_loss.or(last_finite),
                };
                return Ok(EpochRun { records, end });
            }
        }
        let record = EpochRecord {
            epoch,
            steps,
            evals: problem.counts(),
            seconds,
            metrics: measure(problem.inner_mut(), x)?,
        };
        let loss = record.metrics.loss();
        on_epoch(&record);
        records.push(record);
        if !loss.is_finite() {
            let end = EpochEnd::Diverged {
                step: steps,
                last_finite_loss: last_finite,
            };
            return Ok(EpochRun { records, end });
        }
        last_finite = Some(loss);
    }
    Ok(EpochRun {
        records,
        end: EpochEnd::Completed,
    })
}

/// Loss and accuracy on the training and test parts: the measurement of supervised runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DataMetrics {
    /// Mean loss over the whole training part (the divergence watch).
    pub train_loss: f64,
    pub train_accuracy: Option<f64>,
    /// Mean loss over the test part.
    pub test_loss: f64,
    pub test_accuracy: Option<f64>,
}

impl EpochMetrics for DataMetrics {
    fn loss(&self) -> f64 {
        self.train_loss
    }
}

impl DataMetrics {
    /// Evaluates `params` on both parts through the objective's model and loss.
    pub fn measure(
        objective: &mut Objective,
        params: &[f64],
        train: &Dataset,
        test: &Dataset,
    ) -> Result<DataMetrics> {
        let tr = objective.evaluate(params, train)?;
        let te = objective.evaluate(params, test)?;
        Ok(DataMetrics {
            train_loss: tr.loss,
            train_accuracy: tr.accuracy,
            test_loss: te.loss,
            test_accuracy: te.accuracy,
        })
    }
}
