//! The one epoch loop of the lab (`descent train`, `compare`, P6 R7, P7 Z3 and every later
//! paper): run an optimizer for whole epochs, measure after each (and before the first), and
//! record steps, evaluations, optimization seconds, metrics and divergence as data.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// The epoch (0 is the measurement before training).
    pub epoch: usize,
    /// Optimizer steps so far.
    pub steps: u64,
    /// Evaluations so far, counted by the problem's [`EvalCounter`].
    pub evals: EvalCounts,
    /// Wall-clock seconds of optimization so far (measurements excluded).
    pub seconds: f64,
    /// What the caller's measurement returned after the epoch.
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
        /// The 1-based step that produced a non-finite value.
        step: u64,
        /// The last finite loss before it, if any.
        last_finite_loss: Option<f64>,
    },
    /// A stop was requested ([`LoopPlan::stop`]) and honoured after step `step`.
    Stopped {
        /// Steps taken when the loop stopped.
        step: u64,
    },
}

/// The records of a run and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRun<M> {
    /// One record per measured epoch, epoch 0 first.
    pub records: Vec<EpochRecord<M>>,
    /// How the run ended.
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
/// optimizer or of a measurement are errors. [`run_epochs_paused`] is the same loop with
/// checkpoints.
pub fn run_epochs<P: Problem, M: EpochMetrics>(
    optimizer: &mut dyn Optimizer,
    x: &mut [f64],
    problem: &mut EvalCounter<P>,
    epochs: usize,
    steps_per_epoch: u64,
    measure: impl FnMut(&mut P, &[f64]) -> Result<M>,
    on_epoch: impl FnMut(&EpochRecord<M>),
) -> Result<EpochRun<M>> {
    let plan = LoopPlan::new(epochs, steps_per_epoch);
    run_epochs_paused(optimizer, x, problem, plan, measure, on_epoch)
}

/// The progress of an epoch loop between two steps: with the parameters, the optimizer's state
/// and the problem's sampling position, everything a checkpoint needs to continue the loop so
/// that it ends as an uninterrupted one would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopState<M> {
    /// The records so far (epoch 0 first).
    pub records: Vec<EpochRecord<M>>,
    /// Optimizer steps so far over the whole run.
    pub steps: u64,
    /// Optimization seconds so far.
    pub seconds: f64,
    /// Evaluations so far (those of earlier processes included).
    pub evals: EvalCounts,
    /// The last finite loss a step of the current epoch reported (what a divergence in the
    /// rest of the epoch reports as the last finite loss).
    pub epoch_step_loss: Option<f64>,
}

impl<M> LoopState<M> {
    /// Whole epochs done.
    pub fn epochs_done(&self) -> usize {
        self.records.len().saturating_sub(1)
    }
}

/// Writes a checkpoint from the loop's state, the parameters, the optimizer and the problem.
pub type SaveFn<'a, P, M> =
    &'a mut dyn FnMut(&LoopState<M>, &[f64], &dyn Optimizer, &EvalCounter<P>) -> Result<()>;

/// The shape of an epoch loop and its pauses.
pub struct LoopPlan<'a, P: Problem, M> {
    /// Epochs to run.
    pub epochs: usize,
    /// Optimizer steps per epoch.
    pub steps_per_epoch: u64,
    /// Continue from this state (`None`: start by measuring epoch 0). The optimizer, `x` and
    /// the problem must be restored to the same point by the caller.
    pub start: Option<LoopState<M>>,
    /// Call `save` after every `every`-th step of the run (after the epoch's measurement when
    /// the step ends an epoch).
    pub every: Option<u64>,
    /// Checked after every step: once set, the loop finishes the step, calls `save` and ends
    /// with [`EpochEnd::Stopped`] (a Ctrl-C handler sets it).
    pub stop: Option<&'a AtomicBool>,
    /// Also call `save` when the last epoch is done (a study's finished runs are then resumed
    /// as finished, not re-run).
    pub save_at_end: bool,
    /// Called with the loop state, `x`, the optimizer and the problem at each pause (checkpoints).
    pub save: Option<SaveFn<'a, P, M>>,
}

impl<P: Problem, M> LoopPlan<'_, P, M> {
    /// `epochs` epochs of `steps_per_epoch` steps from the start, without pauses.
    pub fn new(epochs: usize, steps_per_epoch: u64) -> Self {
        LoopPlan {
            epochs,
            steps_per_epoch,
            start: None,
            every: None,
            stop: None,
            save_at_end: false,
            save: None,
        }
    }
}

/// [`run_epochs`] with pauses: the steps run in chunks that end at epoch ends and at multiples
/// of `plan.every`; after a chunk that ends at a pause (or when `plan.stop` is set) `plan.save`
/// sees the loop's state. Chunking changes nothing in the arithmetic, so a run continued from
/// a saved state ends bit for bit as the uninterrupted run. A diverged step or measurement
/// returns before any save: the last saved state stays the last good one.
pub fn run_epochs_paused<P: Problem, M: EpochMetrics>(
    optimizer: &mut dyn Optimizer,
    x: &mut [f64],
    problem: &mut EvalCounter<P>,
    plan: LoopPlan<'_, P, M>,
    mut measure: impl FnMut(&mut P, &[f64]) -> Result<M>,
    mut on_epoch: impl FnMut(&EpochRecord<M>),
) -> Result<EpochRun<M>> {
    let LoopPlan {
        epochs,
        steps_per_epoch: spe,
        start,
        every,
        stop,
        save_at_end,
        mut save,
    } = plan;
    let offset = start.as_ref().map_or_else(EvalCounts::default, |s| s.evals);
    let mut st = match start {
        Some(st) => st,
        None => {
            let mut records = Vec::with_capacity(epochs + 1);
            let first = EpochRecord {
                epoch: 0,
                steps: 0,
                evals: problem.counts(),
                seconds: 0.0,
                metrics: measure(problem.inner_mut(), x)?,
            };
            on_epoch(&first);
            records.push(first);
            LoopState {
                records,
                steps: 0,
                seconds: 0.0,
                evals: problem.counts(),
                epoch_step_loss: None,
            }
        }
    };
    let last_measured = |st: &LoopState<M>| {
        st.records
            .last()
            .map(|r| r.metrics.loss())
            .filter(|l| l.is_finite())
    };
    while st.epochs_done() < epochs {
        let epoch_start = st.epochs_done() as u64 * spe;
        let to_pause = every.map_or(u64::MAX, |n| n - st.steps % n);
        let chunk = (epoch_start + spe - st.steps).min(to_pause);
        let start = Instant::now();
        let (mut stopped, mut step_loss) = (false, st.epoch_step_loss);
        // No final evaluation: the measurement below evaluates what the record needs.
        let options = RunOptions {
            steps: chunk,
            final_evaluation: false,
        };
        let outcome = descent_optim::run_with(optimizer, x, problem, options, |r| {
            step_loss = r.info.loss.or(step_loss);
            stopped = stop.is_some_and(|s| s.load(Ordering::SeqCst));
            if stopped {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?
        .outcome;
        st.seconds += start.elapsed().as_secs_f64();
        match outcome {
            Outcome::Completed { steps, .. } => st.steps += steps,
            Outcome::Diverged {
                step,
                last_finite_loss,
            } => {
                let end = EpochEnd::Diverged {
                    step: st.steps + step,
                    last_finite_loss: last_finite_loss
                        .or(st.epoch_step_loss)
                        .or(last_measured(&st)),
                };
                return Ok(EpochRun {
                    records: st.records,
                    end,
                });
            }
        }
        st.epoch_step_loss = step_loss;
        st.evals = offset + problem.counts();
        if st.steps == epoch_start + spe {
            let last_finite = last_measured(&st);
            let record = EpochRecord {
                epoch: st.epochs_done() + 1,
                steps: st.steps,
                evals: st.evals,
                seconds: st.seconds,
                metrics: measure(problem.inner_mut(), x)?,
            };
            let loss = record.metrics.loss();
            on_epoch(&record);
            st.records.push(record);
            st.epoch_step_loss = None;
            if !loss.is_finite() {
                let end = EpochEnd::Diverged {
                    step: st.steps,
                    last_finite_loss: last_finite,
                };
                return Ok(EpochRun {
                    records: st.records,
                    end,
                });
            }
        }
        let at_pause = every.is_some_and(|n| st.steps % n == 0);
        if let Some(save) = save.as_mut().filter(|_| at_pause || stopped) {
            save(&st, x, optimizer, problem)?;
        }
        if stopped {
            let end = EpochEnd::Stopped { step: st.steps };
            return Ok(EpochRun {
                records: st.records,
                end,
            });
        }
    }
    if let Some(save) = save.as_mut().filter(|_| save_at_end) {
        save(&st, x, optimizer, problem)?;
    }
    Ok(EpochRun {
        records: st.records,
        end: EpochEnd::Completed,
    })
}

/// Loss and accuracy on the training and test parts: the measurement of supervised runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DataMetrics {
    /// Mean loss over the whole training part (the divergence watch).
    pub train_loss: f64,
    /// Accuracy over the training part (`None` for regression).
    pub train_accuracy: Option<f64>,
    /// Mean loss over the test part.
    pub test_loss: f64,
    /// Accuracy over the test part (`None` for regression).
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
